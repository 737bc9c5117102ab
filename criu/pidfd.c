// SPDX-License-Identifier: GPL-2.0
/*
 * pidfds (Documentation/pidfd.md).
 *
 * Dump records what the pidfd points at: a task or thread of the dumped tree
 * (by pid/tid), a zombie of the tree, a process already reaped (with its wait
 * status from PIDFD_GET_INFO), or a process outside the tree (with what
 * identifies it: pidfs inode, file handle, start time, boot id).
 *
 * Restore, in the controller once the tree exists:
 *  - tree targets: pidfd_open() of the restored pid (PIDFD_THREAD for threads);
 *  - reaped targets: one helper process per dumped pidfs inode; every pidfd
 *    of that process is opened on the helper, which then exits with the dumped
 *    wait status and is reaped, so PIDFD_INFO_EXIT reads the same;
 *  - outside targets: the very same process when it still exists (checked by
 *    its pidfs inode, which the kernel never reuses), else a pidfd of an exited
 *    process (or an error with --pidfd-external=strict); never the process that
 *    now has its pid number.
 * Pidfs inode numbers themselves can't be preserved: a restored pidfd has a new one.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "common.h"
#include "exit-status.h"
#include "cr_options.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"
#include "restore.h"
#include "syscalls.h"

#include "fdinfo.pb-c.h"
#include "pidfd.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "pidfd: "

#define PIDFD_HANDLE_MAX 64

/* ---------- dump ---------- */

static bool pidfd_detect(const struct fd_parms *p)
{
	if (p->sfs.f_type == PID_FS_MAGIC)
		return true;
	return p->sfs.f_type == ANON_INODE_FS_MAGIC && !strcmp(p->link, "anon_inode:[pidfd]");
}

static int read_boot_id(char *buf, size_t size)
{
	int n = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", buf, size);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* "NSpid:\t12\t1" -> 1: the innermost pid. */
static int last_pid_of(const char *s)
{
	const char *last = s;

	for (const char *c = s; *c; c++)
		if ((*c == ' ' || *c == '\t') && c[1] && c[1] != ' ' && c[1] != '\t')
			last = c + 1;
	return atoi(last);
}

static int dump_reaped(PidfdEntry *pe, const struct fd_parms *p)
{
	struct criu_pidfd_info info = { .mask = PIDFD_INFO_EXIT };

	pe->has_target_kind = true;
	pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_REAPED;
	if (ioctl(p->lfd, PIDFD_GET_INFO, &info) || !(info.mask & PIDFD_INFO_EXIT))
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: a pidfd of a reaped process, and this kernel can't tell its exit "
			       "status (PIDFD_INFO_EXIT): %s\n",
			       p->fd, p->item->pid, strerror(errno));
	pe->has_exit_status = true;
	pe->exit_status = info.exit_code;
	pr_info("fd %d of task %d: pidfd of a reaped process (ino %llu), wait status 0x%x\n", p->fd, p->item->pid,
		(unsigned long long)p->stat.st_ino, info.exit_code);
	return 0;
}

/* Record who an outside process is, making sure the pid still names the pidfd's process. */
static int dump_external(PidfdEntry *pe, const struct fd_parms *p, pid_t pid)
{
	static char boot_id[64];
	char buf[sizeof(struct file_handle) + PIDFD_HANDLE_MAX], path[64];
	struct file_handle *fh = (struct file_handle *)buf;
	_cleanup_close_ int check = -1, dfd = -1;
	struct proc_pid_stat st;
	struct stat cs;
	int mnt_id, ret;

	pe->has_target_kind = true;
	pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_EXTERNAL;
	pe->has_target_pid = true;
	pe->target_pid = pid;
	/*
	 * CRIU's restore opens nspid as a pid of the restored tree's namespace:
	 * 0 makes it fail (pidfd_open(0) is EINVAL) instead of opening another
	 * process that got the number. Ours reads target_pid.
	 */
	pe->nspid = 0;
	pe->has_pidfs_ino = true;
	pe->pidfs_ino = p->stat.st_ino;
	if (!boot_id[0] && read_boot_id(boot_id, sizeof(boot_id)))
		return pr_fail(-EIO, "can't read the boot id\n");
	pe->boot_id = boot_id;

	fh->handle_bytes = PIDFD_HANDLE_MAX;
	if (!name_to_handle_at(p->lfd, "", fh, &mnt_id, AT_EMPTY_PATH)) {
		pe->has_file_handle = true;
		pe->file_handle.len = fh->handle_bytes;
		pe->file_handle.data = xmalloc(fh->handle_bytes);
		if (!pe->file_handle.data)
			return -ENOMEM;
		memcpy(pe->file_handle.data, fh->f_handle, fh->handle_bytes);
		pe->has_file_handle_type = true;
		pe->file_handle_type = fh->handle_type;
	}

	/* Start time from /proc/PID, valid only if PID is still that process after reading. */
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check = sys_pidfd_open(pid, 0);
	if (dfd >= 0 && check >= 0 && !fstat(check, &cs) && cs.st_ino == p->stat.st_ino) {
		ret = parse_pid_stat(dfd, &st);
		if (!ret) {
			pe->has_start_time = true;
			pe->start_time = st.start_time;
		}
	}
	pr_info("fd %d of task %d: pidfd of process %d outside the dumped tree (pidfs ino %llu)\n", p->fd,
		p->item->pid, pid, (unsigned long long)p->stat.st_ino);
	return 0;
}

static int pidfd_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	PidfdEntry pe = PIDFD_ENTRY__INIT;
	const char *pid_s = fdinfo_get(&p->fdinfo, "Pid"), *nspid_s = fdinfo_get(&p->fdinfo, "NSpid");
	struct pstree_item *t;
	FownEntry fown;
	int thread_idx = 0, ret = 0;
	pid_t pid;

	if (!pid_s)
		return pr_fail(-EINVAL, "fd %d of task %d: a pidfd without Pid: in fdinfo\n", p->fd, p->item->pid);
	pid = atoi(pid_s);

	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	pe.id = id;
	pe.ino = p->stat.st_ino;
	/* CRIU's meaning: the pidfd_open() flags (the file's flags without its O_RDWR) */
	pe.flags = p->flags & ~O_ACCMODE;
	pe.nspid = nspid_s ? last_pid_of(nspid_s) : pid;
	pe.fown = &fown;
	pe.has_is_thread = true;
	pe.is_thread = !!(p->flags & PIDFD_THREAD);

	if (pid == -1 && p->item->ns_depth) {
		/* its stand-in is made in the tree's pid namespace: outside the holder's it would answer EINVAL */
		ret = pr_fail(-EOPNOTSUPP,
			      "fd %d of task %d: a pidfd of a reaped process, held in a pid namespace nested below the "
			      "tree's: which namespace the process was in is not known, its answers would not be "
			      "restored\n",
			      p->fd, p->item->pid);
	} else if (pid == -1) {
		ret = dump_reaped(&pe, p);
	} else if (pid == 0) {
		ret = pr_fail(-EOPNOTSUPP, "fd %d of task %d: a pidfd of a process outside criu's pid namespace\n",
			      p->fd, p->item->pid);
	} else if ((t = pstree_find_tid(ctx->tree, pid, &thread_idx))) {
		pe.has_target_kind = true;
		pe.has_target_pid = true;
		/* "Pid:" is criu's view; the image holds the pid the tree sees (its own pid namespace) */
		pe.target_pid = item_vtid(t, thread_idx);
		if (pe.is_thread)
			pe.target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_THREAD;
		else if (t->state == TASK_DEAD)
			pe.target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_ZOMBIE;
		else
			pe.target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_TASK;
	} else {
		ret = dump_external(&pe, p, pid);
	}

	if (!ret) {
		fe.type = FD_TYPES__PIDFD;
		fe.id = id;
		fe.pidfd = &pe;
		ret = write_file_entry(ctx, &fe);
	}
	free(pe.file_handle.data);
	return ret;
}

/* ---------- restore ---------- */

/* A stand-in for a process that has exited: it exits with the status, once told to. */
struct dead_helper {
	struct dead_helper *next;
	uint64_t ino;		/* dumped pidfs inode of the process it stands for */
	int status;		/* wait status to end with */
	pid_t pid;
	int go_fd;		/* write end: closing it lets the helper exit */
};

/* the helpers standing for exited processes, in the ctx (rst_files_state()) */
struct pidfd_rst {
	struct dead_helper *helpers;
};
static const char pidfd_rst_key;

static struct pidfd_rst *pidfd_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &pidfd_rst_key, sizeof(struct pidfd_rst));
}

static void __attribute__((noreturn)) helper_main(int proc_fd, int go_fd, int status)
{
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	exit_with_status(proc_fd, status, NULL);
}

/*
 * A helper of a tree with a pid namespace of its own is forked into that
 * namespace (criu's pid_for_children set to it for the fork): a pidfd of a
 * process outside the caller's pid namespace answers EINVAL, not ESRCH, to
 * pidfd_send_signal and has no PIDFD_INFO_EXIT. Every task exists by now, so
 * the helper takes no pid the tree needs.
 */
static pid_t fork_helper(struct rst_ctx *ctx)
{
	_cleanup_close_ int own = -1, tree = -1;
	char path[64];
	pid_t pid;

	if (!rst_own_pidns(ctx))
		return fork();
	snprintf(path, sizeof(path), "%d/ns/pid", rst_real_pid(ctx, ctx->tree.root->pid));
	own = openat(ctx->proc_fd, "self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	tree = openat(ctx->proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (own < 0 || tree < 0 || setns(tree, CLONE_NEWPID))
		return -1;
	pid = fork();
	if (pid && setns(own, CLONE_NEWPID)) {
		pr_fail_errno("can't go back to criu's pid namespace for children");
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	return pid;
}

static struct dead_helper *get_helper(struct rst_ctx *ctx, uint64_t ino, int status)
{
	struct pidfd_rst *st = pidfd_rst(ctx);
	struct dead_helper *h;
	int p[2];

	if (!st)
		return NULL;
	for (h = st->helpers; h; h = h->next)
		if (h->ino == ino)
			return h;
	h = xzalloc(sizeof(*h));
	if (!h)
		return NULL;
	if (pipe2(p, O_CLOEXEC)) {
		free(h);
		return NULL;
	}
	h->ino = ino;
	h->status = status;
	h->pid = fork_helper(ctx);
	if (h->pid < 0) {
		close(p[0]);
		close(p[1]);
		free(h);
		return NULL;
	}
	if (h->pid == 0) {
		close(p[1]);
		helper_main(ctx->proc_fd, p[0], status);
	}
	close(p[0]);
	h->go_fd = p[1];
	h->next = st->helpers;
	st->helpers = h;
	pr_debug("helper %d stands for the exited process of pidfs ino %llu (status 0x%x)\n", h->pid,
		 (unsigned long long)ino, status);
	return h;
}

static unsigned int open_flags(const PidfdEntry *pe)
{
	return pe->flags & (PIDFD_NONBLOCK | PIDFD_THREAD);
}

static int open_dead(struct rst_ctx *ctx, const PidfdEntry *pe, int status, int *ret_fd)
{
	struct dead_helper *h = get_helper(ctx, pe->ino, status);
	int fd;

	if (!h)
		return pr_fail(-errno ?: -ENOMEM, "can't start a helper for pidfd %u: %s\n", pe->id, strerror(errno));
	fd = sys_pidfd_open(h->pid, open_flags(pe));
	if (fd < 0)
		return pr_fail_errno("can't open a pidfd of helper %d", h->pid);
	*ret_fd = fd;
	return 0;
}

/* An fd on the same pidfs inode as recorded, or -ESTALE. */
static int reopen_same_process(const PidfdEntry *pe, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (pe->has_file_handle && pe->file_handle.len <= PIDFD_HANDLE_MAX && !(pe->flags & PIDFD_THREAD)) {
		char buf[sizeof(struct file_handle) + PIDFD_HANDLE_MAX];
		struct file_handle *fh = (struct file_handle *)buf;

		fh->handle_bytes = pe->file_handle.len;
		fh->handle_type = pe->has_file_handle_type ? pe->file_handle_type : 0;
		memcpy(fh->f_handle, pe->file_handle.data, pe->file_handle.len);
		/* no O_CLOEXEC here: it would stay in the file's status flags (F_GETFL) */
		fd = open_by_handle_at(FD_PIDFS_ROOT, fh, O_RDWR | (pe->flags & O_NONBLOCK));
		if (fd >= 0)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (fd < 0 && pe->has_target_pid)
		fd = sys_pidfd_open(pe->target_pid, open_flags(pe));
	if (fd < 0)
		return -ESTALE;
	if (fstat(fd, &st))
		return -errno;
	/* The kernel never reuses pidfs inode numbers: same inode, same process. */
	if (!pe->has_pidfs_ino || st.st_ino != pe->pidfs_ino)
		return -ESTALE;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int open_external(struct rst_ctx *ctx, const PidfdEntry *pe, int *ret_fd)
{
	char boot_id[64] = "";
	int fd = -1, ret;

	for (int i = 0; i < opts.nr_pidfd_ext_maps; i++) {
		if (opts.pidfd_ext_maps[i].key != (unsigned long long)pe->target_pid)
			continue;
		fd = sys_pidfd_open(opts.pidfd_ext_maps[i].pid, open_flags(pe));
		if (fd < 0)
			return pr_fail_errno("--pidfd-map %d:%d: can't open a pidfd of %d", pe->target_pid,
				       opts.pidfd_ext_maps[i].pid, opts.pidfd_ext_maps[i].pid);
		pr_info("pidfd %u: outside process %d mapped to %d\n", pe->id, pe->target_pid,
			opts.pidfd_ext_maps[i].pid);
		*ret_fd = fd;
		return 0;
	}

	read_boot_id(boot_id, sizeof(boot_id));
	if (pe->boot_id && !strcmp(pe->boot_id, boot_id)) {
		ret = reopen_same_process(pe, &fd);
		if (!ret) {
			pr_info("pidfd %u: outside process %d is still there\n", pe->id, pe->target_pid);
			*ret_fd = fd;
			return 0;
		}
		pr_debug("pidfd %u: outside process %d: %s\n", pe->id, pe->target_pid, strerror(-ret));
	}
	if (opts.pidfd_external == PIDFD_EXT_STRICT)
		return pr_fail(-ESRCH,
			       "pidfd %u refers to process %d outside the tree, which is gone "
			       "(--pidfd-external=strict)\n",
			       pe->id, pe->target_pid);
	pr_warn("pidfd %u: outside process %d (pidfs ino %llu) is gone%s; restored as a pidfd of a process that "
		"has exited\n",
		pe->id, pe->target_pid, (unsigned long long)pe->pidfs_ino,
		pe->boot_id && strcmp(pe->boot_id, boot_id) ? " (another boot)" : "");
	/* We never saw its end: report it as killed, the least wrong guess. */
	return open_dead(ctx, pe, SIGKILL, ret_fd);
}

/*
 * A pidfd as CRIU 4.2 writes it (no target_kind): nspid is a task of the
 * tree (a thread with PIDFD_THREAD), or -1 for a process that was gone, of
 * which CRIU keeps no exit status: its restore makes a process and kills
 * it, and so does ours (SIGKILL). Pidfds of one dead process share ino.
 */
static int pidfd_from_criu(struct rst_ctx *ctx, PidfdEntry *pe)
{
	struct pstree_item *t;

	pe->has_target_kind = true;
	if (pe->nspid == -1) {
		pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_REAPED;
		pe->has_exit_status = true;
		pe->exit_status = SIGKILL;
		return 0;
	}
	t = pe->nspid > 0 ? pstree_find_tid(&ctx->tree, pe->nspid, NULL) : NULL;
	if (!t)
		return pr_fail(-EINVAL, "files.img: pidfd %u: nspid %d is not a task of the dumped tree\n", pe->id,
			       pe->nspid);
	pe->has_target_pid = true;
	pe->target_pid = pe->nspid;
	if (pe->flags & PIDFD_THREAD)
		pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_THREAD;
	else if (t->state == TASK_DEAD)
		pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_ZOMBIE;
	else
		pe->target_kind = PIDFD_TARGET_KIND__PIDFD_TGT_TASK;
	return 0;
}

static int pidfd_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	PidfdEntry *pe = d->fe->pidfd;

	if (!pe)
		return pr_fail(-EINVAL, "files.img: pidfd %u has no pidfd entry\n", d->id);
	if (!pe->has_target_kind)
		return pidfd_from_criu(ctx, pe);
	return 0;
}

static int pidfd_open_desc(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	PidfdEntry *pe = d->fe->pidfd;
	pid_t real;
	int fd;

	switch (pe->target_kind) {
	case PIDFD_TARGET_KIND__PIDFD_TGT_TASK:
	case PIDFD_TARGET_KIND__PIDFD_TGT_ZOMBIE:
	case PIDFD_TARGET_KIND__PIDFD_TGT_THREAD:
		if (!pe->has_target_pid || !pstree_find_tid(&ctx->tree, pe->target_pid, NULL))
			return pr_fail(-EINVAL, "pidfd %u refers to %d, which is not in the restored tree\n", pe->id,
				       pe->has_target_pid ? pe->target_pid : 0);
		/* the image has the pid the tree sees; criu opens it by the pid it sees itself */
		real = rst_real_pid(ctx, pe->target_pid);
		fd = real > 0 ? sys_pidfd_open(real, open_flags(pe)) : -1;
		if (fd < 0)
			return pr_fail(real > 0 ? -errno : -ESRCH, "can't open a pidfd of restored %d (%d to criu): %s\n",
				       pe->target_pid, real, real > 0 ? strerror(errno) : "not found");
		*ret_fd = fd;
		return 0;
	case PIDFD_TARGET_KIND__PIDFD_TGT_REAPED:
		if (!pe->has_exit_status)
			return pr_fail(-EINVAL, "pidfd %u: reaped target without an exit status\n", pe->id);
		return open_dead(ctx, pe, pe->exit_status, ret_fd);
	case PIDFD_TARGET_KIND__PIDFD_TGT_EXTERNAL:
		return open_external(ctx, pe, ret_fd);
	default:
		return pr_fail(-EINVAL, "pidfd %u: unknown target kind %d\n", pe->id, pe->target_kind);
	}
}

/* Every pidfd of the dead is open: let the helpers end and reap them. */
static int pidfd_stage_done(struct rst_ctx *ctx)
{
	struct pidfd_rst *st = pidfd_rst(ctx);
	int ret = 0;

	for (struct dead_helper *h = st ? st->helpers : NULL; h; h = h->next) {
		int status;

		if (h->go_fd >= 0) {
			close(h->go_fd);
			h->go_fd = -1;
		}
		if (h->pid > 0) {
			if (waitpid(h->pid, &status, 0) != h->pid)
				ret = pr_fail_errno("can't reap helper %d", h->pid);
			else {
				char what[64];

				snprintf(what, sizeof(what), "the helper %d of a reaped process", h->pid);
				ret = check_exit_status(ctx->proc_fd, what, status, h->status) ?: ret;
			}
			h->pid = 0;
		}
	}
	return ret;
}

static void pidfd_cleanup(struct rst_ctx *ctx)
{
	struct pidfd_rst *st = pidfd_rst(ctx);

	while (st && st->helpers) {
		struct dead_helper *h = st->helpers;

		st->helpers = h->next;
		if (h->pid > 0) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
		}
		if (h->go_fd >= 0)
			close(h->go_fd);
		free(h);
	}
}

const struct file_type pidfd_file_type = {
	.name = "pidfd",
	.type = FD_TYPES__PIDFD,
	.detect = pidfd_detect,
	.dump = pidfd_dump,
	.collect = pidfd_collect,
	.open = pidfd_open_desc,
	.stage_done = pidfd_stage_done,
	.cleanup = pidfd_cleanup,
	.stage = FILE_OPEN_AFTER_TREE,
};
