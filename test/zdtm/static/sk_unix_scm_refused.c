// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_scm_refused: a netlink socket, a file criu can't dump, is queued
 * in a unix socket with SCM_RIGHTS. The dump must fail (crfail) and leave
 * the task as it was: the records and the fd are still queued, in order,
 * and the received fd is still that netlink socket.
 */
#include <linux/netlink.h>
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
	int sv[2], nl, got = -1, domain = 0;
	socklen_t len = sizeof(domain);
	ssize_t n;

	test_init(argc, argv);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
		fail("socket/socketpair");
		return 1;
	}
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &nl, sizeof(int));
	if (write(sv[0], "before", 6) != 6 || sendmsg(sv[0], &mh, 0) != 7 || write(sv[0], "after", 5) != 5) {
		fail("send");
		return 1;
	}
	close(nl);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "before", 6))
		fail("the record before the fd is gone");
	iov = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	n = recvmsg(sv[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	c = CMSG_FIRSTHDR(&mh);
	if (n != 7 || memcmp(buf, "with-fd", 7) || !c || c->cmsg_type != SCM_RIGHTS)
		fail("the record with the fd is gone (%zd bytes)", n);
	else
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (got >= 0 && (getsockopt(got, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_NETLINK))
		fail("the fd in flight is not the netlink socket any more");
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("the record after the fd is gone");
	if (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("more records than were queued");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
