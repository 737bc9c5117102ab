// SPDX-License-Identifier: GPL-2.0
/*
 * The task of lazy_pages.py. argv: DIR MiB MODE.
 *
 * It maps MiB of private anonymous memory in 64 KiB chunks, fills each with
 * a pattern of its generation and rewrites one chunk every 10 ms; a second
 * thread sleeps (its stack and TLS are lazy memory too).
 *
 * SIGUSR1 (sent right after a lazy restore): before touching anything it
 * counts its resident pages with mincore() and writes "resident R of N" to
 * DIR/report; then, by MODE:
 *   plain     nothing more;
 *   fork      forks a child that checks every word of its own copy and exits
 *             with the verdict (waited for at the check);
 *   events    madvise(MADV_DONTNEED) of the last 48 to 32 chunks (they must
 *             read zero from then on), munmap of the next 16 and mremap of
 *             the last 16 to a new place (where they are checked from then on);
 * then "running K" to DIR/progress after each chunk it rewrites.
 * SIGUSR2: check every word, write "OK" or the first bad word to DIR/result,
 * exit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64UL << 10)
#define MAX_CHUNKS 16384UL	/* 1 GiB */

enum chunk_state { LIVE, ZERO, GONE };

static volatile sig_atomic_t usr1, usr2;
static uint64_t gen[MAX_CHUNKS];
static uint8_t state[MAX_CHUNKS];
static char *where[MAX_CHUNKS];	/* each chunk's address (mremap moves some) */
static size_t nr_chunks;
static const char *dir;
static pid_t child;

static uint64_t word(size_t c, uint64_t g, size_t i)
{
	return (c * 0x9e3779b97f4a7c15ULL) ^ (g << 40) ^ (i * 0xff51afd7ed558ccdULL) ^ 0x5555;
}

static void fill(size_t c)
{
	uint64_t *p = (uint64_t *)where[c];

	for (size_t i = 0; i < CHUNK / 8; i++)
		p[i] = word(c, gen[c], i);
}

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		usr2 = 1;
}

static void put(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *name, const char *fmt, ...)
{
	char path[4096], tmp[4100];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.t", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	rename(tmp, path);
}

/* the first bad word, or -1 */
static long check_chunk(size_t c)
{
	const uint64_t *p = (const uint64_t *)where[c];

	for (size_t i = 0; i < CHUNK / 8; i++)
		if (p[i] != (state[c] == ZERO ? 0 : word(c, gen[c], i)))
			return (long)i;
	return -1;
}

/* a second thread, alive across the dump: its stack and TLS are private anonymous memory too */
static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int check_all(char *bad, size_t len)
{
	for (size_t c = 0; c < nr_chunks; c++) {
		long i;

		if (state[c] == GONE)
			continue;
		i = check_chunk(c);
		if (i >= 0) {
			snprintf(bad, len, "BAD chunk %zu word %ld: %#llx", c, i,
				 (unsigned long long)((uint64_t *)where[c])[i]);
			return 1;
		}
	}
	return 0;
}

static size_t resident(char *mem)
{
	size_t pages = nr_chunks * CHUNK / 4096, n = 0;
	unsigned char *v = malloc(pages);

	if (!v || mincore(mem, nr_chunks * CHUNK, v))
		return (size_t)-1;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	free(v);
	return n;
}

/* at the top of the memory: the daemon's background copy goes upwards, so these are still to come */
static int do_events(void)
{
	size_t a = nr_chunks - 48, b = nr_chunks - 32, c = nr_chunks - 16;
	char *to;

	if (nr_chunks < 64)
		return -1;
	if (madvise(where[a], 16 * CHUNK, MADV_DONTNEED))
		return -1;
	for (size_t k = a; k < b; k++)
		state[k] = ZERO;
	if (munmap(where[b], 16 * CHUNK))
		return -1;
	for (size_t k = b; k < c; k++)
		state[k] = GONE;
	to = mmap(NULL, 16 * CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		return -1;
	if (mremap(where[c], 16 * CHUNK, 16 * CHUNK, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
		return -1;
	for (size_t k = c; k < nr_chunks; k++)
		where[k] = to + (k - c) * CHUNK;
	return 0;
}

static void on_usr1(char *mem, const char *mode)
{
	size_t r = resident(mem);
	char bad[128];

	put("report", "resident %zu of %zu\n", r, nr_chunks * CHUNK / 4096);
	if (!strcmp(mode, "fork")) {
		child = fork();
		if (child == 0)
			_exit(check_all(bad, sizeof(bad)) ? 1 : 0);
	} else if (!strcmp(mode, "events")) {
		if (do_events())
			put("result", "events failed: %m\n");
	}
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char *mem, bad[128] = "";
	unsigned long k = 0, ran = 0;
	int st;

	if (argc != 4)
		return 2;
	dir = argv[1];
	nr_chunks = strtoul(argv[2], NULL, 10) * (1UL << 20) / CHUNK;
	if (!nr_chunks || nr_chunks > MAX_CHUNKS)
		return 2;
	mem = mmap(NULL, nr_chunks * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	for (size_t c = 0; c < nr_chunks; c++) {
		where[c] = mem + c * CHUNK;
		fill(c);
	}
	if (pthread_create(&(pthread_t){ 0 }, NULL, idle_thread, NULL))
		return 1;
	put("ready", "%d\n", getpid());
	while (!usr2) {
		if (usr1) {
			usr1 = 0;
			on_usr1(mem, argv[3]);
			ran = 1;
		}
		/* rewrite one live chunk; the first after the restore comes from far in the memory */
		k = (k + 97) % nr_chunks;
		if (state[k] == LIVE) {
			gen[k]++;
			fill(k);
		}
		if (ran)
			put("progress", "running %lu\n", ran++);
		nanosleep(&ts, NULL);
	}
	if (check_all(bad, sizeof(bad))) {
		put("result", "%s (here)\n", bad);
		return 1;
	}
	if (child > 0 && (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))) {
		put("result", "BAD in the child (status %#x)\n", st);
		return 1;
	}
	put("result", "OK\n");
	return 0;
}
