// SPDX-License-Identifier: GPL-2.0
/*
 * ns_time_children_refused: the task has unshared a time namespace
 * for the children it will make, with a monotonic offset of 1000 s, and has
 * made none yet (time_for_children differs from its own time namespace). A
 * restore would make its next children in its own: the dump must refuse.
 * Afterwards the first child the task makes is in the new time namespace.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns_refused.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int main(int argc, char **argv)
{
	unsigned long time_ino;
	int fd;
	int status;
	pid_t child;

	test_init(argc, argv);
	if (unshare(CLONE_NEWTIME) || (fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, "monotonic 1000 0", 16) != 16) {
		fail("can't unshare a time namespace for the children with an offset");
		return 1;
	}
	close(fd);
	time_ino = ns_ino("self", "time_for_children");
	test_daemon();
	test_waitsig();

	ns_same("self", "time_for_children", time_ino);
	child = fork();
	if (child == 0)
		_exit(ns_ino("self", "time") == time_ino ? 0 : 1);
	if (child < 0 || waitpid(child, &status, 0) != child)
		fail("can't fork and reap a child");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the first child is not in the time namespace unshared for it (status 0x%x)", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
