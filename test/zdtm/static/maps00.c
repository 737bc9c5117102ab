// SPDX-License-Identifier: GPL-2.0
/*
 * maps00: memory mappings of every basic kind keep their contents, their
 * addresses and protections, and their sharing:
 *  - private anonymous, patterned (one page left untouched, one read-only);
 *  - private file mapping with a copy-on-write page (the file keeps the old
 *    data);
 *  - shared file mapping: writes before dump are in the file, writes after
 *    restore still reach the file and file writes still reach the mapping;
 *  - MAP_SHARED|MAP_ANONYMOUS between the test and a child: still one
 *    memory after restore (a token written by one is seen by the other);
 *  - brk heap and malloc: contents kept, both still grow.
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

#define NPAGES 8
#define BRK_GROW (64 * 1024)
#define BIG_MALLOC (1 << 20)

static long page;
static uint64_t seed;

struct region {
	const char *what;
	void *addr;
	size_t len;
	char line[1024];	/* its /proc/self/maps line (address and permissions only for shared anon) */
};

static void fill(void *p, size_t len, uint64_t tag)
{
	pattern_fill(p, len, tag ^ seed);
}

/* index of the first bad word, or -1 */
static long check(const void *p, size_t len, uint64_t tag)
{
	return pattern_check(p, len, tag ^ seed);
}

static int is_zero(const void *p, size_t len)
{
	const char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return 0;
	return 1;
}

/* Find the maps line starting at addr; keep_path=0 keeps range+perms only. */
static int maps_line(void *addr, int keep_path, char *ret, size_t len)
{
	char buf[1024], want[64];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, want, strlen(want)))
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (!keep_path)
			buf[strcspn(buf, " ") + 5] = '\0';	/* "start-end perm" */
		snprintf(ret, len, "%s", buf);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

static int make_file(const char *name, uint64_t tag, int *ret_fd)
{
	char *buf = malloc(NPAGES * page);
	int fd;

	if (!buf)
		return -ENOMEM;
	fill(buf, NPAGES * page, tag);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || pwrite(fd, buf, NPAGES * page, 0) != NPAGES * page) {
		free(buf);
		return -EIO;
	}
	free(buf);
	*ret_fd = fd;
	return 0;
}

static long check_file(int fd, off_t off, size_t len, uint64_t tag)
{
	char *buf = malloc(len);
	long ret;

	if (!buf || pread(fd, buf, len, off) != (ssize_t)len) {
		free(buf);
		return -2;
	}
	ret = check(buf, len, tag);
	free(buf);
	return ret;
}

/* the child shares the anonymous shared region: slot 0 token, slot 1 reply */
static void __attribute__((noreturn)) child_main(volatile uint64_t *shm)
{
	shm[1] = 0xc0ffee;	/* tells the parent the child is up */
	test_waitsig();
	/* the parent wrote a fresh token after restore */
	shm[1] = shm[0] + 1;
	exit(shm[0] ? 0 : 1);
}

int main(int argc, char **argv)
{
	struct region anon = { "private anon" }, fpriv = { "private file" },
		      fshared = { "shared file" }, sanon = { "shared anon" };
	struct region *regions[] = { &anon, &fpriv, &fshared, &sanon };
	int fd_priv, fd_shared, status;
	char *brk_start, *small, *big, *more, line[1024];
	char sbuf[64] __attribute__((aligned(8)));
	volatile uint64_t *shm;
	pid_t child;
	long bad;

	test_init(argc, argv);
	page = sysconf(_SC_PAGESIZE);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);

	/* private anonymous: pages 0..5 patterned, 6 untouched, 7 read-only */
	anon.len = NPAGES * page;
	anon.addr = mmap(NULL, anon.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon.addr == MAP_FAILED) {
		fail("mmap anon");
		return 1;
	}
	fill(anon.addr, 6 * page, 1);
	fill((char *)anon.addr + 7 * page, page, 7);
	if (mprotect((char *)anon.addr + 7 * page, page, PROT_READ)) {
		fail("mprotect");
		return 1;
	}

	/* private file mapping: page 1 gets a private copy */
	if (make_file("maps00.priv", 2, &fd_priv) || make_file("maps00.shared", 3, &fd_shared)) {
		fail("cannot create the mapped files");
		return 1;
	}
	fpriv.len = fshared.len = NPAGES * page;
	fpriv.addr = mmap(NULL, fpriv.len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_priv, 0);
	fshared.addr = mmap(NULL, fshared.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_shared, 0);
	if (fpriv.addr == MAP_FAILED || fshared.addr == MAP_FAILED) {
		fail("mmap file");
		return 1;
	}
	close(fd_priv);
	close(fd_shared);
	fill((char *)fpriv.addr + page, page, 20);
	/* shared file: page 2 written through the mapping */
	fill((char *)fshared.addr + 2 * page, page, 30);

	/* shared anonymous between us and a child */
	sanon.len = page;
	sanon.addr = mmap(NULL, sanon.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sanon.addr == MAP_FAILED) {
		fail("mmap shared anon");
		return 1;
	}
	shm = sanon.addr;
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0)
		child_main(shm);
	for (int i = 0; shm[1] != 0xc0ffee; i++) {
		if (i > 10000) {
			fail("the child did not write into the shared mapping");
			return 1;
		}
		usleep(1000);
	}

	/* heap: brk area and malloc'ed blocks */
	brk_start = sbrk(0);
	if (sbrk(BRK_GROW) == (void *)-1) {
		fail("sbrk");
		return 1;
	}
	fill(brk_start, BRK_GROW, 4);
	small = malloc(200);
	big = malloc(BIG_MALLOC);
	if (!small || !big) {
		fail("malloc");
		return 1;
	}
	fill(small, 200, 5);
	fill(big, BIG_MALLOC, 6);

	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		if (maps_line(regions[i]->addr, regions[i] != &sanon, regions[i]->line,
			      sizeof(regions[i]->line))) {
			fail("%s: no line in /proc/self/maps", regions[i]->what);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		if (maps_line(regions[i]->addr, regions[i] != &sanon, line, sizeof(line)))
			fail("%s: gone from /proc/self/maps (was %s)", regions[i]->what,
			     regions[i]->line);
		else if (strcmp(line, regions[i]->line))
			fail("%s: maps line '%s', was '%s'", regions[i]->what, line,
			     regions[i]->line);
	}
	if ((bad = check(anon.addr, 6 * page, 1)) >= 0)
		fail("private anon: word %ld differs", bad);
	if (!is_zero((char *)anon.addr + 6 * page, page))
		fail("private anon: the untouched page is not zero");
	if ((bad = check((char *)anon.addr + 7 * page, page, 7)) >= 0)
		fail("private anon: read-only page word %ld differs", bad);

	if ((bad = check(fpriv.addr, page, 2)) >= 0)
		fail("private file: page 0 word %ld differs from the file", bad);
	if ((bad = check((char *)fpriv.addr + page, page, 20)) >= 0)
		fail("private file: the private copy of page 1 differs at word %ld", bad);
	fd_priv = open("maps00.priv", O_RDONLY | O_CLOEXEC);
	if (fd_priv < 0 || check_file(fd_priv, 0, NPAGES * page, 2) != -1)
		fail("private file: the file itself changed");

	fd_shared = open("maps00.shared", O_RDWR | O_CLOEXEC);
	if (fd_shared < 0) {
		fail("open maps00.shared");
	} else {
		if ((bad = check((char *)fshared.addr + 2 * page, page, 30)) >= 0)
			fail("shared file: page 2 differs in memory at word %ld", bad);
		if (check_file(fd_shared, 2 * page, page, 30) != -1)
			fail("shared file: the pre-dump write is not in the file");
		fill((char *)fshared.addr + 3 * page, page, 31);
		if (check_file(fd_shared, 3 * page, page, 31) != -1)
			fail("shared file: a write after restore does not reach the file");
		fill(sbuf, sizeof(sbuf), 32);
		if (pwrite(fd_shared, sbuf, sizeof(sbuf), 4 * page) != sizeof(sbuf))
			fail("pwrite");
		else if (memcmp((char *)fshared.addr + 4 * page, sbuf, sizeof(sbuf)))
			fail("shared file: a file write does not reach the mapping");
	}

	if ((bad = check(brk_start, BRK_GROW, 4)) >= 0)
		fail("brk area word %ld differs", bad);
	if ((bad = check(small, 200, 5)) >= 0 || (bad = check(big, BIG_MALLOC, 6)) >= 0)
		fail("malloc'ed memory differs at word %ld", bad);
	if (sbrk(0) != brk_start + BRK_GROW)
		fail("program break %p, expected %p", sbrk(0), brk_start + BRK_GROW);
	more = sbrk(page);
	if (more == (void *)-1) {
		fail("sbrk after restore");
	} else {
		memset(more, 0x5a, page);
		free(malloc(4 * BIG_MALLOC));
		small = malloc(300);
		if (!small)
			fail("malloc after restore");
		else
			memset(small, 1, 300);
	}

	/* shared anonymous: a token written now must reach the child */
	shm[0] = seed | 1;
	if (kill(child, SIGTERM))
		fail("kill child");
	if (test_wait_child(child, 20, &status)) {
		fail("wait child");
	} else {
		errno = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %s", test_status_str(status, sbuf, sizeof(sbuf)));
		if (shm[1] != shm[0] + 1)
			fail("shared anon: the child answered %llx to token %llx, not shared any more",
			     (unsigned long long)shm[1], (unsigned long long)shm[0]);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
