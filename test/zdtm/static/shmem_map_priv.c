// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_map_priv: shared anonymous memory opened as a file through
 * /proc/self/map_files, mapped privately from that file and the file closed:
 * no fd of it is left, only the shared mapping and the private one. After
 * restore the private mapping must still be of the same object: its written
 * page keeps its own bytes, and its unwritten pages show what is written
 * through the shared mapping.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG 4096

/* the int at the start of page i of a mapping */
#define AT(m, i) (*(volatile int *)((char *)(m) + (i) * PG))

int main(int argc, char **argv)
{
	void *shared, *priv;
	char path[64];
	int fd;

	test_init(argc, argv);
	shared = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	AT(shared, 0) = 1;
	AT(shared, 1) = 11;
	AT(shared, 2) = 111;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)shared,
		 (unsigned long)shared + 3 * PG);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail("open %s", path);
		return 1;
	}
	priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
	if (priv == MAP_FAILED) {
		fail("mmap of the file");
		return 1;
	}
	close(fd);
	AT(priv, 0) = 22;	/* page 1 of the object, copied: the task's own */

	test_daemon();
	test_waitsig();

	if (AT(priv, 0) != 22)
		fail("the written page of the private mapping lost its bytes");
	if (AT(priv, 1) != 111)
		fail("the unwritten page of the private mapping is not the object's");
	AT(shared, 2) = 333;
	if (AT(priv, 1) != 333)
		fail("the unwritten page of the private mapping does not show the shared mapping's write");
	AT(shared, 1) = 444;
	if (AT(priv, 0) != 22)
		fail("the written page of the private mapping is not private");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
