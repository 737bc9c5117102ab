// SPDX-License-Identifier: GPL-2.0
/*
 * shm_anon00: MAP_SHARED|MAP_ANONYMOUS memory shared with a child keeps what
 * was written before the dump, in both processes, and stays one memory:
 *  - an 8-page object, pages 0-5 and 7 patterned, page 6 never touched;
 *  - a 4-page object whose first page was unmapped (a window at offset 1
 *    page), so the object is larger than what is mapped;
 *  - a read-only view (mprotect) of the first object in the child.
 * After restore the child checks the pre-dump data itself and answers a
 * token the parent writes.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static long page;

static uint64_t word(int area, size_t i)
{
	return ((uint64_t)area << 56) ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void fill(uint64_t *p, size_t bytes, int area)
{
	for (size_t i = 0; i < bytes / 8; i++)
		p[i] = word(area, i);
}

static long check(const uint64_t *p, size_t bytes, int area)
{
	for (size_t i = 0; i < bytes / 8; i++)
		if (p[i] != word(area, i))
			return (long)i;
	return -1;
}

static bool is_zero(const uint64_t *p, size_t bytes)
{
	for (size_t i = 0; i < bytes / 8; i++)
		if (p[i])
			return false;
	return true;
}

struct areas {
	uint64_t *big;		/* 8 pages */
	uint64_t *win;		/* 3 pages, offset 1 page in its object */
	volatile uint64_t *ctl;	/* [0] token from the parent, [1] the child's answer, [2] child's verdict */
};

/* 0 when both areas hold the pre-dump data (page 6 of big is zero), else the failing area number. */
static int check_areas(const struct areas *a)
{
	if (check(a->big, 6 * page, 1) >= 0)
		return 1;
	if (!is_zero(a->big + 6 * page / 8, page))
		return 2;
	if (check(a->big + 7 * page / 8, page, 3) >= 0)
		return 3;
	if (check(a->win, 3 * page, 4) >= 0)
		return 4;
	return 0;
}

static void __attribute__((noreturn)) child_main(struct areas *a)
{
	/* a read-only view of the same object, as only the child has it */
	if (mprotect(a->big + 7 * page / 8, page, PROT_READ))
		_exit(2);
	a->ctl[1] = 0xc0ffee;
	test_waitsig();
	a->ctl[2] = 100 + check_areas(a);
	a->ctl[1] = a->ctl[0] + 1;
	_exit(0);
}

int main(int argc, char **argv)
{
	struct areas a;
	uint64_t *obj;
	int status;
	pid_t child;

	test_init(argc, argv);
	page = sysconf(_SC_PAGESIZE);

	a.big = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	obj = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	a.ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a.big == MAP_FAILED || obj == MAP_FAILED || a.ctl == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	fill(a.big, 6 * page, 1);
	fill(a.big + 7 * page / 8, page, 3);
	fill(obj, 4 * page, 9);
	if (munmap(obj, page)) {
		fail("munmap");
		return 1;
	}
	a.win = obj + page / 8;
	fill(a.win, 3 * page, 4);

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0)
		child_main(&a);
	for (int i = 0; a.ctl[1] != 0xc0ffee; i++) {
		if (i > 10000) {
			fail("the child did not start");
			return 1;
		}
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	int bad = check_areas(&a);
	if (bad)
		fail("parent: shared area %d lost its pre-dump data", bad);

	a.ctl[0] = 0x5eed0000 | (uint64_t)getpid();
	if (kill(child, SIGTERM))
		fail("kill child");
	if (test_wait_child(child, 20, &status)) {
		fail("wait child");
	} else {
		char buf[64];

		errno = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %s", test_status_str(status, buf, sizeof(buf)));
		if (a.ctl[2] != 100)
			fail("child: shared area %d lost its pre-dump data", (int)(a.ctl[2] - 100));
		if (a.ctl[1] != a.ctl[0] + 1)
			fail("the child answered %llx to %llx: not one memory any more",
			     (unsigned long long)a.ctl[1], (unsigned long long)a.ctl[0]);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
