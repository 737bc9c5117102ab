// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_posix: POSIX record locks (fcntl F_SETLK), a write lock on
 * bytes 0-9 and a read lock from byte 20 to the end of the file, come back
 * with their ranges, types and owner: another process sees the write lock
 * on 0-9, nothing on 10-19, the read lock beyond (a read probe passes).
 */
#include "file_locks.h"

static const char *name = "file_locks_posix.file";

int main(int argc, char **argv)
{
	struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	struct flock r = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 0 };
	pid_t me;
	int fd;

	test_init(argc, argv);
	me = getpid();
	fd = lock_file(name, O_RDWR);
	if (fd < 0 || fcntl(fd, F_SETLK, &w) || fcntl(fd, F_SETLK, &r)) {
		fail("take the locks on %s", name);
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 0, 1, F_WRLCK, me });
	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 9, 1, F_WRLCK, me });
	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 10, 10, F_UNLCK, 0 });
	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 1000000, 1, F_RDLCK, me });
	check_query(&(struct lock_query){ name, F_GETLK, F_RDLCK, 20, 100, F_UNLCK, 0 });
	unlink(name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
