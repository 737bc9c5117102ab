// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user03: in a user namespace of its own, the test's root makes a child
 * with clone(CLONE_FILES): they share one fd table. After restore both are
 * in one user namespace, not criu's, and still share the table: an fd the
 * root opens is the child's too, and the table holds no extra fd (the fd
 * of the namespace each task took to enter it is gone).
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ns_user.h"

#define STACK_SIZE (256 * 1024)
#define KCMP_FILES 2

static int child_fn(void *arg)
{
	for (;;)
		pause();
	return 0;
}

/* The number of open fds, from /proc/self/fd. */
static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!access(path, F_OK))
			n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	char *stack, where[16], map[256];
	int before, after, fd;
	pid_t child;

	test_init(argc, argv);
	if (ns_user_enter())
		return 1;
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = clone(child_fn, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	if (child < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}
	snprintf(where, sizeof(where), "%d", child);
	before = count_fds();
	test_daemon();
	test_waitsig();

	after = count_fds();
	if (after != before)
		fail("%d fds open, %d before", after, before);
	if (!ns_ino("self", "user") || ns_ino(where, "user") != ns_ino("self", "user"))
		fail("the child's user namespace [%lu] is not the root's [%lu]", ns_ino(where, "user"),
		     ns_ino("self", "user"));
	if (ns_user_map(map, sizeof(map)) || strcmp(map, "         0          0          1\n"))
		fail("uid_map is '%s', not root mapped to root", map);
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILES, 0, 0) != 0)
		fail("the fd table is not shared with the child any more");
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || syscall(SYS_kcmp, getpid(), child, 0 /* KCMP_FILE */, fd, fd) != 0)
		fail("an fd opened now is not the child's too");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
