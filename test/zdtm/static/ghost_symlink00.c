// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_symlink00: an fd of a symlink itself (O_PATH | O_NOFOLLOW) whose
 * name was removed, owned by 1234:5678 with a past mtime, and a second
 * open of it (another open file of the same link). After restore both fds are the one link
 * (same inode), with its target, owner, mtime, nlink 0, O_PATH |
 * O_NOFOLLOW in their flags and "(deleted)" in their /proc link; the name
 * is free again.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TARGET "../some/where/else"

static void check(int fd, const char *link, const struct stat *want, const char *what)
{
	char got[PATH_MAX + 128], path[64];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st)) {
		fail("%s: fstat", what);
		return;
	}
	if (!S_ISLNK(st.st_mode) || st.st_uid != 1234 || st.st_gid != 5678 || st.st_nlink != 0)
		fail("%s: mode 0%o owner %u:%u nlink %lu, expected a symlink of 1234:5678, nlink 0", what, st.st_mode,
		     st.st_uid, st.st_gid, (unsigned long)st.st_nlink);
	if (st.st_mtim.tv_sec != want->st_mtim.tv_sec || st.st_mtim.tv_nsec != want->st_mtim.tv_nsec)
		fail("%s: mtime %lld.%09ld, expected %lld.%09ld", what, (long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, (long long)want->st_mtim.tv_sec, want->st_mtim.tv_nsec);
	if ((fcntl(fd, F_GETFL) & (O_PATH | O_NOFOLLOW)) != (O_PATH | O_NOFOLLOW))
		fail("%s: flags 0%o lack O_PATH | O_NOFOLLOW", what, fcntl(fd, F_GETFL));
	n = readlinkat(fd, "", got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	if (strcmp(got, TARGET))
		fail("%s: target '%s', expected '%s'", what, got, TARGET);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	if (strcmp(got, link))
		fail("%s: link '%s', expected '%s'", what, got, link);
}

int main(int argc, char **argv)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 1234567890, 123456789 } };
	char name[64], cwd[PATH_MAX], link[PATH_MAX + 128];
	struct stat st, a, b;
	int fd, fd2;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_symlink.%d", getpid());
	if (!getcwd(cwd, sizeof(cwd)) || symlink(TARGET, name) || lchown(name, 1234, 5678) ||
	    utimensat(AT_FDCWD, name, ts, AT_SYMLINK_NOFOLLOW)) {
		fail("make the symlink");
		return 1;
	}
	snprintf(link, sizeof(link), "%s/%s (deleted)", cwd, name);
	fd = open(name, O_PATH | O_NOFOLLOW);
	fd2 = open(name, O_PATH | O_NOFOLLOW);
	if (fd < 0 || fd2 < 0 || fstat(fd, &st) || unlink(name)) {
		fail("open and unlink the symlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check(fd, link, &st, "fd");
	check(fd2, link, &st, "second open");
	if (fstat(fd, &a) || fstat(fd2, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		fail("the two opens are two inodes");
	if (faccessat(AT_FDCWD, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		fail("the name %s is back", name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
