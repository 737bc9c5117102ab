// SPDX-License-Identifier: GPL-2.0
/*
 * mem_guard_refused: a guard page installed with MADV_GUARD_INSTALL in a
 * private anonymous mapping: the image has no guard markers, so the dump must
 * refuse it, naming it, and leave the task as it was: the marker still in the
 * page table (pagemap bit 58), the data of the other pages intact.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#define PM_GUARD (1ULL << 58)

#define PAGE 4096
#define LEN (4 * PAGE)

/* 1 when the page at addr is a guard marker, 0 when not, -1 on error */
static int is_guard(const char *addr)
{
	uint64_t pme;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &pme, sizeof(pme), (unsigned long)addr / PAGE * sizeof(pme));
	close(fd);
	if (n != sizeof(pme))
		return -1;
	return !!(pme & PM_GUARD);
}

int main(int argc, char **argv)
{
	static const char msg[] = "next to a guard page";
	char *p;

	test_init(argc, argv);

	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	memcpy(p, msg, sizeof(msg));
	if (madvise(p + 2 * PAGE, PAGE, MADV_GUARD_INSTALL)) {
		fail("madvise(MADV_GUARD_INSTALL)");
		return 1;
	}
	if (is_guard(p + 2 * PAGE) != 1 || is_guard(p) != 0) {
		fail("pagemap does not show the guard page before the dump");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (is_guard(p + 2 * PAGE) != 1)
		fail("the guard page is gone");
	if (memcmp(p, msg, sizeof(msg)))
		fail("the data changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
