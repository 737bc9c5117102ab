/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugetlb memory: MAP_HUGETLB mappings (anonymous, private or shared),
 * memfds made with MFD_HUGETLB, SysV segments made with SHM_HUGETLB. Only the
 * default 2 MiB page size of x86_64 is dumped and restored; other sizes
 * (1 GiB) are refused at dump. See Documentation/restore.md, "hugetlb".
 */
#ifndef CRIU_HUGETLB_H
#define CRIU_HUGETLB_H

#include <sys/mman.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

/* the page size restored, and its log2 as mmap(), memfd_create() and shmget() take it */
#define HUGETLB_PAGE_SIZE (2UL << 20)
#define HUGETLB_PAGE_SHIFT 21
/* VmaEntry.flags of a hugetlb mapping, as CRIU writes them: MAP_HUGETLB and the page size */
#define HUGETLB_MAP_FLAGS (MAP_HUGETLB | (HUGETLB_PAGE_SHIFT << MAP_HUGE_SHIFT))
/* bits of VmaEntry.flags that say hugetlb: MAP_HUGETLB and the size field */
#define HUGETLB_MAP_MASK (MAP_HUGETLB | (0x3fUL << MAP_HUGE_SHIFT))

/* the maps name of anonymous hugetlb memory (MAP_HUGETLB), " (deleted)" cut off */
#define HUGETLB_ANON_NAME "/anon_hugepage"

#endif
