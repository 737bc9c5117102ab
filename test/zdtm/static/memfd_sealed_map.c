// SPDX-License-Identifier: GPL-2.0
/*
 * memfd_sealed_map: a memfd sealed against writes (F_SEAL_WRITE|SHRINK|GROW)
 * and mapped MAP_SHARED read-only. After restore the mapping shows the
 * contents, the seals are all there, and a writable shared mapping is still
 * refused.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#define LEN (3 * 4096 + 100)

int main(int argc, char **argv)
{
	int seals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW, fd;
	char buf[LEN];
	void *w;
	char *m;

	test_init(argc, argv);
	for (int i = 0; i < LEN; i++)
		buf[i] = (char)(i * 31 + 1);
	fd = memfd_create("sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0 || write(fd, buf, LEN) != LEN) {
		fail("memfd");
		return 1;
	}
	/* seal first: a shared mapping that may become writable makes F_SEAL_WRITE fail (EBUSY) */
	if (fcntl(fd, F_ADD_SEALS, seals)) {
		fail("seal");
		return 1;
	}
	m = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		fail("mmap/seal");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (memcmp(m, buf, LEN))
		fail("the shared mapping does not show the memfd's contents");
	if ((fcntl(fd, F_GET_SEALS) & seals) != seals)
		fail("seals 0x%x, expected at least 0x%x", fcntl(fd, F_GET_SEALS), seals);
	w = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w != MAP_FAILED)
		fail("a writable shared mapping of the sealed memfd was allowed");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
