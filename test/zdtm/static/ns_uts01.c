// SPDX-License-Identifier: GPL-2.0
/*
 * ns_uts01: UTS namespaces made, shared and left by tasks below the root,
 * which stays in criu's:
 *
 *   R  criu's namespace
 *   +- A  a namespace of its own ("a")
 *   |  +- A1 A's, inherited
 *   |  +- A2 back in criu's (setns)
 *   +- B  another namespace of its own ("b")
 *   +- C  joins A's (setns, not inherited)
 *
 * After restore A, A1 and C share one namespace named "a", B has its own
 * named "b", R and A2 are in criu's with its names untouched.
 */
#include "ns_tree.h"

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_KEEP, .group = 0 },		/* R */
	{ .parent = 0, .how = NS_NEW, .group = 1 },		/* A */
	{ .parent = 1, .how = NS_KEEP, .group = 1 },		/* A1 */
	{ .parent = 1, .how = NS_BACK, .group = 0 },		/* A2 */
	{ .parent = 0, .how = NS_NEW, .group = 2 },		/* B */
	{ .parent = 0, .how = NS_JOIN, .peer = 1, .group = 1 },	/* C */
};

static char start_host[65], start_domain[65];

static const char *host_of(int node)
{
	switch (nodes[node].group) {
	case 1:
		return "zdtm-uts01-a";
	case 2:
		return "zdtm-uts01-b";
	}
	return start_host;
}

static const char *domain_of(int node)
{
	return nodes[node].group ? "zdtm-uts01.domain" : start_domain;
}

static int fill(int node)
{
	if (sethostname(host_of(node), strlen(host_of(node))) ||
	    setdomainname(domain_of(node), strlen(domain_of(node)))) {
		fail("node %d: can't set the names", node);
		return -1;
	}
	return 0;
}

static int check(int node)
{
	char host[65] = "", domain[65] = "";

	if (gethostname(host, sizeof(host)) || getdomainname(domain, sizeof(domain))) {
		fail("node %d: can't read the names", node);
		return -1;
	}
	if (strcmp(host, host_of(node)) || strcmp(domain, domain_of(node))) {
		fail("node %d: names '%s' '%s', expected '%s' '%s'", node, host, domain, host_of(node),
		     domain_of(node));
		return -1;
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "uts", .flag = CLONE_NEWUTS, .nr = 6, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	if (gethostname(start_host, sizeof(start_host)) || getdomainname(start_domain, sizeof(start_domain)))
		return 1;
	return ns_tree_main(&tree, argc, argv);
}
