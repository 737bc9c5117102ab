// SPDX-License-Identifier: GPL-2.0
/*
 * compel_stop_at_syscall_entry(): a child asleep in read() on a pipe is seized
 * (the read gives up with -ERESTARTSYS), run from its own `syscall`
 * instruction to the entry of read() again (registers there: the call's
 * number, rip after the instruction), given its registers back at that entry
 * and let go: the read() it makes gets the byte written afterwards. Then the
 * same with a signal queued while it is at the entry, whose handler has no
 * SA_RESTART: the read() returns EINTR after the handler ran, as a read()
 * interrupted by the signal would.
 * TAP output; exit 0 when every check passed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/compel.h"

#include "tap.h"

static volatile int handled;

static void handler(int sig)
{
	handled++;
}

/* exit 0: read the byte; 2: EINTR after the handler ran; 1: anything else */
static void child(int fd)
{
	struct sigaction sa;
	char c;
	long n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	n = syscall(SYS_read, fd, &c, 1);
	if (n == 1)
		_exit(0);
	_exit(n < 0 && errno == EINTR && handled == 1 ? 2 : 1);
}

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p ? p[2] : 0;
}

/* One round; signal: queue SIGUSR1 at the entry. Returns the child's exit status, -1. */
static int round_trip(bool signal)
{
	struct timespec t = { 0, 5 * 1000000 };
	enum compel_task_state st;
	compel_regs_t r, at, got;
	uint64_t swallowed = 1;
	int p[2], status = -1, ret;
	pid_t kid;

	if (pipe(p))
		return -1;
	kid = fork();
	if (kid == 0) {
		close(p[1]);
		child(p[0]);
	}
	close(p[0]);
	while (state_of(kid) != 'S')
		nanosleep(&t, NULL);
	nanosleep(&t, NULL);

	ret = compel_seize_stop(kid, &st);
	check(!ret, "seize the child asleep in read()");
	ret = ret ?: compel_get_regs(kid, &r);
	check(!ret && (long)r.orig_rax == __NR_read && (long)r.rax == -ERESTARTSYS,
	      "it stops with orig_rax = read, rax = -ERESTARTSYS (%lld, %lld)", (long long)r.orig_rax, (long long)r.rax);
	ret = ret ?: compel_set_sigmask(kid, ~0ULL);
	at = r;
	at.rip -= 2;
	at.rax = __NR_read;
	at.orig_rax = (unsigned long)-1L;
	ret = ret ?: compel_stop_at_syscall_entry(kid, &at, &got, &swallowed);
	check(!ret && (long)got.orig_rax == __NR_read && got.rip == r.rip && !swallowed,
	      "stopped at the entry of read() from its own instruction (%d)", ret);
	at = r;
	at.orig_rax = __NR_read;
	at.rax = (unsigned long)-ENOSYS;
	ret = ret ?: compel_set_regs(kid, &at);
	if (!ret && signal)
		ret = kill(kid, SIGUSR1) ? -errno : 0;
	ret = ret ?: compel_set_sigmask(kid, 0);
	ret = ret ?: compel_detach(kid, COMPEL_TASK_ALIVE, 0);
	check(!ret, "registers and mask set at the entry, detached (%d)", ret);
	/* with the signal, the read() ends without the byte: give it 5 s to */
	for (int i = 0; signal && i < 1000 && waitpid(kid, &status, WNOHANG) == 0; i++)
		nanosleep(&t, NULL);
	if (WIFEXITED(status)) {
		close(p[1]);
		return WEXITSTATUS(status);
	}
	nanosleep(&t, NULL);	/* asleep in the read() again */
	if (write(p[1], "x", 1) != 1 || waitpid(kid, &status, 0) != kid) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		status = -1;
	}
	close(p[1]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
	int st;

	st = round_trip(false);
	check(st == 0, "the read() made at the entry gets the byte written later (exit %d)", st);
	st = round_trip(true);
	check(st == 2, "with a signal queued at the entry, it returns EINTR after the handler (exit %d)", st);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
