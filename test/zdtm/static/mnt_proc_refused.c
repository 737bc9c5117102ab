// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_proc_refused: the tree has a pid namespace and a mount namespace of
 * its own, but its /proc is still the one it inherited, the proc of the
 * runner's pid namespace. Restore mounts proc from the tree's pid namespace,
 * which would show other pids: the dump must fail naming the mount, and the
 * init keep its /proc (its pid there is not 1).
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mntns.h"

static void n_main(int ready)
{
	char self[16] = "", again[16] = "";

	if (readlink("/proc/self", self, sizeof(self) - 1) <= 0 || !strcmp(self, "1")) {
		fail("/proc/self is '%s'", self);
		exit(1);
	}
	if (write(ready, "y", 1) != 1)
		exit(1);
	close(ready);
	test_waitsig();
	if (readlink("/proc/self", again, sizeof(again) - 1) <= 0 || strcmp(self, again))
		fail("/proc/self was '%s', is '%s' after the refused dump", self, again);
	if (test_failed())
		exit(1);
	pass();
	exit(0);
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t n;
	char c;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (pipe(ready) || unshare(CLONE_NEWPID)) {
		fail("pipe or unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n < 0) {
		fail("fork");
		return 1;
	}
	if (n == 0) {
		close(ready[0]);
		test_set_root();
		n_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		fail("the namespace's init did not get ready");
		kill(n, SIGKILL);
		return 1;
	}
	test_daemon_pid(n);
	return 0;
}
