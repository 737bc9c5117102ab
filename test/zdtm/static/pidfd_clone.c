// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_clone: pidfds made by clone3(CLONE_PIDFD) and clone(CLONE_PIDFD)
 * (and a PIDFD_NONBLOCK one by pidfd_open) survive: they refer to the
 * same children, waitid(P_PIDFD) reaps each child with its own exit code, and
 * the non-blocking pidfd gives EAGAIN while its child lives.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct clone_args3 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int go[2];

static void child_wait_and_exit(int code)
{
	char c;

	close(go[1]);
	while (read(go[0], &c, 1) < 0)
		;
	_exit(code);
}

static int clone_fn(void *arg)
{
	child_wait_and_exit(12);
	return 0;
}

static void reap(int fd, pid_t pid, int code, const char *what)
{
	siginfo_t si = {};

	if (waitid(P_PIDFD, fd, &si, WEXITED)) {
		fail("%s: waitid", what);
		return;
	}
	if (si.si_pid != pid || si.si_code != CLD_EXITED || si.si_status != code) {
		errno = 0;
		fail("%s: waitid pid %d code %d status %d, expected %d exited %d", what, si.si_pid, si.si_code,
		     si.si_status, pid, code);
	}
}

int main(int argc, char **argv)
{
	struct pidfd_state s3, sc, sn;
	struct clone_args3 args = { .flags = CLONE_PIDFD, .exit_signal = SIGCHLD };
	int fd3 = -1, fdc = -1, fdn;
	char *stack;
	pid_t p3, pc;
	siginfo_t si;

	test_init(argc, argv);
	if (pipe(go)) {
		fail("pipe");
		return 1;
	}
	args.pidfd = (uintptr_t)&fd3;
	p3 = syscall(SYS_clone3, &args, sizeof(args));
	if (p3 == 0)
		child_wait_and_exit(11);
	stack = malloc(65536);
	pc = clone(clone_fn, stack + 65536, CLONE_PIDFD | SIGCHLD, NULL, &fdc);
	if (p3 < 0 || pc < 0 || fd3 < 0 || fdc < 0) {
		fail("clone3/clone with CLONE_PIDFD");
		return 1;
	}
	fdn = sys_pidfd_open(pc, O_NONBLOCK);
	close(go[0]);
	if (fdn < 0 || pidfd_remember(fd3, p3, "clone3 pidfd", &s3) || pidfd_remember(fdc, pc, "clone pidfd", &sc) ||
	    pidfd_remember(fdn, pc, "nonblocking pidfd", &sn))
		return 1;

	test_daemon();
	test_waitsig();

	pidfd_check(&s3);
	pidfd_check(&sc);
	pidfd_check(&sn);
	if (waitid(P_PIDFD, fdn, &si, WEXITED) != -1 || errno != EAGAIN)
		fail("waitid on a non-blocking pidfd of a live child: not EAGAIN");
	close(go[1]);		/* both children exit now */
	reap(fd3, p3, 11, "clone3 child");
	reap(fdc, pc, 12, "clone child");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
