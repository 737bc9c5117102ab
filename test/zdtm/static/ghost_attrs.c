// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_attrs: the inode of an open, unlinked file keeps its attributes:
 * owner and group (not root's), mode with the set-gid and sticky bits,
 * atime and mtime to the nanosecond, size and contents, nlink 0, and the
 * /proc link names it by its old name. A second unlinked file, mode 0 and
 * owned by nobody, open read-only, comes back too. The atime is old, so a
 * read would move it: in --norst mode this also checks that the dump read
 * the contents without touching it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN 10007

struct want {
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct timespec at, mt;
	char link[PATH_MAX + 128];
};

static int setup(const char *name, int flags, const struct want *w, const char *buf)
{
	struct timespec ts[2] = { w->at, w->mt };
	int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	int ret = 0;

	if (fd < 0 || write(fd, buf, LEN) != LEN || fchown(fd, w->uid, w->gid) || fchmod(fd, w->mode) ||
	    futimens(fd, ts))
		ret = -1;
	if (fd >= 0)
		close(fd);
	if (ret)
		return -1;
	fd = open(name, flags);
	if (fd < 0 || unlink(name))
		return -1;
	return fd;
}

static void check(int fd, const struct want *w, const char *buf, const char *what)
{
	char link[PATH_MAX + 128], path[64], back[LEN];
	struct stat st;
	ssize_t n;

	errno = 0;
	if (fstat(fd, &st)) {
		fail("%s: fstat", what);
		return;
	}
	if (st.st_uid != w->uid || st.st_gid != w->gid)
		fail("%s: owner %u:%u, expected %u:%u", what, st.st_uid, st.st_gid, w->uid, w->gid);
	if ((st.st_mode & 07777) != w->mode || !S_ISREG(st.st_mode))
		fail("%s: mode 0%o, expected 0%o", what, st.st_mode, w->mode | S_IFREG);
	if (st.st_nlink != 0 || st.st_size != LEN)
		fail("%s: nlink %lu size %lld, expected 0 and %d", what, (unsigned long)st.st_nlink,
		     (long long)st.st_size, LEN);
	/* the times before anything reads the file */
	if (st.st_atim.tv_sec != w->at.tv_sec || st.st_atim.tv_nsec != w->at.tv_nsec)
		fail("%s: atime %lld.%09ld, expected %lld.%09ld", what, (long long)st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, (long long)w->at.tv_sec, w->at.tv_nsec);
	if (st.st_mtim.tv_sec != w->mt.tv_sec || st.st_mtim.tv_nsec != w->mt.tv_nsec)
		fail("%s: mtime %lld.%09ld, expected %lld.%09ld", what, (long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, (long long)w->mt.tv_sec, w->mt.tv_nsec);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, w->link))
		fail("%s: link '%s', expected '%s'", what, link, w->link);
	if (pread(fd, back, LEN, 0) != LEN || memcmp(back, buf, LEN))
		fail("%s: the contents changed", what);
}

int main(int argc, char **argv)
{
	struct want a = {
		.uid = 1234, .gid = 5678, .mode = 03754,
		.at = { 1000000000, 123456789 }, .mt = { 1200000000, 987654321 },
	};
	struct want b = {
		.uid = 65534, .gid = 65534, .mode = 0,
		.at = { 1100000000, 1 }, .mt = { 1100000000, 999999999 },
	};
	char name_a[64], name_b[64], cwd[PATH_MAX], buf[LEN];
	int fa, fb;

	test_init(argc, argv);
	for (int i = 0; i < LEN; i++)
		buf[i] = (char)(i * 31 + 5);
	snprintf(name_a, sizeof(name_a), "ghost_attrs.a.%d", getpid());
	snprintf(name_b, sizeof(name_b), "ghost_attrs.b.%d", getpid());
	if (!getcwd(cwd, sizeof(cwd))) {
		fail("getcwd");
		return 1;
	}
	snprintf(a.link, sizeof(a.link), "%s/%s (deleted)", cwd, name_a);
	snprintf(b.link, sizeof(b.link), "%s/%s (deleted)", cwd, name_b);
	fa = setup(name_a, O_RDWR, &a, buf);
	fb = setup(name_b, O_RDONLY, &b, buf);
	if (fa < 0 || fb < 0) {
		fail("setup");
		return 1;
	}
	check(fa, &a, buf, "before: a");
	check(fb, &b, buf, "before: b");
	/* check() read them: set the times again */
	if (futimens(fa, (struct timespec[]){ a.at, a.mt }) || futimens(fb, (struct timespec[]){ b.at, b.mt })) {
		fail("futimens");
		return 1;
	}
	if (test_failed())
		return 1;

	test_daemon();
	test_waitsig();

	check(fa, &a, buf, "a");
	check(fb, &b, buf, "b");
	if ((fcntl(fb, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(fa, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("access modes changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
