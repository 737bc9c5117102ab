// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_holes: a sparse, unlinked file keeps its holes and data where they
 * were. The file starts with a hole, has a small block of data, a run of
 * pages written with zeros (data, not a hole), 6 MiB of data, a partial
 * block, and a hole at its end past the last data. After restore the map
 * of data ranges (SEEK_DATA/SEEK_HOLE), the size, the allocated blocks and
 * the contents are as before, and the offset is kept.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MIB (1024 * 1024)
#define SIZE (24L * MIB)
#define MAX_RANGES 64
#define NR_WRITES (sizeof(writes) / sizeof(writes[0]))

struct range {
	off_t data, hole;
};

static const struct {
	off_t off;
	size_t len;
	char fill;	/* 0: zeros; else a pattern */
} writes[] = {
	{ 64 * 1024, 4096, 'a' },
	{ 1 * MIB, 3 * 4096, 0 },
	{ 3 * MIB, 6 * MIB, 'p' },
	{ 13 * MIB + 100, 100, 'q' },
};

static char pattern(off_t off, char fill)
{
	return fill ? (char)(fill + (off * 7) % 13) : 0;
}

/* The data ranges of fd; -1 when the file system can't tell. */
static int map_ranges(int fd, struct range *r)
{
	off_t pos = 0;
	int n = 0;

	while (pos < SIZE && n < MAX_RANGES) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			return -1;
		r[n].data = d;
		r[n].hole = h;
		n++;
		pos = h;
	}
	return n;
}

/* What byte off holds: the last write over it, or a zero. */
static char expected(off_t off)
{
	for (int i = (int)NR_WRITES - 1; i >= 0; i--)
		if (off >= writes[i].off && off < writes[i].off + (off_t)writes[i].len)
			return pattern(off, writes[i].fill);
	return 0;
}

int main(int argc, char **argv)
{
	struct range before[MAX_RANGES], after[MAX_RANGES];
	char name[64], *buf;
	struct stat st0, st;
	int fd, nb, na;

	test_init(argc, argv);
	buf = malloc(6 * MIB);
	snprintf(name, sizeof(name), "ghost_holes.%d", getpid());
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (!buf || fd < 0 || unlink(name)) {
		fail("setup");
		return 1;
	}
	for (size_t i = 0; i < NR_WRITES; i++) {
		for (size_t j = 0; j < writes[i].len; j++)
			buf[j] = pattern(writes[i].off + j, writes[i].fill);
		if (pwrite(fd, buf, writes[i].len, writes[i].off) != (ssize_t)writes[i].len) {
			fail("write %zu", i);
			return 1;
		}
	}
	if (ftruncate(fd, SIZE) || fsync(fd) || fstat(fd, &st0)) {
		fail("setup");
		return 1;
	}
	nb = map_ranges(fd, before);
	/* (SEEK_DATA and SEEK_HOLE move the offset) */
	if (lseek(fd, 5 * MIB + 3, SEEK_SET) < 0) {
		fail("lseek");
		return 1;
	}
	if (nb < 3) {
		fail("the file system shows %d data ranges: it can't report holes", nb);
		return 1;
	}
	for (int i = 0; i < nb; i++)
		test_msg("data %lld-%lld\n", (long long)before[i].data, (long long)before[i].hole);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fstat(fd, &st) || st.st_size != SIZE || st.st_nlink != 0)
		fail("size %lld nlink %lu, expected %ld and 0", (long long)st.st_size, (unsigned long)st.st_nlink,
		     SIZE);
	/* the holes take no room (give or take the file system's own metadata blocks) */
	if (st.st_blocks > st0.st_blocks + 128)
		fail("%lld blocks allocated, %lld before", (long long)st.st_blocks, (long long)st0.st_blocks);
	if (lseek(fd, 0, SEEK_CUR) != 5 * MIB + 3)
		fail("offset %lld, expected %d", (long long)lseek(fd, 0, SEEK_CUR), 5 * MIB + 3);
	na = map_ranges(fd, after);
	if (na != nb || memcmp(before, after, nb * sizeof(*before))) {
		fail("%d data ranges, %d before", na, nb);
		for (int i = 0; i < na; i++)
			test_msg("now data %lld-%lld\n", (long long)after[i].data, (long long)after[i].hole);
	}
	for (off_t off = 0; off < SIZE && !test_failed(); off += 6 * MIB) {
		size_t len = SIZE - off < 6 * MIB ? SIZE - off : 6 * MIB;

		if (pread(fd, buf, len, off) != (ssize_t)len) {
			fail("read at %lld", (long long)off);
			break;
		}
		for (size_t j = 0; j < len; j++) {
			if (buf[j] != expected(off + j)) {
				fail("byte %lld is %d, expected %d", (long long)(off + j), buf[j], expected(off + j));
				break;
			}
		}
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
