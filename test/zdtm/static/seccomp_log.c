// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_log: the flags of each filter come back, in their places. F1 and
 * F2 are installed with SECCOMP_FILTER_FLAG_LOG, F3 (the newest) without:
 * a chain read or installed the wrong way round would show it. Only a tracer outside seccomp
 * can read them (PTRACE_SECCOMP_GET_METADATA): a helper child, forked before
 * the filters, seizes the test when asked and reports the flags of filters
 * 0, 1 and 2 (oldest first).
 */
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

#define M1 SCT_MAGIC(1)
#define NR_FILTERS 3

struct md {
	unsigned long long filter_off, flags;
};

static int helper(pid_t target, int req, int resp)
{
	unsigned long long flags[NR_FILTERS];
	char c;

	for (int round = 0; round < 2; round++) {
		int st;

		if (read(req, &c, 1) != 1)
			return 1;
		if (ptrace(PTRACE_SEIZE, target, 0, 0) || ptrace(PTRACE_INTERRUPT, target, 0, 0) ||
		    waitpid(target, &st, __WALL) != target)
			return 2;
		for (int i = 0; i < NR_FILTERS; i++) {
			struct md m = { .filter_off = (unsigned long long)i };

			flags[i] = ptrace((enum __ptrace_request)PTRACE_SECCOMP_GET_METADATA, target, sizeof(m), &m) < 0 ? ~0ULL : m.flags;
		}
		ptrace(PTRACE_DETACH, target, 0, 0);
		if (write(resp, flags, sizeof(flags)) != sizeof(flags))
			return 3;
	}
	return 0;
}

static void check(const char *when, int req, int resp)
{
	static const unsigned long long want[NR_FILTERS] = { SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_LOG, 0 };
	unsigned long long flags[NR_FILTERS];
	char c = 'p';

	if (write(req, &c, 1) != 1 || read(resp, flags, sizeof(flags)) != sizeof(flags)) {
		fail("%s: the helper does not answer", when);
		return;
	}
	for (int i = 0; i < NR_FILTERS; i++)
		if (flags[i] != want[i])
			fail("%s: filter %d has flags %#llx, not %#llx", when, i, flags[i], want[i]);
	if (sct_probe(M1) != -103)
		fail("%s: getsid(M1) gave %ld, not -103", when, sct_probe(M1));
}

int main(int argc, char **argv)
{
	int req[2], resp[2], st;
	pid_t pid, me;

	test_init(argc, argv);
	me = getpid();
	if (pipe(req) || pipe(resp)) {
		fail("pipes");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0)
		_exit(helper(me, req[0], resp[1]));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, SECCOMP_FILTER_FLAG_LOG) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 102, SECCOMP_FILTER_FLAG_LOG) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 103, 0)) {
		fail("can't install the filters");
		return 1;
	}
	check("before the dump", req[1], resp[0]);
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore", req[1], resp[0]);
	if (test_wait_child(pid, 30, &st) || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("the helper did not exit with 0 (status %#x)", st);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
