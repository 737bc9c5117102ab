// SPDX-License-Identifier: GPL-2.0
/*
 * env00: a plain sleeping process. Checks that memory (data, bss, heap,
 * stack), the environment (getenv and /proc/self/environ, i.e. the mm's
 * env_start/env_end), the command line and the pid survive.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ENV_NAME "ZDTM_ENV00"
#define COUNT 1000000UL
#define TABLE_LEN 4096

static volatile unsigned long counter;
static unsigned long bss_table[TABLE_LEN];
static unsigned long data_table[4] = { 0x1111, 0x2222, 0x3333, 0x4444 };

static unsigned long pattern(unsigned long i, unsigned long seed)
{
	return (i * 2654435761UL) ^ seed;
}

/* Read a whole /proc file; returns its length or -1, *buf malloc'ed. */
static ssize_t read_proc(const char *path, char **ret_buf)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	if (!buf)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return -1;
	}
	*ret_buf = buf;
	return len;
}

static void check_proc_file(const char *path, const char *before, ssize_t before_len)
{
	char *after = NULL;
	ssize_t len = read_proc(path, &after);

	if (len < 0) {
		fail("cannot read %s", path);
		return;
	}
	errno = 0;
	if (len != before_len || memcmp(before, after, len))
		fail("%s changed: %zd bytes before, %zd after", path, before_len, len);
	free(after);
}

int main(int argc, char **argv)
{
	unsigned long stack_table[256], seed, *heap;
	char value[64], *env_before, *cmd_before;
	ssize_t env_len, cmd_len;
	const char *got;
	pid_t pid;

	test_init(argc, argv);
	pid = getpid();
	seed = ((unsigned long)pid << 20) ^ 0x5a5a5a5aUL;

	snprintf(value, sizeof(value), "env00-%d-%lx", pid, seed);
	if (setenv(ENV_NAME, value, 1)) {
		fail("setenv");
		return 1;
	}
	env_len = read_proc("/proc/self/environ", &env_before);
	cmd_len = read_proc("/proc/self/cmdline", &cmd_before);
	if (env_len <= 0 || cmd_len <= 0) {
		fail("cannot read /proc/self/environ or cmdline");
		return 1;
	}
	heap = malloc(TABLE_LEN * sizeof(*heap));
	if (!heap) {
		fail("malloc");
		return 1;
	}
	for (unsigned long i = 0; i < TABLE_LEN; i++) {
		bss_table[i] = pattern(i, seed);
		heap[i] = pattern(i, ~seed);
	}
	for (unsigned long i = 0; i < 256; i++)
		stack_table[i] = pattern(i, seed + 1);
	for (unsigned long i = 0; i < COUNT; i++)
		counter++;

	test_daemon();
	test_waitsig();

	errno = 0;
	if (getpid() != pid)
		fail("pid changed: %d, was %d", getpid(), pid);
	got = getenv(ENV_NAME);
	if (!got || strcmp(got, value))
		fail("getenv(" ENV_NAME ") = '%s', expected '%s'", got ? got : "(null)", value);
	check_proc_file("/proc/self/environ", env_before, env_len);
	check_proc_file("/proc/self/cmdline", cmd_before, cmd_len);
	if (counter != COUNT)
		fail("counter %lu, expected %lu", counter, COUNT);
	counter++;
	if (counter != COUNT + 1)
		fail("counter does not count any more");
	for (unsigned long i = 0; i < TABLE_LEN; i++) {
		if (bss_table[i] != pattern(i, seed)) {
			fail("bss word %lu differs", i);
			break;
		}
		if (heap[i] != pattern(i, ~seed)) {
			fail("heap word %lu differs", i);
			break;
		}
	}
	for (unsigned long i = 0; i < 256; i++) {
		if (stack_table[i] != pattern(i, seed + 1)) {
			fail("stack word %lu differs", i);
			break;
		}
	}
	if (data_table[0] != 0x1111 || data_table[3] != 0x4444)
		fail("data section differs");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
