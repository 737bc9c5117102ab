/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared body of the file lock refusal tests: the test holds a file lock
 * the dump must refuse (without --file-locks, or one restore could not take
 * again); the dump must leave the test running with the lock still held:
 * after the failed dump a child checks that the lock still keeps it out.
 */
#ifndef ZDTM_FILE_LOCKS_REFUSED_H
#define ZDTM_FILE_LOCKS_REFUSED_H

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum lock_kind {
	LK_FLOCK,		/* flock(LOCK_EX) */
	LK_FLOCK_MAPPED,	/* flock(LOCK_SH), then the file is only mapped: no fd holds it */
	LK_POSIX_MAPPED,	/* fcntl(F_SETLK) write lock on a file the task also maps */
};

static int take_lock(enum lock_kind k, const char *name, void **ret_map)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	char page[4096];
	int fd;

	unlink(name);
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	memset(page, 'l', sizeof(page));
	if (fd < 0 || write(fd, page, sizeof(page)) != sizeof(page)) {
		fail("create %s", name);
		return -1;
	}
	switch (k) {
	case LK_POSIX_MAPPED:
		*ret_map = mmap(NULL, sizeof(page), PROT_READ, MAP_SHARED, fd, 0);
		if (*ret_map == MAP_FAILED)
			return -1;
		return fcntl(fd, F_SETLK, &fl);
	case LK_FLOCK:
		return flock(fd, LOCK_EX | LOCK_NB);
	case LK_FLOCK_MAPPED:
		if (flock(fd, LOCK_SH | LOCK_NB))
			return -1;
		*ret_map = mmap(NULL, sizeof(page), PROT_READ, MAP_SHARED, fd, 0);
		if (*ret_map == MAP_FAILED)
			return -1;
		return close(fd);
	}
	return -1;
}

/* In a child: 0 when the lock still shuts it out, 1 when it does not, 2 on error. */
static int lock_still_held(enum lock_kind k, const char *name, pid_t holder)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	int fd = open(name, O_RDWR | O_NONBLOCK);

	if (fd < 0)
		return 2;
	switch (k) {
	case LK_POSIX_MAPPED:
		if (fcntl(fd, F_GETLK, &fl))
			return 2;
		return fl.l_type == F_WRLCK && fl.l_pid == holder ? 0 : 1;
	case LK_FLOCK:
	case LK_FLOCK_MAPPED:
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 1;
		return errno == EWOULDBLOCK ? 0 : 2;
	}
	return 2;
}

static int file_locks_main(int argc, char **argv, enum lock_kind k, const char *name)
{
	void *map = NULL;
	pid_t me, child;
	int status;

	test_init(argc, argv);
	me = getpid();
	if (take_lock(k, name, &map)) {
		fail("take the lock on %s", name);
		return 1;
	}

	test_daemon();
	test_waitsig();

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0)
		_exit(lock_still_held(k, name, me));
	errno = 0;
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the lock on %s is not held any more (child status 0x%x)", name, status);
	if (map)
		munmap(map, 4096);
	unlink(name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}

#endif
