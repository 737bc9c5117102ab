/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the file_locks_* tests dumped with --file-locks: a file to
 * lock, and probes run in a child, which is another lock owner (another
 * process, another open file).
 */
#ifndef ZDTM_FILE_LOCKS_H
#define ZDTM_FILE_LOCKS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* A new 4096-byte file, open with flags. */
static inline int lock_file(const char *name, int flags)
{
	char page[4096];
	int fd;

	unlink(name);
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	memset(page, 'l', sizeof(page));
	if (fd < 0 || write(fd, page, sizeof(page)) != sizeof(page)) {
		fail("create %s", name);
		return -1;
	}
	if (flags == O_RDWR)
		return fd;
	close(fd);
	fd = open(name, flags);
	if (fd < 0)
		fail("reopen %s", name);
	return fd;
}

/* Run fn(arg) in a child; its result (0..255), or -1 when it did not exit. */
static inline int in_child(int (*fn)(const void *arg), const void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (test_wait_child(pid, 10, &status) || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* In a fresh open file of name: the conflict an F_GETLK (cmd) of type on [start, start + len) reports. */
struct lock_query {
	const char *name;
	int cmd;		/* F_GETLK or F_OFD_GETLK */
	short type;		/* F_RDLCK or F_WRLCK */
	off_t start, len;
	short want_type;	/* what must conflict: F_UNLCK for nothing */
	pid_t want_pid;		/* its owner (F_GETLK); 0: not checked */
};

static int query_child(const void *arg)
{
	const struct lock_query *q = arg;
	struct flock fl = { .l_type = q->type, .l_whence = SEEK_SET, .l_start = q->start, .l_len = q->len };
	int fd = open(q->name, O_RDWR);

	if (fd < 0 || fcntl(fd, q->cmd, &fl))
		return 2;
	if (fl.l_type != q->want_type)
		return 1;
	return q->want_pid && fl.l_type != F_UNLCK && fl.l_pid != q->want_pid ? 1 : 0;
}

static inline void check_query(const struct lock_query *q)
{
	int r = in_child(query_child, q);

	if (r)
		fail("%s: a %s probe of %ld+%ld: %s (want %s by %d)", q->name, q->type == F_WRLCK ? "write" : "read",
		     (long)q->start, (long)q->len, r == 1 ? "wrong conflict" : "probe failed",
		     q->want_type == F_UNLCK ? "nothing" : q->want_type == F_WRLCK ? "a write lock" : "a read lock",
		     q->want_pid);
}

#endif
