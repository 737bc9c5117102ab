// SPDX-License-Identifier: GPL-2.0
/*
 * shm_file00: files in /dev/shm (tmpfs) are regular files.
 *  - kept: /dev/shm/zdtm-shm_file00-PID, open O_RDWR at position 777 and
 *    mapped MAP_SHARED; after restore the fd is the same inode as the path,
 *    the data is there, the position kept, and the fd and the mapping are
 *    coherent (a write through one shows in the other);
 *  - gone: another file there, unlinked after writing: after restore its fd
 *    still reads the data and the file is still unlinked (nlink 0).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (3 * 4096 + 50)

static void pattern(char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 31 + seed);
}

int main(int argc, char **argv)
{
	char kept_path[128], gone_path[128], want[LEN], got[LEN];
	int kept, gone;
	struct stat st, st2;
	char *map;

	test_init(argc, argv);
	snprintf(kept_path, sizeof(kept_path), "/dev/shm/zdtm-shm_file00-%d", getpid());
	snprintf(gone_path, sizeof(gone_path), "/dev/shm/zdtm-shm_file00-%d-gone", getpid());
	kept = open(kept_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	gone = open(gone_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (kept < 0 || gone < 0) {
		fail("create in /dev/shm");
		return 1;
	}
	pattern(want, LEN, 1);
	if (write(kept, want, LEN) != LEN || lseek(kept, 777, SEEK_SET) != 777) {
		fail("write kept");
		return 1;
	}
	map = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, kept, 0);
	if (map == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	pattern(want, LEN, 2);
	if (write(gone, want, LEN) != LEN || unlink(gone_path)) {
		fail("write gone");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(kept, &st) || stat(kept_path, &st2) || st.st_ino != st2.st_ino || st.st_dev != st2.st_dev)
		fail("the kept fd is not the file at %s", kept_path);
	if (lseek(kept, 0, SEEK_CUR) != 777)
		fail("kept: position %lld", (long long)lseek(kept, 0, SEEK_CUR));
	pattern(want, LEN, 1);
	if (pread(kept, got, LEN, 0) != LEN || memcmp(got, want, LEN))
		fail("kept: data differs");
	if (memcmp(map, want, LEN))
		fail("kept: the mapping differs");
	if (pwrite(kept, "abc", 3, 10) != 3 || memcmp(map + 10, "abc", 3))
		fail("kept: a write through the fd is not in the mapping");
	memcpy(map + 20, "xyz", 3);
	if (pread(kept, got, 3, 20) != 3 || memcmp(got, "xyz", 3))
		fail("kept: a store to the mapping is not in the file");

	pattern(want, LEN, 2);
	if (fstat(gone, &st) || st.st_nlink != 0)
		fail("gone: nlink %lu", (unsigned long)st.st_nlink);
	if (pread(gone, got, LEN, 0) != LEN || memcmp(got, want, LEN))
		fail("gone: data differs");

	unlink(kept_path);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
