/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the sc_* tests: threads that each block in one syscall across the
 * dump, and a ticker thread that measures how long the process was frozen.
 *
 * A waiter records its call's raw result (-errno on failure) and the
 * CLOCK_MONOTONIC times around it. The ticker sleeps 50 ms at a time and keeps
 * the largest gap between two of its wake-ups: about the time the process was
 * frozen by the dump and restore. A call that was given a timeout T must end
 * after at least T, and at most T + that gap + SC_SLACK_NS (generous: the
 * machine is loaded); a call given its whole timeout again after the dump ends
 * SC_PRE_DUMP_S later than that, and one given no time at all ends at once.
 */
#ifndef ZDTM_SC_WAIT_H
#define ZDTM_SC_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "zdtmtst.h"

#define SC_NSEC 1000000000LL
#define SC_PRE_DUMP_S 4			/* the waiters sleep that long before the test is ready */
#define SC_SLACK_NS (2 * SC_NSEC)

struct sc_waiter {
	const char *name;
	long (*call)(struct sc_waiter *w);
	long arg;			/* for the call */
	pthread_t th;
	volatile int started, done;
	long ret;			/* the raw result, -errno */
	int64_t start, end;		/* CLOCK_MONOTONIC ns */
};

static inline int64_t sc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * SC_NSEC + ts.tv_nsec;
}

static void *sc_waiter_fn(void *arg)
{
	struct sc_waiter *w = arg;

	w->start = sc_now();
	w->started = 1;
	w->ret = w->call(w);
	w->end = sc_now();
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static inline int sc_start(struct sc_waiter *w)
{
	return pthread_create(&w->th, NULL, sc_waiter_fn, w);
}

/* ---- the ticker ---- */

static volatile int sc_tick_stop;
static int64_t sc_tick_gap;
static pthread_t sc_ticker;

static void *sc_tick_fn(void *arg)
{
	struct timespec t = { 0, 50 * 1000000 };
	int64_t last = sc_now();

	while (!sc_tick_stop) {
		int64_t now;

		nanosleep(&t, NULL);
		now = sc_now();
		if (now - last > sc_tick_gap)
			sc_tick_gap = now - last;
		last = now;
	}
	return NULL;
}

static inline int sc_ticker_start(void)
{
	return pthread_create(&sc_ticker, NULL, sc_tick_fn, NULL);
}

/* The largest gap the ticker saw (ns). */
static inline int64_t sc_ticker_stop(void)
{
	sc_tick_stop = 1;
	pthread_join(sc_ticker, NULL);
	return sc_tick_gap;
}

/* Every waiter started and asleep for SC_PRE_DUMP_S, none returned yet. Returns 0 or -1 (failed). */
static inline int sc_settle(struct sc_waiter *w, int n)
{
	struct timespec t = { SC_PRE_DUMP_S, 0 };

	while (nanosleep(&t, &t) < 0)
		;
	for (int i = 0; i < n; i++) {
		if (!w[i].started || w[i].done) {
			fail("%s: %s before the dump (%ld)", w[i].name, w[i].done ? "returned" : "not started", w[i].ret);
			return -1;
		}
	}
	return 0;
}

/* A call with a timeout of timeout_ns that timed out with want: the time it took is checked. */
static inline void sc_check_timed(const struct sc_waiter *w, long want, int64_t timeout_ns, int64_t gap)
{
	int64_t took = w->end - w->start;

	if (w->ret != want) {
		fail("%s: returned %ld, not %ld", w->name, w->ret, want);
		return;
	}
	if (took < timeout_ns - SC_NSEC / 20)
		fail("%s: a timeout of %lld ms ended after %lld ms", w->name, (long long)(timeout_ns / 1000000),
		     (long long)(took / 1000000));
	else if (took > timeout_ns + gap + SC_SLACK_NS)
		fail("%s: a timeout of %lld ms ended after %lld ms (frozen for about %lld ms)", w->name,
		     (long long)(timeout_ns / 1000000), (long long)(took / 1000000), (long long)(gap / 1000000));
	else
		test_msg("%s: a timeout of %lld ms ended after %lld ms (frozen for about %lld ms)\n", w->name,
			 (long long)(timeout_ns / 1000000), (long long)(took / 1000000), (long long)(gap / 1000000));
}

/* Wait (up to 30 s) for a waiter to return. */
static inline int sc_join(struct sc_waiter *w)
{
	int64_t deadline = sc_now() + 30 * SC_NSEC;
	struct timespec t = { 0, 10 * 1000000 };

	while (!__atomic_load_n(&w->done, __ATOMIC_SEQ_CST)) {
		if (sc_now() > deadline) {
			fail("%s: still blocked 30 s later", w->name);
			return -1;
		}
		nanosleep(&t, NULL);
	}
	pthread_join(w->th, NULL);
	return 0;
}

#endif
