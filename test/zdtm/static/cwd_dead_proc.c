// SPDX-License-Identifier: GPL-2.0
/*
 * cwd_dead_proc: the cwd is /proc/PID of a child that was killed and
 * reaped since: the directory can't be opened or listed any more and
 * getcwd() fails with ENOENT. After the restore it is the same: getcwd()
 * fails with ENOENT, /proc/self/cwd reads "/proc/PID (deleted)" as before,
 * "." can't be stat()ed, and no process has that pid (the restore's helper
 * that had it is gone).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static int read_cwd_link(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/cwd", buf, size - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	char dir[32], before[PATH_MAX], after[PATH_MAX], want[64];
	struct stat st;
	pid_t pid;

	test_init(argc, argv);
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (chdir(dir)) {
		fail("chdir %s", dir);
		kill(pid, SIGKILL);
		return 1;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(want, sizeof(want), "/proc/%d (deleted)", pid);
	if (getcwd(before, sizeof(before)) || errno != ENOENT || read_cwd_link(before, sizeof(before)) ||
	    strcmp(before, want)) {
		fail("the cwd is not a /proc directory of a process that is gone before the dump");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (getcwd(after, sizeof(after)) || errno != ENOENT)
		fail("getcwd() after the restore: %s, not ENOENT", errno ? strerror(errno) : after);
	if (read_cwd_link(after, sizeof(after)))
		fail("can't read /proc/self/cwd after the restore");
	else if (strcmp(after, before))
		fail("the cwd is %s after the restore, was %s", after, before);
	errno = 0;
	if (stat(".", &st) == 0 || errno != ESRCH)
		fail("stat(\".\") after the restore: %s, not ESRCH", errno ? strerror(errno) : "it worked");
	if (kill(pid, 0) == 0 || errno != ESRCH)
		fail("pid %d is alive after the restore", pid);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
