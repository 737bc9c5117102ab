// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_thread00: a second thread of the task is in a cgroup of its own
 * (v1 pids: through "tasks"; without v1 pids, a threaded cgroup2 child
 * through "cgroup.threads"), below the task's. After restore (or --norst)
 * the thread and the leader are each in theirs.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "cgroup_test.h"

#ifndef TEST_NAME
#define TEST_NAME "cgroup_thread00"
#endif

static pid_t thread_tid;
static int ready[2], go[2];

static void *thread_fn(void *arg)
{
	char c;

	thread_tid = (pid_t)syscall(SYS_gettid);
	if (write(ready[1], "x", 1) != 1)
		return NULL;
	while (read(go[0], &c, 1) <= 0)
		;
	return NULL;
}

int main(int argc, char **argv)
{
#ifdef CGT_THREAD_V2
	const char *name = "", *file = "cgroup.threads";	/* cgroup_thread01 */
#else
	const char *name = "pids", *file = "tasks";
#endif
	char mnt[PATH_MAX], base[PATH_MAX], own[PATH_MAX], thr[PATH_MAX], now[PATH_MAX], who[64], c;
	pthread_t t;

	test_init(argc, argv);
	if (cgt_mount(name, mnt, sizeof(mnt))) {
		name = "";
		file = "cgroup.threads";
		if (cgt_mount(name, mnt, sizeof(mnt))) {
			fail("neither a pids nor a cgroup2 hierarchy is mounted");
			return 1;
		}
	}
	if (cgt_path("self", name, base, sizeof(base)) || pipe(go) || pipe(ready) ||
	    pthread_create(&t, NULL, thread_fn, NULL) || read(ready[0], &c, 1) != 1) {
		fail("can't set up");
		return 1;
	}
	cgt_own_name(base, TEST_NAME, getpid(), own, sizeof(own));
	snprintf(thr, sizeof(thr), "%s/thread", own);
	if (cgt_mkdir(mnt, own) || cgt_mkdir(mnt, thr) || (!name[0] && cgt_write(mnt, thr, "cgroup.type", "threaded")) ||
	    cgt_move(mnt, own, "cgroup.procs", getpid()) || cgt_move(mnt, thr, file, thread_tid)) {
		fail("can't put the thread %d into %s%s", thread_tid, mnt, thr);
		goto out;
	}
	test_daemon();
	test_waitsig();

	snprintf(who, sizeof(who), "self/task/%d", thread_tid);
	if (cgt_path(who, name, now, sizeof(now)) || strcmp(now, thr))
		fail("the thread is in '%s', expected '%s'", now, thr);
	if (cgt_path("self", name, now, sizeof(now)) || strcmp(now, own))
		fail("the leader is in '%s', expected '%s'", now, own);
out:
	if (write(go[1], "x", 1) == 1)
		pthread_join(t, NULL);
	cgt_move(mnt, base, "cgroup.procs", getpid());
	cgt_rmdir(mnt, thr);
	cgt_rmdir(mnt, own);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
