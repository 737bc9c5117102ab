// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_uts_refused: the task enters a user namespace of its own, then
 * makes a UTS namespace, which that user namespace owns, and names the
 * host in it. criu would make the UTS namespace from its own user
 * namespace (the task would lose its capabilities over it): the dump must
 * fail naming it, and the task must still be in both with its host name.
 */
#include "ns_user.h"

#define HOST "zdtm-user-uts"

int main(int argc, char **argv)
{
	unsigned long user, uts;
	char host[65] = "";

	test_init(argc, argv);
	if (ns_user_enter())
		return 1;
	if (unshare(CLONE_NEWUTS) || sethostname(HOST, strlen(HOST))) {
		fail("can't make a UTS namespace in the user namespace");
		return 1;
	}
	user = ns_ino("self", "user");
	uts = ns_ino("self", "uts");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", user);
	ns_same("self", "uts", uts);
	if (gethostname(host, sizeof(host)) || strcmp(host, HOST))
		fail("host name '%s', expected '%s'", host, HOST);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
