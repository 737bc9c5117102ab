// SPDX-License-Identifier: GPL-2.0
/*
 * sc_signals: threads asleep across the dump in calls that signals end:
 * pause(), sigsuspend() (the thread blocks SIGUSR1, the call unblocks it),
 * rt_sigtimedwait() for SIGUSR2 with 60 s, and read() on a pipe with a
 * handler installed with SA_RESTART and one without. After restore none has
 * returned; then a signal to each thread: pause() and sigsuspend() return
 * EINTR after their handler ran, and sigsuspend() gives the thread its own
 * mask back; rt_sigtimedwait() returns SIGUSR2; the read() whose handler has
 * no SA_RESTART returns EINTR, the other one goes on and returns the byte
 * written after its handler ran.
 */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sc_wait.h"

#define SIG_NORESTART (SIGRTMIN + 1)
#define SIG_RESTART (SIGRTMIN + 2)

enum kind { PAUSE, SIGSUSPEND, SIGTIMEDWAIT, READ_NORESTART, READ_RESTART };

static __thread volatile int handled;
static int handled_by[5];
static int pipes[5][2];
static int mask_bad;

static void handler(int sig)
{
	handled++;
}

static long raw(long r)
{
	return r < 0 ? -errno : r;
}

static long do_wait(struct sc_waiter *w)
{
	int i = (int)w->arg;
	uint64_t none = 0;
	sigset_t set, after;
	char c;
	long r = -EINVAL;

	sigemptyset(&set);
	if (i == SIGSUSPEND)
		sigaddset(&set, SIGUSR1);
	if (i == SIGTIMEDWAIT)
		sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	switch (i) {
	case PAUSE:
		r = raw(syscall(SYS_pause));
		break;
	case SIGSUSPEND:
		r = raw(syscall(SYS_rt_sigsuspend, &none, 8));
		pthread_sigmask(SIG_SETMASK, NULL, &after);
		mask_bad = !sigismember(&after, SIGUSR1);
		break;
	case SIGTIMEDWAIT: {
		struct timespec t = { 60, 0 };

		r = raw(syscall(SYS_rt_sigtimedwait, &set, NULL, &t, 8));
		break;
	}
	case READ_NORESTART:
	case READ_RESTART:
		r = raw(read(pipes[i][0], &c, 1));
		break;
	}
	handled_by[i] = handled;
	return r;
}

static struct sc_waiter w[] = {
	{ .name = "pause", .call = do_wait, .arg = PAUSE },
	{ .name = "sigsuspend", .call = do_wait, .arg = SIGSUSPEND },
	{ .name = "rt_sigtimedwait(60 s)", .call = do_wait, .arg = SIGTIMEDWAIT },
	{ .name = "read (handler without SA_RESTART)", .call = do_wait, .arg = READ_NORESTART },
	{ .name = "read (handler with SA_RESTART)", .call = do_wait, .arg = READ_RESTART },
};
#define NR (int)(sizeof(w) / sizeof(w[0]))

static int setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIG_NORESTART, &sa, NULL))
		return -1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIG_RESTART, &sa, NULL))
		return -1;
	for (int i = 0; i < NR; i++)
		if (pipe(pipes[i]))
			return -1;
	return 0;
}

static int signal_of(int i)
{
	switch (i) {
	case SIGTIMEDWAIT:
		return SIGUSR2;
	case READ_NORESTART:
		return SIG_NORESTART;
	case READ_RESTART:
		return SIG_RESTART;
	}
	return SIGUSR1;
}

int main(int argc, char **argv)
{
	struct timespec t = { 0, 200 * 1000000 };

	test_init(argc, argv);
	if (setup()) {
		fail("setup");
		return 1;
	}
	for (int i = 0; i < NR; i++)
		if (sc_start(&w[i])) {
			fail("pthread_create");
			return 1;
		}
	if (sc_settle(w, NR))
		return 1;
	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++)
		if (w[i].done)
			fail("%s: returned %ld after restore, before its signal", w[i].name, w[i].ret);
	for (int i = 0; i < NR; i++)
		if (pthread_kill(w[i].th, signal_of(i)))
			fail("pthread_kill");
	nanosleep(&t, NULL);
	if (w[READ_RESTART].done)
		fail("read: returned %ld after a signal whose handler has SA_RESTART", w[READ_RESTART].ret);
	if (write(pipes[READ_RESTART][1], "x", 1) != 1)
		fail("write");
	for (int i = 0; i < NR; i++)
		if (sc_join(&w[i]))
			return 1;
	for (int i = 0; i < NR; i++) {
		long want = i == SIGTIMEDWAIT ? SIGUSR2 : i == READ_RESTART ? 1 : -EINTR;

		if (w[i].ret != want)
			fail("%s: returned %ld, not %ld", w[i].name, w[i].ret, want);
		if (handled_by[i] != (i != SIGTIMEDWAIT))
			fail("%s: its handler ran %d times", w[i].name, handled_by[i]);
	}
	if (mask_bad)
		fail("sigsuspend: the thread's own mask is not back after the call");
	if (!test_failed())
		pass();
	return 0;
}
