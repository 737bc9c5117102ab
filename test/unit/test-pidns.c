// SPDX-License-Identifier: GPL-2.0
/*
 * pidns.c on real processes: a tree rooted at the init of its own pid
 * namespace gets the pids seen inside it (vpid, vtids, vpgid, vsid) and the
 * tree's pid_ns_id; a tree in criu's namespace keeps its pids; a tree with
 * a namespace nested below the root gets every level's pids and its root's
 * pid_for_children; a root that is not its namespace's init is refused,
 * leaving the tasks running. Plus pidns_innermost() on made-up
 * status data. TAP output; exit 0 when every check passed.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pidns.h"
#include "proc_parse.h"
#include "pstree.h"
#include "seize.h"
#include "tap.h"

/* What the namespace's init tells us: the pids inside. */
struct ns_report {
	pid_t a, a_thread, b;
};

static void *thread_main(void *arg)
{
	pid_t tid = syscall(SYS_gettid);

	if (write(*(int *)arg, &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	for (;;)
		pause();
	return NULL;
}

/* A: a second thread, then sleep. Reports the thread's tid on fd. */
static void __attribute__((noreturn)) a_main(int fd)
{
	pthread_t th;

	if (pthread_create(&th, NULL, thread_main, &fd))
		_exit(1);
	for (;;)
		pause();
}

/* N, init of the new namespace: its own session, children A and B, then report. */
static void __attribute__((noreturn)) n_main(int report_fd)
{
	struct ns_report r;
	int p[2];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setsid() < 0 || pipe(p))
		_exit(1);
	r.a = fork();
	if (r.a == 0)
		a_main(p[1]);
	if (read(p[0], &r.a_thread, sizeof(r.a_thread)) != sizeof(r.a_thread))
		_exit(1);
	r.b = fork();
	if (r.b == 0) {
		for (;;)
			pause();
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	for (;;)
		pause();
}

/* P, in our namespace: unshares one and forks its init N. */
static pid_t start_ns(int report_fd, pid_t *ret_n)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		pid_t n;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID))
			_exit(1);
		n = fork();
		if (n == 0)
			n_main(report_fd);
		if (write(p[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], ret_n, sizeof(*ret_n)) != sizeof(*ret_n))
		pid = -1;
	close(p[0]);
	return pid;
}

/* The first pid in /proc/PID/task/PID/children (criu's view). */
static pid_t first_child(pid_t pid)
{
	char path[64];
	FILE *f;
	int c = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &c) != 1)
		c = -1;
	fclose(f);
	return c;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] ? p[2] : 0;
}

/* Running or sleeping: neither left stopped by ptrace nor dead. */
static bool runs(pid_t pid)
{
	char st = proc_state(pid);

	return st == 'S' || st == 'R';
}

static void test_own_ns(pid_t n, const struct ns_report *r)
{
	struct pstree t;
	struct pstree_item *item, *a = NULL, *b = NULL;
	int ret, bad = 0;

	ret = collect_and_seize_tree(n, &t);
	check(ret == 0, "seize the tree of namespace init %d (%d)", n, ret);
	if (ret)
		return;
	check(t.ns_flags == CLONE_NEWPID, "ns_flags is CLONE_NEWPID (%#lx)", t.ns_flags);
	check(t.nr_items == 3, "3 tasks (%d)", t.nr_items);
	check(t.root->vpid == 1 && t.root->vpgid == 1 && t.root->vsid == 1,
	      "the root is pid 1, group 1, session 1 inside (%d %d %d) and %d outside", t.root->vpid, t.root->vpgid,
	      t.root->vsid, t.root->pid);
	for_each_pstree_item(&t, item) {
		if (item->pid_ns_id != PIDNS_ID_TREE || !item->vtids || item->vtids[0] != item->vpid)
			bad++;
		if (item->vpid == r->a)
			a = item;
		if (item->vpid == r->b)
			b = item;
	}
	check(!bad, "every task has the tree's pid_ns_id and vtids[0] == vpid");
	check(a && a->nr_threads == 2 && a->vtids[1] == r->a_thread && a->pid != a->vpid,
	      "A is %d inside (%d outside), its thread %d inside", r->a, a ? a->pid : 0, r->a_thread);
	check(b && b->parent == t.root && b->vpgid == 1 && b->vsid == 1, "B is %d inside, child of the init",
	      r->b);
	resume_tree(&t);
	pstree_free(&t);
}

/* P, in our namespace, with its child N, the init of a namespace nested below P's: every level's pid. */
static void test_nested(pid_t p, pid_t n, const struct ns_report *r)
{
	struct pstree_item *item, *ni = NULL, *a = NULL;
	struct pstree t;
	int ret;

	ret = collect_and_seize_tree(p, &t);
	check(ret == 0, "a pid namespace nested below the root is collected (%d)", ret);
	if (ret)
		return;
	for_each_pstree_item(&t, item) {
		if (item->pid == n)
			ni = item;
		if (item->parent && item->parent->pid == n && item->ns_depth == 1 && item->ns_tids[0] == r->a)
			a = item;
	}
	check(t.root->ns_depth == 0 && t.root->pfc_vpid == n && t.ns_flags == 0,
	      "P is in the tree's namespace and makes its children in N's (pid_for_children %d)", t.root->pfc_vpid);
	check(ni && ni->vpid == n && ni->ns_depth == 1 && ni->ns_tids[0] == 1, "N is %d in P's namespace and 1 below",
	      n);
	check(a && a->nr_threads == 2 && a->ns_tids[1] == r->a_thread && a->vtids[0] == a->pid,
	      "A is %d below, its thread %d", r->a, r->a_thread);
	resume_tree(&t);
	pstree_free(&t);
	check(runs(p) && runs(n), "and the tasks run on (%c %c)", proc_state(p), proc_state(n));
}

static void test_refused(pid_t a_outer)
{
	struct pstree t;
	int ret;

	ret = collect_and_seize_tree(a_outer, &t);
	check(ret == -EOPNOTSUPP, "a root that is not its namespace's init is refused (%d)", ret);
	check(runs(a_outer), "and it runs on (%c)", proc_state(a_outer));
}

static void test_criu_ns(void)
{
	struct pstree t;
	pid_t s = fork();
	int ret;

	if (s == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	ret = collect_and_seize_tree(s, &t);
	check(ret == 0 && t.ns_flags == 0 && t.root->vpid == s && t.root->vtids[0] == s &&
		      t.root->vpgid == t.root->pgid && t.root->pid_ns_id == PIDNS_ID_CRIU,
	      "a task in our namespace keeps its pids (%d, flags %#lx, vpid %d)", ret, ret ? 0 : t.ns_flags,
	      ret ? 0 : t.root->vpid);
	if (!ret) {
		resume_tree(&t);
		pstree_free(&t);
	}
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
}

static void test_innermost(void)
{
	struct proc_status st = { .ns_levels = 3 };
	pid_t pid = 0, pgid = 0, sid = 0;
	int ret;

	st.nspid[0] = 100, st.nspid[1] = 20, st.nspid[2] = 3;
	st.nspgid[2] = 1;
	st.nssid[2] = 0;
	ret = pidns_innermost(&st, &pid, &pgid, &sid);

	check(!ret && pid == 3 && pgid == 1 && sid == 0, "pidns_innermost takes the last column (%d %d %d)", pid,
	      pgid, sid);
	st.ns_levels = 0;
	check(pidns_innermost(&st, &pid, NULL, NULL) == -EINVAL, "no NSpid column: -EINVAL");
}

int main(void)
{
	struct ns_report r;
	int rp[2];
	pid_t p, n, a_outer;

	test_innermost();
	test_criu_ns();

	if (pipe(rp)) {
		printf("not ok 1 - pipe\n");
		return 1;
	}
	p = start_ns(rp[1], &n);
	if (p < 0 || read(rp[0], &r, sizeof(r)) != sizeof(r)) {
		printf("1..0 # SKIP can't make a pid namespace here\n");
		return 77;
	}
	a_outer = first_child(n);
	test_own_ns(n, &r);
	test_nested(p, n, &r);
	test_refused(a_outer);

	kill(n, SIGKILL);	/* the init's death ends the namespace */
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
