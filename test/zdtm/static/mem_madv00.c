// SPDX-License-Identifier: GPL-2.0
/*
 * mem_madv00: the per-mapping state that madvise(), mlock() and mmap() flags
 * leave in VmFlags comes back: sr (MADV_SEQUENTIAL), rr (MADV_RANDOM), dc
 * (MADV_DONTFORK), dd (MADV_DONTDUMP), mg (MADV_MERGEABLE), hg
 * (MADV_HUGEPAGE), nh (MADV_NOHUGEPAGE), wf (MADV_WIPEONFORK), lo (MAP_LOCKED
 * and mlock() of part of a mapping), nr (MAP_NORESERVE), dp (MAP_DROPPABLE),
 * on private anonymous memory, a private file mapping and shared anonymous
 * memory, and a mapping that had a guard page that was removed again. After
 * restore:
 *  - each mapping's VmFlags hold the same bits of that list as before;
 *  - the written pages hold their data (droppable memory may come back empty:
 *    the kernel may drop it any time);
 *  - a child forked now gets zeroes in the wipe-on-fork and droppable
 *    mappings and does not get the don't-fork mappings at all.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

#define PAGES 4

/* the VmFlags mnemonics the test compares: the ones set by the calls above */
static const char *const user_flags[] = { "sr", "rr", "dc", "dd", "mg", "hg", "nh", "wf", "lo", "nr", "dp" };

enum how { ANON, FILE_PRIV, SHARED_ANON };

struct region {
	const char *what;
	enum how how;
	int map_flags;		/* extra mmap() flags */
	int advice[3];		/* madvise() calls, 0-terminated (MADV_NORMAL is 0: never needed) */
	int lock_pages;		/* mlock() of the first N pages */
	bool guard_gone;	/* a guard page installed and removed again */
	bool droppable;
	/* filled in */
	char *addr;
	unsigned int flags;	/* bits of user_flags[] */
	bool skipped;		/* the kernel has no such thing */
};

static struct region regions[] = {
	{ "sequential", ANON, 0, { MADV_SEQUENTIAL } },
	{ "random", ANON, 0, { MADV_RANDOM } },
	{ "dontfork", ANON, 0, { MADV_DONTFORK } },
	{ "dontdump", ANON, 0, { MADV_DONTDUMP } },
	{ "mergeable", ANON, 0, { MADV_MERGEABLE } },
	{ "hugepage", ANON, 0, { MADV_HUGEPAGE } },
	{ "nohugepage", ANON, 0, { MADV_NOHUGEPAGE } },
	{ "wipeonfork", ANON, 0, { MADV_WIPEONFORK } },
	{ "MAP_LOCKED", ANON, MAP_LOCKED },
	{ "mlock of 2 pages", ANON, 0, { 0 }, 2 },
	{ "MAP_NORESERVE", ANON, MAP_NORESERVE },
	{ "droppable", ANON, MAP_DROPPABLE, .droppable = true },
	{ "dontdump+dontfork+hugepage, locked", ANON, 0, { MADV_DONTDUMP, MADV_DONTFORK, MADV_HUGEPAGE }, PAGES },
	{ "guard page removed", ANON, 0, { 0 }, 0, true },
	{ "file: random+dontfork", FILE_PRIV, 0, { MADV_RANDOM, MADV_DONTFORK } },
	{ "file: sequential, locked", FILE_PRIV, 0, { MADV_SEQUENTIAL }, PAGES },
	{ "shared anon: dontfork+dontdump", SHARED_ANON, 0, { MADV_DONTFORK, MADV_DONTDUMP } },
	{ "shared anon: random", SHARED_ANON, 0, { MADV_RANDOM } },
};
#define NR_REGIONS (sizeof(regions) / sizeof(regions[0]))

static long page;
static uint64_t seed;

static void fill(void *p, size_t len, uint64_t tag)
{
	pattern_fill(p, len, tag ^ seed);
}

static bool same(const void *p, size_t len, uint64_t tag)
{
	return pattern_check(p, len, tag ^ seed) < 0;
}

static bool zero(const void *p, size_t len)
{
	const char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

static unsigned int parse_flags(const char *s)
{
	unsigned int bits = 0;

	for (size_t i = 0; i < sizeof(user_flags) / sizeof(user_flags[0]); i++) {
		const char *p = s;

		while ((p = strstr(p, user_flags[i]))) {
			if ((p[2] == ' ' || p[2] == '\n' || !p[2]) && p[-1] == ' ') {
				bits |= 1u << i;
				break;
			}
			p += 2;
		}
	}
	return bits;
}

/* The bits of user_flags[] in the VmFlags of the mapping that holds addr; -1 when not mapped. */
static long vmflags_of(const void *addr)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/smaps", "re");
	bool in = false;
	long ret = -1;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		unsigned long s, e;

		if (sscanf(buf, "%lx-%lx ", &s, &e) == 2 && strchr(buf, '-') < strchr(buf, ' ')) {
			in = s <= (unsigned long)addr && (unsigned long)addr < e;
			continue;
		}
		if (in && !strncmp(buf, "VmFlags:", 8)) {
			ret = parse_flags(buf + 8);
			break;
		}
	}
	fclose(f);
	return ret;
}

static void flags_str(unsigned int bits, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(user_flags) / sizeof(user_flags[0]) && n + 4 < len; i++)
		if (bits & (1u << i))
			n += snprintf(buf + n, len - n, "%s ", user_flags[i]);
}

static int setup(struct region *r, int fd, int idx)
{
	size_t len = PAGES * page;
	int flags = r->how == SHARED_ANON ? MAP_SHARED | MAP_ANONYMOUS :
		    r->how == ANON	 ? MAP_PRIVATE | MAP_ANONYMOUS :
					   MAP_PRIVATE;

	if (r->droppable)
		flags = MAP_DROPPABLE | MAP_ANONYMOUS;
	r->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | r->map_flags, r->how == FILE_PRIV ? fd : -1, 0);
	if (r->addr == MAP_FAILED) {
		if (errno == EINVAL && r->droppable) {
			test_msg("%s: not on this kernel, skipped\n", r->what);
			r->skipped = true;
			return 0;
		}
		return -errno;
	}
	fill(r->addr, 2 * page, idx);	/* pages 2 and 3 stay untouched */
	for (int i = 0; i < 3 && r->advice[i]; i++) {
		if (!madvise(r->addr, len, r->advice[i]))
			continue;
		if (errno == EINVAL) {
			test_msg("%s: madvise %d not on this kernel, skipped\n", r->what, r->advice[i]);
			r->skipped = true;
			return 0;
		}
		return -errno;
	}
	if (r->lock_pages && mlock(r->addr, r->lock_pages * page))
		return -errno;
	if (r->guard_gone) {
		if (madvise(r->addr + 3 * page, page, MADV_GUARD_INSTALL)) {
			test_msg("%s: no guard pages on this kernel, skipped\n", r->what);
			r->skipped = true;
			return 0;
		}
		if (madvise(r->addr + 3 * page, page, MADV_GUARD_REMOVE))
			return -errno;
	}
	return 0;
}

/* After restore: a child sees zeroes in wipe-on-fork and droppable memory, no don't-fork mappings. */
static void fork_child_checks(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fail("fork");
		return;
	}
	if (pid == 0) {
		int bad = 0;

		for (size_t i = 0; i < NR_REGIONS; i++) {
			const struct region *r = &regions[i];
			long f;

			if (r->skipped)
				continue;
			f = vmflags_of(r->addr);
			if (r->flags & (1u << 2)) {	/* dc */
				if (f != -1) {
					fail("child: %s is mapped in the child", r->what);
					bad++;
				}
			} else if (r->flags & (1u << 7) || r->droppable) {	/* wf */
				if (!zero(r->addr, PAGES * page)) {
					fail("child: %s is not zero in the child", r->what);
					bad++;
				}
			}
		}
		_exit(bad ? 1 : 0);
	}
	if (test_wait_child(pid, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the forked child found a mapping wrong (status %#x)", status);
}

int main(int argc, char **argv)
{
	char *buf;
	int fd;

	test_init(argc, argv);
	page = sysconf(_SC_PAGESIZE);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);

	buf = calloc(PAGES, page);
	fd = open("mem_madv00.data", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!buf || fd < 0 || write(fd, buf, PAGES * page) != PAGES * page) {
		fail("can't create the mapped file");
		return 1;
	}
	free(buf);
	for (size_t i = 0; i < NR_REGIONS; i++) {
		struct region *r = &regions[i];
		long f;

		if (setup(r, fd, i) < 0) {
			fail("can't set up %s", r->what);
			return 1;
		}
		if (r->skipped)
			continue;
		f = vmflags_of(r->addr);
		if (f < 0) {
			fail("%s: no VmFlags", r->what);
			return 1;
		}
		r->flags = f;
		if (!r->flags && !r->guard_gone) {
			fail("%s: none of the flags it should have", r->what);
			return 1;
		}
	}
	close(fd);

	test_daemon();
	test_waitsig();

	for (size_t i = 0; i < NR_REGIONS; i++) {
		const struct region *r = &regions[i];
		char want[64], got[64];
		long f;

		if (r->skipped)
			continue;
		f = vmflags_of(r->addr);
		errno = 0;
		if (f < 0) {
			fail("%s at %p: not mapped any more", r->what, r->addr);
			continue;
		}
		if ((unsigned int)f != r->flags) {
			flags_str(r->flags, want, sizeof(want));
			flags_str(f, got, sizeof(got));
			fail("%s at %p: VmFlags has [%s], had [%s]", r->what, r->addr, got, want);
		}
		if (r->droppable ? !(same(r->addr, 2 * page, i) || zero(r->addr, 2 * page)) :
				   !same(r->addr, 2 * page, i))
			fail("%s at %p: the written pages changed", r->what, r->addr);
		if (!zero(r->addr + 2 * page, 2 * page))
			fail("%s at %p: the untouched pages are not zero", r->what, r->addr);
	}
	fork_child_checks();

	if (test_failed())
		return 1;
	pass();
	return 0;
}
