// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_established00: established TCP connections with both ends in the
 * dumped tree (--tcp-established), over 127.0.0.1 and ::1 and through a
 * v4-mapped IPv6 client: one end in the test's root, the other in its
 * child. Before the dump each connection has data waiting, unread, in both
 * directions, and one has its sender's send queue full (its peer's receive
 * window closed): bytes sent but not acknowledged and bytes never sent.
 * After restore: the same addresses and ports, TCP_NODELAY, keepalive and
 * SO_REUSEADDR as set (the accepted end inherited the listener's, the
 * client has none), every byte queued before the dump arrives, in order,
 * and new data flows both ways.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "sk_inet.h"

#define NR 3
#define EARLY "queued before the dump"

struct conn {
	int family;
	bool mapped;
	int lsk, cli, srv;
	union sk_addr cli_name, srv_name;
};

static int make_conn(struct conn *c)
{
	union sk_addr a;
	socklen_t len;

	c->lsk = socket(c->family == AF_INET && c->mapped ? AF_INET6 : c->family, SOCK_STREAM, 0);
	c->cli = socket(c->family, SOCK_STREAM, 0);
	len = sk_loopback(c->family, c->mapped, &a);
	/* the accepted end inherits the listener's SO_REUSEADDR; the client has none */
	if (c->lsk < 0 || c->cli < 0 || (c->mapped && sk_set_int(c->lsk, SOL_IPV6, IPV6_V6ONLY, 0)) ||
	    sk_set_int(c->lsk, SOL_SOCKET, SO_REUSEADDR, 1))
		return -1;
	if (c->mapped) {
		/* an IPv6 client of a dual-stack listener, through ::ffff:127.0.0.1 */
		union sk_addr any = { .v6 = { .sin6_family = AF_INET6 } };

		if (bind(c->lsk, &any.sa, sizeof(any.v6)) || listen(c->lsk, 4) || sk_name(c->lsk, &any, &len))
			return -1;
		a.v6.sin6_port = any.v6.sin6_port;
	} else if (bind(c->lsk, &a.sa, len) || listen(c->lsk, 4) || sk_name(c->lsk, &a, &len)) {
		return -1;
	}
	if (connect(c->cli, &a.sa, len))
		return -1;
	c->srv = accept(c->lsk, NULL, NULL);
	if (c->srv < 0 || sk_name(c->cli, &c->cli_name, &len) || sk_name(c->srv, &c->srv_name, &len))
		return -1;
	if (sk_set_int(c->cli, SOL_TCP, TCP_NODELAY, 1) || sk_set_int(c->srv, SOL_SOCKET, SO_KEEPALIVE, 1) ||
	    sk_set_int(c->srv, SOL_TCP, TCP_KEEPIDLE, 77))
		return -1;
	return 0;
}

/* the child: the server ends; it checks its side after the restore and exits 0 or 1 */
static int child(struct conn *c, int go)
{
	char buf[64];
	int bad = 0;

	for (int i = 0; i < NR; i++) {
		close(c[i].cli);
		if (write(c[i].srv, EARLY, sizeof(EARLY)) != sizeof(EARLY))
			return 1;
	}
	if (read(go, buf, 1) != 1)	/* the parent, after the restore */
		return 1;
	for (int i = 0; i < NR; i++) {
		if (!sk_name_eq(c[i].srv, &c[i].srv_name))
			bad |= 2;
		if (sk_read_all(c[i].srv, buf, sizeof(EARLY)) || memcmp(buf, EARLY, sizeof(EARLY)))
			bad |= 4;
		if (sk_read_all(c[i].srv, buf, 6) || memcmp(buf, "after!", 6) || write(c[i].srv, "AFTER!", 6) != 6)
			bad |= 8;
		if (sk_get_int(c[i].srv, SOL_SOCKET, SO_KEEPALIVE) != 1 || sk_get_int(c[i].srv, SOL_TCP, TCP_KEEPIDLE) != 77)
			bad |= 16;
		if (sk_get_int(c[i].srv, SOL_SOCKET, SO_REUSEADDR) != 1)
			bad |= 32;
	}
	return bad;
}

/* a connection whose sender's send queue is full: returns how many bytes went in */
static long fill(int snd, int rcv)
{
	char chunk[4096];
	long total = 0;

	/* fixed buffers: the queues stay small, and a window this size recovers from a pause at once */
	sk_set_int(rcv, SOL_SOCKET, SO_RCVBUF, 65536);
	sk_set_int(snd, SOL_SOCKET, SO_SNDBUF, 262144);
	fcntl(snd, F_SETFL, O_NONBLOCK);
	for (;;) {
		for (size_t k = 0; k < sizeof(chunk); k++)
			chunk[k] = (char)((total + k) % 251);
		ssize_t n = write(snd, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		total += n;
	}
	fcntl(snd, F_SETFL, 0);
	return total;
}

static int drain(int rcv, long total)
{
	char buf[4096];
	long got = 0;

	while (got < total) {
		ssize_t n = read(rcv, buf, sizeof(buf));

		if (n <= 0)
			return -1;
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != (char)((got + k) % 251))
				return -2;
		got += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conn c[NR] = {
		{ .family = AF_INET }, { .family = AF_INET6 }, { .family = AF_INET6, .mapped = true },
	};
	int go[2], fl[2], status;
	long filled;
	char buf[64];
	pid_t pid;

	test_init(argc, argv);
	for (int i = 0; i < NR; i++)
		if (make_conn(&c[i])) {
			fail("connection %d: set up", i);
			return 1;
		}
	/* the full send queue: a pair of its own, both ends here */
	{
		struct conn f = { .family = AF_INET };

		if (make_conn(&f)) {
			fail("the filled connection: set up");
			return 1;
		}
		fl[0] = f.cli;
		fl[1] = f.srv;
		filled = fill(fl[0], fl[1]);
		test_msg("%ld bytes in flight in the filled connection\n", filled);
	}
	if (pipe(go)) {
		fail("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		close(go[1]);
		_exit(child(c, go[0]));
	}
	close(go[0]);
	for (int i = 0; i < NR; i++) {
		close(c[i].srv);
		if (write(c[i].cli, EARLY, sizeof(EARLY)) != sizeof(EARLY)) {
			fail("early data");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1)
		fail("can't wake the child");
	for (int i = 0; i < NR; i++) {
		if (!sk_name_eq(c[i].cli, &c[i].cli_name))
			fail("connection %d: the client's address changed", i);
		if (sk_read_all(c[i].cli, buf, sizeof(EARLY)) || memcmp(buf, EARLY, sizeof(EARLY)))
			fail("connection %d: the data queued to the client before the dump", i);
		if (write(c[i].cli, "after!", 6) != 6 || sk_read_all(c[i].cli, buf, 6) || memcmp(buf, "AFTER!", 6))
			fail("connection %d: no new data after the restore", i);
		if (sk_get_int(c[i].cli, SOL_TCP, TCP_NODELAY) != 1)
			fail("connection %d: TCP_NODELAY", i);
		if (sk_get_int(c[i].cli, SOL_SOCKET, SO_REUSEADDR) != 0)
			fail("connection %d: the client has SO_REUSEADDR", i);
	}
	if (drain(fl[1], filled))
		fail("the %ld bytes in flight in the filled connection did not all arrive in order", filled);
	if (write(fl[1], "x", 1) != 1 || read(fl[0], buf, 1) != 1 || buf[0] != 'x')
		fail("the filled connection does not carry new data");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child's side failed (status %#x)", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
