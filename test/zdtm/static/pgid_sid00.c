// SPDX-License-Identifier: GPL-2.0
/*
 * pgid_sid00: sessions and process groups survive restore.
 *   test (session leader S, group S)
 *   ├── A: its own process group (setpgid(0, 0))
 *   │   └── A1: stays in A's group
 *   ├── B: joined A's group (a group whose leader is a sibling)
 *   └── C: a new session (setsid)
 *       ├── C1: its own group inside C's session
 *       └── C2: joined C1's group
 * After restore every task reports its pid, ppid, pgid and sid unchanged.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum { T_A, T_A1, T_B, T_C, T_C1, T_C2, NR };

static const char *names[NR] = { "A", "A1", "B", "C", "C1", "C2" };

struct ids {
	pid_t pid, ppid, pgid, sid;
};

struct shared {
	struct ids before[NR], after[NR];
	volatile int ready[NR], done[NR];
	volatile pid_t pids[NR];
};

static struct shared *sh;

static void record(struct ids *r)
{
	r->pid = getpid();
	r->ppid = getppid();
	r->pgid = getpgid(0);
	r->sid = getsid(0);
}

static void wait_flag(volatile int *f)
{
	for (int i = 0; !*f; i++) {
		if (i > 20000)
			_exit(3);
		usleep(500);
	}
}

/* Runs in task t: set its ids, report, then report again after SIGTERM. */
static void __attribute__((noreturn)) task_body(int t)
{
	sh->pids[t] = getpid();
	record(&sh->before[t]);
	sh->ready[t] = 1;
	test_waitsig();
	record(&sh->after[t]);
	sh->done[t] = 1;
	/* stay until the parent has reaped the children (zombies keep their ids) */
	pause();
	_exit(0);
}

static pid_t spawn(int t, void (*setup)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setup)
			setup();
		task_body(t);
	}
	return pid;
}

static void own_group(void)
{
	if (setpgid(0, 0))
		_exit(4);
}

static void join_a(void)
{
	wait_flag(&sh->ready[T_A]);
	if (setpgid(0, sh->pids[T_A]))
		_exit(5);
}

static void join_c1(void)
{
	wait_flag(&sh->ready[T_C1]);
	if (setpgid(0, sh->pids[T_C1]))
		_exit(6);
}

static void a_setup(void)
{
	own_group();
	if (spawn(T_A1, NULL) < 0)
		_exit(7);
}

static void c_setup(void)
{
	if (setsid() < 0)
		_exit(8);
	if (spawn(T_C1, own_group) < 0 || spawn(T_C2, join_c1) < 0)
		_exit(9);
}

int main(int argc, char **argv)
{
	pid_t kids[3];

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	kids[0] = spawn(T_A, a_setup);
	kids[1] = spawn(T_B, join_a);
	kids[2] = spawn(T_C, c_setup);
	if (kids[0] < 0 || kids[1] < 0 || kids[2] < 0) {
		fail("fork");
		return 1;
	}
	for (int t = 0; t < NR; t++)
		wait_flag(&sh->ready[t]);
	/* B joined A's group, C2 joined C1's */
	if (sh->before[T_B].pgid != sh->pids[T_A] || sh->before[T_C2].pgid != sh->pids[T_C1] ||
	    sh->before[T_C].sid != sh->pids[T_C]) {
		fail("the tree did not set up as planned");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int t = 0; t < NR; t++)
		kill(sh->pids[t], SIGTERM);
	for (int t = 0; t < NR; t++) {
		for (int i = 0; !sh->done[t]; i++) {
			if (i > 20000) {
				fail("%s did not answer after restore", names[t]);
				break;
			}
			usleep(500);
		}
		const struct ids *b = &sh->before[t], *a = &sh->after[t];

		errno = 0;
		if (sh->done[t] && memcmp(a, b, sizeof(*a)))
			fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, was %d/%d/%d/%d", names[t], a->pid, a->ppid,
			     a->pgid, a->sid, b->pid, b->ppid, b->pgid, b->sid);
	}
	if (getsid(0) != getpid() || getpgid(0) != getpid())
		fail("the test is no longer its session and group leader");
	for (int t = NR - 1; t >= 0; t--)
		kill(sh->pids[t], SIGKILL);
	for (int i = 0; i < 3; i++)
		waitpid(kids[i], NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
