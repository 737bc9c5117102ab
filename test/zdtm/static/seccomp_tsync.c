// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_tsync: a process whose filters were installed for all its threads
 * at once (SECCOMP_FILTER_FLAG_TSYNC) gets them back as one filter shared by
 * every thread, not a copy per thread: the kernel takes a later TSYNC only
 * when every other thread's chain is a part of the caller's, by identity.
 * Two threads run, then the main thread installs F1 and F2 with TSYNC. After
 * restore every thread sees both, and a third TSYNC filter (F3) succeeds
 * (with copies it would fail and return a thread id) and reaches every thread.
 */
#include <pthread.h>
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)
#define M2 SCT_MAGIC(2)
#define M3 SCT_MAGIC(3)
#define NR_WORKERS 2

struct probe {
	long m[3];
	pid_t tid;
};

struct worker {
	int req[2], resp[2];
	pthread_t th;
};

static struct worker W[NR_WORKERS];

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct probe p;
	char c;

	p.tid = gettid();
	while (read(w->req[0], &c, 1) == 1) {
		p.m[0] = sct_probe(M1);
		p.m[1] = sct_probe(M2);
		p.m[2] = sct_probe(M3);
		if (write(w->resp[1], &p, sizeof(p)) != sizeof(p))
			break;
	}
	return NULL;
}

/* every thread: getsid(M1), (M2), (M3) give -101, -102 and (with F3) -103, and nfilters filters */
static void check(const char *when, int nfilters)
{
	long want3 = nfilters == 3 ? -103 : SCT_NONE;
	struct probe p;

	if (sct_probe(M1) != -101 || sct_probe(M2) != -102 || sct_probe(M3) != want3)
		fail("%s: main thread: getsid(M1..M3) %ld %ld %ld", when, sct_probe(M1), sct_probe(M2), sct_probe(M3));
	if (sct_status(gettid(), "Seccomp_filters") != nfilters)
		fail("%s: main thread has %d filters, not %d", when, sct_status(gettid(), "Seccomp_filters"), nfilters);
	for (int i = 0; i < NR_WORKERS; i++) {
		char c = 'p';

		if (write(W[i].req[1], &c, 1) != 1 || read(W[i].resp[0], &p, sizeof(p)) != sizeof(p)) {
			fail("%s: thread %d does not answer", when, i);
			continue;
		}
		if (p.m[0] != -101 || p.m[1] != -102 || p.m[2] != want3)
			fail("%s: thread %d: getsid(M1..M3) %ld %ld %ld", when, i, p.m[0], p.m[1], p.m[2]);
		if (sct_status(p.tid, "Seccomp_filters") != nfilters)
			fail("%s: thread %d has %d filters, not %d", when, i, sct_status(p.tid, "Seccomp_filters"),
			     nfilters);
	}
}

int main(int argc, char **argv)
{
	long r;

	test_init(argc, argv);
	for (int i = 0; i < NR_WORKERS; i++)
		if (pipe(W[i].req) || pipe(W[i].resp) || pthread_create(&W[i].th, NULL, worker_main, &W[i])) {
			fail("can't start the threads");
			return 1;
		}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, SECCOMP_FILTER_FLAG_TSYNC) ||
	    sct_install(SCT_PROBE_NR, M2, SECCOMP_RET_ERRNO | 102, SECCOMP_FILTER_FLAG_TSYNC)) {
		fail("can't install the filters with TSYNC");
		return 1;
	}
	check("before the dump", 2);
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore", 2);
	r = sct_install(SCT_PROBE_NR, M3, SECCOMP_RET_ERRNO | 103, SECCOMP_FILTER_FLAG_TSYNC);
	if (r)
		fail("a new TSYNC filter after restore: %ld (a thread id: its chain is not the caller's)", r);
	else
		check("after a new TSYNC filter", 3);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
