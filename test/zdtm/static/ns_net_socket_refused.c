// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_socket_refused: a task in a network namespace of its own holds a
 * socket (a unix socket pair, which criu restores for tasks in its own
 * namespace). Only TCP and UDP sockets are made again in a namespace of the
 * tree: the dump must refuse it, naming its kind, and the pair must still work.
 */
#include "ns_net_refused.h"

static int sv[2];

static int setup(void)
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static int check(void)
{
	char c = 0;

	return write(sv[0], "x", 1) == 1 && read(sv[1], &c, 1) == 1 && c == 'x' ? 0 : -1;
}
