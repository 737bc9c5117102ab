// SPDX-License-Identifier: GPL-2.0
/*
 * ns_for_children_refused: the task has unshared a pid namespace for the
 * children it will make, and has made none yet (the kernel shows no
 * pid_for_children until the first one exists). A restore would make its
 * next children in its own pid namespace: the dump must refuse. Afterwards
 * the first child the task makes is pid 1 of a new pid namespace.
 */
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns_refused.h"

int main(int argc, char **argv)
{
	int status;
	pid_t child;

	test_init(argc, argv);
	if (unshare(CLONE_NEWPID)) {
		fail("can't unshare a pid namespace for the children");
		return 1;
	}
	test_daemon();
	test_waitsig();

	child = fork();
	if (child == 0)
		_exit(getpid() == 1 ? 0 : 1);
	if (child < 0 || waitpid(child, &status, 0) != child)
		fail("can't fork and reap a child");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the first child is not pid 1 of a new pid namespace (status 0x%x)", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
