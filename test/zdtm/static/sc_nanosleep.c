// SPDX-License-Identifier: GPL-2.0
/*
 * sc_nanosleep: threads asleep across the dump in nanosleep() (with and
 * without a remaining-time pointer) and clock_nanosleep() (relative on
 * CLOCK_MONOTONIC and CLOCK_REALTIME, absolute on CLOCK_MONOTONIC), each for
 * 10 s, started SC_PRE_DUMP_S before the test is ready. After restore each
 * returns 0 (not EINTR) after its 10 s plus about the time it was frozen: not
 * at once, and not 10 s again from the restore (sc_wait.h).
 */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sc_wait.h"

#define SLEEP_NS (10 * SC_NSEC)

static struct timespec rel(void)
{
	struct timespec t = { SLEEP_NS / SC_NSEC, 0 };

	return t;
}

static long raw(long r)
{
	return r < 0 ? -errno : r;
}

static long do_nanosleep(struct sc_waiter *w)
{
	struct timespec t = rel(), rem;

	return raw(syscall(SYS_nanosleep, &t, w->arg ? &rem : NULL));
}

static long do_clock_rel(struct sc_waiter *w)
{
	struct timespec t = rel(), rem;

	return raw(syscall(SYS_clock_nanosleep, w->arg, 0, &t, w->arg == CLOCK_REALTIME ? &rem : NULL));
}

static long do_clock_abs(struct sc_waiter *w)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += SLEEP_NS / SC_NSEC;
	return raw(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL));
}

static struct sc_waiter w[] = {
	{ .name = "nanosleep", .call = do_nanosleep, .arg = 0 },
	{ .name = "nanosleep with rmtp", .call = do_nanosleep, .arg = 1 },
	{ .name = "clock_nanosleep(MONOTONIC)", .call = do_clock_rel, .arg = CLOCK_MONOTONIC },
	{ .name = "clock_nanosleep(REALTIME) with rmtp", .call = do_clock_rel, .arg = CLOCK_REALTIME },
	{ .name = "clock_nanosleep(MONOTONIC, TIMER_ABSTIME)", .call = do_clock_abs },
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
		if (sc_join(&w[i]))
			return 1;
	gap = sc_ticker_stop();
	for (int i = 0; i < NR; i++)
		sc_check_timed(&w[i], 0, SLEEP_NS, gap);
	pass();
	return 0;
}
