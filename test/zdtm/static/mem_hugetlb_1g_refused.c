// SPDX-License-Identifier: GPL-2.0
/*
 * mem_hugetlb_1g_refused: a MAP_HUGETLB mapping of 1 GiB pages (made with
 * MAP_NORESERVE, so that no page is needed). Only 2 MiB pages are
 * restored: the dump must refuse it, naming the page size, and leave the
 * task running with the mapping as it was.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif
#define GB (1UL << 30)

int main(int argc, char **argv)
{
	void *p;

	test_init(argc, argv);
	p = mmap(NULL, GB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap of 1 GiB hugetlb pages (MAP_NORESERVE)");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (test_vmflag(p, "ht") != 1)
		fail("the 1 GiB hugetlb mapping is gone after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
