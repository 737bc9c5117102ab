// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_close: established connections dumped with --tcp-close (CRIU's
 * semantics: the dump records them without repair mode, the restore gives
 * them back closed: sockets that are not connected, shut down both ways).
 * After a restore each end reads end of file and has no peer, the listener (restored as usual)
 * accepts a new connection. With dump --leave-running nothing was touched:
 * the connections still work. The test tells the two apart by its own start
 * time, which a restore changes.
 */
#include <stdio.h>
#include <stdlib.h>

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
	union sk_addr a, peer;
	socklen_t len, plen = sizeof(peer);
	int lsk, cli, srv, c2, s2;
	unsigned long long t0;
	char buf[8];

	test_init(argc, argv);
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &a);
	if (lsk < 0 || cli < 0 || bind(lsk, &a.sa, sizeof(a.v4)) || listen(lsk, 4) || sk_name(lsk, &a, &len) ||
	    connect(cli, &a.sa, len) || (srv = accept(lsk, NULL, NULL)) < 0 || write(cli, "x", 1) != 1) {
		fail("set up");
		return 1;
	}
	t0 = start_time();

	test_daemon();
	test_waitsig();

	if (start_time() == t0) {
		test_msg("not restored (dump --leave-running): the connection must still work\n");
		if (read(srv, buf, 1) != 1 || write(srv, "y", 1) != 1 || read(cli, buf, 1) != 1)
			fail("the connection does not work after dump --leave-running --tcp-close");
	} else {
		/* as CRIU restores it: a socket never connected, shut down both ways */
		if (read(cli, buf, 1) != 0 || read(srv, buf, 1) != 0)
			fail("a connection restored with --tcp-close does not read end of file");
		errno = 0;
		if (!getpeername(cli, &peer.sa, &plen) || !getpeername(srv, &peer.sa, &plen))
			fail("a connection restored with --tcp-close has a peer");
		errno = 0;
	}
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, &a.sa, len) || (s2 = accept(lsk, NULL, NULL)) < 0 || write(c2, "z", 1) != 1 ||
	    read(s2, buf, 1) != 1)
		fail("the listener does not accept a new connection");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
