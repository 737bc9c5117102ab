// SPDX-License-Identifier: GPL-2.0
/*
 * root_dead_proc_refused: a child chroot()s into /proc/PID of a grandchild
 * that is then killed and reaped, so its root can no longer be opened.
 * criu restores such a cwd (cwd_dead_proc) but not such a root: the dump
 * must refuse it naming the task, and leave the child as it was, its root
 * still that directory.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct shared {
	pid_t grandchild;
	int ready;	/* 1: chrooted and the grandchild reaped, -1: failed */
};

int main(int argc, char **argv)
{
	char want[64], link[PATH_MAX], path[64];
	struct shared *sh;
	pid_t child;
	ssize_t n;
	int status;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = fork();
	if (child == 0) {
		char dir[32];
		pid_t g = fork();

		if (g == 0) {
			for (;;)
				pause();
		}
		snprintf(dir, sizeof(dir), "/proc/%d", g);
		sh->grandchild = g;
		if (g < 0 || chdir(dir) || chroot(".")) {
			sh->ready = -1;
			_exit(1);
		}
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		sh->ready = 1;
		for (;;)
			pause();
	}
	while (!__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST))
		usleep(2000);
	if (sh->ready != 1) {
		fail("the child can't chroot into a /proc directory");
		return 1;
	}

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/%d/root", child);
	snprintf(want, sizeof(want), "/proc/%d (deleted)", sh->grandchild);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(link, want)))
		fail("the child's root is %s, not %s", n < 0 ? "unreadable" : link, want);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
