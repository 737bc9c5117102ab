// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_nested: a tree in the runner's pid namespace with a child that is the init of a pid namespace of its own (with a child of its own).
 * The root unshared that namespace for its children. After restore the
 * init is still pid 1 of a namespace one level below the root's, with the
 * same pid in the root's namespace.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int status_nspid_levels(pid_t pid, long *ret_last)
{
	char path[64], buf[4096], *p, *end;
	FILE *f;
	int levels = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "NSpid:", 6))
			continue;
		for (p = buf + 6;; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			*ret_last = v;
			levels++;
		}
	}
	fclose(f);
	return levels;
}

int main(int argc, char **argv)
{
	int ready[2], levels, my_levels;
	long last = 0, mine = 0;
	pid_t n;
	char c;

	test_init(argc, argv);
	my_levels = status_nspid_levels(getpid(), &mine);
	if (pipe(ready) || unshare(CLONE_NEWPID)) {
		fail("pipe or unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n == 0) {
		/* the namespace's init: one child, then wait to be killed */
		if (fork() == 0) {
			for (;;)
				pause();
		}
		if (write(ready[1], "y", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (n < 0 || read(ready[0], &c, 1) != 1) {
		fail("the nested namespace's init");
		return 1;
	}
	test_daemon();
	test_waitsig();

	levels = status_nspid_levels(n, &last);
	errno = 0;
	if (levels != my_levels + 1 || last != 1)
		fail("the nested init %d: NSpid ends with %ld over %d levels, expected 1 over %d", n, last, levels,
		     my_levels + 1);
	else if (kill(n, 0))
		fail("the nested init %d is gone", n);
	else
		pass();
	kill(n, SIGKILL);
	waitpid(n, NULL, 0);
	return 0;
}
