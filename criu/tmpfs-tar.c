// SPDX-License-Identifier: GPL-2.0
/*
 * The files of a tmpfs as CRIU keeps them: a gzip tar (tmpfs-dev-N.tar.gz.img),
 * written and read in-process with libarchive (no tar process, exact errors).
 * Paths in the archive are relative ("./dir/file"), owners numeric, hard
 * links kept as links, special files as headers, extended attributes and
 * the inode flags of chattr (append-only, immutable, ...) as the archive's
 * (pax SCHILY.xattr and SCHILY.fflags records).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define LOG_PREFIX "tmpfs: "
#include "common.h"
#include "log.h"
#include "mount.h"

struct tar_walk {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	dev_t dev;
	const char *what;
	const struct mnt_ns *ns;	/* its socket files bound by the tree */
};

static int ar_fail(struct archive *a, const char *what, const char *path)
{
	return pr_fail(-EIO, "%s: %s: %s\n", what, path, archive_error_string(a) ?: "archive error");
}

static int write_data(struct tar_walk *w, int fd, const char *path)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(w->a, buf, n) != n)
			return ar_fail(w->a, w->what, path);
	if (n < 0)
		return pr_fail_errno("%s: can't read %s", w->what, path);
	return 0;
}

/* The file's extended attributes (user., trusted., security. ...), read through /proc/self/fd. */
static int add_xattrs(struct tar_walk *w, struct archive_entry *e, int dfd, const char *name, const char *path)
{
	char file[PATH_MAX + 64], names[65536], value[65536];
	ssize_t len, vlen;

	snprintf(file, sizeof(file), "/proc/self/fd/%d/%s", dfd, name);
	len = llistxattr(file, names, sizeof(names));
	if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0;
	if (len < 0)
		return pr_fail_errno("%s: can't list the xattrs of %s", w->what, path);
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		vlen = lgetxattr(file, n, value, sizeof(value));
		if (vlen < 0)
			return pr_fail_errno("%s: can't read xattr %s of %s", w->what, n, path);
		archive_entry_xattr_add_entry(e, n, value, vlen);
	}
	return 0;
}

/* chattr flags of a file or directory (tmpfs keeps append-only, immutable, nodump, noatime) */
static int add_fflags(struct tar_walk *w, struct archive_entry *e, int dfd, const char *name, const char *path)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	int flags = 0;

	if (fd < 0)
		return pr_fail_errno("%s: can't open %s", w->what, path);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		if (errno == ENOTTY || errno == EOPNOTSUPP || errno == ENOTSUP)
			return 0;
		return pr_fail_errno("%s: can't read the inode flags of %s", w->what, path);
	}
	if (flags)
		archive_entry_set_fflags(e, (unsigned long)flags, 0);
	return 0;
}

static int write_entry(struct tar_walk *w, struct archive_entry *e, int dfd, const char *name, const char *path)
{
	const struct stat *st = archive_entry_stat(e);
	_cleanup_close_ int fd = -1;

	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		return ar_fail(w->a, w->what, path);
	if (!S_ISREG(st->st_mode) || archive_entry_size(e) == 0)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("%s: can't open %s", w->what, path);
	return write_data(w, fd, path);
}

static int walk_dir(struct tar_walk *w, int dfd, const char *rel);

static int add_one(struct tar_walk *w, int dfd, const char *name, const char *path)
{
	struct archive_entry *e, *sparse = NULL;
	struct stat st;
	int ret = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return pr_fail_errno("%s: can't stat %s", w->what, path);
	if (st.st_dev != w->dev)
		return 0;	/* not on this tmpfs */
	if (S_ISSOCK(st.st_mode) && mntns_socket_file_bound(w->ns, &st)) {
		pr_info("%s: %s is the file of a socket of the tree, which binds it again at restore\n", w->what, path);
		return 0;
	}
	if (S_ISSOCK(st.st_mode))
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s is a unix socket file no socket of the tree is bound to, which a tar can't hold\n",
			       w->what, path);
	e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	archive_entry_copy_pathname(e, path);
	archive_entry_copy_stat(e, &st);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);

		if (n < 0) {
			archive_entry_free(e);
			return pr_fail_errno("%s: can't read link %s", w->what, path);
		}
		target[n] = '\0';
		archive_entry_copy_symlink(e, target);
	}
	ret = add_xattrs(w, e, dfd, name, path);
	if (!ret && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		ret = add_fflags(w, e, dfd, name, path);
	if (ret) {
		archive_entry_free(e);
		return ret;
	}
	if (!S_ISDIR(st.st_mode))
		archive_entry_linkify(w->links, &e, &sparse);
	if (e)
		ret = write_entry(w, e, dfd, name, path);
	archive_entry_free(e);
	if (!ret && S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (sub < 0)
			return pr_fail_errno("%s: can't open %s", w->what, path);
		ret = walk_dir(w, sub, path);
	}
	return ret;
}

static int walk_dir(struct tar_walk *w, int dfd, const char *rel)
{
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("%s: can't open %s", w->what, rel);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return pr_fail_errno("%s: can't read %s", w->what, rel);
	}
	while (!ret && (errno = 0, de = readdir(d))) {
		char path[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", rel, de->d_name) >= (int)sizeof(path))
			ret = pr_fail(-ENAMETOOLONG, "%s: a path under %s is too long\n", w->what, rel);
		else
			ret = add_one(w, dfd, de->d_name, path);
	}
	closedir(d);
	return ret;
}

int tmpfs_tar_write(int dfd, int out_fd, const char *what, const struct mnt_ns *ns)
{
	struct tar_walk w = { .what = what, .ns = ns };
	struct stat st;
	int ret;

	if (fstat(dfd, &st))
		return pr_fail_errno("%s: can't stat its root", what);
	w.dev = st.st_dev;
	w.a = archive_write_new();
	w.links = archive_entry_linkresolver_new();
	if (!w.a || !w.links) {
		ret = -ENOMEM;
		goto out;
	}
	if (archive_write_add_filter_gzip(w.a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_open_fd(w.a, out_fd) != ARCHIVE_OK) {
		ret = ar_fail(w.a, what, "the image");
		goto out;
	}
	archive_entry_linkresolver_set_strategy(w.links, archive_format(w.a));
	ret = add_one(&w, dfd, ".", ".");
	if (!ret) {
		struct archive_entry *e = NULL, *sparse = NULL;

		/* hard links whose other names were never met */
		archive_entry_linkify(w.links, &e, &sparse);
		while (!ret && e) {
			ret = archive_write_header(w.a, e) == ARCHIVE_OK ? 0 : ar_fail(w.a, what, "a hard link");
			archive_entry_free(e);
			e = NULL;
			archive_entry_linkify(w.links, &e, &sparse);
		}
	}
	if (!ret && archive_write_close(w.a) != ARCHIVE_OK)
		ret = ar_fail(w.a, what, "the image");
out:
	if (w.links)
		archive_entry_linkresolver_free(w.links);
	if (w.a)
		archive_write_free(w.a);
	return ret;
}

static int copy_data(struct archive *a, struct archive *disk, const char *what, const char *path)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(disk, buf, size, off) != ARCHIVE_OK)
			return ar_fail(disk, what, path);
	return r == ARCHIVE_EOF ? 0 : ar_fail(a, what, path);
}

/* Extract under dfd: the caller's cwd moves there (a helper process of its own). */
int tmpfs_tar_read(int dfd, int in_fd, const char *what)
{
	struct archive *a = archive_read_new(), *disk = archive_write_disk_new();
	struct archive_entry *e;
	int ret = 0, r;

	if (!a || !disk) {
		ret = -ENOMEM;
		goto out;
	}
	if (fchdir(dfd)) {
		ret = pr_fail_errno("%s: can't enter the tmpfs", what);
		goto out;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
						     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS |
						     ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(a, in_fd, 65536) != ARCHIVE_OK) {
		ret = ar_fail(a, what, "the image");
		goto out;
	}
	while (!ret && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);

		if (archive_write_header(disk, e) != ARCHIVE_OK) {
			ret = ar_fail(disk, what, path);
			break;
		}
		ret = copy_data(a, disk, what, path);
		if (!ret && archive_write_finish_entry(disk) != ARCHIVE_OK)
			ret = ar_fail(disk, what, path);
	}
	if (!ret && r != ARCHIVE_EOF)
		ret = ar_fail(a, what, "the image");
	/* directories get their modes, times and flags last, here */
	if (!ret && archive_write_close(disk) != ARCHIVE_OK)
		ret = ar_fail(disk, what, "the directories' attributes");
out:
	if (a)
		archive_read_free(a);
	if (disk)
		archive_write_free(disk);
	return ret;
}
