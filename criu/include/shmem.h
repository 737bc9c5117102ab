/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, "/dev/zero (deleted)" in
 * maps): one shmem object can be mapped by many tasks, so its pages are dumped
 * once per dump, keyed by its inode (the VmaEntry.shmid), in CRIU's layout:
 * pagemap-shmem-<shmid>.img (PagemapHead, then PagemapEntry runs whose vaddr is
 * the byte offset in the object) + pages-<pages_id>.img.
 */
#ifndef CRIU_SHMEM_H
#define CRIU_SHMEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The objects already dumped in this dump. */
struct shmem_set {
	int nr, cap;
	struct shmem_dumped {
		unsigned long shmid;	/* the shmem inode */
		unsigned long size;	/* bytes covered by the dump */
		unsigned long nr_pages;	/* pages written */
	} *items;
};

void shmem_set_fini(struct shmem_set *s);
/* The entry of an object already dumped, or NULL. */
const struct shmem_dumped *shmem_find(const struct shmem_set *s, unsigned long shmid);

struct dump_mem_ctx;
/*
 * Dump the shmem object behind map_fd (an fd from map_files of a shared
 * anonymous vma), unless it is in ctx's set already. Its pages are found with
 * SEEK_DATA/SEEK_HOLE on the object itself, so pages that only another task
 * touched are dumped too. min_size: the end of the object as the vma sees it
 * (pgoff + length), in case it exceeds the inode size. *ret_shmid gets the inode.
 */
int dump_shmem_object(int img_dfd, struct dump_mem_ctx *ctx, int map_fd, unsigned long min_size,
		      unsigned long *ret_shmid);

/*
 * A hugetlbfs file (MAP_HUGETLB shared memory, a MFD_HUGETLB memfd) has no
 * SEEK_HOLE: it reads as one run of data, and holes read as zeroes without
 * being allocated. 1 when the huge page at off (HUGETLB_PAGE_SIZE bytes, read
 * into buf) is all zeroes, so that it is left out of the dump like a hole and
 * comes back unallocated; 0 when it holds data; -errno.
 */
int hugetlb_page_zero(int fd, off_t off, void *buf);

#endif
