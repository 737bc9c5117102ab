// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_scm00: file descriptors in flight. A seqpacket socketpair holds
 * three queued records; the middle one passes both ends of a pipe with
 * SCM_RIGHTS. The pipe's read end exists only in flight (the test closed its
 * own), the write end is also still held by the test, and the pipe has data.
 * After restore the records are there in order; the middle one brings two
 * fds that are that pipe: they read the data queued before the dump, what
 * the test writes through its own write end, and what is written through
 * the received write end.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static void expect(int fd, const char *want, const char *what)
{
	char buf[64];
	size_t len = strlen(want);
	ssize_t n = read(fd, buf, sizeof(buf));

	errno = 0;
	if (n != (ssize_t)len || memcmp(buf, want, len))
		fail("%s: read %zd bytes, expected '%s'", what, n, want);
}

int main(int argc, char **argv)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))], buf[32];
	struct iovec iov = { .iov_base = "with-fds", .iov_len = 8 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int sv[2], p[2], got[2] = { -1, -1 };
	struct cmsghdr *c;
	struct stat a, b, mine;
	ssize_t n;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe2(p, O_NONBLOCK) || write(p[1], "pipe data", 9) != 9) {
		fail("socketpair/pipe");
		return 1;
	}
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), p, 2 * sizeof(int));
	if (write(sv[0], "before", 6) != 6 || sendmsg(sv[0], &mh, 0) != 8 || write(sv[0], "after", 5) != 5) {
		fail("send");
		return 1;
	}
	/* the only reference to the pipe's read end is the one in flight */
	close(p[0]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "before", 6))
		fail("the record before the fds is gone");
	iov = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	n = recvmsg(sv[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	c = CMSG_FIRSTHDR(&mh);
	if (n != 8 || memcmp(buf, "with-fds", 8) || !c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
		fail("the record with the fds is gone or lost its fds (%zd bytes)", n);
	else
		memcpy(got, CMSG_DATA(c), sizeof(got));
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("the record after the fds is gone");
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("more records than were queued");

	if (got[0] >= 0) {
		if (fstat(got[0], &a) || fstat(got[1], &b) || fstat(p[1], &mine) || !S_ISFIFO(a.st_mode) ||
		    a.st_ino != b.st_ino || a.st_ino != mine.st_ino)
			fail("the received fds are not the test's pipe");
		expect(got[0], "pipe data", "data in the pipe before the dump");
		if (write(p[1], "mine", 4) != 4)
			fail("write through the test's own write end");
		expect(got[0], "mine", "through the test's write end");
		if (write(got[1], "theirs", 6) != 6)
			fail("write through the received write end");
		expect(got[0], "theirs", "through the received write end");
		if ((fcntl(got[0], F_GETFL) & O_NONBLOCK) == 0)
			fail("the received read end lost O_NONBLOCK");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
