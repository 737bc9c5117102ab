/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fd machinery (Documentation/architecture.md).
 *
 * Dump: every fd of a task is copied into criu with pidfd_getfd(); the
 * common parameters (fstat, fstatfs, fdinfo, link) are gathered once into
 * struct fd_parms; the first file_type whose detect() accepts it dumps the
 * open-file object once into files.img (identity: dev/ino, confirmed with
 * kcmp), and every fd gets an fdinfo reference.
 *
 * Restore: files.img records become struct file_desc (collect); after the
 * tree exists the controller (the criu process) opens each object once
 * (file_type.open), and each task pulls the fds it needs from the controller
 * with pidfd_getfd() and puts them at their numbers (prepare_fds). A file
 * shared by several fds or tasks is one open file in the controller, so it is
 * shared again.
 */
#ifndef CRIU_FILES_H
#define CRIU_FILES_H

#include <pthread.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include "image.h"
#include "list.h"
#include "proc_parse.h"
#include "pstree.h"

struct FileEntry;
struct cr_img;
struct ghost_dump;
struct seen_rep;
struct rst_ctx;

/* A file's owner as F_GETOWN_EX and F_GETSIG read it (fill_fown()), when read before its dump (fds-ahead.c). */
struct fd_owner_read {
	bool done;			/* read: fill_fown() needs no fcntl() for them */
	int type;			/* F_OWNER_* */
	pid_t pid;			/* 0: no owner */
	int sig;
};

/*
 * The first fd of the same open file among the fds read ahead, in the dump's
 * order (kcmp on fds-ahead's thread): the fd itself when it is the first.
 */
struct fd_same {
	bool known;
	pid_t pid;
	int fd;
};

/* What dump knows about one fd before choosing its type. */
struct fd_parms {
	int fd;				/* number in the task */
	int lfd;			/* criu's copy of it */
	struct stat stat;
	struct statfs sfs;
	struct proc_fdinfo fdinfo;
	char link[PATH_MAX];		/* readlink of /proc/PID/fd/N */
	unsigned int flags;		/* file status flags (O_*), without O_CLOEXEC */
	unsigned int fd_flags;		/* FD_CLOEXEC or 0 */
	struct fd_owner_read own;	/* done when read ahead */
	struct fd_same same;		/* known when read ahead */
	struct pstree_item *item;	/* the task */
};

/* pidfs's st_dev and fstatfs(), once a pidfd has shown them: it is one superblock (fd_statfs()). */
struct pidfs_cache {
	bool known;
	dev_t dev;
	struct statfs sfs;
};

/* Cross-task dump state for files. */
struct dump_files_ctx {
	int img_dfd;
	struct cr_img *files_img;	/* files.img */
	struct cr_img *imgs[CR_FD_MAX];	/* the types' own images, opened on first use (dump_files_img) */
	struct ghost_dump *ghosts;	/* the unlinked inodes dumped so far (files-ghost.c) */
	uint32_t last_ghost_id;
	struct pstree *tree;
	struct pidfs_cache pidfs;	/* the main thread's (fds-ahead.c has its own) */
	const uint32_t *criu_ns_id;	/* criu's own namespaces' ids, by enum ns_kind (ns_set.criu_id) */
	uint32_t next_id;
	struct seen_group **seen_hash;	/* the open files dumped so far, by inode (files.c) */
	struct seen_rep **rep_hash;	/* their ids by the first fd of each, for fds-ahead's answers */
	struct module_state *states;	/* dump_files_state(): each module's own dump state */
	bool failed;			/* the dump failed: dump_files_fini() drops the images unwritten */
	struct tcp_dump *tcp;		/* connections in repair mode (sk-tcp.c): outlive dump_files_fini() */
};

/* A restore-side open-file object. */
struct file_desc {
	uint32_t id;
	const struct file_type *type;
	struct FileEntry *fe;
	int index;			/* into the shared ctl_fds array */
	bool needed;			/* referenced by some fdinfo (or other image) */
	struct list_head list;
	void *priv;
	int stage;			/* enum file_open_stage: the type's, or later as collect() decides */
};

enum file_open_stage {
	FILE_OPEN_EARLY,		/* can be opened before the tree exists */
	FILE_OPEN_AFTER_TREE,		/* needs the restored tasks (pidfds, their namespaces) */
	FILE_OPEN_NEVER,		/* only the path of another object (a terminal's regf_id record) */
};

struct file_type {
	const char *name;
	int type;			/* FD_TYPES__* */
	/* dump */
	bool (*detect)(const struct fd_parms *p);
	int (*dump)(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p);
	/*
	 * restore: every hook gets the restore's ctx (rst-ctx.h) first.
	 * collect and open run in the controller.
	 */
	int (*collect)(struct rst_ctx *ctx, struct file_desc *d);
	int (*open)(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd);
	/*
	 * In a restored task, once all its fds are in place: state that needs the
	 * task's own fd numbers (an epoll's interest list). Runs once per object,
	 * in the first task that holds it.
	 */
	int (*post_install)(struct rst_ctx *ctx, struct file_desc *d, int fd);
	/* In the controller, after every task is morphed, right before the tree runs (arm timers). */
	int (*late)(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd);
	/* after every object of the stage is open (e.g. let helper processes exit) */
	int (*stage_done)(struct rst_ctx *ctx);
	/* drop what the controller still holds; on failure too */
	void (*cleanup)(struct rst_ctx *ctx);
	enum file_open_stage stage;
};

/* every fd type of objects.def, each defined in its own .c */
#define FILE_TYPE(name) extern const struct file_type name##_file_type;
#include "objects.def"

/* ---- dump ---- */
int dump_files_init(struct dump_files_ctx *ctx, int img_dfd, struct pstree *tree);
/* Close every image of the files dump: 0, or the first write error (logged). */
int dump_files_fini(struct dump_files_ctx *ctx);
/*
 * An image a file type writes besides files.img (pipes-data.img, memfd.img,
 * ...), created on first use and closed by dump_files_fini(). NULL (logged)
 * when it can't be created.
 */
struct cr_img *dump_files_img(struct dump_files_ctx *ctx, int type);
int dump_task_files(struct dump_files_ctx *ctx, struct pstree_item *item);
/*
 * During dump_task_files(): write the object behind fd of item now (unless it
 * is in files.img already) and give its id; for objects that refer to other
 * fds of the task (an epoll's targets).
 */
int dump_task_fd_object(struct dump_files_ctx *ctx, struct pstree_item *item, int fd, uint32_t *ret_id);
/*
 * The reads of one fd that depend on nothing but the fd: criu's copy
 * (pidfd_getfd), fstat, fstatfs (pc: pidfs's, once known), the link, the
 * fdinfo, and the owner (fd_read_owner()). Thread-safe and silent: -errno
 * and what failed in *ret_what; p->lfd is closed by the caller. The main
 * thread's reads log; fds-ahead.c reads on its thread and leaves a failure
 * to the main thread to read (and log) again.
 */
int fd_read_parms(struct pidfs_cache *pc, struct pstree_item *item, int fd_dfd, int fd, struct fd_parms *p,
		  const char **ret_what);
/* An fd of the dump, and the id of its open file (files.c, fds-ahead.c). */
struct seen_member {
	pid_t pid;
	int fd;
	uint32_t id;
};
/*
 * Binary search of task pid's fd in m[0..nr), sorted in kcmp(KCMP_FILE)
 * order: 1 and *ret_idx when the same open file is there, 0 and the index to
 * insert it at when not, -errno when kcmp fails.
 */
int kcmp_file_search(const struct seen_member *m, int nr, pid_t pid, int fd, int *ret_idx);
/* v into (*m)[idx], growing the array: 0 or -ENOMEM. */
int seen_member_insert(struct seen_member **m, int *nr, int *cap, int idx, struct seen_member v);
/* The task's fd numbers, sorted (from its open /proc/PID/fd): 0 or -errno. */
int list_task_fds(int fd_dfd, int **ret_fds, int *ret_nr);
/*
 * A module's dump state, kept in the ctx instead of file-scope variables:
 * the zeroed block of `size` bytes registered under key (the address of a
 * const object of the module), made on first use; NULL on ENOMEM.
 * dump_files_fini() calls fini (if any) on it, then frees it.
 */
void *dump_files_state(struct dump_files_ctx *ctx, const void *key, size_t size, void (*fini)(void *state));
/*
 * /proc/locks, read by a thread from the end of the seize on (its read waits
 * for an RCU grace period): proc_locks_start() right after the seize,
 * check_tree_files() waits for it, proc_locks_fini() (a cleanup) joins and
 * frees whatever the flow did.
 */
struct proc_locks {
	pthread_t thread;
	bool started;
	char *buf;		/* the text of /proc/locks, NUL-terminated */
	int err;		/* -errno of the read */
	pthread_t prime_thread;
	bool priming;
	uint64_t prime_start_us;
};
/*
 * The grace period out of the freeze: the first read of /proc/locks after a
 * quiet while waits for one, a read that follows the end of the last one
 * within a grace period does not (the kernel's rcu_sync of file_rwsem).
 * proc_locks_prime_start() reads one byte of it on a thread while the steps
 * before the seize run; proc_locks_prime_wait(), right before the seize,
 * waits for it, so that the read after the seize comes back at once. When
 * the seize takes longer than a grace period, that read waits as before.
 */
void proc_locks_prime_start(struct proc_locks *pl);
void proc_locks_prime_wait(struct proc_locks *pl);
void proc_locks_start(struct proc_locks *pl);
void proc_locks_fini(struct proc_locks *pl);
/*
 * States the dump refuses (files-check.c). check_tree_files(): before
 * anything is dumped, the tree's locks in /proc/locks (the locks held through an fd are dump_fd_locks()'s,
 * file-lock.h); check_fd_proc(): a /proc file of a task of a tree with
 * namespaces of its own.
 * 0, or -EOPNOTSUPP logged with what is refused.
 */
int check_tree_files(struct pstree *tree, struct proc_locks *pl);
int check_fd_proc(struct pstree *tree, const struct fd_parms *p);
/* What the fd is when criu knows the kind of object and refuses it (io_uring, fanotify...), else NULL. */
const char *refused_fd_name(const struct fd_parms *p);
/* The first all-digits component of path ("/proc/66/maps": 66), or -1. */
pid_t proc_path_pid(const char *path);
/* One lock line of /proc/locks or of an fdinfo "lock:" line. */
struct file_lock_line {
	char kind[16];			/* POSIX, FLOCK, OFDLCK, LEASE, ... */
	char mode[16];			/* ADVISORY, MANDATORY; a lease's ACTIVE, BREAKING, BREAKER */
	char access[16];		/* READ, WRITE, ... */
	bool waiter;			/* "->": blocked, waiting for the lock */
	int pid;			/* -1 for OFD locks */
	dev_t dev;
	unsigned long ino;
	long long start;
	long long end;			/* the last byte; -1: up to the end of the file (EOF) */
};
/* 0, or -EINVAL when the line is not one (no logging). */
int parse_lock_line(const char *s, struct file_lock_line *ret);
/* A reader's name for a /proc/locks kind ("flock() lock" for FLOCK). */
const char *lock_kind_name(const char *kind);
/* cwd, root and umask: fs-PID.img */
int dump_task_fs(struct dump_files_ctx *ctx, struct pstree_item *item);

/*
 * Dump a file that criu itself holds open (lfd), such as a task's exe or the
 * file behind a file-backed mapping, as a regular file object, once per file.
 */
int dump_file_lfd(struct dump_files_ctx *ctx, struct pstree_item *item, int lfd, uint32_t *ret_id);
/*
 * Whether the file behind p lost the name it was opened by: its link ends in
 * " (deleted)" and that path is not this very file (whose name may end so).
 * The link without the suffix goes to ret_name.
 */
bool file_unlinked(const struct pstree *t, const struct fd_parms *p, char *ret_name, size_t size);
/*
 * The fown (F_SETOWN, F_SETSIG) part of a file, from criu's copy p->lfd
 * (fown.c). 0, or -errno logged: the owner is not part of the tree.
 */
struct FownEntry;
int fill_fown(const struct dump_files_ctx *ctx, const struct fd_parms *p, struct FownEntry *fown);
/* F_GETOWN_EX and F_GETSIG of p->lfd into p->own (none for an O_PATH file): 0 or -errno, silent. */
int fd_read_owner(struct fd_parms *p);

/*
 * Paths read from images (files-reg.c): img_path_check() is 0 for an absolute
 * path with no empty, "." or ".." component, -EINVAL otherwise;
 * open_img_path() opens such a path from the root with openat2()
 * (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): an fd, or -1 with errno set.
 */
int img_path_check(const char *name);
/*
 * The path of p, name (p->link, or a removed FIFO's last name), in a
 * regular-file record of its own (a FIFO's, an orphan pty slave's), as
 * CRIU writes it; its files.img id in *ret_id. 0 or -errno.
 */
int write_path_file(struct dump_files_ctx *ctx, const struct fd_parms *p, const char *name, struct FownEntry *fown,
		    int mnt_id, uint32_t *ret_id);
int open_img_path(const char *name, int flags);
/*
 * Open the path of a regular-file record (a FIFO's too): in the tree's own
 * mount namespace below the mount it was opened on (RegFileEntry.mnt_id),
 * else with open_img_path(). An fd or -errno (not logged).
 */
struct RegFileEntry;
int open_reg_path(struct rst_ctx *ctx, const struct RegFileEntry *r, int flags);

/* ---- restore ----
 * The files registry of a restore (ctx->files): every object of files.img
 * and the controller's fd of each, in memory shared with the stubs.
 */
struct rst_files {
	struct list_head descs;		/* every collected object, in files.img order */
	int nr;
	struct file_desc **by_id;	/* open-addressing hash of descs by id (find_file_desc()) */
	size_t by_id_mask;		/* its size - 1, a power of two minus one; 0 when empty */
	int *ctl_fds;			/* MAP_SHARED: the controller's fd of each object, -1 */
	int *post_claimed;		/* MAP_SHARED too: which object's post_install ran (0/1) */
	size_t ctl_fds_size;
	struct module_state *states;	/* rst_files_state(): each module's own restore state */
};

/*
 * A module's restore state, kept in the ctx instead of file-scope variables:
 * the zeroed block of `size` bytes registered under key (the address of a
 * const object of the module), made on first use; NULL on ENOMEM. Like the
 * rest of the ctx, a stub has its own copy of what existed when it was
 * forked. The blocks are freed by files_restore_fini(), after every type's
 * cleanup hook has freed what they point to.
 */
void *rst_files_state(struct rst_ctx *ctx, const void *key, size_t size);

/*
 * Controller (criu): files_restore_prepare() before the tree is forked (the
 * tasks inherit the collected objects), files_restore_tree_ready() once every
 * task and thread exists and before any task runs prepare_fds(), and
 * files_restore_fini() once every task has its fds (or on failure).
 * Task (stub): prepare_fds() and prepare_fs() (declared in restore.h).
 */
int files_restore_prepare(struct rst_ctx *ctx);
/* The highest fd number the restored tasks use (fds, epoll items), -1 for none; the most fds of one task. */
int files_max_fd(struct rst_ctx *ctx, int *max, int *max_nr);
int files_restore_tree_ready(struct rst_ctx *ctx);
/* Controller: after the morph, right before the tree runs. */
int files_restore_late(struct rst_ctx *ctx);
void files_restore_fini(struct rst_ctx *ctx);

int collect_files(struct rst_ctx *ctx);
struct file_desc *find_file_desc(struct rst_ctx *ctx, uint32_t id);
/* Every collected object, in files.img order. */
#define for_each_file_desc(ctx, d) list_for_each_entry(d, &(ctx)->files.descs, list)
/*
 * Controller, right before the tree runs: owners, signals and O_ASYNC of the
 * controller's open files (fown.c).
 */
int restore_fowns(struct rst_ctx *ctx);
/* Task: O_ASYNC of its fd of d as dumped, with the fd at its number (fown.c). */
int restore_fd_async(struct rst_ctx *ctx, const struct file_desc *d, int fd);
/* The FownEntry and dumped status flags of an object: 0, or -ENOENT when its type has none. */
struct FownEntry;
int file_fown_flags(struct rst_ctx *ctx, const struct file_desc *d, const struct FownEntry **ret_fown, uint32_t *ret_flags);
/* Controller: open every needed object of this stage. */
int open_files_ctl(struct rst_ctx *ctx, enum file_open_stage stage);
/* The controller's fd of an object (after open_files_ctl), or -1. */
int file_desc_ctl_fd(struct rst_ctx *ctx, const struct file_desc *d);
/*
 * memfd.c: criu's fd of the file memfd_create() gave for the memfd that file
 * id is a file object of (-ENOENT for other files). A read-write mapping of
 * the memfd maps that very file: a reopen for writing would hold write access
 * to the inode, and execveat() of the memfd would fail with ETXTBSY.
 */
int memfd_map_ctl_fd(struct rst_ctx *ctx, uint32_t id);
/*
 * memfd.c, dump, before any task is dumped: the shared anonymous memory that
 * the tree holds as a file (a task's fd of it through map_files, a private
 * mapping of that file). Each such object is dumped as a memfd and every
 * mapping of it, shared ones too, as a mapping of that memfd, so that the
 * restore makes it once; the dump may meet a mapping of it before the fd.
 */
int memfd_collect_shmem_files(struct dump_files_ctx *ctx);
/* Whether the shared anonymous object dev/ino is one of those (false without ctx). */
bool memfd_shmem_is_file(struct dump_files_ctx *ctx, dev_t dev, unsigned long ino);
/* Whether criu's open file lfd is shared anonymous memory ("/dev/zero (deleted)" through map_files). */
bool memfd_is_anon_shmem(int lfd);
/* Controller, after every task has its fds: close the controller's copies. */
void close_files_ctl(struct rst_ctx *ctx);

#endif
