// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_fd_mapped: an fd of shared anonymous memory, opened through
 * /proc/self/map_files, and the shared anonymous mapping it was opened from,
 * in one task. The dump meets the mapping before the fd; after restore both
 * must be one object again: a write through the mapping is read through the
 * fd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[64], c = 0;
	char *shared;
	int fd;

	test_init(argc, argv);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)shared,
		 (unsigned long)shared + 4096);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail("open %s", path);
		return 1;
	}
	test_daemon();
	test_waitsig();

	shared[7] = 'Z';
	if (pread(fd, &c, 1, 7) != 1 || c != 'Z')
		fail("the fd is not the shared memory any more");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
