// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_huge_fd_refused: an fd of shared anonymous hugetlb memory
 * (MAP_HUGETLB), opened through /proc/self/map_files, and its mapping. It
 * is not restored (a copy of it would be another object, on another
 * filesystem): the dump must refuse it, naming it, even with a ghost limit
 * that the copy would fit in, and the fd must still be the mapping's
 * memory after.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (2UL << 20)

int main(int argc, char **argv)
{
	char path[64], c = 0;
	char *m;
	int fd;

	test_init(argc, argv);
	m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m == MAP_FAILED) {
		fail("mmap(MAP_HUGETLB)");
		return 1;
	}
	m[0] = 'a';
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + LEN);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail("open %s", path);
		return 1;
	}

	test_daemon();
	test_waitsig();

	m[7] = 'Z';
	if (pread(fd, &c, 1, 7) != 1 || c != 'Z')
		fail("the fd is not the mapping's memory any more");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
