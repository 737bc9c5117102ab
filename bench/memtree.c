// SPDX-License-Identifier: GPL-2.0
/*
 * memtree: the tree that the tree benchmark dumps and restores.
 *
 *   memtree NPROC SIZE_MIB REPORT_FILE
 *
 * The root forks NPROC-1 children; each of the NPROC processes then maps
 * SIZE_MIB of private anonymous memory of its own and writes a pattern into
 * every 64-bit word (every page touched, no two pages alike, in one process
 * or across them). When all are filled the root writes "ready PID" to
 * REPORT_FILE. The processes sleep in sigsuspend() (no timer wake-ups).
 *
 *   SIGUSR1 (to the root)  the root passes it on to every child, checks its
 *        own memory, reaps the children (each checks its memory and exits 0
 *        if every word is right, 1 if not) and appends "verify ok|bad ..." to
 *        REPORT_FILE, then exits 0 if all were right.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#define PATTERN_MUL 0x9e3779b97f4a7c15ULL
#define PATTERN_SEED 0x5a5a0f0f12345678ULL
#define MAX_PROC 4096

static volatile sig_atomic_t want_verify;

static void on_usr1(int sig)
{
	(void)sig;
	want_verify = 1;
}

static inline uint64_t pattern(uint64_t k, uint64_t i)
{
	return (i + (k << 40) + PATTERN_SEED) * PATTERN_MUL;
}

static uint64_t *fill(uint64_t k, uint64_t words)
{
	uint64_t *mem = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	for (uint64_t i = 0; i < words; i++)
		mem[i] = pattern(k, i);
	return mem;
}

static uint64_t check(const uint64_t *mem, uint64_t k, uint64_t words)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < words; i++)
		bad += mem[i] != pattern(k, i);
	return bad;
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!want_verify)
		sigsuspend(&none);
}

static void report(const char *path, const char *msg)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0)
		perror("memtree: report");
	close(fd);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	static pid_t kids[MAX_PROC];
	uint64_t words, bad;
	int nproc, ready[2], nbad = 0;
	sigset_t usr1;
	char msg[256], c;
	uint64_t *mem;

	if (argc != 4 || (nproc = atoi(argv[1])) < 1 || nproc > MAX_PROC || atoll(argv[2]) < 1) {
		fprintf(stderr, "usage: memtree NPROC SIZE_MIB REPORT_FILE\n");
		return 2;
	}
	words = (uint64_t)atoll(argv[2]) << 17;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	/* blocked until sigsuspend(): a SIGUSR1 that comes early is not lost */
	if (sigaction(SIGUSR1, &sa, NULL) || sigprocmask(SIG_BLOCK, &usr1, NULL) || pipe(ready)) {
		perror("memtree: setup");
		return 2;
	}
	for (int k = 1; k < nproc; k++) {
		kids[k] = fork();
		if (kids[k] < 0) {
			perror("memtree: fork");
			return 2;
		}
		if (!kids[k]) {
			close(ready[0]);
			mem = fill(k, words);
			if (!mem || write(ready[1], "r", 1) != 1)
				_exit(2);
			close(ready[1]);
			wait_usr1();
			_exit(check(mem, k, words) ? 1 : 0);
		}
	}
	close(ready[1]);
	mem = fill(0, words);
	if (!mem) {
		perror("memtree: mmap");
		return 2;
	}
	for (int k = 1; k < nproc; k++)
		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "memtree: a child failed\n");
			return 2;
		}
	close(ready[0]);
	snprintf(msg, sizeof(msg), "ready %d\n", getpid());
	report(argv[3], msg);

	wait_usr1();
	for (int k = 1; k < nproc; k++)
		kill(kids[k], SIGUSR1);
	bad = check(mem, 0, words);
	for (int k = 1; k < nproc; k++) {
		int st;

		if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st))
			nbad++;
	}
	if (bad || nbad)
		snprintf(msg, sizeof(msg), "verify bad: root %llu words, %d children\n", (unsigned long long)bad, nbad);
	else
		snprintf(msg, sizeof(msg), "verify ok %d processes x %llu bytes\n", nproc,
			 (unsigned long long)words * 8);
	report(argv[3], msg);
	return bad || nbad;
}
