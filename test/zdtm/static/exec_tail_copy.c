// SPDX-License-Identifier: GPL-2.0
/*
 * exec_tail_copy: the last bytes of every private executable file mapping
 * come back as they were, though criu puts its remote-syscall code there
 * (past the code) while it works on the task. The runner has criu's copying threads
 * start 100 ms late and its remote brk() keep that code in the task 300 ms
 * (CRIU_FAULT=dump-copy-during-brk): a copy of the pages made while criu's
 * code is in them would bring the code back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zdtmtst.h"

#define TAIL 256
#define MAX_MAPS 64

struct tail {
	unsigned long start, end;
	unsigned char bytes[TAIL];
};

static struct tail tails[MAX_MAPS];
static int nr_tails;

static void save_tails(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	if (!f) {
		fail("fopen /proc/self/maps");
		exit(1);
	}
	while (fgets(line, sizeof(line), f) && nr_tails < MAX_MAPS) {
		unsigned long start, end;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3)
			continue;
		if (strcmp(perms, "r-xp") || !strchr(line, '/'))
			continue;
		tails[nr_tails].start = start;
		tails[nr_tails].end = end;
		memcpy(tails[nr_tails].bytes, (void *)(end - TAIL), TAIL);
		nr_tails++;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	save_tails();
	if (!nr_tails) {
		fail("no executable file mapping");
		return 1;
	}
	test_daemon();
	test_waitsig();
	for (int i = 0; i < nr_tails; i++)
		if (memcmp(tails[i].bytes, (void *)(tails[i].end - TAIL), TAIL))
			fail("the last %d bytes of %lx-%lx changed", TAIL, tails[i].start, tails[i].end);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
