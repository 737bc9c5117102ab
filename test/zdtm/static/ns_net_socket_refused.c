// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_socket_refused: a task in a network namespace of its own holds a
 * netlink socket. Only TCP, UDP and unix sockets are made again in a
 * namespace of the tree: the dump must refuse it, naming its kind, and the
 * socket must still be there, bound to the same port id.
 */
#include <sys/socket.h>
#include <linux/netlink.h>

#include "ns_net_refused.h"

static int sk = -1;
static struct sockaddr_nl before;

static int setup(void)
{
	socklen_t len = sizeof(before);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };

	sk = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (sk < 0 || bind(sk, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return getsockname(sk, (struct sockaddr *)&before, &len);
}

static int check(void)
{
	struct sockaddr_nl now;
	socklen_t len = sizeof(now);

	if (getsockname(sk, (struct sockaddr *)&now, &len))
		return -1;
	return now.nl_family == AF_NETLINK && now.nl_pid == before.nl_pid ? 0 : -1;
}
