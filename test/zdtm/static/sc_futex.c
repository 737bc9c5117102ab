// SPDX-License-Identifier: GPL-2.0
/*
 * sc_futex: threads asleep across the dump in futex waits: FUTEX_WAIT without
 * a timeout, with a relative one of 60 s, FUTEX_WAIT_BITSET with an absolute
 * deadline 60 s away (what pthread_cond_timedwait() uses), each woken by a
 * FUTEX_WAKE after restore (returns 0), and FUTEX_WAIT with 10 s that nobody
 * wakes (ETIMEDOUT after its 10 s plus about the time it was frozen, see
 * sc_wait.h). No call returns EINTR.
 */
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sc_wait.h"

enum kind { WAIT, WAIT_REL, WAIT_ABS, WAIT_EXPIRES };

static int words[4];

static long futex(int *uaddr, int op, int val, const struct timespec *t, int val3)
{
	long r = syscall(SYS_futex, uaddr, op, val, t, NULL, val3);

	return r < 0 ? -errno : r;
}

static long do_wait(struct sc_waiter *w)
{
	int *word = &words[w->arg];
	struct timespec t = { 60, 0 };

	switch (w->arg) {
	case WAIT:
		return futex(word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
	case WAIT_REL:
		return futex(word, FUTEX_WAIT_PRIVATE, 0, &t, 0);
	case WAIT_ABS:
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += 60;
		return futex(word, FUTEX_WAIT_BITSET_PRIVATE, 0, &t, FUTEX_BITSET_MATCH_ANY);
	case WAIT_EXPIRES:
		t.tv_sec = 10;
		return futex(word, FUTEX_WAIT_PRIVATE, 0, &t, 0);
	}
	return -EINVAL;
}

static struct sc_waiter w[] = {
	{ .name = "FUTEX_WAIT", .call = do_wait, .arg = WAIT },
	{ .name = "FUTEX_WAIT(60 s)", .call = do_wait, .arg = WAIT_REL },
	{ .name = "FUTEX_WAIT_BITSET(+60 s)", .call = do_wait, .arg = WAIT_ABS },
	{ .name = "FUTEX_WAIT(10 s)", .call = do_wait, .arg = WAIT_EXPIRES },
};
#define NR (int)(sizeof(w) / sizeof(w[0]))

int main(int argc, char **argv)
{
	int64_t gap;

	test_init(argc, argv);
	if (sc_ticker_start()) {
		fail("pthread_create");
		return 1;
	}
	for (int i = 0; i < NR; i++)
		if (sc_start(&w[i])) {
			fail("pthread_create");
			return 1;
		}
	if (sc_settle(w, NR))
		return 1;
	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++)
		if (w[i].done)
			fail("%s: returned %ld after restore, before it was woken", w[i].name, w[i].ret);
	for (int i = 0; i < NR; i++) {
		if (w[i].arg == WAIT_EXPIRES)
			continue;
		/* until the waiter is gone: a wake that comes before its wait would be lost */
		__atomic_store_n(&words[i], 1, __ATOMIC_SEQ_CST);
		while (!__atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST)) {
			struct timespec t = { 0, 10 * 1000000 };

			futex(&words[i], FUTEX_WAKE_PRIVATE, 1, NULL, 0);
			nanosleep(&t, NULL);
		}
	}
	for (int i = 0; i < NR; i++)
		if (sc_join(&w[i]))
			return 1;
	gap = sc_ticker_stop();
	for (int i = 0; i < NR; i++) {
		if (w[i].arg == WAIT_EXPIRES)
			sc_check_timed(&w[i], -ETIMEDOUT, 10 * SC_NSEC, gap);
		else if (w[i].ret != 0)
			fail("%s: returned %ld, not 0", w[i].name, w[i].ret);
	}
	if (!test_failed())
		pass();
	return 0;
}
