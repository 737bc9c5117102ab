// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_waiter: children blocked waiting for locks the test holds (a
 * flock() and a POSIX F_SETLKW) when the tree is dumped. A waiter is not a
 * lock: its syscall is restarted after restore and waits again, until the
 * test drops its locks; then each child gets its lock and exits 0. Nothing
 * may come back with EINTR.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "file_locks.h"

static const char *name = "file_locks_waiter.file";

static void wait_flock(void)
{
	int fd = open(name, O_RDONLY);

	_exit(fd < 0 || flock(fd, LOCK_EX) ? 1 : 0);
}

static void wait_posix(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int fd = open(name, O_RDWR);

	_exit(fd < 0 || fcntl(fd, F_SETLKW, &fl) ? 1 : 0);
}

/* How many wait (a "->" line of /proc/locks) for a lock on inode ino? */
static int waiters(unsigned long ino)
{
	char line[256], want[32];
	FILE *f = fopen("/proc/locks", "r");
	int n = 0;

	snprintf(want, sizeof(want), ":%lu ", ino);
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "->") && strstr(line, want);
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	struct stat st;
	pid_t kids[2];
	int fd, status;

	test_init(argc, argv);
	fd = lock_file(name, O_RDWR);
	if (fd < 0 || fstat(fd, &st) || flock(fd, LOCK_EX) || fcntl(fd, F_SETLK, &w)) {
		fail("take the locks");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(fd);
			i ? wait_posix() : wait_flock();
		}
	}
	for (int i = 0; i < 500 && waiters(st.st_ino) < 2; i++)
		usleep(10000);
	if (waiters(st.st_ino) < 2) {
		fail("the children do not wait for the locks");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* still waiting after restore: neither got its lock nor gave up */
	for (int i = 0; i < 2; i++)
		if (waitpid(kids[i], &status, WNOHANG))
			fail("child %d did not wait for its lock (status 0x%x)", i, status);
	close(fd);
	for (int i = 0; i < 2; i++)
		if (test_wait_child(kids[i], 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %d did not get its lock (status 0x%x)", i, status);
	unlink(name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
