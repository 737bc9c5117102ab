// SPDX-License-Identifier: GPL-2.0
/*
 * file_offset: regular files open at an offset. After restore:
 *  - fd A (O_RDWR) is at offset 1234 on the same file, with the same flags;
 *  - fd B, a dup of A, still shares A's offset (one open file);
 *  - fd C, a separate read-only open of the same file,
 *    keeps its own offset 4000 and does not follow A;
 *  - reading at the offsets returns the file's bytes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FILE_NAME "file_offset.data"
#define FILE_LEN 8192
#define OFF_A 1234
#define OFF_C 4000

static unsigned char byte_at(off_t off)
{
	return (unsigned char)((off * 31) ^ (off >> 7));
}

static int check_read(int fd, off_t off, const char *what)
{
	unsigned char buf[100];

	errno = 0;
	if (read(fd, buf, sizeof(buf)) != sizeof(buf)) {
		fail("%s: short read at %lld", what, (long long)off);
		return -1;
	}
	for (size_t i = 0; i < sizeof(buf); i++) {
		if (buf[i] != byte_at(off + i)) {
			fail("%s: byte at %lld is %#x, expected %#x", what, (long long)(off + i),
			     buf[i], byte_at(off + i));
			return -1;
		}
	}
	return 0;
}

static void check_fd(int fd, const char *what, int flags, const struct stat *want)
{
	struct stat st;

	if (fstat(fd, &st)) {
		fail("%s: fstat", what);
		return;
	}
	errno = 0;
	if (!S_ISREG(st.st_mode) || st.st_ino != want->st_ino || st.st_dev != want->st_dev)
		fail("%s: not the same file any more", what);
	if (st.st_size != FILE_LEN)
		fail("%s: size %lld, expected %d", what, (long long)st.st_size, FILE_LEN);
	if (fcntl(fd, F_GETFL) != flags)
		fail("%s: flags %o, expected %o", what, fcntl(fd, F_GETFL), flags);
	if (fcntl(fd, F_GETFD) != FD_CLOEXEC)
		fail("%s: close-on-exec lost", what);
}

int main(int argc, char **argv)
{
	unsigned char data[FILE_LEN];
	int a, b, c, aflags, cflags;
	struct stat st;
	off_t off;

	test_init(argc, argv);
	for (off_t i = 0; i < FILE_LEN; i++)
		data[i] = byte_at(i);
	a = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (a < 0 || write(a, data, FILE_LEN) != FILE_LEN) {
		fail("create " FILE_NAME);
		return 1;
	}
	b = fcntl(a, F_DUPFD_CLOEXEC, 20);
	c = open(FILE_NAME, O_RDONLY | O_CLOEXEC);
	if (b < 0 || c < 0) {
		fail("dup/open");
		return 1;
	}
	if (lseek(a, OFF_A, SEEK_SET) != OFF_A || lseek(c, OFF_C, SEEK_SET) != OFF_C) {
		fail("lseek");
		return 1;
	}
	aflags = fcntl(a, F_GETFL);
	cflags = fcntl(c, F_GETFL);
	if (fstat(a, &st)) {
		fail("fstat");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_fd(a, "fd A", aflags, &st);
	check_fd(b, "fd B (dup of A)", aflags, &st);
	check_fd(c, "fd C", cflags, &st);
	errno = 0;
	if ((off = lseek(a, 0, SEEK_CUR)) != OFF_A)
		fail("fd A: offset %lld, expected %d", (long long)off, OFF_A);
	if ((off = lseek(b, 0, SEEK_CUR)) != OFF_A)
		fail("fd B: offset %lld, expected %d", (long long)off, OFF_A);
	if ((off = lseek(c, 0, SEEK_CUR)) != OFF_C)
		fail("fd C: offset %lld, expected %d", (long long)off, OFF_C);

	/* reading through A moves B (shared file), not C */
	if (!check_read(a, OFF_A, "fd A")) {
		errno = 0;
		if ((off = lseek(b, 0, SEEK_CUR)) != OFF_A + 100)
			fail("fd B does not share A's offset any more (%lld)", (long long)off);
		if ((off = lseek(c, 0, SEEK_CUR)) != OFF_C)
			fail("fd C follows A's offset (%lld)", (long long)off);
	}
	check_read(c, OFF_C, "fd C");
	if (write(c, data, 1) != -1 || errno != EBADF)
		fail("fd C is writable: its access mode changed");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
