// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_gone: an epoll item whose file no task of the tree holds any more
 * (the last fd of it is in a process outside the tree). criu can't restore
 * such an item: the dump must refuse it with a clear error and leave the
 * task running; the epoll still works afterwards.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x90e };
	uint64_t one = 1;
	int efd, ep, wfd;
	pid_t out;

	test_init(argc, argv);
	efd = eventfd(0, 0);
	ep = epoll_create1(0);
	if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev)) {
		fail("setup");
		return 1;
	}
	out = test_start_outsider();
	if (out <= 0) {
		fail("outsider");
		return 1;
	}
	/* a writer fd of our own would keep the file in the tree: reach it through the outsider */
	close(efd);

	test_daemon();
	test_waitsig();

	{
		int pfd = sys_pidfd_open(out, 0);

		wfd = pfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pfd, efd, 0);
	}
	if (wfd < 0 || write(wfd, &one, sizeof(one)) != sizeof(one))
		fail("can't write the eventfd through the outsider");
	else if (epoll_wait(ep, &ev, 1, 1000) != 1 || ev.data.u64 != 0x90e)
		fail("the epoll does not report the eventfd");
	kill(out, SIGKILL);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
