// SPDX-License-Identifier: GPL-2.0
/*
 * mem_guard01: many guard runs in one big sparse reservation. A private
 * anonymous MAP_NORESERVE mapping of 16 GiB, untouched but for 80 guard
 * runs: 40 single guard pages every other page at its start (more runs than
 * one PAGEMAP_SCAN call hands back), 20 runs of 3 pages in its middle, 20 at
 * its end, with a data page before each middle run. After restore pagemap
 * shows guard markers on exactly those pages (and on none of their
 * neighbours), the data is there, and the mapping is still one VMA.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "mem_guard.h"

#define PAGE 4096UL
#define SIZE (16UL << 30)
#define NR_PAGES (SIZE / PAGE)

struct run {
	unsigned long first, len;	/* in pages from the start of the mapping */
};

static struct run runs[80];
static int nr_runs;

static void add(unsigned long first, unsigned long len)
{
	runs[nr_runs].first = first;
	runs[nr_runs].len = len;
	nr_runs++;
}

static int guard_of(int pm, char *base, unsigned long page)
{
	return pagemap_guard(pm, (unsigned long)base / PAGE + page);
}

/* every run is guard pages and the page before and after each is not */
static void check(char *base, const char *when)
{
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pm < 0) {
		fail("%s: pagemap", when);
		return;
	}
	for (int i = 0; i < nr_runs; i++) {
		unsigned long f = runs[i].first, l = runs[i].len;

		for (unsigned long p = f; p < f + l; p++)
			if (guard_of(pm, base, p) != 1)
				fail("%s: page %lu of run %d is not a guard", when, p, i);
		if (f > 0 && guard_of(pm, base, f - 1) != 0)
			fail("%s: page %lu before run %d is a guard", when, f - 1, i);
		if (f + l < NR_PAGES && guard_of(pm, base, f + l) != 0)
			fail("%s: page %lu after run %d is a guard", when, f + l, i);
	}
	close(pm);
	for (int i = 40; i < 60; i++) {
		char want[64];

		snprintf(want, sizeof(want), "data before run %d", i);
		if (strcmp(base + (runs[i].first - 1) * PAGE, want))
			fail("%s: the data page before run %d is lost", when, i);
	}
	if (nr_vmas_in(base, base + SIZE) != 1)
		fail("%s: the mapping is %d VMAs, expected 1", when, nr_vmas_in(base, base + SIZE));
}

int main(int argc, char **argv)
{
	char *base;

	test_init(argc, argv);
	base = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	for (int i = 0; i < 40; i++)
		add(1 + 2 * i, 1);
	for (int i = 0; i < 20; i++)
		add(NR_PAGES / 2 + 1000 * i + 1, 3);
	for (int i = 0; i < 20; i++)
		add(NR_PAGES - 200 + 8 * i + 2, 3);
	for (int i = 40; i < 60; i++)
		snprintf(base + (runs[i].first - 1) * PAGE, PAGE, "data before run %d", i);
	for (int i = 0; i < nr_runs; i++)
		if (madvise(base + runs[i].first * PAGE, runs[i].len * PAGE, MADV_GUARD_INSTALL)) {
			fail("madvise(MADV_GUARD_INSTALL) of run %d", i);
			return 1;
		}
	check(base, "before dump");
	if (test_failed())
		return 1;

	test_daemon();
	test_waitsig();

	check(base, "after restore");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
