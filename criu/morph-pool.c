// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: morph the tasks of a tree at the same time (Documentation/restore.md §3).
 *
 * A task is driven by remote syscalls, each a ptrace round trip: the
 * controller mostly waits for the task. A few controller threads each take
 * the next task to morph until none is left. ptrace ties a tracee to the
 * thread that seized it: only that thread may run its syscalls, clear its
 * PTRACE_O_EXITKILL, detach it or undo the morph, and a tracer thread that
 * exits takes its tracees with it (EXITKILL kills them). So the workers live
 * until the tree is let go or killed, and the controller hands them each
 * step to do on their own tasks (morph, commit, release, abort) one after
 * the other.
 *
 * Each worker has its own copy of the restore context: the morph keeps
 * per-task state in it (the task's /proc fd while its memory is restored).
 * A tree with shared anonymous memory or SysV shm is morphed by one worker
 * alone: its first owner creates the object that the others then map. So is
 * every restore with an injected fault, to keep the fault steps in order.
 */
#define LOG_PREFIX "restore: "
#include <pthread.h>
#include <stdlib.h>

#include "common.h"
#include "cr_options.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"

#include "mm.pb-c.h"
#include "vma.pb-c.h"

#define POOL_MAX_WORKERS 16

enum pool_cmd { POOL_MORPH, POOL_COMMIT, POOL_RELEASE, POOL_ABORT, POOL_EXIT };

struct morph_pool {
	struct rst_ctx *ctx;
	struct morph_task *mts;
	int nr;				/* entries of mts (dead tasks included) */
	int *owner;			/* the worker that morphed mts[i], -1 */
	int nr_workers;
	pthread_t th[POOL_MAX_WORKERS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int gen;		/* bumped for every command */
	enum pool_cmd cmd;
	int nr_done;			/* workers that finished the command */
	int next;			/* the next task to morph (atomic) */
	int error;			/* the command's first error */
};

struct pool_worker {
	struct morph_pool *pool;
	int id;
	struct rst_ctx ctx;		/* this worker's copy */
};

static void set_error(struct morph_pool *p, int err)
{
	int zero = 0;

	if (err)
		__atomic_compare_exchange_n(&p->error, &zero, err, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static int morph_next(struct pool_worker *w)
{
	struct morph_pool *p = w->pool;

	for (;;) {
		int i = __atomic_fetch_add(&p->next, 1, __ATOMIC_SEQ_CST), ret;
		struct morph_task *mt;

		if (i >= p->nr || __atomic_load_n(&p->error, __ATOMIC_SEQ_CST))
			return 0;
		mt = &p->mts[i];
		if (mt->item->state == TASK_DEAD)
			continue;
		ret = check_stop_requested();
		if (ret)
			return ret;
		p->owner[i] = w->id;
		ret = morph_one(&w->ctx, mt, false);
		if (ret)
			return ret;
	}
}

/* The command, on the tasks this worker morphed. */
static int run_cmd(struct pool_worker *w, enum pool_cmd cmd)
{
	struct morph_pool *p = w->pool;
	int err = 0;

	if (cmd == POOL_MORPH)
		return morph_next(w);
	for (int i = 0; i < p->nr; i++) {
		int ret = 0;

		if (p->owner[i] != w->id)
			continue;
		if (cmd == POOL_COMMIT && !err)
			ret = morph_commit(&p->mts[i]);
		else if (cmd == POOL_RELEASE)
			ret = morph_release(&p->mts[i]);
		else if (cmd == POOL_ABORT)
			morph_abort(&p->mts[i]);
		if (ret && !err)
			err = ret;
	}
	return err;
}

static void *worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct morph_pool *p = w->pool;
	unsigned int seen = 0;

	for (;;) {
		enum pool_cmd cmd;
		int ret;

		pthread_mutex_lock(&p->lock);
		while (p->gen == seen)
			pthread_cond_wait(&p->cond, &p->lock);
		seen = p->gen;
		cmd = p->cmd;
		pthread_mutex_unlock(&p->lock);
		if (cmd == POOL_EXIT)
			break;
		ret = run_cmd(w, cmd);
		pthread_mutex_lock(&p->lock);
		set_error(p, ret);
		p->nr_done++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	free(w);
	return NULL;
}

/* Tell every worker to run cmd, wait for all of them; the first error. */
static int pool_run(struct morph_pool *p, enum pool_cmd cmd)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	p->cmd = cmd;
	p->nr_done = 0;
	p->error = 0;
	p->gen++;
	pthread_cond_broadcast(&p->cond);
	while (cmd != POOL_EXIT && p->nr_done < p->nr_workers)
		pthread_cond_wait(&p->cond, &p->lock);
	ret = p->error;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Must the tree be morphed by one worker? */
static bool one_worker_only(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	if (opts.fault_inject)
		return true;
	/*
	 * The tree's own mount namespace: the controller setns()es into it after
	 * the morph (files_restore_late()), which the kernel refuses (EINVAL) to
	 * a process with more than one thread.
	 */
	if (ctx->mnt)
		return true;
	for_each_pstree_item(&ctx->tree, item) {
		const MmEntry *mm = item->state == TASK_DEAD || !item->priv ? NULL : rsti(item)->mem.mm;

		for (size_t i = 0; mm && i < mm->n_vmas; i++)
			if (mm->vmas[i]->status & (VMA_ANON_SHARED | VMA_AREA_SYSVIPC))
				return true;
	}
	return false;
}

static int nr_live(struct rst_ctx *ctx)
{
	struct pstree_item *item;
	int n = 0;

	for_each_pstree_item(&ctx->tree, item)
		n += item->state != TASK_DEAD;
	return n;
}

struct morph_pool *morph_pool_start(struct rst_ctx *ctx, struct morph_task *mts, int nr)
{
	/* twice the CPUs: a worker mostly waits for its task to run a syscall */
	int want = one_worker_only(ctx) ? 1 : min(min(2 * rst_nr_cpus(), POOL_MAX_WORKERS), nr_live(ctx));
	const char *env = getenv("CRIU_MORPH_THREADS");	/* a knob for the benchmarks: 1 is the old way */
	struct morph_pool *p;

	if (env && atoi(env) > 0 && want > 1)
		want = min(min(atoi(env), POOL_MAX_WORKERS), nr_live(ctx));

	if (want < 2)
		return NULL;	/* the caller morphs the tasks itself */
	p = xzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->owner = xmalloc(nr * sizeof(*p->owner));
	if (!p->owner) {
		free(p);
		return NULL;
	}
	for (int i = 0; i < nr; i++)
		p->owner[i] = -1;
	p->ctx = ctx;
	p->mts = mts;
	p->nr = nr;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int i = 0; i < want; i++) {
		struct pool_worker *w = xzalloc(sizeof(*w));

		if (!w)
			break;
		w->pool = p;
		w->id = i;
		w->ctx = *ctx;
		if (pthread_create(&p->th[i], NULL, worker_main, w)) {
			free(w);
			break;
		}
		p->nr_workers++;
	}
	if (p->nr_workers < 2) {
		morph_pool_stop(p, false);
		return NULL;
	}
	pr_info("morphing %d tasks with %d threads\n", nr_live(ctx), p->nr_workers);
	return p;
}

int morph_pool_morph(struct morph_pool *p)
{
	return pool_run(p, POOL_MORPH);
}

int morph_pool_commit(struct morph_pool *p)
{
	return pool_run(p, POOL_COMMIT);
}

int morph_pool_release(struct morph_pool *p)
{
	return pool_run(p, POOL_RELEASE);
}

void morph_pool_stop(struct morph_pool *p, bool abort)
{
	if (!p)
		return;
	if (abort && p->nr_workers)
		pool_run(p, POOL_ABORT);
	pool_run(p, POOL_EXIT);
	for (int i = 0; i < p->nr_workers; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->owner);
	free(p);
}
