// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_half_closed_refused: a half-closed connection (the client shut its
 * writing side: the client is in FIN_WAIT2, the server in CLOSE_WAIT) is not
 * restored yet: the dump with --tcp-established must fail naming the state,
 * take every connection it touched out of repair mode and leave the task as
 * it was: the server still sends to the client, and reads the end of file.
 */
#include <poll.h>

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
	    connect(cli, &a.sa, len) || (srv = accept(lsk, NULL, NULL)) < 0 || shutdown(cli, SHUT_WR)) {
		fail("set up");
		return 1;
	}
	poll(NULL, 0, 100);	/* the FIN reaches the server: CLOSE_WAIT */

	test_daemon();
	test_waitsig();

	if (read(srv, buf, sizeof(buf)) != 0)
		fail("the server does not read the client's end of file");
	if (write(srv, "late", 4) != 4 || sk_read_all(cli, buf, 4) || memcmp(buf, "late", 4))
		fail("the half-closed connection does not carry data after the failed dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
