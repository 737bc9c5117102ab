// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd00: timerfds keep their clock, flags, remaining time, interval and
 * unread expirations.
 *  - once: CLOCK_MONOTONIC, one shot in 3 s. After restore it must not have
 *    fired before 3 s of the test's own monotonic time have passed since it
 *    was armed, and it must fire (exactly one tick) within its remaining
 *    time plus a margin;
 *  - expired: CLOCK_BOOTTIME, a 10 ms one shot that fired before the dump and
 *    was not read: reads exactly 1 after restore, and stays disarmed;
 *  - hourly: first expiry after 10 ms, then every hour: 1 unread tick, and
 *    the next expiry still about an hour away, interval kept;
 *  - absolute: CLOCK_REALTIME, TFD_TIMER_ABSTIME|TFD_TIMER_CANCEL_ON_SET, 100 s
 *    ahead: settime flags stay 03 in fdinfo, 90..100 s left;
 *  - idle: never armed: stays disarmed, nothing to read;
 *  - fast: every 50 ms, never read: has ticks after restore and keeps ticking.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ONCE_SEC 3

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int arm(int fd, int flags, time_t vs, long vns, time_t is, long ins)
{
	struct itimerspec its = { .it_value = { vs, vns }, .it_interval = { is, ins } };

	return timerfd_settime(fd, flags, &its, NULL);
}

static double left(int fd, double *interval)
{
	struct itimerspec its;

	if (timerfd_gettime(fd, &its))
		return -1;
	if (interval)
		*interval = its.it_interval.tv_sec + its.it_interval.tv_nsec / 1e9;
	return its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
}

/* Non-blocking read of the expiration count: 0 when there is none. */
static uint64_t ticks_now(int fd)
{
	uint64_t v = 0;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	fcntl(fd, F_SETFL, fl);
	return v;
}

static void check_once(int once, double armed_at)
{
	double l = left(once, NULL), deadline;
	long long clk = -1;
	uint64_t v;

	if (fdinfo_get_long(once, "clockid", &clk) || clk != CLOCK_MONOTONIC)
		fail("once: clockid %lld", clk);
	if (l <= 0 || l > ONCE_SEC)
		fail("once: %.3f s left after restore (armed for %d s)", l, ONCE_SEC);
	deadline = now_mono() + l + 2;
	for (;;) {
		struct pollfd pfd = { .fd = once, .events = POLLIN };
		int r = poll(&pfd, 1, 100);

		if (r < 0) {
			fail("poll");
			return;
		}
		if (r == 1) {
			double at = now_mono() - armed_at;

			v = ticks_now(once);
			if (at < ONCE_SEC)
				fail("once: fired %.3f s after it was armed for %d s", at, ONCE_SEC);
			if (v != 1)
				fail("once: %llu ticks", (unsigned long long)v);
			test_msg("once fired %.3f s after arming\n", at);
			return;
		}
		if (now_mono() > deadline) {
			fail("once: did not fire (%.3f s after arming)", now_mono() - armed_at);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	int once, expired, hourly, absolute, idle, fast;
	struct itimerspec its;
	struct pollfd pfd;
	double armed_at, l, iv;
	long long v = -1;
	uint64_t t;

	test_init(argc, argv);
	once = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	expired = timerfd_create(CLOCK_BOOTTIME, 0);
	hourly = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	absolute = timerfd_create(CLOCK_REALTIME, 0);
	idle = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	fast = timerfd_create(CLOCK_MONOTONIC, 0);
	if (once < 0 || expired < 0 || hourly < 0 || absolute < 0 || idle < 0 || fast < 0) {
		fail("timerfd_create");
		return 1;
	}
	memset(&its, 0, sizeof(its));
	clock_gettime(CLOCK_REALTIME, &its.it_value);
	its.it_value.tv_sec += 100;
	if (arm(expired, 0, 0, 10000000, 0, 0) || arm(hourly, 0, 0, 10000000, 3600, 0) ||
	    timerfd_settime(absolute, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) ||
	    arm(fast, 0, 0, 50000000, 0, 50000000)) {
		fail("timerfd_settime");
		return 1;
	}
	armed_at = now_mono();
	if (arm(once, 0, ONCE_SEC, 0, 0, 0)) {
		fail("timerfd_settime");
		return 1;
	}
	usleep(100000);	/* expired and hourly have fired once */

	test_daemon();
	test_waitsig();

	/* The runner's SIGTERM comes right after restore: "once" is still pending. */
	if (now_mono() - armed_at >= ONCE_SEC)
		test_msg("warning: more than %d s between arming and SIGTERM; 'once' can't be checked for early firing\n",
			 ONCE_SEC);
	check_once(once, armed_at);

	if ((t = ticks_now(expired)) != 1)
		fail("expired: read %llu ticks, expected 1", (unsigned long long)t);
	if (left(expired, &iv) != 0 || iv != 0)
		fail("expired: armed again after restore");
	if (fdinfo_get_long(expired, "clockid", &v) || v != CLOCK_BOOTTIME)
		fail("expired: clockid %lld", v);

	if ((t = ticks_now(hourly)) != 1)
		fail("hourly: read %llu ticks, expected 1", (unsigned long long)t);
	if ((t = ticks_now(hourly)) != 0)
		fail("hourly: a second read gave %llu ticks", (unsigned long long)t);
	l = left(hourly, &iv);
	if (iv != 3600 || l > 3600 || l < 3500)
		fail("hourly: %.3f s left, interval %.3f", l, iv);

	if (fdinfo_get_long(absolute, "settime flags", &v) || v != 3)
		fail("absolute: settime flags %lld, expected 3", v);
	l = left(absolute, NULL);
	if (l > 100 || l < 90)
		fail("absolute: %.3f s left", l);

	if (left(idle, &iv) != 0 || iv != 0 || ticks_now(idle))
		fail("idle: armed after restore");
	if (fcntl(idle, F_GETFL) != (O_RDWR | O_NONBLOCK) || fcntl(once, F_GETFD) != FD_CLOEXEC ||
	    fcntl(fast, F_GETFL) != O_RDWR || fcntl(fast, F_GETFD) != 0)
		fail("file flags changed");

	if ((t = ticks_now(fast)) < 1)
		fail("fast: no ticks after restore");
	pfd = (struct pollfd){ .fd = fast, .events = POLLIN };
	if (poll(&pfd, 1, 1000) != 1 || (t = ticks_now(fast)) < 1)
		fail("fast: stopped ticking");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
