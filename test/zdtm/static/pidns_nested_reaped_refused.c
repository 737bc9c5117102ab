// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_nested_reaped_refused: a pidfd of a reaped process held in a nested pid namespace is refused at dump.
 *
 * The root R unshares a pid namespace for its children and forks N, its
 * init, nested below the tree's namespace. N forks Z, opens a pidfd of it
 * and reaps it. A stand-in for Z would be made in the tree's namespace,
 * outside N's, where the pidfd answers EINVAL instead of ESRCH: the dump
 * refuses the pidfd by name (crfail) and N runs on, its pidfd still giving
 * ESRCH.
 */
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	int ready[2], cmd[2], res[2];
	pid_t n;
	char c;

	test_init(argc, argv);
	if (pipe(ready) || pipe(cmd) || pipe(res) || unshare(CLONE_NEWPID)) {
		fail("pipe or unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n == 0) {
		pid_t z = fork();
		int fd;

		if (z == 0)
			_exit(3);
		fd = sys_pidfd_open(z, 0);
		if (z < 0 || fd < 0 || waitpid(z, NULL, 0) != z || write(ready[1], "y", 1) != 1)
			_exit(1);
		if (read(cmd[0], &c, 1) != 1)	/* R's word, after the dump */
			_exit(1);
		c = sys_pidfd_send_signal(fd, 0, NULL, 0) < 0 && errno == ESRCH ? 'y' : 'n';
		if (write(res[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (n < 0 || read(ready[0], &c, 1) != 1) {
		fail("the nested init");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (write(cmd[1], "c", 1) != 1 || read(res[0], &c, 1) != 1 || c != 'y') {
		errno = 0;
		fail("N's pidfd of its reaped child no longer answers ESRCH");
	} else {
		pass();
	}
	kill(n, SIGKILL);
	waitpid(n, NULL, 0);
	return 0;
}
