// SPDX-License-Identifier: GPL-2.0
/*
 * File owners: the F_SETOWN / F_SETOWN_EX / F_SETSIG state of an open file
 * (the task, thread or process group that gets its SIGIO, the signal, and
 * the uid and euid of whoever set the owner, which decide whether the
 * signal may be sent), and the O_ASYNC flag that turns it on.
 *
 * Dump reads it from criu's copy of the file (the same struct file as the
 * task's): F_GETOWN_EX, F_GETSIG and F_GETOWNER_UIDS. The owner is stored as
 * the tree sees it (its own pid namespace, if any) and must be a task,
 * thread or process group of the tree, else the dump refuses.
 *
 * Restore sets O_ASYNC in each task once its fds are in place (the kernel
 * keeps the fd number that set it, for si_fd), and the owner on the
 * controller's open file once every task is morphed, right before the tree
 * runs: the owner exists then with its pid, and nothing the restore does
 * afterwards can raise a SIGIO. An owner set under
 * other uids than criu's is set by a short-lived child of criu that takes
 * those uids (the kernel records the caller's uid and euid with the owner).
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "files.h"
#include "rst-ctx.h"
#include "restore.h"

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "fown: "

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

/* ===================== dump ===================== */

static const char *owner_kind(int type)
{
	switch (type) {
	case F_OWNER_TID:
		return "thread";
	case F_OWNER_PGRP:
		return "process group";
	default:
		return "process";
	}
}

/* The owner as the tree sees it, or -ESRCH when it is not part of the tree. */
static int owner_vpid(struct pstree *tree, const struct f_owner_ex *o, pid_t *ret_vpid)
{
	struct pstree_item *item;
	int idx;

	if (o->type == F_OWNER_PGRP) {
		for_each_pstree_item(tree, item) {
			if (item->pgid == o->pid) {
				*ret_vpid = item->vpid ? item->vpgid : item->pgid;
				return 0;
			}
		}
		return -ESRCH;
	}
	if (o->type != F_OWNER_TID && o->type != F_OWNER_PID)
		return -EINVAL;
	item = pstree_find_tid(tree, o->pid, &idx);
	if (!item)
		return -ESRCH;
	*ret_vpid = item_vtid(item, idx);
	return 0;
}

int fd_read_owner(struct fd_parms *p)
{
	struct f_owner_ex o = {};
	int sig;

	if (p->flags & O_PATH)
		return 0;	/* no owner; fill_fown() reads nothing either */
	if (fcntl(p->lfd, F_GETOWN_EX, &o))
		return -errno;
	sig = fcntl(p->lfd, F_GETSIG);
	if (sig < 0)
		return -errno;
	p->own = (struct fd_owner_read){ .done = true, .type = o.type, .pid = o.pid, .sig = sig };
	return 0;
}

int fill_fown(const struct dump_files_ctx *ctx, const struct fd_parms *p, FownEntry *fown)
{
	struct pstree *tree = ctx->tree;
	struct f_owner_ex o = {};
	uid_t uids[2] = { 0, 0 };
	int sig, ret;
	pid_t vpid;

	fown_entry__init(fown);
	if (!p->item || p->fd < 0)
		return 0;	/* criu's own reopen (a mapping, the exe): no owner */
	if (p->flags & O_PATH)
		return 0;	/* fcntl() can't give an O_PATH file an owner: there is none */
	if (p->own.done) {	/* read ahead (fds-ahead.c) */
		o.type = p->own.type;
		o.pid = p->own.pid;
		sig = p->own.sig;
	} else {
		if (fcntl(p->lfd, F_GETOWN_EX, &o))
			return pr_fail_errno("fd %d of task %d: F_GETOWN_EX", p->fd, p->item->pid);
		sig = fcntl(p->lfd, F_GETSIG);
		if (sig < 0)
			return pr_fail_errno("fd %d of task %d: F_GETSIG", p->fd, p->item->pid);
	}
	fown->signum = sig;
	/*
	 * No owner, or one that reads back as pid 0: F_OWNER_PID naming a
	 * thread that is not a leader (the kernel keeps it, but nothing can
	 * see it or get a signal from it). The type is kept for F_GETOWN_EX.
	 */
	fown->pid_type = o.type;
	if (!o.pid)
		return 0;

	if (fcntl(p->lfd, F_GETOWNER_UIDS, uids))
		return pr_fail(-errno,
			       "fd %d of task %d has an owner (F_SETOWN), but the kernel can't tell whose uids set it "
			       "(F_GETOWNER_UIDS: %s)\n",
			       p->fd, p->item->pid, strerror(errno));
	ret = tree ? owner_vpid(tree, &o, &vpid) : -ESRCH;
	if (ret)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d (%s): its owner (F_SETOWN) is %s %d, which is not part of the "
			       "dumped tree\n",
			       p->fd, p->item->pid, p->link, owner_kind(o.type), o.pid);
	fown->uid = uids[0];
	fown->euid = uids[1];
	fown->pid_type = o.type;
	fown->pid = vpid;
	pr_debug("fd %d of %d: owner %s %d (%d in the tree), signal %d, uid %u euid %u\n", p->fd, p->item->pid,
		 owner_kind(o.type), o.pid, vpid, sig, uids[0], uids[1]);
	return 0;
}

/* ===================== restore ===================== */

/* The owner and the status flags of a restored object, wherever its type keeps them. */
int file_fown_flags(struct rst_ctx *ctx, const struct file_desc *d, const FownEntry **ret_fown, uint32_t *ret_flags)
{
	const FileEntry *fe = d->fe;
	const struct file_desc *rd;

#define FOWN_OF(member)                                \
	do {                                           \
		if (fe->member) {                      \
			*ret_fown = fe->member->fown;  \
			*ret_flags = fe->member->flags; \
			return 0;                      \
		}                                      \
	} while (0)

	FOWN_OF(reg);
	FOWN_OF(pipe);
	FOWN_OF(efd);
	FOWN_OF(epfd);
	FOWN_OF(sgfd);
	FOWN_OF(tfd);
	FOWN_OF(ify);
	FOWN_OF(usk);
	FOWN_OF(isk);
	FOWN_OF(tty);
	FOWN_OF(memfd);
	FOWN_OF(pidfd);
#undef FOWN_OF
	if (fe->fifo) {
		/* a FIFO keeps its path, flags and owner in a regular-file record */
		rd = fe->fifo->has_regf_id ? find_file_desc(ctx, fe->fifo->regf_id) : NULL;
		if (!rd || !rd->fe->reg)
			return -EINVAL;
		*ret_fown = rd->fe->reg->fown;
		*ret_flags = rd->fe->reg->flags;
		return 0;
	}
	return -ENOENT;
}

/* Set owner and signal on fd as the task that set them had it, with criu's current uids. */
static int set_fown(struct rst_ctx *ctx, const struct file_desc *d, int fd, const FownEntry *fown)
{
	struct f_owner_ex o = { .type = fown->pid_type };

	if (fown->signum && fcntl(fd, F_SETSIG, fown->signum))
		return pr_fail_errno("file %u: can't set its signal (F_SETSIG %u)", d->id, fown->signum);
	if (!fown->pid) {
		if (fown->pid_type && fcntl(fd, F_SETOWN_EX, &o))
			return pr_fail_errno("file %u: can't set its owner type %u", d->id, fown->pid_type);
		return 0;
	}
	o.pid = rst_real_pid(ctx, fown->pid);
	if (!o.pid)
		return pr_fail(-ESRCH, "file %u: its owner %s %u is not a restored task\n", d->id,
			       owner_kind(fown->pid_type), fown->pid);
	if (fcntl(fd, F_SETOWN_EX, &o))
		return pr_fail_errno("file %u: can't make %s %u its owner", d->id, owner_kind(fown->pid_type),
			       fown->pid);
	return 0;
}

/*
 * The same, with the uids the owner was set with. Only in a child of criu:
 * the raw syscall changes this thread's creds, which a child throws away.
 */
static int set_fown_as(struct rst_ctx *ctx, const struct file_desc *d, int fd, const FownEntry *fown, uid_t ruid, uid_t euid)
{
	int ret;

	if (syscall(SYS_setresuid, fown->uid, fown->euid, -1))
		return pr_fail_errno("file %u: can't take uid %u euid %u to set its owner", d->id, fown->uid,
			       fown->euid);
	ret = set_fown(ctx, d, fd, fown);
	if (syscall(SYS_setresuid, ruid, euid, -1) && !ret)
		ret = pr_fail_errno("can't take back uid %u euid %u", ruid, euid);
	return ret;
}

static bool needs_other_uids(const FownEntry *fown, uid_t ruid, uid_t euid)
{
	return fown->pid && (fown->uid != ruid || fown->euid != euid);
}

/*
 * Without other_uids: the owner and signal of every file whose owner was set
 * under criu's uids (the others are counted in *ret_nr_other). With
 * other_uids: those of the others.
 */
static int restore_fowns_pass(struct rst_ctx *ctx, bool other_uids, uid_t ruid, uid_t euid, int *ret_nr_other)
{
	struct file_desc *d;
	int nr_other = 0;

	for_each_file_desc(ctx, d) {
		const FownEntry *fown = NULL;
		uint32_t flags;
		int fd = file_desc_ctl_fd(ctx, d), ret = 0;
		bool other;

		if (fd < 0 || file_fown_flags(ctx, d, &fown, &flags))
			continue;
		if (!fown)
			return pr_fail(-EINVAL, "files.img: file %u has no fown entry\n", d->id);
		other = needs_other_uids(fown, ruid, euid);
		nr_other += other;
		if (!other_uids && !other)
			ret = set_fown(ctx, d, fd, fown);
		else if (other_uids && other)
			ret = set_fown_as(ctx, d, fd, fown, ruid, euid);
		if (ret)
			return ret;
	}
	if (ret_nr_other)
		*ret_nr_other = nr_other;
	return 0;
}

int restore_fowns(struct rst_ctx *ctx)
{
	uid_t ruid, euid, suid;
	int nr_other = 0, status, ret;
	pid_t pid;

	if (getresuid(&ruid, &euid, &suid))
		return pr_fail_errno("getresuid");
	ret = restore_fowns_pass(ctx, false, ruid, euid, &nr_other);
	if (ret || !nr_other)
		return ret;

	pid = fork();
	if (pid < 0)
		return pr_fail_errno("can't fork to set file owners");
	if (pid == 0)
		_exit(restore_fowns_pass(ctx, true, ruid, euid, NULL) ? 1 : 0);
	if (waitpid(pid, &status, __WALL) != pid)
		return pr_fail_errno("can't wait for the child that sets file owners");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return pr_fail(-EIO, "the child that sets file owners failed (status 0x%x)\n", status);
	pr_debug("%d file owners set under other uids\n", nr_other);
	return 0;
}

/*
 * In a restored task, once fd is in place: O_ASYNC as dumped. The kernel
 * remembers the fd number that turned O_ASYNC on and reports it as si_fd, so
 * it is turned off and on again here, where the fd has its dumped number
 * (the controller that opened the file had another).
 */
int restore_fd_async(struct rst_ctx *ctx, const struct file_desc *d, int fd)
{
	const FownEntry *fown;
	uint32_t flags;
	int cur;

	if (file_fown_flags(ctx, d, &fown, &flags))
		return 0;
	cur = fcntl(fd, F_GETFL);
	if (cur < 0)
		return pr_fail_errno("fd %d (file %u): F_GETFL", fd, d->id);
	if (!(cur & O_ASYNC) && !(flags & O_ASYNC))
		return 0;
	if ((cur & O_ASYNC) && fcntl(fd, F_SETFL, cur & ~O_ASYNC))
		return pr_fail_errno("fd %d (file %u): can't clear O_ASYNC", fd, d->id);
	if ((flags & O_ASYNC) && fcntl(fd, F_SETFL, cur | O_ASYNC))
		return pr_fail_errno("fd %d (file %u): can't set O_ASYNC", fd, d->id);
	return 0;
}
