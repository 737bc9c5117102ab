// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of pages-crc.c: the CRC of a pages image put together from the
 * runs the stubs noted and the bytes no stub read. A 3 MiB file; runs noted
 * out of order, with gaps between them, at the start and at the end, one
 * overlapping the run before, one past the end, one of another file: the
 * whole matches the CRC of the file read in one go. A run noted with a wrong
 * CRC, a byte changed in a gap, the file grown or replaced: refused. A log
 * with no runs at all: the whole file is read, and it matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "pages-crc.h"
#include "tap.h"

#define SIZE (3u << 20)

static unsigned char *data;
static char dir[] = "/tmp/test-pages-crc.XXXXXX";

static int write_file(const char *name, const void *buf, size_t len)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -1;
}

static void note(struct pages_crc *pc, const struct stat *st, uint64_t off, uint64_t len, uint32_t delta)
{
	pages_crc_note(pc->log, st->st_dev, st->st_ino, off, len, crc32c(0, data + off, len) ^ delta);
}

/* Defer pages-1.img with its true CRC, note the usual runs (the first with a CRC off by bad), finish. */
static int run(int dfd, uint32_t bad, bool runs)
{
	struct pages_crc pc = {};
	struct stat st;
	int ret;

	if (fstatat(dfd, "pages-1.img", &st, 0) || pages_crc_defer(&pc, dfd, "pages-1.img", SIZE, crc32c(0, data, SIZE)) ||
	    pages_crc_log_alloc(&pc))
		return -100;
	if (runs) {
		note(&pc, &st, 2u << 20, 512u << 10, bad);	/* out of order */
		note(&pc, &st, 4096, 1u << 20, 0);		/* a gap before it: bytes 0-4095 */
		note(&pc, &st, (1u << 20) + 4096 - 8192, 8192, 0);	/* overlaps the one before: not used */
		note(&pc, &st, SIZE - 4096, 4096, 0);		/* the last page, after a gap */
		pages_crc_note(pc.log, st.st_dev, st.st_ino, SIZE - 4096, 8192, 0);	/* past the end: not used */
		pages_crc_note(pc.log, st.st_dev + 1, st.st_ino, 0, 4096, 0);	/* another file: not used */
	}
	ret = pages_crc_finish(&pc, dfd);
	pages_crc_free(&pc);
	return ret;
}

int main(void)
{
	int dfd;

	data = malloc(SIZE);
	if (!data || !mkdtemp(dir))
		return 2;
	srand(7);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = rand();
	if (write_file("pages-1.img", data, SIZE))
		return 2;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return 2;

	check(run(dfd, 0, true) == 0, "runs out of order, with gaps, overlaps and strangers: the whole file's CRC");
	check(run(dfd, 0, false) == 0, "no runs noted: the file read whole matches");
	check(run(dfd, 1, true) == -EINVAL, "a run noted with a wrong CRC: refused");

	data[100] ^= 1;	/* in the gap before the first run */
	check(!write_file("pages-1.img", data, SIZE), "a byte of a gap changed");
	data[100] ^= 1;
	{
		struct pages_crc pc = {};

		check(!pages_crc_defer(&pc, dfd, "pages-1.img", SIZE, crc32c(0, data, SIZE)) && !pages_crc_log_alloc(&pc) &&
			      pages_crc_finish(&pc, dfd) == -EINVAL,
		      "a byte changed where no stub read: refused");
		pages_crc_free(&pc);
	}
	check(!write_file("pages-1.img", data, SIZE), "the file put back");
	{
		struct pages_crc pc = {};
		int ret = pages_crc_defer(&pc, dfd, "pages-1.img", SIZE, crc32c(0, data, SIZE));

		/* replaced by another file after the manifest check: another inode */
		if (!ret && !write_file("pages-2.img", data, SIZE))
			ret = renameat(dfd, "pages-2.img", dfd, "pages-1.img");
		check(!ret && pages_crc_finish(&pc, dfd) == -EINVAL, "the file replaced after the check: refused");
		pages_crc_free(&pc);
	}
	{
		struct pages_crc pc = {};
		int ret = pages_crc_defer(&pc, dfd, "pages-1.img", SIZE, crc32c(0, data, SIZE));
		int fd = openat(dfd, "pages-1.img", O_WRONLY | O_APPEND);

		ret = ret ?: fd < 0 || write(fd, "x", 1) != 1;
		if (fd >= 0)
			close(fd);
		check(!ret && pages_crc_finish(&pc, dfd) == -EINVAL, "the file grown after the check: refused");
		pages_crc_free(&pc);
	}
	unlinkat(dfd, "pages-1.img", 0);
	close(dfd);
	rmdir(dir);
	free(data);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
