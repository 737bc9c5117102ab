// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_extpeer_busy: the network lock at work. The peer, a process
 * outside the dumped tree, sends a numbered line every 20 ms on an
 * established connection (over 127.0.0.1), all the time: while the tree is
 * dumped, killed and restored. A line that reached the port while no socket
 * held it would be answered with a reset; with the lock its packets are
 * dropped and sent again once the connection is back. After restore every
 * line arrives, in order, none missing, and the connection goes on.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "sk_inet.h"

static void helper(const union sk_addr *a, socklen_t len)
{
	char line[32];
	int fd;

	setsid();
	for (int i = 3; i < 1024; i++)
		close(i);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, &a->sa, len))
		_exit(1);
	for (unsigned n = 0;; n++) {
		int l = snprintf(line, sizeof(line), "tick %u\n", n);

		if (write(fd, line, l) != l)
			_exit(0);	/* the test closed the connection */
		poll(NULL, 0, 20);
	}
}

/* read one line within 10 s */
static int read_line(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size) {
		if (poll(&p, 1, 10000) != 1 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

/* lines until number want, each the next one: 0, or -1 */
static int read_ticks(int fd, unsigned *next, unsigned want)
{
	char buf[64];
	unsigned v;

	while (*next <= want) {
		if (read_line(fd, buf, sizeof(buf)) || sscanf(buf, "tick %u", &v) != 1 || v != *next)
			return -1;
		(*next)++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	unsigned next = 0;
	int lsk, srv;
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
		_exit(0);	/* the helper is re-parented to the runner: outside the tree */
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid || (srv = accept(lsk, NULL, NULL)) < 0) {
		fail("the helper");
		return 1;
	}
	close(lsk);
	if (read_ticks(srv, &next, 5)) {
		fail("the first lines");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* what came before the dump, what the lock held back, and more */
	if (read_ticks(srv, &next, next + 50))
		fail("line %u is missing or out of order after the restore", next);
	else
		test_msg("read up to line %u\n", next);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
