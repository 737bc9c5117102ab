// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net00: the test's root has a network namespace of its own, shared with
 * its child by inheritance, holding only its loopback device, up, with an
 * MTU of 60000. After restore both are in one network namespace that is not
 * criu's, with lo alone, up, at that MTU, answering on 127.0.0.1.
 */
#include "ns_tree.h"
#include "ns_net_lo.h"

#define MTU 60000

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_NEW, .group = 1 },
	{ .parent = 0, .how = NS_KEEP, .group = 1 },
};

static int fill(int node)
{
	if (lo_set(1, MTU)) {
		fail("node %d: can't set lo up", node);
		return -1;
	}
	return 0;
}

static int check(int node)
{
	char who[16];

	snprintf(who, sizeof(who), "node %d", node);
	if (lo_check(who, 1, MTU))
		return -1;
	return lo_echo(who);
}

static const struct ns_tree tree = {
	.kind = "net", .flag = CLONE_NEWNET, .nr = 2, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
