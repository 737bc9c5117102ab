// SPDX-License-Identifier: GPL-2.0
/*
 * stopped01: a child stopped by SIGTSTP (in a process group of its own, not
 * orphaned: its parent is in another group of the session) is stopped again
 * after restore by the same signal: the parent's waitid(WSTOPPED) reports
 * SIGTSTP, not SIGSTOP. Without a restore (--norst) the stop was reported
 * before the dump and nothing new comes. SIGCONT lets it go on, its second
 * thread too.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* the state letter of /proc/PID/task/TID/stat (tid = pid: the leader) */
static char proc_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

static int tp[2], tq[2];	/* to the thread, from it */

static void *thread_main(void *arg)
{
	char c;

	/* answers once the group is let go: a thread left stopped never does */
	while (read(tp[0], &c, 1) == 1)
		if (write(tq[1], "t", 1) != 1)
			break;
	return NULL;
}

/* every thread of pid is stopped (the group stop reached them all) */
static void threads_stopped(pid_t pid)
{
	char path[64], st = 0;
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		fail("opendir %s", path);
		return;
	}
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		n++;
		for (int i = 0; i < 1000 && (st = proc_state(pid, tid)) != 'T'; i++)
			usleep(1000);
		if (st != 'T')
			fail("thread %d is in state %c, not stopped", tid, st ? st : '?');
	}
	closedir(d);
	if (n != 2)
		fail("the child has %d threads, not 2", n);
}

int main(int argc, char **argv)
{
	int p[2], status;
	char buf[16] = "", st = 0;
	siginfo_t si;
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
		pthread_t t;
		char c;

		close(p[0]);
		if (setpgid(0, 0))
			_exit(3);
		if (pipe(tp) || pipe(tq) || pthread_create(&t, NULL, thread_main, NULL))
			_exit(4);
		kill(getpid(), SIGTSTP);
		/* only reached after SIGCONT; the thread runs again too */
		if (write(tp[1], "x", 1) != 1 || read(tq[0], &c, 1) != 1)
			_exit(5);
		if (write(p[1], "continued", 9) != 9)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	setpgid(child, child);
	if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTSTP) {
		fail("the child did not stop by SIGTSTP (status %#x)", status);
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 1000 && (st = proc_state(child, child)) != 'T'; i++)
		usleep(1000);
	errno = 0;
	if (st != 'T')
		fail("the child is in state %c after restore, not stopped", st ? st : '?');
	threads_stopped(child);
	/* a restored child stops anew: its parent hears of it */
	memset(&si, 0, sizeof(si));
	for (int i = 0; i < 200 && !si.si_pid; i++) {
		if (waitid(P_PID, child, &si, WSTOPPED | WNOHANG)) {
			fail("waitid");
			break;
		}
		if (!si.si_pid)
			usleep(1000);
	}
	if (si.si_pid && (si.si_code != CLD_STOPPED || si.si_status != SIGTSTP))
		fail("waitid after restore: code %d status %d, want CLD_STOPPED by SIGTSTP (%d)", si.si_code,
		     si.si_status, SIGTSTP);
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
