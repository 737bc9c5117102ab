// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_over_unix: a pidfd of the test's child sits in a datagram socketpair
 * (SCM_RIGHTS in flight); the sender closed its own copy, so the queued one
 * is the only reference. After restore the message is still queued with its
 * pidfd, which must be a pidfd of the restored child: fdinfo Pid, the same
 * inode as a fresh pidfd_open() of the child, a signal through it reaches
 * the child, and the child's exit is seen through it.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char cbuf[CMSG_SPACE(sizeof(int))], buf[16];
	struct iovec iov = { .iov_base = "pidfd", .iov_len = 5 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int sv[2], pfd, got = -1, st;
	long long fdpid = 0;
	pid_t child;

	test_init(argc, argv);
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		pause();
		_exit(0);
	}
	pfd = sys_pidfd_open(child, 0);
	if (pfd < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		fail("pidfd_open/socketpair");
		return 1;
	}
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd, sizeof(int));
	if (sendmsg(sv[0], &mh, 0) != 5) {
		fail("sendmsg");
		return 1;
	}
	close(pfd);

	test_daemon();
	test_waitsig();

	iov = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	errno = 0;
	if (recvmsg(sv[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 5 || memcmp(buf, "pidfd", 5)) {
		fail("the message with the pidfd is gone");
	} else {
		c = CMSG_FIRSTHDR(&mh);
		if (!c || c->cmsg_type != SCM_RIGHTS)
			fail("the pidfd is not attached any more");
		else
			memcpy(&got, CMSG_DATA(c), sizeof(int));
	}
	if (got >= 0) {
		struct pollfd p = { .fd = got, .events = POLLIN };

		struct stat mine, fresh;
		int ffd = sys_pidfd_open(child, 0);

		if (fdinfo_get_long(got, "Pid", &fdpid) || fdpid != child)
			fail("the received fd is not a pidfd of %d (Pid %lld)", child, fdpid);
		if (ffd < 0 || fstat(got, &mine) || fstat(ffd, &fresh) || mine.st_ino != fresh.st_ino)
			fail("the received pidfd's inode is not the child's");
		if (ffd >= 0)
			close(ffd);
		if (sys_pidfd_send_signal(got, SIGKILL, NULL, 0))
			fail("pidfd_send_signal through the received pidfd");
		if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN))
			fail("the child's exit is not seen through the pidfd");
	} else {
		kill(child, SIGKILL);
	}
	if (test_wait_child(child, 10, &st) || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail("the child did not die of SIGKILL");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
