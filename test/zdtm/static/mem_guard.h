/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the mem_guard* tests: the guard-marker madvise, the pagemap
 * bit that shows a guard marker, and a count of this process's VMAs in a
 * range (guards must not split a mapping).
 */
#ifndef ZDTM_MEM_GUARD_H
#define ZDTM_MEM_GUARD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#define PM_GUARD (1ULL << 58)

/* 1 when the pagemap word of page `page` (4 KiB pages, absolute index) has the guard bit, 0 if not, -1 on error */
static inline int pagemap_guard(int pm, unsigned long page)
{
	uint64_t pme;

	if (pread(pm, &pme, sizeof(pme), page * sizeof(pme)) != sizeof(pme))
		return -1;
	return !!(pme & PM_GUARD);
}

/* How many VMAs of this process overlap [start, end), -1 on error. */
static inline int nr_vmas_in(const char *start, const char *end)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < (unsigned long)end && e > (unsigned long)start)
			n++;
	}
	fclose(f);
	return n;
}

#endif
