// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_filter00: a task under five seccomp filters keeps them, in their
 * order, across checkpoint and restore:
 *   F1  getsid(M1) -> ERRNO(101)
 *   F2  getsid(M2) -> ERRNO(103)
 *   F3  getsid(M1) -> ERRNO(102): newer than F1, so its errno wins
 *   F4  every prctl() -> ERRNO(EPERM): criu's dump and the end of the
 *       restore make prctl calls in the task, which must not be filtered
 *   F5  getitimer() -> KILL_PROCESS: criu's dump calls getitimer in the
 *       task; after restore a forked child that calls it is killed (SIGSYS)
 * Checked before the dump and after restore, plus /proc's Seccomp (2) and
 * Seccomp_filters (5).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)
#define M2 SCT_MAGIC(2)

static void check_all(const char *when)
{
	struct itimerval it;
	int st;
	pid_t pid;
	long r;

	if ((r = sct_probe(M1)) != -102)
		fail("%s: getsid(M1) gave %ld, not -102 (the newer filter's errno)", when, r);
	if ((r = sct_probe(M2)) != -103)
		fail("%s: getsid(M2) gave %ld, not -103", when, r);
	if ((r = sct_probe(0)) != getsid(0))
		fail("%s: getsid(0) gave %ld, not the session id", when, r);
	errno = 0;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != -1 || errno != EPERM)
		fail("%s: prctl() is not refused with EPERM (errno %d)", when, errno);
	if (sct_status(0, "Seccomp") != 2 || sct_status(0, "Seccomp_filters") != 5)
		fail("%s: Seccomp %d, Seccomp_filters %d: not 2 and 5", when, sct_status(0, "Seccomp"),
		     sct_status(0, "Seccomp_filters"));
	pid = fork();
	if (pid < 0) {
		fail("%s: fork", when);
		return;
	}
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		getitimer(ITIMER_REAL, &it);
		_exit(0);
	}
	if (test_wait_child(pid, 30, &st) || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail("%s: the child calling getitimer() was not killed by SIGSYS (status %#x)", when, st);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, 0) ||
	    sct_install(SCT_PROBE_NR, M2, SECCOMP_RET_ERRNO | 103, 0) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 102, 0) ||
	    sct_install(SYS_prctl, SCT_ANY_ARG, SECCOMP_RET_ERRNO | EPERM, 0) ||
	    sct_install(SYS_getitimer, SCT_ANY_ARG, SECCOMP_RET_KILL_PROCESS, 0)) {
		fail("can't install the filters");
		return 1;
	}
	check_all("before the dump");
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check_all("after restore");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
