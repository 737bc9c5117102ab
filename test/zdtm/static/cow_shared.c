// SPDX-License-Identifier: GPL-2.0
/*
 * cow_shared: pages shared copy-on-write between forked processes are shared
 * after restore exactly where they were before, and hold the right data.
 *
 *   R  root: anonymous area A (32 pages), a read-only anonymous area O
 *   |        (8 pages) and a private mapping F of a file (16 pages)
 *   +- C  writes some pages of A and F, then forks
 *   |  +- G  writes some pages of A and F again
 *   +- S  unmaps A and maps a smaller area of its own there
 *   +- Z  a zombie (exits at once, reaped after the check)
 *   R writes some pages of A and F after C is forked, before S is.
 *
 * Not covered: a page that two children share and the parent rewrote after
 * forking both comes back as one copy per child (restore.md, Known limits).
 *
 * Every area has PROT_NONE guard pages on both sides, so it is one VMA in
 * every process. Before the dump R notes, for every pair of processes and
 * every page, whether both map it to the same physical page (the PFNs of
 * /proc/PID/pagemap, which root can read); after restore the same pairs must
 * share exactly the same pages. Then each process checks the data of every
 * page it maps: its own writes, inherited ones, zeroes, the file's.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG 4096UL
#define A_PAGES 32
#define O_PAGES 8
#define F_PAGES 16
#define S_PAGES 12
#define FILE_NAME "cow_shared.data"
#define FILE_SEED 0xf11e

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

enum { P_R, P_C, P_G, P_S, NR_PROCS };
static const char names[NR_PROCS] = { 'R', 'C', 'G', 'S' };

struct area {
	uint8_t *addr;
	int pages;
	uint32_t seed[A_PAGES];	/* who wrote each page last (0: nobody, file: FILE_SEED) */
};

static struct area A, O, F;
static pid_t pids[NR_PROCS];
static int me = P_R;		/* which process this is */
static int ready_pipe[2];

static uint64_t word(uint32_t seed, int page, int i)
{
	return ((uint64_t)seed << 40) ^ ((uint64_t)page << 20) ^ (uint64_t)i ^ 0x9e3779b97f4a7c15ULL;
}

static void fill_page(uint8_t *p, uint32_t seed, int page)
{
	uint64_t *w = (uint64_t *)p;

	for (int i = 0; i < (int)(PG / 8); i++)
		w[i] = word(seed, page, i);
}

static void write_pages(struct area *a, int from, int to, uint32_t seed)
{
	for (int i = from; i < to; i++) {
		fill_page(a->addr + i * PG, seed, i);
		a->seed[i] = seed;
	}
}

/* pages between two PROT_NONE guard pages: the area stays one VMA */
static uint8_t *map_guarded(int pages, int fd)
{
	uint8_t *g = mmap(NULL, (pages + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *p;

	if (g == MAP_FAILED)
		return NULL;
	if (fd < 0)
		p = mmap(g + PG, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else
		p = mmap(g + PG, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int check_area(const char *name, const struct area *a)
{
	int bad = 0;

	for (int i = 0; i < a->pages; i++) {
		const uint64_t *w = (const uint64_t *)(a->addr + i * PG);

		for (int k = 0; k < (int)(PG / 8); k++) {
			uint64_t want = a->seed[i] ? word(a->seed[i], i, k) : 0;

			if (w[k] != want) {
				errno = 0;
				fail("%c: page %d of %s: word %d is %#llx, expected %#llx", names[me], i, name, k, (unsigned long long)w[k], (unsigned long long)want);
				bad++;
				break;
			}
		}
	}
	return bad ? -1 : 0;
}

/* ------------------------------------------------------ sharing snapshots */

#define MAX_PAGES (A_PAGES + O_PAGES + F_PAGES)

/* pfn of every page of the three areas in process pid, 0 when not present */
static int read_pfns(pid_t pid, uint64_t *pfn)
{
	const struct area *areas[] = { &A, &O, &F };
	char path[64];
	int fd, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t k = 0; k < 3; k++) {
		for (int i = 0; i < areas[k]->pages; i++, n++) {
			uint64_t e;
			off_t off = ((uintptr_t)areas[k]->addr / PG + i) * sizeof(e);

			if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
				close(fd);
				return -EIO;
			}
			pfn[n] = (e & PM_PRESENT) ? (e & PM_PFN_MASK) : 0;
		}
	}
	close(fd);
	return n;
}

struct snapshot {
	/* shared[x][y][page]: x and y map the page to one physical page */
	bool shared[NR_PROCS][NR_PROCS][MAX_PAGES];
	int nr_shared;
};

static int take_snapshot(struct snapshot *s)
{
	static uint64_t pfn[NR_PROCS][MAX_PAGES];
	int n = 0;

	memset(s, 0, sizeof(*s));
	for (int p = 0; p < NR_PROCS; p++) {
		n = read_pfns(pids[p], pfn[p]);
		if (n < 0) {
			errno = -n;
			fail("can't read the pagemap of %c (%d)", names[p], pids[p]);
			return -1;
		}
		if (!pfn[p][0] && p == P_R) {
			errno = 0;
			fail("no PFNs in /proc/PID/pagemap: not root?");
			return -1;
		}
	}
	for (int x = 0; x < NR_PROCS; x++)
		for (int y = x + 1; y < NR_PROCS; y++)
			for (int i = 0; i < n; i++) {
				s->shared[x][y][i] = pfn[x][i] && pfn[x][i] == pfn[y][i];
				s->nr_shared += s->shared[x][y][i];
			}
	return 0;
}

static const char *page_name(int i, char *buf, size_t len)
{
	if (i < A_PAGES)
		snprintf(buf, len, "A[%d]", i);
	else if (i < A_PAGES + O_PAGES)
		snprintf(buf, len, "O[%d]", i - A_PAGES);
	else
		snprintf(buf, len, "F[%d]", i - A_PAGES - O_PAGES);
	return buf;
}

static int compare_snapshots(const struct snapshot *before, const struct snapshot *after)
{
	int bad = 0;
	char buf[16];

	for (int x = 0; x < NR_PROCS; x++)
		for (int y = x + 1; y < NR_PROCS; y++)
			for (int i = 0; i < MAX_PAGES; i++) {
				if (before->shared[x][y][i] == after->shared[x][y][i])
					continue;
				errno = 0;
				fail("%s of %c and %c: %s before the dump, %s after restore", page_name(i, buf, sizeof(buf)),
				     names[x], names[y], before->shared[x][y][i] ? "shared" : "not shared",
				     after->shared[x][y][i] ? "shared" : "not shared");
				bad++;
			}
	return bad ? -1 : 0;
}

/* ------------------------------------------------------ the processes */

struct ready_msg {
	int who;
	pid_t pid;
};

/* one message, smaller than PIPE_BUF: written at once */
static void report_ready(void)
{
	struct ready_msg m = { me, getpid() };

	if (write(ready_pipe[1], &m, sizeof(m)) != sizeof(m))
		exit(1);
	close(ready_pipe[1]);
}

static int wait_ok(pid_t pid, int who)
{
	char buf[64];
	int status;

	if (test_wait_child(pid, 20, &status)) {
		fail("waiting for %c (%d)", names[who], pid);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%c %s", names[who], test_status_str(status, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

static void __attribute__((noreturn)) run_g(void)
{
	int ret;

	me = P_G;
	write_pages(&A, 2, 4, 0x6001);
	write_pages(&F, 1, 2, 0x6002);
	report_ready();
	test_waitsig();
	ret = check_area("A", &A) | check_area("O", &O) | check_area("F", &F);
	exit(ret ? 1 : 0);
}

static void __attribute__((noreturn)) run_c(void)
{
	pid_t g;
	int ret;

	me = P_C;
	write_pages(&A, 8, 16, 0xc001);
	write_pages(&A, 24, 28, 0xc002);
	write_pages(&F, 4, 8, 0xc003);
	g = fork();
	if (g < 0)
		exit(1);
	if (g == 0)
		run_g();
	write_pages(&A, 12, 14, 0xc004);	/* after the fork: G keeps the older data */
	report_ready();
	test_waitsig();
	ret = check_area("A", &A) | check_area("O", &O) | check_area("F", &F);
	kill(g, SIGTERM);
	ret |= wait_ok(g, P_G);
	exit(ret ? 1 : 0);
}

static void __attribute__((noreturn)) run_s(void)
{
	int ret;

	me = P_S;
	/* a smaller area of its own where A was: nothing of A to inherit */
	munmap(A.addr, A_PAGES * PG);
	if (mmap(A.addr, S_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		exit(1);
	A.pages = S_PAGES;
	memset(A.seed, 0, sizeof(A.seed));
	write_pages(&A, 0, 6, 0x5001);
	report_ready();
	test_waitsig();
	ret = check_area("A", &A) | check_area("O", &O) | check_area("F", &F);
	exit(ret ? 1 : 0);
}

static int make_file(void)
{
	uint8_t page[PG];
	int fd = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	for (int i = 0; i < F_PAGES; i++) {
		fill_page(page, FILE_SEED, i);
		if (write(fd, page, PG) != (ssize_t)PG) {
			close(fd);
			return -1;
		}
		F.seed[i] = FILE_SEED;
	}
	return fd;
}

static pid_t fork_run(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0)
		fn();
	return pid;
}

int main(int argc, char **argv)
{
	static struct snapshot before, after;
	pid_t zombie;
	int fd, ret = 0;

	test_init(argc, argv);
	A.pages = A_PAGES;
	O.pages = O_PAGES;
	F.pages = F_PAGES;
	fd = make_file();
	A.addr = map_guarded(A_PAGES, -1);
	O.addr = map_guarded(O_PAGES, -1);
	F.addr = fd < 0 ? NULL : map_guarded(F_PAGES, fd);
	if (!A.addr || !O.addr || !F.addr) {
		fail("can't set up the areas");
		return 1;
	}
	close(fd);
	write_pages(&A, 0, 28, 0x1001);		/* 28..31 never touched */
	write_pages(&O, 0, O_PAGES, 0x1002);
	mprotect(O.addr, O_PAGES * PG, PROT_READ);
	write_pages(&F, 0, 12, 0x1003);		/* 12..15: the file's pages, never read */

	if (pipe(ready_pipe)) {
		fail("pipe");
		return 1;
	}
	pids[P_R] = getpid();
	pids[P_C] = fork_run(run_c);
	/* before S is forked: a page two children share stays the parent's (see the head comment) */
	write_pages(&A, 16, 24, 0x1004);
	write_pages(&A, 24, 26, 0x1005);
	write_pages(&F, 8, 10, 0x1006);
	pids[P_S] = fork_run(run_s);
	zombie = fork();
	if (zombie == 0)
		_exit(7);
	if (pids[P_C] < 0 || pids[P_S] < 0 || zombie < 0) {
		fail("fork");
		return 1;
	}
	close(ready_pipe[1]);
	for (int i = 0; i < 3; i++) {
		struct ready_msg m;

		if (read(ready_pipe[0], &m, sizeof(m)) != sizeof(m) || m.who <= P_R || m.who >= NR_PROCS) {
			fail("a child did not get ready");
			return 1;
		}
		pids[m.who] = m.pid;
	}
	if (take_snapshot(&before))
		return 1;
	test_msg("%d page pairs shared before the dump\n", before.nr_shared);
	if (before.nr_shared < 16) {
		errno = 0;
		fail("only %d page pairs shared before the dump: nothing to check", before.nr_shared);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (take_snapshot(&after) || compare_snapshots(&before, &after))
		ret = -1;
	test_msg("%d page pairs shared after restore\n", after.nr_shared);
	ret |= check_area("A", &A) | check_area("O", &O) | check_area("F", &F);
	kill(pids[P_C], SIGTERM);
	kill(pids[P_S], SIGTERM);
	ret |= wait_ok(pids[P_C], P_C) | wait_ok(pids[P_S], P_S);
	{
		int status;

		if (waitpid(zombie, &status, 0) != zombie || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
			errno = 0;
			fail("the zombie %d did not exit with 7", zombie);
			ret = -1;
		}
	}
	unlink(FILE_NAME);
	if (!ret)
		pass();
	return 0;
}
