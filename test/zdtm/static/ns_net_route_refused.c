// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_route_refused: the task's own network namespace has a route the
 * kernel did not make (10.78.0.0/16 through lo). Routes are not restored
 * yet: the dump must refuse it, and the route must still be there.
 */
#include <net/route.h>
#include <stdlib.h>

#include "ns_net_refused.h"

static int route(unsigned long req)
{
	struct rtentry rt = { .rt_flags = RTF_UP, .rt_dev = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_dst)->sin_addr.s_addr = inet_addr("10.78.0.0");
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_addr.s_addr = inet_addr("255.255.0.0");
	if (sk < 0)
		return -1;
	ret = ioctl(sk, req, &rt);
	close(sk);
	return ret;
}

static int setup(void)
{
	return route(SIOCADDRT);
}

/* /proc/net/route lists the main table: the route is there (0x00004E0A is 10.78.0.0) */
static int check(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/net/route", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "00004E0A"))
			found = 1;
	fclose(f);
	return found ? 0 : -1;
}
