// SPDX-License-Identifier: GPL-2.0
/*
 * COMPEL_RSYS_RECOVER (compel/src/rsys.c): a thread whose caller dies in the
 * middle of remote syscalls comes back as it was.
 *
 * A target blocks SIGUSR1, then loops: nanosleep(1 ms) (a syscall the seize
 * interrupts, so its regs need a restart), a counter in shared memory, and
 * a check of its blocked mask and of a register-held value across the sleep.
 * A tracer process seizes it, prepares a RECOVER context at the address
 * criu's proc_exec_tail() gives, and runs remote getppid() calls without end
 * (one by one in even rounds, in batches of 8 through compel_rsys_batch() in
 * odd ones, whose thread stays at our code with every signal blocked between
 * the calls of a batch);
 * the test SIGKILLs the tracer after a few ms, when it is almost surely in
 * the middle of a call. Then the target must go on: its counter moves, its
 * mask is still {SIGUSR1}, it is neither stopped nor traced, nothing failed
 * its own checks. Repeated ROUNDS times on the same target. Without the
 * recovery code (COMPEL_RSYS_FAST, as before) the target dies of SIGTRAP or
 * runs with every signal blocked.
 * Rounds 2 and 3 of every 4 run blobs (compel_rsys_blob(): the 62 signal
 * actions read in one resume, ended by a SIGURG the target does not catch):
 * killed at a random time in round 2, while the test sends the target SIGURGs
 * (ignored by it, dropped by the blobs as the kernel would: each blob's
 * results are checked), right after the thread was resumed into the blob in
 * round 3 (the tracer kills itself from the blob's running hook).
 * The target also checks that its SIGUSR2 handler, its SIGURG disposition
 * (default) and its pending set (empty) never change, and the first blob of
 * each tracer must read the SIGUSR2 handler right.
 * TAP output; exit 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/compel.h"
#include "dump-core.h"
#include "proc_parse.h"

#include "tap.h"

#define ROUNDS 40

struct shared {
	volatile unsigned long counter;
	volatile int bad;	/* the target saw its mask or a value change */
};

static void on_usr2(int sig)
{
	(void)sig;
}

/* its SIGUSR2 handler and SIGURG default action as set, nothing pending */
static int target_sigs_bad(void)
{
	struct sigaction sa;
	sigset_t pend;

	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != on_usr2 || !(sa.sa_flags & SA_RESTART))
		return 3;
	if (sigaction(SIGURG, NULL, &sa) || sa.sa_handler != SIG_DFL)
		return 4;
	sigpending(&pend);
	return sigisemptyset(&pend) ? 0 : 5;
}

static void __attribute__((noreturn)) target(struct shared *sh)
{
	sigset_t s, cur;
	struct timespec ts = { 0, 1000000 };

	struct sigaction sa = { .sa_handler = on_usr2, .sa_flags = SA_RESTART };

	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_SETMASK, &s, NULL);
	for (;;) {
		unsigned long before = sh->counter;

		nanosleep(&ts, NULL);
		sigprocmask(SIG_SETMASK, NULL, &cur);
		if (!sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGTERM))
			sh->bad = 1;
		if (sh->counter != before)
			sh->bad = 2;
		if (target_sigs_bad())
			sh->bad = target_sigs_bad();
		sh->counter = before + 1;
	}
}

static void kill_self(void *arg)
{
	(void)arg;
	kill(getpid(), SIGKILL);
}

struct ksa {
	unsigned long handler, flags, restorer, mask;
};

/* The 62 actions in one blob, below the target's stack; the first run must read SIGUSR2's handler right. */
static void __attribute__((noreturn)) blob_tracer(struct compel_rsys *rs, pid_t pid, int ready, bool die)
{
	static struct compel_rsys_call calls[62];
	size_t tsize = compel_rsys_blob_size(62);
	unsigned long area = (rs->saved.rsp - 1024 - tsize - 62 * sizeof(struct ksa)) & ~63UL;
	struct compel_rsys_blob b = { .area = area, .sig = SIGURG, .tgid = pid, .tid = pid };
	struct ksa ka[62];
	long rets[62];
	char c = 1;
	int n = 0;

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP) {
			calls[n] = (struct compel_rsys_call){ __NR_rt_sigaction,
				{ sig, 0, area + tsize + n * sizeof(struct ksa), 8 } };
			n++;
		}
	if (compel_rsys_blob(rs, &b, calls, 62, rets) ||
	    compel_mem_read(pid, rs->mem_fd, area + tsize, ka, sizeof(ka)))
		_exit(3);
	for (int i = 0; i < 62; i++)
		if (rets[i])
			_exit(3);
	/* SIGUSR2 (12) is the 11th call: 1..8, then 10, 11, 12 */
	if (ka[10].handler != (unsigned long)on_usr2 || ka[0].handler)
		_exit(4);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	if (die)
		b.running = kill_self;
	for (;;) {
		if (compel_rsys_blob(rs, &b, calls, 62, rets) ||
		    compel_mem_read(pid, rs->mem_fd, area + tsize, ka, sizeof(ka)))
			_exit(2);
		for (int i = 0; i < 62; i++)
			if (rets[i])
				_exit(2);
		if (ka[10].handler != (unsigned long)on_usr2)
			_exit(2);
	}
}

/* mode 1: the calls go 8 at a time through compel_rsys_batch() (the dump's signal actions); 2, 3: blobs */
static void __attribute__((noreturn)) tracer(pid_t pid, unsigned long code, int ready, int mode)
{
	bool batch = mode == 1;

	struct compel_rsys_call calls[8];
	struct compel_rsys rs;
	long rets[8];
	enum compel_task_state st;
	long r;
	char c = 1;

	/* OLD_WAY=1: as the dump did before COMPEL_RSYS_RECOVER, to see this test fail */
	unsigned int flags = getenv("OLD_WAY") ? COMPEL_RSYS_FAST : COMPEL_RSYS_RECOVER;

	if (compel_seize_stop(pid, &st) || compel_rsys_prepare_flags(&rs, pid, code, COMPEL_RSYS_POKE | flags))
		_exit(1);
	if (mode >= 2)
		blob_tracer(&rs, pid, ready, mode == 3);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	for (int i = 0; i < 8; i++)
		calls[i] = (struct compel_rsys_call){ __NR_getppid, { 0 } };
	for (;;)
		if (batch ? compel_rsys_batch(&rs, calls, 8, rets) : compel_rsys(&rs, &r, __NR_getppid, 0, 0, 0, 0, 0, 0))
			_exit(2);
}

static char state_of(pid_t pid, int *tracer_pid)
{
	char path[64], buf[4096];
	char st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		if (!strncmp(buf, "State:", 6))
			st = buf[7];
		if (!strncmp(buf, "TracerPid:", 10))
			*tracer_pid = atoi(buf + 10);
	}
	fclose(f);
	return st;
}

static bool counter_moves(struct shared *sh)
{
	unsigned long c = sh->counter;

	for (int i = 0; i < 2000; i++) {	/* up to 2 s */
		usleep(1000);
		if (sh->counter != c)
			return true;
	}
	return false;
}

int main(void)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ok_rounds = 0, killed = 0, dfd, status;
	unsigned long code = 0;
	char path[64];
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (sh == MAP_FAILED)
		return 1;
	pid = fork();
	if (pid == 0)
		target(sh);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!check(dfd >= 0 && counter_moves(sh), "the target runs"))
		goto out;
	if (getenv("OLD_WAY") ? proc_exec_addr(dfd, &code) : proc_exec_tail(dfd, COMPEL_RSYS_STUB_MAX, &code))
		code = 0;
	if (!check(code != 0, "a place past an executable segment for the code (%#lx)", code))
		goto out;

	srand(18);
	for (int round = 0; round < ROUNDS; round++) {
		int p[2], tp;
		pid_t t;
		char c;

		if (pipe(p))
			break;
		t = fork();
		if (t == 0) {
			close(p[0]);
			tracer(pid, code, p[1], getenv("OLD_WAY") ? round & 1 : round & 3);
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			close(p[0]);
			waitpid(t, NULL, 0);
			check(0, "round %d: the tracer prepared its remote syscalls", round);
			break;
		}
		close(p[0]);
		if ((round & 3) == 2 && !getenv("OLD_WAY")) {
			/* SIGURGs of someone else's meanwhile: the target ignores them, the blobs drop them */
			for (int us = 1000 + rand() % 5000; us > 0; us -= 100) {
				kill(pid, SIGURG);
				usleep(100);
			}
		} else {
			usleep(1000 + rand() % 5000);
		}
		kill(t, SIGKILL);
		waitpid(t, &status, 0);
		killed += WIFSIGNALED(status);	/* not an exit: killed while calling */
		tp = 0;
		if (counter_moves(sh) && !sh->bad && state_of(pid, &tp) != 't' && !tp)
			ok_rounds++;
		else
			break;
	}
	check(killed == ok_rounds && ok_rounds == ROUNDS,
	      "%d of %d tracers killed in the middle of remote syscalls: the target went on each time", ok_rounds,
	      ROUNDS);
	check(!sh->bad, "the target's blocked mask and its own values never changed (%d)", sh->bad);
	check(kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0, "the target is alive");
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
