// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_fifo00: FIFOs whose names were removed while open.
 * - "a": a read end (O_NONBLOCK) and a write end, 5 bytes queued, mode
 *   0640, owner 1234:5678, a past mtime; a forked child holds the same
 *   open read end (one open file, shared offset-less state: its flags);
 * - "b": only a read-write fd, with 3 bytes queued.
 * After restore both ends of "a" are one pipe: the queued bytes come out
 * of the read end first, then what the write end writes; closing the write
 * end (the child's too) gives end of file, so no other writer was left;
 * the inode still has nlink 0, its mode, owner, mtime, and the /proc link
 * names it by its old name (deleted); "b" still holds its bytes.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static void check_inode(int fd, const char *link, const struct stat *want, const char *what)
{
	char got[PATH_MAX + 32], path[64];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st)) {
		fail("%s: fstat", what);
		return;
	}
	if (!S_ISFIFO(st.st_mode) || st.st_mode != want->st_mode || st.st_uid != want->st_uid ||
	    st.st_gid != want->st_gid || st.st_nlink != 0)
		fail("%s: mode 0%o owner %u:%u nlink %lu, expected 0%o %u:%u and 0", what, st.st_mode, st.st_uid,
		     st.st_gid, (unsigned long)st.st_nlink, want->st_mode, want->st_uid, want->st_gid);
	if (st.st_mtim.tv_sec != want->st_mtim.tv_sec || st.st_mtim.tv_nsec != want->st_mtim.tv_nsec)
		fail("%s: mtime %lld.%09ld, expected %lld.%09ld", what, (long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, (long long)want->st_mtim.tv_sec, want->st_mtim.tv_nsec);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	if (strcmp(got, link))
		fail("%s: link '%s', expected '%s'", what, got, link);
}

static int read_exact(int fd, const char *want, size_t len, const char *what)
{
	char buf[64] = {};

	if (read(fd, buf, sizeof(buf)) != (ssize_t)len || memcmp(buf, want, len)) {
		fail("%s: did not read '%.*s'", what, (int)len, want);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 1200000000, 123456789 } };
	char name_a[64], name_b[64], link_a[PATH_MAX + 128], link_b[PATH_MAX + 128], cwd[PATH_MAX];
	struct stat sa, sb, s1, s2;
	int ra, wa, rwb, status, p[2];
	pid_t child;
	char c;

	test_init(argc, argv);
	snprintf(name_a, sizeof(name_a), "ghost_fifo.a.%d", getpid());
	snprintf(name_b, sizeof(name_b), "ghost_fifo.b.%d", getpid());
	if (!getcwd(cwd, sizeof(cwd)) || mkfifo(name_a, 0600) || mkfifo(name_b, 0600) ||
	    chown(name_a, 1234, 5678) || chmod(name_a, 0640) || utimensat(AT_FDCWD, name_a, ts, 0)) {
		fail("make the fifos");
		return 1;
	}
	snprintf(link_a, sizeof(link_a), "%s/%s (deleted)", cwd, name_a);
	snprintf(link_b, sizeof(link_b), "%s/%s (deleted)", cwd, name_b);
	ra = open(name_a, O_RDONLY | O_NONBLOCK);
	wa = open(name_a, O_WRONLY);
	rwb = open(name_b, O_RDWR);
	/* the writes move the times: they are set again after them */
	if (ra < 0 || wa < 0 || rwb < 0 || write(wa, "hello", 5) != 5 || write(rwb, "xyz", 3) != 3 ||
	    futimens(wa, ts) || unlink(name_a) || unlink(name_b) || fstat(ra, &sa) || fstat(rwb, &sb)) {
		fail("open, fill and unlink the fifos");
		return 1;
	}
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		/* holds the write end too; exits when told, closing it */
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	if (child < 0) {
		fail("fork");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_inode(ra, link_a, &sa, "a, read end");
	check_inode(wa, link_a, &sa, "a, write end");
	check_inode(rwb, link_b, &sb, "b");
	if (fstat(ra, &s1) || fstat(wa, &s2) || s1.st_ino != s2.st_ino || s1.st_dev != s2.st_dev)
		fail("the ends of a are two inodes");
	if ((fcntl(ra, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK) ||
	    (fcntl(wa, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != O_WRONLY || (fcntl(rwb, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("the flags of the fds changed");
	if (!read_exact(ra, "hello", 5, "a") && write(wa, "again", 5) == 5)
		read_exact(ra, "again", 5, "a after a write");
	read_exact(rwb, "xyz", 3, "b");
	/* the last writers go: the reader sees end of file */
	close(wa);
	if (write(p[1], "x", 1) != 1 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("the child");
	errno = 0;
	if (read(ra, &c, 1) != 0)
		fail("a: no end of file after its writers closed (%m): a writer is left over");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
