// SPDX-License-Identifier: GPL-2.0
/*
 * ns_uts00: the test's root has a UTS namespace of its own (host and domain
 * names set) and a child that shares it by inheritance. After restore both
 * are in one UTS namespace, not criu's, with the names back.
 */
#include "ns_tree.h"

#define HOST "zdtm-uts00"
#define DOMAIN "zdtm-uts00.domain"

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_NEW, .group = 1 },
	{ .parent = 0, .how = NS_KEEP, .group = 1 },
};

static int fill(int node)
{
	if (sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
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
	if (strcmp(host, HOST) || strcmp(domain, DOMAIN)) {
		fail("node %d: names '%s' '%s', expected '%s' '%s'", node, host, domain, HOST, DOMAIN);
		return -1;
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "uts", .flag = CLONE_NEWUTS, .nr = 2, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
