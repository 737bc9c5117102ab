// SPDX-License-Identifier: GPL-2.0
/*
 * sc_restarted: calls the kernel had already restarted through
 * restart_syscall() when they were dumped: threads asleep in nanosleep(),
 * poll() and FUTEX_WAIT, each with 10 s, when a child stops and continues the
 * process (SIGSTOP, SIGCONT) right after they started. Their registers no
 * longer tell the call; after restore each still ends as its call does (0, 0,
 * ETIMEDOUT), not with EINTR, after its 10 s plus about the time it was
 * stopped and frozen (sc_wait.h).
 */
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sc_wait.h"

#define TIMEOUT_NS (10 * SC_NSEC)

static int word;

static long raw(long r)
{
	return r < 0 ? -errno : r;
}

static long do_nanosleep(struct sc_waiter *w)
{
	struct timespec t = { TIMEOUT_NS / SC_NSEC, 0 };

	return raw(syscall(SYS_nanosleep, &t, NULL));
}

static long do_poll(struct sc_waiter *w)
{
	int p[2];
	struct pollfd pf;

	if (pipe(p))
		return -1000;
	pf.fd = p[0];
	pf.events = POLLIN;
	return raw(syscall(SYS_poll, &pf, 1, (int)(TIMEOUT_NS / 1000000)));
}

static long do_futex(struct sc_waiter *w)
{
	struct timespec t = { TIMEOUT_NS / SC_NSEC, 0 };

	return raw(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0));
}

static struct sc_waiter w[] = {
	{ .name = "nanosleep", .call = do_nanosleep },
	{ .name = "poll", .call = do_poll },
	{ .name = "FUTEX_WAIT", .call = do_futex },
};
#define NR (int)(sizeof(w) / sizeof(w[0]))

/* A child stops and continues us: the sleeping calls go on in restart_syscall(). */
static int stop_and_continue(void)
{
	struct timespec t = { 0, 100 * 1000000 };
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		pid_t parent = getppid();

		if (kill(parent, SIGSTOP))
			_exit(1);
		nanosleep(&t, NULL);
		_exit(kill(parent, SIGCONT) ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t = { 0, 200 * 1000000 };
	int64_t gap;

	test_init(argc, argv);
	if (sc_ticker_start()) {
		fail("pthread_create");
		return 1;
	}
	for (int i = 0; i < NR; i++)
		if (sc_start(&w[i])) {
			fail("pthread_create");
			return 1;
		}
	nanosleep(&t, NULL);
	if (stop_and_continue()) {
		fail("a child could not stop and continue the test");
		return 1;
	}
	if (sc_settle(w, NR))
		return 1;
	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++)
		if (sc_join(&w[i]))
			return 1;
	gap = sc_ticker_stop();
	sc_check_timed(&w[0], 0, TIMEOUT_NS, gap);
	sc_check_timed(&w[1], 0, TIMEOUT_NS, gap);
	sc_check_timed(&w[2], -ETIMEDOUT, TIMEOUT_NS, gap);
	if (!test_failed())
		pass();
	return 0;
}
