// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_scm_refused: a file descriptor (a pipe's read end) is queued in a seqpacket
 * unix socket with SCM_RIGHTS, next to plain data. criu can't dump fds in
 * flight yet, so the dump must fail (crfail) and leave the task as it was:
 * the data and the fd are still queued, in order, and the fd still reads the
 * pipe.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char cbuf[CMSG_SPACE(sizeof(int))], buf[32];
	struct iovec iov = { .iov_base = "with-fd", .iov_len = 7 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int sv[2], p[2], got = -1;
	ssize_t n;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe(p) || write(p[1], "pipe data", 9) != 9) {
		fail("socketpair/pipe");
		return 1;
	}
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[0], sizeof(int));
	if (write(sv[0], "before", 6) != 6 || sendmsg(sv[0], &mh, 0) != 7 || write(sv[0], "after", 5) != 5) {
		fail("send");
		return 1;
	}
	/* the only reference to the pipe's read end is the one in flight */
	close(p[0]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "before", 6))
		fail("the data before the fd is gone");
	iov = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	n = recvmsg(sv[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	c = CMSG_FIRSTHDR(&mh);
	if (n != 7 || memcmp(buf, "with-fd", 7) || !c || c->cmsg_type != SCM_RIGHTS)
		fail("the message with the fd is gone (%zd bytes)", n);
	else
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (got >= 0 && (read(got, buf, sizeof(buf)) != 9 || memcmp(buf, "pipe data", 9)))
		fail("the fd in flight does not read the pipe");
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("the data after the fd is gone");
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("more data than was queued");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
