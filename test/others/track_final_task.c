// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The task of predump_chain.py's final-dump cases (write tracking kept over
 * the DUMP of an RPC session). argv[1]: the result file; argv[2]: "plain",
 * "own-uffd" or "aio". It maps A (1024 private anonymous pages) and fills it,
 * then writes "0" to argv[1].step. SIGUSR1: 16 pages of A rewritten; with
 * own-uffd, A's pages 256..511 are also mapped again (MAP_FIXED, filled
 * with the same pattern) and registered for write-protect on a userfaultfd
 * of the task's own, which it keeps open: its VmFlags uw are the task's, not
 * criu's. With aio, an AIO context is set up (io_setup(): a ring VMA, which
 * ends the write tracking of the task). Then "1" to the step file. SIGUSR2: every word checked, "OK" or
 * the first difference to argv[1], and exit.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL
#define WORDS (PG / 8)
#define NA 1024UL
#define OWN_AT 256UL
#define OWN_NR 256UL

static volatile sig_atomic_t next_step, check_now;
static char *A;
static int step;

static uint64_t val(unsigned long p, unsigned long w, int gen)
{
	return ((uint64_t)gen << 56) ^ (p << 20) ^ (w * 0x9e3779b97f4a7c15ULL) ^ 0x3c3c;
}

static void fill(unsigned long p, int gen)
{
	uint64_t *q = (uint64_t *)(A + p * PG);

	for (unsigned long w = 0; w < WORDS; w++)
		q[w] = val(p, w, gen);
}

static int gen_of(unsigned long p)
{
	return step >= 1 && p % 64 == 0 ? 1 : 0;
}

/* A's pages OWN_AT.. mapped again and registered on a userfaultfd of our own (write-protect mode). */
static int own_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { .start = (uintptr_t)(A + OWN_AT * PG), .len = OWN_NR * PG },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	int uffd;

	if (mmap(A + OWN_AT * PG, OWN_NR * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) == MAP_FAILED)
		return -1;
	for (unsigned long p = OWN_AT; p < OWN_AT + OWN_NR; p++)
		fill(p, gen_of(p));
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -1;
	return uffd;	/* kept open: the registration stays */
}

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		next_step = 1;
	else
		check_now = 1;
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

static void check(const char *path)
{
	char why[256] = "OK\n";

	for (unsigned long p = 0; p < NA; p++) {
		const uint64_t *q = (const uint64_t *)(A + p * PG);

		for (unsigned long w = 0; w < WORDS; w++) {
			if (q[w] == val(p, w, gen_of(p)))
				continue;
			snprintf(why, sizeof(why), "BAD page %lu word %lu: %#llx\n", p, w, (unsigned long long)q[w]);
			p = NA;
			break;
		}
	}
	put(path, why);
}

int main(int argc, char **argv)
{
	char steppath[4096];
	bool own, aio;
	unsigned long ctx = 0;

	if (argc < 3)
		return 2;
	own = !strcmp(argv[2], "own-uffd");
	aio = !strcmp(argv[2], "aio");
	snprintf(steppath, sizeof(steppath), "%s.step", argv[1]);
	A = mmap(NULL, NA * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (A == MAP_FAILED)
		return 2;
	madvise(A, NA * PG, MADV_NOHUGEPAGE);
	for (unsigned long p = 0; p < NA; p++)
		fill(p, 0);
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	put(steppath, "0\n");
	for (;;) {
		if (next_step && step == 0) {
			next_step = 0;
			step = 1;
			for (unsigned long p = 0; p < NA; p += 64)
				fill(p, 1);
			if (own && own_uffd() < 0) {
				put(argv[1], "BAD no userfaultfd of its own\n");
				return 3;
			}
			if (aio && syscall(SYS_io_setup, 16, &ctx)) {
				put(argv[1], "BAD no AIO context\n");
				return 3;
			}
			put(steppath, "1\n");
		}
		if (check_now) {
			check(argv[1]);
			return 0;
		}
		usleep(1000);
	}
}
