// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_icons_refused: a listening unix socket with a connection not yet
 * accepted (the client connected, the server never called accept), and the
 * client already sent data on it. That data sits in a socket no task has an
 * fd of, so criu can't dump it: the dump must fail (crfail) and leave the
 * task as it was: the connection can still be accepted, and the data the
 * client sent before the dump reaches the server.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lsk, cli, srv;
	socklen_t len;
	char buf[16];

	test_init(argc, argv);
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	      snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "zdtm-icons-%d", getpid());
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || cli < 0 || bind(lsk, (struct sockaddr *)&sa, len) || listen(lsk, 4) ||
	    connect(cli, (struct sockaddr *)&sa, len) || write(cli, "early", 5) != 5) {
		fail("listen/connect");
		return 1;
	}

	test_daemon();
	test_waitsig();

	srv = accept(lsk, NULL, NULL);
	errno = 0;
	if (srv < 0)
		fail("the pending connection can't be accepted");
	else if (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "early", 5))
		fail("the data sent before the dump did not arrive");
	else if (write(srv, "ok", 2) != 2 || recv(cli, buf, sizeof(buf), MSG_DONTWAIT) != 2)
		fail("the connection does not work");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
