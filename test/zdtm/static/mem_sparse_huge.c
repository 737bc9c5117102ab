// SPDX-License-Identifier: GPL-2.0
/*
 * mem_sparse_huge: a 16 TiB MAP_NORESERVE mapping with a few pages written
 * far apart (the shape of ASan's shadow, or of a runtime's reserved heap)
 * is dumped and restored within the .desc's timeout, the written pages hold
 * their data and the rest reads as zeroes. Reading pagemap word by word
 * over 16 TiB took longer than the timeout (criu uses PAGEMAP_SCAN).
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define SIZE (16ULL << 40)
#define NR_SPOTS 64

static uint64_t spot(int i)
{
	/* spread over the whole mapping, page aligned */
	return ((uint64_t)i * (SIZE / NR_SPOTS) + (uint64_t)i * 7 * 4096) & ~4095ULL;
}

int main(int argc, char **argv)
{
	uint8_t *mem;
	int bad = 0;

	test_init(argc, argv);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap of 16 TiB (MAP_NORESERVE)");
		return 1;
	}
	for (int i = 0; i < NR_SPOTS; i++)
		*(uint64_t *)(mem + spot(i)) = 0x5eed0000ULL + i;

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR_SPOTS; i++) {
		if (*(uint64_t *)(mem + spot(i)) != 0x5eed0000ULL + i)
			bad++;
		if (*(uint64_t *)(mem + spot(i) + 4096) != 0)
			bad++;
	}
	if (bad) {
		fail("%d words of the sparse mapping differ", bad);
		return 1;
	}
	pass();
	return 0;
}
