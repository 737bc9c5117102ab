// SPDX-License-Identifier: GPL-2.0
/*
 * stopped00: a child stopped by SIGSTOP at dump time is still stopped after
 * restore (state T), and SIGCONT lets it go on from where it stopped.
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
	int p[2], status;
	char buf[16] = "";
	pid_t child;

	test_init(argc, argv);
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(p[0]);
		kill(getpid(), SIGSTOP);
		/* only reached after SIGCONT */
		if (write(p[1], "continued", 9) != 9)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) {
		fail("the child did not stop");
		return 1;
	}

	test_daemon();
	test_waitsig();

	char st = 0;
	for (int i = 0; i < 1000 && (st = proc_state(child)) != 'T'; i++)
		usleep(1000);
	errno = 0;
	if (st != 'T')
		fail("the child is in state %c after restore, not stopped", st ? st : '?');
	if (kill(child, SIGCONT))
		fail("SIGCONT");
	if (read(p[0], buf, sizeof(buf) - 1) != 9 || strcmp(buf, "continued"))
		fail("the child did not continue after SIGCONT (read '%s')", buf);
	if (test_wait_child(child, 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child did not exit cleanly");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
