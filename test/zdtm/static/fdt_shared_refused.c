// SPDX-License-Identifier: GPL-2.0
/*
 * fdt_shared_refused: two processes (not threads) share one fd table,
 * clone(CLONE_FILES). criu can't restore a shared table yet, so the dump must
 * refuse and leave both running, still sharing: an fd the parent opens after
 * the failed dump is there in the child, and one the child closes is gone in
 * the parent.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PROBE_FD 100
#define STACK_SIZE (64 * 1024)

static volatile int *step;

static int child_main(void *arg)
{
	while (__atomic_load_n(step, __ATOMIC_SEQ_CST) != 1)
		usleep(5000);
	/* the parent's new fd must be here, in the shared table */
	if (fcntl(PROBE_FD, F_GETFD) < 0)
		return 3;
	if (close(PROBE_FD))
		return 4;
	__atomic_store_n(step, 2, __ATOMIC_SEQ_CST);
	return 0;
}

int main(int argc, char **argv)
{
	char *stack;
	int status, fd;
	pid_t child;

	test_init(argc, argv);
	step = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (step == MAP_FAILED || stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = clone(child_main, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	if (child < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, PROBE_FD) != PROBE_FD) {
		fail("open a probe fd");
		return 1;
	}
	close(fd);
	__atomic_store_n(step, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child does not share the fd table any more (status 0x%x)", status);
	else if (fcntl(PROBE_FD, F_GETFD) >= 0)
		fail("the fd the child closed is still open in the parent");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
