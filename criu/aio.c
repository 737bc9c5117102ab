// SPDX-License-Identifier: GPL-2.0
/*
 * AIO rings (io_setup(2)), see include/aio.h.
 *
 * The kernel keeps part of a ring's state to itself: the tail it writes the
 * next completion at (the ring's tail field is only a copy of it), the free
 * request slots, the requests in flight. A ring is given back by making a new
 * one in the task with io_setup() (the same nr_req gives the same size),
 * moving the kernel's tail to the dumped one with requests that complete at
 * once (a one-byte write to a memfd made for it), putting the dumped events
 * and head in it and moving it with mremap() to the dumped address (the
 * kernel follows the ring's move: the context id is its new address).
 *
 * Requests still in flight at dump (submitted, not completed: O_DIRECT I/O,
 * IOCB_CMD_FSYNC, IOCB_CMD_POLL) are not in the ring and no kernel interface
 * shows them; they are not restored (as CRIU: the ring holds only completed
 * events). Documentation/restore.md says so.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aio.h"
#include "common.h"
#include "mem.h"
#include "proc_parse.h"
#include "restore.h"
#include "compel/compel.h"

#include "mm.pb-c.h"
#include "vma.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "aio: "

/* The head of a ring as the kernel lays it out (struct aio_ring, fs/aio.c: not in uapi). */
struct aio_ring_hdr {
	uint32_t id;			/* the context's index in the mm's table */
	uint32_t nr;			/* events the ring holds */
	uint32_t head;			/* next event to reap: the task may write it */
	uint32_t tail;			/* next event the kernel writes */
	uint32_t magic;
	uint32_t compat_features;
	uint32_t incompat_features;
	uint32_t header_length;
};

#define AIO_RING_MAGIC 0xa10a10a1u
#define AIO_RING_COMPAT 1u
#define AIO_RING_INCOMPAT 0u

static uint32_t ring_events(unsigned long len)
{
	return (uint32_t)((len - sizeof(struct aio_ring_hdr)) / sizeof(struct io_event));
}

/* A ring's head as the kernel makes it; NULL when sound, else what is wrong. */
static const char *ring_hdr_bad(const struct aio_ring_hdr *h, unsigned long len)
{
	if (h->magic != AIO_RING_MAGIC)
		return "bad magic";
	if (h->compat_features != AIO_RING_COMPAT || h->incompat_features != AIO_RING_INCOMPAT)
		return "unknown ring features";
	if (h->header_length != sizeof(*h))
		return "unknown header length";
	if (len < PAGE_SIZE || len & ~PAGE_MASK || h->nr != ring_events(len))
		return "its size and its number of events disagree (part of it unmapped?)";
	if (h->head >= h->nr || h->tail >= h->nr)
		return "head or tail out of the ring";
	return NULL;
}

/*
 * io_setup(nr_req) makes a ring of 2 * max(nr_req, 4 * CPUs) + 2 events,
 * rounded up to whole pages: (pages * PAGE_SIZE - 32) / 32 events. Given the
 * events of a ring, (events - 2) / 2 requests make one of the same size
 * whenever that is at least 4 * CPUs (else any nr_req does).
 */
static uint32_t ring_nr_req(uint32_t events)
{
	return (events - 2) / 2;
}

int aio_dump_ring(int proc_dfd, pid_t pid, const struct proc_vma *v, AioRingEntry *ret)
{
	_cleanup_close_ int mem = openat(proc_dfd, "mem", O_RDONLY | O_CLOEXEC);
	unsigned long len = v->end - v->start;
	struct aio_ring_hdr h;
	const char *bad;

	if (mem < 0)
		return pr_fail_errno("task %d: can't open its mem for the AIO ring at %#lx", pid, v->start);
	if (pread(mem, &h, sizeof(h), (off_t)v->start) != (ssize_t)sizeof(h))
		return pr_fail(-EIO, "task %d: can't read the AIO ring at %#lx\n", pid, v->start);
	bad = ring_hdr_bad(&h, len);
	if (bad)
		return pr_fail(-EOPNOTSUPP, "task %d: AIO ring %#lx-%#lx: %s, not supported\n", pid, v->start, v->end,
			       bad);
	if (v->prot != (PROT_READ | PROT_WRITE))
		return pr_fail(-EOPNOTSUPP, "task %d: AIO ring %#lx-%#lx has protection %#x (mprotect), not supported\n",
			       pid, v->start, v->end, v->prot);
	aio_ring_entry__init(ret);
	ret->id = v->start;
	ret->ring_len = (uint32_t)len;
	ret->nr_req = ring_nr_req(h.nr);
	pr_info("task %d: AIO ring %#lx-%#lx: %u events, head %u, tail %u\n", pid, v->start, v->end, h.nr, h.head,
		h.tail);
	return 0;
}

static const AioRingEntry *find_ring(const MmEntry *mm, uint64_t id)
{
	for (size_t i = 0; i < mm->n_aios; i++)
		if (mm->aios[i]->id == id)
			return mm->aios[i];
	return NULL;
}

int aio_check_entries(pid_t pid, const MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_aios; i++) {
		size_t k;

		for (k = 0; k < mm->n_vmas; k++)
			if (mm->vmas[k]->start == mm->aios[i]->id && (mm->vmas[k]->status & VMA_AREA_AIORING))
				break;
		if (k == mm->n_vmas)
			return pr_fail(-EINVAL, "task %d: aios entry %#" PRIx64 " of its mm image names no AIO ring VMA\n",
				       pid, mm->aios[i]->id);
	}
	return 0;
}

int aio_check_image(pid_t pid, const MmEntry *mm, const VmaEntry *v)
{
	const AioRingEntry *re = find_ring(mm, v->start);

	if (!re)
		return pr_fail(-EINVAL, "task %d: AIO ring VMA %#" PRIx64 " has no aios entry in its mm image\n", pid,
			       v->start);
	if (re->ring_len != v->end - v->start || !re->nr_req)
		return pr_fail(-EINVAL, "task %d: AIO ring %#" PRIx64 ": ring_len %u, nr_req %u for a VMA of %" PRIu64
			       " bytes\n", pid, v->start, re->ring_len, re->nr_req, v->end - v->start);
	if (v->prot != (PROT_READ | PROT_WRITE))
		return pr_fail(-EOPNOTSUPP, "task %d: AIO ring %#" PRIx64 " with protection %#x is not restored\n", pid,
			       v->start, v->prot);
	return 0;
}

/* ------------------------------------------------------------ restore */

struct ring_rst {
	struct compel_rsys *rs;
	pid_t pid;
	unsigned long scratch;
	size_t scratch_size;
	unsigned long ctx;		/* the new ring in the task */
};

static long rsys(struct ring_rst *r, long nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
	return rst_rsys(r->rs, nr, a1, a2, a3, 0, 0, 0);
}

static int read_hdr(struct ring_rst *r, struct aio_ring_hdr *h)
{
	return compel_mem_read(r->rs->tid, r->rs->mem_fd, r->ctx, h, sizeof(*h));
}

static int new_ring(struct ring_rst *r, uint32_t nr_req)
{
	uint64_t ctx = 0;
	long ret;
	int err;

	err = rst_poke(r->rs, r->scratch, &ctx, sizeof(ctx));
	if (err)
		return err;
	ret = rsys(r, __NR_io_setup, nr_req, r->scratch, 0);
	if (ret < 0)
		return (int)ret;
	err = compel_mem_read(r->rs->tid, r->rs->mem_fd, r->scratch, &ctx, sizeof(ctx));
	if (err)
		return err;
	r->ctx = ctx;
	return 0;
}

/*
 * Move the kernel's tail of the new ring to tail, leaving head as the
 * task's head: count requests that complete at once (tail, or a whole turn
 * more when the events wrap), the head following the tail until it reaches
 * the dumped one, so that the free slots never run out.
 */
static int move_tail(struct ring_rst *r, uint32_t nr, uint32_t head, uint32_t tail)
{
	static const char name[] = "criu-aio";
	unsigned long iocb_at = r->scratch + 64, ptrs_at = r->scratch + 128;
	uint32_t count = tail < head ? nr + tail : tail, done = 0;
	size_t max_ptrs = (r->scratch_size - 128) / sizeof(uint64_t);
	struct iocb cb = {};
	long fd, n;
	int err;

	if (!count)
		return 0;
	max_ptrs = min(max_ptrs, (size_t)(nr - 1));
	err = rst_poke(r->rs, r->scratch, name, sizeof(name));
	if (err)
		return err;
	fd = rsys(r, __NR_memfd_create, r->scratch, MFD_CLOEXEC, 0);
	if (fd < 0)
		return pr_fail((int)fd, "%d: memfd_create for the AIO ring: %s\n", r->pid, strerror((int)-fd));
	cb.aio_fildes = (uint32_t)fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = r->scratch;	/* any byte */
	cb.aio_nbytes = 1;
	err = rst_poke(r->rs, iocb_at, &cb, sizeof(cb));
	for (size_t i = 0; !err && i < max_ptrs; i++) {
		uint64_t p = iocb_at;

		err = rst_poke(r->rs, ptrs_at + i * sizeof(p), &p, sizeof(p));
	}
	while (!err && done < count) {
		uint32_t h;

		n = rsys(r, __NR_io_submit, r->ctx, min((size_t)(count - done), max_ptrs), ptrs_at);
		if (n <= 0) {
			err = n ? (int)n : -EAGAIN;
			pr_err("%d: io_submit to move the AIO ring's tail (%u of %u done): %s\n", r->pid, done, count,
			       strerror(-err));
			break;
		}
		done += (uint32_t)n;
		/* reaping is writing the head: the slots of the reaped events are free again */
		h = done < head ? done : head;
		err = rst_poke(r->rs, r->ctx + offsetof(struct aio_ring_hdr, head), &h, sizeof(h));
	}
	rsys(r, __NR_close, (unsigned long)fd, 0, 0);
	return err;
}

static int restore_ring(struct ring_rst *r, const VmaEntry *v, const AioRingEntry *re)
{
	unsigned long len = v->end - v->start;
	_cleanup_free_ char *buf = xmalloc(len);
	struct aio_ring_hdr *h = (struct aio_ring_hdr *)buf, nh;
	const char *bad;
	long m;
	int err;

	if (!buf)
		return -ENOMEM;
	/* the dumped ring, as the fill put it at its place */
	err = compel_mem_read(r->rs->tid, r->rs->mem_fd, v->start, buf, len);
	if (err)
		return pr_fail(err, "%d: can't read the dumped AIO ring at %#" PRIx64 "\n", r->pid, v->start);
	bad = ring_hdr_bad(h, len);
	if (bad)
		return pr_fail(-EINVAL, "%d: the dumped AIO ring at %#" PRIx64 ": %s\n", r->pid, v->start, bad);
	err = new_ring(r, re->nr_req);
	if (err)
		return pr_fail(err, "%d: io_setup(%u) for the AIO ring at %#" PRIx64 ": %s\n", r->pid, re->nr_req,
			       v->start, strerror(-err));
	err = read_hdr(r, &nh);
	if (!err && nh.nr != h->nr)
		err = pr_fail(-EOPNOTSUPP, "%d: io_setup(%u) gives a ring of %u events here, the dumped one at %#" PRIx64
			      " had %u (another number of CPUs?)\n", r->pid, re->nr_req, nh.nr, v->start, h->nr);
	if (!err)
		err = move_tail(r, h->nr, h->head, h->tail);
	if (!err)
		err = read_hdr(r, &nh);
	if (!err && (nh.head != h->head || nh.tail != h->tail))
		err = pr_fail(-EIO, "%d: AIO ring at %#" PRIx64 ": head %u tail %u, wanted %u %u\n", r->pid, v->start,
			      nh.head, nh.tail, h->head, h->tail);
	if (!err)
		err = rst_poke(r->rs, r->ctx + sizeof(*h), buf + sizeof(*h), len - sizeof(*h));
	if (err) {
		rsys(r, __NR_io_destroy, r->ctx, 0, 0);
		return err;
	}
	/* over the filled copy, which goes */
	m = rst_rsys(r->rs, __NR_mremap, r->ctx, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0);
	if (m != (long)v->start) {
		rsys(r, __NR_io_destroy, r->ctx, 0, 0);
		return pr_fail(m < 0 ? (int)m : -EFAULT, "%d: can't move the AIO ring to %#" PRIx64 ": %s\n", r->pid,
			       v->start, strerror(m < 0 ? (int)-m : EFAULT));
	}
	pr_info("%d: AIO ring at %#" PRIx64 ": %u events, head %u, tail %u\n", r->pid, v->start, h->nr, h->head,
		h->tail);
	return 0;
}

int aio_restore_rings(struct compel_rsys *rs, pid_t pid, unsigned long scratch, size_t scratch_size,
		      const MmEntry *mm)
{
	struct ring_rst r = { .rs = rs, .pid = pid, .scratch = scratch, .scratch_size = scratch_size };

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		int ret;

		if (!(v->status & VMA_AREA_AIORING))
			continue;
		ret = restore_ring(&r, v, find_ring(mm, v->start));
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------ probe */

/* The end of the mapping at start in our own maps, with its name; 0 when none. */
static unsigned long own_mapping_end(unsigned long start, const char *name)
{
	_cleanup_close_ int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct proc_maps maps = {};
	unsigned long end = 0;

	if (dfd < 0 || parse_pid_maps(dfd, &maps))
		goto out;
	for (int i = 0; i < maps.nr; i++)
		if (maps.vmas[i].start == start && !strcmp(maps.vmas[i].path, name))
			end = maps.vmas[i].end;
out:
	proc_maps_free(&maps);
	return end;
}

int aio_probe_remap(void)
{
	aio_context_t ctx = 0;
	unsigned long len;
	void *to;
	int ret = 0;

	if (syscall(__NR_io_setup, 16, &ctx) < 0)
		return -errno;
	len = own_mapping_end(ctx, AIO_RING_NAME);
	if (!len) {
		ret = -ENOENT;
		goto out;
	}
	len -= ctx;
	to = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	if (mremap((void *)ctx, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to) {
		ret = -errno;
		munmap(to, len);
		goto out;
	}
	ctx = (aio_context_t)to;
	if (syscall(__NR_io_getevents, ctx, 0, 1, NULL, NULL) < 0)
		ret = -errno;
out:
	syscall(__NR_io_destroy, ctx);
	return ret;
}
