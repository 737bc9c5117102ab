// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_limit_refused: a removed file of 2 GiB with 1 MiB of data at each
 * end and a hole between: 2 MiB of data (its allocated blocks, as CRIU
 * counts), over CRIU's default --ghost-limit, 1M, so the dump must refuse
 * it; after it the file's size, data and hole are as before.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define CHUNK (1024 * 1024)
#define HOLE (1024LL * 1024 * 1024)
#define SIZE (2 * HOLE)

static void fill(char *buf, char seed)
{
	for (int i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 7 + seed);
}

int main(int argc, char **argv)
{
	char name[64], *buf = malloc(CHUNK), *back = malloc(CHUNK);
	struct stat st;
	int fd;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_limit.%d", getpid());
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (!buf || !back || fd < 0 || unlink(name) || ftruncate(fd, SIZE)) {
		fail("setup");
		return 1;
	}
	fill(buf, 1);
	if (pwrite(fd, buf, CHUNK, 0) != CHUNK) {
		fail("write");
		return 1;
	}
	fill(buf, 2);
	if (pwrite(fd, buf, CHUNK, SIZE - CHUNK) != CHUNK || fsync(fd)) {
		fail("write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || st.st_size != SIZE || st.st_nlink != 0)
		fail("size or nlink changed");
	if (lseek(fd, CHUNK, SEEK_HOLE) != CHUNK || lseek(fd, CHUNK, SEEK_DATA) != SIZE - CHUNK)
		fail("the hole moved");
	fill(buf, 1);
	if (pread(fd, back, CHUNK, 0) != CHUNK || memcmp(buf, back, CHUNK))
		fail("the first data changed");
	fill(buf, 2);
	if (pread(fd, back, CHUNK, SIZE - CHUNK) != CHUNK || memcmp(buf, back, CHUNK))
		fail("the last data changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
