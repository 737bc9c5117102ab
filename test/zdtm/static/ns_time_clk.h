/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ns_time* tests: a new time namespace whose monotonic clock
 * runs MONO_OFF seconds and boot-time clock BOOT_OFF seconds ahead of the
 * host's, entered by the caller; the checks that a task is in such a one.
 *
 * The offsets are far bigger than any time a dump and restore can take:
 * after restore (criu gives the new namespace the offsets that make the
 * clocks go on from the dumped values) they are still more than half of
 * what was set, and a task put back in the host's namespace would see its
 * monotonic clock jump back by MONO_OFF.
 */
#ifndef ZDTM_NS_TIME_CLK_H
#define ZDTM_NS_TIME_CLK_H

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MONO_OFF 200000L
#define BOOT_OFF 400000L

/* after unshare(CLONE_NEWTIME): set the offsets, then enter the namespace */
static inline int timens_fill(void)
{
	char buf[64];
	int fd, len;

	len = snprintf(buf, sizeof(buf), "monotonic %ld 0\nboottime %ld 0\n", MONO_OFF, BOOT_OFF);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != len)
		return -1;
	close(fd);
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME))
		return -1;
	close(fd);
	return 0;
}

/* The offset of one clock in /proc/self/timens_offsets, or -1. */
static inline long timens_offset(const char *clock)
{
	char name[32];
	long sec, nsec, ret = -1;
	FILE *f = fopen("/proc/self/timens_offsets", "re");

	if (!f)
		return -1;
	while (fscanf(f, "%31s %ld %ld", name, &sec, &nsec) == 3)
		if (!strcmp(name, clock))
			ret = sec;
	fclose(f);
	return ret;
}

/* 0 when both clocks run far ahead of the host's (own namespace), else fail() and -1 */
static inline int timens_check(const char *who)
{
	long m = timens_offset("monotonic"), b = timens_offset("boottime");

	if (m < MONO_OFF / 2 || m > MONO_OFF || b < BOOT_OFF / 2 || b > BOOT_OFF) {
		fail("%s: clock offsets monotonic %ld, boottime %ld; expected up to %ld and %ld", who, m, b, MONO_OFF,
		     BOOT_OFF);
		return -1;
	}
	return 0;
}

#endif
