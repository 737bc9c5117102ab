// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_sysctl_refused: the task's own network namespace has a sysctl
 * changed from a new namespace's (net.ipv4.ip_default_ttl 33). Network
 * sysctls are not restored yet: the dump must refuse naming it, and the
 * value must still be there.
 */
#include <fcntl.h>

#include "ns_net_refused.h"

#define PATH "/proc/sys/net/ipv4/ip_default_ttl"

static int setup(void)
{
	int fd = open(PATH, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "33", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

static int check(void)
{
	char buf[16] = "";
	int fd = open(PATH, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "33\n", 3) ? 0 : -1;
}
