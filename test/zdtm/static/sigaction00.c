// SPDX-License-Identifier: GPL-2.0
/*
 * sigaction00: signal dispositions survive and handlers run after restore.
 *  - every signal's disposition (handler, flags, mask) is unchanged;
 *  - SIGUSR1 (SA_SIGINFO|SA_RESTART, mask {SIGUSR2, SIGHUP}) runs its
 *    handler with the right siginfo and with the mask applied;
 *  - SIGUSR2 (SIG_IGN) is ignored;
 *  - SIGHUP (SA_RESETHAND|SA_NODEFER) runs once, unblocked, and is reset to
 *    SIG_DFL afterwards.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NSIG_CHECK 65

static volatile sig_atomic_t usr1_count, usr1_bad, hup_count, hup_bad;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	usr1_count++;
	if (sig != SIGUSR1 || si->si_signo != SIGUSR1 || si->si_pid != getpid())
		usr1_bad |= 1;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGHUP) ||
	    !sigismember(&cur, SIGUSR1))
		usr1_bad |= 2;
}

static void hup_handler(int sig)
{
	sigset_t cur;

	hup_count++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (sig != SIGHUP || sigismember(&cur, SIGHUP))	/* SA_NODEFER */
		hup_bad = 1;
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

int main(int argc, char **argv)
{
	static struct sigaction before[NSIG_CHECK];
	struct sigaction sa, now;

	test_init(argc, argv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = usr1_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		fail("sigaction(SIGUSR1)");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGUSR2, &sa, NULL)) {
		fail("sigaction(SIGUSR2)");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hup_handler;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGHUP);
	if (sigaction(SIGHUP, &sa, NULL)) {
		fail("sigaction(SIGHUP)");
		return 1;
	}
	for (int s = 1; s < NSIG_CHECK; s++)
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &before[s]) && errno != EINVAL) {
			fail("sigaction(%d) query", s);
			return 1;
		}

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
		errno = 0;
		if (!same_action(&now, &before[s]))
			fail("signal %d: handler %p flags %#x, was %p flags %#x (or the mask differs)",
			     s, (void *)now.sa_handler, (unsigned)now.sa_flags,
			     (void *)before[s].sa_handler, (unsigned)before[s].sa_flags);
	}

	errno = 0;
	raise(SIGUSR1);
	if (usr1_count != 1 || usr1_bad)
		fail("SIGUSR1 handler: ran %d times, problems %#x", usr1_count, usr1_bad);
	raise(SIGUSR2);	/* ignored, or the test dies here */
	raise(SIGHUP);
	if (hup_count != 1 || hup_bad)
		fail("SIGHUP handler: ran %d times, bad %d", hup_count, hup_bad);
	if (sigaction(SIGHUP, NULL, &now) || now.sa_handler != SIG_DFL)
		fail("SIGHUP is not reset by SA_RESETHAND");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
