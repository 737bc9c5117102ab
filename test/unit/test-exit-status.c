// SPDX-License-Identifier: GPL-2.0
/*
 * exit_with_status() (criu/exit-status.c) under a core_pattern that pipes
 * the core to a program: the kernel pipes a core whatever RLIMIT_CORE is
 * (but 1), so a zombie or reaped pidfd target must not dump one, with or
 * without the core-dump bit in its dumped status: no crash report for the
 * host's collector, and no core-dump bit a status without it would not have.
 * Under the host's own pattern, when it names a file, a status with the bit
 * still gets it (the scratch core), and under a relative pattern with a
 * directory in it (made in the scratch root).
 *
 * core_pattern is the host's: the test sets another for the few milliseconds
 * a process or two take to end and puts the old pattern back at once. Needs
 * root; exit 77 when core_pattern can't be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit-status.h"
#include "tap.h"

#define PATTERN "/proc/sys/kernel/core_pattern"

static int write_pattern(const char *p)
{
	int fd = open(PATTERN, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, p, strlen(p));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(p) ? 0 : -1;
}

/* The wait status of a child that ends itself with exit_with_status(status). */
static int end_child(int proc, int status)
{
	int got = -1;
	pid_t pid = fork();

	if (pid == 0)
		exit_with_status(proc, status, NULL);
	if (pid < 0 || waitpid(pid, &got, 0) != pid)
		return -1;
	return got;
}

int main(void)
{
	char old[4096] = "", pipe_pattern[256];
	const char *reader = access("/bin/dd", X_OK) ? "/usr/bin/dd" : "/bin/dd";
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int plain, cored;

	if (proc < 0 || read_core_pattern(proc, old, sizeof(old)) || access(reader, X_OK)) {
		printf("# SKIP: no /proc, core_pattern or dd\n");
		return 77;
	}
	/* a reader that takes the whole core: the kernel then counts it as dumped */
	snprintf(pipe_pattern, sizeof(pipe_pattern), "|%s of=/dev/null status=none", reader);
	if (write_pattern(pipe_pattern)) {
		printf("# SKIP: can't write %s: %s\n", PATTERN, strerror(errno));
		return 77;
	}
	plain = end_child(proc, SIGSEGV);
	cored = end_child(proc, SIGSEGV | WCOREFLAG);
	if (write_pattern(old))
		fprintf(stderr, "can't put core_pattern '%s' back: %s\n", old, strerror(errno));

	check(plain >= 0 && WIFSIGNALED(plain) && WTERMSIG(plain) == SIGSEGV && !WCOREDUMP(plain),
	      "pipe pattern: SIGSEGV without the core bit ends so, nothing piped (status %#x)", plain);
	check(cored >= 0 && WIFSIGNALED(cored) && WTERMSIG(cored) == SIGSEGV && !WCOREDUMP(cored),
	      "pipe pattern: SIGSEGV with the core bit pipes no core, the bit is missing (status %#x)", cored);
	check(check_exit_status(proc, "test child", cored, SIGSEGV | WCOREFLAG) == -EOPNOTSUPP,
	      "pipe pattern: the missing bit is refused as not restorable here");

	/* a relative pattern with a directory: made in the scratch root too */
	if (write_pattern("criu-test-exit-status.d/core")) {
		check(0, "can't set a relative core_pattern: %s", strerror(errno));
	} else {
		cored = end_child(proc, SIGSEGV | WCOREFLAG);
		if (write_pattern(old))
			fprintf(stderr, "can't put core_pattern '%s' back: %s\n", old, strerror(errno));
		check(cored >= 0 && WIFSIGNALED(cored) && WCOREDUMP(cored),
		      "pattern 'dir/core': the core bit is made, the directory made in the scratch root (status %#x)",
		      cored);
	}

	if (core_pattern_is_file(old)) {
		cored = end_child(proc, SIGSEGV | WCOREFLAG);
		check(cored >= 0 && WIFSIGNALED(cored) && WCOREDUMP(cored),
		      "file pattern '%s': the core bit is made by a scratch core (status %#x)", old, cored);
	}
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
