// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of page_chain_run() (criu/page-chain.c), the dump's lookup of a
 * run of pages in the parent images: on chains of 1 to 4 levels made at
 * random (entries with gaps between them, some flagged PE_PARENT, each level
 * covering parts of the one below), page_chain_run(addr, max) must be the
 * number of pages from addr that page_chain_find() finds one after the
 * other, capped at max, for every start page and several caps.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "page-chain.h"
#include "pagemap.h"
#include "pagemap.pb-c.h"

#include "tap.h"

#define BASE 0x10000000UL
#define SPAN 512	/* pages the entries of a level may cover */

static PagemapEntry entries[PAGE_CHAIN_MAX][SPAN];
static PagemapEntry *ptrs[PAGE_CHAIN_MAX][SPAN];
static uint64_t offsets[PAGE_CHAIN_MAX][SPAN];

/* Level l: entries of 1..16 pages with gaps of 0..4 pages, one in three PE_PARENT (not the last level). */
static void make_level(struct page_chain *c, int l, bool last)
{
	struct pagemap_read *r = &c->lvl[l];
	unsigned long p = random() % 4;
	uint64_t off = 0;

	memset(r, 0, sizeof(*r));
	r->pmes = ptrs[l];
	r->offset = offsets[l];
	r->pages_fd = 100 + l;	/* never read: the test compares positions only */
	while (p < SPAN) {
		unsigned long n = 1 + random() % 16;
		PagemapEntry *pe = &entries[l][r->nr];

		if (p + n > SPAN)
			n = SPAN - p;
		pagemap_entry__init(pe);
		pe->vaddr = BASE + p * PAGE_SIZE;
		pe->has_nr_pages = true;
		pe->nr_pages = n;
		pe->has_flags = true;
		pe->flags = !last && random() % 3 == 0 ? PE_PARENT : PE_PRESENT;
		ptrs[l][r->nr] = pe;
		offsets[l][r->nr] = off;
		if (pe->flags & PE_PARENT)
			r->nr_parent++;
		else
			off += n * PAGE_SIZE;
		r->nr++;
		p += n + random() % 5;
	}
}

/* The answer page by page: how many pages from addr page_chain_find() finds in a row, at most max. */
static unsigned long run_by_pages(const struct page_chain *c, uint64_t addr, unsigned long max)
{
	unsigned long n = 0;
	off_t off;
	int fd;

	while (n < max && !page_chain_find(c, addr + n * PAGE_SIZE, &fd, &off))
		n++;
	return n;
}

int main(void)
{
	static struct page_chain c;
	static const unsigned long caps[] = { 1, 3, 17, 64, SPAN + 8 };
	unsigned long found = 0;

	srandom(17);
	for (int levels = 1; levels <= 4; levels++) {
		for (int round = 0; round < 25; round++) {
			bool same = true;
			uint64_t bad = 0;
			unsigned long want = 0, got = 0, cap = 0;

			c.nr = levels;
			for (int l = 0; l < levels; l++)
				make_level(&c, l, l == levels - 1);
			for (unsigned long p = 0; p < SPAN + 4 && same; p++) {
				for (size_t k = 0; k < ARRAY_SIZE(caps) && same; k++) {
					uint64_t addr = BASE + p * PAGE_SIZE;

					want = run_by_pages(&c, addr, caps[k]);
					got = page_chain_run(&c, addr, caps[k]);
					found += want;
					if (want != got) {
						same = false;
						bad = addr;
						cap = caps[k];
					}
				}
			}
			if (!same) {
				check(false, "%d levels, round %d: page_chain_run(%#llx, %lu) = %lu, page by page %lu", levels,
				      round, (unsigned long long)bad, cap, got, want);
				break;
			}
			if (round == 24)
				check(true, "%d levels, 25 chains: page_chain_run() agrees with page_chain_find() at every page",
				      levels);
		}
	}
	check(found > 10000, "the chains held pages to find (%lu found, summed over the queries)", found);
	c.nr = 0;
	check(page_chain_run(&c, BASE, 8) == 0, "an empty chain finds nothing");
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
