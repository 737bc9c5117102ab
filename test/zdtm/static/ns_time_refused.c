// SPDX-License-Identifier: GPL-2.0
/*
 * ns_time_refused: a child lives in a time namespace of its own whose
 * monotonic clock runs 1000 s ahead; the root went back to criu's time
 * namespace (setns) after making it. criu does not dump time namespaces yet:
 * the dump must fail naming it, and the child must still be in its namespace
 * with its offset.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns_refused.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define OFFSET 1000

/* The monotonic offset /proc/<pid>/timens_offsets shows, or -1. */
static long monotonic_offset(pid_t pid)
{
	char path[64], name[32];
	long sec = -1, nsec;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%31s %ld %ld", name, &sec, &nsec) == 3)
		if (!strcmp(name, "monotonic"))
			break;
	fclose(f);
	return !strcmp(name, "monotonic") ? sec : -1;
}

int main(int argc, char **argv)
{
	char offs[64], where[16];
	unsigned long ino;
	int mine, fd, status;
	pid_t child;

	test_init(argc, argv);
	mine = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
	if (mine < 0 || unshare(CLONE_NEWTIME)) {
		fail("can't unshare a time namespace");
		return 1;
	}
	snprintf(offs, sizeof(offs), "monotonic %d 0", OFFSET);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, offs, strlen(offs)) < 0) {
		fail("can't set the namespace's clock offset");
		return 1;
	}
	close(fd);
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		for (;;)
			pause();
	}
	if (setns(mine, CLONE_NEWTIME)) {
		fail("can't go back to the first time namespace");
		return 1;
	}
	snprintf(where, sizeof(where), "%d", child);
	ino = ns_ino(where, "time");
	if (monotonic_offset(child) != OFFSET) {
		fail("the child's monotonic offset is %ld, expected %d", monotonic_offset(child), OFFSET);
		return 1;
	}
	test_daemon();
	test_waitsig();

	ns_same(where, "time", ino);
	if (monotonic_offset(child) != OFFSET)
		fail("the child's monotonic offset is %ld after the refused dump", monotonic_offset(child));
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
