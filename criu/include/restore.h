/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Restore (Documentation/restore.md).
 *
 * cr_restore_tasks() reads and checks every image, forks the tree with the
 * dumped pids and tids (clone3 + set_tid), lets each task open its files
 * (prepare_fds(), the lead's files code), then "morphs" every stub into the
 * dumped task from the criu process with compel remote syscalls (morph.c,
 * mem-restore.c), and finally lets the tree run.
 */
#ifndef CRIU_RESTORE_H
#define CRIU_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pstree.h"

struct restore_opts {
	int img_dfd;		/* the images directory */
	bool detached;		/* -d: leave the tree running and return 0 */
	const char *pidfile;	/* --pidfile: write the root's pid there */
	bool shell_job;		/* --shell-job: the root may stay in criu's session/group */
	bool sibling;		/* RPC rst_sibling: the root becomes a child of criu's parent (CLONE_PARENT) */
	bool skip_image_check;	/* --skip-image-check: don't check the images against manifest.img */
	pid_t *ret_pid;		/* if set: the root's pid (as criu sees it) once the tree runs */
	const char *lsm_profile;	/* --lsm-profile TYPE:NAME: every thread's LSM label (lsm.c) */
	bool lazy_pages;	/* --lazy-pages: private anonymous memory comes from `criu lazy-pages` */
	bool auto_dedup;	/* --auto-dedup: once the tree runs, punch the pages images of the chain (dedup.h) */
};

/*
 * Restore the tree. Returns <0 (-errno) on failure, with every process the
 * restore started killed and reaped. On success: 0 in detached mode, else the
 * exit code criu should exit with (the root's exit code, or 128+signal).
 */
int cr_restore_tasks(const struct restore_opts *o);

struct rst_ctx;

/*
 * Run by each restored task (stub) in the task itself, after every task and
 * thread of the tree exists, before the morph (files.c). 0 or -errno.
 * prepare_fds() leaves exactly the dumped fds below ctx->sfd_base; the
 * service fds (the images dir, the log) are closed by the morph.
 */
int prepare_fds(struct rst_ctx *ctx, struct pstree_item *me);
int prepare_fs(struct rst_ctx *ctx, struct pstree_item *me);

/* ---------------------------------------------------------------- internals */

#include "mem.h"		/* VMA_* status bits */
#include "pagemap.h"		/* PE_* flags */

/*
 * The trampoline: criu reserves [RST_TRAMP, +RST_TRAMP_RESERVE) before the
 * fork; each stub maps [RST_TRAMP, +RST_TRAMP_SIZE) rwx with `syscall; int3`
 * at its start, the rest is scratch for remote syscall arguments. The second
 * half of the reservation is a hole used to move the vdso out of the way.
 */
#define RST_TRAMP_SIZE		(64UL << 10)
#define RST_TRAMP_RESERVE	(128UL << 10)
#define RST_SCRATCH_OFF		4096UL

struct CoreEntry;
struct cr_img;
struct MmEntry;
struct PagemapEntry;
struct VmaEntry;

/* Memory of one task: what mem-restore.c needs. */
struct rst_mem {
	struct MmEntry *mm;		/* VMAs and mm fields */
	struct PagemapEntry **pmes;	/* runs of pages, in pages-image order */
	size_t nr_pmes;
	int pages_fd;			/* criu's fd of pages-N.img, -1 when no pages */
	int remote_proc_fd;		/* > 0: the task's fd of /proc, for /proc paths (chroot) */
	int remote_ctl_pidfd;		/* > 0: the task's pidfd of criu (pidfd_getfd of criu's files) */
	bool lazy;			/* --lazy-pages and the pages are the pages image's (no parent chain) */
	struct VmaEntry **guards;	/* runs of guard markers: mm->vmas past n_vmas (mem_split_guards()) */
	size_t nr_guards;
	/*
	 * mem-cow.c: one COW_* state per VMA (in memory shared with the stubs),
	 * NULL when no VMA of the tree can be shared with a child.
	 */
	uint8_t *cow;
	/* filled by the caller: file-backed mappings and the exe */
	int (*file_path)(struct rst_ctx *ctx, uint32_t id, char *buf, size_t size);
	/*
	 * optional: criu's fd whose very open file a read-write mapping of file
	 * id maps (taken with pidfd_getfd(), not reopened), or -ENOENT
	 */
	int (*file_own_fd)(struct rst_ctx *ctx, uint32_t id);
};

/* How a task gets its namespace of one kind (ns-restore.c). */
enum rst_ns_how {
	RST_NS_INHERIT,		/* its parent's (or criu's, for the root) */
	RST_NS_CREATE,		/* it is the first task in it: its stub makes it */
	RST_NS_JOIN_TASK,	/* setns() to the task that made it */
	RST_NS_JOIN_CRIU,	/* setns() back to criu's */
};

struct rst_ns;

/* Per-task restore state (pstree_item.priv). */
struct rst_info {
	uint8_t ns_how[NS_KIND_NR];	/* enum rst_ns_how */
	struct rst_ns *ns[NS_KIND_NR];	/* CREATE, JOIN_TASK: the namespace */
	struct CoreEntry **core;	/* one per thread, core[0] = the leader */
	struct rst_mem mem;
	int pages_fd;			/* the pages image (its fd alone), or -1; mem.pages_fd unless chain_fd */
	int chain_fd;			/* pages gathered through the parent images (memfd), or -1 */
	int slot;			/* index in the shared area */
	pid_t *real_tids;		/* own pid namespace: the tids criu sees, per thread */
	/* task-share.c: the task that makes its fd table / fs (itself when it is the first of its sharers) */
	struct pstree_item *fdt_owner, *fs_owner;
	uint64_t clone_flags;		/* CLONE_FILES, CLONE_FS: made sharing its parent's */
	int fdt_left;			/* the owner's: tasks of its fd table whose morph still needs the service fds */
};

static inline struct rst_info *rsti(struct pstree_item *item)
{
	return item->priv;
}

struct compel_rsys;

/* mem-restore.c: a remote syscall; returns its result (-errno on failure, of the call or of compel). */
long rst_rsys(struct compel_rsys *rs, long nr, unsigned long a1, unsigned long a2, unsigned long a3,
	      unsigned long a4, unsigned long a5, unsigned long a6);
/* Write into the task's memory (forced, read-only pages too). */
int rst_poke(struct compel_rsys *rs, unsigned long addr, const void *buf, size_t len);
/*
 * mem-restore.c: open a file in the task (its root, its cwd; /proc paths
 * through the task's fd of /proc); the remote fd or -errno.
 */
int rst_remote_open(struct rst_ctx *ctx, struct compel_rsys *rs, unsigned long tramp, const char *path, int flags);

/* An address range [start, end). */
struct range {
	unsigned long start, end;
};
/* mem-fill.c: fill the task's memory from a pages image (pmes shifted by delta, skip left alone). */
int rst_fill_from_image(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp,
			struct PagemapEntry **pmes, size_t nr_pmes, int pages_fd, unsigned long delta,
			const struct range *skip, int nr_skip);
/*
 * mem-restore.c: register a shared anonymous object (once per shmid; later
 * calls only grow its size). pmes (offsets in the object) and pages_fd stay
 * the caller's until restore_mem_reset().
 */
int restore_shmem_add(struct rst_ctx *ctx, uint64_t shmid, uint64_t size, struct PagemapEntry **pmes, size_t nr_pmes, int pages_fd);
/* Forget the shared-memory table of a previous restore (unit tests). */
void restore_mem_reset(struct rst_ctx *ctx);

/* mem-restore.c: one VMA of a stub's maps, as read by read_cur_maps(). */
struct cur_vma {
	unsigned long start, end;
	char name[32];
};
/* A stub's maps now, from its dir in criu's /proc ("PID", or "self" in the stub); 0 or -errno. */
int read_cur_maps(struct rst_ctx *ctx, const char *dir, struct cur_vma **ret, int *ret_nr);
bool is_vdso_name(const char *n);
/*
 * mem-restore.c: what to unmap of a stub, as the gaps between what the morph
 * keeps (the trampoline, the vdso block, the VMAs the stub built, and extra)
 * that have something of cur in them (every gap, cur NULL: the vdso block
 * then comes in extra); the number of gaps (in *gaps, to free) or -errno.
 */
int stub_gaps(const struct rst_mem *mem, unsigned long tramp, const struct cur_vma *cur, int nr,
	      const struct range *extra, int n_extra, struct range **gaps);
/* stub-unmap.c: before the fork: where criu's vdso block is, which the stubs keep; 0 or -errno. */
int stub_unmap_plan(struct rst_ctx *ctx);
/* stub-unmap.c: a live stub, at the end of stage ready: unmap criu, report the stage, park. */
void __attribute__((noreturn)) stub_unmap_and_park(struct rst_ctx *ctx, struct pstree_item *me);

/* mem-restore.c: replace the address space of a stopped stub by the dumped one. */
int restore_mem(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem);
/*
 * mem-restore.c: CRIU dumps the pages of the vdso (its restore compares them
 * with the running kernel's vdso); ours keeps the vdso the kernel gives the
 * restored task: their runs get PE_RST_SKIP. Before validate_mem().
 */
int mem_skip_vdso_pages(pid_t pid, const struct rst_mem *mem);
/* mem-restore.c: the VMA_AREA_GUARD entries out of mm->n_vmas into guards; 0 or -EINVAL. */
int mem_split_guards(pid_t pid, struct rst_mem *mem);
/* mem-restore.c: back into mm->n_vmas, before the MmEntry is freed. */
void mem_join_guards(struct rst_mem *mem);
/* mem-restore.c: checks of the images alone (before anything starts). */
int validate_mem(pid_t pid, const struct rst_mem *mem);
/* mem-restore.c: true when [start, end) meets no dumped VMA of mem. */
bool mem_range_free(const struct rst_mem *mem, unsigned long start, unsigned long end);

/* mem-restore.c: does a present run of pages meet the VMA? */
bool mem_vma_has_pages(const struct rst_mem *mem, const struct VmaEntry *v);
/* Has VMA v pages a dump --lazy-pages left on the source (pagemap_entry_remote())? */
bool mem_vma_has_remote_pages(const struct rst_mem *mem, const struct VmaEntry *v);

/*
 * mem-cow.c: pages shared copy-on-write with a forked child. The stubs build
 * such VMAs before they fork (Documentation/restore.md); the morph keeps them.
 */
enum {
	COW_NONE,	/* restored by the morph */
	COW_PLAN,	/* the stub builds it, if its place is free in the stub */
	COW_KEPT,	/* the stub has it mapped and filled: the morph keeps it */
	COW_SELF,	/* not shared: the stub builds it once every task exists, in parallel (mem-fill-stub.c) */
};
/* Controller, before the first fork: which VMAs to build in the stubs. 0 or -errno. */
int cow_plan(struct rst_ctx *ctx);
/* In a stub, before it forks its children (criu's fds are found through ctx->proc_fd). */
int cow_stub_prepare(struct rst_ctx *ctx, struct pstree_item *me);
/* Controller: drop the table (after the restore, or its failure). */
void cow_reset(struct rst_ctx *ctx);
/*
 * mem-cow.c, in a stub: map v (a COW_PLAN or COW_SELF VMA) read-write at its
 * dumped place; 1 when its place is taken in the stub (left to the morph),
 * 0 or -errno.
 */
int cow_map_vma(struct rst_ctx *ctx, struct pstree_item *me, int proc_fd, const struct VmaEntry *v);
/*
 * mem-fill-stub.c, in a stub once every task and thread exists: map and fill
 * its COW_SELF VMAs, with up to one worker per CPU, the whole tree sharing
 * one CPU's worth of tokens each (ctx->shared->fill_tokens).
 */
int stub_fill_self(struct rst_ctx *ctx, struct pstree_item *me);
/*
 * In criu before the stubs: may they fill private anonymous VMAs with
 * UFFDIO_COPY (a userfaultfd, THP not "always", CRIU_FILL_UFFD not 0)? Logs why not.
 */
bool fill_uffd_probe(void);
/* The number of CPUs criu may run on (its affinity), at least 1. */
int rst_nr_cpus(void);

/* morph.c: morph a stopped stub (every thread seized) into the dumped task. */
struct morph_thread;
struct morph_task {
	struct rst_ctx *ctx;		/* set by morph_task() */
	struct pstree_item *item;
	unsigned long tramp;
	int nr_service_fds;
	int service_fds[8];		/* fds of the stub to close */
	struct morph_thread *th;	/* morph.c's per-thread state */
	int remote_userns_fd;		/* >= 0: the task's fd of the user namespace it enters (userns.c) */
};
int morph_task(struct rst_ctx *ctx, struct morph_task *mt);
struct ThreadInfoX86;
struct ThreadCoreEntry;
/*
 * morph-regs.c: set thread tid's registers and FPU state from its image (logs its error);
 * a thread dumped inside an interrupted syscall is left at that syscall's entry.
 */
int morph_set_regs(pid_t tid, const struct ThreadInfoX86 *ti, const struct ThreadCoreEntry *tc);
/* morph.c: let the morphed task run (detach every thread). */
int morph_release(struct morph_task *mt);
/* Clear PTRACE_O_EXITKILL on every thread of a morphed task (before any is released). 0 or -errno. */
int morph_commit(struct morph_task *mt);
/* morph.c: after a failure: drop what morph_task() holds (the caller kills the task). */
void morph_abort(struct morph_task *mt);
/* cr-restore.c: morph one live task (its service fds, morph_task(), with steps its fault steps). */
int morph_one(struct rst_ctx *ctx, struct morph_task *mt, bool steps);
/*
 * morph-pool.c: controller threads that morph the tasks of mts[0..nr) at the
 * same time and then commit, release or abort the tasks each one morphed.
 * NULL when one thread is enough (or wanted): the caller does it all itself.
 */
struct morph_pool;
struct morph_pool *morph_pool_start(struct rst_ctx *ctx, struct morph_task *mts, int nr);
int morph_pool_morph(struct morph_pool *p);
int morph_pool_commit(struct morph_pool *p);
int morph_pool_release(struct morph_pool *p);
/* Undo the morph of every task first when abort; then end the threads. NULL is fine. */
void morph_pool_stop(struct morph_pool *p, bool abort);

#endif
