// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_refused: the task is in a user namespace nested in another of
 * its own (root in each mapped to root in its parent). criu restores one
 * user namespace, a child of its own: the dump must fail naming the nested
 * one, and the task must still be in its namespace with its mapping.
 */
#include "ns_user.h"

int main(int argc, char **argv)
{
	char before[256], after[256];
	unsigned long ino;

	test_init(argc, argv);
	if (ns_user_enter() || ns_user_enter() || ns_user_map(before, sizeof(before)))
		return 1;
	ino = ns_ino("self", "user");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", ino);
	if (ns_user_map(after, sizeof(after)))
		fail("can't read uid_map");
	else if (strcmp(after, before))
		fail("uid_map is '%s' after the refused dump, '%s' before", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
