/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ns_net* tests: the loopback device of the caller's network
 * namespace (flags, MTU) and the list of its devices.
 */
#ifndef ZDTM_NS_NET_LO_H
#define ZDTM_NS_NET_LO_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

/* ioctl on lo through a socket made and closed here (no socket is left in the tree). */
static inline int lo_ioctl(unsigned long req, struct ifreq *ifr)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (sk < 0)
		return -1;
	strcpy(ifr->ifr_name, "lo");
	ret = ioctl(sk, req, ifr);
	close(sk);
	return ret;
}

static inline int lo_set(int up, int mtu)
{
	struct ifreq ifr = {};

	if (lo_ioctl(SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags = up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP);
	if (lo_ioctl(SIOCSIFFLAGS, &ifr))
		return -1;
	ifr.ifr_mtu = mtu;
	return lo_ioctl(SIOCSIFMTU, &ifr);
}

/* 0 when lo is up (or down) with this MTU and is the only device; else fail() and -1 */
static inline int lo_check(const char *who, int up, int mtu)
{
	struct if_nameindex *ifs = if_nameindex();
	struct ifreq ifr = {};
	int n = 0, ret = 0;

	for (struct if_nameindex *i = ifs; i && i->if_index; i++, n++)
		if (strcmp(i->if_name, "lo")) {
			fail("%s: a device %s", who, i->if_name);
			ret = -1;
		}
	if (ifs)
		if_freenameindex(ifs);
	if (!ifs || n != 1 || lo_ioctl(SIOCGIFFLAGS, &ifr)) {
		fail("%s: can't list the devices (%d) or read lo", who, n);
		return -1;
	}
	if (!!(ifr.ifr_flags & IFF_UP) != !!up) {
		fail("%s: lo is %s, expected %s", who, ifr.ifr_flags & IFF_UP ? "up" : "down", up ? "up" : "down");
		ret = -1;
	}
	if (lo_ioctl(SIOCGIFMTU, &ifr) || ifr.ifr_mtu != mtu) {
		fail("%s: lo's MTU is %d, expected %d", who, ifr.ifr_mtu, mtu);
		ret = -1;
	}
	return ret;
}

/* lo answers on 127.0.0.1 when up: a UDP datagram to ourselves comes back */
static inline int lo_echo(const char *who)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok = 0;
	char buf[8] = "";

	if (sk >= 0 && !bind(sk, (struct sockaddr *)&a, sizeof(a)) && !getsockname(sk, (struct sockaddr *)&a, &len) &&
	    sendto(sk, "ping", 4, 0, (struct sockaddr *)&a, len) == 4 && recv(sk, buf, sizeof(buf), MSG_DONTWAIT) == 4)
		ok = !memcmp(buf, "ping", 4);
	if (sk >= 0)
		close(sk);
	if (!ok)
		fail("%s: no datagram to 127.0.0.1 came back", who);
	return ok ? 0 : -1;
}

#endif
