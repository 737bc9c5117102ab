// SPDX-License-Identifier: GPL-2.0
/*
 * mem_large: 256 MiB of patterned anonymous memory, with a hole of untouched
 * pages in the middle, survives restore: every page holds its pattern, the
 * untouched pages still read as zeroes, and the mapping keeps its address.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE (256UL << 20)
#define PG 4096UL
#define HOLE_START (100UL << 20)
#define HOLE_END (110UL << 20)

static uint64_t word(uint64_t off, uint64_t seed)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ seed;
}

int main(int argc, char **argv)
{
	uint64_t seed, bad = 0, first_bad = 0;
	uint8_t *mem;

	test_init(argc, argv);
	seed = (uint64_t)getpid() << 32 | 0x5a5a;
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	/* one word in every 512 bytes: every page is touched, except the hole */
	for (uint64_t off = 0; off < SIZE; off += 512) {
		if (off >= HOLE_START && off < HOLE_END)
			continue;
		*(uint64_t *)(mem + off) = word(off, seed);
	}

	test_daemon();
	test_waitsig();

	for (uint64_t off = 0; off < SIZE; off += 512) {
		uint64_t want = (off >= HOLE_START && off < HOLE_END) ? 0 : word(off, seed);

		if (*(uint64_t *)(mem + off) != want) {
			if (!bad++)
				first_bad = off;
		}
	}
	errno = 0;
	if (bad)
		fail("%llu words differ, the first at offset %#llx", (unsigned long long)bad,
		     (unsigned long long)first_bad);
	{
		unsigned char vec[(HOLE_END - HOLE_START) / PG];

		/* reading the hole above may have faulted zero pages in; that is fine */
		if (mincore(mem + HOLE_START, HOLE_END - HOLE_START, vec))
			fail("mincore: the mapping is gone");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
