// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_exe_refused: the test runs as a copy of its own program in shared
 * anonymous memory, executed through its /proc/self/map_files file
 * (execveat), so its exe is "/dev/zero (deleted)". The restore can't give
 * that back (it makes such memory with a writable open file, and the kernel
 * sets no exe that a file can write): the dump must refuse it, naming it,
 * and the task must still run that exe after.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MARK "ZDTM_SHMEM_EXE"
#define LINK "/dev/zero (deleted)"

extern char **environ;

/* Copy our program into shared anonymous memory and run it from there; returns only on failure. */
static void reexec(char **argv)
{
	char path[64];
	struct stat st;
	ssize_t got = 0;
	size_t len;
	int src, fd;
	char *m;

	src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st))
		return;
	len = (st.st_size + 4095) & ~4095UL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	while (got < st.st_size) {
		ssize_t n = read(src, m + got, st.st_size - got);

		if (n <= 0)
			return;
		got += n;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	munmap(m, len);
	setenv(MARK, "1", 1);
	syscall(__NR_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}

static int exe_is_shmem(void)
{
	char link[64];
	ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);

	if (n < 0)
		return 0;
	link[n] = '\0';
	return !strcmp(link, LINK);
}

int main(int argc, char **argv)
{
	if (!getenv(MARK))
		reexec(argv);
	test_init(argc, argv);
	if (!getenv(MARK) || !exe_is_shmem()) {
		fail("the test does not run from shared anonymous memory");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!exe_is_shmem())
		fail("the exe is not the shared anonymous memory any more");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
