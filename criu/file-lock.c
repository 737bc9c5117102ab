// SPDX-License-Identifier: GPL-2.0
/*
 * File locks and leases (--file-locks): flock() locks, POSIX record locks
 * (fcntl F_SETLK), open file description locks (F_OFD_SETLK) and leases
 * (F_SETLEASE), in CRIU's filelocks.img.
 *
 * Dump: every "lock:" line of an fd's fdinfo is a lock held through that
 * fd. The kernel prints a lock on the fds of the open file it was taken
 * through, and only in the task that owns it: a POSIX lock in its process
 * alone (owner: the fd table), a flock(), OFD lock or lease in every task
 * holding that open file (owner: the open file). One entry per lock: POSIX
 * ones per task, the others once per open file; each names the task (pid
 * as the tree sees it) and one of its fds.
 *
 * Restore: each task takes its locks again through its own fds at the end
 * of its files stage, before anything of it runs. An open file shared by
 * tasks is one open file again, so an flock(), OFD lock or lease taken by
 * one of them is theirs all.
 *
 * Refused at dump, naming the fd and the lock: any lock without
 * --file-locks (as CRIU); a lease being broken; a delegation or a lock kind
 * of no other name; a POSIX lock on a file the task also maps or runs: the
 * restore opens that file in the task to map it and closes it again, and
 * a close drops the process's POSIX locks on the file. Locks held through no
 * fd at all are refused by files-check.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "file-lock.h"
#include "files.h"
#include "image.h"
#include "log.h"
#include "protobuf.h"
#include "rst-ctx.h"

#include "file-lock.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "file-lock: "

/* file_lock_entry.flag and .type (CRIU's values) */
#define FLE_POSIX 1
#define FLE_FLOCK 2
#define FLE_OFD 4
#define FLE_LEASE 8
#define FLE_LEASE_BREAKING 4

/* ===================== dump ===================== */

/* The locks written so far, so that one seen through several fds is written once. */
struct lock_seen {
	uint32_t file_id;
	pid_t pid;		/* POSIX: the owning task; 0 for the others (owned by the open file) */
	FileLockEntry fle;
};

struct locks_dump {
	struct lock_seen *v;
	int nr;
};

static const char locks_key;

static void locks_dump_fini(void *state)
{
	struct locks_dump *ld = state;

	free(ld->v);
}

static int kind_flag(const char *kind)
{
	if (!strcmp(kind, "POSIX"))
		return FLE_POSIX;
	if (!strcmp(kind, "FLOCK"))
		return FLE_FLOCK;
	if (!strcmp(kind, "OFDLCK"))
		return FLE_OFD;
	if (!strcmp(kind, "LEASE"))
		return FLE_LEASE;
	return -1;
}

/* Does the task map the file of p, or run it? Then restore would drop a POSIX lock on it (above). */
static int task_maps_file(const struct fd_parms *p, bool *ret)
{
	struct proc_maps maps = {};
	struct stat exe;
	int r = parse_pid_maps(p->item->proc_dfd, &maps);

	if (r < 0)
		return pr_fail(r, "can't read the mappings of task %d: %s\n", p->item->pid, strerror(-r));
	*ret = false;
	for (int i = 0; i < maps.nr && !*ret; i++)
		*ret = maps.vmas[i].ino == p->stat.st_ino &&
		       makedev(maps.vmas[i].dev_major, maps.vmas[i].dev_minor) == p->stat.st_dev;
	proc_maps_free(&maps);
	if (!*ret && !fstatat(p->item->proc_dfd, "exe", &exe, 0))
		*ret = exe.st_ino == p->stat.st_ino && exe.st_dev == p->stat.st_dev;
	return 0;
}

/* The entry for one lock line of p's fdinfo; -EOPNOTSUPP (logged) for what restore can't take again. */
static int lock_entry(struct pstree *tree, const struct fd_parms *p, const struct file_lock_line *l,
		      FileLockEntry *fle)
{
	int flag = kind_flag(l->kind);
	bool mapped;
	int r;

	if (flag < 0)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d (%s) holds a %s %s: criu can't restore this kind of lock\n",
			       p->fd, p->item->pid, p->link, l->access, lock_kind_name(l->kind));
	if (flag == FLE_LEASE && strcmp(l->mode, "ACTIVE"))
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d (%s) holds a %s lease that is being broken (%s): criu can't restore "
			       "a lease break in progress\n",
			       p->fd, p->item->pid, p->link, l->access, l->mode);
	if (strcmp(l->access, "READ") && strcmp(l->access, "WRITE"))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d (%s) holds a %s %s: criu can't restore this lock type\n",
			       p->fd, p->item->pid, p->link, l->access, lock_kind_name(l->kind));
	if (flag == FLE_POSIX) {
		r = task_maps_file(p, &mapped);
		if (r)
			return r;
		if (mapped)
			return pr_fail(-EOPNOTSUPP,
				       "fd %d of task %d (%s) holds a %s %s on a file the task also maps or runs: "
				       "criu's restore would drop it\n",
				       p->fd, p->item->pid, p->link, l->access, lock_kind_name(l->kind));
	}
	file_lock_entry__init(fle);
	fle->flag = flag;
	fle->type = strcmp(l->access, "READ") ? F_WRLCK : F_RDLCK;
	fle->pid = p->item->vpid;
	if (flag == FLE_POSIX && tree) {
		/* taken by another process of a shared fd table: that one takes it again (task-share.c) */
		struct pstree_item *taker = pstree_find(tree, l->pid);

		if (taker && taker != p->item && taker->state != TASK_DEAD && taker->files_id == p->item->files_id)
			fle->pid = item_vpid(taker);
	}
	fle->fd = p->fd;
	fle->start = l->start;
	fle->len = l->end < 0 ? 0 : l->end - l->start + 1;
	return 0;
}

static bool same_lock(const FileLockEntry *a, const FileLockEntry *b)
{
	return a->flag == b->flag && a->type == b->type && a->start == b->start && a->len == b->len;
}

/* Record fle unless it is written already: 1 when new, 0 when seen, -ENOMEM. */
static int lock_note(struct locks_dump *ld, uint32_t file_id, const FileLockEntry *fle)
{
	pid_t owner = fle->flag == FLE_POSIX ? fle->pid : 0;
	struct lock_seen *n;

	for (int i = 0; i < ld->nr; i++)
		if (ld->v[i].file_id == file_id && ld->v[i].pid == owner && same_lock(&ld->v[i].fle, fle))
			return 0;
	n = xrealloc(ld->v, (ld->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ld->v = n;
	ld->v[ld->nr++] = (struct lock_seen){ .file_id = file_id, .pid = owner, .fle = *fle };
	return 1;
}

static int refuse_without_option(const struct fd_parms *p, const struct file_lock_line *l)
{
	return pr_fail(-EOPNOTSUPP,
		       "fd %d of task %d (%s) holds a %s %s: criu can't dump file locks without --file-locks\n",
		       p->fd, p->item->pid, p->link, l->access, lock_kind_name(l->kind));
}

int dump_fd_locks(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t file_id)
{
	struct locks_dump *ld = NULL;

	for (int i = 0; i < p->fdinfo.nr_extra; i++) {
		const struct fdinfo_kv *kv = &p->fdinfo.extra[i];
		struct file_lock_line l;
		FileLockEntry fle;
		struct cr_img *img;
		int r;

		if (strcmp(kv->key, "lock"))
			continue;
		if (parse_lock_line(kv->val, &l))
			return pr_fail(-EINVAL, "fd %d of task %d: can't parse 'lock: %s' of its fdinfo\n", p->fd,
				       p->item->pid, kv->val);
		if (l.waiter)
			continue;
		if (!opts.file_locks)
			return refuse_without_option(p, &l);
		r = lock_entry(ctx->tree, p, &l, &fle);
		if (r)
			return r;
		if (!ld)
			ld = dump_files_state(ctx, &locks_key, sizeof(*ld), locks_dump_fini);
		if (!ld)
			return -ENOMEM;
		r = lock_note(ld, file_id, &fle);
		if (r <= 0) {
			if (r < 0)
				return r;
			continue;
		}
		img = dump_files_img(ctx, CR_FD_FILE_LOCKS);
		if (!img)
			return -EIO;
		pr_info("task %d fd %d: %s %s %lld+%lld\n", p->item->pid, p->fd, l.access, lock_kind_name(l.kind),
			(long long)fle.start, (long long)fle.len);
		r = pb_write_one(img, &fle, PB_FILE_LOCK);
		if (r)
			return r;
	}
	return 0;
}

/* ===================== restore ===================== */

static const char *flag_name(uint32_t flag)
{
	switch (flag) {
	case FLE_POSIX:
		return "POSIX record lock";
	case FLE_FLOCK:
		return "flock() lock";
	case FLE_OFD:
		return "OFD lock";
	case FLE_LEASE:
		return "lease";
	}
	return "lock of an unknown kind";
}

/* Take the lock fle again through the task's own fd; 0 or -errno (not logged). */
static int take_lock(const FileLockEntry *fle)
{
	struct flock fl = { .l_type = fle->type, .l_whence = SEEK_SET, .l_start = fle->start, .l_len = fle->len };
	int r = -1;

	switch (fle->flag) {
	case FLE_FLOCK:
		r = flock(fle->fd, (fle->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
		break;
	case FLE_POSIX:
		r = fcntl(fle->fd, F_SETLK, &fl);
		break;
	case FLE_OFD:
		r = fcntl(fle->fd, F_OFD_SETLK, &fl);
		break;
	case FLE_LEASE:
		r = fcntl(fle->fd, F_SETLEASE, fle->type);
		break;
	}
	return r < 0 ? -errno : 0;
}

/* One entry of the task: checked, then taken. 0 or -errno (logged). */
static int restore_one_lock(const struct pstree_item *me, const FileLockEntry *fle)
{
	bool known = fle->flag == FLE_FLOCK || fle->flag == FLE_POSIX || fle->flag == FLE_OFD || fle->flag == FLE_LEASE;
	int ret;

	if (fle->flag == FLE_LEASE && (fle->type & FLE_LEASE_BREAKING))
		return pr_fail(-EOPNOTSUPP,
			       "task %d: filelocks.img holds a lease being broken on fd %d: criu can't restore a lease "
			       "break in progress\n",
			       me->pid, fle->fd);
	if (!known || (fle->type != F_RDLCK && fle->type != F_WRLCK))
		return pr_fail(-EINVAL, "task %d: filelocks.img: lock flag %u, type %u on fd %d is not one criu knows\n",
			       me->pid, fle->flag, fle->type, fle->fd);
	ret = take_lock(fle);
	if (ret)
		return pr_fail(ret, "task %d: can't take its %s %s on fd %d (from %lld, %lld bytes) again: %s\n",
			       me->pid, fle->type == F_WRLCK ? "WRITE" : "READ", flag_name(fle->flag), fle->fd,
			       (long long)fle->start, (long long)fle->len, strerror(-ret));
	return 0;
}

int restore_task_locks(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_FILE_LOCKS, O_RSTR);
	int ret, nr = 0;

	if (!img)
		return pr_fail(-errno, "task %d: can't open %s\n", me->pid, img_last_error());
	for (;;) {
		FileLockEntry *fle;

		ret = pb_read_one_eof(img, (void **)&fle, PB_FILE_LOCK);
		if (ret <= 0)
			break;
		ret = fle->pid == me->pid ? restore_one_lock(me, fle) : 0;
		nr += fle->pid == me->pid && !ret;
		pb_free(fle, PB_FILE_LOCK);
		if (ret < 0)
			break;
	}
	close_image(img);
	if (ret < 0)
		return ret;
	if (nr)
		pr_info("task %d: %d file locks taken again\n", me->pid, nr);
	return 0;
}
