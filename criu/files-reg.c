// SPDX-License-Identifier: GPL-2.0
/*
 * Files reopened by path: regular files, directories and character devices
 * such as /dev/null (terminals are tty.c's).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "common.h"
#include "cr_options.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "deadproc.h"
#include "ghost.h"
#include "hugetlb.h"
#include "image.h"
#include "mount.h"
#include "protobuf.h"
#include "tty.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "files-reg: "

#define DELETED_SUFFIX " (deleted)"

static bool reg_detect(const struct fd_parms *p)
{
	mode_t m = p->stat.st_mode;

	if (p->link[0] != '/')
		return false;
	/* a symlink itself is open only with O_PATH | O_NOFOLLOW, and reopened so */
	if (S_ISLNK(m))
		return (p->flags & O_PATH) != 0;
	return S_ISREG(m) || S_ISDIR(m) || (S_ISCHR(m) && !tty_is_terminal(&p->stat)) || S_ISBLK(m);
}

bool file_unlinked(const struct pstree *t, const struct fd_parms *p, char *ret_name, size_t size)
{
	size_t len = strlen(p->link), sl = strlen(DELETED_SUFFIX);
	struct stat st;

	snprintf(ret_name, size, "%s", p->link);
	if (len <= sl || strcmp(p->link + len - sl, DELETED_SUFFIX))
		return false;
	if (!mntns_tree_stat(t, p->item, p->link, &st, true) && st.st_ino == p->stat.st_ino && st.st_dev == p->stat.st_dev)
		return false;
	ret_name[len - sl] = '\0';
	return true;
}

/*
 * --external file[MNT_ID:INO] (CRIU's): the file is the runtime's, restored
 * from --inherit-fd fd[N]:file[MNT_ID:INO]; its entry names the key instead
 * of a path (ext), with the fd's flags, position and owner.
 */
static int reg_dump_ext(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p, const char *key)
{
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry rfe = REG_FILE_ENTRY__INIT;
	FownEntry fown;
	int ret = fill_fown(ctx, p, &fown);

	if (ret)
		return ret;
	rfe.id = id;
	rfe.flags = p->flags;
	rfe.pos = p->fdinfo.pos;
	rfe.fown = &fown;
	rfe.name = (char *)key;
	rfe.has_ext = rfe.ext = true;
	rfe.has_mode = true;
	rfe.mode = p->stat.st_mode;
	fe.type = FD_TYPES__REG;
	fe.id = id;
	fe.reg = &rfe;
	pr_info("fd %d of task %d (%s) is external: %s\n", p->fd, p->item ? p->item->pid : 0, p->link, key);
	return write_file_entry(ctx, &fe);
}

/*
 * The inode of an unlinked name that still has links (glibc's sem_open()
 * maps its file under a temporary name, links it to the semaphore's name
 * and removes the first): another name of it in the same directory, into
 * other. 1 when found. A copy would split the inode in two (whoever opens
 * the semaphore by name would not see the restored task's), so without
 * such a name it is refused (ghost_check()).
 */
static int find_other_link(const struct pstree *t, const struct pstree_item *item, const char *name, const struct stat *want, char *other,
			   size_t size)
{
	char dir[PATH_MAX], *slash;
	_cleanup_close_ int dfd = -1;
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "%s", name);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	slash[slash == dir ? 1 : 0] = '\0';
	/* as the tree sees it: in its own mount namespace, the same directory is on the file's mount */
	dfd = mntns_tree_open(t, item, dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return 0;
	d = fdopendir(dup(dfd));
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
		    st.st_ino != want->st_ino || st.st_dev != want->st_dev)
			continue;
		if ((size_t)snprintf(other, size, "%s/%s", strcmp(dir, "/") ? dir : "", de->d_name) < size)
			found = 1;
	}
	closedir(d);
	return found;
}

/*
 * The device of the kernel's internal shmem mount, where the inodes of
 * shared anonymous memory live ("/dev/zero (deleted)"): found once per dump
 * from a shared anonymous page of criu's own.
 */
static const char shmem_dev_key;

static int anon_shmem_dev(struct dump_files_ctx *ctx, dev_t *ret)
{
	struct {
		bool known;
		dev_t dev;
	} *st = dump_files_state(ctx, &shmem_dev_key, sizeof(*st), NULL);
	char path[64];
	struct stat s;
	void *m;
	int fd;

	if (!st)
		return -ENOMEM;
	if (!st->known) {
		m = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + 4096);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &s)) {
			int err = -errno;

			if (fd >= 0)
				close(fd);
			munmap(m, 4096);
			return err;
		}
		close(fd);
		munmap(m, 4096);
		st->dev = s.st_dev;
		st->known = true;
	}
	*ret = st->dev;
	return 0;
}

/*
 * Kernel shared memory opened as a file through /proc/PID/map_files that
 * memfd.c did not take: the segment of a SysV shm attachment (on the
 * kernel's internal shmem mount), or shared anonymous hugetlb memory
 * (MAP_HUGETLB, "/anon_hugepage (deleted)" on hugetlbfs's own mount). Their
 * memory comes back as an object of its own (ipc_ns.c, mem-restore.c), so
 * a ghost copy of it would be another inode, on another filesystem for
 * hugetlb. (Shared anonymous memory, "/dev/zero (deleted)", and memfds are
 * memfd.c's.)
 */
static int refuse_anon_shmem(struct dump_files_ctx *ctx, const struct fd_parms *p)
{
	const char *what = "kernel shared memory";
	dev_t dev = 0;
	int ret;

	if (!S_ISREG(p->stat.st_mode) || p->stat.st_nlink)
		return 0;
	if (p->sfs.f_type == HUGETLBFS_MAGIC) {
		if (strcmp(p->link, HUGETLB_ANON_NAME " (deleted)"))
			return 0;
		what = "shared anonymous hugetlb memory";
	} else {
		ret = anon_shmem_dev(ctx, &dev);
		if (ret)
			return pr_fail(ret, "can't find the device of shared anonymous memory: %s\n", strerror(-ret));
		if (p->stat.st_dev != dev)
			return 0;
	}
	if (p->fd >= 0)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d is %s opened as a file (%s, through /proc/PID/map_files): not supported\n",
			       p->fd, p->item ? p->item->pid : 0, what, p->link);
	return pr_fail(-EOPNOTSUPP, "a mapping or the exe of task %d is %s opened as a file (%s, through "
		       "/proc/PID/map_files): not supported\n", p->item ? p->item->pid : 0, what, p->link);
}

int write_path_file(struct dump_files_ctx *ctx, const struct fd_parms *p, const char *name, FownEntry *fown,
		    int mnt_id, uint32_t *ret_id)
{
	RegFileEntry rfe = REG_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;

	rfe.id = ctx->next_id++;
	rfe.flags = p->flags;
	rfe.fown = fown;
	rfe.name = (char *)name;
	rfe.has_mode = true;
	rfe.mode = p->stat.st_mode;
	if (mnt_id >= 0) {
		rfe.has_mnt_id = true;
		rfe.mnt_id = mnt_id;
	}
	fe.type = FD_TYPES__REG;
	fe.id = rfe.id;
	fe.reg = &rfe;
	*ret_id = rfe.id;
	return write_file_entry(ctx, &fe);
}

static int reg_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	char other[PATH_MAX];
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry rfe = REG_FILE_ENTRY__INIT;
	FownEntry fown;
	char name[PATH_MAX];
	const char *ext = p->fd >= 0 ? opts_ext_file(p->fdinfo.mnt_id, p->stat.st_ino) : NULL;
	int ret, mnt_id;

	if (ext)
		return reg_dump_ext(ctx, id, p, ext);
	ret = refuse_anon_shmem(ctx, p) ?: mntns_file_mount(ctx->tree, p, &mnt_id);
	if (ret)
		return ret;
	/* an unlinked file comes back as a ghost: its inode is in the images */
	if (file_unlinked(ctx->tree, p, name, sizeof(name))) {
		if (S_ISREG(p->stat.st_mode) && p->stat.st_nlink &&
		    find_other_link(ctx->tree, p->item, name, &p->stat, other, sizeof(other))) {
			pr_info("%s: the inode is still linked as %s\n", p->link, other);
			rfe.other_link = other;
		} else {
			ret = dump_ghost(ctx, id, p, name, mnt_id);
			if (ret)
				return ret;
		}
	}
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	rfe.id = id;
	rfe.flags = p->flags;
	rfe.pos = p->fd >= 0 ? p->fdinfo.pos : 0;
	rfe.fown = &fown;
	rfe.name = name;
	rfe.has_mode = true;
	rfe.mode = p->stat.st_mode;
	if (mnt_id >= 0) {
		rfe.has_mnt_id = true;
		rfe.mnt_id = mnt_id;
	}
	/*
	 * The size tells whether a file read by the task changed before restore.
	 * A file the task may write to grows legitimately (logs): no check then.
	 */
	if (S_ISREG(p->stat.st_mode) && (p->flags & O_ACCMODE) == O_RDONLY && !(p->flags & O_APPEND)) {
		rfe.has_size = true;
		rfe.size = p->stat.st_size;
	}
	fe.type = FD_TYPES__REG;
	fe.id = id;
	fe.reg = &rfe;
	return write_file_entry(ctx, &fe);
}

/*
 * A path read from an image is absolute, with no empty, "." or ".."
 * component: the dump writes the kernel's path of the file, which has none.
 * Anything else (`../../x`, `a/b`, `/a/../b`) would resolve from criu's
 * working directory or climb out of the root: refused.
 */
int img_path_check(const char *name)
{
	const char *c = name;

	if (!name || name[0] != '/')
		return -EINVAL;
	if (!strcmp(name, "/"))
		return 0;
	while (*c == '/') {
		const char *end = strchrnul(c + 1, '/');
		size_t len = end - (c + 1);

		if (!len || (len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.'))
			return -EINVAL;
		c = end;
	}
	return 0;
}

/*
 * Open a path read from an image from the root, as CRIU does (openat() of
 * the path under the root's fd, not from criu's cwd). openat2() keeps every
 * step inside the root (RESOLVE_IN_ROOT: a symlink's `..` or absolute target
 * stays under it) and follows no /proc magic link (RESOLVE_NO_MAGICLINKS: an
 * image naming /proc/self/fd/N would otherwise open one of criu's own fds).
 */
int open_img_path(const char *name, int flags)
{
	/* open() ignores flags it does not know and, with O_PATH, most others; openat2() refuses them */
	unsigned int known = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
			     O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |
			     O_SYNC | O_PATH | O_TMPFILE;
	struct open_how how = {
		.flags = (unsigned int)flags & known,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int root = -1;
	long fd;

	if (img_path_check(name)) {
		errno = EINVAL;
		return -1;
	}
	if (how.flags & O_PATH)
		how.flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	fd = syscall(SYS_openat2, root, name[1] ? name + 1 : ".", &how, sizeof(how));
	return (int)fd;
}

/*
 * A /proc file of a task of the tree (/proc/PID/maps, /proc/PID): opened
 * once the restored tasks exist (their pids are the dumped ones), so that it
 * is the restored task's. True when d is one, its stage moved.
 */
static bool proc_of_tree(struct rst_ctx *ctx, struct file_desc *d)
{
	const char *name = d->fe->reg->name;
	pid_t pid;
	int idx;

	if (strncmp(name, "/proc/", 6))
		return false;
	pid = proc_path_pid(name);
	if (pid <= 0 || !pstree_find_tid(&ctx->tree, pid, &idx))
		return false;
	d->stage = FILE_OPEN_AFTER_TREE;
	return true;
}

int open_reg_path(struct rst_ctx *ctx, const RegFileEntry *r, int flags)
{
	int fd;

	if (ctx->mnt && r->has_mnt_id && r->mnt_id >= 0)
		return mntns_open_file(ctx, r->mnt_id, r->name, flags);
	fd = open_img_path(r->name, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int reg_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->reg)
		return pr_fail(-EINVAL, "files.img: regular file %u has no reg entry\n", d->id);
	if (d->fe->reg->has_ext && d->fe->reg->ext)
		return 0;	/* a key, not a path: reg_open_ext() */
	if (img_path_check(d->fe->reg->name))
		return pr_fail(-EINVAL,
			       "files.img: file %u has the path '%s', not an absolute path without '.' or '..' (refused: it would resolve outside the root)\n",
			       d->id, d->fe->reg->name ?: "");
	if (proc_of_tree(ctx, d))
		return rst_own_pidns(ctx) || ctx->mnt
			       ? pr_fail(-EOPNOTSUPP,
					 "files.img: file %u is %s, a /proc file of a task of a tree with namespaces of its "
					 "own: criu can't reopen it\n",
					 d->id, d->fe->reg->name)
			       : 0;
	if (d->fe->reg->has_deleted && d->fe->reg->deleted)
		return pr_fail(-EINVAL,
			       "files.img: file %u (%s) is a deleted file of an older criu image format (reg-files-data.img), which this criu no longer reads\n",
			       d->id, d->fe->reg->name);
	return 0;
}

/* An external file (ext): a new open of the file criu was given with --inherit-fd fd[N]:KEY. */
static int reg_open_ext(struct file_desc *d, unsigned int flags, int *ret_fd)
{
	RegFileEntry *r = d->fe->reg;
	int n = r->name ? inherit_fd_lookup(r->name) : -1;
	char path[64];

	if (n < 0)
		return pr_fail(-ENOENT, "file %u was external at dump (%s): give it with --inherit-fd fd[N]:%s\n",
			       d->id, r->name ?: "?", r->name ?: "?");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", n);
	*ret_fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (*ret_fd < 0)
		return pr_fail_errno("can't open --inherit-fd fd[%d]:%s (file %u) again", n, r->name, d->id);
	pr_info("file %u: %s from criu's fd %d (--inherit-fd)\n", d->id, r->name, n);
	return 0;
}

/*
 * A file opened by a name that was removed while another link (other_link)
 * kept its inode: the name is linked to the inode again, opened and
 * removed, so that the task holds the same inode by the same removed name.
 * When the name is taken by now, the file is opened by the other link
 * (the same inode; only /proc/PID/fd names it differently).
 */
/* A path of r's directory (r->name's or its other link): as open_reg_path() opens r->name. */
static int open_near(struct rst_ctx *ctx, const RegFileEntry *r, const char *path, int flags)
{
	int fd;

	if (ctx->mnt && r->has_mnt_id && r->mnt_id >= 0)
		return mntns_open_file(ctx, r->mnt_id, path, flags);
	fd = open_img_path(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int open_by_other_link(struct rst_ctx *ctx, const RegFileEntry *r, int flags)
{
	_cleanup_close_ int ofd = -1, dfd = -1;
	char dir[PATH_MAX], *base;
	struct stat ost, st;
	int fd;

	ofd = open_near(ctx, r, r->other_link, O_PATH | O_NOFOLLOW);
	if (ofd < 0 || fstat(ofd, &ost) || !S_ISREG(ost.st_mode))
		return pr_fail(ofd < 0 ? ofd : -EINVAL, "%s: the other link %s of this removed name is gone\n",
			       r->name, r->other_link);
	snprintf(dir, sizeof(dir), "%s", r->name);
	base = strrchr(dir, '/');
	if (!base || !base[1])
		return pr_fail(-EINVAL, "%s: no file name\n", r->name);
	*base++ = '\0';
	dfd = open_near(ctx, r, dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
	if (dfd < 0)
		return pr_fail(dfd, "%s: can't open its directory: %s\n", r->name, strerror(-dfd));
	if (linkat(ofd, "", dfd, base, AT_EMPTY_PATH)) {
		if (errno != EEXIST)
			return pr_fail_errno("can't link %s to %s again", r->other_link, r->name);
		pr_warn("%s is taken: the file is opened by its other link %s\n", r->name, r->other_link);
		fd = open_near(ctx, r, r->other_link, flags);
		return fd < 0 ? pr_fail(fd, "can't open %s: %s\n", r->other_link, strerror(-fd)) : fd;
	}
	fd = openat(dfd, base, flags);	/* the inode is checked below (O_NOFOLLOW would stay in its flags) */
	if (fd < 0)
		fd = -errno;
	if (unlinkat(dfd, base, 0))
		pr_warn("can't remove %s again: %s\n", r->name, strerror(errno));
	if (fd < 0)
		return pr_fail(fd, "can't open %s: %s\n", r->name, strerror(-fd));
	if (fstat(fd, &st) || st.st_ino != ost.st_ino || st.st_dev != ost.st_dev) {
		close(fd);
		return pr_fail(-EIO, "%s changed under criu while it was linked again\n", r->name);
	}
	return fd;
}

static int reg_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	RegFileEntry *r = d->fe->reg;
	unsigned int flags = r->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	uint32_t gid;
	pid_t dead;
	int fd, ret;

	/*
	 * The path of a FIFO: its fifo object opens it (after a read-write
	 * holder); opened here, a write end would block without a reader.
	 */
	if (r->has_mode && S_ISFIFO(r->mode)) {
		*ret_fd = -1;
		return 0;
	}

	/* /proc/PID of a process that is gone: a task's cwd, entered by its stub (files-deadproc.c) */
	ret = dead_proc_of_file(ctx, d->id, &dead);
	if (ret) {
		*ret_fd = -1;
		return ret < 0 ? ret : 0;
	}
	ret = r->has_ext && r->ext ? 0 : ghost_of_file(ctx, d->id, &gid);
	if (ret < 0)
		return ret;
	if (r->has_ext && r->ext) {
		ret = reg_open_ext(d, flags, &fd);
		if (ret)
			return ret;
	} else if (ret) {
		ret = open_ghost(ctx, gid, r->name, ctx->mnt && r->has_mnt_id ? r->mnt_id : -1, flags, &fd);
		if (ret)
			return ret;
	} else if (r->other_link) {
		fd = open_by_other_link(ctx, r, flags | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return fd;
	} else {
		/* in the tree's own mount namespace: relative to the mount it was opened on */
		fd = open_reg_path(ctx, r, flags | O_NOCTTY);
		if (fd < 0) {
			errno = -fd;
			fd = -1;
		}
	}
	if (fd < 0)
		return pr_fail_errno("can't open %s (file %u)", r->name, d->id);
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	if (r->has_mode && (st.st_mode & S_IFMT) != (r->mode & S_IFMT)) {
		close(fd);
		return pr_fail(-EINVAL, "%s is not the same kind of file as at dump (mode 0%o, was 0%o)\n", r->name,
			       st.st_mode, r->mode);
	}
	if (r->has_size && S_ISREG(st.st_mode) && (uint64_t)st.st_size != r->size) {
		close(fd);
		return pr_fail(-EINVAL, "%s has changed size since the dump (%lld bytes, was %llu)\n", r->name,
			       (long long)st.st_size, (unsigned long long)r->size);
	}
	if (r->pos && lseek(fd, r->pos, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return pr_fail(-e, "can't seek %s to %llu: %s\n", r->name, (unsigned long long)r->pos, strerror(e));
	}
	*ret_fd = fd;
	return 0;
}

static int reg_stage_done(struct rst_ctx *ctx)
{
	return ghost_stage_done(ctx);
}

static void reg_cleanup(struct rst_ctx *ctx)
{
	ghost_restore_fini(ctx);
}

const struct file_type reg_file_type = {
	.name = "reg",
	.stage_done = reg_stage_done,
	.cleanup = reg_cleanup,
	.type = FD_TYPES__REG,
	.detect = reg_detect,
	.dump = reg_dump,
	.collect = reg_collect,
	.open = reg_open,
	.stage = FILE_OPEN_EARLY,
};

