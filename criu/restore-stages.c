// SPDX-License-Identifier: GPL-2.0
/*
 * The controller's side of the stages (Documentation/restore.md): the area
 * shared with the stubs, the waits for each stage, SIGINT/SIGTERM/SIGHUP
 * while criu restores, killing and reaping everything after a failure, and
 * the pids criu sees of a tree in a pid namespace of its own.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "common.h"
#include "exit-status.h"
#include "cr_options.h"
#include "files.h"
#include "image.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"
#include "task-attrs.h"
#include "syscalls.h"

#define STAGE_TIMEOUT_MS 60000

static const char *const stage_names[] = { "start", "fork", "process groups", "files", "ready", "zombies" };

pid_t rst_real_pid(struct rst_ctx *ctx, pid_t pid)
{
	struct pstree_item *item;
	int idx;

	if (!rst_own_pidns(ctx))
		return pid;	/* the tree shares criu's pid namespace: the same numbers */
	item = pstree_find_tid(&ctx->tree, pid, &idx);
	if (!item || !rsti(item) || !rsti(item)->real_tids)
		return 0;
	return rsti(item)->real_tids[idx];
}

/* ------------------------------------------------------ the shared area */

void shared_wake(struct rst_ctx *ctx)
{
	__atomic_add_fetch(&ctx->shared->futex, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &ctx->shared->futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void shared_wait(struct rst_ctx *ctx, uint32_t seen, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	syscall(SYS_futex, &ctx->shared->futex, FUTEX_WAIT, seen, &ts, NULL, 0);
}

void stage_wake(struct rst_ctx *ctx)
{
	__atomic_add_fetch(&ctx->shared->stage_futex, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &ctx->shared->stage_futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void stage_wait(struct rst_ctx *ctx, uint32_t seen, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	syscall(SYS_futex, &ctx->shared->stage_futex, FUTEX_WAIT, seen, &ts, NULL, 0);
}

int shared_alloc(struct rst_ctx *ctx, int nr)
{
	ctx->shared_size = PAGE_ALIGN(sizeof(*ctx->shared) + nr * sizeof(ctx->shared->slots[0]));
	ctx->shared = mmap(NULL, ctx->shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctx->shared == MAP_FAILED) {
		ctx->shared = NULL;
		return pr_fail_errno("can't map the shared area");
	}
	ctx->shared->err_slot = -1;
	ctx->shared->nr_slots = nr;
	ctx->shared->fill_tokens = rst_nr_cpus();
	return 0;
}

/* SIGINT, SIGTERM, SIGHUP to criu while it restores: stop, and kill what was started. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
/* file scope: the signal handler sets it, and a handler has no ctx to reach */
static volatile sig_atomic_t stop_requested;
_Static_assert(ARRAY_SIZE(stop_signals) == ARRAY_SIZE(((struct rst_ctx *)0)->old_stop_actions), "one saved action per stop signal");

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

void catch_stop_signals(struct rst_ctx *ctx, bool on)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	if (on)
		stop_requested = 0;
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		if (on)
			sigaction(stop_signals[i], &sa, &ctx->old_stop_actions[i]);
		else
			sigaction(stop_signals[i], &ctx->old_stop_actions[i], NULL);
	}
}

int check_stop_requested(void)
{
	if (!stop_requested)
		return 0;
	return pr_fail(-EINTR, "interrupted by signal %d: undoing the restore\n", (int)stop_requested);
}

/* ------------------------------------------------------ controller waits */

/* A process's stat under criu's /proc (ctx->proc_fd); state 0: gone. */
static struct proc_pid_stat proc_stat(struct rst_ctx *ctx, pid_t pid)
{
	struct proc_pid_stat st = {};
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "%d/stat", pid);
	if (read_file_at(ctx->proc_fd, path, buf, sizeof(buf)) < 0 || parse_pid_stat_buf(buf, &st))
		st.state = 0;
	return st;
}

/* The state letter of a process (0: gone). */
static char proc_state(struct rst_ctx *ctx, pid_t pid)
{
	return proc_stat(ctx, pid).state;
}

static int stub_error(struct rst_ctx *ctx)
{
	int err = __atomic_load_n(&ctx->shared->error, __ATOMIC_SEQ_CST);
	int slot = __atomic_load_n(&ctx->shared->err_slot, __ATOMIC_SEQ_CST);

	if (!err)
		return 0;
	if (slot >= 0 && slot < ctx->shared->nr_slots)
		pr_err("%s\n", ctx->shared->slots[slot].msg);
	return err;
}

/*
 * The pidfd of slot i's process, opened the first time it is looked at (and
 * again if the slot's pid changed); -ESRCH: the process is gone already;
 * another -errno: no pidfd (too many fds), look at /proc instead.
 */
static int alive_fd(struct rst_ctx *ctx, int i, pid_t pid)
{
	if (ctx->alive_fd[i] >= 0 && ctx->alive_pid[i] == pid)
		return ctx->alive_fd[i];
	if (ctx->alive_fd[i] >= 0)
		close(ctx->alive_fd[i]);
	ctx->alive_fd[i] = sys_pidfd_open(pid, 0);
	if (ctx->alive_fd[i] < 0)
		return -errno;
	ctx->alive_pid[i] = pid;
	return ctx->alive_fd[i];
}

static int alive_fds_alloc(struct rst_ctx *ctx)
{
	int n = ctx->shared->nr_slots;

	if (ctx->alive_fd)
		return 0;
	ctx->alive_fd = xmalloc((n ?: 1) * sizeof(*ctx->alive_fd));
	ctx->alive_pid = xmalloc((n ?: 1) * sizeof(*ctx->alive_pid));
	if (!ctx->alive_fd || !ctx->alive_pid)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		ctx->alive_fd[i] = -1;
	return 0;
}

void alive_fds_free(struct rst_ctx *ctx)
{
	for (int i = 0; ctx->alive_fd && ctx->shared && i < ctx->shared->nr_slots; i++)
		if (ctx->alive_fd[i] >= 0)
			close(ctx->alive_fd[i]);
	free(ctx->alive_fd);
	free(ctx->alive_pid);
	ctx->alive_fd = NULL;
	ctx->alive_pid = NULL;
}

static int died(struct rst_ctx *ctx, int i)
{
	return pr_fail(-ECHILD, "task %d died during restore\n", ctx->shared->slots[i].pid);
}

/*
 * Every created task must be alive (zombie stubs too, until they are told to
 * exit). This runs on every wake-up of the controller, so once per stub and
 * stage: one poll() of the tasks' pidfds (readable once a process has
 * exited), not a read of each one's /proc/PID/stat, which made the waits of
 * a tree of N tasks cost N^2 reads of /proc.
 */
static int check_alive(struct rst_ctx *ctx)
{
	_cleanup_free_ struct pollfd *pfd = NULL;
	_cleanup_free_ int *slot = NULL;
	int n = 0, ret;

	ret = alive_fds_alloc(ctx);
	pfd = xmalloc((ctx->shared->nr_slots ?: 1) * sizeof(*pfd));
	slot = xmalloc((ctx->shared->nr_slots ?: 1) * sizeof(*slot));
	if (ret || !pfd || !slot)
		return -ENOMEM;
	for (int i = 0; i < ctx->shared->nr_slots; i++) {
		pid_t pid = __atomic_load_n(&ctx->shared->slots[i].real, __ATOMIC_SEQ_CST);
		int fd;
		char st;

		if (pid <= 0)
			continue;
		fd = alive_fd(ctx, i, pid);
		if (fd == -ESRCH)
			return died(ctx, i);
		if (fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
			slot[n++] = i;
			continue;
		}
		st = proc_state(ctx, pid);
		if (!st || st == 'Z' || st == 'X')
			return died(ctx, i);
	}
	if (n && poll(pfd, n, 0) > 0) {
		for (int k = 0; k < n; k++)
			if (pfd[k].revents)
				return died(ctx, slot[k]);
	}
	return 0;
}

void ctl_publish(struct rst_ctx *ctx, int stage)
{
	__atomic_store_n(&ctx->shared->nr_done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctx->shared->stage, stage, __ATOMIC_SEQ_CST);
	stage_wake(ctx);
}

int ctl_wait_count(struct rst_ctx *ctx, int stage, int expect)
{
	struct timespec t0, now;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint32_t f = __atomic_load_n(&ctx->shared->futex, __ATOMIC_SEQ_CST);

		ret = check_stop_requested() ?: stub_error(ctx);
		if (ret)
			return ret;
		if (__atomic_load_n(&ctx->shared->nr_done, __ATOMIC_SEQ_CST) >= expect)
			break;
		ret = check_alive(ctx);
		if (ret) {
			/* a stub that failed may have died before we looked at its error */
			return stub_error(ctx) ?: ret;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > STAGE_TIMEOUT_MS)
			return pr_fail(-ETIMEDOUT, "restore stage '%s' timed out\n", stage_names[stage]);
		shared_wait(ctx, f, 100);
	}
	pr_debug("stage '%s' done\n", stage_names[stage]);
	return 0;
}

int ctl_run_stage(struct rst_ctx *ctx, int stage, int expect)
{
	ctl_publish(ctx, stage);
	return ctl_wait_count(ctx, stage, expect);
}

int wait_zombies(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	for_each_pstree_item(&ctx->tree, item) {
		if (item->state != TASK_DEAD)
			continue;
		struct proc_pid_stat st;
		char what[32];
		int i, ret;

		for (i = 0; i < 5000 && (st = proc_stat(ctx, rst_real_pid(ctx, item->pid))).state != 'Z'; i++)
			usleep(1000);
		if (i == 5000)
			return pr_fail(-ETIMEDOUT, "zombie %d did not exit\n", item->pid);
		snprintf(what, sizeof(what), "zombie %d", item->pid);
		ret = check_exit_status(ctx->proc_fd, what, st.exit_code, item->exit_code);
		if (!ret && rsti(item)->core && rsti(item)->core[0]->thread_core &&
		    rsti(item)->core[0]->thread_core->creds)
			ret = check_zombie_creds(ctx->proc_fd, rst_real_pid(ctx, item->pid), what,
						 rsti(item)->core[0]->thread_core->creds);
		if (ret)
			return ret;
		/* it is a zombie now: no more liveness checks on it */
		__atomic_store_n(&ctx->shared->slots[rsti(item)->slot].real, 0, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* ------------------------------------------------------ cleanup */

/* A zombie is gone for us: a sibling root's zombie is reaped by criu's parent, not by criu. */
static bool still_running(struct rst_ctx *ctx, pid_t pid)
{
	char st = proc_state(ctx, pid);

	return st && st != 'Z' && st != 'X';
}

void kill_and_reap(struct rst_ctx *ctx, pid_t root_pid)
{
	struct timespec t0, now;

	if (ctx->shared) {
		for (int i = 0; i < ctx->shared->nr_slots; i++) {
			pid_t pid = __atomic_load_n(&ctx->shared->slots[i].real, __ATOMIC_SEQ_CST);

			if (pid > 0)
				kill(pid, SIGKILL);
		}
	}
	if (root_pid > 0)
		kill(root_pid, SIGKILL);

	/* children die of PDEATHSIG; orphans come to us (child subreaper) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool left = false;
		int status;

		while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
			;
		for (int i = 0; ctx->shared && i < ctx->shared->nr_slots; i++) {
			pid_t real = __atomic_load_n(&ctx->shared->slots[i].real, __ATOMIC_SEQ_CST);

			if (real > 0 && still_running(ctx, real)) {
				left = true;
				kill(real, SIGKILL);
			}
		}
		if (root_pid > 0 && still_running(ctx, root_pid))
			left = true;
		if (!left)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10) {
			pr_err("some restored processes are still there after SIGKILL\n");
			break;
		}
		usleep(2000);
	}
	/* the zombies still_running() counted as gone */
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

/* ------------------------------------------------------ the watchdog */

/*
 * A fork of criu that outlives it: it reads the pipe until criu says the
 * tree is kept ('k') or goes away ('q'). EOF means criu died (killed): it
 * kills every task criu made (the pids of the shared slots), so that a criu
 * killed before the tree is released leaves nothing running. PDEATHSIG and
 * PTRACE_O_EXITKILL do most of this already; the watchdog covers what they
 * miss: a root made with CLONE_PARENT, and a SIGKILL the kernel queued to a
 * stub while criu had it stopped, which stays pending without waking it.
 */
/* Not dead yet: not a zombie (the watchdog has closed criu's /proc fd: a path). */
static bool watchdog_alive(pid_t pid)
{
	char path[32], buf[256], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void __attribute__((noreturn)) watchdog_main(struct rst_ctx *ctx, int fd)
{
	ssize_t n;
	char c;

	syscall(SYS_close_range, 0, fd - 1, 0);
	syscall(SYS_close_range, fd + 1, ~0U, 0);
	for (int i = 0; i < (int)ARRAY_SIZE(stop_signals); i++)
		signal(stop_signals[i], SIG_IGN);	/* a ^C to criu is criu's to handle */
	prctl(PR_SET_NAME, "criu-watchdog");
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(0);
	/*
	 * A SIGKILL sent while the task was still stopped by the dying criu
	 * may stay queued without waking it: send it to the leader thread
	 * (tgkill) again until every task is dead, for at most 10 s.
	 */
	for (int round = 0; round < 1000; round++) {
		bool left = false;

		for (int i = 0; i < ctx->shared->nr_slots; i++) {
			pid_t pid = __atomic_load_n(&ctx->shared->slots[i].real, __ATOMIC_SEQ_CST);

			if (pid > 0 && watchdog_alive(pid)) {
				left = true;
				syscall(SYS_tgkill, pid, pid, SIGKILL);
			}
		}
		if (!left)
			break;
		usleep(10000);
	}
	_exit(0);
}

int watchdog_start(struct rst_ctx *ctx)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return pr_fail_errno("can't make the watchdog's pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return pr_fail_errno("can't fork the watchdog");
	}
	if (pid == 0) {
		close(p[1]);
		watchdog_main(ctx, p[0]);
	}
	close(p[0]);
	ctx->watchdog_fd = p[1];
	ctx->watchdog_pid = pid;
	return 0;
}

void watchdog_stop(struct rst_ctx *ctx, bool keep)
{
	char c = keep ? 'k' : 'q';

	if (ctx->watchdog_fd < 0)
		return;
	if (write(ctx->watchdog_fd, &c, 1) != 1)
		pr_warn("can't tell the watchdog: %s\n", strerror(errno));
	close(ctx->watchdog_fd);
	ctx->watchdog_fd = -1;
	while (waitpid(ctx->watchdog_pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	ctx->watchdog_pid = 0;
}

/* ------------------------------------------------------ pids criu sees (own pid namespace) */

/*
 * The pid of a task (or thread) in the tree's namespace: column
 * ctx->tree_level of the NSpid line of its status (the root's last; a task in
 * a pid namespace nested below the tree's has more); path is relative to
 * criu's /proc. A negative ctx->tree_level is learnt from the first status
 * read, the root's.
 */
static int ns_pid_at(struct rst_ctx *ctx, const char *path, pid_t *ret)
{
	_cleanup_close_ int dfd = openat(ctx->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct proc_status st;
	int err;

	if (dfd < 0)
		return -errno;
	err = parse_pid_status(dfd, &st);
	if (err)
		return err;
	if (ctx->tree_level < 0)
		ctx->tree_level = st.ns_levels - 1;
	err = pidns_at_level(&st, ctx->tree_level, ret, NULL, NULL);
	proc_status_free(&st);
	return err;
}

/* Map every thread of a task whose real pid is known: tid in the namespace -> tid criu sees. */
static int learn_real_tids(struct rst_ctx *ctx, struct pstree_item *item, pid_t real)
{
	struct rst_info *ri = rsti(item);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[64];

	ri->real_tids = xzalloc(item->nr_threads * sizeof(pid_t));
	if (!ri->real_tids)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%d/task", real);
	{
		int fd = openat(ctx->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		d = fd < 0 ? NULL : fdopendir(fd);
		if (!d) {
			if (fd >= 0)
				close(fd);
			return pr_fail_errno("can't open /proc/%s", path);
		}
	}
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name), vtid;
		int idx, err;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "%d/task/%d", real, tid);
		err = ns_pid_at(ctx, path, &vtid);
		if (err)
			return pr_fail(err, "can't read the status of /proc/%s: %s\n", path, strerror(-err));
		if (pstree_find_tid(&ctx->tree, vtid, &idx) != item)
			return pr_fail(-EINVAL, "task %d has a thread %d (%d to criu) it should not have\n", item->pid,
				       vtid, tid);
		ri->real_tids[idx] = tid;
	}
	for (int i = 0; i < item->nr_threads; i++)
		if (ri->real_tids[i] <= 0)
			return pr_fail(-ESRCH, "thread %d of task %d is missing\n", item->threads[i], item->pid);
	return 0;
}

/* The children of a task, found through criu's /proc: record their real pids in the slots. */
static int learn_real_children(struct rst_ctx *ctx, struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);

	for (int i = 0; i < item->nr_threads; i++) {
		_cleanup_free_ char *buf = NULL;
		char path[64], *p, *end;
		ssize_t len;

		snprintf(path, sizeof(path), "%d/task/%d/children", ri->real_tids[0], ri->real_tids[i]);
		len = read_file_alloc_at(ctx->proc_fd, path, &buf);
		if (len < 0)
			return pr_fail((int)len, "can't read /proc/%s: %s\n", path, strerror((int)-len));
		for (p = buf;; p = end) {
			long real = strtol(p, &end, 10);
			struct pstree_item *child;
			pid_t vpid;
			int err;

			if (end == p)
				break;
			snprintf(path, sizeof(path), "%ld", real);
			err = ns_pid_at(ctx, path, &vpid);
			if (err)
				return pr_fail(err, "can't read the status of child %ld of %d: %s\n", real, item->pid,
					       strerror(-err));
			child = pstree_find(&ctx->tree, vpid);
			/* the helper that leads a group whose leader is gone, until the files stage (restore-stub.c) */
			if (!child && pstree_group_host(&ctx->tree, vpid) == item)
				continue;
			if (!child || child->parent != item)
				return pr_fail(-EINVAL, "task %d has a child %d (%ld to criu) it should not have\n",
					       item->pid, vpid, real);
			__atomic_store_n(&ctx->shared->slots[rsti(child)->slot].real, (pid_t)real, __ATOMIC_SEQ_CST);
		}
	}
	return 0;
}

/*
 * The tree lives in a pid namespace of its own: the stubs know their pids in
 * it only. Walk criu's /proc from the root (parents come first in the list)
 * to find the pids and tids criu sees, for ptrace, /proc and pidfd_open.
 */
int learn_real_pids(struct rst_ctx *ctx)
{
	struct pstree_item *item;
	int ret;

	ctx->tree_level = -1;	/* the root's threads come first */
	for_each_pstree_item(&ctx->tree, item) {
		pid_t real = __atomic_load_n(&ctx->shared->slots[rsti(item)->slot].real, __ATOMIC_SEQ_CST);

		if (real <= 0)
			return pr_fail(-ESRCH, "task %d was not found under its parent\n", item->pid);
		ret = learn_real_tids(ctx, item, real);
		if (!ret && !list_empty(&item->children))
			ret = learn_real_children(ctx, item);
		if (ret)
			return ret;
		pr_debug("task %d of the pid namespace is %d to criu\n", item->pid, real);
	}
	return 0;
}

