// SPDX-License-Identifier: GPL-2.0
/*
 * pgid_orphan: a process group whose leader is gone. A makes a group of its
 * own; B (live) and Z (a zombie, not reaped) join it; A exits and is reaped.
 * The restore makes the group with a helper of A's pid that goes once B and
 * Z are in it: after the restore B and Z are still in A's group, Z is
 * still a zombie with its exit code, and the helper left no child behind.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* fork a child that joins group pgid and waits on fd (or exits with code when fd < 0) */
static pid_t joiner(pid_t pgid, int fd, int code)
{
	pid_t pid = fork();
	char c;

	if (pid)
		return pid;
	if (setpgid(0, pgid))
		_exit(90);
	if (fd < 0)
		_exit(code);
	if (read(fd, &c, 1) != 1)
		_exit(91);
	_exit(getpgid(0) == pgid ? 0 : 92);
}

int main(int argc, char **argv)
{
	int ready[2], go[2], status;
	pid_t a, b, z;
	siginfo_t si;
	char c;

	test_init(argc, argv);
	if (pipe(ready) || pipe(go)) {
		fail("pipe");
		return 1;
	}
	a = fork();
	if (a < 0) {
		fail("fork");
		return 1;
	}
	if (a == 0) {
		/* lead a group, say so, and live until told to go */
		if (setpgid(0, 0) || write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1) {
		fail("A did not start");
		return 1;
	}
	b = joiner(a, go[0], 0);
	z = joiner(a, -1, 7);
	if (b < 0 || z < 0) {
		fail("fork");
		return 1;
	}
	/* Z exited: wait for it without reaping it */
	if (waitid(P_PID, z, &si, WEXITED | WNOWAIT) || si.si_status != 7) {
		fail("Z did not exit with 7");
		return 1;
	}
	/* the parent too (either may run first) */
	if (setpgid(b, a) || getpgid(b) != a) {
		fail("B is not in A's group");
		return 1;
	}
	/* A goes, B stays (it reads go only after the restore) */
	kill(a, SIGKILL);
	if (waitpid(a, &status, 0) != a) {
		fail("waitpid A");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (getpgid(b) != a)
		fail("B left A's group: %d", getpgid(b));
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != z || si.si_status != 7)
		fail("Z is not a zombie with exit code 7 any more");
	if (getpgid(z) != a)
		fail("Z left A's group: %d", getpgid(z));
	if (write(go[1], "g", 1) != 1 || test_wait_child(b, 15, &status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		char buf[64];

		fail("B: %s", test_status_str(status, buf, sizeof(buf)));
	}
	waitpid(z, &status, 0);
	/* B and Z reaped: no other child (the helper) is left */
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		fail("a child other than B and Z is left");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
