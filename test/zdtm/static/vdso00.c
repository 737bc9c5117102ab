// SPDX-License-Identifier: GPL-2.0
/*
 * vdso00: time through the vDSO keeps working after restore.
 *  - [vdso] is still mapped where the auxv (AT_SYSINFO_EHDR) says, with
 *    [vvar] right before it;
 *  - clock_gettime (glibc goes through the vDSO) works for several clocks and
 *    agrees with the raw syscall;
 *  - CLOCK_MONOTONIC has not gone backwards across the checkpoint;
 *  - gettimeofday and time agree with CLOCK_REALTIME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NSEC 1000000000LL

static long long ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC + ts->tv_nsec;
}

/* start and end of the named mapping ("[vdso]"), 0 or -ENOENT */
static int find_vma(const char *name, unsigned long *ret_start, unsigned long *ret_end)
{
	char buf[512];
	unsigned long s, e;
	int ret = -ENOENT;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		size_t len = strlen(buf), nlen = strlen(name);

		if (len < nlen || strcmp(buf + len - nlen, name))
			continue;
		if (sscanf(buf, "%lx-%lx", &s, &e) != 2)
			continue;
		*ret_start = s;
		*ret_end = e;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static void check_clock(clockid_t clk, const char *name)
{
	struct timespec v1, sys, v2;

	if (clock_gettime(clk, &v1) || syscall(SYS_clock_gettime, clk, &sys) ||
	    clock_gettime(clk, &v2)) {
		fail("clock_gettime(%s)", name);
		return;
	}
	errno = 0;
	/* vdso, syscall, vdso: the syscall value must sit in between */
	if (ts_ns(&sys) < ts_ns(&v1) || ts_ns(&v2) < ts_ns(&sys) ||
	    ts_ns(&v2) - ts_ns(&v1) > NSEC)
		fail("%s: vdso %lld.%09ld, syscall %lld.%09ld, vdso %lld.%09ld", name,
		     (long long)v1.tv_sec, v1.tv_nsec, (long long)sys.tv_sec, sys.tv_nsec,
		     (long long)v2.tv_sec, v2.tv_nsec);
}

int main(int argc, char **argv)
{
	static const char *const specials[] = { "[vvar]", "[vvar_vclock]", "[vdso]" };
	unsigned long start[3], end[3], s, e, auxv_vdso;
	int present[3];
	struct timespec mono_before, mono_after, rt;
	struct timeval tv;
	time_t t;

	test_init(argc, argv);
	auxv_vdso = getauxval(AT_SYSINFO_EHDR);
	for (int i = 0; i < 3; i++)
		present[i] = !find_vma(specials[i], &start[i], &end[i]);
	if (!auxv_vdso || !present[2]) {
		fail("no vdso in this process");
		return 1;
	}
	if (start[2] != auxv_vdso) {
		fail("[vdso] at %lx, auxv says %lx", start[2], auxv_vdso);
		return 1;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &mono_before)) {
		fail("clock_gettime");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* [vvar], [vvar_vclock] (if the kernel has it) and [vdso] where they were */
	for (int i = 0; i < 3; i++) {
		int found = !find_vma(specials[i], &s, &e);

		errno = 0;
		if (found != present[i])
			fail("%s %s after restore", specials[i], found ? "appeared" : "is gone");
		else if (found && (s != start[i] || e != end[i]))
			fail("%s at %lx-%lx, was %lx-%lx", specials[i], s, e, start[i], end[i]);
	}
	if (getauxval(AT_SYSINFO_EHDR) != auxv_vdso)
		fail("AT_SYSINFO_EHDR changed");

	if (clock_gettime(CLOCK_MONOTONIC, &mono_after)) {
		fail("clock_gettime after restore");
	} else {
		errno = 0;
		if (ts_ns(&mono_after) < ts_ns(&mono_before))
			fail("CLOCK_MONOTONIC went backwards: %lld -> %lld", ts_ns(&mono_before),
			     ts_ns(&mono_after));
	}
	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	check_clock(CLOCK_REALTIME, "CLOCK_REALTIME");
	check_clock(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
	for (int i = 0; i < 100000; i++)
		clock_gettime(CLOCK_MONOTONIC, &mono_after);

	if (gettimeofday(&tv, NULL) || clock_gettime(CLOCK_REALTIME, &rt) || (t = time(NULL)) < 0) {
		fail("gettimeofday/time");
	} else {
		errno = 0;
		/*
		 * time() reads the coarse clock, which is updated once per tick and can trail
		 * CLOCK_REALTIME: right after a second begins it may still give the last one.
		 */
		if (rt.tv_sec - tv.tv_sec > 1 || rt.tv_sec < tv.tv_sec || t - rt.tv_sec > 1 ||
		    rt.tv_sec - t > 1)
			fail("gettimeofday %lld, clock_gettime %lld, time %lld disagree",
			     (long long)tv.tv_sec, (long long)rt.tv_sec, (long long)t);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
