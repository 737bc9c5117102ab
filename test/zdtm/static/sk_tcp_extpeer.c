// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_extpeer: an established TCP connection (over ::1) whose peer is a
 * process outside the dumped tree: the test forks a helper and lets its
 * parent exit, so the helper is re-parented to the zdtm runner (the
 * subreaper) and is not dumped. The helper greets, then answers each line
 * with the line in capitals, until "bye". Before the dump one exchange
 * works and one answer waits, unread, in the test's socket. criu dumps
 * with --tcp-established (the connection is locked while the tree is
 * away); after restore the answer is there, the same connection (same
 * addresses and ports) carries a new exchange with the live peer, and the
 * peer closes it on "bye".
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#include "sk_inet.h"

#define HELLO "hello from outside\n"

/* the peer: answer lines in capitals until "bye" */
static void helper(const union sk_addr *a, socklen_t len)
{
	char buf[256];
	int fd;

	/* a session of its own: the test's pid lives on as a session id while a process is in it */
	setsid();
	for (int i = 3; i < 1024; i++)
		close(i);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, &a->sa, len) || write(fd, HELLO, strlen(HELLO)) < 0)
		_exit(1);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			_exit(2);
		if (n >= 4 && !memcmp(buf, "bye\n", 4))
			_exit(0);
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] >= 'a' && buf[k] <= 'z')
				buf[k] -= 'a' - 'A';
		if (write(fd, buf, n) != n)
			_exit(3);
	}
}

/* one line out, its answer back */
static int exchange(int fd, const char *line, const char *want)
{
	char buf[64];

	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		return -1;
	if (sk_read_all(fd, buf, strlen(want)) || memcmp(buf, want, strlen(want)))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	union sk_addr a, self, peer, self2, peer2;
	socklen_t len, plen;
	int lsk, srv, inq = 0, status;
	char buf[64];
	pid_t pid;

	test_init(argc, argv);
	lsk = socket(AF_INET6, SOCK_STREAM, 0);
	len = sk_loopback(AF_INET6, false, &a);
	if (lsk < 0 || bind(lsk, &a.sa, len) || listen(lsk, 1) || sk_name(lsk, &a, &len)) {
		fail("listener");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		if (fork() == 0)
			helper(&a, len);
		_exit(0);	/* the helper is re-parented to the runner: outside the tree */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fail("fork");
		return 1;
	}
	srv = accept(lsk, NULL, NULL);
	close(lsk);
	if (srv < 0 || sk_name(srv, &self, &len)) {
		fail("accept");
		return 1;
	}
	plen = sizeof(peer);
	getpeername(srv, &peer.sa, &plen);
	/* the greeting is in the socket, unread */
	for (int i = 0; i < 1000 && inq < (int)strlen(HELLO); i++) {
		poll(NULL, 0, 10);
		ioctl(srv, SIOCINQ, &inq);
	}
	if (inq != (int)strlen(HELLO)) {
		fail("no greeting from the helper");
		return 1;
	}
	if (sk_read_all(srv, buf, strlen(HELLO)) || write(srv, "before\n", 7) != 7 || sk_read_all(srv, buf, 7) ||
	    memcmp(buf, "BEFORE\n", 7)) {
		fail("the exchange before the dump");
		return 1;
	}
	/* an answer left unread for the dump */
	if (write(srv, "unread\n", 7) != 7) {
		fail("write");
		return 1;
	}
	for (int i = 0, n = 0; i < 1000 && n < 7; i++) {
		poll(NULL, 0, 10);
		ioctl(srv, SIOCINQ, &n);
		inq = n;
	}

	test_daemon();
	test_waitsig();

	len = sizeof(self2);
	plen = sizeof(peer2);
	if (getsockname(srv, &self2.sa, &len) || getpeername(srv, &peer2.sa, &plen) ||
	    memcmp(&self.v6, &self2.v6, sizeof(self.v6)) || memcmp(&peer.v6, &peer2.v6, sizeof(peer.v6)))
		fail("the connection's addresses changed");
	if (sk_read_all(srv, buf, 7) || memcmp(buf, "UNREAD\n", 7))
		fail("the answer queued before the dump is lost");
	if (exchange(srv, "after the restore\n", "AFTER THE RESTORE\n"))
		fail("the peer outside the tree does not answer after the restore");
	if (write(srv, "bye\n", 4) != 4 || read(srv, buf, sizeof(buf)) != 0)
		fail("the peer did not close the connection on bye");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
