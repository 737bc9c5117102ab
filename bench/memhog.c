// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: the task that the memory benchmark dumps and restores.
 *
 *   memhog SIZE_MIB REPORT_FILE
 *
 * Maps SIZE_MIB of private anonymous memory, writes a pattern into every
 * 64-bit word (so every page is touched and no two pages are equal), then
 * writes "ready PID" to REPORT_FILE and waits, waking every millisecond to
 * keep the longest gap it saw between two wake-ups (a frozen task does not
 * wake up, so the gap is the freeze time as the task itself saw it).
 *
 *   SIGUSR2  append "gap US" (the longest gap since the last report), reset it
 *   SIGUSR1  check the whole pattern, append "verify ok|bad ..." and exit
 *            0 if every word is right, 1 if not
 *
 * REPORT_FILE is opened for each write and closed again, so the task holds
 * no file descriptor of its own but the three it was started with.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_MUL 0x9e3779b97f4a7c15ULL
#define PATTERN_SEED 0x5a5a0f0f12345678ULL

static volatile sig_atomic_t want_verify, want_gap;

static inline uint64_t pattern(uint64_t i)
{
	return (i + PATTERN_SEED) * PATTERN_MUL;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_verify = 1;
	else
		want_gap = 1;
}

static int report(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int fd, len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != len) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fill(uint64_t *mem, uint64_t words)
{
	for (uint64_t i = 0; i < words; i++)
		mem[i] = pattern(i);
}

/* Returns the number of wrong words; *first gets the index of the first one. */
static uint64_t check(const uint64_t *mem, uint64_t words, uint64_t *first)
{
	uint64_t bad = 0;

	*first = words;
	for (uint64_t i = 0; i < words; i++) {
		if (mem[i] == pattern(i))
			continue;
		if (!bad++)
			*first = i;
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 1000000 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t size, words, max_gap = 0, last;
	const char *rep;
	uint64_t *mem;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: memhog SIZE_MIB REPORT_FILE\n");
		return 2;
	}
	errno = 0;
	size = strtoull(argv[1], &end, 10);
	if (errno || *end || !size || size > (1ULL << 20)) {
		fprintf(stderr, "memhog: bad size '%s'\n", argv[1]);
		return 2;
	}
	size <<= 20;
	words = size / sizeof(uint64_t);
	rep = argv[2];

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGUSR2, &sa, NULL)) {
		perror("memhog: sigaction");
		return 2;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("memhog: mmap");
		return 2;
	}
	fill(mem, words);
	if (report(rep, "ready %d\n", getpid())) {
		perror("memhog: report");
		return 2;
	}

	last = now_us();
	while (!want_verify) {
		uint64_t t;

		nanosleep(&tick, NULL);
		t = now_us();
		if (t - last > max_gap)
			max_gap = t - last;
		last = t;
		if (want_gap) {
			want_gap = 0;
			report(rep, "gap %llu\n", (unsigned long long)max_gap);
			max_gap = 0;
		}
	}

	uint64_t first, bad, t0 = now_us();

	bad = check(mem, words, &first);
	if (bad) {
		report(rep, "verify bad %llu words, first at byte %llu\n", (unsigned long long)bad,
		       (unsigned long long)(first * sizeof(uint64_t)));
		return 1;
	}
	report(rep, "verify ok %llu bytes in %llu us\n", (unsigned long long)size,
	       (unsigned long long)(now_us() - t0));
	return 0;
}
