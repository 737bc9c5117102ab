// SPDX-License-Identifier: GPL-2.0
/*
 * VMAs read ahead (maps-ahead.h): one thread per CPU criu may use but one
 * (AHEAD_MAX_THREADS at most, at least one) take the tasks in the order the
 * dump takes them, each the next task not taken; the dump takes each task's
 * result when it comes to its mm, reads it itself when no thread came to it
 * yet, or reads it again when the read failed. One CPU is left to the main
 * thread: its cores' remote calls are two ptrace stops each, criu and the
 * task taking turns on one CPU, and a page-walking thread of criu's there
 * holds each turn up by its time slice (with one thread per CPU on 2 CPUs the
 * two cores' remote calls took 9-51 ms instead of 2-8).
 */
#define LOG_PREFIX "maps-ahead: "
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "maps-ahead.h"
#include "proc_parse.h"
#include "pstree.h"

struct ahead_task {
	pid_t pid;
	int proc_dfd;
	bool claimed;	/* a thread reads it, or the dump reads it itself */
	bool done;
	int ret;
	struct proc_maps maps;
};

#define AHEAD_MAX_THREADS 4

static struct {
	int nr_threads;
	pthread_t threads[AHEAD_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ahead_task *t;
	int nr;
	int next;	/* the next task to read (under lock) */
} ahead = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static long us_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000L + (b->tv_nsec - a->tv_nsec) / 1000;
}

static void *ahead_main(void *arg)
{
	for (;;) {
		struct timespec t0, t1, c0, c1;
		struct proc_maps m = {};
		struct ahead_task *t;
		int ret;

		pthread_mutex_lock(&ahead.lock);
		while (ahead.next < ahead.nr && ahead.t[ahead.next].claimed)
			ahead.next++;
		t = ahead.next < ahead.nr ? &ahead.t[ahead.next++] : NULL;
		if (t)
			t->claimed = true;
		pthread_mutex_unlock(&ahead.lock);
		if (!t)
			return NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		ret = parse_pid_maps(t->proc_dfd, &m) ?: parse_pid_smaps_vmflags(t->proc_dfd, &m);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		pr_debug("task %d: VMAs read in %ld us, %ld us of them on a CPU\n", t->pid, us_between(&t0, &t1),
			 us_between(&c0, &c1));
		pthread_mutex_lock(&ahead.lock);
		t->ret = ret;
		t->maps = m;
		t->done = true;
		pthread_cond_broadcast(&ahead.cond);
		pthread_mutex_unlock(&ahead.lock);
	}
}

/* The CPUs criu may run on but one, at least one, at most one per task and AHEAD_MAX_THREADS. */
static int nr_ahead_threads(int nr_tasks)
{
	cpu_set_t set;
	int n = 1;

	if (!sched_getaffinity(0, sizeof(set), &set))
		n = CPU_COUNT(&set) - 1;
	n = n < nr_tasks ? n : nr_tasks;
	return n < 1 ? 1 : n > AHEAD_MAX_THREADS ? AHEAD_MAX_THREADS : n;
}

void maps_ahead_start(struct pstree *tree)
{
	struct pstree_item *item;
	int nr = 0, i = 0;

	for_each_pstree_item(tree, item)
		nr += item->state == TASK_ALIVE && item->proc_dfd >= 0;
	if (!nr)
		return;
	ahead.t = calloc(nr, sizeof(*ahead.t));
	if (!ahead.t)
		return;	/* each task reads its own */
	for_each_pstree_item(tree, item)
		if (item->state == TASK_ALIVE && item->proc_dfd >= 0 && i++ < nr)
			ahead.t[ahead.nr++] = (struct ahead_task){ .pid = item->pid, .proc_dfd = item->proc_dfd };
	ahead.next = 0;
	for (int n = nr_ahead_threads(ahead.nr); ahead.nr_threads < n; ahead.nr_threads++)
		if (pthread_create(&ahead.threads[ahead.nr_threads], NULL, ahead_main, NULL))
			break;
	if (!ahead.nr_threads) {
		pr_debug("no thread to read the VMAs ahead: each task reads its own\n");
		free(ahead.t);
		ahead.t = NULL;
		ahead.nr = 0;
	}
}

int maps_ahead_take(pid_t pid, struct proc_maps *ret)
{
	struct ahead_task *t = NULL;
	int got = 0;

	for (int i = 0; i < ahead.nr && !t; i++)
		if (ahead.t[i].pid == pid)
			t = &ahead.t[i];
	if (!t)
		return 0;
	pthread_mutex_lock(&ahead.lock);
	if (!t->claimed) {
		/* no thread has come to it yet (they are busy, or wait for a CPU): read here */
		t->claimed = true;
		t->pid = 0;
		pthread_mutex_unlock(&ahead.lock);
		pr_debug("task %d: its VMAs not read ahead yet: read now\n", pid);
		return 0;
	}
	while (!t->done)
		pthread_cond_wait(&ahead.cond, &ahead.lock);
	if (!t->ret) {
		*ret = t->maps;
		t->maps = (struct proc_maps){};
		got = 1;
	} else {
		pr_debug("task %d: its VMAs read ahead failed (%s): read again\n", pid, strerror(-t->ret));
		proc_maps_free(&t->maps);
	}
	t->pid = 0;	/* taken */
	pthread_mutex_unlock(&ahead.lock);
	return got;
}

void maps_ahead_stop(void)
{
	for (int i = 0; i < ahead.nr_threads; i++)
		pthread_join(ahead.threads[i], NULL);
	ahead.nr_threads = 0;
	for (int i = 0; i < ahead.nr; i++)
		proc_maps_free(&ahead.t[i].maps);
	free(ahead.t);
	ahead.t = NULL;
	ahead.nr = 0;
}
