/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page images: pagemap-*.img (PagemapHead, then PagemapEntry runs) and the raw
 * pages-N.img they point to, written by a page_xfer; and the copier that moves
 * present pages of a seized task into one, in big batches.
 *
 * Helpers here never log above debug; they return 0 or -errno.
 */
#ifndef CRIU_PAGEMAP_H
#define CRIU_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* PagemapEntry.flags (CRIU's values). */
#define PE_PARENT (1 << 0)
#define PE_LAZY (1 << 1)
#define PE_PRESENT (1 << 2)
/* Ours, set at restore only, never in an image: pages in the image that are not restored (the vdso's). */
#define PE_RST_SKIP (1U << 31)

/* Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
#define PME_PFN_MASK ((1ULL << 55) - 1)	/* PFN of a present page, 0 without CAP_SYS_ADMIN */
#define PME_SOFT_DIRTY (1ULL << 55)
#define PME_EXCLUSIVE (1ULL << 56)	/* mapped once only */
#define PME_UFFD_WP (1ULL << 57)
#define PME_GUARD (1ULL << 58)		/* a MADV_GUARD_INSTALL marker */
#define PME_FILE (1ULL << 61)		/* page cache or shared anon, not a private anon copy */
#define PME_SWAP (1ULL << 62)
#define PME_PRESENT (1ULL << 63)

struct cr_img;
struct page_chain;
struct page_digests;
struct ps_conn;
struct ps_queue;
struct mem_copy_job;

/*
 * Writes one pagemap image and its pages image, in the images dir or, when
 * ps is set, on a page server (page-xfer.c: entries wait in a queue until
 * their pages are written, and go out with them in order).
 */
struct page_xfer {
	struct cr_img *pmi;		/* pagemap-*.img */
	struct cr_img *pi;		/* pages-<pages_id>.img (raw) */
	int pages_fd;
	unsigned int pages_id;
	uint32_t flags;			/* PagemapEntry flags of the pages added next (PE_PRESENT after open) */
	uint64_t run_vaddr;		/* the entry being built (merged while runs touch, flags alike) */
	unsigned long run_pages;
	uint32_t run_flags;
	unsigned long nr_pages;		/* totals, for stats and tests: pages written */
	unsigned long nr_parent_pages;	/* pages left in the parent images (PE_PARENT entries) */
	unsigned long nr_lazy_pages;	/* pages left on the source (PE_LAZY entries without bytes) */
	unsigned long nr_entries;
	uint32_t crc;			/* CRC-32C of every byte written to pages_fd (page_xfer_sum()) */
	uint64_t crc_len;
	/* to a page server (page_xfer_open() while page_server_conn is set) */
	struct ps_conn *ps;
	uint64_t ps_dst;		/* the pagemap's dst_id */
	bool ps_has_parent;		/* the server's dir has the pagemap in its parent: PE_PARENT allowed */
	struct ps_queue *q;
	struct page_digests *digests;	/* non-NULL: record the digest of every page (page-digest.h) */
	const struct page_digests *parent_digests;	/* where the digests of PE_PARENT pages come from */
};

/*
 * The page server a dump sends its pages to (--page-server), or NULL: set by
 * the dump for its duration. Process-wide, like the options: every
 * page_xfer_open() of the dump (task memory, shmem, memfd) follows it.
 */
extern struct ps_conn *page_server_conn;

/*
 * Create the pagemap image of type pagemap_type (CR_FD_PAGEMAP with a pid, or
 * the shmem one with a shmid) named with id, write its PagemapHead{pages_id}
 * and create pages-<pages_id>.img.
 */
int page_xfer_open(struct page_xfer *x, int img_dfd, int pagemap_type, unsigned long id, unsigned int pages_id);
/*
 * Record that nr_pages pages at vaddr follow in the pages image, with flags
 * x->flags (entries are merged when they touch and have the same flags).
 */
int page_xfer_add(struct page_xfer *x, uint64_t vaddr, unsigned long nr_pages);
/* The page bytes, in the order of page_xfer_add() calls. */
int page_xfer_write(struct page_xfer *x, const void *buf, size_t len);
/* Write the last entry and close both images; 0 or -errno. Frees x's resources in every case. */
int page_xfer_close(struct page_xfer *x);
/* Close without caring (an error path). */
void page_xfer_abort(struct page_xfer *x);

/* page-xfer.c: the same operations on a page server's pagemap (x->ps set). */
int ps_xfer_open(struct page_xfer *x, struct ps_conn *c, int pagemap_type, unsigned long id);
int ps_xfer_add(struct page_xfer *x, uint64_t vaddr, unsigned long nr_pages);
int ps_xfer_write(struct page_xfer *x, const void *buf, size_t len);
/* The same for len bytes waiting in a pipe (page-pipe.h): spliced to the socket; plain TCP, no digests. */
int ps_xfer_splice(struct page_xfer *x, int pipe_fd, size_t len);
/*
 * The same for len bytes the task sends itself (page_pipe_send()): the next
 * entries as iovecs, each a header (hdr[i], which the task sees at blob + i *
 * 32) and, with PE_PRESENT, the entry's pages at their address in the task;
 * the PE_PARENT entries at the head go along. At most max_iov iovecs and
 * max_hdr headers: the number of iovecs (0: nothing to send), the headers
 * and page bytes taken in *ret_nr_hdr and *ret_bytes (fewer than len when
 * the arrays are full: call again), or -errno.
 */
struct ps_iov;
int ps_xfer_task_iov(struct page_xfer *x, size_t len, unsigned long blob, struct iovec *iov, int max_iov,
		     struct ps_iov *hdr, int max_hdr, int *ret_nr_hdr, size_t *ret_bytes);
int ps_xfer_close(struct page_xfer *x);
void ps_xfer_abort(struct page_xfer *x);

/*
 * Copies runs of a task's pages into a page_xfer with few, large syscalls.
 * The staging buffer is cut into PC_SLOTS slots: the caller's thread fills one
 * with process_vm_readv() while a writer thread write()s the previous ones to
 * the pages image, so the copy out of the task and the write overlap.
 */
#define PC_MAX_IOV 1024			/* UIO_MAXIOV */
#define PC_SLOTS 4
struct pc_writer;
struct page_copier {
	pid_t pid;
	int mem_fd;			/* /proc/PID/mem, opened on first need (unreadable vmas), or the source file */
	bool own_mem_fd;		/* mem_fd is ours to close */
	int proc_dfd;
	char *buf;			/* staging buffer: PC_SLOTS slots of slot_size bytes */
	size_t slot_size;
	int cur;			/* the slot being filled */
	struct iovec riov[PC_MAX_IOV];	/* queued remote ranges (into slot cur) */
	int nr_iov;
	size_t queued;
	bool force;			/* the queued ranges need /proc/PID/mem (no PROT_READ) */
	bool write_failed;		/* a write to the pages image failed (logged once) */
	/*
	 * dump --lazy-pages: the runs are recorded (entries with x->flags,
	 * PE_LAZY without PE_PRESENT) and nothing is copied: the dump serves
	 * the pages from the stopped task later (lazy-dump.c)
	 */
	bool entries_only;
	/* the runs to copy are planned into this job (mem-copy.h), copied later by its pool; or NULL */
	struct mem_copy_job *plan;
	struct page_xfer *x;
	struct pc_writer *w;		/* NULL: writes are done in place, synchronously */
	/* the task's pages go through this pipe to the page server (page_copier_use_pipe()), or NULL */
	struct page_pipe *pp;
	unsigned long nr_spliced;	/* bytes that went through pp */
	unsigned long nr_readv, nr_memread;	/* syscalls issued, for stats and tests */
	/* after page_copier_fini(): CPU time of the copying thread (from init) and of the writer,
	 * and how long each waited for the other (ns); for the log */
	uint64_t reader_cpu_ns, reader_wait_ns, writer_cpu_ns, writer_wait_ns;
};

/*
 * buf/buf_size are the caller's (reused across tasks; buf_size a multiple of
 * PC_SLOTS pages). async: start the writer thread (falls back to synchronous
 * writes when a thread can't be made).
 */
int page_copier_init(struct page_copier *pc, pid_t pid, int proc_dfd, void *buf, size_t buf_size,
		     struct page_xfer *x, bool async);
/* The same, copying from a file (pread at the queued offsets) instead of a task: queue with force = true. */
int page_copier_init_file(struct page_copier *pc, int fd, void *buf, size_t buf_size, struct page_xfer *x,
			  bool async);
/*
 * Readable pages (not force) go to x's page server through pp from now on,
 * not through the staging buffer; x: plain TCP, no digests.
 */
void page_copier_use_pipe(struct page_copier *pc, struct page_pipe *pp);
/* Queue [addr, addr + len) for copying; force: the vma is not readable (use /proc/PID/mem). */
int page_copier_add(struct page_copier *pc, unsigned long addr, size_t len, bool force);
/* Copy what is queued and wait until every byte is written; 0 or the first error. */
int page_copier_flush(struct page_copier *pc);
/* Stop the writer (if any) and close what the copier opened; safe after any error. */
void page_copier_fini(struct page_copier *pc);

/* Where the kernel's shared zero pages are: read faults of untouched anonymous memory map them. */
struct zero_pfns {
	uint64_t pfn;		/* the 4 KiB zero page */
	uint64_t huge;		/* first PFN of the 2 MiB huge zero page (THP), 0 when unknown */
};

/* Which present pages of a vma get dumped (see dump_vma_pages()). */
enum page_filter {
	PF_ANON,	/* private anonymous: present (not the zero page) or swapped */
	PF_PRIVATE_FILE,/* private file: only pages that are anonymous copies (present && !PME_FILE) or swapped */
};

/*
 * What an incremental dump compares the task's pages with: the bytes up the
 * parent chain (local images), or the digests the last pass recorded (its
 * pages went to a page server). One of the two is set.
 */
struct page_parent {
	const struct page_chain *chain;
	const struct page_digests *digests;
	/* with chain: the write tracking of the task (mem-track.h), NULL when none */
	const struct task_track *track;
};

/*
 * Scan /proc/PID/pagemap (pagemap_fd) over [start, end) in one pass and queue
 * every page that passes the filter to the copier; entries go to pc->x.
 * zero: the PFNs of the shared zero pages (0: unknown, such pages are then dumped).
 * pmbuf: scratch for pmbuf_nr pagemap words. parent (or NULL): the chain of
 * an incremental dump; pages equal to their copy there get PE_PARENT entries.
 */
int dump_vma_pages(struct page_copier *pc, int pagemap_fd, unsigned long start, unsigned long end,
		   enum page_filter filter, bool readable, const struct zero_pfns *zero, uint64_t *pmbuf,
		   size_t pmbuf_nr, const struct page_parent *parent);

/*
 * 1 when a present anonymous page of [start, end) (not a zero page) is
 * shared copy-on-write with another task (not PME_EXCLUSIVE), 0 when none
 * is, or -errno.
 */
int range_has_shared_pages(int pagemap_fd, unsigned long start, unsigned long end, const struct zero_pfns *zero,
			   uint64_t *pmbuf, size_t pmbuf_nr);
/*
 * fn(run_start, run_end, arg) for each run of guard markers (PME_GUARD,
 * MADV_GUARD_INSTALL) in [start, end); stops at fn's first non-zero return,
 * which it hands back (or -errno of the pagemap read).
 */
int for_each_guard_run(int pagemap_fd, unsigned long start, unsigned long end, uint64_t *pmbuf, size_t pmbuf_nr,
		       int (*fn)(unsigned long start, unsigned long end, void *arg), void *arg);

/*
 * A pagemap image read back whole: pages_id from its head, its entries
 * (checked: page aligned, non-empty, sorted, not overlapping) and the pages
 * image opened for reading. Entry i's bytes sit at offset[i] in pages_fd.
 */
#include "pagemap.pb-c.h"
struct pagemap_read {
	unsigned int pages_id;
	size_t nr;
	PagemapEntry **pmes;
	uint64_t *offset;		/* byte offset in the pages image of each entry */
	uint64_t nr_pages;		/* sum over the entries with bytes here (not PE_PARENT ones) */
	size_t nr_parent;		/* entries flagged PE_PARENT: their pages are in the parent images */
	int pages_fd;			/* -1 when there are no entries */
};

/*
 * Bring an entry read from an image into CRIU 4.2's form: the count in
 * nr_pages (older images have it in compat_nr_pages), flags set (no flags:
 * PE_PRESENT; in_parent: PE_PARENT). A PE_PARENT entry has no bytes in the
 * pages image (page-chain.h finds them), nor has a PE_LAZY one without
 * PE_PRESENT (pagemap_entry_remote(): the caller decides). Returns NULL, or
 * what makes the entry one we can't restore, naming the field: the caller
 * logs it with the image's name.
 */
const char *pagemap_entry_fixup(PagemapEntry *pe);

/*
 * An entry of pages a dump --lazy-pages left on the source (PE_LAZY without
 * PE_PRESENT, after pagemap_entry_fixup()): no bytes in the pages image, a
 * page server serves them (PS_IOV_GET) to `criu lazy-pages --page-server`.
 */
static inline bool pagemap_entry_remote(const PagemapEntry *pe)
{
	return (pe->flags & (PE_LAZY | PE_PRESENT | PE_PARENT)) == PE_LAZY;
}

/* pagemap_type/id as for page_xfer_open(). A missing pagemap image is -ENOENT. */
int read_pagemap_image(int img_dfd, int pagemap_type, unsigned long id, struct pagemap_read *ret);
void pagemap_read_free(struct pagemap_read *r);

/* The PFN of the zero page as this process sees it, 0 if PFNs are hidden (no CAP_SYS_ADMIN). */
uint64_t find_zero_page_pfn(void);
/*
 * The first PFN of the huge zero page, or 0 when THP or its zero page is off
 * or it can't be told apart from a freshly allocated huge page.
 */
uint64_t find_huge_zero_page_pfn(void);

#endif
