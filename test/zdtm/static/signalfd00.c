// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd00: signalfds keep their masks and flags, and the signals queued
 * before the dump are read through them after restore.
 *  - sfd: {SIGUSR1, SIGRTMIN+1}, non-blocking; SIGUSR1 and SIGRTMIN+1 (with
 *    the value 42, twice: real-time signals queue) are pending at dump;
 *    after restore it reads SIGUSR1 once, SIGRTMIN+1 twice with 42 and 43,
 *    then EAGAIN; SIGUSR2 (pending too) is not in its mask and stays pending;
 *  - sfd2: {SIGUSR2}, blocking: reads the pending SIGUSR2.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "zdtmtst.h"

static int read_sig(int fd, struct signalfd_siginfo *si)
{
	return read(fd, si, sizeof(*si)) == sizeof(*si) ? 0 : -1;
}

static unsigned long long fdinfo_sigmask(int fd)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if ((p = strstr(buf, "sigmask:")))
			v = strtoull(p + 8, NULL, 16);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	union sigval val = { .sival_int = 42 };
	struct signalfd_siginfo si;
	unsigned long long mask1, mask2;
	sigset_t m1, m2, all;
	int sfd, sfd2;

	test_init(argc, argv);
	sigemptyset(&m1);
	sigaddset(&m1, SIGUSR1);
	sigaddset(&m1, SIGRTMIN + 1);
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGRTMIN + 1);
	if (sigprocmask(SIG_BLOCK, &all, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	sfd = signalfd(-1, &m1, SFD_NONBLOCK | SFD_CLOEXEC);
	sfd2 = signalfd(-1, &m2, 0);
	if (sfd < 0 || sfd2 < 0) {
		fail("signalfd");
		return 1;
	}
	mask1 = fdinfo_sigmask(sfd);
	mask2 = fdinfo_sigmask(sfd2);
	if (kill(getpid(), SIGUSR1) || kill(getpid(), SIGUSR2) || sigqueue(getpid(), SIGRTMIN + 1, val)) {
		fail("send signals");
		return 1;
	}
	val.sival_int = 43;
	if (sigqueue(getpid(), SIGRTMIN + 1, val)) {
		fail("sigqueue");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fdinfo_sigmask(sfd) != mask1 || fdinfo_sigmask(sfd2) != mask2)
		fail("masks changed: %llx/%llx, were %llx/%llx", fdinfo_sigmask(sfd), fdinfo_sigmask(sfd2), mask1,
		     mask2);
	if (fcntl(sfd, F_GETFL) != (O_RDWR | O_NONBLOCK) || fcntl(sfd, F_GETFD) != FD_CLOEXEC)
		fail("sfd flags: F_GETFL %o F_GETFD %d", fcntl(sfd, F_GETFL), fcntl(sfd, F_GETFD));
	if (fcntl(sfd2, F_GETFL) != O_RDWR || fcntl(sfd2, F_GETFD) != 0)
		fail("sfd2 flags: F_GETFL %o F_GETFD %d", fcntl(sfd2, F_GETFL), fcntl(sfd2, F_GETFD));

	/* standard signals are delivered lowest number first, before real-time ones */
	if (read_sig(sfd, &si) || si.ssi_signo != SIGUSR1)
		fail("first read: signal %u, expected SIGUSR1", si.ssi_signo);
	if (read_sig(sfd, &si) || si.ssi_signo != (unsigned)SIGRTMIN + 1 || si.ssi_int != 42)
		fail("second read: signal %u value %d, expected %d value 42", si.ssi_signo, si.ssi_int, SIGRTMIN + 1);
	if (read_sig(sfd, &si) || si.ssi_signo != (unsigned)SIGRTMIN + 1 || si.ssi_int != 43)
		fail("third read: signal %u value %d, expected %d value 43", si.ssi_signo, si.ssi_int, SIGRTMIN + 1);
	errno = 0;
	if (read(sfd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		fail("sfd reads more than was queued (signal %u)", si.ssi_signo);
	errno = 0;
	if (read_sig(sfd2, &si) || si.ssi_signo != SIGUSR2)
		fail("sfd2: signal %u, expected SIGUSR2", si.ssi_signo);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
