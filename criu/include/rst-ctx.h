/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The restore context (Documentation/restore.md): everything one restore
 * knows, in one place. cr_restore_tasks() builds it and passes it to every
 * step, to the file types' restore hooks and to the morph.
 *
 * The stubs are fork()s of criu, so each one holds its own copy: a stub moves
 * its fds to the service fds (stub_setup_fds()) and assigns them in its copy.
 * ctx->img_dfd, ctx->ctl_pidfd and ctx->proc_fd are therefore always the
 * right fds for whoever holds the ctx. What the controller and the stubs must
 * both see changing (the shared area, the files' fd table, the copy-on-write
 * table) lives in MAP_SHARED memory the ctx points to.
 */
#ifndef CRIU_RST_CTX_H
#define CRIU_RST_CTX_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "files.h"
#include "pages-crc.h"
#include "pstree.h"
#include "restore.h"

/* ------------------------------------------------------ the shared area (restore-stages.c) */

enum rst_stage {
	ST_START,
	ST_FORKED,
	ST_PGID,
	ST_FILES,
	ST_READY,
	ST_ZOMBIE,
};

struct rst_slot {
	pid_t pid;		/* the dumped pid */
	pid_t real;		/* set by the parent once the clone worked */
	int ns_ready;		/* set by the stub once its namespaces are joined or made (ns-restore.c) */
	int fds_done;		/* set by a stub that makes an fd table once its fds are in place (task-share.c) */
	char msg[512];		/* the stub's error, when it failed */
};

struct rst_shared {
	uint32_t futex;		/* bumped (and woken) on every change but a new stage: criu waits on it */
	uint32_t stage_futex;	/* bumped (and woken) on a new stage and on a stub's error: the stubs wait on it */
	int stage;		/* set by criu */
	int nr_done;		/* tasks that finished the current stage */
	int error;		/* first -errno of a stub */
	int err_slot;		/* its slot, -1 */
	int nr_slots;
	int fill_tokens;	/* mem-fill-stub.c: workers that may fill memory now, one per CPU */
	struct rst_slot slots[];
};

/* The service fds of a stub, from ctx->sfd_base up. */
#define SFD_IMG 0
#define SFD_LOG 1
#define SFD_CTL 2	/* a pidfd of criu: stubs in a pid namespace of their own can't name criu by pid */
#define SFD_PROC 3	/* /proc: the morph opens /proc paths in the task through it, even after chroot */
#define SFD_NR 4

/* Shared anonymous objects: each pagemap-shmem image is read once (restore-images.c). */
struct shmem_img {
	uint64_t shmid;
	struct PagemapEntry **pmes;
	size_t nr;
	struct cr_img *pages;
};

/* A namespace of the tree that the restore makes (ns-restore.c). */
struct rst_ns {
	enum ns_kind kind;
	uint32_t id;			/* the dump's id */
	struct pstree_item *creator;	/* the first task in it, in tree order: its stub makes it */
	void *data;			/* the kind's read() hook: its contents, for its restore() */
	int join_fd;			/* >= 0: criu's fd of a namespace to join instead (the root's only) */
	bool own_fd;			/* join_fd was opened by the restore (--join-ns), not inherited */
	bool premade;			/* join_fd is one criu made empty (ns_premake()): restore() fills it */
};

struct rst_ctx {
	uint64_t stats_start_us, stats_forked_us;	/* stats-restore (stats.c) */
	const struct restore_opts *opts;
	struct pstree tree;
	/* inventory.img: criu's pid namespace at dump time (root_ids.pid_ns_id), 0 when not recorded */
	uint32_t dump_criu_pidns_id;
	int tree_level;			/* learn_real_pids(): the NSpid column of the tree's pid namespace, -1 unknown */
	/* inventory.img: criu's namespace of each other kind at dump time (root_ids), 0 when not recorded */
	uint32_t dump_criu_ns_id[NS_KIND_NR];
	struct rst_ns **nss;	/* the namespaces the restore makes (or joins for the root) */
	int nr_nss;
	struct rst_userns *userns;	/* the tree's user namespace when not criu's (userns.c), else NULL */
	bool dumped_by_criu;		/* inventory.img is upstream CRIU's (it has lsmtype or dump_criu_run_id) */

	/* fds: criu's own in the controller, the service fds in a stub */
	int img_dfd;		/* the images directory */
	int log_fd;
	int ctl_pidfd;		/* a pidfd of criu */
	int proc_fd;		/* /proc, O_PATH */
	pid_t ctl_pid;		/* criu's pid, as criu sees it */
	int sfd_base;		/* lowest service fd of a stub */
	bool in_stub;		/* this copy is a stub's: the fds above are the service fds */

	unsigned long tramp;	/* the trampoline's reservation, 0 before */
	unsigned long vdso_start, vdso_end;	/* criu's vdso block ([vvar]..[vdso]), every stub's too */
	struct rst_shared *shared;
	size_t shared_size;
	/* restore-stages.c: criu's pidfd of each slot's process (and its pid), -1 none yet */
	int *alive_fd;
	pid_t *alive_pid;
	int watchdog_fd;	/* the watchdog's pipe (watchdog_start()), -1 */
	pid_t watchdog_pid;

	/* pages-crc.c: the pages images whose CRCs are checked as the stubs read them */
	struct pages_crc pages_crc;
	bool fill_uffd;		/* mem-fill-stub.c: the stubs may fill anonymous VMAs with UFFDIO_COPY */

	struct shmem_img *shmem_imgs;
	size_t nr_shmem_imgs;

	struct rst_files files;	/* files.c: the objects of files.img */
	struct rst_mnt *mnt;	/* mount-restore.c: the tree's own mount namespace, NULL when criu's */
	struct SeccompEntry *seccomp;	/* seccomp.c: seccomp.img, NULL when there is none */

	/* mem-restore.c: the shared anonymous objects (restore_shmem_add()) */
	struct shmem_obj *shmems;
	size_t nr_shmems;
	/* lazy-restore.c: the socket to `criu lazy-pages` (--lazy-pages), -1 */
	int lazy_sk;
	bool lazy_pages_checked;	/* the daemon checked the pages images against this manifest: */
	uint32_t lazy_manifest_crc;
	bool lazy_remote;		/* the daemon gets pages from a page server: PE_LAZY-only entries are its */
	/* mem-restore.c: the task's /proc service fd while restore_mem() runs, -1 */
	int morph_proc_fd;
	/* mem-cow.c: MAP_SHARED, one COW_* state per VMA of every live task */
	uint8_t *cow_tbl;
	size_t cow_tbl_size;

	/* cgroup-restore.c: cgroup.img, the directories made, the sets' paths; NULL before read_images() */
	struct cg_rst *cg;
	uint32_t dump_root_cg_set;	/* inventory.img: criu's cgroup set at dump, 0 when not recorded */

	struct sigaction old_stop_actions[3];	/* criu's own, while SIGINT, SIGTERM, SIGHUP stop the restore */
};

/* ------------------------------------------------------ restore-images.c */

/* Read and check every image (before anything starts). 0 or -errno, logged. */
int read_images(struct rst_ctx *ctx, const struct restore_opts *o);
void free_images(struct rst_ctx *ctx);
void free_shmem_imgs(struct rst_ctx *ctx);

/* ------------------------------------------------------ restore-stages.c */

/*
 * The pid (or tid) criu sees of the restored task with this pid in the
 * images: the same number, unless the tree has a pid namespace of its own
 * (then known once every task exists; 0 before, or for an unknown pid).
 */
pid_t rst_real_pid(struct rst_ctx *ctx, pid_t pid);
int shared_alloc(struct rst_ctx *ctx, int nr);
void shared_wake(struct rst_ctx *ctx);
void shared_wait(struct rst_ctx *ctx, uint32_t seen, long ms);
/*
 * The same on stage_futex: a stub waiting for the next stage is woken when
 * criu publishes it (or a stub fails), not by each other stub's report.
 */
void stage_wake(struct rst_ctx *ctx);
void stage_wait(struct rst_ctx *ctx, uint32_t seen, long ms);
/* While on, SIGINT, SIGTERM and SIGHUP make check_stop_requested() fail. */
void catch_stop_signals(struct rst_ctx *ctx, bool on);
int check_stop_requested(void);
/* Controller: start a stage, wait until expect tasks finished it (or one failed). */
void ctl_publish(struct rst_ctx *ctx, int stage);
int ctl_wait_count(struct rst_ctx *ctx, int stage, int expect);
int ctl_run_stage(struct rst_ctx *ctx, int stage, int expect);
int wait_zombies(struct rst_ctx *ctx);
/* Own pid namespace: find the pids and tids criu sees of every task. */
int learn_real_pids(struct rst_ctx *ctx);
/* Kill every task the restore started, reap until none is left. */
void kill_and_reap(struct rst_ctx *ctx, pid_t root_pid);
/* Close criu's pidfds of the tasks (the liveness checks of the stage waits). */
void alive_fds_free(struct rst_ctx *ctx);
/*
 * The watchdog (restore-stages.c): a process that kills every task of the
 * restore if criu dies before watchdog_stop(ctx, true) says the tree is kept.
 * watchdog_stop(ctx, false) lets it go without doing anything (criu kills the
 * tree itself). Both wait for it.
 */
int watchdog_start(struct rst_ctx *ctx);
void watchdog_stop(struct rst_ctx *ctx, bool keep);

/* ------------------------------------------------------ restore-stub.c */

/* clone3 with set_tid = pid. */
pid_t clone_task(pid_t pid, uint64_t flags);
/* The stub program, in a forked copy of criu: never returns. */
void __attribute__((noreturn)) stub_main(struct rst_ctx *ctx, struct pstree_item *me, pid_t parent);

static inline bool rst_own_pidns(const struct rst_ctx *ctx)
{
	return ctx->tree.ns_flags & CLONE_NEWPID;
}

/* ------------------------------------------------------ ns-restore.c */

/* Controller, from the images: which task makes, joins or inherits each namespace; reads their contents. */
int ns_plan_restore(struct rst_ctx *ctx);
void ns_restore_free(struct rst_ctx *ctx);
/* The restore makes a namespace (pid or another kind): the setup-namespaces scripts run. */
bool rst_makes_ns(const struct rst_ctx *ctx);
/*
 * The controller, once every task exists: an fd to setns() into the
 * namespace of kind k and dumped id that the restore made (a pidfd of the
 * task that made it) or joined for the root (a dup of that fd). -ENOENT when
 * the restore has no such namespace (criu's, or none of the tree's).
 */
int rst_ns_fd(struct rst_ctx *ctx, enum ns_kind k, uint32_t id);
/* After ns_plan_restore(): the restore makes (or joins for the root) the namespace of kind k and dumped id. */
bool rst_ns_of_tree(struct rst_ctx *ctx, enum ns_kind k, uint32_t id);
/* In a stub, before it forks its children: join or make its namespaces. 0 or -errno, logged. */
int stub_namespaces(struct rst_ctx *ctx, struct pstree_item *me);
/* ns-restore.c: criu's fd of the root task's namespace of kind k (made now if it is the root's own: IPC only), -1 when criu's, or -errno. */
int ns_root_fd(struct rst_ctx *ctx, enum ns_kind k);

#endif
