// SPDX-License-Identifier: GPL-2.0
/*
 * ns_net_refused: the task has a network namespace of its own (only a
 * loopback device, down). criu does not dump network namespaces yet: the
 * dump must fail naming it, and the task must still see its own network,
 * not the host's interfaces.
 */
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "ns_refused.h"

/* The names of the network devices the task sees, in if_nameindex order. */
static int list_links(char *buf, size_t len)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	size_t off = 0;

	if (!ifs)
		return -1;
	buf[0] = '\0';
	for (i = ifs; i->if_index; i++)
		off += snprintf(buf + off, off < len ? len - off : 0, "%s ", i->if_name);
	if_freenameindex(ifs);
	return off < len ? 0 : -1;
}

int main(int argc, char **argv)
{
	char before[512], after[512];
	unsigned long ino;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || list_links(before, sizeof(before))) {
		fail("can't make a network namespace");
		return 1;
	}
	if (strcmp(before, "lo ")) {
		fail("a new network namespace has '%s', expected only lo", before);
		return 1;
	}
	ino = ns_ino("self", "net");
	test_daemon();
	test_waitsig();

	ns_same("self", "net", ino);
	if (list_links(after, sizeof(after)))
		fail("can't list the network devices");
	else if (strcmp(after, before))
		fail("the task sees the devices '%s' after the refused dump, '%s' before", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
