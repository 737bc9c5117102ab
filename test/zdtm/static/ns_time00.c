// SPDX-License-Identifier: GPL-2.0
/*
 * ns_time00: the test's root has a time namespace of its own (monotonic and
 * boot-time clocks far ahead of the host's), shared with its child by
 * inheritance. After restore both are in one time namespace that is not
 * criu's, its clocks still far ahead, and the root's monotonic clock has
 * not gone back from what it read before the dump.
 */
#include "ns_tree.h"
#include "ns_time_clk.h"

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_NEW, .group = 1 },
	{ .parent = 0, .how = NS_KEEP, .group = 1 },
};

static struct timespec before;

static int fill(int node)
{
	if (timens_fill()) {
		fail("node %d: can't make the time namespace", node);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &before);
	return 0;
}

static int check(int node)
{
	struct timespec now;
	char who[16];

	snprintf(who, sizeof(who), "node %d", node);
	if (timens_check(who))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (node == 0 && (now.tv_sec < before.tv_sec || (now.tv_sec == before.tv_sec && now.tv_nsec < before.tv_nsec))) {
		fail("the monotonic clock went back: %ld.%09ld, it was %ld.%09ld", now.tv_sec, now.tv_nsec,
		     before.tv_sec, before.tv_nsec);
		return -1;
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "time", .flag = CLONE_NEWTIME, .nr = 2, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
