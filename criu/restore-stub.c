// SPDX-License-Identifier: GPL-2.0
/*
 * The stub (Documentation/restore.md, section 2): what runs in the forked
 * copies of criu. Each stub moves its fds to the service fds, sets its
 * session and group, builds the memory it shares copy-on-write with its
 * children, forks them and creates its threads with their dumped ids, then
 * goes through the stages with the controller, unmaps criu from itself and
 * parks in pause() in its trampoline until it is morphed (stub-unmap.c), or
 * exits as a zombie.
 */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup.h"
#include "common.h"
#include "exit-status.h"
#include "cr_options.h"
#include "file-lock.h"
#include "files.h"
#include "image.h"
#include "mount.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"
#include "tty.h"
#include "task-attrs.h"
#include "task-share.h"
#include "syscalls.h"

#define THREAD_STUB_STACK (16UL << 10)

#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE _IO(0xFF, 5)
#endif

/* ------------------------------------------------------ stubs */

static void __attribute__((noreturn, format(printf, 4, 5)))
stub_fail(struct rst_ctx *ctx, struct pstree_item *me, int err, const char *fmt, ...)
{
	int slot = rsti(me)->slot, none = -1;
	char *msg = ctx->shared->slots[slot].msg;
	size_t size = sizeof(ctx->shared->slots[slot].msg), len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	/* the cause the stub logged first: criu prints the slot, the stub's own log lines stay in the log */
	len = strlen(msg);
	if (log_first_err() && len + 4 < size)
		snprintf(msg + len, size - len, " (%s)", log_first_err());
	if (__atomic_compare_exchange_n(&ctx->shared->err_slot, &none, slot, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		__atomic_store_n(&ctx->shared->error, err < 0 ? err : -EIO, __ATOMIC_SEQ_CST);
	shared_wake(ctx);
	stage_wake(ctx);
	_exit(1);
}

static void stub_done(struct rst_ctx *ctx)
{
	__atomic_add_fetch(&ctx->shared->nr_done, 1, __ATOMIC_SEQ_CST);
	shared_wake(ctx);
}

/*
 * criu is gone (killed): its pidfd polls readable. The stub goes too, and its
 * children with it (PR_SET_PDEATHSIG); a root made with CLONE_PARENT (RPC
 * rst_sibling) has no other way to learn it.
 */
static bool ctl_gone(struct rst_ctx *ctx)
{
	struct pollfd p = { .fd = ctx->ctl_pidfd, .events = POLLIN };

	return ctx->ctl_pidfd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP));
}

static void stub_wait_stage(struct rst_ctx *ctx, int stage)
{
	for (;;) {
		uint32_t f = __atomic_load_n(&ctx->shared->stage_futex, __ATOMIC_SEQ_CST);

		if (__atomic_load_n(&ctx->shared->error, __ATOMIC_SEQ_CST) || ctl_gone(ctx))
			_exit(1);
		if (__atomic_load_n(&ctx->shared->stage, __ATOMIC_SEQ_CST) >= stage)
			return;
		stage_wait(ctx, f, 1000);
	}
}

/*
 * Move the fds a stub needs to the service fds (ctx->sfd_base, right above
 * the tree's highest fd), close all the others. This stub's
 * copy of the ctx then names the service fds, so every step run in the stub
 * uses them.
 */
static int stub_setup_fds(struct rst_ctx *ctx)
{
	int *fds[SFD_NR] = { &ctx->img_dfd, &ctx->log_fd, &ctx->ctl_pidfd, &ctx->proc_fd };
	int base;

	if (ctx->in_stub)
		return 0;	/* a child stub: the parent stub did it, fds and ctx are inherited */
	base = ctx->sfd_base;
	/*
	 * criu's fds may sit anywhere, service fd numbers included: one that
	 * does is first copied out of the way, so that no dup3() below closes
	 * one not moved yet. Below the service fds when there is room, so that
	 * the table does not grow past them (a fork copies it up to the last
	 * open fd, and the root task keeps it).
	 */
	for (int i = 0; i < SFD_NR; i++) {
		if (*fds[i] >= base && *fds[i] < base + SFD_NR) {
			int tmp = fcntl(*fds[i], F_DUPFD_CLOEXEC, 0);

			if (tmp >= base && tmp < base + SFD_NR) {
				int far = fcntl(*fds[i], F_DUPFD_CLOEXEC, base + SFD_NR);

				close(tmp);
				tmp = far;
			}
			if (tmp < 0)
				return -errno;
			*fds[i] = tmp;
		}
	}
	for (int i = 0; i < SFD_NR; i++) {
		if (*fds[i] < 0) {
			close(base + i);	/* a criu fd that sat there, the service unused */
			continue;
		}
		if (dup3(*fds[i], base + i, O_CLOEXEC) < 0)
			return -errno;
		*fds[i] = base + i;
	}
	log_set_fd(ctx->log_fd);
	ctx->in_stub = true;
	if (syscall(SYS_close_range, 0, ctx->sfd_base - 1, 0) ||
	    syscall(SYS_close_range, ctx->sfd_base + SFD_NR, ~0U, 0))
		return -errno;
	return 0;
}

pid_t clone_task(pid_t pid, uint64_t flags)
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
 * A task with its pid at every level from its own pid namespace up to the
 * tree's (set_tid[0] innermost); CLONE_NEWPID makes it the init of a new one.
 * ret_pidfd (CLONE_PIDFD) may be NULL.
 */
static pid_t clone_nested(const struct pstree_item *c, uint64_t flags, int *ret_pidfd)
{
	pid_t set_tid[32];
	int n = c->ns_depth + 1;
	struct criu_clone_args a = {
		.flags = flags | (ret_pidfd ? CLONE_PIDFD : 0),
		.pidfd = (uint64_t)(uintptr_t)ret_pidfd,
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)set_tid,
		.set_tid_size = (uint64_t)n,
	};

	for (int l = 0; l < n; l++)
		set_tid[l] = item_pid_at(c, 0, c->ns_depth - l);
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

static void stub_create_threads(struct rst_ctx *ctx, struct pstree_item *me)
{
	for (int i = 1; i < me->nr_threads; i++) {
		pid_t tid = me->threads[i], set_tid[32], mine = item_pid_at(me, i, me->ns_depth);
		void *stk = mmap(NULL, THREAD_STUB_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct criu_clone_args a = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			.set_tid = (uint64_t)(uintptr_t)set_tid,
			.set_tid_size = (uint64_t)me->ns_depth + 1,
			.stack = (uint64_t)(uintptr_t)stk,
			.stack_size = THREAD_STUB_STACK,
		};
		long r;

		for (int l = 0; l <= me->ns_depth; l++)
			set_tid[l] = item_pid_at(me, i, me->ns_depth - l);
		if (stk == MAP_FAILED)
			stub_fail(ctx, me, -errno, "task %d: can't map a thread stack: %s", me->pid, strerror(errno));
		if (slack_for_next(rsti(me)->core[i]))
			stub_fail(ctx, me, -EPERM, "task %d: can't give thread %d its default timer slack", me->pid, tid);
		r = clone_thread_stub(&a);
		if (r == -EEXIST)
			stub_fail(ctx, me, -EEXIST, "thread id %d (of task %d) is taken by another process", tid, me->pid);
		if (r < 0)
			stub_fail(ctx, me, (int)r, "task %d: can't create thread %d: %s", me->pid, tid, strerror((int)-r));
		if (r != mine)
			stub_fail(ctx, me, -EINVAL, "task %d: thread %d got id %ld, not %d", me->pid, tid, r, mine);
	}
}

static void stub_session(struct rst_ctx *ctx, struct pstree_item *me)
{
	if (me->sid == me->pid) {
		if (setsid() < 0)
			stub_fail(ctx, me, -errno, "task %d: setsid: %s", me->pid, strerror(errno));
		return;
	}
	if (me->pgid == me->pid && setpgid(0, 0))
		stub_fail(ctx, me, -errno, "task %d: setpgid(0, 0): %s", me->pid, strerror(errno));
}

static void stub_pgid(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct pstree_item *leader;
	pid_t cur = getpgid(0), want;

	/* in the tree's pid namespace the images' ids are the task's own */
	if (me->pgid == me->pid || (!me->ns_depth && cur == me->pgid))
		return;
	leader = pstree_find(&ctx->tree, me->pgid);
	if (leader) {
		/* the leader as this task sees it: 0 from a pid namespace below the leader's */
		want = item_pid_seen_by(me, leader, 0);
		if (cur == want && (want || (me->parent && me->parent->pgid == me->pgid)))
			return;	/* a group inherited from a leader outside the namespace reads 0 */
		if (!want)
			stub_fail(ctx, me, -EINVAL, "task %d: process group %d is led from outside its pid namespace",
				  me->pid, me->pgid);
		if (setpgid(0, want))
			stub_fail(ctx, me, -errno, "task %d: can't join process group %d: %s", me->pid, me->pgid,
				  strerror(errno));
		return;
	}
	/* the helper that stands for a leader that is gone (stub_group_helpers()) */
	if (pstree_group_host(&ctx->tree, me->pgid)) {
		if (setpgid(0, me->pgid))
			stub_fail(ctx, me, -errno, "task %d: can't join process group %d: %s", me->pid, me->pgid,
				  strerror(errno));
		return;
	}
	/* a group from outside the tree: only the root's (shell job) one, inherited */
	if (me->pgid == ctx->tree.root->pgid && cur == getpgid(getppid()))
		return;
	stub_fail(ctx, me, -EINVAL, "task %d: process group %d is not restorable", me->pid, me->pgid);
}

/*
 * A task whose fd table another task makes (task-share.c) waits until its
 * fds are in place: until then the maker closes and installs fds at fixed
 * numbers in the table, and an fd this task opened meanwhile could be lost
 * or take a number the maker needs.
 */
static void stub_wait_fdt(struct rst_ctx *ctx, struct pstree_item *owner)
{
	int *done = &ctx->shared->slots[rsti(owner)->slot].fds_done;

	for (;;) {
		uint32_t f = __atomic_load_n(&ctx->shared->futex, __ATOMIC_SEQ_CST);

		if (__atomic_load_n(&ctx->shared->error, __ATOMIC_SEQ_CST) || ctl_gone(ctx))
			_exit(1);
		if (__atomic_load_n(done, __ATOMIC_SEQ_CST))
			return;
		shared_wait(ctx, f, 1000);
	}
}

/* The files stage: fds, cwd, root and umask, file locks; a shared table or fs by the task that makes it. */
static void stub_files(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct pstree_item *fdt_owner = rsti(me)->fdt_owner ?: me, *fs_owner = rsti(me)->fs_owner ?: me;
	int ret = 0;

	if (fdt_owner == me) {
		ret = prepare_fds(ctx, me);
		if (!ret) {
			__atomic_store_n(&ctx->shared->slots[rsti(me)->slot].fds_done, 1, __ATOMIC_SEQ_CST);
			shared_wake(ctx);
		}
	} else {
		stub_wait_fdt(ctx, fdt_owner);
	}
	if (!ret && fs_owner == me)
		ret = prepare_fs(ctx, me);
	if (!ret)
		ret = restore_task_locks(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't restore its files: %s", me->pid, strerror(-ret));
}

/*
 * Process groups whose leader is gone (pstree_group_host()): this stub forks
 * a helper with the leader's pid for each group whose first task is its
 * child, and makes it the group's leader; the tasks join the group in the
 * pgid stage, then the helper is killed and reaped (stub_end_group_helpers()),
 * and the group lives on in its tasks. The list ends with 0.
 */
static pid_t *stub_group_helpers(struct rst_ctx *ctx, struct pstree_item *me)
{
	pid_t *helpers = xzalloc(sizeof(*helpers) * (ctx->tree.nr_items + 1));
	struct pstree_item *item;
	int n = 0;

	if (!helpers)
		stub_fail(ctx, me, -ENOMEM, "task %d: no memory for its group helpers", me->pid);
	for_each_pstree_item(&ctx->tree, item) {
		pid_t pgid = item->pgid, pid;
		bool seen = false;

		if (pstree_group_host(&ctx->tree, pgid) != me)
			continue;
		for (int i = 0; i < n && !seen; i++)
			seen = helpers[i] == pgid;
		if (seen)
			continue;
		if (me->ns_depth)
			stub_fail(ctx, me, -EOPNOTSUPP, "task %d: process group %d, whose leader is gone, is in a nested "
				  "pid namespace: not supported", me->pid, pgid);
		pid = clone_task(pgid, 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (pid < 0)
			stub_fail(ctx, me, -errno, "task %d: can't make a helper with pid %d for process group %d, "
				  "whose leader is gone: %s", me->pid, pgid, pgid, strerror(errno));
		helpers[n++] = pid;
		if (pid != pgid || setpgid(pid, pid))
			stub_fail(ctx, me, -EINVAL, "task %d: its helper %d can't lead process group %d: %s", me->pid,
				  pid, pgid, strerror(errno));
		pr_info("task %d: helper %d leads process group %d until its tasks are in it\n", me->pid, pid, pgid);
	}
	return helpers;
}

/* Every task is in its group (the files stage has begun): the helpers go, reaped here. */
static void stub_end_group_helpers(pid_t *helpers)
{
	for (int i = 0; helpers[i]; i++) {
		kill(helpers[i], SIGKILL);
		while (waitpid(helpers[i], NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	free(helpers);
}

/* ------------------------------------------------------ children in nested pid namespaces */

/*
 * The pid namespace the stub makes its next child in (pid_for_children),
 * set with setns() on an fd of the namespace: its own (from its /proc
 * entry), or that of a child it made the init of a new one.
 */
struct stub_pfc {
	int own_fd;			/* its own pid namespace, opened on first use */
	const struct pstree_item *cur;	/* the child whose namespace it is now, NULL: its own */
	int *ns_fds;			/* per child (in list order): the child's pid namespace, -1 */
	const struct pstree_item **kids;
	int nr;
};

static int pfc_set(struct rst_ctx *ctx, struct stub_pfc *pf, const struct pstree_item *to)
{
	int fd = -1;

	if (pf->cur == to)
		return 0;
	if (!to) {
		if (pf->own_fd < 0)
			pf->own_fd = openat(ctx->proc_fd, "thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
		fd = pf->own_fd;
	}
	for (int i = 0; to && i < pf->nr; i++)
		if (pf->kids[i] == to)
			fd = pf->ns_fds[i];
	if (fd < 0 || setns(fd, CLONE_NEWPID))
		return fd < 0 ? -ENOENT : -errno;
	pf->cur = to;
	return 0;
}

/* The earlier child that is the init of c's pid namespace (c is a later child of the same parent in it). */
static const struct pstree_item *pfc_init_of(struct stub_pfc *pf, const struct pstree_item *c)
{
	for (int i = 0; i < pf->nr; i++)
		if (pf->kids[i] != c && pf->kids[i]->pid_ns_id == c->pid_ns_id && pf->ns_fds[i] >= 0)
			return pf->kids[i];
	return NULL;
}

/* Fork child number idx with its pids at every level, in its pid namespace; 0 in the child. */
static pid_t stub_fork_child(struct rst_ctx *ctx, struct pstree_item *me, struct stub_pfc *pf, int idx)
{
	struct pstree_item *c = (struct pstree_item *)pf->kids[idx];
	bool init = c->pid_ns_id != me->pid_ns_id && !pfc_init_of(pf, c);
	int pidfd = -1, ret;
	pid_t pid;

	if (c->pid_ns_id == me->pid_ns_id || init)
		ret = pfc_set(ctx, pf, NULL);	/* a new namespace is made below the one for children */
	else
		ret = pfc_set(ctx, pf, pfc_init_of(pf, c));
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't switch the pid namespace for its child %d: %s", me->pid,
			  c->pid, strerror(-ret));
	/* CLONE_FILES, CLONE_FS: a child that shares its fd table or fs with this task (task-share.c) */
	if (!c->ns_depth && !me->ns_depth)
		return clone_task(c->pid, share_clone_flags(c));
	pid = clone_nested(c, (init ? CLONE_NEWPID : 0) | share_clone_flags(c), init ? &pidfd : NULL);
	if (pid > 0 && init) {
		pf->ns_fds[idx] = ioctl(pidfd, PIDFD_GET_PID_NAMESPACE, 0);
		close(pidfd);
		if (pf->ns_fds[idx] < 0)
			stub_fail(ctx, me, -errno, "task %d: can't get the pid namespace of its child %d: %s", me->pid,
				  c->pid, strerror(errno));
	}
	return pid;
}

/* The stub's own pid_for_children as dumped, once its children and threads exist. */
static void stub_final_pfc(struct rst_ctx *ctx, struct pstree_item *me, struct stub_pfc *pf)
{
	const struct pstree_item *to = NULL;
	int ret;

	for (int i = 0; me->pfc_vpid && i < pf->nr; i++)
		if (pf->kids[i]->pid == me->pfc_vpid)
			to = pfc_init_of(pf, pf->kids[i]) ?: pf->kids[i];
	ret = pfc_set(ctx, pf, to);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't set its pid namespace for children: %s", me->pid, strerror(-ret));
	for (int i = 0; i < pf->nr; i++)
		if (pf->ns_fds[i] >= 0)
			close(pf->ns_fds[i]);
	if (pf->own_fd >= 0)
		close(pf->own_fd);
	free(pf->ns_fds);
	free(pf->kids);
}

static void stub_pfc_init(struct rst_ctx *ctx, struct pstree_item *me, struct stub_pfc *pf)
{
	struct pstree_item *c;

	*pf = (struct stub_pfc){ .own_fd = -1 };
	list_for_each_entry(c, &me->children, sibling)
		pf->nr++;
	pf->ns_fds = xmalloc((pf->nr + 1) * sizeof(int));
	pf->kids = xmalloc((pf->nr + 1) * sizeof(*pf->kids));
	if (!pf->ns_fds || !pf->kids)
		stub_fail(ctx, me, -ENOMEM, "task %d: out of memory", me->pid);
	pf->nr = 0;
	list_for_each_entry(c, &me->children, sibling) {
		pf->ns_fds[pf->nr] = -1;
		pf->kids[pf->nr++] = c;
	}
}

static void stub_map_tramp(struct rst_ctx *ctx, struct pstree_item *me)
{
	static const uint8_t code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */
	void *p = mmap((void *)ctx->tramp, RST_TRAMP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED)
		stub_fail(ctx, me, -errno, "task %d: can't map the trampoline: %s", me->pid, strerror(errno));
	memcpy(p, code, sizeof(code));
}

/* The zombie's dumped credentials (criu's view), or NULL for an image without them. */
static const CredsEntry *zombie_creds(struct pstree_item *me)
{
	struct rst_info *ri = rsti(me);

	if (!ri || !ri->core || !ri->core[0] || !ri->core[0]->thread_core)
		return NULL;
	return ri->core[0]->thread_core->creds;
}

static void __attribute__((noreturn)) stub_exit_as_zombie(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct rst_info *ri = rsti(me);

	/* a zombie shows its comm in /proc */
	if (ri && ri->core && ri->core[0] && ri->core[0]->tc && ri->core[0]->tc->comm)
		prctl(PR_SET_NAME, ri->core[0]->tc->comm);
	exit_with_status(ctx->proc_fd, me->exit_code, zombie_creds(me));
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

void __attribute__((noreturn)) stub_main(struct rst_ctx *ctx, struct pstree_item *me, pid_t parent)
{
	bool zombie = me->state == TASK_DEAD;
	struct stub_pfc pf;
	pid_t *helpers;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	stub_reset_signals();
	log_first_err_reset();	/* errors from here on are this stub's */
	/* the root joins its mount namespace (mount-restore.c); the others are forked in their parent's */
	ret = mntns_stub_enter(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't join the tree's mount namespace: %s", me->pid, strerror(-ret));
	/* before its children are made; the root still holds the controller's fds here */
	ret = stub_namespaces(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't join or make its namespaces: %s", me->pid, strerror(-ret));
	ret = stub_setup_fds(ctx);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't set up its service fds: %s", me->pid, strerror(-ret));

	/* before anything is charged to the cgroups criu is in; children and threads inherit them */
	ret = cg_stub_join(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't join its cgroups: %s", me->pid, strerror(-ret));
	stub_session(ctx, me);
	/* before its children are made: they inherit it */
	ret = zombie ? 0 : tty_stub_ctty(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't get its controlling terminal back: %s", me->pid, strerror(-ret));
	/* memory shared copy-on-write with the children: built here, before they fork (mem-cow.c) */
	ret = cow_stub_prepare(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't build the memory it shares with its children: %s", me->pid,
			  strerror(-ret));
	stub_pfc_init(ctx, me, &pf);
	for (int k = 0; k < pf.nr; k++) {
		struct pstree_item *child = (struct pstree_item *)pf.kids[k];
		pid_t pid, want = item_pid_at(child, 0, me->ns_depth);

		/* a new task's default timer slack is its creator's current one */
		if (slack_for_next(rsti(child)->core[0]))
			stub_fail(ctx, me, -EPERM, "task %d: can't give child %d its default timer slack", me->pid, child->pid);
		pid = stub_fork_child(ctx, me, &pf, k);

		/* its parent as the child sees it: none from a pid namespace of its own */
		if (pid == 0)
			stub_main(ctx, child, child->pid_ns_id == me->pid_ns_id ? item_pid_at(me, 0, me->ns_depth) : 0);
		if (pid < 0 && errno == EEXIST)
			stub_fail(ctx, me, -EEXIST, "pid %d is taken by another process", child->pid);
		if (pid < 0 && errno == EPERM)
			stub_fail(ctx, me, -EPERM, "can't clone task %d with its pid: clone3(set_tid) needs "
				  "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN", child->pid);
		if (pid < 0)
			stub_fail(ctx, me, -errno, "can't clone task %d: %s", child->pid, strerror(errno));
		if (pid != want)
			stub_fail(ctx, me, -EINVAL, "task %d came up as %d, not %d", child->pid, pid, want);
		/* in a pid namespace of its own pid is not what criu sees: criu finds the real one */
		if (!rst_own_pidns(ctx))
			__atomic_store_n(&ctx->shared->slots[rsti(child)->slot].real, child->pid, __ATOMIC_SEQ_CST);
	}
	/* threads are made in the task's own pid namespace (the kernel refuses any other) */
	ret = pfc_set(ctx, &pf, NULL);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't go back to its pid namespace for its threads: %s", me->pid,
			  strerror(-ret));
	stub_create_threads(ctx, me);
	/* in its own pid namespace, before its pid_for_children is the dumped one */
	helpers = zombie ? NULL : stub_group_helpers(ctx, me);
	stub_final_pfc(ctx, me, &pf);
	stub_done(ctx);

	stub_wait_stage(ctx, ST_PGID);
	stub_pgid(ctx, me);
	stub_done(ctx);

	stub_wait_stage(ctx, ST_FILES);
	if (helpers)
		stub_end_group_helpers(helpers);
	if (!zombie)
		stub_files(ctx, me);
	stub_done(ctx);

	stub_wait_stage(ctx, ST_READY);
	/* every task and thread exists: the stubs fill their own memory, all at once (mem-fill-stub.c) */
	ret = zombie ? 0 : stub_fill_self(ctx, me);
	if (ret)
		stub_fail(ctx, me, ret, "task %d: can't fill its memory: %s", me->pid, strerror(-ret));
	if (!zombie) {
		stub_map_tramp(ctx, me);
		/* unmaps criu, reports the stage done, parks in the trampoline (stub-unmap.c) */
		stub_unmap_and_park(ctx, me);
	}
	stub_done(ctx);
	stub_wait_stage(ctx, ST_ZOMBIE);
	stub_exit_as_zombie(ctx, me);
}

