// SPDX-License-Identifier: GPL-2.0
/*
 * mem_ksm_refused: KSM merging of the whole process, prctl(PR_SET_MEMORY_MERGE)
 * (every mapping, also those made later, is mergeable): no image field holds
 * it, so the dump must refuse it, naming it, and leave the task as it was:
 * PR_GET_MEMORY_MERGE still 1, a mapping made after the failed dump still
 * gets VmFlags "mg".
 */
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

int main(int argc, char **argv)
{
	char *p;

	test_init(argc, argv);

	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) || prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1) {
		fail("prctl(PR_SET_MEMORY_MERGE)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1)
		fail("PR_GET_MEMORY_MERGE is not 1 any more");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	else if (test_vmflag(p, "mg") != 1)
		fail("a new mapping is not mergeable");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
