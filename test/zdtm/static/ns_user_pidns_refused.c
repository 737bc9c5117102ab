// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_pidns_refused: the test enters a user namespace of its own and
 * makes a pid namespace, which that user namespace owns, with a child as
 * its init (`unshare --user --map-root-user --pid --fork`, a rootless
 * container's layout). criu does not restore a pid namespace owned by the
 * tree's user namespace: the dump must fail naming it, and the child must
 * still be pid 1 of that namespace, in the same user namespace.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ns_user.h"

int main(int argc, char **argv)
{
	unsigned long user, pid_ns;
	int sync[2], res[2];
	char c = 0, where[16];
	pid_t child;

	test_init(argc, argv);
	if (ns_user_enter() || pipe(sync) || pipe(res))
		return 1;
	if (unshare(CLONE_NEWPID)) {
		fail("can't make a pid namespace in the user namespace");
		return 1;
	}
	child = fork();
	if (child == 0) {
		/* after the dump: am I still pid 1? */
		if (read(sync[0], &c, 1) != 1)
			_exit(1);
		c = getpid() == 1 ? 'k' : 'x';
		_exit(write(res[1], &c, 1) == 1 ? 0 : 1);
	}
	if (child < 0) {
		fail("fork");
		return 1;
	}
	snprintf(where, sizeof(where), "%d", child);
	user = ns_ino("self", "user");
	pid_ns = ns_ino(where, "pid");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", user);
	ns_same(where, "user", user);
	ns_same(where, "pid", pid_ns);
	c = 'c';
	if (write(sync[1], &c, 1) != 1 || read(res[0], &c, 1) != 1 || c != 'k')
		fail("the child is not pid 1 of its namespace any more");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
