// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_est_refused: an established TCP connection, dumped without
 * --tcp-established: the dump must fail with an error naming the
 * connection and the option, and leave the task running with its
 * connection working both ways.
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
	    connect(cli, &a.sa, len) || (srv = accept(lsk, NULL, NULL)) < 0) {
		fail("set up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(cli, "ping", 4) != 4 || sk_read_all(srv, buf, 4) || write(srv, "pong", 4) != 4 ||
	    sk_read_all(cli, buf, 4) || memcmp(buf, "pong", 4))
		fail("the connection does not work after the failed dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
