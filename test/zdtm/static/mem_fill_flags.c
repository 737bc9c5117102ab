// SPDX-License-Identifier: GPL-2.0
/*
 * mem_fill_flags: private anonymous memory that the restore fills (with
 * UFFDIO_COPY where the kernel allows it) comes back with the VMAs it had:
 * a fully written 8 MiB mapping, a sparse one (every third page written),
 * one split in two by mprotect() and one with MADV_DONTFORK. After restore:
 *  - the /proc/self/smaps records (range, permissions, VmFlags) that cover
 *    these mappings are the ones read before the dump, line for line;
 *  - no VMA of the task has a userfaultfd flag (um, uw, ui) in VmFlags;
 *  - the written pages hold their data, the others are zero, and a page
 *    never written can be written (its fault is an ordinary one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR_REGIONS 4
#define MAX_LINES 64

struct region {
	const char *name;
	size_t pages;
	int every;		/* page i is written when i % every == 0 */
	char *addr;
};

static struct region regions[NR_REGIONS] = {
	{ "full 8 MiB", 2048, 1, NULL },
	{ "sparse", 768, 3, NULL },
	{ "split by mprotect", 512, 1, NULL },
	{ "dontfork", 256, 1, NULL },
};

static long page;
static uint64_t seed;

static uint64_t tag_of(const struct region *r, size_t i)
{
	return seed ^ ((uint64_t)(r - regions) << 40) ^ i;
}

/*
 * The smaps records ("start-end perms VmFlags...") of the VMAs that overlap the
 * regions, in order, each range cut to the regions it overlaps: a split or a
 * flag inside the regions shows, a neighbour of ours merged into a region's VMA
 * (restore may merge VMAs that were apart only by their fork history) does not.
 */
static int read_records(char lines[][256], int *ret_nr, bool *ret_uffd_flag)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[1024], head[128] = "";
	bool want = false;
	int nr = 0;

	if (!f)
		return -1;
	*ret_uffd_flag = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perms[8];

		if (strncmp(line, "VmFlags:", 8)) {
			if (sscanf(line, "%lx-%lx %7s ", &s, &e, perms) == 3 && strchr(line, ' ') < strchr(line, ':')) {
				unsigned long lo = ~0UL, hi = 0;

				want = false;
				for (int i = 0; i < NR_REGIONS; i++) {
					unsigned long rs = (unsigned long)regions[i].addr, re = rs + regions[i].pages * page;

					if (s < re && rs < e) {
						want = true;
						lo = rs < lo ? rs : lo;
						hi = re > hi ? re : hi;
					}
				}
				snprintf(head, sizeof(head), "%lx-%lx %s", s > lo ? s : lo, e < hi ? e : hi, perms);
			}
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, " um") || strstr(line, " uw") || strstr(line, " ui"))
			*ret_uffd_flag = true;
		if (!want)
			continue;
		if (nr == MAX_LINES) {
			fclose(f);
			return -1;
		}
		snprintf(lines[nr++], 256, "%s %.120s", head, line + 8);
	}
	fclose(f);
	*ret_nr = nr;
	return 0;
}

static int setup(struct region *r)
{
	r->addr = mmap(NULL, r->pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->addr == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < r->pages; i += r->every)
		pattern_fill(r->addr + i * page, page, tag_of(r, i));
	if (!strcmp(r->name, "split by mprotect"))
		return mprotect(r->addr + r->pages / 2 * page, r->pages / 2 * page, PROT_READ);
	if (!strcmp(r->name, "dontfork"))
		return madvise(r->addr, r->pages * page, MADV_DONTFORK);
	return 0;
}

static bool zero_page(const char *p)
{
	for (long i = 0; i < page; i++)
		if (p[i])
			return false;
	return true;
}

static void check_data(const struct region *r)
{
	for (size_t i = 0; i < r->pages; i++) {
		const char *p = r->addr + i * page;

		if (i % r->every == 0 && pattern_check(p, page, tag_of(r, i)) >= 0) {
			fail("%s: page %zu changed", r->name, i);
			return;
		}
		if (i % r->every && !zero_page(p)) {
			fail("%s: page %zu was never written and is not zero", r->name, i);
			return;
		}
	}
	if (r->every > 1) {
		char *p = r->addr + page;	/* never written */

		memset(p, 0x5a, page);
		if (p[page - 1] != 0x5a)
			fail("%s: a page never written can't be written", r->name);
	}
}

int main(int argc, char **argv)
{
	static char before[MAX_LINES][256], after[MAX_LINES][256];
	int nr_before, nr_after;
	bool uffd_flag;

	test_init(argc, argv);
	page = sysconf(_SC_PAGESIZE);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);

	for (int i = 0; i < NR_REGIONS; i++)
		if (setup(&regions[i])) {
			fail("can't set up %s", regions[i].name);
			return 1;
		}
	if (read_records(before, &nr_before, &uffd_flag)) {
		fail("can't read /proc/self/smaps");
		return 1;
	}
	if (uffd_flag) {
		fail("a userfaultfd flag before the dump");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (read_records(after, &nr_after, &uffd_flag)) {
		fail("can't read /proc/self/smaps");
		return 1;
	}
	if (uffd_flag)
		fail("a VMA has a userfaultfd flag (um, uw or ui) after restore");
	if (nr_after != nr_before)
		fail("%d smaps records over the mappings after restore, %d before", nr_after, nr_before);
	for (int i = 0; i < nr_before && i < nr_after; i++)
		if (strcmp(before[i], after[i]))
			fail("smaps record %d: \"%s\" after restore, \"%s\" before", i, after[i], before[i]);
	for (int i = 0; i < NR_REGIONS; i++)
		check_data(&regions[i]);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
