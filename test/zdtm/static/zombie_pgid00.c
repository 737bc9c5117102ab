// SPDX-License-Identifier: GPL-2.0
/*
 * zombie_pgid00: a process group whose leader is a zombie. L leads its own
 * group and exits (the test does not reap it); its sibling M joined L's group
 * before. After restore L is still a zombie with its exit code, and M is
 * still in L's group (the group outlives its leader).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

int main(int argc, char **argv)
{
	int go[2], done[2], status;
	pid_t l, m, pg = -1;
	char c;

	test_init(argc, argv);
	if (pipe(go) || pipe(done)) {
		fail("pipe");
		return 1;
	}
	l = fork();
	if (l == 0) {
		setpgid(0, 0);
		/* wait until M joined, then exit */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(23);
	}
	m = fork();
	if (m == 0) {
		while (getpgid(l) != l)
			usleep(1000);
		if (setpgid(0, l))
			_exit(3);
		if (write(go[1], "j", 1) != 1)
			_exit(4);
		test_waitsig();
		pg = getpgid(0);
		if (write(done[1], &pg, sizeof(pg)) != sizeof(pg))
			_exit(5);
		_exit(0);
	}
	if (l < 0 || m < 0) {
		fail("fork");
		return 1;
	}
	for (int i = 0; proc_state(l) != 'Z'; i++) {
		if (i > 10000) {
			fail("L did not exit");
			return 1;
		}
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (proc_state(l) != 'Z')
		fail("L is in state %c, not a zombie", proc_state(l));
	kill(m, SIGTERM);
	if (read(done[0], &pg, sizeof(pg)) != sizeof(pg))
		fail("M did not answer");
	else if (pg != l)
		fail("M is in group %d, expected the zombie leader's %d", pg, l);
	if (waitpid(l, &status, 0) != l || !WIFEXITED(status) || WEXITSTATUS(status) != 23)
		fail("L: wait status %#x, expected exit 23", status);
	if (test_wait_child(m, 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("M did not exit cleanly");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
