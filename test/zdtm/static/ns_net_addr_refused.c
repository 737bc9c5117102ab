// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_addr_refused: the task's own network namespace has an address of
 * its own (10.77.0.1 on lo:1). Addresses are not restored yet: the dump
 * must refuse naming it, and the address must still be there.
 */
#include "ns_net_refused.h"

static int addr_ioctl(unsigned long req, struct ifreq *ifr)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (sk < 0)
		return -1;
	strcpy(ifr->ifr_name, "lo:1");
	ret = ioctl(sk, req, ifr);
	close(sk);
	return ret;
}

static int setup(void)
{
	struct ifreq ifr = {};
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, "10.77.0.1", &a->sin_addr);
	return addr_ioctl(SIOCSIFADDR, &ifr);
}

static int check(void)
{
	struct ifreq ifr = {};
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	return addr_ioctl(SIOCGIFADDR, &ifr) || a->sin_addr.s_addr != inet_addr("10.77.0.1");
}
