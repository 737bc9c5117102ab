// SPDX-License-Identifier: GPL-2.0
/*
 * ns_uts_thread_refused: one thread (not the main one) unshares a UTS
 * namespace and names its host; the rest of the process stays in criu's.
 * The dump must look at every thread, not only the main one: it must refuse,
 * and afterwards the thread still has its own name and the main thread the
 * old one.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ns_refused.h"

#define HOST "zdtm-uts-thread"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;		/* 1: thread set up, 2: check now, 3: thread checked */
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

static void *thread_main(void *arg)
{
	char host[64] = "";

	if (unshare(CLONE_NEWUTS) || sethostname(HOST, strlen(HOST)))
		thread_bad = 1;
	set_stage(1);
	wait_stage(2);
	if (gethostname(host, sizeof(host)) || strcmp(host, HOST))
		thread_bad = 2;
	set_stage(3);
	return NULL;
}

int main(int argc, char **argv)
{
	char before[64] = "", after[64] = "";
	pthread_t th;

	test_init(argc, argv);
	if (gethostname(before, sizeof(before)) || pthread_create(&th, NULL, thread_main, NULL)) {
		fail("can't start the thread");
		return 1;
	}
	wait_stage(1);
	if (thread_bad) {
		fail("the thread can't unshare its UTS namespace");
		return 1;
	}
	test_daemon();
	test_waitsig();

	set_stage(2);
	wait_stage(3);
	pthread_join(th, NULL);
	if (thread_bad)
		fail("the thread's hostname is not its own any more after the refused dump");
	if (gethostname(after, sizeof(after)) || strcmp(after, before))
		fail("the main thread's hostname is '%s', was '%s'", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
