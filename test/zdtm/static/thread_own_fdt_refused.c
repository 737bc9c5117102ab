// SPDX-License-Identifier: GPL-2.0
/*
 * thread_own_fdt_refused: a thread that is not the main one unshares its fd
 * table (unshare(CLONE_FILES)) and opens an fd the main thread has not.
 * The restored threads share their task's table, so the dump must refuse,
 * naming the thread; afterwards the fd is still the thread's alone.
 * thread_own_fs_refused builds this test for the fs (CLONE_FS: cwd).
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PROBE_FD 90

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;	/* 1: thread set up, 2: check now, 3: thread checked */
static int thread_bad;

static void set_stage(int s)
{
	pthread_mutex_lock(&lock);
	stage = s;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void wait_stage(int s)
{
	pthread_mutex_lock(&lock);
	while (stage < s)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

/* the thread's own state: true when it is still there */
#ifdef OWN_FS
static int own_setup(void)
{
	return unshare(CLONE_FS) || chdir("/");
}

static bool own_check(bool in_thread)
{
	char cwd[PATH_MAX];

	return getcwd(cwd, sizeof(cwd)) && (strcmp(cwd, "/") == 0) == in_thread;
}
#else
static int own_setup(void)
{
	int fd;

	if (unshare(CLONE_FILES))
		return -1;
	fd = open("/dev/null", O_RDONLY);
	return fd < 0 || dup2(fd, PROBE_FD) != PROBE_FD;
}

static bool own_check(bool in_thread)
{
	return (fcntl(PROBE_FD, F_GETFD) >= 0) == in_thread;
}
#endif

static void *thread_main(void *arg)
{
	if (own_setup())
		thread_bad = 1;
	set_stage(1);
	wait_stage(2);
	if (!own_check(true))
		thread_bad = 2;
	set_stage(3);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	test_init(argc, argv);
#ifdef OWN_FS
	if (chdir("/tmp")) {
		fail("chdir /tmp");
		return 1;
	}
#endif
	if (pthread_create(&th, NULL, thread_main, NULL)) {
		fail("can't start the thread");
		return 1;
	}
	wait_stage(1);
	if (thread_bad) {
		fail("the thread can't set up its own state");
		return 1;
	}
	test_daemon();
	test_waitsig();

	set_stage(2);
	wait_stage(3);
	pthread_join(th, NULL);
	if (thread_bad)
		fail("the thread lost its own state after the refused dump");
	if (!own_check(false))
		fail("the main thread has the thread's own state");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
