// SPDX-License-Identifier: GPL-2.0
/*
 * zombie00: two zombie children, one exited with code 42, one killed by
 * SIGUSR2. After restore both are still zombies of the test (state Z in
 * /proc, ppid = us), waitid(WNOWAIT) reports the same exit, reaping them
 * gives the same wait status, and the test has no other children.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct zombie {
	pid_t pid;
	int code;	/* CLD_EXITED or CLD_KILLED */
	int status;	/* exit code or signal */
};

static int proc_state(pid_t pid, char *ret_state, pid_t *ret_ppid)
{
	char path[64], buf[512], *p;
	int ppid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')) || sscanf(p + 2, "%c %d", ret_state, &ppid) != 2)
		return -EINVAL;
	*ret_ppid = ppid;
	return 0;
}

static int check_exit_info(const struct zombie *z, const char *when)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, z->pid, &si, WEXITED | WNOWAIT)) {
		fail("%s: waitid(%d, WNOWAIT)", when, z->pid);
		return -1;
	}
	errno = 0;
	if (si.si_pid != z->pid || si.si_code != z->code || si.si_status != z->status) {
		fail("%s: zombie %d: code %d status %d, expected code %d status %d", when,
		     z->pid, si.si_code, si.si_status, z->code, z->status);
		return -1;
	}
	return 0;
}

static void check_zombie(const struct zombie *z)
{
	char state = '?', buf[64];
	pid_t ppid = 0;
	int ret, status;

	ret = proc_state(z->pid, &state, &ppid);
	if (ret) {
		errno = -ret;
		fail("zombie %d is gone from /proc", z->pid);
		return;
	}
	errno = 0;
	if (state != 'Z' || ppid != getpid())
		fail("%d: state %c ppid %d, expected a zombie child of %d", z->pid, state, ppid,
		     getpid());
	check_exit_info(z, "after restore");
	if (waitpid(z->pid, &status, WNOHANG) != z->pid) {
		fail("waitpid(%d) did not reap it", z->pid);
		return;
	}
	errno = 0;
	if (z->code == CLD_EXITED && !(WIFEXITED(status) && WEXITSTATUS(status) == z->status))
		fail("%d: %s, expected exit %d", z->pid, test_status_str(status, buf, sizeof(buf)),
		     z->status);
	if (z->code == CLD_KILLED && !(WIFSIGNALED(status) && WTERMSIG(status) == z->status))
		fail("%d: %s, expected signal %d", z->pid,
		     test_status_str(status, buf, sizeof(buf)), z->status);
}

int main(int argc, char **argv)
{
	struct zombie z[2] = {
		{ .code = CLD_EXITED, .status = 42 },
		{ .code = CLD_KILLED, .status = SIGUSR2 },
	};

	test_init(argc, argv);
	signal(SIGCHLD, SIG_DFL);
	for (int i = 0; i < 2; i++) {
		z[i].pid = fork();
		if (z[i].pid < 0) {
			fail("fork");
			return 1;
		}
		if (z[i].pid == 0) {
			if (z[i].code == CLD_KILLED) {
				signal(z[i].status, SIG_DFL);
				raise(z[i].status);
			}
			_exit(42);
		}
		/* wait until it is a zombie, without reaping it */
		if (check_exit_info(&z[i], "before dump"))
			return 1;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++)
		check_zombie(&z[i]);
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		fail("the test has children it did not create");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
