// SPDX-License-Identifier: GPL-2.0
/*
 * Collect the tree under a root task and freeze it with ptrace.
 *
 * A task is seized thread by thread (PTRACE_SEIZE + PTRACE_INTERRUPT through compel);
 * once all its threads are stopped it cannot create threads or children any more, so
 * its /proc/PID/task/TID/children lists are final, except for orphans re-parented to a
 * subreaper in the tree. A second pass over the whole tree catches those and threads
 * that were created while we worked; passes repeat until one finds nothing new.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#define LOG_PREFIX "seize: "
#include "common.h"
#include "compel/compel.h"
#include "cr_options.h"
#include "log.h"
#include "pidns.h"
#include "proc_parse.h"
#include "pstree.h"
#include "seize.h"
#include "syscall-resume.h"
#include "syscalls.h"

/* passes over the whole tree before we give up on a tree that keeps changing */
#define SEIZE_MAX_PASSES 16
/* how long one thread may take to stop when --timeout is 0 (compel's default) */
#define SEIZE_STOP_MS 10000

/*
 * --timeout (criu_opts.timeout) bounds the whole seize, as CRIU's alarm() around its
 * collect_pstree(): each stop waits at most what is left. 0: no bound on the whole,
 * SEIZE_STOP_MS for each thread.
 */
static struct timespec seize_deadline;

static void seize_deadline_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &seize_deadline);
	seize_deadline.tv_sec += opts.timeout;
}

/* Milliseconds left before the deadline (<= 0: passed), or SEIZE_STOP_MS when there is none. */
static long seize_ms_left(void)
{
	struct timespec now;

	if (opts.timeout <= 0)
		return SEIZE_STOP_MS;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (seize_deadline.tv_sec - now.tv_sec) * 1000L + (seize_deadline.tv_nsec - now.tv_nsec) / 1000000L;
}

static int seize_timed_out(void)
{
	return pr_fail(-ETIMEDOUT, "the tree was not seized within %d s (--timeout); it is left running\n",
		       opts.timeout);
}

static bool has_thread(const struct pstree_item *item, pid_t tid)
{
	for (int i = 0; i < item->nr_threads; i++)
		if (item->threads[i] == tid)
			return true;
	return false;
}

/* seen: what sc_seen() told of the syscall it was woken in */
static int add_thread(struct pstree_item *item, pid_t tid, struct sc_seen seen)
{
	pid_t *t = realloc(item->threads, (item->nr_threads + 1) * sizeof(*t));
	struct sc_seen *sc;

	if (!t)
		return -ENOMEM;
	item->threads = t;
	sc = realloc(item->sc_seen, (item->nr_threads + 1) * sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	item->sc_seen = sc;
	sc[item->nr_threads] = seen;
	t[item->nr_threads++] = tid;
	return 0;
}

static void detach_task(struct pstree_item *item)
{
	if (item->state == TASK_DEAD)
		return;
	/*
	 * A task that was in a group stop when seized is still marked stopped
	 * (SIGNAL_STOP_STOPPED): the kernel puts it back into the stop when we
	 * detach. Queueing a SIGSTOP as for a restored task would leave it
	 * pending (visible in SigPnd), so detach it as a running one.
	 */
	for (int i = 0; i < item->nr_threads; i++) {
		int ret;

		sc_resume_live(item->threads[i], item->state == TASK_STOPPED, item->sc_seen ? &item->sc_seen[i] : NULL);
		ret = compel_detach(item->threads[i], COMPEL_TASK_ALIVE, 0);

		if (ret && ret != -ESRCH)
			pr_warn("can't detach %d/%d: %s\n", item->pid, item->threads[i], strerror(-ret));
	}
}

/* Number of entries in /proc/PID/task, or -errno. */
static int count_threads(int proc_dfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd, n = 0;

	fd = openat(proc_dfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

/*
 * A thread we could not seize with EPERM: fine when it is dying (zombie or dead),
 * an error otherwise (permission).
 */
static bool thread_is_dying(int proc_dfd, pid_t tid)
{
	struct proc_pid_stat st;
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "task/%d", tid);
	fd = openat(proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return true;
	if (parse_pid_stat(fd, &st))
		return true;
	return st.state == 'Z' || st.state == 'X' || st.state == 'x';
}

/*
 * Suspend the thread's seccomp while criu holds it (PTRACE_O_SUSPEND_SECCOMP), so
 * remote syscalls are not filtered. Needs CAP_SYS_ADMIN and a criu without
 * seccomp of its own: a failure matters only for a thread under seccomp, which
 * dump_seccomp() then refuses.
 */
static void suspend_seccomp(struct pstree_item *item, pid_t tid)
{
	int ret = compel_suspend_seccomp(tid);

	if (ret) {
		pr_debug("can't suspend seccomp of %d: %s\n", tid, strerror(-ret));
		item->seccomp_unsuspended = true;
	}
}

/*
 * Why PTRACE_SEIZE of a live task failed with EPERM: another tracer (a second
 * criu dumping the same tree, a debugger) is named by its pid.
 */
static int seize_eperm(int dfd, pid_t pid, pid_t tid)
{
	struct proc_status st;
	pid_t tracer;

	if (parse_pid_status(dfd, &st))
		return pr_fail(-EPERM, "can't seize %d: permission denied\n", tid);
	tracer = st.tracer_pid;
	proc_status_free(&st);
	if (tracer > 0)
		return pr_fail(-EBUSY, "can't seize %d: it is already traced by pid %d (another criu dump, or a debugger?)\n",
			       tid, tracer);
	return pr_fail(-EPERM, "can't seize %d: permission denied\n", tid);
}

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT, or only the wait for a thread the freezer step seized already. */
static int seize_stop(struct pstree *t, pid_t tid, enum compel_task_state *st)
{
	long left = seize_ms_left();
	int ret;

	if (left <= 0)
		return -ETIMEDOUT;
	/* compel takes unsigned milliseconds: a --timeout over 49 days must not wrap to a short one */
	compel_set_stop_timeout(left > (long)UINT_MAX ? UINT_MAX : (unsigned int)left);
	ret = compel_seize_stop(tid, st);

	if (ret == -EPERM && t->nr_preseized && bsearch(&tid, t->preseized, t->nr_preseized, sizeof(tid), tid_cmp))
		ret = compel_interrupt(tid, st);
	return ret;
}

/* Seize every thread of a live task that is not seized yet. Returns how many were, or -errno. */
static int seize_threads(struct pstree *t, struct pstree_item *item)
{
	int added = 0, found;

	do {
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;
		int fd;

		found = 0;
		fd = openat(item->proc_dfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return pr_fail_errno("can't open /proc/%d/task", item->pid);
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -ENOMEM;
		}
		while ((de = readdir(d))) {
			enum compel_task_state st;
			struct sc_sleep sl;
			char *end;
			pid_t tid = strtol(de->d_name, &end, 10);
			int ret;

			if (de->d_name[0] == '.' || *end || tid <= 0 || has_thread(item, tid))
				continue;
			sc_note_sleep(item->proc_dfd, tid, &sl);
			ret = seize_stop(t, tid, &st);
			if (ret == -ESRCH || (ret == -EPERM && thread_is_dying(item->proc_dfd, tid))) {
				pr_debug("thread %d/%d is gone or exiting, skipped\n", item->pid, tid);
				continue;
			}
			if (ret == -ETIMEDOUT)
				return pr_fail(ret, "thread %d of %d does not stop (uninterruptible sleep, or a frozen "
						    "cgroup?); --timeout is %d s\n", tid, item->pid, opts.timeout);
			if (ret == -EPERM)
				return seize_eperm(item->proc_dfd, item->pid, tid);
			if (ret)
				return pr_fail(ret, "can't seize thread %d of %d: %s\n", tid, item->pid, strerror(-ret));
			ret = add_thread(item, tid, sc_seen(tid, &sl, st == COMPEL_TASK_STOPPED));
			if (ret) {
				compel_detach(tid, st, 0);
				return ret;
			}
			suspend_seccomp(item, tid);
			if (st == COMPEL_TASK_STOPPED)
				item->state = TASK_STOPPED;
			found++;
		}
		added += found;
	} while (found);
	return added;
}

static int fill_from_stat(struct pstree_item *item, struct proc_pid_stat *st)
{
	int ret = parse_pid_stat(item->proc_dfd, st);

	if (ret)
		return pr_fail(ret, "can't parse /proc/%d/stat: %s\n", item->pid, strerror(-ret));
	item->ppid = st->ppid;
	item->pgid = st->pgid;
	item->sid = st->sid;
	return 0;
}

/*
 * Open, seize (leader first) and describe a new task. Returns 1 when it is in the tree,
 * 0 when it vanished (or is no longer the child of parent_pid) and was dropped, -errno.
 */
static int seize_task(struct pstree *t, struct pstree_item *item, pid_t parent_pid)
{
	enum compel_task_state st;
	struct proc_pid_stat stat;
	struct sc_sleep sl;
	char path[32];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d", item->pid);
	item->proc_dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* a task reaped meanwhile: ENOENT, or ESRCH while its pid is being released (a churning tree, test-compel) */
	if (item->proc_dfd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : pr_fail_errno("can't open %s", path);
	item->pidfd = sys_pidfd_open(item->pid, 0);
	if (item->pidfd < 0)
		return errno == ESRCH ? 0 : pr_fail_errno("pidfd_open(%d)", item->pid);

	sc_note_sleep(item->proc_dfd, item->pid, &sl);
	ret = seize_stop(t, item->pid, &st);
	if (ret == -ESRCH)
		return 0;
	if (ret == -EPERM) {
		/* a zombie can't be seized: check that this is what it is */
		if (parse_pid_stat(item->proc_dfd, &stat))
			return 0;	/* gone meanwhile */
		item->ppid = stat.ppid;
		item->pgid = stat.pgid;
		item->sid = stat.sid;
		if (stat.state != 'Z')
			return seize_eperm(item->proc_dfd, item->pid, item->pid);
		if (count_threads(item->proc_dfd) > 1)
			return pr_fail(-EOPNOTSUPP, "%d: a dead thread-group leader with live threads is not supported\n",
				       item->pid);
		item->state = TASK_DEAD;
		item->exit_code = stat.exit_code;
		ret = add_thread(item, item->pid, (struct sc_seen){ .slept_ns = -1, .nr = -1 });
		if (ret)
			return ret;
		pr_debug("%d is a zombie (exit status %#x)\n", item->pid, item->exit_code);
		return parent_pid && item->ppid != parent_pid ? 0 : 1;
	}
	if (ret == -ETIMEDOUT)
		return pr_fail(ret, "%d does not stop (a vfork parent, in uninterruptible sleep, or in a frozen "
				    "cgroup?); --timeout is %d s\n", item->pid, opts.timeout);
	if (ret)
		return pr_fail(ret, "can't seize %d: %s\n", item->pid, strerror(-ret));

	item->state = st == COMPEL_TASK_STOPPED ? TASK_STOPPED : TASK_ALIVE;
	ret = add_thread(item, item->pid, sc_seen(item->pid, &sl, st == COMPEL_TASK_STOPPED));
	if (ret) {
		compel_detach(item->pid, st, 0);
		return ret;
	}
	suspend_seccomp(item, item->pid);
	ret = fill_from_stat(item, &stat);
	if (ret)
		return ret;
	if (parent_pid && item->ppid != parent_pid) {
		pr_debug("%d is no longer a child of %d, dropped\n", item->pid, parent_pid);
		return 0;
	}
	ret = seize_threads(t, item);
	if (ret < 0)
		return ret;
	pr_debug("seized %d: %d threads, %s\n", item->pid, item->nr_threads,
		 item->state == TASK_STOPPED ? "stopped" : "running");
	return 1;
}

/* Drop an item that was never linked to a parent: detach what it has, close, free. */
static void drop_item(struct pstree *t, struct pstree_item *item)
{
	detach_task(item);
	list_del(&item->all);
	t->nr_items--;
	if (item->proc_dfd >= 0)
		close(item->proc_dfd);
	if (item->pidfd >= 0)
		close(item->pidfd);
	free(item->threads);
	free(item->sc_seen);
	free(item);
}

static struct pstree_item *new_item(struct pstree *t, pid_t pid)
{
	struct pstree_item *item = pstree_item_alloc();

	if (!item)
		return NULL;
	item->pid = pid;
	item->state = TASK_ALIVE;
	/* linked at once, so a failure anywhere later detaches it with the rest */
	list_add_tail(&item->all, &t->items);
	t->nr_items++;
	return item;
}

/* Add children of item not yet in the tree. Returns how many were added, or -errno. */
static int collect_children(struct pstree *t, struct pstree_item *item)
{
	int added = 0;

	for (int i = 0; i < item->nr_threads; i++) {
		_cleanup_free_ char *buf = NULL;
		char path[48], *p, *end;
		ssize_t len;

		snprintf(path, sizeof(path), "task/%d/children", item->threads[i]);
		len = read_file_alloc_at(item->proc_dfd, path, &buf);
		if (len == -ENOENT || len == -ESRCH)
			continue;	/* the thread exited */
		if (len < 0)
			return pr_fail((int)len, "can't read /proc/%d/%s: %s\n", item->pid, path, strerror(-len));

		for (p = buf;; p = end) {
			struct pstree_item *child;
			long pid = strtol(p, &end, 10);
			int ret;

			if (end == p)
				break;
			if (pid <= 0)
				return pr_fail(-EINVAL, "bad pid in /proc/%d/%s\n", item->pid, path);
			if (pstree_find(t, pid))
				continue;
			child = new_item(t, pid);
			if (!child)
				return -ENOMEM;
			ret = seize_task(t, child, item->pid);
			if (ret <= 0) {
				drop_item(t, child);
				if (ret < 0)
					return ret;
				continue;
			}
			child->parent = item;
			list_add_tail(&child->sibling, &item->children);
			added++;
		}
	}
	return added;
}

/* Re-link t->items in pre-order (parents before children, siblings in discovery order). */
static void relink_preorder(struct pstree *t, struct pstree_item *item)
{
	struct pstree_item *c;

	list_del(&item->all);
	list_add_tail(&item->all, &t->items);
	list_for_each_entry(c, &item->children, sibling)
		relink_preorder(t, c);
}

int collect_and_seize_tree(pid_t root, struct pstree *ret)
{
	return collect_and_seize_tree_pre(root, ret, NULL, 0);
}

int collect_and_seize_tree_pre(pid_t root, struct pstree *ret, const pid_t *pre, int nr_pre)
{
	struct pstree_item *item;
	int pass, r;

	memset(ret, 0, sizeof(*ret));
	INIT_LIST_HEAD(&ret->items);
	ret->preseized = pre;
	ret->nr_preseized = nr_pre;
	if (root <= 0)
		return pr_fail(-EINVAL, "bad root pid %d\n", root);
	seize_deadline_start();

	item = new_item(ret, root);
	if (!item)
		return -ENOMEM;
	ret->root = item;
	r = seize_task(ret, item, 0);
	if (r == 0)
		r = pr_fail(-ESRCH, "no process %d\n", root);
	else if (r > 0 && item->state == TASK_DEAD)
		r = pr_fail(-ESRCH, "process %d is a zombie\n", root);
	if (r < 0)
		goto fail;

	for (pass = 0; pass < SEIZE_MAX_PASSES; pass++) {
		int added = 0;

		if (seize_ms_left() <= 0) {
			r = seize_timed_out();
			goto fail;
		}
		/* items added during the pass are visited in the same pass (added at the tail) */
		list_for_each_entry(item, &ret->items, all) {
			if (item->state == TASK_DEAD)
				continue;
			r = seize_threads(ret, item);
			if (r < 0)
				goto fail;
			added += r;
			r = collect_children(ret, item);
			if (r < 0)
				goto fail;
			added += r;
		}
		pr_debug("pass %d: %d new tasks/threads, %d tasks\n", pass, added, ret->nr_items);
		if (pass > 0 && !added)
			break;
	}
	if (pass == SEIZE_MAX_PASSES) {
		r = pr_fail(-EAGAIN, "the tree of %d keeps changing, giving up\n", root);
		goto fail;
	}
	relink_preorder(ret, ret->root);
	/* the tasks can't change namespace any more: see which pid namespace the tree is in */
	r = pidns_collect(ret);
	if (r < 0)
		goto fail;
	/* compel's default again: later stops (restore's) are not bound by this deadline */
	compel_set_stop_timeout(SEIZE_STOP_MS);
	return 0;
fail:
	compel_set_stop_timeout(SEIZE_STOP_MS);
	resume_tree(ret);
	pstree_free(ret);
	return r;
}

void resume_tree(struct pstree *t)
{
	struct pstree_item *item;

	if (!t->items.next)
		return;
	for_each_pstree_item(t, item)
		detach_task(item);
}

/*
 * Keep the threads of a task about to be killed off this CPU. The kill wakes them up, and
 * one woken up here may preempt criu and get past exit_mm() before criu calls
 * process_mrelease() below: then the call fails (ESRCH) and the task tears its memory down
 * alone, at half the speed. Best effort: a thread allowed only on this CPU stays there.
 */
static void keep_off_cpu(const struct pstree_item *item, int cpu)
{
	for (int i = 0; i < item->nr_threads; i++) {
		cpu_set_t set;

		if (sched_getaffinity(item->threads[i], sizeof(set), &set) || !CPU_ISSET(cpu, &set) ||
		    CPU_COUNT(&set) < 2)
			continue;
		CPU_CLR(cpu, &set);
		if (sched_setaffinity(item->threads[i], sizeof(set), &set))
			pr_debug("can't move %d off CPU %d: %s\n", item->threads[i], cpu, strerror(errno));
	}
}

/*
 * A killed task frees its memory itself on its way out, on one CPU (70 ms per GiB here).
 * process_mrelease() lets criu take part in that work from its own CPU while the task
 * does the rest, so the tree is gone sooner. Only an optimization: the kernel refuses it
 * (EINVAL) when a live process outside the tree shares the memory, and older kernels
 * lack it (ENOSYS); then the task frees it alone, as before.
 */
static void release_killed_memory(struct pstree *t)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD || item->pidfd < 0)
			continue;
		if (syscall(SYS_process_mrelease, item->pidfd, 0))
			pr_debug("process_mrelease(%d): %s\n", item->pid, strerror(errno));
	}
}

void kill_tree(struct pstree *t)
{
	struct pstree_item *item;

	if (!t->items.next)
		return;
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD)
			continue;
		keep_off_cpu(item, sched_getcpu());
		if (item->pidfd >= 0 ? sys_pidfd_send_signal(item->pidfd, SIGKILL, NULL, 0) : kill(item->pid, SIGKILL))
			pr_warn("can't kill %d: %s\n", item->pid, strerror(errno));
	}
	release_killed_memory(t);
	/*
	 * A killed tracee is not detached: its exit is reported to us, the tracer. Collect
	 * that report for every thread (the leader last: it is reported when its group is
	 * gone) so the tasks go on to their real parents. Children first: the init of a pid
	 * namespace does not finish dying until every other task of it is gone, and those
	 * wait for us to collect their reports.
	 */
	for (struct list_head *pos = t->items.prev; pos != &t->items; pos = pos->prev) {
		item = list_entry(pos, struct pstree_item, all);
		if (item->state == TASK_DEAD)
			continue;
		for (int i = item->nr_threads - 1; i >= 0; i--) {
			int status;
			pid_t r;

			do
				r = waitpid(item->threads[i], &status, __WALL);
			while ((r < 0 && errno == EINTR) || (r > 0 && WIFSTOPPED(status)));
		}
	}
}
