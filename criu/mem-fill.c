// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: fill a task's memory from a pages image with remote preadv calls
 * of many iovecs each (mem-restore.c maps the VMAs first).
 */
#define LOG_PREFIX "mem-rst: "
#include <fcntl.h>
#include <inttypes.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "common.h"
#include "restore.h"
#include "rst-ctx.h"
#include "compel/compel.h"

#include "pagemap.pb-c.h"

#define SCRATCH(tramp) ((tramp) + RST_SCRATCH_OFF)

#define FILL_MAX_IOV 1024
#define FILL_MAX_BYTES (1UL << 30)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* Runs this long are faulted in by one madvise() first: cheaper than a fault per page inside preadv. */
#define POPULATE_MIN_BYTES (64UL << 10)

static void populate_batch(struct compel_rsys *rs, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len < POPULATE_MIN_BYTES)
			continue;
		/* only an optimisation: a kernel without MADV_POPULATE_WRITE (< 5.14) faults in preadv */
		if (rst_rsys(rs, __NR_madvise, (unsigned long)iov[i].iov_base, iov[i].iov_len, MADV_POPULATE_WRITE, 0, 0,
			     0) == -EINVAL)
			return;
	}
}

/* One remote preadv of iov[0..n) at off, redone on short reads until all of it is in. */
static int fill_batch(struct compel_rsys *rs, pid_t pid, unsigned long tramp, int fd, struct iovec *iov, int n,
		      uint64_t off)
{
	populate_batch(rs, iov, n);
	while (n) {
		long r;
		int ret = rst_poke(rs, SCRATCH(tramp), iov, n * sizeof(*iov));

		if (ret)
			return ret;
		r = rst_rsys(rs, __NR_preadv, fd, SCRATCH(tramp), n, off, 0, 0);
		if (r <= 0) {
			pr_err("%d: reading pages for %p from the image at %" PRIu64 ": %s\n", pid, iov[0].iov_base, off,
			       r ? strerror((int)-r) : "short image");
			return r ? (int)r : -EIO;
		}
		off += r;
		/* drop what was read */
		while (n && (size_t)r >= iov[0].iov_len) {
			r -= iov[0].iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov[0].iov_base = (char *)iov[0].iov_base + r;
			iov[0].iov_len -= r;
		}
	}
	return 0;
}

/* A batch of iovecs whose data follow each other in the pages image. */
struct fill_batch {
	struct compel_rsys *rs;
	pid_t pid;
	unsigned long tramp;
	int fd;				/* the task's fd of the pages image */
	struct iovec iov[FILL_MAX_IOV];
	int n;
	uint64_t off, len;		/* where the batch starts in the image, how long it is */
};

static int batch_flush(struct fill_batch *b)
{
	int ret = 0;

	if (b->n)
		ret = fill_batch(b->rs, b->pid, b->tramp, b->fd, b->iov, b->n, b->off);
	b->n = 0;
	b->len = 0;
	return ret;
}

static int batch_add(struct fill_batch *b, unsigned long addr, unsigned long len, uint64_t off)
{
	int ret = 0;

	if (b->n && (b->n == FILL_MAX_IOV || b->len + len > FILL_MAX_BYTES || off != b->off + b->len))
		ret = batch_flush(b);
	if (ret)
		return ret;
	if (!b->n)
		b->off = off;
	b->iov[b->n++] = (struct iovec){ (void *)addr, len };
	b->len += len;
	return 0;
}

/*
 * Fill memory from a pages image: the present runs of pmes follow each other
 * in the image, so they go in with few preadv calls of many iovecs each; the
 * kernel copies straight from the file into the task. delta shifts the
 * addresses (shared memory built at a temporary place); the sorted ranges
 * in skip (VMAs the stub filled itself) are left alone.
 */
int rst_fill_from_image(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp,
			struct PagemapEntry **pmes, size_t nr_pmes, int pages_fd, unsigned long delta,
			const struct range *skip, int nr_skip)
{
	struct fill_batch *b;
	uint64_t off = 0;
	char path[64];
	int fd, k = 0, ret = 0;

	if (!nr_pmes)
		return 0;
	if (pages_fd < 0)
		return pr_fail(-EINVAL, "%d: a pagemap without its pages image\n", pid);
	b = xmalloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), pages_fd);
	fd = rst_remote_open(ctx, rs, tramp, path, O_RDONLY);
	if (fd < 0) {
		free(b);
		return pr_fail(fd, "%d: can't open the pages image in the task: %s\n", pid, strerror(-fd));
	}
	*b = (struct fill_batch){ .rs = rs, .pid = pid, .tramp = tramp, .fd = fd };

	for (size_t i = 0; i < nr_pmes && !ret; i++) {
		const PagemapEntry *pe = pmes[i];
		unsigned long a = pe->vaddr, end = a + (unsigned long)pe->nr_pages * PAGE_SIZE;

		if (pe->has_flags && !(pe->flags & PE_PRESENT))
			continue;	/* a zero-page run: the fresh mapping already reads zeroes */
		if (pe->flags & PE_RST_SKIP) {
			off += end - a;	/* in the pages image, not restored */
			continue;
		}
		while (a < end && !ret) {
			unsigned long to = end;

			while (k < nr_skip && skip[k].end <= a)
				k++;
			if (k < nr_skip && skip[k].start <= a) {
				to = min(end, skip[k].end);	/* already in place */
			} else {
				if (k < nr_skip && skip[k].start < end)
					to = skip[k].start;
				ret = batch_add(b, a + delta, to - a, off);
			}
			off += to - a;
			a = to;
		}
	}
	if (!ret)
		ret = batch_flush(b);
	rst_rsys(rs, __NR_close, fd, 0, 0, 0, 0, 0);
	free(b);
	return ret;
}
