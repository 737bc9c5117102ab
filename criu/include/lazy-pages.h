/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lazy restore (Documentation/migration.md, "Lazy restore").
 *
 * `criu lazy-pages -D DIR` (lazy-pages.c) listens on DIR/lazy-pages.socket.
 * `criu restore --lazy-pages -D DIR` (lazy-restore.c) connects to it before
 * any process exists; the morph maps the private anonymous VMAs that have
 * pages without filling them, makes a userfaultfd in each task's mm, registers
 * those VMAs with it and hands it over with a pidfd of the task, criu's fd
 * of its pages (the pages image, or the memfd a parent chain was gathered
 * into) and the runs of pages still to come. Then the daemon serves the
 * task's page faults from a page source (page-source.h) and, once the restore
 * says the tree runs, copies the rest in the background; it exits when
 * nothing is left.
 */
#ifndef CRIU_LAZY_PAGES_H
#define CRIU_LAZY_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LAZY_SK_NAME "lazy-pages.socket"

/* The userfaultfd events the daemon needs: forks, mremap, madvise(DONTNEED/REMOVE), munmap. */
#define LAZY_UFFD_FEATURES \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

/* over a SOCK_STREAM socket: the daemon's hello on accept, then restore -> daemon */
enum lazy_msg_type {
	LAZY_MSG_HELLO = 0,	/* daemon -> restore: pid is 1 when the daemon checked the pages images' CRCs */
	LAZY_MSG_TASK = 1,	/* + SCM_RIGHTS {uffd, pidfd[, pages fd]}, then nr_runs struct lazy_run */
	LAZY_MSG_DONE = 2,	/* the tree runs: start the background copy */
	LAZY_MSG_FAILED = 3,	/* the restore failed: its tasks are killed, drop everything */
};

/* HELLO's nr_runs: flags. The daemon has a page server (lazy-pages --page-server) for the pages left on the source. */
#define LAZY_HELLO_REMOTE 1U

struct lazy_msg {
	uint32_t type;
	int32_t pid;		/* the task's pid in the images: pagemap-PID.img */
	uint32_t nr_runs;
	uint32_t manifest_crc;	/* HELLO: the manifest the pages images were checked against */
};

/*
 * Pages of a task still to come: [start, end) of its memory (its dumped
 * addresses) are at off in the pages fd. Every other page of its registered
 * VMAs reads as zeroes.
 */
struct lazy_run {
	uint64_t start, end, off;
};

/* lazy_run.off of pages left on the source (dump --lazy-pages): they are not in the pages fd. */
#define LAZY_OFF_REMOTE UINT64_MAX

/* ---------------------------------------------------------------- the restore side (lazy-restore.c) */

struct rst_ctx;
struct rst_mem;
struct compel_rsys;

/* Before any process exists: connect to the daemon of the images dir; 0 or -errno, logged. */
int lazy_restore_connect(struct rst_ctx *ctx);
/*
 * Before anything is forked, when the daemon has a page server: every VMA
 * with pages left on the source must be one lazy_vma() takes. 0 or -errno, logged.
 */
int lazy_check_remote(struct rst_ctx *ctx);
struct VmaEntry;
/*
 * Can a VMA of this kind come in lazily (private anonymous, not a stack, not
 * locked, hugetlb or wiped on fork)? The dump (--lazy-pages: which pages stay
 * on the source) and the restore (lazy_vma()) ask the same question.
 */
bool vma_can_be_lazy(const struct VmaEntry *v);
/* In the morph, after the VMAs are mapped (restore_mem()): may VMA i of mem come in lazily? */
bool lazy_vma(const struct rst_ctx *ctx, const struct rst_mem *mem, size_t i);
/*
 * In the morph, right after the fill: make the task's userfaultfd, register
 * its lazy VMAs and hand it to the daemon. From then on the daemon serves its
 * faults. 0 or -errno, logged.
 */
int lazy_restore_task(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t real_pid, pid_t img_pid,
		      const struct rst_mem *mem);
/* The tree runs (ok) or the restore failed: tell the daemon and close the socket. */
void lazy_restore_finish(struct rst_ctx *ctx, bool ok);

/* ---------------------------------------------------------------- the daemon (lazy-pages.c) */

/* `criu lazy-pages`: serve until every page is in; detach: fork once the socket listens. 0 or -errno. */
struct ps_conf;
/* ps: the page server with the pages a dump --lazy-pages left on the source (--page-server), or NULL. */
int cr_lazy_pages(int img_dfd, bool detach, const char *pidfile, const struct ps_conf *ps);

#endif
