// SPDX-License-Identifier: GPL-2.0
/*
 * pipe00: a pipe with data in flight. After restore both ends are still one
 * pipe (same inode, same fd numbers and flags), the unread bytes are there,
 * in order and no more, and new data still flows from one end to the other.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define IN_FLIGHT 3000	/* less than a pipe buffer: the write never blocks */

static int ioctl_fionread(int fd, int *ret_avail)
{
	return ioctl(fd, FIONREAD, ret_avail);
}

static unsigned char byte_at(size_t i, unsigned seed)
{
	return (unsigned char)(i * 7 + seed + (i >> 8));
}

int main(int argc, char **argv)
{
	unsigned char buf[IN_FLIGHT + 100], extra[64];
	int p[2], rflags, wflags, n, avail;
	struct stat rst, wst;
	unsigned seed;
	ssize_t got;

	test_init(argc, argv);
	seed = getpid();
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		fail("pipe2");
		return 1;
	}
	/* make the write end blocking again: the two ends keep different flags */
	if (fcntl(p[1], F_SETFL, 0)) {
		fail("fcntl(F_SETFL)");
		return 1;
	}
	rflags = fcntl(p[0], F_GETFL);
	wflags = fcntl(p[1], F_GETFL);
	if (fstat(p[0], &rst) || fstat(p[1], &wst)) {
		fail("fstat");
		return 1;
	}
	for (size_t i = 0; i < IN_FLIGHT; i++)
		buf[i] = byte_at(i, seed);
	if (write(p[1], buf, IN_FLIGHT) != IN_FLIGHT) {
		fail("write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fcntl(p[0], F_GETFL) != rflags || fcntl(p[1], F_GETFL) != wflags)
		fail("flags changed: read end %o (was %o), write end %o (was %o)",
		     fcntl(p[0], F_GETFL), rflags, fcntl(p[1], F_GETFL), wflags);
	if (fcntl(p[0], F_GETFD) != FD_CLOEXEC || fcntl(p[1], F_GETFD) != FD_CLOEXEC)
		fail("close-on-exec lost");
	/* A restored pipe is a new pipe (new inode number): both ends must be one pipe again. */
	if (fstat(p[0], &rst) || !S_ISFIFO(rst.st_mode) || fstat(p[1], &wst) || !S_ISFIFO(wst.st_mode))
		fail("the ends are not pipes any more");
	else if (rst.st_ino != wst.st_ino)
		fail("the two ends are not one pipe any more");
	errno = 0;
	if (ioctl_fionread(p[0], &avail))
		fail("FIONREAD");
	else if (avail != IN_FLIGHT)
		fail("%d bytes in the pipe, expected %d", avail, IN_FLIGHT);

	memset(buf, 0, sizeof(buf));
	got = 0;
	while (got < (ssize_t)sizeof(buf)) {
		n = read(p[0], buf + got, sizeof(buf) - got);
		if (n <= 0)
			break;
		got += n;
	}
	errno = 0;
	if (got != IN_FLIGHT) {
		fail("read %zd bytes back, expected %d", got, IN_FLIGHT);
	} else {
		for (size_t i = 0; i < IN_FLIGHT; i++) {
			if (buf[i] != byte_at(i, seed)) {
				fail("byte %zu is %#x, expected %#x", i, buf[i], byte_at(i, seed));
				break;
			}
		}
	}

	/* the pipe still works */
	memset(extra, 0xa5, sizeof(extra));
	if (write(p[1], extra, sizeof(extra)) != sizeof(extra)) {
		fail("write after restore");
	} else {
		memset(buf, 0, sizeof(extra));
		if (read(p[0], buf, sizeof(buf)) != sizeof(extra) ||
		    memcmp(buf, extra, sizeof(extra)))
			fail("data written after restore does not come out of the read end");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
