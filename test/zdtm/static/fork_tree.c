// SPDX-License-Identifier: GPL-2.0
/*
 * fork_tree: a 3-level process tree with its own sessions and groups.
 *
 *   R  session leader (sid R, pgid R)           test root
 *   +- A  own group (pgid A, sid R)
 *   |  +- B  in A's group (pgid A, sid R)
 *   +- C  own session (sid C, pgid C)
 *      +- D  own group in C's session (pgid D, sid C)
 *
 * Every process checks its own pid, ppid, pgid and sid after restore; the
 * root also checks everybody's ppid/pgrp/session through /proc/PID/stat.
 * SIGTERM goes from the root down the tree; each parent checks its child's
 * exit status.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

enum { P_R, P_A, P_B, P_C, P_D, NR_PROCS };
static const char names[NR_PROCS] = { 'R', 'A', 'B', 'C', 'D' };

struct ids {
	pid_t pid, ppid, pgid, sid;
};

struct ready_msg {
	int who;
	struct ids ids;
};

static struct ids expect[NR_PROCS];
static int ready_pipe[2] = { -1, -1 };

static void get_ids(struct ids *ids)
{
	ids->pid = getpid();
	ids->ppid = getppid();
	ids->pgid = getpgid(0);
	ids->sid = getsid(0);
}

static int check_ids(int who, const struct ids *want)
{
	struct ids now;

	get_ids(&now);
	/* the root's parent is the runner, which the test does not control */
	if (who == P_R)
		now.ppid = want->ppid;
	errno = 0;
	if (memcmp(&now, want, sizeof(now))) {
		fail("%c: pid/ppid/pgid/sid now %d/%d/%d/%d, expected %d/%d/%d/%d", names[who],
		     now.pid, now.ppid, now.pgid, now.sid, want->pid, want->ppid, want->pgid,
		     want->sid);
		return -1;
	}
	return 0;
}

/* ppid, pgrp and session of another process, from /proc/PID/stat */
static int read_stat_ids(pid_t pid, struct ids *ret)
{
	char path[64], buf[1024], *p;
	int ppid, pgrp, sid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -EINVAL;
	if (sscanf(p + 2, "%*c %d %d %d", &ppid, &pgrp, &sid) != 3)
		return -EINVAL;
	ret->pid = pid;
	ret->ppid = ppid;
	ret->pgid = pgrp;
	ret->sid = sid;
	return 0;
}

static void report_ready(int who)
{
	struct ready_msg msg = { .who = who };

	get_ids(&msg.ids);
	if (write(ready_pipe[1], &msg, sizeof(msg)) != sizeof(msg))
		fail("%c: cannot report ready", names[who]);
	close(ready_pipe[1]);
}

/* Forward SIGTERM to the child, check own ids, reap the child. */
static int finish_node(int who, const struct ids *mine, pid_t child)
{
	char buf[64];
	int status, ret = 0;

	if (child > 0 && kill(child, SIGTERM)) {
		fail("%c: kill(%d, SIGTERM)", names[who], child);
		ret = -1;
	}
	if (check_ids(who, mine))
		ret = -1;
	if (child > 0) {
		if (test_wait_child(child, 20, &status)) {
			fail("%c: waiting for child %d", names[who], child);
			return -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			errno = 0;
			fail("%c: child %d %s", names[who], child,
			     test_status_str(status, buf, sizeof(buf)));
			ret = -1;
		}
	}
	return ret;
}

/* A leaf or middle node: set up, report, wait for SIGTERM, check. */
static void __attribute__((noreturn)) run_node(int who, int child_who)
{
	struct ids mine;
	pid_t child = 0;

	close(ready_pipe[0]);
	if (who == P_A || who == P_D) {
		if (setpgid(0, 0)) {
			fail("%c: setpgid", names[who]);
			exit(1);
		}
	} else if (who == P_C) {
		if (setsid() < 0) {
			fail("%c: setsid", names[who]);
			exit(1);
		}
	}
	if (child_who >= 0) {
		child = fork();
		if (child < 0) {
			fail("%c: fork", names[who]);
			exit(1);
		}
		if (child == 0)
			run_node(child_who, -1);
	}
	get_ids(&mine);
	report_ready(who);
	test_waitsig();
	exit(finish_node(who, &mine, child) ? 1 : 0);
}

static pid_t fork_node(int who, int child_who)
{
	pid_t pid = fork();

	if (pid == 0)
		run_node(who, child_who);
	return pid;
}

static int collect_ready(void)
{
	struct ready_msg msg;
	int seen = 0;
	ssize_t n;

	while ((n = read(ready_pipe[0], &msg, sizeof(msg))) == sizeof(msg)) {
		if (msg.who <= P_R || msg.who >= NR_PROCS || (seen & (1 << msg.who)))
			return -EINVAL;
		expect[msg.who] = msg.ids;
		seen |= 1 << msg.who;
	}
	/* EOF: every process has closed its write end */
	if (n != 0 || seen != 0x1e)
		return -EINVAL;
	return 0;
}

static void check_structure(void)
{
	static const int parent[NR_PROCS] = { -1, P_R, P_A, P_R, P_C };
	static const int group[NR_PROCS] = { P_R, P_A, P_A, P_C, P_D };
	static const int session[NR_PROCS] = { P_R, P_R, P_R, P_C, P_C };

	errno = 0;
	for (int i = P_A; i < NR_PROCS; i++) {
		struct ids *e = &expect[i];

		/* R leads its session when run by the runner, not always by hand */
		pid_t sid = session[i] == P_R ? expect[P_R].sid : expect[session[i]].pid;

		if (e->ppid != expect[parent[i]].pid || e->pgid != expect[group[i]].pid ||
		    e->sid != sid)
			fail("setup: %c has ppid/pgid/sid %d/%d/%d", names[i], e->ppid, e->pgid,
			     e->sid);
	}
}

static void check_from_proc(void)
{
	for (int i = P_A; i < NR_PROCS; i++) {
		struct ids now;
		int ret = read_stat_ids(expect[i].pid, &now);

		if (ret) {
			errno = -ret;
			fail("R: /proc/%d/stat (%c)", expect[i].pid, names[i]);
			continue;
		}
		errno = 0;
		if (memcmp(&now, &expect[i], sizeof(now)))
			fail("R: /proc says %c (%d) has ppid/pgrp/session %d/%d/%d, expected %d/%d/%d",
			     names[i], now.pid, now.ppid, now.pgid, now.sid, expect[i].ppid,
			     expect[i].pgid, expect[i].sid);
	}
}

/* setup failed: nobody will forward SIGTERM, so do not leave the tree behind */
static void kill_tree(pid_t a, pid_t c)
{
	for (int i = P_A; i < NR_PROCS; i++)
		if (expect[i].pid > 0)
			kill(expect[i].pid, SIGKILL);
	if (a > 0)
		kill(a, SIGKILL);
	if (c > 0)
		kill(c, SIGKILL);
}

int main(int argc, char **argv)
{
	int ret = 0, status;
	pid_t a, c;
	char buf[64];

	test_init(argc, argv);
	if (pipe2(ready_pipe, O_CLOEXEC)) {
		fail("pipe2");
		return 1;
	}
	get_ids(&expect[P_R]);
	a = fork_node(P_A, P_B);
	c = fork_node(P_C, P_D);
	close(ready_pipe[1]);
	if (a < 0 || c < 0) {
		fail("fork");
		return 1;
	}
	if (collect_ready()) {
		errno = 0;
		fail("the tree did not come up");
		kill_tree(a, c);
		return 1;
	}
	close(ready_pipe[0]);
	check_structure();
	if (test_failed()) {
		kill_tree(a, c);
		return 1;
	}
	test_msg("tree: R %d A %d B %d C %d D %d\n", expect[P_R].pid, expect[P_A].pid,
		 expect[P_B].pid, expect[P_C].pid, expect[P_D].pid);

	test_daemon();
	test_waitsig();

	/* look at the whole tree before anybody exits */
	check_from_proc();
	if (check_ids(P_R, &expect[P_R]))
		ret = 1;
	for (pid_t *p = (pid_t[]){ a, c, 0 }; *p; p++) {
		if (kill(*p, SIGTERM)) {
			fail("R: kill(%d, SIGTERM)", *p);
			continue;
		}
		if (test_wait_child(*p, 30, &status)) {
			fail("R: waiting for %d", *p);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			errno = 0;
			fail("R: child %d %s", *p, test_status_str(status, buf, sizeof(buf)));
		}
	}
	if (ret || test_failed())
		return 1;
	pass();
	return 0;
}
