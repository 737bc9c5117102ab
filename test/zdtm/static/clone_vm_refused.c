// SPDX-License-Identifier: GPL-2.0
/*
 * clone_vm_refused: a child made with clone(CLONE_VM) without CLONE_THREAD
 * shares its parent's address space. criu gives each restored process an
 * address space of its own, so the dump must refuse, naming both tasks; the
 * two still share their memory afterwards (a store of one is seen by the
 * other). clone_sighand_refused builds this test with CLONE_SIGHAND too.
 */
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef SHARE_FLAGS
#define SHARE_FLAGS CLONE_VM
#endif
#define STACK_SIZE (64 * 1024)

/* private memory: the child sees the parent's stores only in a shared address space */
static volatile int step;

static int child_main(void *arg)
{
	while (step != 1)
		usleep(2000);
	step = 2;
	return 0;
}

int main(int argc, char **argv)
{
	char *stack;
	int status;
	pid_t child;

	test_init(argc, argv);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = clone(child_main, stack + STACK_SIZE, SHARE_FLAGS | SIGCHLD, NULL);
	if (child < 0) {
		fail("clone");
		return 1;
	}

	test_daemon();
	test_waitsig();

	step = 1;
	for (int i = 0; i < 5000 && step != 2; i++)
		usleep(2000);
	if (step != 2)
		fail("the child does not share the parent's memory any more");
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child ended with status 0x%x", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
