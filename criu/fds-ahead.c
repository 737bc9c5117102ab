// SPDX-License-Identifier: GPL-2.0
/*
 * fds read ahead (fds-ahead.h): one thread goes through the tasks in the
 * order the dump takes them, lists each one's fds and does the reads of each
 * fd that depend on nothing else; the main thread takes a task's reads at its
 * fd loop, or reads the task itself when the thread has not begun it by the
 * time the main thread's remote syscalls go into the task.
 */
#define LOG_PREFIX "fds-ahead: "
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"
#include "fds-ahead.h"
#include "files.h"
#include "pstree.h"
#include "stats.h"
#include "syscalls.h"
#include "task-share.h"

/* One fd's reads, kept small: a task may have thousands of fds (struct fd_parms has a PATH_MAX link). */
struct ahead_fd {
	int fd;
	int err;			/* 0: read; else the main thread reads it again (and logs why) */
	int lfd;			/* criu's copy, -1 once handed over or closed */
	struct stat stat;
	struct statfs sfs;
	struct proc_fdinfo fdinfo;
	char *link;			/* NULL for a pidfd: its link is always the same */
	unsigned int flags, fd_flags;
	struct fd_owner_read own;
	struct fd_same same;
};

/* The open files of the fds read, by inode: the first fd of each, in kcmp order (as files.c's seen groups). */
struct ahead_group {
	struct ahead_group *next;
	dev_t dev;
	ino_t ino;
	int nr, cap;
	struct seen_member *m;
};

#define AHEAD_HASH_SIZE 4096

enum ahead_state {
	AHEAD_IDLE,			/* not begun */
	AHEAD_BUSY,			/* the thread reads it */
	AHEAD_DONE,			/* read (ok: the reads are there) */
	AHEAD_MAIN,			/* the main thread's: the thread skips it */
};

struct fds_ahead_task {
	struct pstree_item *item;
	enum ahead_state state;
	bool ok;
	int nr;				/* fds listed */
	int *fds;			/* sorted, handed over by fds_ahead_take() */
	struct ahead_fd *f;
};

static struct {
	bool running, stop;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fds_ahead_task *t;
	int nr, cursor;
	long held, budget;		/* criu's copies held for tasks not taken yet, and their bound */
	struct ahead_group **groups;	/* the thread's own */
} ahead = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void ahead_fd_free(struct ahead_fd *a)
{
	if (a->lfd >= 0)
		close(a->lfd);
	a->lfd = -1;
	proc_fdinfo_free(&a->fdinfo);
	free(a->link);
	a->link = NULL;
}

/* Move what p read into a (p's copy and fdinfo are a's then). */
static int ahead_fd_keep(struct ahead_fd *a, struct fd_parms *p)
{
	int ret = proc_fdinfo_shrink(&p->fdinfo);	/* a page each, for thousands of fds kept */

	if (ret)
		return ret;
	if (p->sfs.f_type != PID_FS_MAGIC) {
		a->link = strdup(p->link);
		if (!a->link)
			return -ENOMEM;
	}
	a->lfd = p->lfd;
	p->lfd = -1;
	a->stat = p->stat;
	a->sfs = p->sfs;
	a->fdinfo = p->fdinfo;
	p->fdinfo = (struct proc_fdinfo){};
	a->flags = p->flags;
	a->fd_flags = p->fd_flags;
	a->own = p->own;
	return 0;
}

static struct ahead_group *ahead_group(dev_t dev, ino_t ino)
{
	unsigned int h = (unsigned int)((ino * 2654435761u) ^ dev) % AHEAD_HASH_SIZE;
	struct ahead_group *g;

	for (g = ahead.groups[h]; g; g = g->next)
		if (g->dev == dev && g->ino == ino)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->dev = dev;
	g->ino = ino;
	g->next = ahead.groups[h];
	ahead.groups[h] = g;
	return g;
}

/* The first fd read of a's open file (kcmp): a itself when none before it. Unknown when kcmp fails. */
static void find_same(struct fds_ahead_task *t, struct ahead_fd *a)
{
	struct ahead_group *g = ahead_group(a->stat.st_dev, a->stat.st_ino);
	struct seen_member v = { .pid = t->item->pid, .fd = a->fd };
	int idx, ret;

	if (!g)
		return;
	ret = kcmp_file_search(g->m, g->nr, v.pid, v.fd, &idx);
	if (ret == 0)
		ret = seen_member_insert(&g->m, &g->nr, &g->cap, idx, v);
	else if (ret == 1)
		v = g->m[idx];
	if (ret >= 0)
		a->same = (struct fd_same){ .known = true, .pid = v.pid, .fd = v.fd };
}

static void read_one(struct pidfs_cache *pc, struct fds_ahead_task *t, int fd_dfd, int i)
{
	struct ahead_fd *a = &t->f[i];
	struct fd_parms p;
	const char *what;
	int ret;

	a->fd = t->fds[i];
	a->lfd = -1;
	ret = fd_read_parms(pc, t->item, fd_dfd, a->fd, &p, &what) ?: fd_read_owner(&p) ?: ahead_fd_keep(a, &p);
	a->err = ret;
	if (!ret)
		find_same(t, a);
	if (p.lfd >= 0)
		close(p.lfd);
	proc_fdinfo_free(&p.fdinfo);
}

enum read_result { READ_OK, READ_FAILED, READ_NO_ROOM };

/* Room for n more copies now (n beyond the whole budget: never); with the lock held. */
static bool room_for(int n)
{
	return ahead.held + n <= ahead.budget || (ahead.held == 0 && n <= ahead.budget);
}

static enum read_result read_task(struct pidfs_cache *pc, struct fds_ahead_task *t)
{
	int fd_dfd = openat(t->item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum read_result r = READ_FAILED;
	bool room;

	if (fd_dfd < 0)
		return READ_FAILED;
	if (list_task_fds(fd_dfd, &t->fds, &t->nr))
		goto out;
	pthread_mutex_lock(&ahead.lock);
	room = room_for(t->nr);
	if (room)
		ahead.held += t->nr;
	else if (ahead.held)
		r = READ_NO_ROOM;	/* else more fds than the whole budget: the main thread reads them */
	pthread_mutex_unlock(&ahead.lock);
	if (!room)
		goto out;
	t->f = calloc(t->nr ?: 1, sizeof(*t->f));
	if (!t->f) {
		pthread_mutex_lock(&ahead.lock);
		ahead.held -= t->nr;
		pthread_mutex_unlock(&ahead.lock);
		goto out;
	}
	for (int i = 0; i < t->nr; i++) {
		if (__atomic_load_n(&ahead.stop, __ATOMIC_RELAXED)) {
			t->f[i].lfd = -1;
			t->f[i].err = -EINTR;	/* the rest are not read: fds_ahead_stop() frees them */
			continue;
		}
		read_one(pc, t, fd_dfd, i);
	}
	r = READ_OK;
out:
	close(fd_dfd);
	return r;
}

/*
 * With the lock held: wait, holding no task, until n more copies fit
 * (the main thread takes the earlier tasks'); false when t became the main
 * thread's meanwhile, or the dump stops.
 */
static bool wait_room(struct fds_ahead_task *t, int n)
{
	n = min((long)n, ahead.budget);	/* after a task of more fds than all the room: wait for all of it */
	while (!ahead.stop && t->state == AHEAD_IDLE && !room_for(n))
		pthread_cond_wait(&ahead.cond, &ahead.lock);
	return !ahead.stop && t->state == AHEAD_IDLE;
}

/* Read t unless the main thread takes it first; with the lock held. */
static void ahead_one(struct pidfs_cache *pc, struct fds_ahead_task *t, int *est)
{
	enum read_result r;

	for (;;) {
		if (!wait_room(t, *est))
			return;
		t->state = AHEAD_BUSY;
		pthread_mutex_unlock(&ahead.lock);
		r = read_task(pc, t);
		pthread_mutex_lock(&ahead.lock);
		*est = t->nr;
		if (r != READ_NO_ROOM)
			break;
		/* given back while the main thread catches up: it may take it meanwhile */
		free(t->fds);
		t->fds = NULL;
		t->nr = 0;
		t->state = AHEAD_IDLE;
		pthread_cond_broadcast(&ahead.cond);
	}
	t->ok = r == READ_OK;
	t->state = AHEAD_DONE;
	pthread_cond_broadcast(&ahead.cond);
}

static void *ahead_main(void *arg)
{
	struct pidfs_cache pc = {};
	int est = 0;	/* fds of the task before: the room to wait for before listing the next */

	pthread_mutex_lock(&ahead.lock);
	/* the first task is the main thread's: its core begins right away, no time to read it before */
	for (int i = 1; i < ahead.nr && !ahead.stop; i++)
		ahead_one(&pc, &ahead.t[i], &est);
	pthread_mutex_unlock(&ahead.lock);
	return NULL;
}

/*
 * What the main thread opens per task until the end of the dump (its images,
 * the pages image the copying threads write): 6 measured for pidtree
 * (criu's peak 609 fds for 100 tasks), with room to spare.
 */
#define MAIN_FDS_PER_TASK 8
#define MAIN_FDS_SPARE 256

/*
 * The fds RLIMIT_NOFILE leaves criu beyond what it holds now and what the
 * main thread will open for the tree's tasks.
 */
static long ahead_budget(int nr_tasks)
{
	_cleanup_close_ int self = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ int *fds = NULL;
	struct rlimit rl;
	int nr = 0;

	if (self < 0 || getrlimit(RLIMIT_NOFILE, &rl) || list_task_fds(self, &fds, &nr))
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
		rl.rlim_cur = INT_MAX;
	return (long)rl.rlim_cur - nr - (long)MAIN_FDS_PER_TASK * nr_tasks - MAIN_FDS_SPARE;
}

static bool reads_fds(const struct pstree_item *item)
{
	return item->state != TASK_DEAD && item->proc_dfd >= 0 && item->pidfd >= 0 && share_dumps_fds(item);
}

/*
 * A CPU of its own to run on: with one, the thread would only take turns with
 * the tasks' remote syscalls, which then wait for it (taskset -c 1: the
 * dump of 100 x 100 pidfds 26 ms slower, bench/RESULTS.md).
 */
static bool second_cpu(void)
{
	cpu_set_t set;

	return !sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 1;
}

void fds_ahead_start(struct pstree *tree)
{
	struct pstree_item *item;
	int nr = 0;

	if (!second_cpu()) {
		pr_debug("one CPU: each task reads its own fds\n");
		return;
	}
	for_each_pstree_item(tree, item)
		nr += reads_fds(item);
	if (!nr)
		return;
	ahead.budget = ahead_budget(tree->nr_items);
	if (ahead.budget < 16) {
		pr_debug("no room for fds read ahead (RLIMIT_NOFILE): each task reads its own\n");
		return;
	}
	ahead.t = calloc(nr, sizeof(*ahead.t));
	ahead.groups = calloc(AHEAD_HASH_SIZE, sizeof(*ahead.groups));
	if (!ahead.t || !ahead.groups) {
		free(ahead.t);
		free(ahead.groups);
		ahead.t = NULL;
		ahead.groups = NULL;
		return;	/* each task reads its own */
	}
	for_each_pstree_item(tree, item)
		if (reads_fds(item) && ahead.nr < nr)
			ahead.t[ahead.nr++] = (struct fds_ahead_task){ .item = item };
	ahead.stop = false;
	ahead.held = 0;
	ahead.cursor = 0;
	if (pthread_create(&ahead.thread, NULL, ahead_main, NULL)) {
		pr_debug("no thread to read the fds ahead: each task reads its own\n");
		fds_ahead_stop();
		return;
	}
	ahead.running = true;
}

/* The tasks come in the tree's order: the search goes on from the last one found. */
static struct fds_ahead_task *find_task(const struct pstree_item *item)
{
	if (!reads_fds(item))
		return NULL;
	for (int k = 0; k < ahead.nr; k++) {
		int j = (ahead.cursor + k) % ahead.nr;

		if (ahead.t[j].item == item) {
			ahead.cursor = j;
			return &ahead.t[j];
		}
	}
	return NULL;
}

/*
 * Called with the lock held: wait for the thread to finish t if it has begun
 * it, else keep it from it. The wait in us (0: none).
 */
static uint64_t settle(struct fds_ahead_task *t)
{
	uint64_t start;

	if (t->state == AHEAD_IDLE) {
		t->state = AHEAD_MAIN;
		pthread_cond_broadcast(&ahead.cond);	/* the thread may wait for room to read it */
	}
	if (t->state != AHEAD_BUSY)
		return 0;
	start = stats_now_us();
	while (t->state == AHEAD_BUSY)
		pthread_cond_wait(&ahead.cond, &ahead.lock);
	return stats_now_us() - start ?: 1;
}

void fds_ahead_claim(struct pstree_item *item)
{
	struct fds_ahead_task *t = find_task(item);
	uint64_t waited;

	if (!t)
		return;
	pthread_mutex_lock(&ahead.lock);
	waited = settle(t);
	pthread_mutex_unlock(&ahead.lock);
	if (waited)
		pr_debug("task %d: waited %llu us for its fds to be read\n", item->pid, (unsigned long long)waited);
}

struct fds_ahead_task *fds_ahead_take(struct pstree_item *item, int **ret_fds, int *ret_nr)
{
	struct fds_ahead_task *t = find_task(item);
	bool ok;

	if (!t)
		return NULL;
	pthread_mutex_lock(&ahead.lock);
	settle(t);	/* claimed already: no wait */
	ok = t->state == AHEAD_DONE && t->ok;
	pthread_mutex_unlock(&ahead.lock);
	if (!ok)
		return NULL;
	*ret_fds = t->fds;
	*ret_nr = t->nr;
	t->fds = NULL;
	pr_debug("task %d: %d fds read ahead\n", item->pid, t->nr);
	return t;
}

bool fds_ahead_parms(struct fds_ahead_task *t, int i, struct fd_parms *p)
{
	struct ahead_fd *a = &t->f[i];

	if (a->err) {
		pr_debug("fd %d of task %d: not read ahead (%s): read now\n", a->fd, t->item->pid, strerror(-a->err));
		return false;
	}
	memset(p, 0, sizeof(*p));
	p->fd = a->fd;
	p->item = t->item;
	p->lfd = a->lfd;
	a->lfd = -1;
	p->stat = a->stat;
	p->sfs = a->sfs;
	p->fdinfo = a->fdinfo;
	a->fdinfo = (struct proc_fdinfo){};
	snprintf(p->link, sizeof(p->link), "%s", a->link ?: "anon_inode:[pidfd]");
	p->flags = a->flags;
	p->fd_flags = a->fd_flags;
	p->own = a->own;
	p->same = a->same;
	return true;
}

/* Close and free t's reads; the lock is not held. */
static void task_free(struct fds_ahead_task *t)
{
	for (int i = 0; t->f && i < t->nr; i++)
		ahead_fd_free(&t->f[i]);
	free(t->f);
	t->f = NULL;
	free(t->fds);
	t->fds = NULL;
}

void fds_ahead_done(struct fds_ahead_task *t)
{
	long nr;

	if (!t)
		return;
	nr = t->f ? t->nr : 0;
	task_free(t);
	pthread_mutex_lock(&ahead.lock);
	ahead.held -= nr;
	t->nr = 0;
	t->ok = false;
	pthread_cond_broadcast(&ahead.cond);
	pthread_mutex_unlock(&ahead.lock);
}

void fds_ahead_stop(void)
{
	if (ahead.running) {
		pthread_mutex_lock(&ahead.lock);
		ahead.stop = true;
		pthread_cond_broadcast(&ahead.cond);
		pthread_mutex_unlock(&ahead.lock);
		pthread_join(ahead.thread, NULL);
	}
	ahead.running = false;
	for (int i = 0; i < ahead.nr; i++)
		task_free(&ahead.t[i]);
	free(ahead.t);
	ahead.t = NULL;
	ahead.nr = 0;
	ahead.held = 0;
	for (int i = 0; ahead.groups && i < AHEAD_HASH_SIZE; i++) {
		while (ahead.groups[i]) {
			struct ahead_group *g = ahead.groups[i];

			ahead.groups[i] = g->next;
			free(g->m);
			free(g);
		}
	}
	free(ahead.groups);
	ahead.groups = NULL;
}
