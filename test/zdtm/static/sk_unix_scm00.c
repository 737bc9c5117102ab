// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_scm00: file descriptors in flight. A seqpacket socketpair holds
 * four queued records. The second passes both ends of a pipe with
 * SCM_RIGHTS: the pipe's read end exists only in flight (the test closed its
 * own), the write end is also still held by the test, and the pipe has data.
 * The fourth passes one end of a stream socketpair whose other end the test
 * keeps, with data queued both ways.
 * After restore the records are there in order; the second brings two fds
 * that are that pipe: they read the data queued before the dump, what the
 * test writes through its own write end, and what is written through the
 * received write end. The fourth brings the socket, still connected to the
 * test's end, with its data.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

/* Send a record passing nr fds. */
static int send_fds(int sk, const char *data, const int *fds, int nr)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)data, .iov_len = strlen(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = CMSG_SPACE(nr * sizeof(int)) };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nr * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nr * sizeof(int));
	return sendmsg(sk, &mh, 0) == (ssize_t)strlen(data) ? 0 : -1;
}

/* Receive a record that must be data and pass nr fds into fds[]. */
static void recv_fds(int sk, const char *data, int *fds, int nr)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))], buf[32];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(sk, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	c = CMSG_FIRSTHDR(&mh);
	errno = 0;
	if (n != (ssize_t)strlen(data) || memcmp(buf, data, n) || !c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(nr * sizeof(int)))
		fail("the record '%s' is gone or lost its fds (%zd bytes)", data, n);
	else
		memcpy(fds, CMSG_DATA(c), nr * sizeof(int));
}

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
	int sv[2], p[2], tp[2], got[2] = { -1, -1 }, sock = -1;
	struct stat a, b, mine;
	char buf[32];

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe2(p, O_NONBLOCK) || write(p[1], "pipe data", 9) != 9 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, tp) || write(tp[0], "to the passed end", 17) != 17 ||
	    write(tp[1], "from the passed end", 19) != 19) {
		fail("socketpair/pipe");
		return 1;
	}
	if (write(sv[0], "before", 6) != 6 || send_fds(sv[0], "with-fds", p, 2) || write(sv[0], "after", 5) != 5 ||
	    send_fds(sv[0], "with-sock", &tp[1], 1)) {
		fail("send");
		return 1;
	}
	/* the only references to the pipe's read end and to tp[1] are the ones in flight */
	close(p[0]);
	close(tp[1]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "before", 6))
		fail("the record before the fds is gone");
	recv_fds(sv[1], "with-fds", got, 2);
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("the record after the fds is gone");
	recv_fds(sv[1], "with-sock", &sock, 1);
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
	if (sock >= 0) {
		expect(sock, "to the passed end", "data queued in the passed socket");
		expect(tp[0], "from the passed end", "data queued for the test's end");
		if (write(sock, "ping", 4) != 4)
			fail("write through the passed socket");
		expect(tp[0], "ping", "from the passed socket after restore");
		if (write(tp[0], "pong", 4) != 4)
			fail("write to the passed socket");
		expect(sock, "pong", "to the passed socket after restore");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
