/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dump of a task's address space: mm-<pid>.img (MmEntry
 * with its VmaEntry list), pagemap-<pid>.img + pages-<N>.img for private
 * memory, pagemap-shmem-<shmid>.img + pages-<N>.img for shared anonymous
 * memory (once per object).
 *
 * Ordering, for cr-dump.c:
 *  1. dump_mem_ctx_init() once per dump, before the first task.
 *  2. dump_task_mm() for each live task (not for zombies: they have no mm),
 *     after the whole tree is seized and every thread is stopped, and before
 *     anything resumes it. It only reads the task (maps, smaps, pagemap,
 *     process_vm_readv / /proc/PID/mem); the task's memory is not changed.
 *     It calls dump_file_lfd() on fctx for the exe and for every file mapping, so the
 *     files ctx must be ready (dump_files_init()) by then.
 *     item->proc_dfd must be an open /proc/PID directory.
 *  3. dump_mem_ctx_fini() once at the end (also after a failure).
 * Tasks that share one mm through CLONE_VM without CLONE_THREAD are refused
 * before (task-share.c).
 */
#ifndef CRIU_MEM_H
#define CRIU_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagemap.h"
#include "shmem.h"

struct pstree_item;
struct page_copier;

/* VmaEntry.status bits (CRIU's values: part of the image ABI). */
#define VMA_AREA_NONE (0 << 0)
#define VMA_AREA_REGULAR (1 << 0)
#define VMA_AREA_STACK (1 << 1)
#define VMA_AREA_VSYSCALL (1 << 2)
#define VMA_AREA_VDSO (1 << 3)
#define VMA_AREA_HEAP (1 << 5)
#define VMA_FILE_PRIVATE (1 << 6)
#define VMA_FILE_SHARED (1 << 7)
#define VMA_ANON_SHARED (1 << 8)
#define VMA_ANON_PRIVATE (1 << 9)
#define VMA_AREA_SYSVIPC (1 << 10)
#define VMA_AREA_SOCKET (1 << 11)
#define VMA_AREA_VVAR (1 << 12)
#define VMA_AREA_AIORING (1 << 13)
#define VMA_AREA_MEMFD (1 << 14)
#define VMA_AREA_SHSTK (1 << 15)
#define VMA_AREA_GUARD (1 << 16)
#define VMA_AREA_UPROBES (1 << 17)
#define VMA_UNSUPP (1u << 31)

/* mmap() map type of droppable memory (6.11+; glibc 2.36 lacks it): VmaEntry.flags has it instead of MAP_PRIVATE */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define VMA_MAP_TYPE 0x0f

/* Cross-task state of one dump. */
struct dump_mem_ctx {
	unsigned int next_pages_id;	/* the N of the next pages-N.img (from 1) */
	struct zero_pfns zero;		/* the zero pages' PFNs (0: unknown; such pages are then dumped) */
	struct shmem_set shmems;	/* shared anonymous objects already dumped */
	void *buf;			/* staging buffer for page copies */
	size_t buf_size;
	bool sync_writes;		/* no writer thread: copy and write in turn (tests, debugging) */
	bool pre_dump;			/* criu pre-dump: private pages only, no mm image, no files */
	bool with_parent;		/* the images dir has a `parent`: unchanged pages become PE_PARENT entries */
	bool lazy_remote;		/* dump --lazy-pages: pages of lazy VMAs stay in the task (PE_LAZY entries) */
	/*
	 * Where the tasks' private pages are copied (mem-copy.h): the dump's
	 * threads, collected before the tree is let go; NULL: each task's pages
	 * are copied (one thread) before dump_task_mm() returns.
	 */
	struct mem_copy_pool *pool;
	uint64_t *pmbuf;		/* /proc/PID/pagemap read buffer */
	size_t pmbuf_nr;
	/*
	 * Optional: the task's current brk (compel: a remote brk(0) in the seized
	 * task). When NULL or failing, the end of [heap] is used (start_brk without
	 * a heap), which is right whenever brk is page aligned, as glibc keeps it.
	 */
	int (*get_brk)(struct pstree_item *item, unsigned long *ret_brk, void *arg);
	void *get_brk_arg;
	/* totals over the dump */
	unsigned long nr_pages_dumped;	/* private pages written */
	unsigned long nr_parent_pages;	/* private pages left in the parent images */
	unsigned long nr_lazy_pages;	/* private pages left in the task for lazy-pages (--lazy-pages) */
	unsigned long nr_shmem_pages;	/* shared anonymous pages written */
	unsigned long nr_vmas;
	unsigned long nr_readv;		/* process_vm_readv() calls */
	unsigned long nr_memread;	/* /proc/PID/mem reads (vmas without PROT_READ) */
	uint64_t dump_us;		/* time in dump_task_mm() (stats-dump) */
};

/* 0 or -errno (-ENOMEM). */
int dump_mem_ctx_init(struct dump_mem_ctx *ctx);
/* Stops the copying threads (their copies are dropped with their images): call it before the tree is let go. */
void dump_mem_ctx_fini(struct dump_mem_ctx *ctx);
/*
 * Start the threads that copy the tasks' private pages (ctx->pool): the
 * copies of every task run from here, at once, until dump_mem_collect().
 * bufs: their buffers, made before the seize (NULL: each makes its own).
 */
struct mem_copy_bufs;
int dump_mem_threads_start(struct dump_mem_ctx *ctx, const struct mem_copy_bufs *bufs);
/* Wait for every copy and close every task's page images; 0 or the first error (logged). */
int dump_mem_collect(struct dump_mem_ctx *ctx);

/*
 * Write mm-<pid>.img, pagemap-<pid>.img, pages-<N>.img (+ shmem images) of
 * item into the image directory img_dfd. 0 or -errno; logs its error once.
 */
struct dump_files_ctx;
int dump_task_mm(int img_dfd, struct pstree_item *item, struct dump_mem_ctx *ctx, struct dump_files_ctx *fctx);

/* madvise bits of VmaEntry.madv, as CRIU sets them: 1 << MADV_* */
uint64_t vma_madv_from_vmflags(unsigned int vmflags);

#endif
