// SPDX-License-Identifier: GPL-2.0
/*
 * mem_guard00: guard pages (MADV_GUARD_INSTALL) come back. A private
 * anonymous mapping of 8 pages with guards on pages 1-2 and 5, and a private
 * mapping of a file of 4 pages with a guard on page 2, data in the other
 * pages. After restore: pagemap shows the guard markers (bit 58) on exactly
 * those pages, touching one of them raises SIGSEGV, the other pages keep
 * their data, and the mappings are still one VMA each.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "mem_guard.h"

#define PAGE 4096

struct area {
	const char *what;
	char *p;
	int pages;
	unsigned int guards;	/* bit i: page i is a guard */
};

static sigjmp_buf jb;

static void on_segv(int sig)
{
	siglongjmp(jb, 1);
}

/* 1 when the page at addr is a guard marker, 0 when not, -1 on error */
static int is_guard(const char *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = pagemap_guard(fd, (unsigned long)addr / PAGE);
	close(fd);
	return ret;
}

/* 1 when reading addr faults */
static int faults(volatile char *addr)
{
	if (sigsetjmp(jb, 1))
		return 1;
	(void)*addr;
	return 0;
}

static void fill(struct area *a)
{
	for (int i = 0; i < a->pages; i++)
		if (!(a->guards & (1u << i)))
			snprintf(a->p + i * PAGE, PAGE, "%s page %d", a->what, i);
}

static int guard(struct area *a)
{
	for (int i = 0; i < a->pages; i++)
		if ((a->guards & (1u << i)) && madvise(a->p + i * PAGE, PAGE, MADV_GUARD_INSTALL))
			return -1;
	return 0;
}

static void check(struct area *a, const char *when)
{
	char want[64];

	for (int i = 0; i < a->pages; i++) {
		int g = !!(a->guards & (1u << i));
		char *pg = a->p + i * PAGE;

		errno = 0;
		if (is_guard(pg) != g)
			fail("%s: %s page %d: pagemap guard bit %d, expected %d", when, a->what, i, is_guard(pg), g);
		if (faults(pg) != g)
			fail("%s: %s page %d: %s", when, a->what, i, g ? "a guard page reads" : "a page faults");
		snprintf(want, sizeof(want), "%s page %d", a->what, i);
		if (!g && strcmp(pg, want))
			fail("%s: %s page %d: data lost", when, a->what, i);
	}
	if (nr_vmas_in(a->p, a->p + a->pages * PAGE) != 1)
		fail("%s: %s is %d VMAs, expected 1", when, a->what, nr_vmas_in(a->p, a->p + a->pages * PAGE));
}

int main(int argc, char **argv)
{
	struct area anon = { "anon", NULL, 8, (1u << 1) | (1u << 2) | (1u << 5) };
	struct area file = { "file", NULL, 4, 1u << 2 };
	char path[64];
	int fd;

	test_init(argc, argv);
	signal(SIGSEGV, on_segv);
	snprintf(path, sizeof(path), "mem_guard00.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, file.pages * PAGE)) {
		fail("file");
		return 1;
	}
	anon.p = mmap(NULL, anon.pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	file.p = mmap(NULL, file.pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (anon.p == MAP_FAILED || file.p == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	close(fd);
	fill(&anon);
	fill(&file);
	if (guard(&anon) || guard(&file)) {
		fail("madvise(MADV_GUARD_INSTALL)");
		return 1;
	}
	check(&anon, "before dump");
	check(&file, "before dump");
	if (test_failed())
		return 1;

	test_daemon();
	test_waitsig();

	check(&anon, "after restore");
	check(&file, "after restore");
	unlink(path);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
