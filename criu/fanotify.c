// SPDX-License-Identifier: GPL-2.0
/*
 * fanotify groups (CRIU's fanotify_file_entry). From the group's fdinfo:
 *   "fanotify flags:F event-flags:E"             fanotify_init()'s two arguments
 *   "fanotify ino:I sdev:D mflags:M mask:K ignored_mask:X fhandle-bytes:N fhandle-type:T f_handle:HEX"
 *                                                 a mark on an inode
 *   "fanotify mnt_id:N mflags:M mask:K ignored_mask:X"   a mark on a mount
 *   "fanotify sdev:D mflags:M mask:K ignored_mask:X"     a mark on a filesystem
 * (all hex). An inode mark keeps the inode's file handle and, as inotify's
 * watches do (fsnotify.c), the path criu finds for it; a mount mark keeps
 * the mount point's path and device, checked at restore.
 *
 * Restore, in the controller: fanotify_init() with the dumped flags, then
 * each mark with fanotify_mark(): the mask, then the ignored mask
 * (FAN_MARK_IGNORED_MASK), each with the mark's flags
 * (FAN_MARK_IGNORED_SURV_MODIFY).
 *
 * Refused at dump, by name: events queued and not read yet (they hold open
 * files of the watched objects; a restore would lose them), a mark on a
 * filesystem (CRIU's image has no kind for it), mark flags other than
 * FAN_MARK_IGNORED_SURV_MODIFY, a mark on a removed file.
 *
 * In a tree with its own mount namespace, an inode mark keeps the mount of
 * that namespace through which criu found the inode and the path below it
 * (FhEntry mnt_id and path), a mount mark its mount's id; restore opens
 * both in the rebuilt mounts.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "image.h"
#include "mount.h"
#include "protobuf.h"
#include "pstree.h"
#include "rst-ctx.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "fanotify: "

#define FH_WORDS (INOTIFY_FH_MAX / sizeof(uint64_t))
/* the mark flags fdinfo shows that a restore gives back */
#define FAN_MFLAGS_KNOWN FAN_MARK_IGNORED_SURV_MODIFY

struct fan_mark_line {
	int type;	/* MARK_TYPE__INODE, MARK_TYPE__MOUNT, 0: a filesystem */
	unsigned int sdev, mflags, mask, ignored_mask, mnt_id, fh_bytes;
	int fh_type;
	unsigned long long ino;
	unsigned char fh[INOTIFY_FH_MAX];
};

static bool fanotify_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:[fanotify]");
}

static int parse_fh(const char *hex, unsigned char *out, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (unsigned char)b;
	}
	return 0;
}

/* One mark line: key is "fanotify ino", "fanotify mnt_id" or "fanotify sdev", val the rest. */
static int parse_mark(const char *key, const char *val, struct fan_mark_line *m)
{
	const char *h;
	int n;

	memset(m, 0, sizeof(*m));
	if (!strcmp(key, "fanotify ino")) {
		m->type = MARK_TYPE__INODE;
		if (sscanf(val, "%llx sdev:%x mflags:%x mask:%x ignored_mask:%x fhandle-bytes:%x fhandle-type:%x%n",
			   &m->ino, &m->sdev, &m->mflags, &m->mask, &m->ignored_mask, &m->fh_bytes, &m->fh_type,
			   &n) != 7)
			return -EINVAL;
		h = strstr(val + n, "f_handle:");
		if (!h || m->fh_bytes > INOTIFY_FH_MAX || strlen(h + 9) < 2 * m->fh_bytes)
			return -EINVAL;
		return parse_fh(h + 9, m->fh, m->fh_bytes);
	}
	if (!strcmp(key, "fanotify mnt_id")) {
		m->type = MARK_TYPE__MOUNT;
		return sscanf(val, "%x mflags:%x mask:%x ignored_mask:%x", &m->mnt_id, &m->mflags, &m->mask,
			      &m->ignored_mask) == 4 ? 0 : -EINVAL;
	}
	if (!strcmp(key, "fanotify sdev"))
		return sscanf(val, "%x mflags:%x mask:%x ignored_mask:%x", &m->sdev, &m->mflags, &m->mask,
			      &m->ignored_mask) == 4 ? 0 : -EINVAL;
	return -ENOENT;
}

/* ------------------------------------------------------ dump */

/* The mount point and device of mount mnt_id, from the task's mountinfo. */
static int mount_of_id(const struct fd_parms *p, unsigned int mnt_id, char **path, unsigned int *dev)
{
	_cleanup_close_ int fd = openat(p->item->proc_dfd, "mountinfo", O_RDONLY | O_CLOEXEC);
	_cleanup_fclose_ FILE *f = fd < 0 ? NULL : fdopen(dup(fd), "re");
	char line[4096], mnt[PATH_MAX];
	unsigned int id, ma, mi;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %*u %u:%u %*s %4095s", &id, &ma, &mi, mnt) != 4 || id != mnt_id)
			continue;
		*path = xstrdup(mnt);
		*dev = (unsigned int)makedev(ma, mi);
		return *path ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

/* A removed file's mark can't come back: once the tree is gone, so is the inode. */
static int refuse_removed(const struct fd_parms *p, const struct fan_mark_line *l, int fd)
{
	struct stat st;

	if (!fstat(fd, &st) && st.st_nlink == 0 && !S_ISDIR(st.st_mode))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: fanotify mark on a removed file (inode %llu)\n", p->fd,
			       p->item->pid, l->ino);
	return 0;
}

/*
 * An inode mark of a task in the tree's own mount namespace: the inode is
 * found through a mount of that namespace, and kept as that mount and the
 * path below it (restore opens it in the rebuilt mount, as inotify does).
 */
static int fill_tree_inode_mark(const struct pstree *t, const struct fd_parms *p, const struct fan_mark_line *l,
				FhEntry *fe)
{
	char buf[sizeof(struct file_handle) + INOTIFY_FH_MAX], path[PATH_MAX];
	struct file_handle *fh = (struct file_handle *)buf;
	_cleanup_close_ int fd = -1;
	int mnt_id, ret;

	fh->handle_bytes = l->fh_bytes;
	fh->handle_type = l->fh_type;
	memcpy(fh->f_handle, l->fh, l->fh_bytes);
	ret = mntns_open_handle(t, p->item, l->sdev, fh, &fd, &mnt_id, path, sizeof(path));
	if (ret)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: fanotify mark on inode %llu of device %u:%u, on no mount of the "
			       "tree's mount namespace through which criu finds it again\n",
			       p->fd, p->item->pid, l->ino, KDEV_MAJOR(l->sdev), KDEV_MINOR(l->sdev));
	ret = refuse_removed(p, l, fd);
	if (ret)
		return ret;
	fe->path = xstrdup(path);
	fe->has_mnt_id = true;
	fe->mnt_id = mnt_id;
	return fe->path ? 0 : -ENOMEM;
}

static int fill_inode_mark(const struct pstree *t, const struct fd_parms *p, const struct fan_mark_line *l,
			   FanotifyInodeMarkEntry *ie, FhEntry *fh)
{
	_cleanup_close_ int fd = -1;
	int ret;

	ie->i_ino = l->ino;
	ie->f_handle = fh;
	fh->bytes = l->fh_bytes;
	fh->type = l->fh_type;
	fh->n_handle = FH_WORDS;
	fh->handle = xzalloc(FH_WORDS * sizeof(uint64_t));
	if (!fh->handle)
		return -ENOMEM;
	memcpy(fh->handle, l->fh, l->fh_bytes);
	if (t && mntns_of(t, p->item))
		return fill_tree_inode_mark(t, p, l, fh);
	if (fsnotify_open_handle(l->sdev, l->fh_type, l->fh, l->fh_bytes, &fd))
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: fanotify mark on inode %llu of device %u:%u: no mount of it where criu "
			       "can open it again\n",
			       p->fd, p->item->pid, l->ino, KDEV_MAJOR(l->sdev), KDEV_MINOR(l->sdev));
	ret = refuse_removed(p, l, fd);
	if (ret)
		return ret;
	fh->path = fsnotify_path_of_fd(fd);
	return 0;
}

static int fill_mark(const struct pstree *t, const struct fd_parms *p, uint32_t id, const struct fan_mark_line *l,
		     FanotifyMarkEntry *me,
		     FanotifyInodeMarkEntry *ie, FanotifyMountMarkEntry *mme, FhEntry *fh)
{
	int ret;

	if (!l->type)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: a fanotify mark on a whole filesystem (device %u:%u, "
			       "FAN_MARK_FILESYSTEM), which criu does not restore\n",
			       p->fd, p->item->pid, KDEV_MAJOR(l->sdev), KDEV_MINOR(l->sdev));
	if (l->mflags & ~FAN_MFLAGS_KNOWN)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: a fanotify mark with flags %#x, which criu does not restore\n",
			       p->fd, p->item->pid, l->mflags & ~FAN_MFLAGS_KNOWN);
	me->id = id;
	me->type = l->type;
	me->mflags = l->mflags;
	me->mask = l->mask;
	me->ignored_mask = l->ignored_mask;
	me->s_dev = l->sdev;
	if (l->type == MARK_TYPE__INODE) {
		me->ie = ie;
		return fill_inode_mark(t, p, l, ie, fh);
	}
	me->me = mme;
	mme->mnt_id = l->mnt_id;
	ret = mount_of_id(p, l->mnt_id, &mme->path, &me->s_dev);
	if (ret)
		return pr_fail(ret, "fd %d of task %d: fanotify mark on mount %u, which its mountinfo does not show\n",
			       p->fd, p->item->pid, l->mnt_id);
	return 0;
}

struct fan_marks {
	FanotifyMarkEntry *m, **ptrs;
	FanotifyInodeMarkEntry *ie;
	FanotifyMountMarkEntry *me;
	FhEntry *fh;
	int n;
};

static void free_marks(struct fan_marks *ms)
{
	for (int i = 0; i < ms->n; i++) {
		free(ms->fh[i].handle);
		free(ms->fh[i].path);
		free(ms->me[i].path);
	}
	free(ms->m);
	free(ms->ptrs);
	free(ms->ie);
	free(ms->me);
	free(ms->fh);
}

static int collect_marks(const struct pstree *t, const struct fd_parms *p, uint32_t id, struct fan_marks *ms)
{
	int nr = p->fdinfo.nr_extra;

	ms->m = xzalloc(sizeof(*ms->m) * (nr + 1));
	ms->ptrs = xzalloc(sizeof(*ms->ptrs) * (nr + 1));
	ms->ie = xzalloc(sizeof(*ms->ie) * (nr + 1));
	ms->me = xzalloc(sizeof(*ms->me) * (nr + 1));
	ms->fh = xzalloc(sizeof(*ms->fh) * (nr + 1));
	if (!ms->m || !ms->ptrs || !ms->ie || !ms->me || !ms->fh)
		return -ENOMEM;
	for (int i = 0; i < nr; i++) {
		const struct fdinfo_kv *kv = &p->fdinfo.extra[i];
		struct fan_mark_line l;
		int k = ms->n, ret;

		ret = parse_mark(kv->key, kv->val, &l);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return pr_fail(ret, "fd %d of task %d: can't parse the fanotify mark '%s:%s'\n", p->fd,
				       p->item->pid, kv->key, kv->val);
		fanotify_mark_entry__init(&ms->m[k]);
		fanotify_inode_mark_entry__init(&ms->ie[k]);
		fanotify_mount_mark_entry__init(&ms->me[k]);
		fh_entry__init(&ms->fh[k]);
		ms->ptrs[k] = &ms->m[k];
		ms->n++;
		ret = fill_mark(t, p, id, &l, &ms->m[k], &ms->ie[k], &ms->me[k], &ms->fh[k]);
		if (ret)
			return ret;
	}
	return 0;
}

static int fanotify_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FanotifyFileEntry fa = FANOTIFY_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	struct fan_marks ms = {};
	const char *g = fdinfo_get(&p->fdinfo, "fanotify flags");
	unsigned int faflags, evflags;
	FownEntry fown;
	int queued = 0, ret;

	if (!g || sscanf(g, "%x event-flags:%x", &faflags, &evflags) != 2)
		return pr_fail(-EINVAL, "fd %d of task %d: no readable 'fanotify flags' line in fdinfo\n", p->fd,
			       p->item->pid);
	/* the marks first: what they refuse says more than the events they let in */
	ret = collect_marks(ctx->tree, p, id, &ms) ?: fill_fown(ctx, p, &fown);
	if (!ret && ioctl(p->lfd, FIONREAD, &queued))
		ret = pr_fail_errno("fd %d of task %d: can't count the fanotify group's queued events", p->fd,
				    p->item->pid);
	if (!ret && queued)
		ret = pr_fail(-EOPNOTSUPP,
			      "fd %d of task %d: the fanotify group has %d bytes of events not read yet, which criu "
			      "can't restore\n",
			      p->fd, p->item->pid, queued);
	if (!ret) {
		fa.id = id;
		fa.flags = p->flags;
		fa.fown = &fown;
		fa.faflags = faflags;
		fa.evflags = evflags;
		fa.n_mark = ms.n;
		fa.mark = ms.ptrs;
		fe.type = FD_TYPES__FANOTIFY;
		fe.id = id;
		fe.ffy = &fa;
		pr_info("fd %d of task %d: flags %#x event flags %#x, %d marks\n", p->fd, p->item->pid, faflags, evflags,
			ms.n);
		ret = write_file_entry(ctx, &fe);
	}
	free_marks(&ms);
	return ret;
}

/* ------------------------------------------------------ restore */

static int fanotify_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	const FanotifyFileEntry *fa = d->fe->ffy;

	if (!fa)
		return pr_fail(-EINVAL, "files.img: fanotify %u has no fanotify entry\n", d->id);
	for (size_t i = 0; i < fa->n_mark; i++) {
		const FanotifyMarkEntry *m = fa->mark[i];
		const FhEntry *fh = m->ie ? m->ie->f_handle : NULL;

		if ((m->type == MARK_TYPE__INODE && (!fh || fh->bytes > INOTIFY_FH_MAX ||
						     fh->n_handle * sizeof(uint64_t) < fh->bytes)) ||
		    (m->type == MARK_TYPE__MOUNT && (!m->me || !m->me->path)) ||
		    (m->type != MARK_TYPE__INODE && m->type != MARK_TYPE__MOUNT) || (m->mflags & ~FAN_MFLAGS_KNOWN))
			return pr_fail(-EINVAL, "files.img: fanotify %u: bad mark %zu\n", d->id, i);
	}
	return 0;
}

/* An O_PATH fd of a mark's object: by handle, else by the path seen at dump (the same inode). */
static int open_marked(struct rst_ctx *ctx, const FanotifyMarkEntry *m, int *ret_fd)
{
	const FhEntry *fh = m->ie->f_handle;
	struct stat st;
	int fd, ret;

	/* in the tree's own mount namespace: below the rebuilt mount (fill_tree_inode_mark()) */
	if (ctx->mnt && fh->has_mnt_id && fh->path) {
		fd = mntns_open_file(ctx, fh->mnt_id, fh->path, O_PATH);
		if (fd < 0)
			return fd;
		*ret_fd = fd;
		return 0;
	}

	ret = fsnotify_open_handle(m->s_dev, fh->type, (const unsigned char *)fh->handle, fh->bytes, ret_fd);
	if (!ret || !fh->path)
		return ret;
	fd = open_img_path(fh->path, O_PATH | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && st.st_ino == m->ie->i_ino) {
		*ret_fd = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The mount point of a mount mark, which must still be a mount of the same device. */
static int open_mount_point(struct rst_ctx *ctx, const FanotifyMarkEntry *m, int *ret_fd)
{
	struct stat st;
	int fd;

	/* a mount the restore rebuilt (the tree's own namespace): that one, a new device (mount ids are unique) */
	if (ctx->mnt) {
		fd = mntns_open_file(ctx, m->me->mnt_id, m->me->path, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			*ret_fd = fd;
			return 0;
		}
		if (fd != -ENOENT)
			return fd;
	}
	fd = open_img_path(m->me->path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_dev != m->s_dev) {
		close(fd);
		return -ESTALE;
	}
	*ret_fd = fd;
	return 0;
}

static int add_mark(struct rst_ctx *ctx, int gfd, const FanotifyMarkEntry *m, uint32_t id)
{
	_cleanup_close_ int fd = -1;
	unsigned int kind = m->type == MARK_TYPE__MOUNT ? FAN_MARK_MOUNT : 0;
	char path[64];
	int ret;

	ret = m->type == MARK_TYPE__MOUNT ? open_mount_point(ctx, m, &fd) : open_marked(ctx, m, &fd);
	if (ret)
		return pr_fail(ret, "fanotify %u: can't find the %s of a mark (%s): %s\n", id,
			       m->type == MARK_TYPE__MOUNT ? "mount" : "inode",
			       m->type == MARK_TYPE__MOUNT ? m->me->path : (m->ie->f_handle->path ?: "no path"),
			       strerror(-ret));
	/* through /proc: fanotify_mark() takes no O_PATH fd as its object */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (m->mask && fanotify_mark(gfd, FAN_MARK_ADD | kind | m->mflags, m->mask, AT_FDCWD, path))
		return pr_fail_errno("fanotify %u: can't add a mark with mask %#x", id, m->mask);
	if (m->ignored_mask &&
	    fanotify_mark(gfd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | kind | m->mflags, m->ignored_mask, AT_FDCWD, path))
		return pr_fail_errno("fanotify %u: can't add a mark with ignored mask %#x", id, m->ignored_mask);
	return 0;
}

static int fanotify_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	const FanotifyFileEntry *fa = d->fe->ffy;
	/* the flags as given (fdinfo shows FAN_CLOEXEC too); criu's own copy is close-on-exec anyway */
	_cleanup_close_ int fd = fanotify_init(fa->faflags, fa->evflags);
	int ret;

	if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC))
		return pr_fail_errno("can't make fanotify group %u (flags %#x, event flags %#x)", d->id, fa->faflags,
				     fa->evflags);
	/* the kernel lists a group's marks newest first: added from the last, they list as dumped */
	for (size_t i = fa->n_mark; i-- > 0;) {
		ret = add_mark(ctx, fd, fa->mark[i], d->id);
		if (ret)
			return ret;
	}
	ret = anon_fd_restore_flags(fd, fa->flags, fa->fown);
	if (ret)
		return pr_fail(ret, "fanotify %u: can't restore its flags: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

const struct file_type fanotify_file_type = {
	.name = "fanotify",
	.type = FD_TYPES__FANOTIFY,
	.detect = fanotify_detect,
	.dump = fanotify_dump,
	.collect = fanotify_collect,
	.open = fanotify_open,
};
