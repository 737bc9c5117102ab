// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_seqpacket00: seqpacket unix sockets.
 *  - a seqpacket socketpair with records queued both ways;
 *  - a listener with an abstract name and a connection accepted from it,
 *    records queued on both sides of that connection.
 * After restore the records are there with their boundaries, the accepted
 * socket and its client are connected to each other and carry the listener's
 * name, and the listener still accepts new connections.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char *const recs[] = { "first", "a somewhat longer second record", "3", "" };
#define NR_RECS (sizeof(recs) / sizeof(recs[0]))

static int send_recs(int fd, const char *tag)
{
	char buf[128];

	for (size_t i = 0; i < NR_RECS; i++) {
		int len = snprintf(buf, sizeof(buf), "%s:%s", tag, recs[i]);

		if (send(fd, buf, len, MSG_DONTWAIT) != len)
			return -1;
	}
	return 0;
}

static void check_recs(int fd, const char *tag)
{
	char buf[256], want[128];

	for (size_t i = 0; i < NR_RECS; i++) {
		int len = snprintf(want, sizeof(want), "%s:%s", tag, recs[i]);
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		errno = 0;
		if (n != len || memcmp(buf, want, len)) {
			fail("%s: record %zu is %zd bytes, expected '%s'", tag, i, n, want);
			return;
		}
	}
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("%s: more records than were queued", tag);
}

static void check_link(int a, int b, const char *what)
{
	char buf[16];

	errno = 0;
	if (send(a, "abc", 3, 0) != 3 || recv(b, buf, sizeof(buf), MSG_DONTWAIT) != 3 || memcmp(buf, "abc", 3))
		fail("%s: a -> b does not flow", what);
	if (send(b, "de", 2, 0) != 2 || recv(a, buf, sizeof(buf), MSG_DONTWAIT) != 2 || memcmp(buf, "de", 2))
		fail("%s: b -> a does not flow", what);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa, got;
	socklen_t len, glen;
	int pr[2], lsk, cli, srv, c2, s2;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	      snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "zdtm-seqpacket-%d", getpid());

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pr) || send_recs(pr[0], "p01") || send_recs(pr[1], "p10")) {
		fail("socketpair");
		return 1;
	}
	lsk = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cli = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lsk < 0 || cli < 0 || bind(lsk, (struct sockaddr *)&sa, len) || listen(lsk, 5) ||
	    connect(cli, (struct sockaddr *)&sa, len)) {
		fail("listen/connect");
		return 1;
	}
	srv = accept4(lsk, NULL, NULL, SOCK_NONBLOCK);
	if (srv < 0 || send_recs(cli, "c2s") || send_recs(srv, "s2c")) {
		fail("accept/send");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_recs(pr[1], "p01");
	check_recs(pr[0], "p10");
	check_recs(srv, "c2s");
	check_recs(cli, "s2c");
	check_link(pr[0], pr[1], "pair");
	check_link(cli, srv, "accepted connection");

	glen = sizeof(got);
	errno = 0;
	if (getsockname(srv, (struct sockaddr *)&got, &glen) || glen != len || memcmp(&got, &sa, len))
		fail("the accepted socket does not carry the listener's name");
	glen = sizeof(got);
	if (getpeername(cli, (struct sockaddr *)&got, &glen) || glen != len || memcmp(&got, &sa, len))
		fail("the client's peer name is not the listener's");
	if (!(fcntl(srv, F_GETFL) & O_NONBLOCK))
		fail("the accepted socket lost O_NONBLOCK");

	c2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&sa, len)) {
		fail("a new connection to the restored listener");
	} else {
		s2 = accept(lsk, NULL, NULL);
		if (s2 < 0)
			fail("accept after restore");
		else
			check_link(c2, s2, "new connection");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
