// SPDX-License-Identifier: GPL-2.0
/* Shared anonymous memory: dumped once per object, keyed by its inode (see shmem.h). */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common.h"
#include "hugetlb.h"
#include "image.h"
#include "mem.h"
#include "pagemap.h"
#include "shmem.h"

#undef LOG_PREFIX
#define LOG_PREFIX "shmem: "

void shmem_set_fini(struct shmem_set *s)
{
	free(s->items);
	s->items = NULL;
	s->nr = s->cap = 0;
}

const struct shmem_dumped *shmem_find(const struct shmem_set *s, unsigned long shmid)
{
	for (int i = 0; i < s->nr; i++)
		if (s->items[i].shmid == shmid)
			return &s->items[i];
	return NULL;
}

static int shmem_add(struct shmem_set *s, const struct shmem_dumped *d)
{
	if (s->nr == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct shmem_dumped *n = realloc(s->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->items = n;
		s->cap = cap;
	}
	s->items[s->nr++] = *d;
	return 0;
}

/*
 * Walk the data segments of the object (SEEK_DATA/SEEK_HOLE) and queue them to
 * the copier, which preads them (a hole inside a segment reads as zeroes, and
 * nothing is added to the object) while its writer thread writes.
 */
static int copy_object(struct page_copier *pc, int fd, unsigned long size)
{
	off_t off = 0;

	while ((unsigned long)off < size) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;
		int ret;

		if (data < 0 && errno == ENXIO)
			break;	/* no data after off */
		if (data < 0)
			return -errno;
		if ((unsigned long)data >= size)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		data &= ~(off_t)(PAGE_SIZE - 1);
		hole = min((unsigned long)PAGE_ALIGN(hole), size);
		ret = page_copier_add(pc, data, hole - data, true);
		if (ret < 0)
			return ret;
		off = hole;
	}
	return page_copier_flush(pc);
}

int hugetlb_page_zero(int fd, off_t off, void *buf)
{
	const uint64_t *w = buf;
	size_t got = 0;

	while (got < HUGETLB_PAGE_SIZE) {
		ssize_t n = pread(fd, (char *)buf + got, HUGETLB_PAGE_SIZE - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += n;
	}
	for (size_t i = 0; i < got / sizeof(*w); i++)
		if (w[i])
			return 0;
	return 1;
}

/* The huge pages of a hugetlbfs object that are not all zeroes (see hugetlb_page_zero()). */
static int copy_hugetlb_object(struct page_copier *pc, int fd, unsigned long size)
{
	void *buf = mmap(NULL, HUGETLB_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret = 0;

	if (buf == MAP_FAILED)
		return -ENOMEM;
	for (unsigned long off = 0; off < size && !ret; off += HUGETLB_PAGE_SIZE) {
		ret = hugetlb_page_zero(fd, (off_t)off, buf);
		if (ret == 1)
			ret = 0;
		else if (!ret)
			ret = page_copier_add(pc, off, min(HUGETLB_PAGE_SIZE, size - off), true);
	}
	munmap(buf, HUGETLB_PAGE_SIZE);
	return ret ?: page_copier_flush(pc);
}

int dump_shmem_object(int img_dfd, struct dump_mem_ctx *ctx, int map_fd, unsigned long min_size,
		      unsigned long *ret_shmid)
{
	struct shmem_dumped d = {};
	struct page_copier pc;
	struct page_xfer x;
	struct statfs sfs;
	struct stat st;
	int ret;

	if (fstat(map_fd, &st) < 0)
		return -errno;
	*ret_shmid = st.st_ino;
	if (shmem_find(&ctx->shmems, st.st_ino))
		return 0;

	d.shmid = st.st_ino;
	d.size = PAGE_ALIGN(max((unsigned long)st.st_size, min_size));
	ret = page_xfer_open(&x, img_dfd, CR_FD_SHMEM_PAGEMAP, d.shmid, ctx->next_pages_id);
	if (ret < 0)
		return ret;
	ctx->next_pages_id++;
	ret = page_copier_init_file(&pc, map_fd, ctx->buf, ctx->buf_size, &x, !ctx->sync_writes);
	if (!ret)
		ret = fstatfs(map_fd, &sfs) ? -errno : 0;
	if (!ret && sfs.f_type == HUGETLBFS_MAGIC)
		ret = copy_hugetlb_object(&pc, map_fd, d.size);
	else if (!ret)
		ret = copy_object(&pc, map_fd, d.size);
	page_copier_fini(&pc);
	d.nr_pages = x.nr_pages;
	if (ret < 0) {
		page_xfer_abort(&x);
		return ret;
	}
	ret = page_xfer_close(&x);
	if (ret < 0)
		return ret;
	pr_debug("shmem %lu: %lu bytes, %lu pages dumped\n", d.shmid, d.size, d.nr_pages);
	ctx->nr_shmem_pages += d.nr_pages;
	return shmem_add(&ctx->shmems, &d);
}
