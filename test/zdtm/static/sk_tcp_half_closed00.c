// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_half_closed00: half-closed TCP connections (--tcp-established).
 *
 * 1. Both ends in the tree: the client sent data, then shut its writing
 *    side (client FIN_WAIT2, server CLOSE_WAIT, the data unread); the server
 *    sent data the client has not read. After restore the server reads the
 *    client's data and then the end of file, the client reads the server's
 *    data, the server still sends, and its shutdown ends the connection.
 * 2. The peer outside the tree (a helper re-parented to the runner): the
 *    client in the tree shut its writing side (FIN_WAIT2); after restore the
 *    helper (woken by SIGUSR2) still sends to the client and closes: the
 *    client reads the data and the end of file.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "sk_inet.h"

/* len bytes, then (eof) the end of file, within 10 s each */
static int read_in_time(int fd, char *buf, size_t len, bool eof)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	char c;

	while (off < len) {
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -1;
		n = read(fd, buf + off, len - off);
		if (n <= 0)
			return -1;
		off += n;
	}
	if (eof && (poll(&p, 1, 10000) != 1 || read(fd, &c, 1) != 0))
		return -2;
	return 0;
}

static volatile sig_atomic_t woken;

static void on_usr2(int sig)
{
	woken = 1;
}

/* the peer outside the tree: reads to the end of file, waits for SIGUSR2, answers and closes */
static void helper(const union sk_addr *a, socklen_t len)
{
	char buf[64];
	sigset_t none;
	int fd;

	setsid();
	for (int i = 3; i < 1024; i++)
		close(i);
	signal(SIGUSR2, on_usr2);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, &a->sa, len))
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sigemptyset(&none);
	while (!woken)
		sigsuspend(&none);
	if (write(fd, "late reply", 10) != 10)
		_exit(2);
	_exit(0);
}

static int pair(int *cli, int *srv)
{
	union sk_addr a;
	socklen_t len;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*cli = socket(AF_INET, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &a);
	if (l < 0 || *cli < 0 || bind(l, &a.sa, sizeof(a.v4)) || listen(l, 1) || sk_name(l, &a, &len) ||
	    connect(*cli, &a.sa, len))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int cli, srv, lsk, out_cli, helper_pid_fd[2];
	union sk_addr a;
	socklen_t len;
	pid_t pid, hpid = 0;
	char buf[32];

	test_init(argc, argv);
	/* 1: both ends here */
	if (pair(&cli, &srv) || write(cli, "to server", 9) != 9 || shutdown(cli, SHUT_WR) ||
	    write(srv, "to client", 9) != 9) {
		fail("connection 1: set up");
		return 1;
	}
	/* 2: the helper outside the tree is the server; the client here shuts its writing side */
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &a);
	if (lsk < 0 || bind(lsk, &a.sa, sizeof(a.v4)) || listen(lsk, 1) || sk_name(lsk, &a, &len) ||
	    pipe(helper_pid_fd)) {
		fail("connection 2: listener");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		pid_t h = fork();

		if (h == 0) {
			close(helper_pid_fd[1]);
			helper(&a, len);
		}
		_exit(write(helper_pid_fd[1], &h, sizeof(h)) == sizeof(h) ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid || read(helper_pid_fd[0], &hpid, sizeof(hpid)) != sizeof(hpid)) {
		fail("fork the helper");
		return 1;
	}
	close(helper_pid_fd[0]);
	close(helper_pid_fd[1]);
	/* the helper is the one that connects: the accepted socket is the client of the test's protocol */
	out_cli = accept(lsk, NULL, NULL);
	close(lsk);
	if (out_cli < 0 || write(out_cli, "bye", 3) != 3 || shutdown(out_cli, SHUT_WR)) {
		fail("connection 2: set up");
		return 1;
	}
	{
		/* the FIN reached the server of connection 1: CLOSE_WAIT */
		struct pollfd p = { .fd = srv, .events = POLLRDHUP };

		if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLRDHUP)) {
			fail("connection 1: the client's FIN did not arrive");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (read_in_time(srv, buf, 9, true) || memcmp(buf, "to server", 9))
		fail("connection 1: the server does not read the client's data and then the end of file");
	if (read_in_time(cli, buf, 9, false) || memcmp(buf, "to client", 9))
		fail("connection 1: the client does not read the server's data");
	if (write(srv, "more", 4) != 4 || read_in_time(cli, buf, 4, false) || memcmp(buf, "more", 4))
		fail("connection 1: the server can't send any more");
	if (shutdown(srv, SHUT_WR) || read_in_time(cli, buf, 0, true))
		fail("connection 1: the client does not see the server's end of file");
	if (kill(hpid, SIGUSR2) || read_in_time(out_cli, buf, 10, true) || memcmp(buf, "late reply", 10))
		fail("connection 2: the peer outside the tree can't send to the half-closed client any more");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
