/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared body of the file_locks_* tests: the test holds one file lock of a
 * kind, which criu can't dump yet. The dump must refuse it (crfail) and leave
 * the test running with the lock still held: after the failed dump a child
 * checks that the lock still keeps it out.
 */
#ifndef ZDTM_FILE_LOCKS_H
#define ZDTM_FILE_LOCKS_H

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
	LK_POSIX,		/* fcntl(F_SETLK) write lock */
	LK_OFD,			/* fcntl(F_OFD_SETLK) write lock */
	LK_FLOCK,		/* flock(LOCK_EX) */
	LK_LEASE,		/* fcntl(F_SETLEASE, F_RDLCK) */
	LK_FLOCK_MAPPED,	/* flock(LOCK_SH), then the file is only mapped: no fd holds it */
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
	case LK_POSIX:
		return fcntl(fd, F_SETLK, &fl);
	case LK_OFD:
		return fcntl(fd, F_OFD_SETLK, &fl);
	case LK_FLOCK:
		return flock(fd, LOCK_EX | LOCK_NB);
	case LK_LEASE:
		/* a read lease needs no writer: reopen read-only; the break test sends SIGIO */
		close(fd);
		signal(SIGIO, SIG_IGN);
		fd = open(name, O_RDONLY);
		return fd < 0 ? -1 : fcntl(fd, F_SETLEASE, F_RDLCK);
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
		return k == LK_LEASE && errno == EWOULDBLOCK ? 0 : 2;
	switch (k) {
	case LK_POSIX:
		if (fcntl(fd, F_GETLK, &fl))
			return 2;
		return fl.l_type == F_WRLCK && fl.l_pid == holder ? 0 : 1;
	case LK_OFD:
		fl.l_pid = 0;
		if (fcntl(fd, F_OFD_GETLK, &fl))
			return 2;
		return fl.l_type == F_WRLCK ? 0 : 1;
	case LK_FLOCK:
	case LK_FLOCK_MAPPED:
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 1;
		return errno == EWOULDBLOCK ? 0 : 2;
	case LK_LEASE:
		/* opening for writing breaks a read lease: the O_NONBLOCK open above said EWOULDBLOCK */
		return 1;
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
