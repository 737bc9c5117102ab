// SPDX-License-Identifier: GPL-2.0
/*
 * memfd00: memfds keep their name, contents, size, seals, mode, flags and
 * positions, and files of one memfd stay on one inode.
 *  - sealed: "zdtm sealed one", MFD_ALLOW_SEALING, 3 pages + 100 bytes of a
 *    pattern, a hole, then a page at 1 MiB + 7; position 1234; sealed with
 *    SHRINK|GROW|WRITE after filling: writes and resizes still fail;
 *  - plain: no MFD_ALLOW_SEALING (F_GET_SEALS gives F_SEAL_SEAL, and adding a
 *    seal still fails), shared with a child, plus a second open file of it
 *    (a read-only reopen through /proc with its own position); after restore
 *    the child writes through its fd, which moves the position it shares
 *    with the parent, and the parent reads it through the reopen;
 *  - mapped: a memfd mapped MAP_SHARED, written through the mapping; its fd
 *    is kept: after restore a write through the fd shows in the mapping and a
 *    store to the mapping shows through the fd (one inode);
 *  - unmapped-only: a memfd that is only mapped (its fd closed) keeps its data;
 *  - noexec: MFD_NOEXEC_SEAL (mode 0666, F_SEAL_EXEC) plus F_SEAL_FUTURE_WRITE:
 *    mode and seals kept, chmod +x and writes refused.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096
#define SEALED_HEAD (3 * PAGE + 100)
#define FAR_OFF (1024 * 1024 + 7)
#define FAR_LEN PAGE
#define MAP_LEN (4 * PAGE)

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static unsigned char pat(size_t i, unsigned int seed)
{
	return (unsigned char)(i * 13 + seed + (i >> 9));
}

static int fill(int fd, off_t off, size_t len, unsigned int seed)
{
	unsigned char buf[PAGE];

	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pat(done + i, seed);
		if (pwrite(fd, buf, n, off + done) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

static int check(int fd, off_t off, size_t len, unsigned int seed, const char *what)
{
	unsigned char buf[PAGE];

	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		if (pread(fd, buf, n, off + done) != (ssize_t)n) {
			fail("%s: short read at %zu", what, (size_t)off + done);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (buf[i] != pat(done + i, seed)) {
				fail("%s: byte %zu is %#x, expected %#x", what, (size_t)off + done + i, buf[i],
				     pat(done + i, seed));
				return -1;
			}
		done += n;
	}
	return 0;
}

static int zeros(int fd, off_t off, size_t len)
{
	unsigned char buf[PAGE];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (pread(fd, buf, n, off) != (ssize_t)n)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (buf[i])
				return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static void check_link(int fd, const char *name)
{
	char path[64], link[256], want[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, want))
		fail("fd %d links to '%s', expected '%s'", fd, link, want);
}

int main(int argc, char **argv)
{
	int sealed, plain, plain_ro, mapped, only_fd, noexec, status;
	unsigned int seed = getpid();
	struct stat st, st2;
	char *map, *only, got4[4];
	pid_t child;
	char c;

	test_init(argc, argv);
	sealed = memfd_create("zdtm sealed one", MFD_ALLOW_SEALING);
	plain = memfd_create("plain", MFD_CLOEXEC);
	mapped = memfd_create("mapped", 0);
	only_fd = memfd_create("only mapped", 0);
	if (sealed < 0 || plain < 0 || mapped < 0 || only_fd < 0) {
		fail("memfd_create");
		return 1;
	}
	noexec = memfd_create("noexec", MFD_NOEXEC_SEAL | MFD_CLOEXEC);
	if (noexec < 0 || write(noexec, "data", 4) != 4 || fcntl(noexec, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)) {
		fail("noexec memfd");
		return 1;
	}
	if (fill(sealed, 0, SEALED_HEAD, seed) || fill(sealed, FAR_OFF, FAR_LEN, seed + 1) ||
	    fcntl(sealed, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) ||
	    lseek(sealed, 1234, SEEK_SET) != 1234) {
		fail("sealed setup");
		return 1;
	}
	if (fill(plain, 0, 5000, seed + 2) || lseek(plain, 17, SEEK_SET) != 17) {
		fail("plain setup");
		return 1;
	}
	{
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d", plain);
		plain_ro = open(p, O_RDONLY);
		if (plain_ro < 0 || lseek(plain_ro, 4000, SEEK_SET) != 4000) {
			fail("reopen plain");
			return 1;
		}
	}
	if (ftruncate(mapped, MAP_LEN) || ftruncate(only_fd, MAP_LEN)) {
		fail("ftruncate");
		return 1;
	}
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mapped, 0);
	only = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, only_fd, 0);
	if (map == MAP_FAILED || only == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	for (size_t i = 0; i < MAP_LEN; i++) {
		map[i] = pat(i, seed + 3);
		only[i] = pat(i, seed + 4);
	}
	close(only_fd);

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		/* wait until the parent writes 'G' at 6000 */
		for (int i = 0; i < 1000; i++) {
			if (pread(plain, &c, 1, 6000) == 1 && c == 'G') {
				/* at the offset it shares with the parent (17) */
				if (write(plain, "child was here", 14) != 14)
					_exit(2);
				_exit(0);
			}
			usleep(10000);
		}
		_exit(3);
	}

	test_daemon();
	test_waitsig();

	/* sealed */
	check_link(sealed, "zdtm sealed one");
	if (fstat(sealed, &st) || st.st_size != FAR_OFF + FAR_LEN)
		fail("sealed: size %lld, expected %d", (long long)st.st_size, FAR_OFF + FAR_LEN);
	if ((st.st_mode & 07777) != 0777)
		fail("sealed: mode %o", st.st_mode & 07777);
	check(sealed, 0, SEALED_HEAD, seed, "sealed head");
	if (zeros(sealed, SEALED_HEAD, FAR_OFF - SEALED_HEAD))
		fail("sealed: the hole is not zeros");
	check(sealed, FAR_OFF, FAR_LEN, seed + 1, "sealed tail");
	if (fcntl(sealed, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		fail("sealed: seals %#x", fcntl(sealed, F_GET_SEALS));
	errno = 0;
	if (pwrite(sealed, "x", 1, 0) != -1 || errno != EPERM)
		fail("sealed: a write was not refused");
	if (ftruncate(sealed, 10) == 0)
		fail("sealed: shrinking was not refused");
	if (lseek(sealed, 0, SEEK_CUR) != 1234)
		fail("sealed: position %lld", (long long)lseek(sealed, 0, SEEK_CUR));
	if (fcntl(sealed, F_GETFD) != 0 || (fcntl(sealed, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("sealed: flags");

	/* plain, shared with the child, and its read-only reopen */
	check_link(plain, "plain");
	if (fcntl(plain, F_GET_SEALS) != F_SEAL_SEAL)
		fail("plain: seals %#x, expected F_SEAL_SEAL only", fcntl(plain, F_GET_SEALS));
	if (fcntl(plain, F_ADD_SEALS, F_SEAL_GROW) == 0)
		fail("plain: a seal could be added");
	if (fcntl(plain, F_GETFD) != FD_CLOEXEC || (fcntl(plain_ro, F_GETFL) & O_ACCMODE) != O_RDONLY)
		fail("plain: flags");
	if (fstat(plain, &st) || fstat(plain_ro, &st2) || st.st_ino != st2.st_ino)
		fail("plain: the reopen is not the same inode");
	if (lseek(plain, 0, SEEK_CUR) != 17 || lseek(plain_ro, 0, SEEK_CUR) != 4000)
		fail("plain: positions %lld/%lld", (long long)lseek(plain, 0, SEEK_CUR),
		     (long long)lseek(plain_ro, 0, SEEK_CUR));
	check(plain, 0, 5000, seed + 2, "plain");
	if (pwrite(plain, "G", 1, 6000) != 1)
		fail("plain: write");
	if (test_wait_child(child, 15, &status) || !WIFEXITED(status) || WEXITSTATUS(status)) {
		char buf[64];

		fail("child: %s", test_status_str(status, buf, sizeof(buf)));
	} else {
		char buf[15] = "";

		if (pread(plain_ro, buf, 14, 17) != 14 || memcmp(buf, "child was here", 14))
			fail("the child's write is not in the parent's memfd");
		if (lseek(plain, 0, SEEK_CUR) != 17 + 14)
			fail("the child's write did not move the shared position (%lld)",
			     (long long)lseek(plain, 0, SEEK_CUR));
	}

	/* mapped */
	check_link(mapped, "mapped");
	for (size_t i = 0; i < MAP_LEN; i++)
		if ((unsigned char)map[i] != pat(i, seed + 3)) {
			fail("mapped: byte %zu", i);
			break;
		}
	check(mapped, 0, MAP_LEN, seed + 3, "mapped through the fd");
	if (pwrite(mapped, "fd->map", 7, 100) != 7 || memcmp(map + 100, "fd->map", 7))
		fail("mapped: a write through the fd does not show in the mapping");
	memcpy(map + 200, "map->fd", 7);
	if (pread(mapped, &c, 1, 200) != 1 || c != 'm')
		fail("mapped: a store to the mapping does not show through the fd");
	for (size_t i = 0; i < MAP_LEN; i++)
		if ((unsigned char)only[i] != pat(i, seed + 4)) {
			fail("only mapped: byte %zu", i);
			break;
		}

	/* noexec */
	if (fstat(noexec, &st) || (st.st_mode & 07777) != 0666)
		fail("noexec: mode %o, expected 666", st.st_mode & 07777);
	if (fcntl(noexec, F_GET_SEALS) != (F_SEAL_EXEC | F_SEAL_FUTURE_WRITE))
		fail("noexec: seals %#x", fcntl(noexec, F_GET_SEALS));
	if (fchmod(noexec, 0777) == 0)
		fail("noexec: chmod +x was not refused");
	errno = 0;
	if (pwrite(noexec, "x", 1, 0) != -1 || errno != EPERM)
		fail("noexec: a write was not refused");
	if (pread(noexec, got4, 4, 0) != 4 || memcmp(got4, "data", 4))
		fail("noexec: data");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
