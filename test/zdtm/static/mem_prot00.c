// SPDX-License-Identifier: GPL-2.0
/*
 * mem_prot00: every protection (none, r, w, x and each mix of them) on each
 * kind of mapping: private anonymous, shared anonymous, private file (with a
 * copy-on-write page) and shared file. After restore, in the test and in a
 * child that inherited all of them (its shared anonymous mappings are the
 * second users of each object):
 *  - /proc/self/maps shows the protection set before the dump;
 *  - the written page and the untouched page hold what they held;
 *  - mprotect() to read-write still works (the may-read/may-write bits of the
 *    mapping and the open mode of its file came back too).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

enum kind { PRIV_ANON, SHARED_ANON, PRIV_FILE, SHARED_FILE, NR_KINDS };
#define NR_PROTS 8		/* every mix of PROT_READ, PROT_WRITE, PROT_EXEC */
#define MAP_PAGES 2		/* page 0 written, page 1 untouched */

static const char *kind_name[NR_KINDS] = { "private anon", "shared anon", "private file", "shared file" };

struct mapping {
	enum kind kind;
	int prot;
	char *addr;
	off_t off;		/* in the file */
	uint64_t tag;		/* of page 0 */
};

static struct mapping maps[NR_KINDS * NR_PROTS];
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

/* the tag of the file page at off, as written by main() */
static uint64_t file_tag(off_t off)
{
	return 0x1000 + off / page;
}

static void expected_perms(const struct mapping *m, char ret[5])
{
	ret[0] = m->prot & PROT_READ ? 'r' : '-';
	ret[1] = m->prot & PROT_WRITE ? 'w' : '-';
	ret[2] = m->prot & PROT_EXEC ? 'x' : '-';
	ret[3] = m->kind == SHARED_ANON || m->kind == SHARED_FILE ? 's' : 'p';
	ret[4] = '\0';
}

/* The permissions of the maps line that holds addr. */
static int maps_perms(const void *addr, char ret[5])
{
	char buf[1024];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(buf, "%lx-%lx %4s", &s, &e, perms) != 3)
			continue;
		if (s <= (unsigned long)addr && (unsigned long)addr < e) {
			memcpy(ret, perms, 5);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int setup(struct mapping *m, int fd)
{
	size_t len = MAP_PAGES * page;
	int flags = m->kind == SHARED_ANON || m->kind == SHARED_FILE ? MAP_SHARED : MAP_PRIVATE;

	if (m->kind == PRIV_ANON || m->kind == SHARED_ANON) {
		flags |= MAP_ANONYMOUS;
		fd = -1;
	}
	m->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, fd >= 0 ? m->off : 0);
	if (m->addr == MAP_FAILED)
		return -errno;
	/* a private file page becomes a private copy; a shared file page is written to the file */
	m->tag = 0x100 * (m->kind + 1) + m->prot;
	fill(m->addr, page, m->tag);
	if (mprotect(m->addr, len, m->prot))
		return -errno;
	return 0;
}

/* 0 when m is as it was set up; fail()s with who = "test" or "child" otherwise. */
static int check_mapping(const struct mapping *m, const char *who)
{
	char want[5], got[5];
	char *p1 = m->addr + page;
	int ret;

	expected_perms(m, want);
	ret = maps_perms(m->addr, got);
	if (ret) {
		fail("%s: %s prot %d at %p: not in /proc/self/maps", who, kind_name[m->kind], m->prot, m->addr);
		return -1;
	}
	if (strcmp(want, got)) {
		fail("%s: %s prot %d at %p: maps shows %s, expected %s", who, kind_name[m->kind], m->prot, m->addr, got,
		     want);
		return -1;
	}
	errno = 0;
	if (mprotect(m->addr, MAP_PAGES * page, PROT_READ | PROT_WRITE)) {
		fail("%s: %s prot %d at %p: mprotect to read-write", who, kind_name[m->kind], m->prot, m->addr);
		return -1;
	}
	if (!same(m->addr, page, m->tag)) {
		fail("%s: %s prot %d at %p: the written page changed", who, kind_name[m->kind], m->prot, m->addr);
		return -1;
	}
	if ((m->kind == PRIV_ANON || m->kind == SHARED_ANON) ? !zero(p1, page) :
							      !same(p1, page, file_tag(m->off + page))) {
		fail("%s: %s prot %d at %p: the untouched page changed", who, kind_name[m->kind], m->prot, m->addr);
		return -1;
	}
	/* back as it was: the test checks once, the child too, each in its own copy of the prot */
	if (mprotect(m->addr, MAP_PAGES * page, m->prot)) {
		fail("%s: mprotect back", who);
		return -1;
	}
	return 0;
}

static int check_all(const char *who)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (check_mapping(&maps[i], who))
			bad++;
	return bad;
}

static int make_file(const char *name, size_t len)
{
	char *buf = malloc(len);
	int fd;

	if (!buf)
		return -1;
	for (off_t off = 0; off < (off_t)len; off += page)
		fill(buf + off, page, file_tag(off));
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && pwrite(fd, buf, len, 0) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	free(buf);
	return fd;
}

int main(int argc, char **argv)
{
	size_t nr = sizeof(maps) / sizeof(maps[0]);
	int fd, status;
	pid_t child;

	test_init(argc, argv);
	page = sysconf(_SC_PAGESIZE);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);

	fd = make_file("mem_prot00.data", nr * MAP_PAGES * page);
	if (fd < 0) {
		fail("can't create the mapped file");
		return 1;
	}
	for (size_t i = 0; i < nr; i++) {
		struct mapping *m = &maps[i];

		m->kind = i / NR_PROTS;
		m->prot = i % NR_PROTS;
		m->off = i * MAP_PAGES * page;
		if (setup(m, fd) < 0) {
			fail("can't set up %s prot %d", kind_name[m->kind], m->prot);
			return 1;
		}
	}
	close(fd);
	/* what the test checks after restore must already hold now */
	if (check_all("before dump"))
		return 1;

	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		test_waitsig();
		exit(check_all("child") ? 1 : 0);
	}

	test_daemon();
	test_waitsig();

	check_all("test");
	kill(child, SIGTERM);
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its mappings changed (status %#x)", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
