// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_rmdir00: fds of directories removed together with their parents:
 * "a/b" (a removed after b) and "x/y/z" (z, then y, then x). Each removed
 * directory has its own mode, owner and mtime. After restore each fd is
 * still its directory, removed (nlink 0), with its attributes, its /proc
 * link reads the old path with "(deleted)", ".." from it leads to its
 * removed parents with their attributes, up to the test's directory, and
 * the names are still free.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAXD 3

struct chain {
	int n;
	char path[MAXD][128];	/* outermost first */
	mode_t mode[MAXD];
	struct stat st[MAXD];	/* as dumped */
	int fd;			/* of the innermost */
	char link[PATH_MAX + 256];
};

static int setup(struct chain *c, const char *cwd)
{
	for (int i = 0; i < c->n; i++)
		if (mkdir(c->path[i], 0700) || chown(c->path[i], 1000 + i, 2000 + i) || chmod(c->path[i], c->mode[i]))
			return -1;
	if (utimensat(AT_FDCWD, c->path[c->n - 1], (struct timespec[]){ { 5, 0 }, { 6, 0 } }, 0))
		return -1;
	c->fd = open(c->path[c->n - 1], O_RDONLY | O_DIRECTORY);
	if (c->fd < 0)
		return -1;
	for (int i = c->n - 1; i >= 0; i--)
		if (rmdir(c->path[i]))
			return -1;
	/* rmdir moved the parents' times: the ones the dump sees are read now, from the fd up */
	for (int i = c->n - 1, fd = dup(c->fd); i >= 0; i--) {
		int up;

		if (fd < 0 || fstat(fd, &c->st[i]))
			return -1;
		up = openat(fd, "..", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = up;
	}
	snprintf(c->link, sizeof(c->link), "%s/%s (deleted)", cwd, c->path[c->n - 1]);
	return 0;
}

static void check(struct chain *c, const struct stat *top)
{
	char got[PATH_MAX + 256], path[64];
	int fd = dup(c->fd), up;
	struct stat st;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fd);
	len = readlink(path, got, sizeof(got) - 1);
	got[len > 0 ? len : 0] = '\0';
	if (strcmp(got, c->link))
		fail("%s: link '%s', expected '%s'", c->path[c->n - 1], got, c->link);
	for (int i = c->n - 1; i >= 0; i--) {
		const struct stat *w = &c->st[i];

		if (fd < 0 || fstat(fd, &st)) {
			fail("%s: can't reach it", c->path[i]);
			return;
		}
		if (!S_ISDIR(st.st_mode) || st.st_nlink != 0 || st.st_mode != w->st_mode || st.st_uid != w->st_uid ||
		    st.st_gid != w->st_gid)
			fail("%s: mode 0%o owner %u:%u nlink %lu, expected 0%o %u:%u 0", c->path[i], st.st_mode,
			     st.st_uid, st.st_gid, (unsigned long)st.st_nlink, w->st_mode, w->st_uid, w->st_gid);
		if (st.st_mtim.tv_sec != w->st_mtim.tv_sec || st.st_mtim.tv_nsec != w->st_mtim.tv_nsec)
			fail("%s: mtime %lld.%09ld, expected %lld.%09ld", c->path[i], (long long)st.st_mtim.tv_sec,
			     st.st_mtim.tv_nsec, (long long)w->st_mtim.tv_sec, w->st_mtim.tv_nsec);
		if (access(c->path[i], F_OK) == 0)
			fail("%s: the name is back", c->path[i]);
		up = openat(fd, "..", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = up;
	}
	if (fd < 0 || fstat(fd, &st) || st.st_ino != top->st_ino || st.st_dev != top->st_dev)
		fail("%s: its removed parents do not lead back to the test's directory", c->path[c->n - 1]);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	struct chain ab = { .n = 2, .mode = { 0751, 0705 } };
	struct chain xyz = { .n = 3, .mode = { 0700, 0555, 0310 } };
	char cwd[PATH_MAX];
	struct stat top;
	int pid;

	test_init(argc, argv);
	pid = getpid();
	snprintf(ab.path[0], sizeof(ab.path[0]), "ghost_rmdir.a.%d", pid);
	snprintf(ab.path[1], sizeof(ab.path[1]), "%.100s/b", ab.path[0]);
	snprintf(xyz.path[0], sizeof(xyz.path[0]), "ghost_rmdir.x.%d", pid);
	snprintf(xyz.path[1], sizeof(xyz.path[1]), "%.100s/y", xyz.path[0]);
	snprintf(xyz.path[2], sizeof(xyz.path[2]), "%.110s/z", xyz.path[1]);
	if (!getcwd(cwd, sizeof(cwd)) || stat(".", &top) || setup(&ab, cwd) || setup(&xyz, cwd)) {
		fail("set up the removed directories");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check(&ab, &top);
	check(&xyz, &top);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
