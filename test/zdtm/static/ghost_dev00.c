// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_dev00: device nodes whose names were removed while open: a
 * character device (1:3, what /dev/null is) open read-write, mode 0620,
 * owner 1234:5678, and a block device node (7:250) held by an O_PATH fd.
 * After restore each fd is still a node of its kind with its rdev, mode,
 * owner, mtime and nlink 0, its /proc link names the old name (deleted),
 * the character device still works (writes vanish, reads give end of
 * file), and the names are still free.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

struct node {
	char name[64];
	char link[PATH_MAX + 128];
	mode_t mode;
	dev_t rdev;
	int flags;
	int fd;
	struct stat st;
};

static int setup(struct node *n, const char *cwd)
{
	struct timespec ts[2] = { { 1000000000, 5 }, { 1100000000, 777777777 } };

	snprintf(n->link, sizeof(n->link), "%s/%s (deleted)", cwd, n->name);
	if (mknod(n->name, n->mode, n->rdev) || chown(n->name, 1234, 5678) || chmod(n->name, n->mode & 07777) ||
	    utimensat(AT_FDCWD, n->name, ts, 0))
		return -1;
	n->fd = open(n->name, n->flags);
	if (n->fd < 0 || fstat(n->fd, &n->st) || unlink(n->name))
		return -1;
	return 0;
}

static void check(struct node *n)
{
	char got[PATH_MAX + 128], path[64];
	struct stat st;
	ssize_t len;

	if (fstat(n->fd, &st)) {
		fail("%s: fstat", n->name);
		return;
	}
	if (st.st_mode != n->mode || st.st_rdev != n->rdev || st.st_uid != 1234 || st.st_gid != 5678 ||
	    st.st_nlink != 0)
		fail("%s: mode 0%o rdev %u:%u owner %u:%u nlink %lu, expected 0%o %u:%u 1234:5678 0", n->name,
		     st.st_mode, major(st.st_rdev), minor(st.st_rdev), st.st_uid, st.st_gid,
		     (unsigned long)st.st_nlink, n->mode, major(n->rdev), minor(n->rdev));
	if (st.st_mtim.tv_sec != n->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != n->st.st_mtim.tv_nsec)
		fail("%s: mtime changed", n->name);
	if ((fcntl(n->fd, F_GETFL) & (O_ACCMODE | O_PATH)) != (n->flags & (O_ACCMODE | O_PATH)))
		fail("%s: flags 0%o, expected 0%o", n->name, fcntl(n->fd, F_GETFL), n->flags);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", n->fd);
	len = readlink(path, got, sizeof(got) - 1);
	got[len > 0 ? len : 0] = '\0';
	if (strcmp(got, n->link))
		fail("%s: link '%s', expected '%s'", n->name, got, n->link);
	if (access(n->name, F_OK) == 0)
		fail("%s: the name is back", n->name);
}

int main(int argc, char **argv)
{
	struct node chr = { .mode = S_IFCHR | 0620, .rdev = makedev(1, 3), .flags = O_RDWR };
	struct node blk = { .mode = S_IFBLK | 0600, .rdev = makedev(7, 250), .flags = O_PATH };
	char cwd[PATH_MAX], c;

	test_init(argc, argv);
	snprintf(chr.name, sizeof(chr.name), "ghost_dev.c.%d", getpid());
	snprintf(blk.name, sizeof(blk.name), "ghost_dev.b.%d", getpid());
	if (!getcwd(cwd, sizeof(cwd)) || setup(&chr, cwd) || setup(&blk, cwd)) {
		fail("set up the device nodes");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check(&chr);
	check(&blk);
	if (write(chr.fd, "abc", 3) != 3 || read(chr.fd, &c, 1) != 0)
		fail("the character device is not /dev/null any more");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
