// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_setns_refused: a task forked into a nested pid namespace after its parent setns()'ed there is refused at dump.
 *
 * The root R forks A, which forks N with clone(CLONE_NEWPID): N is the init
 * of a pid namespace nested below R's. R then joins N's namespace for its
 * children (setns() on a pidfd of N, CLONE_NEWPID) and forks B, which is
 * pid 2 there. A restore has no task that made that namespace before B in
 * B's parent's children, so it could not give B its place: the dump refuses
 * B by name (crfail) and leaves every task running, B still pid 2 in N's
 * namespace.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int pipe_fd[2];

static int n_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* The last NSpid column of a task, as R's /proc shows it. */
static long last_nspid(pid_t pid)
{
	char path[64], buf[4096], *p, *end;
	long last = -1;
	FILE *f;

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
			last = v;
		}
	}
	fclose(f);
	return last;
}

int main(int argc, char **argv)
{
	static char stack[64 << 10];
	pid_t a, n = 0, b;
	int pfd;

	test_init(argc, argv);
	if (pipe(pipe_fd)) {
		fail("pipe");
		return 1;
	}
	a = fork();
	if (a == 0) {
		pid_t c = clone(n_main, stack + sizeof(stack), CLONE_NEWPID | SIGCHLD, NULL);

		if (c < 0 || write(pipe_fd[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		for (;;)
			pause();
	}
	if (a < 0 || read(pipe_fd[0], &n, sizeof(n)) != sizeof(n)) {
		fail("A or N");
		return 1;
	}
	pfd = sys_pidfd_open(n, 0);
	if (pfd < 0 || setns(pfd, CLONE_NEWPID)) {
		fail("setns(pidfd of N, CLONE_NEWPID)");
		kill(a, SIGKILL);
		return 1;
	}
	b = fork();
	if (b == 0) {
		for (;;)
			pause();
	}
	if (b < 0) {
		fail("fork of B into N's namespace");
		kill(a, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (last_nspid(b) != 2 || last_nspid(n) != 1 || kill(a, 0))
		fail("B %d is %ld in N's namespace (expected 2), N %d is %ld (expected 1)", b, last_nspid(b), n,
		     last_nspid(n));
	else
		pass();
	kill(n, SIGKILL);
	kill(b, SIGKILL);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	return 0;
}
