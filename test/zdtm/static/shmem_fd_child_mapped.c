// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_fd_child_mapped: the parent holds an fd of shared anonymous memory
 * (opened through /proc/self/map_files) and no mapping of it; its child maps
 * the same memory. After restore the parent's fd and the child's mapping
 * must be one object again: the child sees what the parent writes through
 * its fd and answers through its mapping.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[64], c = 0;
	volatile char *m;
	pid_t child;
	int fd;

	test_init(argc, argv);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + 4096);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fail("open %s", path);
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(fd);
		/* the child writes what the parent's fd reads, until it is killed */
		for (;;) {
			if (m[1] == 'P')
				m[2] = 'C';
			usleep(1000);
		}
	}
	munmap((void *)m, 4096);

	test_daemon();
	test_waitsig();

	if (pwrite(fd, "P", 1, 1) != 1)
		fail("pwrite");
	for (int i = 0; i < 5000 && c != 'C'; i++) {
		if (pread(fd, &c, 1, 2) != 1)
			fail("pread");
		usleep(1000);
	}
	if (c != 'C')
		fail("the fd is not the child's memory any more");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
