// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net01: network namespaces made, shared and left by tasks below the
 * root, which stays in criu's:
 *
 *   R  criu's namespace
 *   +- A  a namespace of its own, lo up
 *   |  +- A1 A's, inherited
 *   |  +- A2 back in criu's (setns)
 *   +- B  another namespace of its own, lo left down
 *   +- C  joins A's (setns, not inherited)
 *
 * After restore A, A1 and C share one namespace with lo up, B has its own
 * with lo down, R and A2 are in criu's.
 */
#include "ns_tree.h"
#include "ns_net_lo.h"

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_KEEP, .group = 0 },		/* R */
	{ .parent = 0, .how = NS_NEW, .group = 1 },		/* A */
	{ .parent = 1, .how = NS_KEEP, .group = 1 },		/* A1 */
	{ .parent = 1, .how = NS_BACK, .group = 0 },		/* A2 */
	{ .parent = 0, .how = NS_NEW, .group = 2 },		/* B */
	{ .parent = 0, .how = NS_JOIN, .peer = 1, .group = 1 },	/* C */
};

static int fill(int node)
{
	if (nodes[node].group == 1 && lo_set(1, 65536)) {
		fail("node %d: can't set lo up", node);
		return -1;
	}
	return 0;
}

static int check(int node)
{
	char who[16];

	snprintf(who, sizeof(who), "node %d", node);
	switch (nodes[node].group) {
	case 1:
		return lo_check(who, 1, 65536) ?: lo_echo(who);
	case 2:
		return lo_check(who, 0, 65536);
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "net", .flag = CLONE_NEWNET, .nr = 6, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
