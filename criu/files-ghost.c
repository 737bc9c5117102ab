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
#include <sys/xattr.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "rst-ctx.h"
#include "ghost.h"
#include "image.h"
#include "mount.h"
#include "protobuf.h"

#include "ghost-file.pb-c.h"
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

struct ghost_dump {
	struct ghost_dump *next;
	dev_t dev;
	ino_t ino;
	uint32_t id;
};

/* A read-only open of the task's file of our own: its fd may be write-only or O_PATH. */
static int ghost_reopen(const struct fd_parms *p)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->lfd);
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

/*
 * Refuse what a ghost image can't carry; 0 when the file can be dumped as a
 * ghost. Its directory is looked up as the tree sees it (t, mnt_id: in its
 * own mount namespace, on the file's mount).
 */
static int ghost_check(const struct pstree *t, const struct fd_parms *p, const char *name, int mnt_id, int rfd)
{
	char who[64];
	const struct stat *st = &p->stat;
	char dir[PATH_MAX], *slash;
	unsigned long long data = (unsigned long long)st->st_blocks * 512;
	struct stat dst;
	ssize_t nx;
	int iflags;

	ghost_who(p, who, sizeof(who));
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s is unlinked and not a regular file (mode 0%o): criu can't restore it\n",
			       who, p->link, st->st_mode);
	if (st->st_nlink)
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s: this name was removed but the file has %lu other link(s), none of them in the same directory; criu can't restore a file opened by a removed name of a linked file\n",
			       who, p->link, (unsigned long)st->st_nlink);
	if (S_ISREG(st->st_mode) && data > opts.ghost_limit)
		return pr_fail(-EFBIG, "%s: unlinked file %s holds %llu bytes of data, over --ghost-limit %llu\n",
			       who, p->link, data, opts.ghost_limit);
	nx = flistxattr(rfd, NULL, 0);
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
static int read_ghost_ext(int img_dfd, uint32_t gid, GhostFileEntry *gfe)
{
	struct cr_img *img;
	GhostExtEntry *gx;
	int ret;

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
	gfe->has_atim_nsec = gx->has_atim_nsec;
	gfe->atim_nsec = gx->atim_nsec;
	gfe->has_mtim_nsec = gx->has_mtim_nsec;
	gfe->mtim_nsec = gx->mtim_nsec;
	pb_free(gx, PB_GHOST_EXT);
	return ret;
}

static int ghost_write_image(struct dump_files_ctx *ctx, uint32_t gid, const struct fd_parms *p, int rfd)
{
	GhostFileEntry gfe = GHOST_FILE_ENTRY__INIT;
	Timeval atim = TIMEVAL__INIT, mtim = TIMEVAL__INIT;
	GhostExtEntry gx = GHOST_EXT_ENTRY__INIT;
	const struct stat *st = &p->stat;
	struct cr_img *img;
	int ret;

	gfe.uid = st->st_uid;
	gfe.gid = st->st_gid;
	gfe.mode = st->st_mode;
	gfe.has_dev = gfe.has_ino = true;
	gfe.dev = (uint32_t)st->st_dev;
	gfe.ino = st->st_ino;
	gfe.atim = &atim;
	gfe.mtim = &mtim;
	ghost_time(&atim, &gx.atim_nsec, &st->st_atim);
	ghost_time(&mtim, &gx.mtim_nsec, &st->st_mtim);
	gx.has_atim_nsec = gx.has_mtim_nsec = true;
	gfe.has_chunks = gfe.chunks = true;
	gfe.has_size = true;
	gfe.size = S_ISDIR(st->st_mode) ? 0 : st->st_size;	/* a removed directory: empty, no contents */

	img = open_image_at(ctx->img_dfd, CR_FD_GHOST_FILE, O_DUMP, gid);
	if (!img)
		return pr_fail(-errno, "can't create the image of ghost file %u: %s\n", gid, img_last_error());
	ret = pb_write_one(img, &gfe, PB_GHOST_FILE) ?: ghost_dump_chunks(img, rfd, gfe.size, p->link);
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
	ret = ghost_check(ctx->tree, p, name, mnt_id, rfd);
	if (ret)
		return ret;
	g = xzalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->dev = p->stat.st_dev;
	g->ino = p->stat.st_ino;
	g->id = ++ctx->last_ghost_id;
	ret = ghost_write_image(ctx, g->id, p, rfd);
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
	int fd;			/* the controller's read-write open of the recreated inode */
};

/* remap-fpath.img and the ghosts made so far, in the ctx (rst_files_state()) */
struct ghosts_rst {
	RemapFilePathEntry **remaps;
	size_t nr_remaps;
	bool remaps_read;
	struct ghost_rst *ghosts;
};
static const char ghosts_rst_key;

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
static int ghost_dir(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id)
{
	const char *slash = strrchr(name, '/');
	char dir[PATH_MAX];
	int fd;

	if (!slash || name[0] != '/')
		return pr_fail(-EINVAL, "ghost %u: %s is not an absolute path\n", gid, name);
	snprintf(dir, sizeof(dir), "%.*s", slash == name ? 1 : (int)(slash - name), name);
	if (mnt_id >= 0)
		fd = mntns_open_file(ctx, mnt_id, dir, O_PATH | O_DIRECTORY);
	else if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fd = -errno;
	if (fd < 0)
		return pr_fail(fd, "ghost %u: can't open its directory %s%s: %s\n", gid, dir,
			       mnt_id >= 0 ? " in the tree's mount namespace" : "", strerror(-fd));
	return fd;
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

/* A name for the new inode in dfd (name's directory) that nothing else uses: fills tmp, returns the fd. */
static int ghost_create(uint32_t gid, int dfd, const char *name, bool dir, char *tmp, size_t size)
{
	for (unsigned int n = 0; n < 100; n++) {
		int fd;

		snprintf(tmp, size, ".criu-ghost.%x.%d.%u", gid, (int)getpid(), n);
		fd = dir ? ghost_mkdir(dfd, tmp) : openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (dir)
			errno = -fd;
		if (errno != EEXIST)
			return pr_fail_errno("ghost %u: can't create %s next to %s", gid, tmp, name);
	}
	return pr_fail(-EEXIST, "ghost %u: no free temporary name next to %s\n", gid, name);
}

static int ghost_write(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
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
		ret = ghost_write(fd, buf, n, off);
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
static int ghost_set_attrs(int fd, GhostFileEntry *gfe, const char *tmp)
{
	struct timespec ts[2];

	if (fchown(fd, gfe->uid, gfe->gid))
		return pr_fail_errno("can't give %s to %u:%u", tmp, gfe->uid, gfe->gid);
	if (fchmod(fd, gfe->mode & 07777))
		return pr_fail_errno("can't chmod %s to 0%o", tmp, gfe->mode & 07777);
	ghost_timespec(&ts[0], gfe->atim, gfe->has_atim_nsec, gfe->atim_nsec);
	ghost_timespec(&ts[1], gfe->mtim, gfe->has_mtim_nsec, gfe->mtim_nsec);
	if (futimens(fd, ts))
		return pr_fail_errno("can't set the times of %s", tmp);
	return 0;
}

/*
 * Give the inode the name it was last opened by, so that /proc/PID/fd reads
 * as before, if no other file has that name now; then unlink it.
 */
static int ghost_unlink(uint32_t gid, int dfd, const char *tmp, const char *name, bool dir)
{
	const char *base = strrchr(name, '/') + 1, *last = tmp;

	if (!renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE))
		last = base;
	else
		pr_warn("ghost %u: can't take back the name %s (%s); its fds will read %s (deleted) in that directory\n",
			gid, name, strerror(errno), tmp);
	if (unlinkat(dfd, last, dir ? AT_REMOVEDIR : 0))
		return pr_fail_errno("ghost %u: can't remove %s in the directory of %s", gid, last, name);
	return 0;
}

static int ghost_restore(struct rst_ctx *ctx, struct ghost_rst *g, const char *name, int mnt_id)
{
	_cleanup_close_ int fd = -1, dfd = -1;
	bool dir = false;
	GhostFileEntry *gfe = NULL;
	char tmp[PATH_MAX];
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
		ret = read_ghost_ext(ctx->img_dfd, g->id, gfe);
	if (!ret && !S_ISREG(gfe->mode) && !S_ISDIR(gfe->mode))
		ret = pr_fail(-EOPNOTSUPP,
			      "ghost %u (%s) has mode 0%o: criu restores only regular files and directories as ghosts\n",
			      g->id, name, gfe->mode);
	if (!ret) {
		dfd = ghost_dir(ctx, g->id, name, mnt_id);
		ret = dfd < 0 ? dfd : 0;
	}
	if (!ret) {
		dir = S_ISDIR(gfe->mode);
		fd = ghost_create(g->id, dfd, name, dir, tmp, sizeof(tmp));
		ret = fd < 0 ? fd : 0;
	}
	if (!ret) {
		ret = (dir ? 0 : ghost_fill(img, gfe, fd)) ?: ghost_set_attrs(fd, gfe, tmp);
		if (ret)
			unlinkat(dfd, tmp, dir ? AT_REMOVEDIR : 0);
		else
			ret = ghost_unlink(g->id, dfd, tmp, name, dir);
	}
	if (gfe)
		pb_free(gfe, PB_GHOST_FILE);
	close_image(img);
	if (ret)
		return ret;
	pr_info("ghost %u: %s recreated\n", g->id, name);
	/*
	 * Kept as an O_PATH fd, not the writable one that filled it: the
	 * kernel refuses as a task's exe (PR_SET_MM_MAP) a file someone holds
	 * open for writing.
	 */
	snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", fd);
	g->fd = open(tmp, O_PATH | O_CLOEXEC);
	if (g->fd < 0)
		return pr_fail_errno("can't reopen ghost %u (%s)", g->id, name);
	return 0;
}

int open_ghost(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id, unsigned int flags, int *ret_fd)
{
	struct ghosts_rst *st = ghosts_rst(ctx);
	struct ghost_rst *g;
	char path[64];
	int fd, ret;

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
		g->fd = -1;
		ret = ghost_restore(ctx, g, name, mnt_id);
		if (ret) {
			free(g);
			return ret;
		}
		g->next = st->ghosts;
		st->ghosts = g;
	}
	/* an O_TMPFILE file has __O_TMPFILE in its flags; an open by path can't have it */
	if (flags & (O_TMPFILE & ~O_DIRECTORY)) {
		pr_info("ghost %u (%s): opened without the O_TMPFILE bits of flags 0%o\n", gid, name, flags);
		flags &= ~O_TMPFILE;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g->fd);
	fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open ghost %u (%s) with flags 0%o", gid, name, flags);
	*ret_fd = fd;
	return 0;
}

void ghost_restore_fini(struct rst_ctx *ctx)
{
	struct ghosts_rst *st = ghosts_rst(ctx);

	while (st && st->ghosts) {
		struct ghost_rst *g = st->ghosts;

		st->ghosts = g->next;
		if (g->fd >= 0)
			close(g->fd);
		free(g);
	}
	for (size_t i = 0; st && i < st->nr_remaps; i++)
		pb_free(st->remaps[i], PB_REMAP_FPATH);
	if (st) {
		free(st->remaps);
		*st = (struct ghosts_rst){};
	}
}
