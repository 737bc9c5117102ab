// SPDX-License-Identifier: GPL-2.0
/*
 * fs_shared: a parent and a child made with clone(CLONE_FS) share one fs
 * (cwd, root, umask); a second child, forked, has its own. After the
 * restore the first two still share it: the child's chdir() and umask()
 * show in the parent, and not in the forked child, which keeps the cwd and
 * umask it had.
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define STACK_SIZE (64 * 1024)
#define KCMP_FS 3

struct shared {
	int step;
	int result;	/* the forked child's: 1 ok, -N check N failed */
	int ready;
	char dir[PATH_MAX];
};

static struct shared *sh;

static void wait_step(int step)
{
	while (__atomic_load_n(&sh->step, __ATOMIC_SEQ_CST) < step)
		usleep(2000);
}

/* shares the parent's fs: after step 1 it moves to / and sets umask 077 */
static int fs_child(void *arg)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(1);
	if (chdir("/"))
		_exit(1);
	umask(077);
	__atomic_store_n(&sh->step, 2, __ATOMIC_SEQ_CST);
	wait_step(3);
	return 0;
}

/* its own fs: after step 2 (the other child's changes) it is still in dir, umask 027 */
static int own_child(void)
{
	char cwd[PATH_MAX];
	mode_t m;

	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(2);
	m = umask(0);
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, sh->dir))
		sh->result = -1;
	else if (m != 027)
		sh->result = -2;
	else
		sh->result = 1;
	wait_step(3);
	return 0;
}

int main(int argc, char **argv)
{
	char *stack, cwd[PATH_MAX];
	pid_t shared_child, own;
	mode_t m;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	/* a cwd of its own, not the runner's: /tmp, as the restore would find it */
	if (chdir("/tmp") || !getcwd(sh->dir, sizeof(sh->dir))) {
		fail("chdir /tmp");
		return 1;
	}
	umask(027);
	shared_child = clone(fs_child, stack + STACK_SIZE, CLONE_FS | SIGCHLD, NULL);
	own = fork();
	if (own == 0)
		_exit(own_child());
	if (shared_child < 0 || own < 0) {
		fail("clone(CLONE_FS) or fork");
		return 1;
	}
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < 2)
		usleep(2000);

	test_daemon();
	test_waitsig();

	if (syscall(SYS_kcmp, getpid(), shared_child, KCMP_FS, 0, 0) != 0)
		fail("the parent and its CLONE_FS child no longer share one fs");
	if (syscall(SYS_kcmp, getpid(), own, KCMP_FS, 0, 0) == 0)
		fail("the forked child shares the parent's fs");
	__atomic_store_n(&sh->step, 1, __ATOMIC_SEQ_CST);
	wait_step(2);
	m = umask(027);
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/"))
		fail("the child's chdir(\"/\") is not the parent's cwd (%s)", cwd);
	if (m != 077)
		fail("the child's umask(077) is not the parent's (%03o)", m);
	for (int i = 0; i < 5000 && !__atomic_load_n(&sh->result, __ATOMIC_SEQ_CST); i++)
		usleep(2000);
	if (sh->result != 1)
		fail("the forked child's own fs changed with the others' (%d)", sh->result);
	__atomic_store_n(&sh->step, 3, __ATOMIC_SEQ_CST);
	waitpid(shared_child, NULL, 0);
	waitpid(own, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
