// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_epoll_inflight: an epoll that watches a socket, passed twice
 * (SCM_RIGHTS) into that very socket's queue and closed by the test: no task
 * holds it, and the dump reaches the socket again from the epoll it holds.
 * After restore the epoll comes out of the queue with its item: the socket
 * (still holding the second message) is ready, with the item's data.
 */
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static int send_fd(int via, int fd)
{
	char c = 'e', buf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *ch = CMSG_FIRSTHDR(&h);

	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	return sendmsg(via, &h, 0) == 1 ? 0 : -1;
}

static int recv_fd(int via)
{
	char c, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *ch;
	int fd;

	if (recvmsg(via, &h, 0) != 1)
		return -1;
	ch = CMSG_FIRSTHDR(&h);
	if (!ch || ch->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(ch), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234567890ULL };
	int sk[2], ep;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sk) || (ep = epoll_create1(0)) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, sk[1], &ev) || send_fd(sk[0], ep) || send_fd(sk[0], ep)) {
		fail("set up");
		return 1;
	}
	close(ep);

	test_daemon();
	test_waitsig();

	ep = recv_fd(sk[1]);
	memset(&ev, 0, sizeof(ev));
	if (ep < 0)
		fail("no epoll in the queue");
	else if (epoll_wait(ep, &ev, 1, 0) != 1)
		fail("the epoll from the queue reports nothing (its item is gone)");
	else if (ev.data.u64 != 0x1234567890ULL || !(ev.events & EPOLLIN))
		fail("the epoll reports events %#x data %#llx", ev.events, (unsigned long long)ev.data.u64);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
