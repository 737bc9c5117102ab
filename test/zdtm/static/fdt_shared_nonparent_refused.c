// SPDX-License-Identifier: GPL-2.0
/*
 * fdt_shared_nonparent_refused: an fd table shared by a grandparent and its
 * grandchild but not by the child between them: P clones C with
 * CLONE_FILES, C clones G with CLONE_FILES, then C unshares its table.
 * Restore makes a shared table by cloning from a sharer, which G's parent
 * is not, so the dump must refuse naming G, and leave them all running: P
 * and G still share (an fd P opens is in G), C still has a table of its own.
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

struct shared {
	int step;	/* P: 1 after the probe fd is opened */
	int ready;	/* C and G */
	int g_ok, c_ok;	/* 1 ok, -1 wrong */
	pid_t g;
};

static struct shared *sh;

static void wait_step(int s)
{
	while (__atomic_load_n(&sh->step, __ATOMIC_SEQ_CST) < s)
		usleep(2000);
}

static int grandchild(void *arg)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(1);
	sh->g_ok = fcntl(PROBE_FD, F_GETFD) >= 0 ? 1 : -1;
	return 0;
}

static int child(void *arg)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (stack == MAP_FAILED)
		return 1;
	sh->g = clone(grandchild, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	if (sh->g < 0 || unshare(CLONE_FILES))
		return 2;
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(1);
	sh->c_ok = fcntl(PROBE_FD, F_GETFD) < 0 ? 1 : -1;
	waitpid(sh->g, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	char *stack;
	int status, fd;
	pid_t c;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	c = clone(child, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	if (c < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < 2)
		usleep(2000);

	test_daemon();
	test_waitsig();

	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, PROBE_FD) != PROBE_FD) {
		fail("open a probe fd");
		return 1;
	}
	close(fd);
	__atomic_store_n(&sh->step, 1, __ATOMIC_SEQ_CST);
	if (test_wait_child(c, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child ended with status 0x%x", status);
	if (sh->g_ok != 1)
		fail("the grandchild does not share the parent's fd table any more");
	if (sh->c_ok != 1)
		fail("the child sees the parent's fd: its own table is gone");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
