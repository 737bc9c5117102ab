// SPDX-License-Identifier: GPL-2.0
/*
 * Restore a process tree (Documentation/restore.md).
 *
 * criu (the controller) reads and checks every image, then forks the root
 * stub with clone3(set_tid); each stub forks its children and creates its
 * threads with their dumped ids, so parent links are kept. Stubs and criu
 * step through stages in a shared area (a futex counts changes):
 *
 *   FORKED  every task and thread exists; sessions and group leaders are set
 *   PGID    the other tasks joined their process groups
 *   FILES   every task has its fds, cwd, root, umask (files.c)
 *   READY   live stubs mapped the trampoline and park in pause()
 *   ZOMBIE  zombie stubs exit with their dumped status
 *
 * Then criu morphs every live stub into the dumped task (restorer.c) and lets
 * the tree run. On any failure every process started is killed and reaped
 * (criu is a child subreaper while it restores, so orphans come back to it).
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "action-scripts.h"
#include "common.h"
#include "cr_options.h"
#include "crtools.h"
#include "files.h"
#include "image.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "task-attrs.h"
#include "syscalls.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "vma.pb-c.h"

enum rst_stage {
	ST_START,
	ST_FORKED,
	ST_PGID,
	ST_FILES,
	ST_READY,
	ST_ZOMBIE,
};

static const char *stage_names[] = { "start", "fork", "process groups", "files", "ready", "zombies" };

struct rst_slot {
	pid_t pid;		/* the dumped pid */
	pid_t real;		/* set by the parent once the clone worked */
	char msg[512];		/* the stub's error, when it failed */
};

struct rst_shared {
	uint32_t futex;		/* bumped (and woken) on every change */
	int stage;		/* set by criu */
	int nr_done;		/* tasks that finished the current stage */
	int error;		/* first -errno of a stub */
	int err_slot;		/* its slot, -1 */
	int nr_slots;
	struct rst_slot slots[];
};

#define SFD_IMG 0
#define SFD_LOG 1
#define SFD_CTL 2	/* a pidfd of criu: stubs in a pid namespace of their own can't name criu by pid */
#define SFD_PROC 3	/* /proc: the morph opens /proc paths in the task through it, even after chroot */
#define SFD_NR 4

#define STAGE_TIMEOUT_MS 60000
#define THREAD_STUB_STACK (16UL << 10)

static struct rst_shared *shared;
static size_t shared_size;
static struct pstree rst_tree;
static unsigned long tramp_addr;
static int sfd_base;
static bool in_stub;
static const struct restore_opts *ropts;
static int criu_log_fd = -1;
static int ctl_pidfd = -1;
static int criu_proc_fd = -1;
/* inventory.img: criu's pid namespace at dump time (root_ids.pid_ns_id), 0 when not recorded */
static uint32_t dump_criu_pidns_id;

struct pstree *restore_pstree(void)
{
	return &rst_tree;
}

int restore_service_fd_base(void)
{
	return sfd_base;
}

int restore_img_dfd(void)
{
	return in_stub ? sfd_base + SFD_IMG : ropts->img_dfd;
}

int restore_ctl_pidfd(void)
{
	return in_stub ? sfd_base + SFD_CTL : ctl_pidfd;
}

static bool own_pidns(void)
{
	return rst_tree.ns_flags & CLONE_NEWPID;
}

pid_t restore_real_pid(pid_t pid)
{
	struct pstree_item *item;
	int idx;

	if (!own_pidns())
		return pid;	/* the tree shares criu's pid namespace: the same numbers */
	item = pstree_find_tid(&rst_tree, pid, &idx);
	if (!item || !rsti(item) || !rsti(item)->real_tids)
		return 0;
	return rsti(item)->real_tids[idx];
}

/* ------------------------------------------------------ the shared area */

static void shared_wake(void)
{
	__atomic_add_fetch(&shared->futex, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &shared->futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void shared_wait(uint32_t seen, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	syscall(SYS_futex, &shared->futex, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static int shared_alloc(int nr)
{
	shared_size = PAGE_ALIGN(sizeof(*shared) + nr * sizeof(shared->slots[0]));
	shared = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		shared = NULL;
		return pr_fail(-errno, "can't map the shared area: %s\n", strerror(errno));
	}
	shared->err_slot = -1;
	shared->nr_slots = nr;
	return 0;
}

/* SIGINT, SIGTERM, SIGHUP to criu while it restores: stop, and kill what was started. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction old_stop_actions[ARRAY_SIZE(stop_signals)];
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static void catch_stop_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		if (on)
			sigaction(stop_signals[i], &sa, &old_stop_actions[i]);
		else
			sigaction(stop_signals[i], &old_stop_actions[i], NULL);
	}
}

static int check_stop_requested(void)
{
	if (!stop_requested)
		return 0;
	return pr_fail(-EINTR, "interrupted by signal %d: undoing the restore\n", (int)stop_requested);
}

/* ------------------------------------------------------ stubs */

static void __attribute__((noreturn, format(printf, 3, 4))) stub_fail(struct pstree_item *me, int err,
								   const char *fmt, ...)
{
	int slot = rsti(me)->slot, none = -1;
	char *msg = shared->slots[slot].msg;
	size_t size = sizeof(shared->slots[slot].msg), len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	/* the cause the stub logged first: criu prints the slot, the stub's own log lines stay in the log */
	len = strlen(msg);
	if (log_first_err() && len + 4 < size)
		snprintf(msg + len, size - len, " (%s)", log_first_err());
	if (__atomic_compare_exchange_n(&shared->err_slot, &none, slot, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		__atomic_store_n(&shared->error, err < 0 ? err : -EIO, __ATOMIC_SEQ_CST);
	shared_wake();
	_exit(1);
}

static void stub_done(void)
{
	__atomic_add_fetch(&shared->nr_done, 1, __ATOMIC_SEQ_CST);
	shared_wake();
}

static void stub_wait_stage(int stage)
{
	for (;;) {
		uint32_t f = __atomic_load_n(&shared->futex, __ATOMIC_SEQ_CST);

		if (__atomic_load_n(&shared->error, __ATOMIC_SEQ_CST))
			_exit(1);
		if (__atomic_load_n(&shared->stage, __ATOMIC_SEQ_CST) >= stage)
			return;
		shared_wait(f, 1000);
	}
}

/* Move the fds a stub needs to the top, close all the others. */
static int stub_setup_fds(void)
{
	int src[SFD_NR] = { ropts->img_dfd, criu_log_fd, ctl_pidfd, criu_proc_fd };

	if (in_stub)
		return 0;	/* a child stub: the parent stub did it, the fds are inherited */
	for (int i = 0; i < SFD_NR; i++) {
		if (src[i] < 0 || src[i] == sfd_base + i)
			continue;
		if (dup3(src[i], sfd_base + i, O_CLOEXEC) < 0)
			return -errno;
	}
	log_set_fd(sfd_base + SFD_LOG);
	in_stub = true;
	if (syscall(SYS_close_range, 0, sfd_base - 1, 0) ||
	    syscall(SYS_close_range, sfd_base + SFD_NR, ~0U, 0))
		return -errno;
	return 0;
}

static pid_t clone_task(pid_t pid, uint64_t flags)
{
	struct criu_clone_args a = {
		.flags = flags,
		/* clone3 takes no exit signal with CLONE_PARENT: the child gets criu's own (SIGCHLD) */
		.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};

	return (pid_t)sys_clone3(&a, sizeof(a));
}

/*
 * A thread stub: clone3 into a new thread on its own small stack, where it
 * loops in pause() touching no memory until criu morphs it.
 */
static long clone_thread_stub(struct criu_clone_args *a)
{
	long ret;

	asm volatile("syscall\n\t"
		     "testq %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "2:\n\t"
		     "movl %[pause], %%eax\n\t"
		     "syscall\n\t"
		     "jmp 2b\n\t"
		     "1:\n\t"
		     : "=a"(ret)
		     : "0"((long)__NR_clone3), "D"(a), "S"(sizeof(*a)), [pause] "i"(__NR_pause)
		     : "rcx", "r11", "memory");
	return ret;
}

static void stub_create_threads(struct pstree_item *me)
{
	for (int i = 1; i < me->nr_threads; i++) {
		pid_t tid = me->threads[i];
		void *stk = mmap(NULL, THREAD_STUB_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct criu_clone_args a = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			.set_tid = (uint64_t)(uintptr_t)&tid,
			.set_tid_size = 1,
			.stack = (uint64_t)(uintptr_t)stk,
			.stack_size = THREAD_STUB_STACK,
		};
		long r;

		if (stk == MAP_FAILED)
			stub_fail(me, -errno, "task %d: can't map a thread stack: %s", me->pid, strerror(errno));
		if (slack_for_next(rsti(me)->core[i]))
			stub_fail(me, -EPERM, "task %d: can't give thread %d its default timer slack", me->pid, tid);
		r = clone_thread_stub(&a);
		if (r == -EEXIST)
			stub_fail(me, -EEXIST, "thread id %d (of task %d) is taken by another process", tid, me->pid);
		if (r < 0)
			stub_fail(me, (int)r, "task %d: can't create thread %d: %s", me->pid, tid, strerror((int)-r));
		if (r != tid)
			stub_fail(me, -EINVAL, "task %d: thread %d got id %ld", me->pid, tid, r);
	}
}

static void stub_session(struct pstree_item *me)
{
	if (me->sid == me->pid) {
		if (setsid() < 0)
			stub_fail(me, -errno, "task %d: setsid: %s", me->pid, strerror(errno));
		return;
	}
	if (me->pgid == me->pid && setpgid(0, 0))
		stub_fail(me, -errno, "task %d: setpgid(0, 0): %s", me->pid, strerror(errno));
}

static void stub_pgid(struct pstree_item *me)
{
	pid_t cur = getpgid(0);

	if (cur == me->pgid || me->pgid == me->pid)
		return;
	if (pstree_find(&rst_tree, me->pgid)) {
		if (setpgid(0, me->pgid))
			stub_fail(me, -errno, "task %d: can't join process group %d: %s", me->pid, me->pgid,
				  strerror(errno));
		return;
	}
	/* a group from outside the tree: only the root's (shell job) one, inherited */
	if (me->pgid == rst_tree.root->pgid && cur == getpgid(getppid()))
		return;
	stub_fail(me, -EINVAL, "task %d: process group %d is not restorable", me->pid, me->pgid);
}

static void stub_map_tramp(struct pstree_item *me)
{
	static const uint8_t code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */
	void *p = mmap((void *)tramp_addr, RST_TRAMP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED)
		stub_fail(me, -errno, "task %d: can't map the trampoline: %s", me->pid, strerror(errno));
	memcpy(p, code, sizeof(code));
}

static void __attribute__((noreturn)) stub_exit_as_zombie(struct pstree_item *me)
{
	int status = me->exit_code;
	struct rst_info *ri = rsti(me);

	/* a zombie shows its comm in /proc */
	if (ri && ri->core && ri->core[0] && ri->core[0]->tc && ri->core[0]->tc->comm)
		prctl(PR_SET_NAME, ri->core[0]->tc->comm);
	if (WIFSIGNALED(status)) {
		struct rlimit no_core = { 0, 0 };
		int sig = WTERMSIG(status);
		sigset_t set;

		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);	/* not raise(): glibc's cached tid is criu's */
	}
	_exit(WEXITSTATUS(status));
}

/*
 * Every action back to {SIG_DFL, no flags, no mask}, with the raw syscall
 * (glibc would add SA_RESTORER): the morph counts on a stub's default action
 * being exactly that, and a stub killed by a signal is seen by criu, which
 * then undoes the whole restore.
 */
static void stub_reset_signals(void)
{
	const uint64_t dfl[4] = { 0, 0, 0, 0 };

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, dfl, NULL, 8);
}

static void __attribute__((noreturn)) stub_main(struct pstree_item *me, pid_t parent)
{
	struct pstree_item *child;
	bool zombie = me->state == TASK_DEAD;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	stub_reset_signals();
	log_first_err_reset();	/* errors from here on are this stub's */
	ret = stub_setup_fds();
	if (ret)
		stub_fail(me, ret, "task %d: can't set up its service fds: %s", me->pid, strerror(-ret));

	stub_session(me);
	/* memory shared copy-on-write with the children: built here, before they fork (mem-cow.c) */
	ret = cow_stub_prepare(me, sfd_base + SFD_PROC);
	if (ret)
		stub_fail(me, ret, "task %d: can't build the memory it shares with its children: %s", me->pid,
			  strerror(-ret));
	list_for_each_entry(child, &me->children, sibling) {
		pid_t pid;

		/* a new task's default timer slack is its creator's current one */
		if (slack_for_next(rsti(child)->core[0]))
			stub_fail(me, -EPERM, "task %d: can't give child %d its default timer slack", me->pid, child->pid);
		pid = clone_task(child->pid, 0);

		if (pid == 0)
			stub_main(child, me->pid);
		if (pid < 0 && errno == EEXIST)
			stub_fail(me, -EEXIST, "pid %d is taken by another process", child->pid);
		if (pid < 0 && errno == EPERM)
			stub_fail(me, -EPERM, "can't clone task %d with its pid: clone3(set_tid) needs "
				  "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN", child->pid);
		if (pid < 0)
			stub_fail(me, -errno, "can't clone task %d: %s", child->pid, strerror(errno));
		/* in a pid namespace of its own pid is not what criu sees: criu finds the real one */
		if (!own_pidns())
			__atomic_store_n(&shared->slots[rsti(child)->slot].real, pid, __ATOMIC_SEQ_CST);
		if (pid != child->pid)
			stub_fail(me, -EINVAL, "task %d came up as %d", child->pid, pid);
	}
	stub_create_threads(me);
	stub_done();

	stub_wait_stage(ST_PGID);
	stub_pgid(me);
	stub_done();

	stub_wait_stage(ST_FILES);
	if (!zombie) {
		ret = prepare_fds(me);
		if (!ret)
			ret = prepare_fs(me);
		if (ret)
			stub_fail(me, ret, "task %d: can't restore its files: %s", me->pid, strerror(-ret));
	}
	stub_done();

	stub_wait_stage(ST_READY);
	if (!zombie)
		stub_map_tramp(me);
	stub_done();
	if (zombie) {
		stub_wait_stage(ST_ZOMBIE);
		stub_exit_as_zombie(me);
	}
	for (;;)
		pause();
}

/* ------------------------------------------------------ controller waits */

static char proc_state(pid_t pid)
{
	struct proc_pid_stat st;
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || parse_pid_stat_buf(buf, &st))
		return 0;
	return st.state;
}

static int stub_error(void)
{
	int err = __atomic_load_n(&shared->error, __ATOMIC_SEQ_CST);
	int slot = __atomic_load_n(&shared->err_slot, __ATOMIC_SEQ_CST);

	if (!err)
		return 0;
	if (slot >= 0 && slot < shared->nr_slots)
		pr_err("%s\n", shared->slots[slot].msg);
	return err;
}

/* Every created task must be alive (zombie stubs too, until they are told to exit). */
static int check_alive(void)
{
	for (int i = 0; i < shared->nr_slots; i++) {
		pid_t pid = __atomic_load_n(&shared->slots[i].real, __ATOMIC_SEQ_CST);
		char st;

		if (pid <= 0)
			continue;
		st = proc_state(pid);
		if (!st || st == 'Z' || st == 'X')
			return pr_fail(-ECHILD, "task %d died during restore\n", shared->slots[i].pid);
	}
	return 0;
}

static void ctl_publish(int stage)
{
	__atomic_store_n(&shared->nr_done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&shared->stage, stage, __ATOMIC_SEQ_CST);
	shared_wake();
}

static int ctl_wait_count(int stage, int expect)
{
	struct timespec t0, now;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint32_t f = __atomic_load_n(&shared->futex, __ATOMIC_SEQ_CST);

		ret = check_stop_requested() ?: stub_error();
		if (ret)
			return ret;
		if (__atomic_load_n(&shared->nr_done, __ATOMIC_SEQ_CST) >= expect)
			break;
		ret = check_alive();
		if (ret) {
			/* a stub that failed may have died before we looked at its error */
			return stub_error() ?: ret;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > STAGE_TIMEOUT_MS)
			return pr_fail(-ETIMEDOUT, "restore stage '%s' timed out\n", stage_names[stage]);
		shared_wait(f, 100);
	}
	pr_debug("stage '%s' done\n", stage_names[stage]);
	return 0;
}

static int ctl_run_stage(int stage, int expect)
{
	ctl_publish(stage);
	return ctl_wait_count(stage, expect);
}

static int wait_zombies(void)
{
	struct pstree_item *item;

	for_each_pstree_item(&rst_tree, item) {
		int i;

		if (item->state != TASK_DEAD)
			continue;
		for (i = 0; i < 5000 && proc_state(restore_real_pid(item->pid)) != 'Z'; i++)
			usleep(1000);
		if (i == 5000)
			return pr_fail(-ETIMEDOUT, "zombie %d did not exit\n", item->pid);
		/* it is a zombie now: no more liveness checks on it */
		__atomic_store_n(&shared->slots[rsti(item)->slot].real, 0, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* ------------------------------------------------------ cleanup */

/* A zombie is gone for us: a sibling root's zombie is reaped by criu's parent, not by criu. */
static bool still_running(pid_t pid)
{
	char st = proc_state(pid);

	return st && st != 'Z' && st != 'X';
}

static void kill_and_reap(pid_t root_pid)
{
	struct timespec t0, now;

	if (shared) {
		for (int i = 0; i < shared->nr_slots; i++) {
			pid_t pid = __atomic_load_n(&shared->slots[i].real, __ATOMIC_SEQ_CST);

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
		for (int i = 0; shared && i < shared->nr_slots; i++) {
			pid_t real = __atomic_load_n(&shared->slots[i].real, __ATOMIC_SEQ_CST);

			if (real > 0 && still_running(real)) {
				left = true;
				kill(real, SIGKILL);
			}
		}
		if (root_pid > 0 && still_running(root_pid))
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

/* ------------------------------------------------------ images */

static void free_task_images(struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);

	if (!ri)
		return;
	for (int i = 0; ri->core && i < item->nr_threads; i++)
		if (ri->core[i])
			pb_free(ri->core[i], PB_CORE);
	free(ri->core);
	free(ri->real_tids);
	if (ri->mem.mm)
		pb_free(ri->mem.mm, PB_MM);
	for (size_t i = 0; i < ri->mem.nr_pmes; i++)
		pb_free(ri->mem.pmes[i], PB_PAGEMAP);
	free(ri->mem.pmes);
	if (ri->pages_img)
		close_image(ri->pages_img);
	free(ri);
	item->priv = NULL;
}

static void free_images(void)
{
	struct pstree_item *item;

	if (!rst_tree.items.next)
		return;
	for_each_pstree_item(&rst_tree, item)
		free_task_images(item);
	pstree_free(&rst_tree);
}

static int read_pstree(int dfd)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_PSTREE, O_RSTR);
	PstreeEntry *e;
	int ret;

	INIT_LIST_HEAD(&rst_tree.items);
	if (!img)
		return pr_fail(-errno, "can't open pstree.img: %s\n", strerror(errno));
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "no pstree.img in the images directory (not a dump?)\n");
	}
	while ((ret = pb_read_one_eof(img, (void **)&e, PB_PSTREE)) > 0) {
		struct pstree_item *item = pstree_item_alloc();

		if (!item) {
			ret = -ENOMEM;
			pb_free(e, PB_PSTREE);
			break;
		}
		item->pid = e->pid;
		item->ppid = e->ppid;
		item->pgid = e->pgid;
		item->sid = e->sid;
		item->nr_threads = e->n_threads ? (int)e->n_threads : 1;
		item->threads = xmalloc(item->nr_threads * sizeof(pid_t));
		if (item->threads) {
			for (int i = 0; i < item->nr_threads; i++)
				item->threads[i] = e->n_threads ? (pid_t)e->threads[i] : item->pid;
		}
		pb_free(e, PB_PSTREE);
		list_add_tail(&item->all, &rst_tree.items);
		rst_tree.nr_items++;
		if (!item->threads) {
			ret = -ENOMEM;
			break;
		}
		if (!rst_tree.root) {
			rst_tree.root = item;
			continue;
		}
		item->parent = pstree_find(&rst_tree, item->ppid);
		if (!item->parent || item->parent == item) {
			ret = pr_fail(-EINVAL, "pstree.img: the parent %d of task %d is not listed before it\n",
				      item->ppid, item->pid);
			break;
		}
		list_add_tail(&item->sibling, &item->parent->children);
	}
	close_image(img);
	if (ret < 0)
		return ret;
	if (!rst_tree.root)
		return pr_fail(-EINVAL, "pstree.img has no tasks\n");
	return 0;
}

static int check_pstree(void)
{
	struct pstree_item *item, *other;

	for_each_pstree_item(&rst_tree, item) {
		if (item->pid <= 0 || item->threads[0] != item->pid)
			return pr_fail(-EINVAL, "pstree.img: task %d: bad pid or thread list\n", item->pid);
		for (int i = 0; i < item->nr_threads; i++) {
			int idx;

			if (item->threads[i] <= 0)
				return pr_fail(-EINVAL, "pstree.img: task %d has thread id %d\n", item->pid,
					       item->threads[i]);
			other = pstree_find_tid(&rst_tree, item->threads[i], &idx);
			if (other != item || idx != i)
				return pr_fail(-EINVAL, "pstree.img: id %d appears twice\n", item->threads[i]);
		}
		if (item->sid == item->pid && item->pgid != item->pid)
			return pr_fail(-EINVAL, "pstree.img: session leader %d is not its group leader\n", item->pid);
	}
	return 0;
}

static int check_sessions(const struct restore_opts *o)
{
	struct pstree_item *root = rst_tree.root;

	if (root->sid != root->pid && root->sid != getsid(0) && !o->shell_job)
		return pr_fail(-EINVAL,
			       "the root task %d is in session %d, which is outside the dump; use --shell-job\n",
			       root->pid, root->sid);
	if (root->pgid != root->pid && root->pgid != getpgid(0) && !pstree_find(&rst_tree, root->pgid) &&
	    !o->shell_job)
		return pr_fail(-EINVAL, "the root task %d is in process group %d, which is outside the dump; "
					"use --shell-job\n",
			       root->pid, root->pgid);
	return pstree_check_groups(&rst_tree);
}

static int read_one_core(int dfd, pid_t tid, CoreEntry **ret)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, tid);
	CoreEntry *c;
	int err;

	if (!img)
		return pr_fail(-errno, "can't open core-%d.img: %s\n", tid, strerror(errno));
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "core-%d.img is missing\n", tid);
	}
	err = pb_read_one(img, (void **)&c, PB_CORE);
	close_image(img);
	if (err)
		return pr_fail(err, "can't read core-%d.img: %s\n", tid, strerror(-err));
	*ret = c;
	if (c->mtype != CORE_ENTRY__MARCH__X86_64)
		return pr_fail(-EINVAL, "core-%d.img: not an x86_64 task\n", tid);
	if (c->tc && c->tc->task_state == TASK_DEAD)
		return 0;	/* a zombie: no registers */
	if (!c->thread_info || !c->thread_info->gpregs || !c->thread_core)
		return pr_fail(-EINVAL, "core-%d.img: registers or thread state missing\n", tid);
	if (c->thread_info->gpregs->has_mode && c->thread_info->gpregs->mode != USER_X86_REGS_MODE__NATIVE)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: 32-bit tasks are not supported\n", tid);
	/* what the morph can't do yet: refused here, before anything starts */
	if (c->thread_core->has_seccomp_mode && c->thread_core->seccomp_mode != SECCOMP_MODE__disabled)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: seccomp is not restored yet\n", tid);
	return check_thread_attrs(tid, c->thread_core);
}

/*
 * Read a pagemap image (pagemap-<pid>.img or pagemap-shmem-<shmid>.img) and
 * open the pages image it names, checking the pages image is long enough.
 * A missing pagemap image is an error only when must_exist.
 */
static int read_pagemap_img(int dfd, int type, unsigned long id, const char *name, bool must_exist,
			    PagemapEntry ***ret_pmes, size_t *ret_nr, struct cr_img **ret_pages)
{
	struct cr_img *img = open_image_at(dfd, type, O_RSTR, id);
	PagemapEntry **pmes = NULL, *pe;
	size_t nr = 0, cap = 0;
	PagemapHead *h;
	uint64_t need = 0;
	struct stat st;
	int ret;

	if (!img)
		return pr_fail(-errno, "can't open %s: %s\n", name, strerror(errno));
	if (img_is_empty(img)) {
		close_image(img);
		if (!must_exist)
			return 0;
		return pr_fail(-ENOENT, "%s is missing\n", name);
	}
	ret = pb_read_one(img, (void **)&h, PB_PAGEMAP_HEAD);
	if (ret) {
		close_image(img);
		return pr_fail(ret, "%s: no header\n", name);
	}
	while ((ret = pb_read_one_eof(img, (void **)&pe, PB_PAGEMAP)) > 0) {
		if (nr == cap) {
			PagemapEntry **n;

			cap = cap ? cap * 2 : 64;
			n = xrealloc(pmes, cap * sizeof(*n));
			if (!n) {
				pb_free(pe, PB_PAGEMAP);
				ret = -ENOMEM;
				break;
			}
			pmes = n;
		}
		pmes[nr++] = pe;
		if (!pe->has_flags || (pe->flags & PE_PRESENT))
			need += (uint64_t)pe->nr_pages * PAGE_SIZE;
	}
	close_image(img);
	*ret_pmes = pmes;
	*ret_nr = nr;
	if (ret < 0) {
		pb_free(h, PB_PAGEMAP_HEAD);
		return pr_fail(ret, "can't read %s\n", name);
	}
	if (need) {
		struct cr_img *pi = open_image_at(dfd, CR_FD_PAGES, O_RSTR, h->pages_id);

		if (!pi || img_is_empty(pi))
			ret = pr_fail(-ENOENT, "pages-%u.img (named by %s) is missing\n", h->pages_id, name);
		else if (fstat(img_raw_fd(pi), &st))
			ret = pr_fail(-errno, "can't stat pages-%u.img\n", h->pages_id);
		else if ((uint64_t)st.st_size < need)
			ret = pr_fail(-EINVAL,
				      "pages-%u.img is truncated: %" PRIu64 " bytes, %s needs %" PRIu64 "\n",
				      h->pages_id, (uint64_t)st.st_size, name, need);
		if (ret && pi)
			close_image(pi);
		else
			*ret_pages = pi;
	}
	pb_free(h, PB_PAGEMAP_HEAD);
	return ret;
}

static int read_pagemap(int dfd, struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "pagemap-%d.img", item->pid);
	ret = read_pagemap_img(dfd, CR_FD_PAGEMAP, item->pid, name, true, &ri->mem.pmes, &ri->mem.nr_pmes,
			       &ri->pages_img);
	if (!ret && ri->pages_img)
		ri->mem.pages_fd = img_raw_fd(ri->pages_img);
	return ret;
}

/* Shared anonymous objects: each pagemap-shmem image is read once, kept here. */
struct shmem_img {
	uint64_t shmid;
	PagemapEntry **pmes;
	size_t nr;
	struct cr_img *pages;
};
static struct shmem_img *shmem_imgs;
static size_t nr_shmem_imgs;

static void free_shmem_imgs(void)
{
	for (size_t i = 0; i < nr_shmem_imgs; i++) {
		for (size_t k = 0; k < shmem_imgs[i].nr; k++)
			pb_free(shmem_imgs[i].pmes[k], PB_PAGEMAP);
		free(shmem_imgs[i].pmes);
		if (shmem_imgs[i].pages)
			close_image(shmem_imgs[i].pages);
	}
	free(shmem_imgs);
	shmem_imgs = NULL;
	nr_shmem_imgs = 0;
}

static int read_shmems(int dfd, struct pstree_item *item)
{
	MmEntry *mm = rsti(item)->mem.mm;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		VmaEntry *v = mm->vmas[i];
		struct shmem_img *si = NULL, *n;
		char name[64];
		int ret;

		if (!(v->status & VMA_ANON_SHARED) || (v->status & (VMA_FILE_SHARED | VMA_FILE_PRIVATE)) ||
		    !(v->status & VMA_AREA_REGULAR))
			continue;
		for (size_t k = 0; k < nr_shmem_imgs; k++)
			if (shmem_imgs[k].shmid == v->shmid)
				si = &shmem_imgs[k];
		if (!si) {
			n = xrealloc(shmem_imgs, (nr_shmem_imgs + 1) * sizeof(*n));
			if (!n)
				return -ENOMEM;
			shmem_imgs = n;
			si = &shmem_imgs[nr_shmem_imgs++];
			*si = (struct shmem_img){ .shmid = v->shmid };
			snprintf(name, sizeof(name), "pagemap-shmem-%" PRIu64 ".img", v->shmid);
			ret = read_pagemap_img(dfd, CR_FD_SHMEM_PAGEMAP, v->shmid, name, false, &si->pmes, &si->nr,
					       &si->pages);
			if (ret)
				return ret;
		}
		ret = restore_shmem_add(v->shmid, v->pgoff + (v->end - v->start), si->pmes, si->nr,
					si->pages ? img_raw_fd(si->pages) : -1);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_mm(int dfd, struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);
	struct cr_img *img = open_image_at(dfd, CR_FD_MM, O_RSTR, item->pid);
	int ret;

	if (!img)
		return pr_fail(-errno, "can't open mm-%d.img: %s\n", item->pid, strerror(errno));
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "mm-%d.img is missing\n", item->pid);
	}
	ret = pb_read_one(img, (void **)&ri->mem.mm, PB_MM);
	close_image(img);
	if (ret)
		return pr_fail(ret, "can't read mm-%d.img: %s\n", item->pid, strerror(-ret));
	ret = read_pagemap(dfd, item);
	if (!ret)
		ret = validate_mem(item->pid, &ri->mem);
	if (!ret)
		ret = read_shmems(dfd, item);
	return ret;
}

static int restore_file_path(uint32_t id, char *buf, size_t size);

static int read_task_images(int dfd, struct pstree_item *item, int slot)
{
	struct rst_info *ri = xzalloc(sizeof(*ri));
	TaskCoreEntry *tc;
	int ret;

	if (!ri)
		return -ENOMEM;
	item->priv = ri;
	ri->slot = slot;
	ri->mem.pages_fd = -1;
	ri->mem.file_path = restore_file_path;
	ri->mem.file_own_fd = memfd_map_ctl_fd;
	ri->core = xzalloc(item->nr_threads * sizeof(*ri->core));
	if (!ri->core)
		return -ENOMEM;
	for (int i = 0; i < item->nr_threads; i++) {
		ret = read_one_core(dfd, item->threads[i], &ri->core[i]);
		if (ret)
			return ret;
	}
	tc = ri->core[0]->tc;
	if (!tc)
		return pr_fail(-EINVAL, "core-%d.img: the task state is missing\n", item->pid);
	/* fdinfo-<files_id>.img; a dump without ids in the core names it by pid */
	item->files_id = ri->core[0]->ids ? ri->core[0]->ids->files_id : (uint32_t)item->pid;
	switch (tc->task_state) {
	case TASK_ALIVE:
	case TASK_STOPPED:
		item->state = tc->task_state;
		return read_mm(dfd, item);
	case TASK_DEAD:
		item->state = TASK_DEAD;
		item->exit_code = (int)tc->exit_code;
		if (item == rst_tree.root)
			return pr_fail(-EOPNOTSUPP, "the root task %d is a zombie\n", item->pid);
		if (!list_empty(&item->children) || item->nr_threads != 1)
			return pr_fail(-EINVAL, "zombie %d has children or threads\n", item->pid);
		return 0;
	default:
		return pr_fail(-EINVAL, "core-%d.img: unknown task state %u\n", item->pid, tc->task_state);
	}
}

static uint32_t core_pidns_id(struct pstree_item *item)
{
	TaskKobjIdsEntry *ids = rsti(item)->core[0]->ids;

	return ids && ids->has_pid_ns_id ? ids->pid_ns_id : 0;
}

/*
 * As in CRIU: the root's pid_ns_id differs from criu's at dump time
 * (inventory root_ids) when the tree had a pid namespace of its own, whose
 * init the root was. Every task must be in the root's namespace.
 */
static int check_pidns(void)
{
	struct pstree_item *root = rst_tree.root, *item;
	uint32_t root_ns = core_pidns_id(root);

	rst_tree.ns_flags = 0;
	if (root_ns && dump_criu_pidns_id && root_ns != dump_criu_pidns_id)
		rst_tree.ns_flags |= CLONE_NEWPID;
	for_each_pstree_item(&rst_tree, item)
		if (core_pidns_id(item) != root_ns)
			return pr_fail(-EOPNOTSUPP, "core-%d.img: task %d is in pid namespace %u, the root in %u: "
						    "nested pid namespaces are not supported\n",
				       item->pid, item->pid, core_pidns_id(item), root_ns);
	if (own_pidns() && root->pid != 1)
		return pr_fail(-EINVAL, "the tree had its own pid namespace, but its root is pid %d there, not 1\n",
			       root->pid);
	if (own_pidns())
		pr_info("the tree had its own pid namespace: the root is created as its init\n");
	return 0;
}

/* inventory.img is written last by dump: without a sound one the dump is not complete. */
static int check_inventory(int dfd)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_INVENTORY, O_RSTR);
	InventoryEntry *ie;
	int ret;

	if (!img)
		return pr_fail(-errno, "can't open inventory.img: %s\n", strerror(errno));
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "no inventory.img: not a complete dump\n");
	}
	ret = pb_read_one(img, (void **)&ie, PB_INVENTORY);
	close_image(img);
	if (ret)
		return pr_fail(ret, "can't read inventory.img: %s\n", strerror(-ret));
	if (ie->img_version != CRTOOLS_IMAGES_V1_1)
		ret = pr_fail(-EINVAL, "inventory.img: image version %u, this criu reads %u\n", ie->img_version,
			      CRTOOLS_IMAGES_V1_1);
	dump_criu_pidns_id = ie->root_ids && ie->root_ids->has_pid_ns_id ? ie->root_ids->pid_ns_id : 0;
	pb_free(ie, PB_INVENTORY);
	return ret;
}

static int read_images(const struct restore_opts *o)
{
	struct pstree_item *item;
	int ret, slot = 0;

	INIT_LIST_HEAD(&rst_tree.items);
	ret = check_inventory(o->img_dfd);
	if (ret)
		return ret;
	ret = read_pstree(o->img_dfd);
	if (!ret)
		ret = check_pstree();
	if (!ret)
		ret = check_sessions(o);
	if (ret)
		return ret;
	for_each_pstree_item(&rst_tree, item) {
		ret = read_task_images(o->img_dfd, item, slot++);
		if (ret)
			return ret;
	}
	return check_pidns();
}

/* ------------------------------------------------------ files of mappings */

static int restore_file_path(uint32_t id, char *buf, size_t size)
{
	struct file_desc *d = find_file_desc(id);
	int fd;

	if (!d)
		return -ENOENT;
	fd = file_desc_ctl_fd(d);
	if (fd >= 0) {
		/* the controller's open file: right even when the file was deleted or is a memfd */
		snprintf(buf, size, "/proc/%d/fd/%d", getpid(), fd);
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------ the trampoline */

static int pick_tramp(void)
{
	const unsigned long gap = 16UL << 20;

	for (unsigned long a = 1UL << 32; a < (1UL << 46); a += 1UL << 30) {
		struct pstree_item *item;
		bool ok = true;
		void *p;

		for_each_pstree_item(&rst_tree, item)
			if (item->state != TASK_DEAD &&
			    !mem_range_free(&rsti(item)->mem, a - gap, a + RST_TRAMP_RESERVE + gap)) {
				ok = false;
				break;
			}
		if (!ok)
			continue;
		p = mmap((void *)a, RST_TRAMP_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (p == MAP_FAILED)
			continue;
		if (p != (void *)a) {
			munmap(p, RST_TRAMP_RESERVE);
			continue;
		}
		tramp_addr = a;
		pr_debug("trampoline at %#lx\n", a);
		return 0;
	}
	return pr_fail(-ENOMEM, "no room for the restore trampoline\n");
}

/* ------------------------------------------------------ the morph */

static int fill_service_fds(struct morph_task *mt)
{
	int criu_fds[SFD_NR] = { ropts->img_dfd, criu_log_fd, ctl_pidfd, criu_proc_fd };

	mt->nr_service_fds = 0;
	rsti(mt->item)->mem.remote_proc_fd = -1;
	rsti(mt->item)->mem.remote_ctl_pidfd = -1;
	for (int i = 0; i < SFD_NR; i++) {
		/* close it only when it is still our file (not a restored fd) */
		int same = criu_fds[i] < 0 ? -1 :
			   sys_kcmp(getpid(), restore_real_pid(mt->item->pid), KCMP_FILE, criu_fds[i], sfd_base + i);

		pr_debug("task %d: service fd %d %s\n", mt->item->pid, sfd_base + i,
			 same == 0 ? "is criu's: closed by the morph" : "is not criu's");
		if (same)
			continue;
		mt->service_fds[mt->nr_service_fds++] = sfd_base + i;
		if (i == SFD_PROC)
			rsti(mt->item)->mem.remote_proc_fd = sfd_base + i;
		if (i == SFD_CTL)
			rsti(mt->item)->mem.remote_ctl_pidfd = sfd_base + i;
	}
	return 0;
}

static int morph_all(struct morph_task *mts)
{
	struct pstree_item *item;
	int ret = 0, n = 0;

	for_each_pstree_item(&rst_tree, item) {
		struct morph_task *mt = &mts[n++];

		mt->item = item;
		mt->tramp = tramp_addr;
		if (item->state == TASK_DEAD)
			continue;
		ret = check_stop_requested();
		if (ret)
			return ret;
		fill_service_fds(mt);
		ret = morph_task(mt);
		if (ret) {
			pr_err("can't restore task %d\n", item->pid);
			return ret;
		}
		pr_info("task %d morphed\n", item->pid);
		if (fault_injected("restore-morph"))
			return pr_fail(-EIO, "fault injected: restore-morph\n");
	}
	return 0;
}

static int release_all(struct morph_task *mts, int nr)
{
	int ret = 0;

	for (int i = 0; i < nr; i++) {
		int r = morph_release(&mts[i]);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

static void abort_all(struct morph_task *mts, int nr)
{
	for (int i = 0; mts && i < nr; i++)
		morph_abort(&mts[i]);
}

/* ------------------------------------------------------ the whole thing */

static int write_pidfile(const char *path, pid_t pid)
{
	char buf[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pr_fail(-errno, "can't create the pidfile %s: %s\n", path, strerror(errno));
	len = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, len) != len) {
		close(fd);
		return pr_fail(-EIO, "can't write the pidfile %s\n", path);
	}
	close(fd);
	return 0;
}

static int wait_root(pid_t pid)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, 0);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return pr_fail(-errno, "waiting for the root task %d: %s\n", pid, strerror(errno));
	}
	if (WIFEXITED(status)) {
		pr_info("the root task exited with %d\n", WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	pr_info("the root task was killed by signal %d\n", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

static int count_tasks(bool live_only)
{
	struct pstree_item *item;
	int n = 0;

	for_each_pstree_item(&rst_tree, item)
		if (!live_only || item->state != TASK_DEAD)
			n++;
	return n;
}

/* ------------------------------------------------------ pids criu sees (own pid namespace) */

/* The pid of a task (or thread) in the tree's namespace: the last NSpid column of its status. */
static int ns_pid_at(const char *path, pid_t *ret)
{
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct proc_status st;
	int err;

	if (dfd < 0)
		return -errno;
	err = parse_pid_status(dfd, &st);
	if (err)
		return err;
	err = pidns_innermost(&st, ret, NULL, NULL);
	proc_status_free(&st);
	return err;
}

/* Map every thread of a task whose real pid is known: tid in the namespace -> tid criu sees. */
static int learn_real_tids(struct pstree_item *item, pid_t real)
{
	struct rst_info *ri = rsti(item);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[64];

	ri->real_tids = xzalloc(item->nr_threads * sizeof(pid_t));
	if (!ri->real_tids)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/task", real);
	d = opendir(path);
	if (!d)
		return pr_fail(-errno, "can't open %s: %s\n", path, strerror(errno));
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name), vtid;
		int idx, err;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d", real, tid);
		err = ns_pid_at(path, &vtid);
		if (err)
			return pr_fail(err, "can't read the status of %s: %s\n", path, strerror(-err));
		if (pstree_find_tid(&rst_tree, vtid, &idx) != item)
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
static int learn_real_children(struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);

	for (int i = 0; i < item->nr_threads; i++) {
		_cleanup_free_ char *buf = NULL;
		char path[64], *p, *end;
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", ri->real_tids[0], ri->real_tids[i]);
		len = read_file_alloc_at(AT_FDCWD, path, &buf);
		if (len < 0)
			return pr_fail((int)len, "can't read %s: %s\n", path, strerror((int)-len));
		for (p = buf;; p = end) {
			long real = strtol(p, &end, 10);
			struct pstree_item *child;
			pid_t vpid;
			int err;

			if (end == p)
				break;
			snprintf(path, sizeof(path), "/proc/%ld", real);
			err = ns_pid_at(path, &vpid);
			if (err)
				return pr_fail(err, "can't read the status of child %ld of %d: %s\n", real, item->pid,
					       strerror(-err));
			child = pstree_find(&rst_tree, vpid);
			if (!child || child->parent != item)
				return pr_fail(-EINVAL, "task %d has a child %d (%ld to criu) it should not have\n",
					       item->pid, vpid, real);
			__atomic_store_n(&shared->slots[rsti(child)->slot].real, (pid_t)real, __ATOMIC_SEQ_CST);
		}
	}
	return 0;
}

/*
 * The tree lives in a pid namespace of its own: the stubs know their pids in
 * it only. Walk criu's /proc from the root (parents come first in the list)
 * to find the pids and tids criu sees, for ptrace, /proc and pidfd_open.
 */
static int learn_real_pids(void)
{
	struct pstree_item *item;
	int ret;

	for_each_pstree_item(&rst_tree, item) {
		pid_t real = __atomic_load_n(&shared->slots[rsti(item)->slot].real, __ATOMIC_SEQ_CST);

		if (real <= 0)
			return pr_fail(-ESRCH, "task %d was not found under its parent\n", item->pid);
		ret = learn_real_tids(item, real);
		if (!ret && !list_empty(&item->children))
			ret = learn_real_children(item);
		if (ret)
			return ret;
		pr_debug("task %d of the pid namespace is %d to criu\n", item->pid, real);
	}
	return 0;
}

static int fork_and_morph(pid_t *ret_root, struct morph_task **ret_mts)
{
	struct pstree_item *root = rst_tree.root;
	struct morph_task *mts;
	int nr = rst_tree.nr_items, ret;
	pid_t pid, me = getpid();
	long slack;

	ctl_publish(ST_FORKED);
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	ret = slack_for_next(rsti(root)->core[0]);
	if (ret)
		return pr_fail(ret, "can't give the root task its default timer slack (criu real-time?)\n");
	/* a sibling root is the child of criu's parent, which the stub checks */
	if (ropts->sibling)
		me = getppid();
	/* the init of a new pid namespace: pid 1 there (root->pid), its parent is 0 to it */
	pid = clone_task(root->pid, (own_pidns() ? CLONE_NEWPID : 0) | (ropts->sibling ? CLONE_PARENT : 0));
	if (pid == 0)
		stub_main(root, own_pidns() ? 0 : me);
	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	if (pid < 0) {
		if (errno == EEXIST)
			return pr_fail(-EEXIST, "pid %d is taken by another process\n", root->pid);
		if (errno == EPERM)
			return pr_fail(-EPERM, "can't clone the root task %d with its pid: clone3(set_tid) needs "
					       "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN\n",
				       root->pid);
		return pr_fail(-errno, "can't clone the root task %d: %s\n", root->pid, strerror(errno));
	}
	*ret_root = pid;
	__atomic_store_n(&shared->slots[rsti(root)->slot].real, pid, __ATOMIC_SEQ_CST);

	ret = ctl_wait_count(ST_FORKED, nr);
	if (!ret && own_pidns())
		ret = learn_real_pids();
	/* CRIU runs these only when it creates namespaces: here, the tree's own pid namespace */
	if (!ret && own_pidns())
		ret = run_scripts(ACT_SETUP_NS, ropts->img_dfd, pid);
	if (!ret && own_pidns())
		ret = run_scripts(ACT_POST_SETUP_NS, ropts->img_dfd, pid);
	if (!ret && fault_injected("restore-forked"))
		ret = pr_fail(-EIO, "fault injected: restore-forked\n");
	/* test hook: hold the restore (every task exists) until a stop signal or 10 s */
	for (int i = 0; !ret && i < 1000 && fault_injected("restore-stall"); i++) {
		ret = check_stop_requested();
		usleep(10000);
	}
	if (!ret)
		ret = ctl_run_stage(ST_PGID, nr);
	if (!ret)
		ret = files_restore_tree_ready(&rst_tree);
	if (!ret)
		ret = ctl_run_stage(ST_FILES, nr);
	if (!ret)
		ret = ctl_run_stage(ST_READY, nr);
	if (!ret && count_tasks(false) != count_tasks(true)) {
		ctl_publish(ST_ZOMBIE);
		ret = wait_zombies();
	}
	if (ret)
		return ret;

	mts = xzalloc(nr * sizeof(*mts));
	if (!mts)
		return -ENOMEM;
	*ret_mts = mts;
	ret = morph_all(mts);
	if (!ret)
		ret = files_restore_late();
	if (!ret)
		ret = run_scripts(ACT_POST_RESTORE, ropts->img_dfd, pid);
	/* before the tree runs, so that a pidfile that can't be written still undoes the restore */
	if (!ret && ropts->pidfile)
		ret = write_pidfile(ropts->pidfile, pid);
	if (ret)
		return ret;
	/* as in CRIU, pre-resume and post-resume scripts can't fail the restore */
	if (run_scripts(ACT_PRE_RESUME, ropts->img_dfd, pid))
		pr_warn("the pre-resume action script failed\n");
	return release_all(mts, nr);
}

/* --status-fd: one '\0' once the tree runs, then close it */
static void report_ready(void)
{
	char c = 0;

	if (opts.status_fd < 0)
		return;
	if (write(opts.status_fd, &c, 1) != 1)
		pr_warn("can't write to the status fd %d: %s\n", opts.status_fd, strerror(errno));
	close(opts.status_fd);
	opts.status_fd = -1;
}

static void restore_cleanup(void)
{
	free_images();
	restore_mem_reset();
	cow_reset();
	free_shmem_imgs();
	if (shared)
		munmap(shared, shared_size);
	shared = NULL;
	if (tramp_addr)
		munmap((void *)tramp_addr, RST_TRAMP_RESERVE);
	tramp_addr = 0;
	in_stub = false;
	if (ctl_pidfd >= 0)
		close(ctl_pidfd);
	ctl_pidfd = -1;
	if (criu_proc_fd >= 0)
		close(criu_proc_fd);
	criu_proc_fd = -1;
}

int cr_restore_tasks(const struct restore_opts *o)
{
	struct morph_task *mts = NULL;
	pid_t root_pid = 0;
	struct rlimit rl;
	int ret, was_subreaper = 0;

	ropts = o;
	criu_log_fd = log_get_fd();
	ret = read_images(o);
	if (ret)
		goto out;
	ret = run_scripts(ACT_PRE_RESTORE, o->img_dfd, 0);
	if (ret) {
		pr_err("the pre-restore action script failed: nothing restored\n");
		goto out;
	}
	ret = pick_tramp();
	if (!ret)
		ret = cow_plan(&rst_tree);
	if (ret)
		goto out;
	ctl_pidfd = sys_pidfd_open(getpid(), 0);
	if (ctl_pidfd < 0) {
		ret = pr_fail(-errno, "can't open a pidfd of criu itself: %s\n", strerror(errno));
		goto out;
	}
	criu_proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (criu_proc_fd < 0) {
		ret = pr_fail(-errno, "can't open /proc: %s\n", strerror(errno));
		goto out;
	}
	ret = shared_alloc(rst_tree.nr_items);
	if (ret)
		goto out;
	{
		struct pstree_item *item;

		for_each_pstree_item(&rst_tree, item)
			shared->slots[rsti(item)->slot].pid = item->pid;
	}
	ret = files_restore_prepare(o->img_dfd);
	if (ret)
		goto out_files;
	/* files_restore_prepare() may raise RLIMIT_NOFILE: the service fds go to the top */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 64) {
		ret = pr_fail(-EMFILE, "RLIMIT_NOFILE is too low to restore\n");
		goto out_files;
	}
	sfd_base = (int)min(rl.rlim_cur, (rlim_t)INT_MAX) - SFD_NR - 1;

	prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		ret = pr_fail(-errno, "can't become a child subreaper: %s\n", strerror(errno));
		goto out_files;
	}
	stop_requested = 0;
	catch_stop_signals(true);
	ret = fork_and_morph(&root_pid, &mts);
	catch_stop_signals(false);
	if (ret) {
		abort_all(mts, rst_tree.nr_items);
		kill_and_reap(root_pid);
		prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
		goto out_files;
	}
	prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
	files_restore_fini();
	pr_info("restore of %d tasks done, root %d\n", rst_tree.nr_items, root_pid);
	if (o->ret_pid)
		*o->ret_pid = root_pid;

	free(mts);
	restore_cleanup();
	if (run_scripts(ACT_POST_RESUME, o->img_dfd, root_pid))
		pr_warn("the post-resume action script failed\n");
	report_ready();
	if (o->detached)
		return 0;
	return wait_root(root_pid);

out_files:
	files_restore_fini();
out:
	free(mts);
	restore_cleanup();
	return ret;
}
