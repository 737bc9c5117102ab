// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_udp_queue_refused: a UDP socket with a datagram queued, not read
 * yet. criu can't send it again from its sender's address, and dropping it
 * would be silent: the dump must fail naming the socket and leave the task
 * as it was (the datagram is still there to read).
 */
#include "sk_inet.h"

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	int srv, cli;
	char buf[8];

	test_init(argc, argv);
	srv = socket(AF_INET6, SOCK_DGRAM, 0);
	cli = socket(AF_INET6, SOCK_DGRAM, 0);
	sk_loopback(AF_INET6, false, &a);
	if (srv < 0 || cli < 0 || bind(srv, &a.sa, sizeof(a.v6)) || sk_name(srv, &a, &len) ||
	    sendto(cli, "queued", 6, 0, &a.sa, len) != 6) {
		fail("set up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "queued", 6))
		fail("the queued datagram is gone");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
