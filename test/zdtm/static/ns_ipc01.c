// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc01: IPC namespaces made, shared and left by tasks below the root,
 * which stays in criu's:
 *
 *   R  criu's namespace
 *   +- A  a namespace of its own, a SysV shm segment saying "group 1"
 *   |  +- A1 A's, inherited
 *   |  +- A2 back in criu's (setns)
 *   +- B  another namespace of its own, the same key saying "group 2"
 *   +- C  joins A's (setns, not inherited)
 *
 * After restore A, A1 and C see the "group 1" segment in one namespace, B
 * its own "group 2" one, and R and A2 are in criu's, where the key is unused.
 */
#include <errno.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "ns_tree.h"

#define KEY 0x2d7a21
#define SIZE 4096

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
	int id = shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600);
	char *p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);

	if (p == (char *)-1) {
		fail("node %d: can't make the segment", node);
		return -1;
	}
	snprintf(p, SIZE, "group %d", nodes[node].group);
	shmdt(p);
	return 0;
}

static int check(int node)
{
	int id = shmget(KEY, 0, 0), group = nodes[node].group;
	char want[16], *p;

	if (!group) {
		if (id >= 0 || errno != ENOENT) {
			fail("node %d: the key %#x is in criu's namespace (id %d)", node, KEY, id);
			return -1;
		}
		return 0;
	}
	p = id < 0 ? (char *)-1 : shmat(id, NULL, SHM_RDONLY);
	if (p == (char *)-1) {
		fail("node %d: the segment is not there", node);
		return -1;
	}
	snprintf(want, sizeof(want), "group %d", group);
	if (strcmp(p, want)) {
		fail("node %d: the segment says '%.16s', expected '%s'", node, p, want);
		shmdt(p);
		return -1;
	}
	shmdt(p);
	return 0;
}

static const struct ns_tree tree = {
	.kind = "ipc", .flag = CLONE_NEWIPC, .nr = 6, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
