// SPDX-License-Identifier: GPL-2.0
/*
 * ns_cgroup01: the task has a cgroup namespace of its own, made where it
 * stands (in criu's cgroups: /proc/self/cgroup shows "/" everywhere). After
 * restore it is in a cgroup namespace other than the runner's (pid 1), and
 * sees its cgroups as before.
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

	test_init(argc, argv);
	if (unshare(CLONE_NEWCGROUP) || read_cgroups(before, sizeof(before))) {
		fail("can't make a cgroup namespace");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (ns_ino("self", "cgroup") == ns_ino("1", "cgroup"))
		fail("in the cgroup namespace of pid 1 (the runner)");
	if (read_cgroups(after, sizeof(after)))
		fail("can't read /proc/self/cgroup");
	else if (strcmp(after, before))
		fail("/proc/self/cgroup is\n%s---- it was\n%s", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
