// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_fs_refused: the task enters a user namespace of its own and makes
 * a child with clone(CLONE_FS): they share one fs (cwd, root, umask). The
 * kernel lets only a task with an fs of its own enter a user namespace, as
 * the restore would have them do: the dump must fail naming the task, and
 * both must still share their fs in the same user namespace.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ns_user.h"

#define STACK_SIZE (256 * 1024)

static int child_fn(void *arg)
{
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long user;
	char *stack, where[16];
	struct stat st;
	pid_t child;

	test_init(argc, argv);
	if (ns_user_enter())
		return 1;
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = clone(child_fn, stack + STACK_SIZE, CLONE_FS | SIGCHLD, NULL);
	if (child < 0) {
		fail("clone(CLONE_FS)");
		return 1;
	}
	snprintf(where, sizeof(where), "%d", child);
	user = ns_ino("self", "user");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", user);
	ns_same(where, "user", user);
	/* the fs is still shared: a chdir of ours moves the child's cwd */
	if (chdir("/") || stat("/proc/self/cwd", &st))
		fail("chdir /");
	{
		char path[64], cwd[8] = "";

		snprintf(path, sizeof(path), "/proc/%d/cwd", child);
		if (readlink(path, cwd, sizeof(cwd) - 1) != 1 || cwd[0] != '/')
			fail("the child's cwd is '%s' after our chdir /: the fs is not shared any more", cwd);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
