// SPDX-License-Identifier: GPL-2.0
/*
 * epoll01: epolls whose watched files are not where they were added.
 *  - the parent's epoll watches an eventfd that only a child still holds
 *    (the parent closed its fd after adding it): after restore the child
 *    bumps the eventfd and the parent's epoll reports it with its data;
 *  - the parent's fd number of that item is reused by a pipe: DEL of it is
 *    refused (the item is the eventfd's, not the pipe's);
 *  - a second epoll is shared with the child, which closed the watched pipe
 *    end at the item's number: both see the pipe's data through it;
 *  - a unix socketpair end with queued data, watched EPOLLIN|EPOLLRDHUP:
 *    reported readable after restore, and RDHUP once the peer is shut down.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int add(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	int efd, ep, shared, go[2], rdy[2], data[2], reused[2], sk[2], efd_no, status, n;
	struct epoll_event ev;
	pid_t child;
	uint64_t one = 1;
	char c;

	test_init(argc, argv);
	efd = eventfd(0, 0);
	shared = epoll_create1(0);
	if (efd < 0 || shared < 0 || pipe(go) || pipe(data) || pipe(rdy) || add(shared, data[0], 0xabc)) {
		fail("setup");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(go[1]);
		close(data[0]);	/* the shared epoll's item stays (the parent holds the file) */
		/* our fd table is final: tell the parent (the runner snapshots it at test_daemon) */
		close(rdy[0]);
		if (write(rdy[1], "r", 1) != 1)
			_exit(6);
		close(rdy[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			_exit(3);
		/* the shared epoll reports the pipe's data here too */
		if (epoll_wait(shared, &ev, 1, 5000) != 1 || ev.data.u64 != 0xabc)
			_exit(4);
		/* keep the eventfd (ours is the last fd of it) until the parent has seen it */
		if (read(go[0], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(go[0]);
	close(rdy[1]);
	if (read(rdy[0], &c, 1) != 1) {
		fail("the child did not get ready");
		return 1;
	}
	close(rdy[0]);
	ep = epoll_create1(0);
	if (ep < 0 || add(ep, efd, 0x5eed)) {
		fail("epoll");
		return 1;
	}
	efd_no = efd;
	close(efd);
	/* another file takes the eventfd's number */
	if (pipe(reused) || (reused[0] != efd_no && reused[1] != efd_no)) {
		fail("the eventfd's number %d was not reused (%d %d)", efd_no, reused[0], reused[1]);
		return 1;
	}

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || write(sk[1], "sock", 4) != 4) {
		fail("socketpair");
		return 1;
	}
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 0x50c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sk[0], &ev)) {
		fail("epoll_ctl socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* the socket first: nothing else is ready yet */
	n = epoll_wait(ep, &ev, 1, 0);
	if (n != 1 || ev.data.u64 != 0x50c || ev.events != EPOLLIN)
		fail("the socket: %d events, data %llx events %#x", n, n > 0 ? (unsigned long long)ev.data.u64 : 0ULL,
		     n > 0 ? ev.events : 0);
	if (shutdown(sk[1], SHUT_WR) || epoll_wait(ep, &ev, 1, 0) != 1 || ev.events != (EPOLLIN | EPOLLRDHUP))
		fail("the socket: no RDHUP after the peer's shutdown");
	{
		struct epoll_event del = {};

		if (epoll_ctl(ep, EPOLL_CTL_DEL, sk[0], &del))
			fail("DEL of the socket");
	}

	if (write(data[1], "d", 1) != 1 || write(go[1], "g", 1) != 1)
		fail("write");
	n = epoll_wait(ep, &ev, 1, 5000);
	if (n != 1 || ev.data.u64 != 0x5eed || ev.events != EPOLLIN) {
		char cmd[128];

		fail("the eventfd held by the child was not reported (%d events, data %llx)", n,
		     n > 0 ? (unsigned long long)ev.data.u64 : 0ULL);
		snprintf(cmd, sizeof(cmd), "cat /proc/%d/fdinfo/%d; ls -l /proc/%d/fd /proc/%d/fd >&2", getpid(), ep,
			 getpid(), child);
		if (system(cmd))
			test_msg("can't show the fds\n");
	}
	if (write(go[1], "e", 1) != 1)
		fail("write");
	errno = 0;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, efd_no, NULL) != -1 || errno != ENOENT)
		fail("DEL of fd %d (now a pipe) did not give ENOENT", efd_no);
	if (epoll_wait(shared, &ev, 1, 0) != 1 || ev.data.u64 != 0xabc)
		fail("the shared epoll does not report the pipe");
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status)) {
		char buf[64];

		fail("child: %s", test_status_str(status, buf, sizeof(buf)));
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
