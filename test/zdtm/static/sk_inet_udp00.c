// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_udp00: UDP echo pairs over 127.0.0.1, ::1 and a v4-mapped IPv6
 * socket talking to an IPv4 one: a bound server socket, and a client
 * connect()ed to it (with SO_BROADCAST, IP_PKTINFO / IPV6_RECVPKTINFO,
 * SO_PRIORITY, SO_TIMESTAMPNS and the multicast TTL / hop limit set). One echo goes both ways before the dump; after restore
 * the client's datagram reaches the server from the same address and port,
 * the server's reply reaches the client, and a connected client still
 * ignores datagrams from anyone but its peer.
 */
#include <fcntl.h>
#include <stdio.h>

#include "sk_inet.h"

#define NR 3

struct pair {
	int family_srv, family_cli;
	bool mapped;
	int srv, cli;
	union sk_addr srv_addr, cli_addr;
	socklen_t srv_len, cli_len;
};

static int echo(struct pair *p, const char *msg)
{
	union sk_addr from;
	socklen_t flen = sizeof(from);
	char buf[64];
	ssize_t n;

	if (send(p->cli, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		return -1;
	n = recvfrom(p->srv, buf, sizeof(buf), 0, &from.sa, &flen);
	if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, n))
		return -2;
	if (flen != p->cli_len || memcmp(&from, &p->cli_addr, flen))
		return -3;	/* the client's address and port */
	if (sendto(p->srv, buf, n, 0, &from.sa, flen) != n)
		return -4;
	n = recv(p->cli, buf, sizeof(buf), 0);
	if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, n))
		return -5;
	return 0;
}

static int setup(struct pair *p)
{
	union sk_addr a;
	socklen_t len;

	p->srv = socket(p->family_srv, SOCK_DGRAM, 0);
	p->cli = socket(p->family_cli, SOCK_DGRAM, 0);
	if (p->srv < 0 || p->cli < 0)
		return -1;
	len = sk_loopback(p->family_srv, false, &a);
	if (bind(p->srv, &a.sa, len) || sk_name(p->srv, &p->srv_addr, &p->srv_len))
		return -1;
	if (p->mapped) {
		/* an IPv6 client reaching the IPv4 server through ::ffff:127.0.0.1 */
		union sk_addr m;

		sk_loopback(AF_INET6, true, &m);
		m.v6.sin6_port = p->srv_addr.v4.sin_port;
		if (connect(p->cli, &m.sa, sizeof(m.v6)))
			return -1;
	} else if (connect(p->cli, &p->srv_addr.sa, p->srv_len)) {
		return -1;
	}
	if (sk_set_int(p->cli, SOL_SOCKET, SO_BROADCAST, 1) || sk_set_int(p->cli, SOL_SOCKET, SO_PRIORITY, 5) ||
	    sk_set_int(p->srv, SOL_SOCKET, SO_TIMESTAMPNS, 1) ||
	    (p->family_cli == AF_INET ? sk_set_int(p->cli, SOL_IP, IP_MULTICAST_TTL, 7) :
					sk_set_int(p->cli, SOL_IPV6, IPV6_MULTICAST_HOPS, 7)) ||
	    (p->family_srv == AF_INET ? sk_set_int(p->srv, SOL_IP, IP_PKTINFO, 1) :
					sk_set_int(p->srv, SOL_IPV6, IPV6_RECVPKTINFO, 1)))
		return -1;
	if (sk_name(p->cli, &p->cli_addr, &p->cli_len))
		return -1;
	if (p->mapped) {
		/* the server sees the client as the IPv4 address the mapped one stands for */
		union sk_addr v4;

		sk_loopback(AF_INET, false, &v4);
		v4.v4.sin_port = p->cli_addr.v6.sin6_port;
		p->cli_addr = v4;
		p->cli_len = sizeof(v4.v4);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pair p[NR] = {
		{ .family_srv = AF_INET, .family_cli = AF_INET },
		{ .family_srv = AF_INET6, .family_cli = AF_INET6 },
		{ .family_srv = AF_INET, .family_cli = AF_INET6, .mapped = true },
	};
	union sk_addr srv_before[NR];
	int ret;

	test_init(argc, argv);
	for (int i = 0; i < NR; i++) {
		if (setup(&p[i])) {
			fail("pair %d: set up", i);
			return 1;
		}
		ret = echo(&p[i], "before");
		if (ret) {
			fail("pair %d: echo before the dump: step %d", i, -ret);
			return 1;
		}
		srv_before[i] = p[i].srv_addr;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++) {
		int stranger;
		char buf[16];

		if (!sk_name_eq(p[i].srv, &srv_before[i]))
			fail("pair %d: the server's address changed", i);
		ret = echo(&p[i], "after the restore");
		if (ret)
			fail("pair %d: echo after restore: step %d", i, -ret);
		if (sk_get_int(p[i].cli, SOL_SOCKET, SO_BROADCAST) != 1 || sk_get_int(p[i].cli, SOL_SOCKET, SO_PRIORITY) != 5 ||
		    sk_get_int(p[i].cli, p[i].family_cli == AF_INET ? SOL_IP : SOL_IPV6,
			       p[i].family_cli == AF_INET ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS) != 7)
			fail("pair %d: the client's options", i);
		if (sk_get_int(p[i].srv, SOL_SOCKET, SO_TIMESTAMPNS) != 1)
			fail("pair %d: the server's SO_TIMESTAMPNS", i);
		if (sk_get_int(p[i].srv, p[i].family_srv == AF_INET ? SOL_IP : SOL_IPV6,
			       p[i].family_srv == AF_INET ? IP_PKTINFO : IPV6_RECVPKTINFO) != 1)
			fail("pair %d: the server's pktinfo option", i);
		/* a datagram from a third socket: the connected client must not see it */
		stranger = socket(p[i].family_cli, SOCK_DGRAM, 0);
		if (p[i].mapped) {
			union sk_addr m;

			sk_loopback(AF_INET6, true, &m);
			m.v6.sin6_port = p[i].cli_addr.v4.sin_port;
			sendto(stranger, "x", 1, 0, &m.sa, sizeof(m.v6));
		} else {
			sendto(stranger, "x", 1, 0, &p[i].cli_addr.sa, p[i].cli_len);
		}
		if (recv(p[i].cli, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
			fail("pair %d: the client is no longer connected to its server only", i);
		errno = 0;
		close(stranger);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
