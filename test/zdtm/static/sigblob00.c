// SPDX-License-Identifier: GPL-2.0
/*
 * sigblob00: the dump reads a task's signal actions and timers in one
 * "blob" (compel_rsys_blob()) ended by a signal the task neither catches nor
 * blocks (SIGURG, else SIGWINCH, else SIGCHLD). Here SIGURG and SIGWINCH
 * have handlers and SIGCHLD is blocked, so no signal qualifies and the dump
 * must make the calls one by one (sigblob01: only SIGURG is caught, SIGWINCH
 * ends the blob). After restore:
 *  - every signal's disposition (handler, flags, mask) is as before;
 *  - the blocked mask is as before;
 *  - the pending set is exactly as before (SIGCHLD and SIGUSR1, raised while
 *    blocked): none lost, none added;
 *  - no handler ran during the dump or the restore;
 *  - the SIGURG handler (and SIGWINCH's, when caught) still runs.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CATCH_WINCH
#define CATCH_WINCH 1
#endif
#ifndef BLOCK_CHLD
#define BLOCK_CHLD 1
#endif

#define NSIG_CHECK 65

static volatile sig_atomic_t urg_count, winch_count;

static void on_urg(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (sig == SIGURG)
		urg_count++;
}

static void on_winch(int sig)
{
	if (sig == SIGWINCH)
		winch_count++;
}

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
	if (a->sa_handler != b->sa_handler || a->sa_flags != b->sa_flags)
		return 0;
	for (int s = 1; s < NSIG_CHECK; s++)
		if (sigismember(&a->sa_mask, s) != sigismember(&b->sa_mask, s))
			return 0;
	return 1;
}

static int same_set(const sigset_t *a, const sigset_t *b)
{
	for (int s = 1; s < NSIG_CHECK; s++)
		if (sigismember(a, s) != sigismember(b, s))
			return 0;
	return 1;
}

static int setup(void)
{
	struct sigaction sa;
	sigset_t blk;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_urg;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaddset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGURG, &sa, NULL))
		return -1;
	if (CATCH_WINCH) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_winch;
		sa.sa_flags = SA_NODEFER;
		if (sigaction(SIGWINCH, &sa, NULL))
			return -1;
	}
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	if (BLOCK_CHLD)
		sigaddset(&blk, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &blk, NULL))
		return -1;
	/* pending while blocked: they must all be there after restore */
	if (raise(SIGUSR1) || (BLOCK_CHLD && raise(SIGCHLD)))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct sigaction before[NSIG_CHECK];
	sigset_t mask0, pend0, mask1, pend1;
	struct sigaction now;

	test_init(argc, argv);
	if (setup()) {
		fail("signal setup");
		return 1;
	}
	for (int s = 1; s < NSIG_CHECK; s++)
		/* glibc keeps 32 and 33 to itself: EINVAL */
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &before[s]) && errno != EINVAL) {
			fail("sigaction(%d) query", s);
			return 1;
		}
	sigprocmask(SIG_BLOCK, NULL, &mask0);
	sigpending(&pend0);

	test_daemon();
	test_waitsig();

	for (int s = 1; s < NSIG_CHECK; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, NULL, &now)) {
			if (errno != EINVAL)
				fail("sigaction(%d) query after restore", s);
			continue;
		}
		if (!same_action(&now, &before[s]))
			fail("signal %d: handler %p flags %#x, was %p flags %#x (or the mask differs)", s,
			     (void *)now.sa_handler, (unsigned)now.sa_flags, (void *)before[s].sa_handler,
			     (unsigned)before[s].sa_flags);
	}
	/* the test's own SIGTERM (test_waitsig) is not blocked: it is not pending any more */
	sigprocmask(SIG_BLOCK, NULL, &mask1);
	sigpending(&pend1);
	errno = 0;
	if (!same_set(&mask0, &mask1))
		fail("the blocked mask changed");
	if (!same_set(&pend0, &pend1))
		fail("the pending set changed (SIGUSR1 %d->%d, SIGCHLD %d->%d, SIGURG %d->%d, SIGWINCH %d->%d)",
		     sigismember(&pend0, SIGUSR1), sigismember(&pend1, SIGUSR1), sigismember(&pend0, SIGCHLD),
		     sigismember(&pend1, SIGCHLD), sigismember(&pend0, SIGURG), sigismember(&pend1, SIGURG),
		     sigismember(&pend0, SIGWINCH), sigismember(&pend1, SIGWINCH));
	if (urg_count || winch_count)
		fail("a handler ran during dump or restore: SIGURG %d, SIGWINCH %d", urg_count, winch_count);
	raise(SIGURG);
	raise(SIGWINCH);	/* ignored by default when not caught */
	if (urg_count != 1 || winch_count != CATCH_WINCH)
		fail("after raise: SIGURG handler ran %d times, SIGWINCH's %d", urg_count, winch_count);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
