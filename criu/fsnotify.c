// SPDX-License-Identifier: GPL-2.0
/*
 * inotify: the watches, from fdinfo lines
 *   "inotify wd:W ino:I sdev:D mask:M ignored_mask:X fhandle-bytes:N fhandle-type:T f_handle:HEX".
 * Each watch keeps the file handle of its inode, and (our addition, in the
 * handle's path field) the path criu finds for it at dump by opening the
 * handle, used when the handle no longer opens (another filesystem instance).
 *
 * Restore, in the controller: a new inotify instance; the watched inode is
 * reopened with open_by_handle_at() (O_PATH) on a mount of its device, and
 * the watch added through /proc/self/fd/N. Watch descriptors are kept: the
 * kernel hands out wds in increasing order from the last one given, so the
 * watches are added in wd order and, while the next wd would be too small,
 * the watch is removed and added again, which moves it one up. Each such
 * removal queues an IN_IGNORED event, so the queue is emptied at the end.
 *
 * Events queued but not read yet are refused at dump: nothing can put an
 * event back in a queue but the file system action that made it, and
 * dropping them would leave a program waiting for a change it never hears of.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "anon-fd.h"
#include "common.h"
#include "mount.h"
#include "file-ext.h"
#include "files.h"
#include "ghost.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "inotify: "

#define FH_WORDS (INOTIFY_FH_MAX / sizeof(uint64_t))
/* bumping a wd up costs two syscalls: refuse absurd distances */
#define WD_MAX_BUMPS (1 << 22)


static bool inotify_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:inotify");
}

/* ---------- dump ---------- */

static int parse_hex_bytes(const char *s, unsigned char *out, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = b;
	}
	return 0;
}

int inotify_parse_wd(const char *val, struct inotify_wd_line *w)
{
	const char *h;

	/* every number of the line is hex, the wd too */
	if (sscanf(val, "%x ino:%llx sdev:%x mask:%x ignored_mask:%x fhandle-bytes:%x fhandle-type:%x", &w->wd,
		   &w->ino, &w->sdev, &w->mask, &w->ignored_mask, &w->fh_bytes, &w->fh_type) != 7)
		return -EINVAL;
	h = strstr(val, "f_handle:");
	if (!h || w->fh_bytes > INOTIFY_FH_MAX || strlen(h + 9) < 2 * w->fh_bytes)
		return -EINVAL;
	return parse_hex_bytes(h + 9, w->fh, w->fh_bytes);
}

/* A mount of device (major, minor) from mountinfo, opened; -ENOENT if none. */
int fsnotify_open_mount_of(unsigned int major, unsigned int minor)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], root[PATH_MAX], mnt[PATH_MAX];
	unsigned int ma, mi;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &ma, &mi, root, mnt) != 4)
			continue;
		if (ma == major && mi == minor) {
			/* open_by_handle_at() refuses an O_PATH mount fd */
			int fd = open(mnt, O_RDONLY | O_CLOEXEC);

			if (fd >= 0)
				return fd;
		}
	}
	return -ENOENT;
}

int fsnotify_open_handle(unsigned int sdev, int type, const unsigned char *bytes, unsigned int n, int *ret_fd)
{
	char buf[sizeof(struct file_handle) + INOTIFY_FH_MAX];
	struct file_handle *fh = (struct file_handle *)buf;
	_cleanup_close_ int mfd = fsnotify_open_mount_of(KDEV_MAJOR(sdev), KDEV_MINOR(sdev));
	int fd;

	if (mfd < 0)
		return mfd;
	fh->handle_bytes = n;
	fh->handle_type = type;
	memcpy(fh->f_handle, bytes, n);
	fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

char *fsnotify_path_of_fd(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	return xstrdup(path);
}

/*
 * In the tree's own mount namespace: the watched inode through a mount of
 * the tree, whose id and path (from the namespace's root) restore reopens it
 * by; the handle of a tmpfs the restore makes again would name nothing.
 */
static int open_tree_watch(const struct pstree *t, const struct fd_parms *p, const struct inotify_wd_line *w,
			   FhEntry *fe, int *ret_fd)
{
	char buf[sizeof(struct file_handle) + INOTIFY_FH_MAX], path[PATH_MAX];
	struct file_handle *fh = (struct file_handle *)buf;
	int mnt_id, ret;

	fh->handle_bytes = w->fh_bytes;
	fh->handle_type = w->fh_type;
	memcpy(fh->f_handle, w->fh, w->fh_bytes);
	ret = mntns_open_handle(t, p->item, w->sdev, fh, ret_fd, &mnt_id, path, sizeof(path));
	if (ret)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: inotify watch %u (inode %llu of device %u:%u) is on no mount of the "
			       "tree's mount namespace through which criu finds it again\n",
			       p->fd, p->item->pid, w->wd, w->ino, KDEV_MAJOR(w->sdev), KDEV_MINOR(w->sdev));
	fe->path = xstrdup(path);
	fe->has_mnt_id = true;
	fe->mnt_id = mnt_id;
	return fe->path ? 0 : -ENOMEM;
}

/*
 * A watch on a removed inode: restored on the ghost of that inode (CRIU's
 * way: its image has no path, the restore finds the ghost by s_dev and
 * i_ino), which a file of the tree must hold (checked at the end of the
 * files dump).
 */
static int note_removed_watch(struct dump_files_ctx *ctx, const struct fd_parms *p, const struct inotify_wd_line *w,
			      const struct stat *st, FhEntry *fe)
{
	char who[96];

	snprintf(who, sizeof(who), "fd %d of task %d: inotify watch %u", p->fd, p->item->pid, w->wd);
	pr_info("%s is on removed file %s\n", who, fe->path ?: "(path unknown)");
	free(fe->path);
	fe->path = NULL;
	fe->has_mnt_id = false;
	return ghost_note_watched(ctx, st->st_dev, st->st_ino, who);
}

static int fill_wd(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t id, const struct inotify_wd_line *w,
		   InotifyWdEntry *we, FhEntry *fe)
{
	const struct pstree *t = ctx->tree;
	int fd = -1, ret;

	we->id = id;
	we->i_ino = w->ino;
	we->mask = w->mask;
	we->ignored_mask = w->ignored_mask;
	we->s_dev = w->sdev;
	we->wd = w->wd;
	we->f_handle = fe;
	fe->bytes = w->fh_bytes;
	fe->type = w->fh_type;
	fe->n_handle = FH_WORDS;
	fe->handle = xzalloc(FH_WORDS * sizeof(uint64_t));
	if (!fe->handle)
		return -ENOMEM;
	memcpy(fe->handle, w->fh, w->fh_bytes);
	if (mntns_of(t, p->item)) {
		ret = open_tree_watch(t, p, w, fe, &fd);
		if (ret)
			return ret;
	} else if (!fsnotify_open_handle(w->sdev, w->fh_type, w->fh, w->fh_bytes, &fd)) {
		fe->path = fsnotify_path_of_fd(fd);
	}
	if (fd >= 0) {
		struct stat st;
		bool removed = !fstat(fd, &st) && st.st_nlink == 0;

		close(fd);
		if (removed)
			return note_removed_watch(ctx, p, w, &st, fe);
	}
	if (!fe->path)
		pr_warn("fd %d of task %d: watch %u (inode %llu): can't find its path; only its handle is kept\n",
			p->fd, p->item->pid, w->wd, w->ino);
	return 0;
}

static void free_wds(InotifyWdEntry *wds, FhEntry *fhs, int n)
{
	for (int i = 0; i < n; i++) {
		free(fhs[i].handle);
		free(fhs[i].path);
	}
	free(wds);
	free(fhs);
}

static int refuse_queued(const struct fd_parms *p)
{
	int queued = 0;

	if (ioctl(p->lfd, FIONREAD, &queued))
		return pr_fail_errno("fd %d of task %d: can't count the inotify instance's queued events", p->fd,
				     p->item->pid);
	if (queued)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: the inotify instance has %d bytes of events not read yet, which criu "
			       "can't restore\n",
			       p->fd, p->item->pid, queued);
	return 0;
}

static int inotify_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	InotifyFileEntry ie = INOTIFY_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	int nr = p->fdinfo.nr_extra, n = 0, ret = 0;
	InotifyWdEntry *wds;

	wds = xzalloc(sizeof(*wds) * (nr + 1));
	InotifyWdEntry **ptrs = xzalloc(sizeof(*ptrs) * (nr + 1));
	FhEntry *fhs = xzalloc(sizeof(*fhs) * (nr + 1));
	FownEntry fown;

	if (!wds || !ptrs || !fhs) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < nr && !ret; i++) {
		const struct fdinfo_kv *kv = &p->fdinfo.extra[i];
		struct inotify_wd_line w;

		if (strcmp(kv->key, "inotify wd"))
			continue;
		if (inotify_parse_wd(kv->val, &w)) {
			ret = pr_fail(-EINVAL, "fd %d of task %d: can't parse inotify watch 'wd:%s'\n", p->fd,
				      p->item->pid, kv->val);
			break;
		}
		inotify_wd_entry__init(&wds[n]);
		fh_entry__init(&fhs[n]);
		ret = fill_wd(ctx, p, id, &w, &wds[n], &fhs[n]);
		ptrs[n] = &wds[n];
		n++;
		pr_debug("fd %d of task %d: wd %u ino %llu mask %#x %s\n", p->fd, p->item->pid, w.wd, w.ino, w.mask,
			 fhs[n - 1].path ?: "?");
	}
	if (ret)
		goto out;
	ret = refuse_queued(p) ?: fill_fown(ctx, p, &fown);
	if (ret)
		goto out;
	ie.id = id;
	ie.flags = p->flags;
	ie.fown = &fown;
	ie.n_wd = n;
	ie.wd = ptrs;
	fe.type = FD_TYPES__INOTIFY;
	fe.id = id;
	fe.ify = &ie;
	ret = write_file_entry(ctx, &fe);
out:
	free(ptrs);
	free_wds(wds, fhs, n);
	return ret;
}

/* ---------- restore ---------- */

static int inotify_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	InotifyFileEntry *ie = d->fe->ify;

	if (!ie)
		return pr_fail(-EINVAL, "files.img: inotify %u has no inotify entry\n", d->id);
	for (size_t i = 0; i < ie->n_wd; i++) {
		FhEntry *fh = ie->wd[i]->f_handle;

		if (!ie->wd[i]->wd || fh->bytes > INOTIFY_FH_MAX || fh->n_handle * sizeof(uint64_t) < fh->bytes)
			return pr_fail(-EINVAL, "files.img: inotify %u: bad watch %u\n", d->id, ie->wd[i]->wd);
	}
	return 0;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(InotifyWdEntry *const *)a, *y = *(InotifyWdEntry *const *)b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

/*
 * An O_PATH fd of the watched inode: in the tree's own mount namespace by
 * its path below its mount; else by handle, else by the path seen at dump.
 */
static int open_watched(struct rst_ctx *ctx, const InotifyWdEntry *w, int *ret_fd)
{
	int ret;

	/* a removed inode: the ghost of a file that held it (CRIU's images have no path for it) */
	ret = open_ghost_inode(ctx, w->s_dev, w->i_ino, ret_fd);
	if (ret)
		return ret < 0 ? ret : 0;

	if (ctx->mnt && w->f_handle->has_mnt_id && w->f_handle->path) {
		ret = mntns_open_file(ctx, w->f_handle->mnt_id, w->f_handle->path, O_PATH);
		if (ret < 0)
			return ret;
		*ret_fd = ret;
		return 0;
	}
	ret = fsnotify_open_handle(w->s_dev, w->f_handle->type, (const unsigned char *)w->f_handle->handle, w->f_handle->bytes,
			  ret_fd);
	if (!ret)
		return 0;
	if (w->f_handle->path) {
		int fd = open(w->f_handle->path, O_PATH | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && !fstat(fd, &st) && st.st_ino == w->i_ino) {
			*ret_fd = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

static int add_watch(struct rst_ctx *ctx, int ifd, const InotifyWdEntry *w, uint32_t id)
{
	_cleanup_close_ int fd = -1;
	char path[64];
	int ret, wd;
	long bumps = 0;

	ret = open_watched(ctx, w, &fd);
	if (ret)
		return pr_fail(ret, "inotify %u: can't reopen the inode %llu watched as wd %u (%s): %s\n", id,
			       (unsigned long long)w->i_ino, w->wd, w->f_handle->path ?: "path unknown",
			       strerror(-ret));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (;;) {
		wd = inotify_add_watch(ifd, path, w->mask);
		if (wd < 0)
			return pr_fail_errno("inotify %u: can't add watch %u on %s", id, w->wd,
				       w->f_handle->path ?: path);
		if ((uint32_t)wd >= w->wd)
			break;
		if (++bumps > WD_MAX_BUMPS || inotify_rm_watch(ifd, wd))
			return pr_fail(-EINVAL, "inotify %u: can't move watch up to wd %u (at %d)\n", id, w->wd, wd);
	}
	if ((uint32_t)wd != w->wd)
		return pr_fail(-EINVAL, "inotify %u: watch %s got wd %d instead of %u\n", id,
			       w->f_handle->path ?: path, wd, w->wd);
	return 0;
}

/* Throw away the IN_IGNORED events of the removals done to move wds up. */
static void drain(int ifd)
{
	char buf[4096];
	int fl = fcntl(ifd, F_GETFL);

	fcntl(ifd, F_SETFL, fl | O_NONBLOCK);
	while (read(ifd, buf, sizeof(buf)) > 0)
		;
	fcntl(ifd, F_SETFL, fl);
}

static int inotify_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	InotifyFileEntry *ie = d->fe->ify;
	_cleanup_free_ InotifyWdEntry **sorted = xmalloc(sizeof(*sorted) * (ie->n_wd + 1));
	_cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC);
	int ret;

	if (!sorted)
		return -ENOMEM;
	if (ifd < 0)
		return pr_fail_errno("can't create inotify %u", d->id);
	memcpy(sorted, ie->wd, sizeof(*sorted) * ie->n_wd);
	qsort(sorted, ie->n_wd, sizeof(*sorted), cmp_wd);
	for (size_t i = 0; i < ie->n_wd; i++) {
		if (i && sorted[i]->wd == sorted[i - 1]->wd)
			return pr_fail(-EINVAL, "inotify %u: wd %u appears twice\n", d->id, sorted[i]->wd);
		ret = add_watch(ctx, ifd, sorted[i], d->id);
		if (ret)
			return ret;
	}
	drain(ifd);
	ret = anon_fd_restore_flags(ifd, ie->flags, ie->fown);
	if (ret)
		return pr_fail(ret, "inotify %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	pr_debug("inotify %u: %zu watches\n", d->id, ie->n_wd);
	*ret_fd = TAKE_FD(ifd);
	return 0;
}

const struct file_type inotify_file_type = {
	.name = "inotify",
	.type = FD_TYPES__INOTIFY,
	.detect = inotify_detect,
	.dump = inotify_dump,
	.collect = inotify_collect,
	.open = inotify_open,
	.stage = FILE_OPEN_EARLY,
};
