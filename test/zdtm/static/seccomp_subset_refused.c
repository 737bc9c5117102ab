// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_subset_refused: a filter shared by some threads of a process but
 * not all. Thread T1 starts, then the main thread installs F1 (no TSYNC) and
 * starts T2, which inherits it: main and T2 share F1, T1 lacks it. The
 * kernel can't make one filter shared by some threads only (TSYNC reaches
 * all), and copies would break a later TSYNC, so the dump refuses it and the
 * task goes on with its filters.
 */
#include <pthread.h>
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)

static int hold[2];

static void *idle_main(void *arg)
{
	char c;

	(void)!read(hold[0], &c, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;

	test_init(argc, argv);
	if (pipe(hold) || pthread_create(&t1, NULL, idle_main, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, 0) ||
	    pthread_create(&t2, NULL, idle_main, NULL)) {
		fail("can't set up the threads and the filter");
		return 1;
	}
	test_daemon();
	test_waitsig();
	if (sct_probe(M1) != -101 || sct_status(gettid(), "Seccomp_filters") != 1)
		fail("the filter is gone after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
