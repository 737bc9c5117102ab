// SPDX-License-Identifier: GPL-2.0
/*
 * The task of predump_chain.py: 64 MiB of chunks, each filled with a pattern
 * of its own generation (argv[2]: the size in MiB, up to 256); it rewrites one 64 KiB chunk every 20 ms (about
 * 3 MiB/s); a child forked after the fill does the same (argv[3] "single": no child, page_server.py).
 * SIGUSR2: check every word of every chunk against its generation
 * and write "OK" or where it differs to argv[1], then exit.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64UL << 10)
#define MAX_CHUNKS 4096UL	/* 256 MiB */

static volatile sig_atomic_t check_now;
static uint64_t gen[MAX_CHUNKS];
static size_t NR_CHUNKS = 1024;	/* 64 MiB, or argv[2] MiB */

static pid_t child;
static bool single;	/* no child: this task writes the result */

static uint64_t word(size_t chunk, uint64_t g, size_t i)
{
	return (chunk * 0x9e3779b97f4a7c15ULL) ^ (g << 32) ^ (i * 0xff51afd7ed558ccdULL);
}

static void fill(uint64_t *p, size_t chunk)
{
	for (size_t i = 0; i < CHUNK / 8; i++)
		p[i] = word(chunk, gen[chunk], i);
}

static void on_usr2(int sig)
{
	(void)sig;
	check_now = 1;
}

static int report(const char *path, const char *what, size_t c, size_t i)
{
	FILE *f;

	if (!child && !single)
		return what ? 1 : 0;	/* the child: its exit status says it */
	f = fopen(path, "w");
	if (!f)
		return 1;
	if (what)
		fprintf(f, "BAD %s chunk %zu word %zu\n", what, c, i);
	else
		fprintf(f, "OK\n");
	fclose(f);
	return what ? 1 : 0;
}

static int check_all(const char *mem, const char *path)
{
	int st = 0;

	if (child) {
		kill(child, SIGUSR2);
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
			return report(path, "in the child", 0, 0);
	}
	for (size_t c = 0; c < NR_CHUNKS; c++) {
		const uint64_t *p = (const uint64_t *)(mem + c * CHUNK);

		for (size_t i = 0; i < CHUNK / 8; i++)
			if (p[i] != word(c, gen[c], i))
				return report(path, child ? "in the parent" : "in the task", c, i);
	}
	return report(path, NULL, 0, 0);
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char *mem;
	size_t k = 0;

	if (argc < 2 || argc > 4)
		return 2;
	if (argc >= 3)
		NR_CHUNKS = strtoul(argv[2], NULL, 10) * 16;
	if (!NR_CHUNKS || NR_CHUNKS > MAX_CHUNKS)
		return 2;
	mem = mmap(NULL, CHUNK * NR_CHUNKS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	signal(SIGUSR2, on_usr2);
	for (size_t c = 0; c < NR_CHUNKS; c++)
		fill((uint64_t *)(mem + c * CHUNK), c);
	single = argc == 4 && !strcmp(argv[3], "single");
	child = single ? 0 : fork();
	if (child < 0)
		return 1;
	if (!child && !single)
		k = NR_CHUNKS / 2;	/* the child rewrites other chunks first */
	while (!check_now) {
		gen[k]++;
		fill((uint64_t *)(mem + k * CHUNK), k);
		k = (k + 1) % NR_CHUNKS;
		nanosleep(&ts, NULL);
	}
	return check_all(mem, argv[1]);
}
