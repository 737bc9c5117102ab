// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_fd_nomap: an fd of shared anonymous memory, opened through
 * /proc/self/map_files, whose mapping is gone. After restore it must still
 * be shared anonymous memory ("/dev/zero (deleted)", not a memfd), with its
 * bytes, size, position and status flags, and a new shared mapping of it
 * must be the same memory as the fd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "zdtmtst.h"

#define SIZE (3 * 4096 + 100)

static int open_shmem(void)
{
	char path[64];
	char *m;
	int fd;

	m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	memset(m, 'a', 4096);
	memset(m + 2 * 4096, 'c', 4096);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + 4 * 4096);
	fd = open(path, O_RDWR);
	munmap(m, 4 * 4096);
	return fd;
}

static void check_bytes(int fd)
{
	char buf[4096], want[4096];

	for (int page = 0; page < 3; page++) {
		memset(want, page == 0 ? 'a' : page == 2 ? 'c' : 0, sizeof(want));
		if (pread(fd, buf, sizeof(buf), page * 4096) != sizeof(buf) || memcmp(buf, want, sizeof(buf)))
			fail("page %d of the memory differs", page);
	}
}

int main(int argc, char **argv)
{
	struct stat st;
	struct statfs sfs;
	char link[64], path[64];
	ssize_t n;
	char *m;
	int fd;

	test_init(argc, argv);
	fd = open_shmem();
	if (fd < 0) {
		fail("can't open shared anonymous memory");
		return 1;
	}
	if (ftruncate(fd, SIZE) || fcntl(fd, F_SETFL, O_APPEND) || lseek(fd, 777, SEEK_SET) != 777) {
		fail("set up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "/dev/zero (deleted)"))
		fail("the fd is %s, not /dev/zero (deleted)", link);
	if (fstat(fd, &st) || st.st_size != SIZE || st.st_nlink)
		fail("size %lld, links %lu", (long long)st.st_size, (unsigned long)st.st_nlink);
	if (fstatfs(fd, &sfs) || sfs.f_type != 0x01021994)
		fail("not on tmpfs: %lx", (unsigned long)sfs.f_type);
	if (lseek(fd, 0, SEEK_CUR) != 777)
		fail("position %lld", (long long)lseek(fd, 0, SEEK_CUR));
	if ((fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND)) != (O_RDWR | O_APPEND))
		fail("status flags %o", fcntl(fd, F_GETFL));
	check_bytes(fd);

	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	if (m == MAP_FAILED) {
		fail("can't map the memory again");
		return 1;
	}
	m[5] = 'x';
	if (pread(fd, link, 1, 4096 + 5) != 1 || link[0] != 'x')
		fail("a new mapping is not the fd's memory");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
