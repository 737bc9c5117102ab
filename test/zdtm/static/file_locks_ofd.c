// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_ofd: open file description locks (F_OFD_SETLK), a write lock on
 * bytes 0-9 and a read lock on 100-199, held through a file a child shares,
 * come back on one open file again: another open file sees both, and once
 * the child (sharing the open file) drops the write lock it is gone for the
 * test too.
 */
#include <signal.h>

#include "file_locks.h"

static const char *name = "file_locks_ofd.file";

static int unlock_child(const void *arg)
{
	struct flock un = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };

	return fcntl(*(const int *)arg, F_OFD_SETLK, &un) ? 2 : 0;
}

int main(int argc, char **argv)
{
	struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	struct flock r = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 100 };
	pid_t sharer;
	int fd;

	test_init(argc, argv);
	fd = lock_file(name, O_RDWR);
	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &w) || fcntl(fd, F_OFD_SETLK, &r)) {
		fail("take the locks on %s", name);
		return 1;
	}
	/* a child holding the same open file, so the locks are shared by two tasks */
	sharer = fork();
	if (sharer == 0) {
		pause();
		_exit(0);
	}
	if (sharer < 0) {
		fail("fork");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_query(&(struct lock_query){ name, F_OFD_GETLK, F_RDLCK, 5, 1, F_WRLCK, 0 });
	check_query(&(struct lock_query){ name, F_OFD_GETLK, F_WRLCK, 150, 1, F_RDLCK, 0 });
	check_query(&(struct lock_query){ name, F_OFD_GETLK, F_WRLCK, 10, 90, F_UNLCK, 0 });
	check_query(&(struct lock_query){ name, F_OFD_GETLK, F_RDLCK, 100, 100, F_UNLCK, 0 });
	/* the lock is the open file's: unlocked through the very same open file (here by a fork) it is gone */
	if (in_child(unlock_child, &fd))
		fail("unlock through the shared open file");
	check_query(&(struct lock_query){ name, F_OFD_GETLK, F_WRLCK, 0, 10, F_UNLCK, 0 });
	kill(sharer, SIGKILL);
	waitpid(sharer, NULL, 0);
	unlink(name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
