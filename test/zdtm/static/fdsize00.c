// SPDX-License-Identifier: GPL-2.0
/*
 * fdsize00: a restored process's fd table is no larger than it was at dump
 * (FDSize in /proc/self/status), and a child's neither. The process holds an
 * fd at 200; its soft RLIMIT_NOFILE is raised to the hard one (criu's own
 * service fds used to sit at the top of criu's RLIMIT_NOFILE, and a restored
 * task kept a table of that size for good; a fork copied all of it).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HIGH_FD 200

static long fdsize(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "FDSize:", 7))
			n = strtol(line + 7, NULL, 10);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	int p2c[2], c2p[2];
	long before, after, child_before, child_after;
	struct rlimit rl;
	pid_t child;
	char c;

	test_init(argc, argv);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (dup2(0, HIGH_FD) != HIGH_FD) {
		fail("dup2 to %d", HIGH_FD);
		return 1;
	}
	if (pipe(p2c) || pipe(c2p)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		long n;

		close(p2c[1]);
		close(c2p[0]);
		n = fdsize();
		if (write(c2p[1], &n, sizeof(n)) != sizeof(n) || read(p2c[0], &c, 1) != 1)
			_exit(1);
		n = fdsize();
		_exit(write(c2p[1], &n, sizeof(n)) == sizeof(n) ? 0 : 1);
	}
	close(p2c[0]);
	close(c2p[1]);
	if (read(c2p[0], &child_before, sizeof(child_before)) != sizeof(child_before)) {
		fail("the child's FDSize");
		return 1;
	}
	before = fdsize();
	test_msg("FDSize %ld, the child's %ld\n", before, child_before);

	test_daemon();
	test_waitsig();

	after = fdsize();
	if (write(p2c[1], "x", 1) != 1 || read(c2p[0], &child_after, sizeof(child_after)) != sizeof(child_after)) {
		fail("the child's FDSize after restore");
		return 1;
	}
	waitpid(child, NULL, 0);
	test_msg("after restore: FDSize %ld, the child's %ld\n", after, child_after);
	if (before <= 0 || after <= 0 || child_before <= 0 || child_after <= 0) {
		fail("no FDSize in /proc/self/status");
		return 1;
	}
	if (after > before)
		fail("FDSize grew from %ld to %ld", before, after);
	if (child_after > child_before)
		fail("the child's FDSize grew from %ld to %ld", child_before, child_after);
	if (fcntl(HIGH_FD, F_GETFD) < 0)
		fail("fd %d is gone", HIGH_FD);
	pass();
	return 0;
}
