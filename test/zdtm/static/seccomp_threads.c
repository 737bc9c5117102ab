// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_threads: threads of one process with different filter chains.
 * The main thread installs F1 (getsid(M1) -> ERRNO(101)) and starts two
 * threads, which inherit it; thread A then adds F2 (getsid(M2) ->
 * ERRNO(102)) for itself alone, thread B adds nothing. After restore each
 * thread has its own chain again: main and B see F1 only (one filter in
 * /proc/self/task/TID/status), A sees both (two).
 */
#include <pthread.h>
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

#define M1 SCT_MAGIC(1)
#define M2 SCT_MAGIC(2)

struct probe {
	long m1, m2;
	pid_t tid;
};

struct worker {
	int req[2], resp[2];
	bool own_filter;
	pthread_t th;
};

static struct worker A = { .own_filter = true }, B;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct probe p;
	char c;

	p.tid = gettid();
	if (w->own_filter && sct_install(SCT_PROBE_NR, M2, SECCOMP_RET_ERRNO | 102, 0))
		p.tid = -1;
	while (read(w->req[0], &c, 1) == 1) {
		p.m1 = sct_probe(M1);
		p.m2 = sct_probe(M2);
		if (write(w->resp[1], &p, sizeof(p)) != sizeof(p))
			break;
	}
	return NULL;
}

static int ask(struct worker *w, struct probe *p)
{
	char c = 'p';

	if (write(w->req[1], &c, 1) != 1 || read(w->resp[0], p, sizeof(*p)) != sizeof(*p))
		return -1;
	return 0;
}

static void check(const char *when)
{
	struct probe p;
	long r;

	if ((r = sct_probe(M1)) != -101 || sct_probe(M2) != SCT_NONE)
		fail("%s: main thread: getsid(M1) %ld, getsid(M2) %ld: not -101 and the pid", when, r, sct_probe(M2));
	if (sct_status(gettid(), "Seccomp_filters") != 1)
		fail("%s: main thread has %d filters, not 1", when, sct_status(gettid(), "Seccomp_filters"));
	if (ask(&A, &p) || p.tid <= 0 || p.m1 != -101 || p.m2 != -102)
		fail("%s: thread A: tid %d, getsid(M1) %ld, getsid(M2) %ld: not -101 and -102", when, p.tid, p.m1, p.m2);
	else if (sct_status(p.tid, "Seccomp_filters") != 2)
		fail("%s: thread A has %d filters, not 2", when, sct_status(p.tid, "Seccomp_filters"));
	if (ask(&B, &p) || p.tid <= 0 || p.m1 != -101 || p.m2 != SCT_NONE)
		fail("%s: thread B: getsid(M1) %ld, getsid(M2) %ld: not -101 and the pid", when, p.m1, p.m2);
	else if (sct_status(p.tid, "Seccomp_filters") != 1)
		fail("%s: thread B has %d filters, not 1", when, sct_status(p.tid, "Seccomp_filters"));
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sct_install(SCT_PROBE_NR, M1, SECCOMP_RET_ERRNO | 101, 0)) {
		fail("can't install the filter");
		return 1;
	}
	if (pipe(A.req) || pipe(A.resp) || pipe(B.req) || pipe(B.resp) ||
	    pthread_create(&A.th, NULL, worker_main, &A) || pthread_create(&B.th, NULL, worker_main, &B)) {
		fail("can't start the threads");
		return 1;
	}
	check("before the dump");
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
