// SPDX-License-Identifier: GPL-2.0
/*
 * ns_cgroup_refused: the task has a cgroup namespace of its own (its cgroups
 * are its roots: /proc/self/cgroup shows "/"). criu does not dump cgroup
 * namespaces yet: the dump must fail naming it, and the task's view of its
 * cgroups must be what it was.
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ns_refused.h"

static int read_cgroups(char *buf, size_t len)
{
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	char before[4096], after[4096];
	unsigned long ino;

	test_init(argc, argv);
	if (unshare(CLONE_NEWCGROUP) || read_cgroups(before, sizeof(before))) {
		fail("can't make a cgroup namespace");
		return 1;
	}
	ino = ns_ino("self", "cgroup");
	test_daemon();
	test_waitsig();

	ns_same("self", "cgroup", ino);
	if (read_cgroups(after, sizeof(after)))
		fail("can't read /proc/self/cgroup");
	else if (strcmp(after, before))
		fail("/proc/self/cgroup changed across the refused dump:\n%s---- was\n%s", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
