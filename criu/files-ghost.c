// SPDX-License-Identifier: GPL-2.0
/*
 * Ghost files: regular files a task holds open after their last name was
 * unlinked (st_nlink 0). CRIU's format: remap-fpath.img maps the file object
 * (files.img) to a ghost id, and ghost-file-<id>.img holds the inode once,
 * whatever number of open files share it: owner, mode, times, size, and the
 * data ranges as chunks (the gaps between them are holes).
 *
 * Restore (in the controller) recreates the inode once, in the directory of
 * its last name, under a fresh name, fills it, sets owner, mode and times,
 * gives it its old name if that is free (so that /proc/PID/fd reads as
 * before) and unlinks it. Each file object then opens it again through
 * /proc/self/fd, so all of them share the one inode.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "anon-fd.h"
#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "rst-ctx.h"
#include "ghost.h"
#include "image.h"
#include "mount.h"
#include "protobuf.h"

#include "ghost-file.pb-c.h"
#include "fdinfo.pb-c.h"
#include "remap-file-path.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "ghost: "

/* Data (not holes) a ghost may hold: the image carries all of it. */
#define GHOST_BUF_SIZE (1u << 20)

/* Inode flags (chattr) the image can't hold: a ghost with one is refused. */
#define GHOST_BAD_IFLAGS                                                                                  \
	(FS_SECRM_FL | FS_UNRM_FL | FS_COMPR_FL | FS_SYNC_FL | FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | \
	 FS_NOATIME_FL | FS_JOURNAL_DATA_FL | FS_NOCOW_FL)

/* ===================== dump ===================== */

/* Removed parent directories of a removed directory a ghost can carry (ghost-ext's removed_parents). */
#define GHOST_MAX_PARENTS 16

struct ghost_parents {
	GhostParentEntry e[GHOST_MAX_PARENTS];	/* the outermost first */
	GhostParentEntry *ptrs[GHOST_MAX_PARENTS];
	size_t n;
};

struct ghost_dump {
	struct ghost_dump *next;
	dev_t dev;
	ino_t ino;
	uint32_t id;
};

/* The kinds of inode a ghost can be: the others (a socket) are refused. */
static bool ghost_kind_ok(mode_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode) || S_ISFIFO(mode) || S_ISCHR(mode) || S_ISBLK(mode) || S_ISLNK(mode);
}

/* Regular files and directories have contents or a listing; a FIFO, device or symlink is only its inode. */
static bool ghost_has_data(mode_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode);
}

/*
 * A read-only open of the task's file of our own: its fd may be write-only
 * or O_PATH. A FIFO or a device is not opened (that would be a reader of
 * the FIFO, or a call into the driver): an O_PATH fd of it is enough.
 */
static int ghost_reopen(const struct fd_parms *p)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->lfd);
	if (!ghost_has_data(p->stat.st_mode)) {
		/* a symlink's O_PATH fd: through the magic link, without O_NOFOLLOW, is the link itself */
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			return pr_fail_errno("can't reopen unlinked file %s", p->link);
		return fd;
	}
	/* O_NOATIME: reading the contents must not touch the atime (the tree may go on running) */
	fd = open(path, O_RDONLY | O_NOATIME | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't reopen unlinked file %s to read it", p->link);
	return fd;
}

/* Who holds p, for the messages: an fd of a task, or (no fd) a mapping, exe or cwd. */
static void ghost_who(const struct fd_parms *p, char *buf, size_t size)
{
	if (p->fd >= 0 && p->item)
		snprintf(buf, size, "fd %d of task %d", p->fd, p->item->pid);
	else
		snprintf(buf, size, "a mapping, exe, cwd or root of the tree");
}

/* flistxattr() does not take an O_PATH fd: the magic link leads to the inode (a symlink's too). */
static ssize_t ghost_listxattr(int rfd, mode_t mode)
{
	char path[64];

	if (ghost_has_data(mode))
		return flistxattr(rfd, NULL, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rfd);
	return listxattr(path, NULL, 0);
}

static void ghost_parent_fill(GhostParentEntry *e, const struct stat *st)
{
	ghost_parent_entry__init(e);
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mode = st->st_mode;
	e->atim_sec = st->st_atim.tv_sec;
	e->atim_nsec = st->st_atim.tv_nsec;
	e->mtim_sec = st->st_mtim.tv_sec;
	e->mtim_nsec = st->st_mtim.tv_nsec;
}

/*
 * A removed directory whose directory dir (the path as the tree sees it) is
 * gone: its parents were removed too (rmdir of it, then of them). They are
 * followed by ".." from the ghost itself (rfd) up to the first directory
 * left on the path, which must be the last one's "..": each must be
 * removed (nlink 0), not moved. Their attributes go to par, the outermost
 * first.
 */
static int ghost_removed_parents(const struct pstree *t, const struct pstree_item *item, const char *who,
				 const char *link, int rfd, char *dir, struct ghost_parents *par)
{
	_cleanup_close_ int cur = -1;
	struct stat pst[GHOST_MAX_PARENTS], st, dst;
	size_t n = 0;

	cur = openat(rfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (1) {
		char *slash = strrchr(dir, '/');
		int up;

		if (cur < 0 || fstat(cur, &st))
			return pr_fail_errno("%s: can't reach the parent directory %s of removed directory %s", who, dir,
					     link);
		if (!S_ISDIR(st.st_mode) || st.st_nlink)
			return pr_fail(-EOPNOTSUPP,
				       "%s: the directory %s of removed directory %s is gone but was not removed (moved?): criu can't restore it\n",
				       who, dir, link);
		if (n == GHOST_MAX_PARENTS || !slash)
			return pr_fail(-EOPNOTSUPP, "%s: removed directory %s: more than %d removed parents\n", who,
				       link, GHOST_MAX_PARENTS);
		pst[n++] = st;
		slash[slash == dir ? 1 : 0] = '\0';	/* "/x": its directory is "/" */
		up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = up;
		if (!mntns_tree_stat(t, item, dir, &dst, true) && S_ISDIR(dst.st_mode))
			break;
	}
	if (cur < 0 || fstat(cur, &st) || st.st_ino != dst.st_ino || st.st_dev != dst.st_dev)
		return pr_fail(-EOPNOTSUPP,
			       "%s: the removed parents of removed directory %s do not lead back to %s: criu can't restore it\n",
			       who, link, dir);
	par->n = n;
	for (size_t i = 0; i < n; i++) {
		ghost_parent_fill(&par->e[i], &pst[n - 1 - i]);
		par->ptrs[i] = &par->e[i];
	}
	pr_info("removed directory %s: %zu removed parent(s) below %s\n", link, n, dir);
	return 0;
}

/*
 * Refuse what a ghost image can't carry; 0 when the file can be dumped as a
 * ghost. Its directory is looked up as the tree sees it (t, mnt_id: in its
 * own mount namespace, on the file's mount).
 */
static int ghost_check(const struct pstree *t, const struct fd_parms *p, const char *name, int mnt_id, int rfd,
		       struct ghost_parents *par)
{
	char who[64];
	const struct stat *st = &p->stat;
	char dir[PATH_MAX], *slash;
	unsigned long long data = (unsigned long long)st->st_blocks * 512;
	struct stat dst;
	ssize_t nx;
	int iflags;

	ghost_who(p, who, sizeof(who));
	if (!ghost_kind_ok(st->st_mode))
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s is unlinked and is a socket or an unknown kind of file (mode 0%o): criu can't restore it\n",
			       who, p->link, st->st_mode);
	if (st->st_nlink)
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s: this name was removed but the file has %lu other link(s), none of them in the same directory; criu can't restore a file opened by a removed name of a linked file\n",
			       who, p->link, (unsigned long)st->st_nlink);
	if (S_ISREG(st->st_mode) && data > opts.ghost_limit)
		return pr_fail(-EFBIG, "%s: unlinked file %s holds %llu bytes of data, over --ghost-limit %llu\n",
			       who, p->link, data, opts.ghost_limit);
	nx = ghost_listxattr(rfd, st->st_mode);
	if (nx > 0)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unlinked file %s has extended attributes (ACLs, capabilities, ...), which criu can't restore on it\n",
			       who, p->link);
	if (!ioctl(rfd, FS_IOC_GETFLAGS, &iflags) && (iflags & GHOST_BAD_IFLAGS))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unlinked file %s has inode flags 0x%x (chattr), which criu can't restore on it\n",
			       who, p->link, iflags & GHOST_BAD_IFLAGS);
	snprintf(dir, sizeof(dir), "%s", name);
	slash = strrchr(dir, '/');
	if (!slash)
		return pr_fail(-EOPNOTSUPP, "%s: unlinked file %s has no absolute path\n", who,
			       p->link);
	slash[slash == dir ? 1 : 0] = '\0';
	if (mnt_id >= 0 && !mntns_path_on_mount(t, mnt_id, dir))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unlinked file %s was the root of mount %d (a file bound there): criu can't make it "
			       "again in a directory of that mount\n",
			       who, p->link, mnt_id);
	if ((mntns_tree_stat(t, p->item, dir, &dst, true) || !S_ISDIR(dst.st_mode)) && S_ISDIR(st->st_mode))
		return ghost_removed_parents(t, p->item, who, p->link, rfd, dir, par);
	if (mntns_tree_stat(t, p->item, dir, &dst, true) || !S_ISDIR(dst.st_mode))
		return pr_fail(-EOPNOTSUPP,
			       "%s: the directory %s of unlinked file %s is gone: criu can't restore the file in it\n",
			       who, dir, p->link);
	return 0;
}

static int ghost_copy_range(struct cr_img *img, int rfd, char *buf, off_t off, off_t len, const char *link)
{
	while (len > 0) {
		ssize_t n = pread(rfd, buf, min((off_t)GHOST_BUF_SIZE, len), off);
		int ret;

		if (n <= 0)
			return pr_fail(n < 0 ? -errno : -EIO, "can't read unlinked file %s at %lld: %s\n", link,
				       (long long)off, n < 0 ? strerror(errno) : "it shrank");
		ret = write_img_buf(img, buf, n);
		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* One chunk entry and its bytes per data range, from SEEK_DATA/SEEK_HOLE. */
static int ghost_dump_chunks(struct cr_img *img, int rfd, off_t size, const char *link)
{
	_cleanup_free_ char *buf = xmalloc(GHOST_BUF_SIZE);
	off_t pos = 0;

	if (!buf)
		return -ENOMEM;
	while (pos < size) {
		GhostChunkEntry ce = GHOST_CHUNK_ENTRY__INIT;
		off_t data = lseek(rfd, pos, SEEK_DATA), hole;
		int ret;

		if (data < 0 && errno == ENXIO)
			break;	/* a hole up to the end */
		if (data < 0)
			return pr_fail_errno("can't find the data of unlinked file %s", link);
		if (data >= size)
			break;
		hole = lseek(rfd, data, SEEK_HOLE);
		if (hole < 0)
			return pr_fail_errno("can't find the holes of unlinked file %s", link);
		hole = min(hole, size);
		ce.off = data;
		ce.len = hole - data;
		ret = pb_write_one(img, &ce, PB_GHOST_CHUNK) ?: ghost_copy_range(img, rfd, buf, data, hole - data, link);
		if (ret)
			return ret;
		pos = hole;
	}
	return 0;
}

static void ghost_time(Timeval *tv, uint32_t *nsec, const struct timespec *ts)
{
	tv->tv_sec = ts->tv_sec;
	tv->tv_usec = ts->tv_nsec / 1000;
	*nsec = ts->tv_nsec;
}

/* ghost-ext-<gid>.img: the nanoseconds of the times (CRIU's ghost_file_entry has microseconds). */
static int write_ghost_ext(int img_dfd, uint32_t gid, GhostExtEntry *gx)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_GHOST_EXT, O_DUMP, gid);
	int ret;

	if (!img)
		return pr_fail(-errno, "can't create %s\n", img_last_error());
	ret = pb_write_one(img, gx, PB_GHOST_EXT);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* Dumps of ours before ghost-ext-<id>.img have the nanoseconds in the ghost's entry; CRIU's have none. */
static int read_ghost_ext(int img_dfd, uint32_t gid, GhostFileEntry *gfe, GhostExtEntry **ret_gx)
{
	struct cr_img *img;
	GhostExtEntry *gx;
	int ret;

	*ret_gx = NULL;
	if (gfe->has_atim_nsec || gfe->has_mtim_nsec)
		return 0;
	img = open_image_at(img_dfd, CR_FD_GHOST_EXT, O_RSTR, gid);
	if (!img)
		return pr_fail(-errno, "can't open the ghost-ext image of ghost %u: %s\n", gid, img_last_error());
	if (img_is_empty(img)) {
		close_image(img);
		return 0;
	}
	ret = pb_read_one(img, (void **)&gx, PB_GHOST_EXT);
	close_image(img);
	if (ret)
		return ret;
	if ((gx->has_atim_nsec && gx->atim_nsec >= 1000000000) || (gx->has_mtim_nsec && gx->mtim_nsec >= 1000000000))
		ret = pr_fail(-EINVAL, "ghost-ext-%x.img: nanoseconds past a second\n", gid);
	for (size_t i = 0; !ret && i < gx->n_removed_parents; i++) {
		GhostParentEntry *e = gx->removed_parents[i];

		if (!S_ISDIR(e->mode) || e->atim_nsec >= 1000000000 || e->mtim_nsec >= 1000000000)
			ret = pr_fail(-EINVAL, "ghost-ext-%x.img: removed parent %zu is not a directory\n", gid, i);
	}
	if (!ret && gx->n_removed_parents && !S_ISDIR(gfe->mode))
		ret = pr_fail(-EINVAL, "ghost-ext-%x.img: removed parents of a ghost that is not a directory\n", gid);
	gfe->has_atim_nsec = gx->has_atim_nsec;
	gfe->atim_nsec = gx->atim_nsec;
	gfe->has_mtim_nsec = gx->has_mtim_nsec;
	gfe->mtim_nsec = gx->mtim_nsec;
	if (ret)
		pb_free(gx, PB_GHOST_EXT);
	else
		*ret_gx = gx;
	return ret;
}

/* The target of an unlinked symlink (rfd: an O_PATH fd of the link itself), whole. */
static int ghost_link_target(int rfd, const struct stat *st, char *buf, size_t size, const char *link)
{
	ssize_t n = readlinkat(rfd, "", buf, size - 1);

	if (n < 0)
		return pr_fail_errno("can't read the target of unlinked symlink %s", link);
	if (n != st->st_size)
		return pr_fail(-EOPNOTSUPP, "unlinked symlink %s: its target is %lld bytes, %zd read\n", link,
			       (long long)st->st_size, n);
	buf[n] = '\0';
	return 0;
}

static int ghost_write_image(struct dump_files_ctx *ctx, uint32_t gid, const struct fd_parms *p, int rfd,
			     struct ghost_parents *par)
{
	GhostFileEntry gfe = GHOST_FILE_ENTRY__INIT;
	Timeval atim = TIMEVAL__INIT, mtim = TIMEVAL__INIT;
	GhostExtEntry gx = GHOST_EXT_ENTRY__INIT;
	const struct stat *st = &p->stat;
	char target[PATH_MAX];
	struct cr_img *img;
	int ret;

	gfe.uid = st->st_uid;
	gfe.gid = st->st_gid;
	gfe.mode = st->st_mode;
	gfe.has_dev = gfe.has_ino = true;
	gfe.dev = KDEV_MAKE(major(st->st_dev), minor(st->st_dev));	/* CRIU's: the kernel's encoding */
	gfe.ino = st->st_ino;
	gfe.atim = &atim;
	gfe.mtim = &mtim;
	ghost_time(&atim, &gx.atim_nsec, &st->st_atim);
	ghost_time(&mtim, &gx.mtim_nsec, &st->st_mtim);
	gx.has_atim_nsec = gx.has_mtim_nsec = true;
	gx.n_removed_parents = par->n;
	gx.removed_parents = par->ptrs;
	if (ghost_has_data(st->st_mode)) {
		gfe.has_chunks = gfe.chunks = true;
		gfe.has_size = true;
		gfe.size = S_ISDIR(st->st_mode) ? 0 : st->st_size;	/* a removed directory: empty, no contents */
	}
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		gfe.has_rdev = true;
		gfe.rdev = (uint32_t)st->st_rdev;	/* CRIU's: st_rdev as the C library encodes it */
		if ((dev_t)gfe.rdev != st->st_rdev)
			return pr_fail(-EOPNOTSUPP, "unlinked device %s has rdev %u:%u, which the image can't hold\n",
				       p->link, major(st->st_rdev), minor(st->st_rdev));
	}
	if (S_ISLNK(st->st_mode)) {
		ret = ghost_link_target(rfd, st, target, sizeof(target), p->link);
		if (ret)
			return ret;
		gfe.symlnk_target = target;
	}

	img = open_image_at(ctx->img_dfd, CR_FD_GHOST_FILE, O_DUMP, gid);
	if (!img)
		return pr_fail(-errno, "can't create the image of ghost file %u: %s\n", gid, img_last_error());
	ret = pb_write_one(img, &gfe, PB_GHOST_FILE);
	if (!ret && gfe.has_chunks)
		ret = ghost_dump_chunks(img, rfd, gfe.size, p->link);
	if (ret) {
		close_image(img);
		return ret;
	}
	ret = close_image_checked(img);
	return ret ?: write_ghost_ext(ctx->img_dfd, gid, &gx);
}

/* The ghost of p's inode, written now if it is the first fd of it. */
static int ghost_get(struct dump_files_ctx *ctx, const struct fd_parms *p, const char *name, int mnt_id,
		     uint32_t *ret_gid)
{
	_cleanup_close_ int rfd = -1;
	struct ghost_parents par = {};
	struct ghost_dump *g;
	int ret;

	for (g = ctx->ghosts; g; g = g->next) {
		if (g->dev == p->stat.st_dev && g->ino == p->stat.st_ino) {
			*ret_gid = g->id;
			return 0;
		}
	}
	rfd = ghost_reopen(p);
	if (rfd < 0)
		return rfd;
	ret = ghost_check(ctx->tree, p, name, mnt_id, rfd, &par);
	if (ret)
		return ret;
	g = xzalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->dev = p->stat.st_dev;
	g->ino = p->stat.st_ino;
	g->id = ++ctx->last_ghost_id;
	ret = ghost_write_image(ctx, g->id, p, rfd, &par);
	if (ret) {
		free(g);
		return ret;
	}
	g->next = ctx->ghosts;
	ctx->ghosts = g;
	pr_info("unlinked file %s (%lld bytes) is ghost %u\n", p->link, (long long)p->stat.st_size, g->id);
	*ret_gid = g->id;
	return 0;
}

int dump_ghost(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p, const char *name, int mnt_id)
{
	RemapFilePathEntry rpe = REMAP_FILE_PATH_ENTRY__INIT;
	struct cr_img *img;
	uint32_t gid;
	int ret;

	ret = ghost_get(ctx, p, name, mnt_id, &gid);
	if (ret)
		return ret;
	img = dump_files_img(ctx, CR_FD_REMAP_FPATH);
	if (!img)
		return -EIO;
	rpe.orig_id = id;
	rpe.remap_id = gid;
	rpe.has_remap_type = true;
	rpe.remap_type = REMAP_TYPE__GHOST;
	return pb_write_one(img, &rpe, PB_REMAP_FPATH);
}

/* Removed inodes that watches are on, in the dump ctx (dump_files_state()): each must be a ghost at the end. */
struct ghost_watched {
	struct ghost_watched *next;
	dev_t dev;
	ino_t ino;
	char who[96];
};
static const char ghost_watched_key;

static void ghost_watched_fini(void *state)
{
	struct ghost_watched **head = state;

	while (*head) {
		struct ghost_watched *w = *head;

		*head = w->next;
		free(w);
	}
}

int ghost_note_watched(struct dump_files_ctx *ctx, dev_t dev, ino_t ino, const char *who)
{
	struct ghost_watched **head = dump_files_state(ctx, &ghost_watched_key, sizeof(*head), ghost_watched_fini);
	struct ghost_watched *w;

	if (!head)
		return -ENOMEM;
	w = xzalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->dev = dev;
	w->ino = ino;
	snprintf(w->who, sizeof(w->who), "%s", who);
	w->next = *head;
	*head = w;
	return 0;
}

int dump_ghost_check_watched(struct dump_files_ctx *ctx)
{
	struct ghost_watched **head = dump_files_state(ctx, &ghost_watched_key, sizeof(*head), ghost_watched_fini);

	if (!head)
		return -ENOMEM;
	for (struct ghost_watched *w = *head; w; w = w->next) {
		struct ghost_dump *g;

		for (g = ctx->ghosts; g; g = g->next)
			if (g->dev == w->dev && g->ino == w->ino)
				break;
		if (!g)
			return pr_fail(-EOPNOTSUPP,
				       "%s is on a removed file (inode %lu) that no fd, mapping, cwd or exe of the tree holds: criu can restore a watch of a removed file only on a ghost of such a file\n",
				       w->who, (unsigned long)w->ino);
		pr_info("%s is on ghost %u\n", w->who, g->id);
	}
	return 0;
}

void dump_ghost_fini(struct dump_files_ctx *ctx)
{
	while (ctx->ghosts) {
		struct ghost_dump *g = ctx->ghosts;

		ctx->ghosts = g->next;
		free(g);
	}
}

/* ===================== restore ===================== */

struct ghost_rst {
	struct ghost_rst *next;
	uint32_t id;
	int fd;			/* the controller's O_PATH fd of the recreated inode */
	/*
	 * A symlink keeps its name until every file object of the stage is
	 * open: an fd of the link itself with O_NOFOLLOW in its flags can only
	 * be opened by a name (through /proc/self/fd it would be the /proc
	 * link). dfd is its directory, link its name there.
	 */
	int dfd;
	char *link;
	mode_t mode;
	struct timespec times[2];	/* atime and mtime, for ghost_retime() */
	bool has_ino;			/* the dumped inode (dev: the kernel's encoding, as the image has it) */
	uint32_t dev;
	uint64_t ino;
};

/* remap-fpath.img and the ghosts made so far, in the ctx (rst_files_state()) */
struct ghosts_rst {
	RemapFilePathEntry **remaps;
	size_t nr_remaps;
	bool remaps_read;
	struct ghost_rst *ghosts;
};
static const char ghosts_rst_key;

/* On a failed restore too: a symlink that still has its name loses it. */
static void ghost_free(struct ghost_rst *g)
{
	if (g->link && unlinkat(g->dfd, g->link, 0))
		pr_warn("ghost %u: can't remove %s: %s\n", g->id, g->link, strerror(errno));
	free(g->link);
	if (g->dfd >= 0)
		close(g->dfd);
	if (g->fd >= 0)
		close(g->fd);
	free(g);
}

static struct ghosts_rst *ghosts_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &ghosts_rst_key, sizeof(struct ghosts_rst));
}

static int read_remaps(struct rst_ctx *ctx, struct ghosts_rst *st)
{
	struct cr_img *img;
	int ret;

	st->remaps_read = true;
	img = open_image_at(ctx->img_dfd, CR_FD_REMAP_FPATH, O_RSTR);
	if (!img)
		return pr_fail(-errno, "can't open remap-fpath.img: %s\n", img_last_error());
	ret = pb_read_all(img, PB_REMAP_FPATH, (void ***)&st->remaps, &st->nr_remaps);
	close_image(img);
	return ret < 0 ? ret : 0;
}

int remap_of_file(struct rst_ctx *ctx, uint32_t id, int *ret_type, uint32_t *ret_remap_id)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	int ret;

	if (!st)
		return -ENOMEM;
	if (!st->remaps_read) {
		ret = read_remaps(ctx, st);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < st->nr_remaps; i++) {
		RemapFilePathEntry *e = st->remaps[i];

		if (e->orig_id != id)
			continue;
		*ret_type = e->has_remap_type ? e->remap_type : REMAP_TYPE__LINKED;
		*ret_remap_id = e->remap_id;
		return 1;
	}
	return 0;
}

int ghost_of_file(struct rst_ctx *ctx, uint32_t id, uint32_t *ret_gid)
{
	int type, ret = remap_of_file(ctx, id, &type, ret_gid);

	if (ret <= 0 || type == REMAP_TYPE__GHOST)
		return ret;
	if (type == REMAP_TYPE__PROCFS)	/* /proc/PID of a process that is gone: files-deadproc.c */
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "remap-fpath.img: file %u comes back by a remap of type %d; criu restores only ghost files and "
		       "/proc directories of processes that are gone\n",
		       id, type);
}

/*
 * The directory of name: from criu's root, or in the tree's own mount
 * namespace below the file's mount (mnt_id), never crossing another.
 */
/*
 * The directory of name, levels components up (1: its own directory; more
 * when removed parents are made again below it): from criu's root, or in
 * the tree's own mount namespace below the file's mount (mnt_id), never
 * crossing another.
 */
static int ghost_dir(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id, size_t levels)
{
	char dir[PATH_MAX], *slash;
	int fd;

	if (name[0] != '/')
		return pr_fail(-EINVAL, "ghost %u: %s is not an absolute path\n", gid, name);
	snprintf(dir, sizeof(dir), "%s", name);
	for (size_t i = 0; i < levels; i++) {
		slash = strrchr(dir, '/');
		if (!slash || (slash == dir && i + 1 < levels))
			return pr_fail(-EINVAL, "ghost %u: %s has fewer than %zu directories above it\n", gid, name,
				       levels);
		slash[slash == dir ? 1 : 0] = '\0';
	}
	if (mnt_id >= 0)
		fd = mntns_open_file(ctx, mnt_id, dir, O_PATH | O_DIRECTORY);
	else if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fd = -errno;
	if (fd < 0)
		return pr_fail(fd, "ghost %u: can't open its directory %s%s: %s\n", gid, dir,
			       mnt_id >= 0 ? " in the tree's mount namespace" : "", strerror(-fd));
	return fd;
}

/* A removed parent directory made again: the directory it is in, its name there, an fd of it. */
struct ghost_parent_made {
	int pdfd;
	char name[NAME_MAX + 1];
	int fd;
};

/* Component i (0: the first) of path into buf. */
static int path_component(const char *path, size_t i, char *buf, size_t size)
{
	const char *c = path;

	for (size_t k = 0; *c; k++) {
		const char *end;

		while (*c == '/')
			c++;
		end = strchrnul(c, '/');
		if (k == i) {
			if ((size_t)(end - c) >= size || end == c)
				return -ENAMETOOLONG;
			snprintf(buf, size, "%.*s", (int)(end - c), c);
			return 0;
		}
		c = end;
	}
	return -EINVAL;
}

static size_t path_components(const char *path)
{
	size_t n = 0;

	for (const char *c = path; *c; c++)
		if (*c != '/' && (c == path || c[-1] == '/'))
			n++;
	return n;
}

/* Remove the parents made so far (innermost first); with gx, give each its dumped attributes once removed. */
static int ghost_parents_done(uint32_t gid, struct ghost_parent_made *made, size_t n, GhostExtEntry *gx)
{
	int ret = 0;

	while (n--) {
		struct ghost_parent_made *m = &made[n];

		if (unlinkat(m->pdfd, m->name, AT_REMOVEDIR) && !ret)
			ret = pr_fail_errno("ghost %u: can't remove its parent directory %s again", gid, m->name);
		if (gx && !ret) {
			GhostParentEntry *e = gx->removed_parents[n];
			struct timespec ts[2] = { { e->atim_sec, e->atim_nsec }, { e->mtim_sec, e->mtim_nsec } };

			if (fchown(m->fd, e->uid, e->gid) || fchmod(m->fd, e->mode & 07777) || futimens(m->fd, ts))
				ret = pr_fail_errno("ghost %u: can't set the attributes of its removed parent %s", gid,
						    m->name);
		}
		close(m->fd);
		close(m->pdfd);
	}
	return ret;
}

/*
 * The removed parents of a ghost directory, made again below dfd (the
 * nearest directory left) under their names (or temporary ones when taken);
 * *dfd becomes the innermost, where the ghost goes.
 */
static int ghost_parents_make(uint32_t gid, const char *name, GhostExtEntry *gx, int *dfd,
			      struct ghost_parent_made *made, size_t *nmade)
{
	size_t n = gx->n_removed_parents, first = path_components(name) - 1 - n;

	for (size_t i = 0; i < n; i++) {
		struct ghost_parent_made *m = &made[i];
		char tmp[64];
		int ret;

		ret = path_component(name, first + i, m->name, sizeof(m->name));
		if (ret)
			return pr_fail(ret, "ghost %u: %s has no component %zu\n", gid, name, first + i);
		snprintf(tmp, sizeof(tmp), ".criu-ghost-dir.%x.%d.%zu", gid, (int)getpid(), i);
		if (mkdirat(*dfd, tmp, 0700))
			return pr_fail_errno("ghost %u: can't make its removed parent %s again", gid, m->name);
		if (renameat2(*dfd, tmp, *dfd, m->name, RENAME_NOREPLACE)) {
			pr_warn("ghost %u: the name of its removed parent %s is taken (%s): it is %s\n", gid, m->name,
				strerror(errno), tmp);
			snprintf(m->name, sizeof(m->name), "%s", tmp);
		}
		m->fd = openat(*dfd, m->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (m->fd < 0) {
			ret = pr_fail_errno("ghost %u: can't open its parent %s", gid, m->name);
			unlinkat(*dfd, m->name, AT_REMOVEDIR);
			return ret;
		}
		m->pdfd = *dfd;
		*dfd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		if (*dfd < 0) {
			*dfd = m->pdfd;
			close(m->fd);
			unlinkat(*dfd, m->name, AT_REMOVEDIR);
			return pr_fail_errno("ghost %u: dup", gid);
		}
		*nmade = i + 1;
	}
	return 0;
}

/* The directory kind of ghost_create(): made empty in dfd, opened read-only. */
static int ghost_mkdir(int dfd, const char *tmp)
{
	int fd;

	if (mkdirat(dfd, tmp, 0700))
		return -errno;
	fd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		unlinkat(dfd, tmp, AT_REMOVEDIR);
	}
	return fd;
}

/* A FIFO, device node or symlink: made in dfd, held by an O_PATH fd (opening it could block or reach a driver). */
static int ghost_mknode(int dfd, const char *tmp, const GhostFileEntry *gfe)
{
	int fd;

	if (S_ISLNK(gfe->mode) ? symlinkat(gfe->symlnk_target, dfd, tmp) :
				 mknodat(dfd, tmp, (gfe->mode & S_IFMT) | 0600, S_ISFIFO(gfe->mode) ? 0 : (dev_t)gfe->rdev))
		return -errno;
	fd = openat(dfd, tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		unlinkat(dfd, tmp, 0);
	}
	return fd;
}

static int ghost_make(int dfd, const char *tmp, const GhostFileEntry *gfe)
{
	int fd;

	if (S_ISDIR(gfe->mode))
		return ghost_mkdir(dfd, tmp);
	if (!S_ISREG(gfe->mode))
		return ghost_mknode(dfd, tmp, gfe);
	fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* A name for the new inode in dfd (name's directory) that nothing else uses: fills tmp, returns the fd. */
static int ghost_create(uint32_t gid, int dfd, const char *name, const GhostFileEntry *gfe, char *tmp, size_t size)
{
	for (unsigned int n = 0; n < 100; n++) {
		int fd;

		snprintf(tmp, size, ".criu-ghost.%x.%d.%u", gid, (int)getpid(), n);
		fd = ghost_make(dfd, tmp, gfe);
		if (fd >= 0)
			return fd;
		if (fd != -EEXIST)
			return pr_fail(fd, "ghost %u: can't create %s next to %s: %s\n", gid, tmp, name, strerror(-fd));
	}
	return pr_fail(-EEXIST, "ghost %u: no free temporary name next to %s\n", gid, name);
}

/* len bytes of the image to fd at off; len 0: up to the image's end (images without chunks). */
static int ghost_fill_range(struct cr_img *img, int fd, char *buf, uint64_t off, uint64_t len, bool to_eof)
{
	while (to_eof || len) {
		size_t want = to_eof ? GHOST_BUF_SIZE : min((uint64_t)GHOST_BUF_SIZE, len);
		ssize_t n = to_eof ? read_img_some(img, buf, want) : read_img_buf(img, buf, want);
		int ret;

		if (n < 0)
			return n;
		if (n == 0)
			break;
		ret = pwrite_exact(fd, buf, n, off);
		if (ret)
			return pr_fail(ret, "%s: can't write the contents: %s\n", img_name(img), strerror(-ret));
		off += n;
		if (!to_eof)
			len -= n;
	}
	return 0;
}

static int ghost_fill(struct cr_img *img, GhostFileEntry *gfe, int fd)
{
	_cleanup_free_ char *buf = xmalloc(GHOST_BUF_SIZE);
	GhostChunkEntry *ce;
	int ret;

	if (!buf)
		return -ENOMEM;
	if (!gfe->chunks)
		return ghost_fill_range(img, fd, buf, 0, 0, true);
	if (!gfe->has_size)
		return pr_fail(-EINVAL, "%s: chunks but no size\n", img_name(img));
	if (ftruncate(fd, gfe->size))
		return pr_fail_errno("%s: can't make the file %llu bytes long", img_name(img),
			       (unsigned long long)gfe->size);
	while ((ret = pb_read_one_eof(img, (void **)&ce, PB_GHOST_CHUNK)) > 0) {
		uint64_t off = ce->off, len = ce->len;

		pb_free(ce, PB_GHOST_CHUNK);
		if (off > gfe->size || len > gfe->size - off)
			return pr_fail(-EINVAL, "%s: a chunk of %llu bytes at %llu is past the size %llu\n",
				       img_name(img), (unsigned long long)len, (unsigned long long)off,
				       (unsigned long long)gfe->size);
		ret = ghost_fill_range(img, fd, buf, off, len, false);
		if (ret)
			return ret;
	}
	return ret;
}

static void ghost_timespec(struct timespec *ts, const Timeval *tv, bool has_nsec, uint32_t nsec)
{
	if (!tv) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_OMIT;
		return;
	}
	ts->tv_sec = tv->tv_sec;
	/* our nanoseconds when they agree with the microseconds, else the microseconds */
	if (has_nsec && nsec < 1000000000u && nsec / 1000 == tv->tv_usec)
		ts->tv_nsec = nsec;
	else
		ts->tv_nsec = tv->tv_usec * 1000;
}

/* Owner, mode and times last: writing and chown may drop set-id bits, and any write moves mtime. */
static int ghost_set_attrs(int fd, int dfd, const char *tmp, GhostFileEntry *gfe)
{
	bool by_fd = ghost_has_data(gfe->mode);	/* else fd is O_PATH: the node is changed by its name */
	struct timespec ts[2];

	if (by_fd ? fchown(fd, gfe->uid, gfe->gid) : fchownat(dfd, tmp, gfe->uid, gfe->gid, AT_SYMLINK_NOFOLLOW))
		return pr_fail_errno("can't give %s to %u:%u", tmp, gfe->uid, gfe->gid);
	/* a symlink's mode is always 0777 */
	if (!S_ISLNK(gfe->mode) &&
	    (by_fd ? fchmod(fd, gfe->mode & 07777) : fchmodat(dfd, tmp, gfe->mode & 07777, 0)))
		return pr_fail_errno("can't chmod %s to 0%o", tmp, gfe->mode & 07777);
	ghost_timespec(&ts[0], gfe->atim, gfe->has_atim_nsec, gfe->atim_nsec);
	ghost_timespec(&ts[1], gfe->mtim, gfe->has_mtim_nsec, gfe->mtim_nsec);
	if (by_fd ? futimens(fd, ts) : utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW))
		return pr_fail_errno("can't set the times of %s", tmp);
	return 0;
}

/*
 * Give the inode the name it was last opened by, so that /proc/PID/fd reads
 * as before, if no other file has that name now; then unlink it, unless
 * keep (a symlink): *last is the name it has then.
 */
static int ghost_unlink(uint32_t gid, int dfd, const char *tmp, const char *name, mode_t mode, bool keep,
			const char **last)
{
	const char *base = strrchr(name, '/') + 1;

	*last = tmp;
	if (!renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE))
		*last = base;
	else
		pr_warn("ghost %u: can't take back the name %s (%s); its fds will read %s (deleted) in that directory\n",
			gid, name, strerror(errno), tmp);
	if (!keep && unlinkat(dfd, *last, S_ISDIR(mode) ? AT_REMOVEDIR : 0))
		return pr_fail_errno("ghost %u: can't remove %s in the directory of %s", gid, *last, name);
	return 0;
}

/* What the image must hold for its kind of inode. */
static int ghost_entry_check(uint32_t gid, const char *name, const GhostFileEntry *gfe)
{
	if (!ghost_kind_ok(gfe->mode))
		return pr_fail(-EOPNOTSUPP, "ghost %u (%s) has mode 0%o: not a kind of file criu can make\n", gid, name,
			       gfe->mode);
	if ((S_ISCHR(gfe->mode) || S_ISBLK(gfe->mode)) && !gfe->has_rdev)
		return pr_fail(-EINVAL, "ghost %u (%s) is a device node without its rdev\n", gid, name);
	if (S_ISLNK(gfe->mode) && (!gfe->symlnk_target || !gfe->symlnk_target[0]))
		return pr_fail(-EINVAL, "ghost %u (%s) is a symlink without its target\n", gid, name);
	return 0;
}

/* The inode made, filled, given its attributes and its name back, and unlinked (a symlink: kept in g). */
static int ghost_build(struct ghost_rst *g, struct cr_img *img, GhostFileEntry *gfe, int dfd, const char *name,
		       int *ret_fd)
{
	bool keep = S_ISLNK(gfe->mode);
	const char *last;
	char tmp[PATH_MAX];
	int fd, ret;

	fd = ghost_create(g->id, dfd, name, gfe, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	ret = (S_ISREG(gfe->mode) ? ghost_fill(img, gfe, fd) : 0) ?: ghost_set_attrs(fd, dfd, tmp, gfe);
	if (ret)
		unlinkat(dfd, tmp, S_ISDIR(gfe->mode) ? AT_REMOVEDIR : 0);
	else
		ret = ghost_unlink(g->id, dfd, tmp, name, gfe->mode, keep, &last);
	if (!ret && keep) {
		g->link = xstrdup(last);
		if (!g->link) {
			unlinkat(dfd, last, 0);
			ret = -ENOMEM;
		}
	}
	if (ret) {
		close(fd);
		return ret;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * The ghost made in its directory (and its removed parents made again
 * first, then removed after it): *dfd its directory, *fd the ghost.
 */
static int ghost_place(struct rst_ctx *ctx, struct ghost_rst *g, struct cr_img *img, GhostFileEntry *gfe,
		       GhostExtEntry *gx, const char *name, int mnt_id, int *dfd, int *fd)
{
	size_t np = gx ? gx->n_removed_parents : 0, nmade = 0;
	struct ghost_parent_made made[GHOST_MAX_PARENTS];
	int ret;

	if (np >= GHOST_MAX_PARENTS || (np && np + 1 >= path_components(name)))
		return pr_fail(-EINVAL, "ghost %u (%s): %zu removed parents, more than its path has\n", g->id, name,
			       np);
	*dfd = ghost_dir(ctx, g->id, name, mnt_id, np + 1);
	if (*dfd < 0)
		return *dfd;
	ret = np ? ghost_parents_make(g->id, name, gx, dfd, made, &nmade) : 0;
	if (!ret)
		ret = ghost_build(g, img, gfe, *dfd, name, fd);
	if (nmade)
		ret = ghost_parents_done(g->id, made, nmade, ret ? NULL : gx) ?: ret;
	return ret;
}

static int ghost_restore(struct rst_ctx *ctx, struct ghost_rst *g, const char *name, int mnt_id)
{
	_cleanup_close_ int fd = -1, dfd = -1;
	GhostFileEntry *gfe = NULL;
	GhostExtEntry *gx = NULL;
	char path[64];
	struct cr_img *img;
	int ret;

	img = open_image_at(ctx->img_dfd, CR_FD_GHOST_FILE, O_RSTR, g->id);
	if (!img)
		return pr_fail(-errno, "can't open the image of ghost %u: %s\n", g->id, img_last_error());
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "ghost-file-%x.img is missing\n", g->id);
	}
	ret = pb_read_one(img, (void **)&gfe, PB_GHOST_FILE);
	if (!ret)
		ret = read_ghost_ext(ctx->img_dfd, g->id, gfe, &gx) ?: ghost_entry_check(g->id, name, gfe);
	if (!ret) {
		g->mode = gfe->mode;
		g->has_ino = gfe->has_dev && gfe->has_ino;
		g->dev = gfe->dev;
		g->ino = gfe->ino;
		ghost_timespec(&g->times[0], gfe->atim, gfe->has_atim_nsec, gfe->atim_nsec);
		ghost_timespec(&g->times[1], gfe->mtim, gfe->has_mtim_nsec, gfe->mtim_nsec);
		ret = ghost_place(ctx, g, img, gfe, gx, name, mnt_id, &dfd, &fd);
	}
	if (gx)
		pb_free(gx, PB_GHOST_EXT);
	if (gfe)
		pb_free(gfe, PB_GHOST_FILE);
	close_image(img);
	if (ret)
		return ret;
	pr_info("ghost %u: %s recreated (mode 0%o)\n", g->id, name, g->mode);
	if (g->link) {
		g->dfd = dfd;
		dfd = -1;
	}
	/*
	 * Kept as an O_PATH fd, not the writable one that filled it: the
	 * kernel refuses as a task's exe (PR_SET_MM_MAP) a file someone holds
	 * open for writing.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	g->fd = open(path, O_PATH | O_CLOEXEC);
	if (g->fd < 0)
		return pr_fail_errno("can't reopen ghost %u (%s)", g->id, name);
	return 0;
}

/* A symlink ghost, by the name it keeps until the stage is done: the same inode as g->fd. */
static int ghost_open_link(struct ghost_rst *g, const char *name, unsigned int flags)
{
	struct stat want, got;
	int fd;

	if (!g->link)
		return pr_fail(-EINVAL, "ghost %u (%s): a symlink opened after its name was removed\n", g->id, name);
	fd = openat(g->dfd, g->link, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open ghost %u (%s) with flags 0%o", g->id, name, flags);
	if (fstat(fd, &got) || fstat(g->fd, &want) || got.st_ino != want.st_ino || got.st_dev != want.st_dev) {
		close(fd);
		return pr_fail(-EIO, "ghost %u (%s): its name was taken by another file during restore\n", g->id, name);
	}
	return fd;
}

/* Ghost gid, made at its first use. */
static int ghost_get_rst(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id, struct ghost_rst **ret)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	struct ghost_rst *g;
	int err;

	if (!st)
		return -ENOMEM;
	for (g = st->ghosts; g; g = g->next)
		if (g->id == gid)
			break;
	if (!g) {
		g = xzalloc(sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->id = gid;
		g->fd = g->dfd = -1;
		err = ghost_restore(ctx, g, name, mnt_id);
		if (err) {
			ghost_free(g);
			return err;
		}
		g->next = st->ghosts;
		st->ghosts = g;
	}
	*ret = g;
	return 0;
}

/* Every ghost of remap-fpath.img made now (by the first file object that names it). */
static int ghost_make_all(struct rst_ctx *ctx)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	struct ghost_rst *g;
	uint32_t gid;
	int ret;

	if (!st)
		return -ENOMEM;
	if (!st->remaps_read && (ret = read_remaps(ctx, st)))
		return ret;
	for (size_t i = 0; i < st->nr_remaps; i++) {
		RemapFilePathEntry *e = st->remaps[i];
		struct file_desc *d = find_file_desc(ctx, e->orig_id);
		RegFileEntry *r = d ? d->fe->reg : NULL;

		if (!e->has_remap_type || e->remap_type != REMAP_TYPE__GHOST)
			continue;
		if (!r || !r->name)
			return pr_fail(-EINVAL, "remap-fpath.img: ghost %u is for file %u, not a file of files.img\n",
				       e->remap_id, e->orig_id);
		gid = e->remap_id;
		ret = ghost_get_rst(ctx, gid, r->name, ctx->mnt && r->has_mnt_id ? r->mnt_id : -1, &g);
		if (ret)
			return ret;
	}
	return 0;
}

int open_ghost_inode(struct rst_ctx *ctx, uint32_t kdev, uint64_t ino, int *ret_fd)
{
	struct ghosts_rst *st;
	int ret = ghost_make_all(ctx);

	if (ret)
		return ret;
	st = ghosts_rst(ctx);
	for (struct ghost_rst *g = st->ghosts; g; g = g->next) {
		if (!g->has_ino || g->ino != ino || g->dev != kdev)
			continue;
		*ret_fd = fcntl(g->fd, F_DUPFD_CLOEXEC, 0);
		if (*ret_fd < 0)
			return pr_fail_errno("ghost %u: dup", g->id);
		return 1;
	}
	return 0;
}

int open_ghost(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id, unsigned int flags, int *ret_fd)
{
	struct ghost_rst *g;
	char path[64];
	int fd, ret;

	ret = ghost_get_rst(ctx, gid, name, mnt_id, &g);
	if (ret)
		return ret;
	/* an O_TMPFILE file has __O_TMPFILE in its flags; an open by path can't have it */
	if (flags & (O_TMPFILE & ~O_DIRECTORY)) {
		pr_info("ghost %u (%s): opened without the O_TMPFILE bits of flags 0%o\n", gid, name, flags);
		flags &= ~O_TMPFILE;
	}
	if (S_ISLNK(g->mode)) {
		fd = ghost_open_link(g, name, flags);
		if (fd < 0)
			return fd;
		*ret_fd = fd;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g->fd);
	fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open ghost %u (%s) with flags 0%o", gid, name, flags);
	*ret_fd = fd;
	return 0;
}

int ghost_retime(struct rst_ctx *ctx, uint32_t id)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	struct ghost_rst *g;
	char path[64];
	uint32_t gid;
	int ret;

	if (!st)
		return -ENOMEM;
	ret = ghost_of_file(ctx, id, &gid);
	if (ret <= 0)
		return ret;
	for (g = st->ghosts; g && g->id != gid; g = g->next)
		;
	if (!g)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g->fd);
	if (utimensat(AT_FDCWD, path, g->times, 0))
		return pr_fail_errno("ghost %u: can't set its times again", gid);
	return 0;
}

/* Every file object of the stage is open: the symlinks lose the names they kept. */
int ghost_stage_done(struct rst_ctx *ctx)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	int ret = 0;

	for (struct ghost_rst *g = st ? st->ghosts : NULL; g; g = g->next) {
		if (!g->link)
			continue;
		if (unlinkat(g->dfd, g->link, 0) && !ret)
			ret = pr_fail_errno("ghost %u: can't remove %s", g->id, g->link);
		free(g->link);
		g->link = NULL;
	}
	return ret;
}

void ghost_restore_fini(struct rst_ctx *ctx)
{
	struct ghosts_rst *st = ghosts_rst(ctx);

	while (st && st->ghosts) {
		struct ghost_rst *g = st->ghosts;

		st->ghosts = g->next;
		ghost_free(g);
	}
	for (size_t i = 0; st && i < st->nr_remaps; i++)
		pb_free(st->remaps[i], PB_REMAP_FPATH);
	if (st) {
		free(st->remaps);
		*st = (struct ghosts_rst){};
	}
}
