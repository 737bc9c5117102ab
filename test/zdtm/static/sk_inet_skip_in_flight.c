// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_skip_in_flight: a listener with a connection not accepted yet,
 * dumped with --skip-in-flight (CRIU's semantics: the connection is dropped
 * and its client sees a reset, instead of a refused dump). After restore the
 * listener has nothing to accept, and a new connection works; after dump
 * --leave-running nothing was touched and the pending connection is still
 * there to accept.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "sk_inet.h"

static unsigned long long start_time(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &v);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	int lsk, cli, c2, s2, pending;
	unsigned long long t0;
	char buf[4];

	test_init(argc, argv);
	lsk = socket(AF_INET6, SOCK_STREAM, 0);
	cli = socket(AF_INET6, SOCK_STREAM, 0);
	sk_loopback(AF_INET6, false, &a);
	if (lsk < 0 || cli < 0 || bind(lsk, &a.sa, sizeof(a.v6)) || listen(lsk, 4) || sk_name(lsk, &a, &len) ||
	    connect(cli, &a.sa, len)) {
		fail("set up");
		return 1;
	}
	t0 = start_time();

	test_daemon();
	test_waitsig();

	fcntl(lsk, F_SETFL, O_NONBLOCK);
	pending = accept(lsk, NULL, NULL);
	if (start_time() == t0) {
		test_msg("not restored (dump --leave-running): the pending connection must still be there\n");
		if (pending < 0)
			fail("the pending connection is gone after dump --leave-running");
	} else if (pending >= 0) {
		fail("the connection skipped in flight came back");
	}
	errno = 0;
	c2 = socket(AF_INET6, SOCK_STREAM, 0);
	fcntl(lsk, F_SETFL, 0);
	if (c2 < 0 || connect(c2, &a.sa, len) || (s2 = accept(lsk, NULL, NULL)) < 0 || write(c2, "new", 3) != 3 ||
	    sk_read_all(s2, buf, 3))
		fail("the listener does not accept a new connection");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
