// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_name_twice_refused: two datagram sockets bound one after the other
 * to the same path (the first one's file removed before the second bind,
 * then the second's), each with a connected client. Restore could not give
 * both the name, so the dump must refuse; after it each client still
 * reaches its socket.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int srv[2], cli[2];
	char buf[8];

	test_init(argc, argv);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "zdtm-sktwice.%d", getpid());
	for (int i = 0; i < 2; i++) {
		srv[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
		cli[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (srv[i] < 0 || cli[i] < 0 || bind(srv[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    connect(cli[i], (struct sockaddr *)&sa, sizeof(sa)) || unlink(sa.sun_path)) {
			fail("socket setup");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++)
		if (send(cli[i], "ping", 4, 0) != 4 || recv(srv[i], buf, sizeof(buf), MSG_DONTWAIT) != 4 ||
		    memcmp(buf, "ping", 4))
			fail("client %d can't reach its socket any more", i);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
