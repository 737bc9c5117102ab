// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_shared: one unlinked inode behind several open files in two tasks.
 *   A: read-write, 2 MiB written through it, then inherited by the child
 *      (one open file in both tasks: one offset);
 *   B: write-only with O_APPEND, opened before the unlink, inherited too;
 *   C: read-only at offset 100, the parent's own;
 *   D: the child's own read-only reopen of A (through /proc) after the fork.
 * After restore: the child sees the offset the parent sets on A, a write of
 * the child through B (appended) is read by the parent through C and a
 * write of the parent through A is read by the child through D (one
 * inode), kcmp tells A from B, C and D, and offsets, flags and contents are
 * as before.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (2 * 1024 * 1024)
#define KCMP_FILE 0

static int kcmp_file(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

static char byte_at(long i)
{
	return (char)((i * 131) ^ (i >> 9));
}

/* The child: answers over res when the parent says so over go. */
static int child(int a, int b, int d, int go, int res)
{
	char c, back[16];
	pid_t pp = getppid();
	int ok = 1;

	if (read(go, &c, 1) != 1)
		return 2;
	/* the parent moved A's offset to 777 and wrote "PARENT" at 5000 through it */
	if (lseek(a, 0, SEEK_CUR) != 777)
		ok = 0;
	if (pread(d, back, 6, 5000) != 6 || memcmp(back, "PARENT", 6))
		ok = 0;
	if (lseek(d, 0, SEEK_CUR) != 0 || (fcntl(d, F_GETFL) & O_ACCMODE) != O_RDONLY)
		ok = 0;
	if (kcmp_file(pp, a, getpid(), a) != 0 || kcmp_file(pp, b, getpid(), b) != 0)
		ok = 0;
	if (kcmp_file(getpid(), a, getpid(), d) == 0)
		ok = 0;
	if (write(b, "CHILD", 5) != 5)
		ok = 0;
	c = ok ? 'y' : 'n';
	if (write(res, &c, 1) != 1)
		return 3;
	return 0;
}

int main(int argc, char **argv)
{
	int a, b, c, d, go[2], res[2], status;
	char name[64], *buf, r = 0, back[16];
	struct stat sa, sc;
	pid_t pid;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_shared.%d", getpid());
	buf = malloc(LEN);
	a = open(name, O_RDWR | O_CREAT | O_EXCL, 0640);
	b = open(name, O_WRONLY | O_APPEND);
	c = open(name, O_RDONLY);
	if (!buf || a < 0 || b < 0 || c < 0 || unlink(name) || pipe(go) || pipe(res)) {
		fail("setup");
		return 1;
	}
	for (long i = 0; i < LEN; i++)
		buf[i] = byte_at(i);
	if (write(a, buf, LEN) != LEN || lseek(c, 100, SEEK_SET) != 100) {
		fail("write");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		char path[64];

		close(go[1]);
		close(res[0]);
		close(c);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", a);
		d = open(path, O_RDONLY);
		if (d < 0)
			_exit(4);
		_exit(child(a, b, d, go[0], res[1]));
	}
	close(go[0]);
	close(res[1]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (lseek(a, 0, SEEK_CUR) != LEN || lseek(c, 0, SEEK_CUR) != 100)
		fail("offsets %lld %lld, expected %d 100", (long long)lseek(a, 0, SEEK_CUR),
		     (long long)lseek(c, 0, SEEK_CUR), LEN);
	if (!(fcntl(b, F_GETFL) & O_APPEND) || (fcntl(b, F_GETFL) & O_ACCMODE) != O_WRONLY ||
	    (fcntl(c, F_GETFL) & O_ACCMODE) != O_RDONLY)
		fail("status flags changed");
	if (fstat(a, &sa) || fstat(c, &sc) || sa.st_ino != sc.st_ino || sa.st_dev != sc.st_dev || sa.st_nlink)
		fail("A and C are not one unlinked inode any more");
	if (kcmp_file(getpid(), a, getpid(), b) == 0 || kcmp_file(getpid(), a, getpid(), c) == 0)
		fail("distinct open files became one");
	memset(back, 0, sizeof(back));
	if (pread(c, buf, LEN, 0) != LEN)
		fail("read the contents");
	for (long i = 0; i < LEN; i++) {
		if (buf[i] != byte_at(i)) {
			fail("byte %ld changed", i);
			break;
		}
	}
	if (pwrite(a, "PARENT", 6, 5000) != 6 || lseek(a, 777, SEEK_SET) != 777 || write(go[1], "g", 1) != 1 ||
	    read(res[0], &r, 1) != 1 || r != 'y')
		fail("the child does not share the file: answer '%c'", r);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child ended with status 0x%x", status);
	/* the child appended through B: the parent's C reads it at the old end */
	if (pread(c, back, 5, LEN) != 5 || memcmp(back, "CHILD", 5))
		fail("the child's append is not in the parent's file");
	if (fstat(a, &sa) || sa.st_size != LEN + 5)
		fail("size %lld, expected %d", (long long)sa.st_size, LEN + 5);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
