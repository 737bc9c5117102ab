// SPDX-License-Identifier: GPL-2.0
/*
 * ns_time01: time namespaces made, shared and left by tasks below the root,
 * which stays in criu's:
 *
 *   R  criu's namespace
 *   +- A  a time namespace of its own, clocks far ahead
 *   |  +- A1 A's, inherited
 *   |  +- A2 back in criu's (setns)
 *   +- B  another one of its own
 *   +- C  joins A's (setns, not inherited)
 *
 * After restore A, A1 and C share one namespace, B has its own, both with
 * their clocks far ahead; R and A2 are in criu's, with no offsets.
 */
#include "ns_tree.h"
#include "ns_time_clk.h"

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
	if (timens_fill()) {
		fail("node %d: can't make the time namespace", node);
		return -1;
	}
	return 0;
}

static int check(int node)
{
	char who[16];

	snprintf(who, sizeof(who), "node %d", node);
	if (nodes[node].group)
		return timens_check(who);
	if (timens_offset("monotonic") || timens_offset("boottime")) {
		fail("%s: offsets in criu's time namespace", who);
		return -1;
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "time", .flag = CLONE_NEWTIME, .nr = 6, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
