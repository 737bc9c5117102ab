// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The task of predump_chain.py's write-tracking case (an RPC PRE_DUMP
 * session). argv[1]: the result file, argv[2]: a file it maps privately.
 * Each SIGUSR1 makes the next step of changes (and writes the step number to
 * argv[1].step); SIGUSR2 checks every word against what the steps made and
 * writes "OK" or the first difference to argv[1], then exits.
 *
 * A: 8192 private anonymous pages. B: 256 pages. C: made at step 1. F: 64
 *    pages of argv[2], MAP_PRIVATE.
 * step 1: A pages p%16==0 rewritten (gen 1); A 100..199 MADV_DONTNEED then
 *    read (the zero page); B moved by mremap onto A 1024..1279 (the pages of
 *    A there are gone); C mapped and filled; F 0..15 rewritten.
 * step 2: A 300..399 MADV_DONTNEED then read; A p%16==8 rewritten (gen 2);
 *    A 500..509 MADV_DONTNEED then word 0 written; B (moved) p%4==0
 *    rewritten; C p%8==0 rewritten; F 32..40 rewritten.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define WORDS (PG / 8)
#define NA 8192UL
#define NB 256UL
#define NC 256UL
#define NF 64UL
#define B_AT 1024UL	/* B lands on A's pages from here */

static volatile sig_atomic_t next_step, check_now;
static int step;
static char *A, *B, *C, *F;

static uint64_t val(int region, unsigned long p, unsigned long w, int gen)
{
	return ((uint64_t)region << 60) ^ ((uint64_t)gen << 52) ^ (p << 20) ^ (w * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a;
}

static void fill(char *page, int region, unsigned long p, int gen)
{
	uint64_t *q = (uint64_t *)page;

	for (unsigned long w = 0; w < WORDS; w++)
		q[w] = val(region, p, w, gen);
}

static void touch_read(char *mem, unsigned long n)
{
	volatile uint64_t sum = 0;

	for (unsigned long i = 0; i < n; i++)
		sum += *(volatile uint64_t *)(mem + i * PG);
	(void)sum;
}

static void do_step1(void)
{
	for (unsigned long p = 0; p < NA; p += 16)
		fill(A + p * PG, 0, p, 1);
	madvise(A + 100 * PG, 100 * PG, MADV_DONTNEED);
	touch_read(A + 100 * PG, 100);
	B = mremap(B, NB * PG, NB * PG, MREMAP_MAYMOVE | MREMAP_FIXED, A + B_AT * PG);
	if (B == MAP_FAILED)
		exit(3);
	C = mmap(NULL, NC * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (C == MAP_FAILED)
		exit(4);
	for (unsigned long p = 0; p < NC; p++)
		fill(C + p * PG, 3, p, 0);
	for (unsigned long p = 0; p < 16; p++)
		fill(F + p * PG, 4, p, 1);
}

static void do_step2(void)
{
	madvise(A + 300 * PG, 100 * PG, MADV_DONTNEED);
	touch_read(A + 300 * PG, 100);
	for (unsigned long p = 8; p < NA; p += 16)
		if (p < B_AT || p >= B_AT + NB)
			fill(A + p * PG, 0, p, 2);
	madvise(A + 500 * PG, 10 * PG, MADV_DONTNEED);
	for (unsigned long p = 500; p < 510; p++)
		*(uint64_t *)(A + p * PG) = 0xabc0 + p;
	for (unsigned long p = 0; p < NB; p += 4)
		fill(B + p * PG, 2, p, 2);
	for (unsigned long p = 0; p < NC; p += 8)
		fill(C + p * PG, 3, p, 2);
	for (unsigned long p = 32; p <= 40; p++)
		fill(F + p * PG, 4, p, 2);
}

/* What page p of A holds after the steps so far: its region's pattern and gen, or zero (-1), or the word-0 case (-2). */
static int expect_a(unsigned long p, int *gen)
{
	int z = 0;

	*gen = 0;
	if (step >= 1 && p % 16 == 0)
		*gen = 1;
	if (step >= 1 && p >= 100 && p < 200)
		z = -1;
	if (step >= 2 && p >= 300 && p < 400)
		z = -1;
	if (step >= 2 && p % 16 == 8) {
		*gen = 2;
		z = 0;
	}
	if (step >= 2 && p >= 500 && p < 510)
		z = -2;
	return z;
}

static int check_page(const char *page, int region, unsigned long p, int gen, int z, char *why, size_t len)
{
	const uint64_t *q = (const uint64_t *)page;

	for (unsigned long w = 0; w < WORDS; w++) {
		uint64_t want = z == -1 ? 0 : z == -2 ? (w ? 0 : 0xabc0 + p) : val(region, p, w, gen);

		if (q[w] != want) {
			snprintf(why, len, "BAD region %d page %lu word %lu: %#llx, not %#llx (step %d)\n", region, p, w,
				 (unsigned long long)q[w], (unsigned long long)want, step);
			return 1;
		}
	}
	return 0;
}

static int check_all(const char *fpath, char *why, size_t len)
{
	int fd = open(fpath, O_RDONLY);
	static char orig[PG];

	for (unsigned long p = 0; p < NA; p++) {
		int gen, z;

		if (step >= 1 && p >= B_AT && p < B_AT + NB)
			continue;	/* B's now */
		z = expect_a(p, &gen);
		if (check_page(A + p * PG, 0, p, gen, z, why, len))
			return 1;
	}
	for (unsigned long p = 0; p < NB; p++)
		if (check_page(B + p * PG, 2, p, step >= 2 && p % 4 == 0 ? 2 : 0, 0, why, len))
			return 1;
	for (unsigned long p = 0; step >= 1 && p < NC; p++)
		if (check_page(C + p * PG, 3, p, step >= 2 && p % 8 == 0 ? 2 : 0, 0, why, len))
			return 1;
	for (unsigned long p = 0; p < NF; p++) {
		int gen = p < 16 && step >= 1 ? 1 : p >= 32 && p <= 40 && step >= 2 ? 2 : p < 32 ? 0 : -1;

		if (gen >= 0 && check_page(F + p * PG, 4, p, gen, 0, why, len))
			return 1;
		if (gen < 0 && (pread(fd, orig, PG, p * PG) != (ssize_t)PG || memcmp(orig, F + p * PG, PG))) {
			snprintf(why, len, "BAD the file page %lu\n", p);
			return 1;
		}
	}
	close(fd);
	snprintf(why, len, "OK\n");
	return 0;
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

int main(int argc, char **argv)
{
	char steppath[4096], why[256], buf[16];
	int fd;

	if (argc < 3)
		return 2;
	snprintf(steppath, sizeof(steppath), "%s.step", argv[1]);
	A = mmap(NULL, NA * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	B = mmap(NULL, NB * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (A == MAP_FAILED || B == MAP_FAILED || fd < 0)
		return 2;
	madvise(A, NA * PG, MADV_NOHUGEPAGE);	/* A: single pages; B and C may go huge as the kernel likes */
	for (unsigned long p = 0; p < NF; p++) {
		static char page[PG];

		fill(page, 5, p, 0);
		if (write(fd, page, PG) != (ssize_t)PG)
			return 2;
	}
	F = mmap(NULL, NF * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (F == MAP_FAILED)
		return 2;
	for (unsigned long p = 0; p < NA; p++)
		fill(A + p * PG, 0, p, 0);
	for (unsigned long p = 0; p < NB; p++)
		fill(B + p * PG, 2, p, 0);
	for (unsigned long p = 0; p < 32; p++)
		fill(F + p * PG, 4, p, 0);
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	put(steppath, "0\n");
	for (;;) {
		if (next_step) {
			next_step = 0;
			step++;
			if (step == 1)
				do_step1();
			else if (step == 2)
				do_step2();
			snprintf(buf, sizeof(buf), "%d\n", step);
			put(steppath, buf);
		}
		if (check_now) {
			check_all(argv[2], why, sizeof(why));
			put(argv[1], why);
			return 0;
		}
		usleep(1000);
	}
}
