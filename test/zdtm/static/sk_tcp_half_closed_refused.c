// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_half_closed_refused: a connection whose peer, a process outside
 * the tree, shut it for writing (the tree's end is in CLOSE_WAIT): criu
 * can't give the restored socket its end of file again (the peer would
 * have to send its FIN again), so the dump with --tcp-established must fail
 * naming the state and leave the task as it was: it reads the end of file
 * and can still send to the peer.
 */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "sk_inet.h"

/* the peer outside the tree: sends, shuts its writing side, echoes what it reads back to nothing */
static void helper(const union sk_addr *a, socklen_t len)
{
	char buf[64];
	int fd;

	setsid();
	for (int i = 3; i < 1024; i++)
		close(i);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, &a->sa, len) || write(fd, "data", 4) != 4 || shutdown(fd, SHUT_WR))
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	int lsk, srv;
	char buf[8];
	pid_t pid;

	test_init(argc, argv);
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &a);
	if (lsk < 0 || bind(lsk, &a.sa, sizeof(a.v4)) || listen(lsk, 1) || sk_name(lsk, &a, &len)) {
		fail("listener");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		if (fork() == 0)
			helper(&a, len);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid || (srv = accept(lsk, NULL, NULL)) < 0) {
		fail("the helper");
		return 1;
	}
	{
		/* its FIN arrived: CLOSE_WAIT */
		struct pollfd p = { .fd = srv, .events = POLLRDHUP };

		if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLRDHUP)) {
			fail("the helper did not shut its writing side");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (sk_read_all(srv, buf, 4) || memcmp(buf, "data", 4) || read(srv, buf, sizeof(buf)) != 0)
		fail("the data and the end of file from the peer are gone");
	if (write(srv, "still", 5) != 5)
		fail("the socket can't send to its peer after the failed dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
