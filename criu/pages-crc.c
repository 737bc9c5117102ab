// SPDX-License-Identifier: GPL-2.0
/*
 * The CRCs of the pages images, summed by the stubs as they fill memory and
 * checked by criu before the tree runs (see pages-crc.h).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common.h"
#include "crc32c.h"
#include "pages-crc.h"

#undef LOG_PREFIX
#define LOG_PREFIX "pages-crc: "

/* 64 Ki runs (8 MiB chunks: 512 GiB of pages); only the pages touched cost memory */
#define LOG_CAP (1u << 16)
#define GAP_BUF (1u << 20)

int pages_crc_defer(struct pages_crc *pc, int dfd, const char *name, uint64_t size, uint32_t crc)
{
	struct pages_crc_want *n;
	struct stat st;
	char *dup;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	dup = xstrdup(name);
	n = dup ? xrealloc(pc->want, (pc->nr + 1) * sizeof(*n)) : NULL;
	if (!n) {
		free(dup);
		return -ENOMEM;
	}
	pc->want = n;
	pc->want[pc->nr++] = (struct pages_crc_want){ dup, size, crc, st.st_dev, st.st_ino };
	return 0;
}

int pages_crc_log_alloc(struct pages_crc *pc)
{
	size_t size = sizeof(*pc->log) + LOG_CAP * sizeof(pc->log->recs[0]);

	if (!pc->nr)
		return 0;
	pc->log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pc->log == MAP_FAILED) {
		pc->log = NULL;
		return pr_fail_errno("can't map the log of the pages images' CRCs");
	}
	pc->log_size = size;
	pc->log->cap = LOG_CAP;
	return 0;
}

void pages_crc_note(struct pages_crc_log *log, dev_t dev, ino_t ino, uint64_t off, uint64_t len, uint32_t crc)
{
	uint64_t i;

	if (!log)
		return;
	i = __atomic_fetch_add(&log->nr, 1, __ATOMIC_SEQ_CST);
	if (i < log->cap)
		log->recs[i] = (struct pages_crc_rec){ dev, ino, off, len, crc };
}

/* CRC-32C of [off, off + len) of fd, read now. 0 or -errno (-EIO: the file is shorter). */
static int range_crc(int fd, char *buf, uint64_t off, uint64_t len, uint32_t *ret_crc)
{
	uint32_t crc = 0;

	while (len) {
		ssize_t n = pread(fd, buf, min(len, (uint64_t)GAP_BUF), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		crc = crc32c(crc, buf, n);
		off += n;
		len -= n;
	}
	*ret_crc = crc;
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct pages_crc_rec *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The CRC of the whole file from the runs the stubs summed (sorted, rec[0..nr)),
 * reading the gaps between them; a run that overlaps the one before is not used.
 */
static int whole_crc(int fd, uint64_t size, const struct pages_crc_rec *rec, size_t nr, uint32_t *ret_crc,
		     uint64_t *ret_read)
{
	_cleanup_free_ char *buf = xmalloc(GAP_BUF);
	uint64_t pos = 0, reread = 0;
	uint32_t crc = 0, c = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i <= nr; i++) {
		uint64_t to = i < nr ? rec[i].off : size;

		if (i < nr && (rec[i].off < pos || rec[i].len > size || rec[i].off > size - rec[i].len))
			continue;
		if (to > pos) {
			ret = range_crc(fd, buf, pos, to - pos, &c);
			if (ret)
				return ret;
			crc = crc32c_combine(crc, c, to - pos);
			reread += to - pos;
			pos = to;
		}
		if (i < nr) {
			crc = crc32c_combine(crc, rec[i].crc, rec[i].len);
			pos += rec[i].len;
		}
	}
	*ret_crc = crc;
	*ret_read = reread;
	return 0;
}

/* The noted runs of one image, sorted. */
static struct pages_crc_rec *runs_of(const struct pages_crc *pc, const struct pages_crc_want *w, size_t *ret_nr)
{
	uint64_t total = pc->log ? min(__atomic_load_n(&pc->log->nr, __ATOMIC_SEQ_CST), pc->log->cap) : 0;
	struct pages_crc_rec *r = xmalloc((total ?: 1) * sizeof(*r));
	size_t n = 0;

	if (!r)
		return NULL;
	for (uint64_t i = 0; i < total; i++)
		if (pc->log->recs[i].dev == (uint64_t)w->dev && pc->log->recs[i].ino == (uint64_t)w->ino)
			r[n++] = pc->log->recs[i];
	qsort(r, n, sizeof(*r), cmp_rec);
	*ret_nr = n;
	return r;
}

static int check_one(const struct pages_crc *pc, int dfd, const struct pages_crc_want *w, uint64_t *reread)
{
	_cleanup_close_ int fd = openat(dfd, w->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ struct pages_crc_rec *rec = NULL;
	struct stat st;
	size_t nr = 0;
	uint64_t again = 0;
	uint32_t crc = 0;
	int ret;

	if (fd < 0 || fstat(fd, &st))
		return pr_fail(-errno, "%s: can't read it: %s\n", w->name, strerror(errno));
	if (st.st_ino != w->ino || st.st_dev != w->dev)
		return pr_fail(-EINVAL, "%s was replaced during the restore (another file since the manifest check)\n",
			       w->name);
	if ((uint64_t)st.st_size != w->size)
		return pr_fail(-EINVAL, "%s has changed during the restore (%" PRIu64 " bytes, the dump wrote %" PRIu64 ")\n",
			       w->name, (uint64_t)st.st_size, w->size);
	rec = runs_of(pc, w, &nr);
	if (!rec)
		return -ENOMEM;
	ret = whole_crc(fd, w->size, rec, nr, &crc, &again);
	if (ret == -EIO)
		return pr_fail(-EINVAL, "%s is truncated (it was %" PRIu64 " bytes)\n", w->name, w->size);
	if (ret)
		return pr_fail(ret, "%s: can't read it: %s\n", w->name, strerror(-ret));
	if (crc != w->crc)
		return pr_fail(-EINVAL, "%s has changed since the dump (CRC-32C %08x, the dump wrote %08x)\n", w->name,
			       crc, w->crc);
	*reread += again;
	return 0;
}

int pages_crc_finish(struct pages_crc *pc, int dfd)
{
	uint64_t reread = 0, total = 0;
	int ret;

	if (!pc->nr)
		return 0;
	if (pc->log && __atomic_load_n(&pc->log->nr, __ATOMIC_SEQ_CST) > pc->log->cap)
		pr_info("more runs than the log holds: the rest are read again\n");
	for (size_t i = 0; i < pc->nr; i++) {
		ret = check_one(pc, dfd, &pc->want[i], &reread);
		if (ret)
			return ret;
		total += pc->want[i].size;
	}
	pr_info("%zu pages images checked: %" PRIu64 " of %" PRIu64 " bytes summed as they were restored\n", pc->nr,
		total - reread, total);
	return 0;
}

void pages_crc_free(struct pages_crc *pc)
{
	for (size_t i = 0; i < pc->nr; i++)
		free(pc->want[i].name);
	free(pc->want);
	if (pc->log)
		munmap(pc->log, pc->log_size);
	*pc = (struct pages_crc){};
}
