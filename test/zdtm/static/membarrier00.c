// SPDX-License-Identifier: GPL-2.0
/*
 * membarrier00: membarrier() registrations survive, each kind on its own.
 * Registrations belong to the mm, so each set is tried in its own child:
 * none, global expedited, private expedited, private expedited sync-core,
 * private expedited rseq, private + sync-core, and all four. Each child
 * records before the dump what MEMBARRIER_CMD_GET_REGISTRATIONS says and
 * what each private expedited command returns (0, or EPERM when not
 * registered for it); after restore both must be the same (a registration
 * lost gives EPERM, one added gives 0 where EPERM was).
 */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* the kernel ABI values (linux/membarrier.h), GET_REGISTRATIONS is newer than our headers */
#define MB_QUERY 0
#define MB_GLOBAL_EXPEDITED (1 << 1)
#define MB_REG_GLOBAL_EXPEDITED (1 << 2)
#define MB_PRIVATE_EXPEDITED (1 << 3)
#define MB_REG_PRIVATE_EXPEDITED (1 << 4)
#define MB_PRIVATE_EXPEDITED_SYNC_CORE (1 << 5)
#define MB_REG_PRIVATE_EXPEDITED_SYNC_CORE (1 << 6)
#define MB_PRIVATE_EXPEDITED_RSEQ (1 << 7)
#define MB_REG_PRIVATE_EXPEDITED_RSEQ (1 << 8)
#define MB_GET_REGISTRATIONS (1 << 9)

static const int sets[] = {
	0,
	MB_REG_GLOBAL_EXPEDITED,
	MB_REG_PRIVATE_EXPEDITED,
	MB_REG_PRIVATE_EXPEDITED_SYNC_CORE,
	MB_REG_PRIVATE_EXPEDITED_RSEQ,
	MB_REG_PRIVATE_EXPEDITED | MB_REG_PRIVATE_EXPEDITED_SYNC_CORE,
	MB_REG_GLOBAL_EXPEDITED | MB_REG_PRIVATE_EXPEDITED | MB_REG_PRIVATE_EXPEDITED_SYNC_CORE |
		MB_REG_PRIVATE_EXPEDITED_RSEQ,
};
#define NR_SETS (int)(sizeof(sets) / sizeof(sets[0]))

static const int private_cmds[] = { MB_PRIVATE_EXPEDITED, MB_PRIVATE_EXPEDITED_SYNC_CORE, MB_PRIVATE_EXPEDITED_RSEQ };
#define NR_CMDS 3

struct state {
	long regs;
	long cmd[NR_CMDS];	/* 0 or -errno */
};

static long mb(int cmd)
{
	long r = syscall(__NR_membarrier, cmd, 0, 0);

	return r < 0 ? -errno : r;
}

static void get_state(struct state *st)
{
	st->regs = mb(MB_GET_REGISTRATIONS);
	for (int i = 0; i < NR_CMDS; i++)
		st->cmd[i] = mb(private_cmds[i]);
}

static int child(int set, int ready_fd, int go_fd)
{
	struct state before, after;
	char c = 0;

	for (int bit = 0; bit < 10; bit++) {
		if (!(set & (1 << bit)))
			continue;
		if (mb(1 << bit)) {
			fail("set %#x: can't register %#x", set, 1 << bit);
			return 1;
		}
	}
	get_state(&before);
	if (before.regs < 0) {
		fail("set %#x: GET_REGISTRATIONS %ld", set, before.regs);
		return 1;
	}
	if (write(ready_fd, &c, 1) != 1)
		return 1;
	/* the dump finds the child here */
	if (read(go_fd, &c, 1) != 1) {
		fail("set %#x: no go", set);
		return 1;
	}
	get_state(&after);
	errno = 0;
	if (after.regs != before.regs)
		fail("set %#x: registrations %#lx after restore, %#lx before", set, after.regs, before.regs);
	for (int i = 0; i < NR_CMDS; i++)
		if (after.cmd[i] != before.cmd[i])
			fail("set %#x: membarrier(%#x) = %ld after restore, %ld before", set, private_cmds[i],
			     after.cmd[i], before.cmd[i]);
	return test_failed() ? 1 : 0;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status;
	pid_t pids[NR_SETS];
	long supported;
	char c;

	test_init(argc, argv);
	supported = mb(MB_QUERY);
	if (supported < 0 || (~supported & (MB_REG_GLOBAL_EXPEDITED | MB_REG_PRIVATE_EXPEDITED |
					   MB_REG_PRIVATE_EXPEDITED_SYNC_CORE | MB_REG_PRIVATE_EXPEDITED_RSEQ)) ||
	    mb(MB_GET_REGISTRATIONS) < 0) {
		fail("this kernel lacks some membarrier commands (query %#lx)", supported);
		return 1;
	}
	if (pipe(go) || pipe(ready)) {
		fail("pipe");
		return 1;
	}
	for (int i = 0; i < NR_SETS; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fail("fork");
			return 1;
		}
		if (pids[i] == 0) {
			close(go[1]);
			close(ready[0]);
			_exit(child(sets[i], ready[1], go[0]));
		}
	}
	close(go[0]);
	close(ready[1]);
	for (int i = 0; i < NR_SETS; i++)
		if (read(ready[0], &c, 1) != 1) {
			fail("a child did not get ready");
			return 1;
		}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_SETS; i++)
		if (write(go[1], "g", 1) != 1)
			fail("write");
	for (int i = 0; i < NR_SETS; i++) {
		errno = 0;
		if (test_wait_child(pids[i], 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
			fail("child for set %#x: status %#x", sets[i], status);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
