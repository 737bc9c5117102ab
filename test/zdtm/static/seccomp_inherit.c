// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_inherit: a parent and a child whose chains share a prefix. The
 * parent installs F1 (getsid(M1) -> ERRNO(101)) and forks the child, which
 * adds F2 (getsid(M2) -> ERRNO(102)). seccomp.img holds F1 once, F2 with F1
 * as its previous filter. After restore the parent sees F1 only, the child
 * both; the child checks itself when the parent asks and exits with the
 * verdict.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)
#define M2 SCT_MAGIC(2)

static int child_main(int req, int ready)
{
	char c = 'r';

	if (sct_install(SCT_PROBE_NR, M2, SECCOMP_RET_ERRNO | 102, 0))
		return 2;
	if (write(ready, &c, 1) != 1)
		return 3;
	/* two rounds: before the dump and after restore */
	for (int round = 0; round < 2; round++) {
		if (read(req, &c, 1) != 1)
			return 4;
		c = sct_probe(M1) == -101 && sct_probe(M2) == -102 && sct_status(0, "Seccomp_filters") == 2 ? 'y' : 'n';
		if (write(ready, &c, 1) != 1)
			return 5;
	}
	return 0;
}

static void check(const char *when, int req, int resp)
{
	char c = 'p';

	if (sct_probe(M1) != -101 || sct_probe(M2) != SCT_NONE || sct_status(0, "Seccomp_filters") != 1)
		fail("%s: parent: getsid(M1) %ld, getsid(M2) %ld, %d filters", when, sct_probe(M1), sct_probe(M2),
		     sct_status(0, "Seccomp_filters"));
	if (write(req, &c, 1) != 1 || read(resp, &c, 1) != 1 || c != 'y')
		fail("%s: the child's filters are not F1 and F2 (answer %c)", when, c);
}

int main(int argc, char **argv)
{
	int req[2], resp[2], st;
	pid_t pid;
	char c;

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, 0) ||
	    pipe(req) || pipe(resp)) {
		fail("can't install the filter");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0)
		_exit(child_main(req[0], resp[1]));
	if (read(resp[0], &c, 1) != 1) {
		fail("the child did not start");
		return 1;
	}
	check("before the dump", req[1], resp[0]);
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore", req[1], resp[0]);
	if (test_wait_child(pid, 30, &st) || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("the child did not exit with 0 (status %#x)", st);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
