// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_icons_refused: a TCP listener with a connection not accepted yet
 * (the client connected and sent data; nobody called accept()). criu can't
 * dump the connection waiting in the accept queue: the dump must fail
 * naming it (--skip-in-flight would drop it) and leave the task as it was:
 * the connection is still accepted afterwards and carries the early data.
 */
#include "sk_inet.h"

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	int lsk, cli, srv;
	char buf[8];

	test_init(argc, argv);
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &a);
	if (lsk < 0 || cli < 0 || bind(lsk, &a.sa, sizeof(a.v4)) || listen(lsk, 4) || sk_name(lsk, &a, &len) ||
	    connect(cli, &a.sa, len) || write(cli, "early", 5) != 5) {
		fail("set up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	srv = accept(lsk, NULL, NULL);
	if (srv < 0 || sk_read_all(srv, buf, 5) || memcmp(buf, "early", 5))
		fail("the pending connection or its data is gone");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
