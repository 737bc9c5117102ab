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
 *   READY   live stubs filled their own private memory (mem-fill-stub.c),
 *           mapped the trampoline and park in pause()
 *   ZOMBIE  zombie stubs exit with their dumped status
 *
 * Then criu morphs every live stub into the dumped task (morph.c), several
 * at a time from its own threads (morph-pool.c), and lets the tree run. On any failure every process started is killed and reaped
 * (criu is a child subreaper while it restores, so orphans come back to it).
 *
 * This file is the flow, cr_restore_tasks() and fork_and_morph(); the steps
 * live in restore-images.c (read and check the images), mount-restore.c (the
 * tree's own mount namespace, built before any file is opened),
 * restore-stub.c (the program the stubs run), restore-stages.c (the shared area, the
 * controller's waits, kill and reap, the pids criu sees), files.c and
 * morph.c. Each gets the struct rst_ctx (rst-ctx.h) built here.
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
#include "cgroup.h"
#include "common.h"
#include "cr_options.h"
#include "crtools.h"
#include "files.h"
#include "image.h"
#include "lazy-pages.h"
#include "mount.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "dedup.h"
#include "stats.h"
#include "rst-ctx.h"
#include "task-attrs.h"
#include "syscalls.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "vma.pb-c.h"



/* ------------------------------------------------------ the trampoline */

static int pick_tramp(struct rst_ctx *ctx)
{
	const unsigned long gap = 16UL << 20;

	for (unsigned long a = 1UL << 32; a < (1UL << 46); a += 1UL << 30) {
		struct pstree_item *item;
		bool ok = true;
		void *p;

		for_each_pstree_item(&ctx->tree, item)
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
		ctx->tramp = a;
		pr_debug("trampoline at %#lx\n", a);
		return 0;
	}
	return pr_fail(-ENOMEM, "no room for the restore trampoline\n");
}

/* ------------------------------------------------------ the morph */

/*
 * The stubs' service fds go right above the highest fd a task restores,
 * not at the top of RLIMIT_NOFILE: a fork copies the fd table up to the
 * last open fd, so every stub forked (and every restored task, whose table
 * never shrinks) would carry a table of RLIMIT_NOFILE entries. Rounded so
 * that the table ends on a multiple of 64 (64 fds fit in the table the
 * kernel embeds in every process), with two free numbers below in every
 * task (the morph opens files in it).
 */
static int choose_sfd_base(struct rst_ctx *ctx)
{
	struct rlimit rl;
	int max_fd, max_nr, base, top, ret;

	/* files_restore_prepare() may have raised RLIMIT_NOFILE */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 64)
		return pr_fail(-EMFILE, "RLIMIT_NOFILE is too low to restore\n");
	top = (int)min(rl.rlim_cur, (rlim_t)INT_MAX) - SFD_NR - 1;
	ret = files_max_fd(ctx, &max_fd, &max_nr);
	if (ret)
		return ret;
	if (max_fd >= top)
		return pr_fail(-EBUSY, "fd %d of the tree collides with criu's service fds (RLIMIT_NOFILE %llu)\n",
			       max_fd, (unsigned long long)rl.rlim_cur);
	base = (max_fd + 1 + SFD_NR + 63) / 64 * 64 - SFD_NR;
	/* a task with fds all the way up: two numbers free below, for the morph's own opens (files it maps, exe) */
	if (base - max_nr < 2)
		base += 64;
	ctx->sfd_base = min(base, top);
	if (ctx->sfd_base - max_nr < 2)
		return pr_fail(-EMFILE, "a task has %d fds up to fd %d: no room under RLIMIT_NOFILE %llu for criu's service fds and the restore's own opens\n",
			       max_nr, max_fd, (unsigned long long)rl.rlim_cur);
	pr_debug("service fds from %d (the tree's highest fd is %d)\n", ctx->sfd_base, max_fd);
	return 0;
}

static int fill_service_fds(struct rst_ctx *ctx, struct morph_task *mt)
{
	int criu_fds[SFD_NR] = { ctx->img_dfd, ctx->log_fd, ctx->ctl_pidfd, ctx->proc_fd };

	mt->nr_service_fds = 0;
	rsti(mt->item)->mem.remote_proc_fd = -1;
	rsti(mt->item)->mem.remote_ctl_pidfd = -1;
	for (int i = 0; i < SFD_NR; i++) {
		/* close it only when it is still our file (not a restored fd) */
		int same = criu_fds[i] < 0 ? -1 :
			   sys_kcmp(getpid(), rst_real_pid(ctx, mt->item->pid), KCMP_FILE, criu_fds[i], ctx->sfd_base + i);

		pr_debug("task %d: service fd %d %s\n", mt->item->pid, ctx->sfd_base + i,
			 same == 0 ? "is criu's: closed by the morph" : "is not criu's");
		if (same)
			continue;
		mt->service_fds[mt->nr_service_fds++] = ctx->sfd_base + i;
		if (i == SFD_PROC)
			rsti(mt->item)->mem.remote_proc_fd = ctx->sfd_base + i;
		if (i == SFD_CTL)
			rsti(mt->item)->mem.remote_ctl_pidfd = ctx->sfd_base + i;
	}
	return 0;
}

int morph_one(struct rst_ctx *ctx, struct morph_task *mt, bool steps)
{
	int ret;

	fill_service_fds(ctx, mt);
	ret = (steps ? fault_step("restore-morph-task") : 0) ?: morph_task(ctx, mt);
	if (ret) {
		pr_err("can't restore task %d\n", mt->item->pid);
		return ret;
	}
	pr_info("task %d morphed\n", mt->item->pid);
	return steps ? fault_step("restore-morph") : 0;
}

static int morph_all(struct rst_ctx *ctx, struct morph_task *mts, struct morph_pool *pool)
{
	struct pstree_item *item;
	int ret = 0, n = 0;

	for_each_pstree_item(&ctx->tree, item) {
		struct morph_task *mt = &mts[n++];

		mt->item = item;
		mt->tramp = ctx->tramp;
	}
	ret = pool ? morph_pool_morph(pool) : 0;
	for (int i = 0; i < n && !ret; i++) {
		if (mts[i].item->state == TASK_DEAD)
			continue;
		if (!pool) {
			ret = check_stop_requested() ?: morph_one(ctx, &mts[i], true);
			continue;
		}
		/*
		 * A pool runs only without an injected fault: its tasks' steps
		 * are only counted, here, in the order one thread takes them,
		 * so that a clean restore numbers the steps as a faulted one.
		 */
		ret = fault_step("restore-morph-task") ?: fault_step("restore-morph");
	}
	return ret;
}

/*
 * Let the tree go. Every task is morphed and stopped, each killed by the
 * kernel if criu dies (PTRACE_O_EXITKILL). First that option is cleared on
 * every thread, in one quick pass: from then on a criu killed leaves the whole
 * tree running, as a restore that finished would. Then each is detached.
 * With a pool, each worker does both for the tasks it morphed (their tracer).
 */
static int release_all(struct rst_ctx *ctx, struct morph_task *mts, int nr, struct morph_pool *pool)
{
	int ret = 0;

	if (pool)
		ret = morph_pool_commit(pool);
	for (int i = 0; !pool && i < nr && !ret; i++)
		ret = morph_commit(&mts[i]);
	if (ret)
		return ret;
	watchdog_stop(ctx, true);	/* the tree is kept from here on, whatever happens to criu */

	if (pool)
		return morph_pool_release(pool);
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

/* --lazy-pages: every task's private memory may come from the daemon. */
static void lazy_mark_tasks(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	for_each_pstree_item(&ctx->tree, item)
		if (item->state != TASK_DEAD)
			rsti(item)->mem.lazy = true;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char buf[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pr_fail_errno("can't create the pidfile %s", path);
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
			return pr_fail_errno("waiting for the root task %d", pid);
	}
	if (WIFEXITED(status)) {
		pr_info("the root task exited with %d\n", WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	pr_info("the root task was killed by signal %d\n", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

static int count_tasks(struct rst_ctx *ctx, bool live_only)
{
	struct pstree_item *item;
	int n = 0;

	for_each_pstree_item(&ctx->tree, item)
		if (!live_only || item->state != TASK_DEAD)
			n++;
	return n;
}

static int fork_and_morph(struct rst_ctx *ctx, pid_t *ret_root, struct morph_task **ret_mts)
{
	struct pstree_item *root = ctx->tree.root;
	struct morph_pool *pool = NULL;
	struct morph_task *mts;
	int nr = ctx->tree.nr_items, ret;
	pid_t pid, me = getpid();
	long slack;

	ctl_publish(ctx, ST_FORKED);
	ret = fault_step("restore-clone-root");
	if (ret)
		return ret;
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	ret = slack_for_next(rsti(root)->core[0]);
	if (ret)
		return pr_fail(ret, "can't give the root task its default timer slack (criu real-time?)\n");
	/* a sibling root is the child of criu's parent, which the stub checks */
	if (ctx->opts->sibling)
		me = getppid();
	/* the init of a new pid namespace: pid 1 there (root->pid), its parent is 0 to it */
	pid = clone_task(root->pid, (rst_own_pidns(ctx) ? CLONE_NEWPID : 0) | (ctx->opts->sibling ? CLONE_PARENT : 0));
	if (pid == 0)
		stub_main(ctx, root, rst_own_pidns(ctx) ? 0 : me);
	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	if (pid < 0) {
		if (errno == EEXIST)
			return pr_fail(-EEXIST, "pid %d is taken by another process\n", root->pid);
		if (errno == EPERM)
			return pr_fail(-EPERM, "can't clone the root task %d with its pid: clone3(set_tid) needs "
					       "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN\n",
				       root->pid);
		return pr_fail_errno("can't clone the root task %d", root->pid);
	}
	*ret_root = pid;
	__atomic_store_n(&ctx->shared->slots[rsti(root)->slot].real, pid, __ATOMIC_SEQ_CST);

	ret = ctl_wait_count(ctx, ST_FORKED, nr);
	if (!ret && rst_own_pidns(ctx))
		ret = learn_real_pids(ctx);
	/* CRIU runs these only when it creates namespaces */
	if (!ret && rst_makes_ns(ctx))
		ret = run_scripts(ACT_SETUP_NS, ctx->img_dfd, pid);
	if (!ret && rst_makes_ns(ctx))
		ret = run_scripts(ACT_POST_SETUP_NS, ctx->img_dfd, pid);
	if (!ret)
		ret = cg_rst_threads(ctx);
	ctx->stats_forked_us = stats_now_us();
	if (!ret)
		ret = fault_step("restore-forked");
	/* test hook: hold the restore (every task exists) until a stop signal or 10 s */
	for (int i = 0; !ret && i < 1000 && fault_injected("restore-stall"); i++) {
		ret = check_stop_requested();
		usleep(10000);
	}
	if (!ret)
		ret = fault_step("restore-pgid") ?: ctl_run_stage(ctx, ST_PGID, nr);
	if (!ret)
		ret = fault_step("restore-files-tree") ?: files_restore_tree_ready(ctx);
	if (!ret)
		ret = fault_step("restore-files") ?: ctl_run_stage(ctx, ST_FILES, nr);
	if (!ret)
		ret = fault_step("restore-ready") ?: ctl_run_stage(ctx, ST_READY, nr);
	/* the stubs have read their pages: the images' CRCs, before any task runs (pages-crc.h) */
	if (!ret)
		ret = pages_crc_finish(&ctx->pages_crc, ctx->img_dfd);
	if (!ret && count_tasks(ctx, false) != count_tasks(ctx, true)) {
		ret = fault_step("restore-zombies");
		ctl_publish(ctx, ST_ZOMBIE);
		ret = ret ?: wait_zombies(ctx);
	}
	if (ret)
		return ret;

	mts = xzalloc(nr * sizeof(*mts));
	if (!mts)
		return -ENOMEM;
	*ret_mts = mts;
	pool = morph_pool_start(ctx, mts, nr);
	ret = morph_all(ctx, mts, pool);
	if (!ret)
		ret = fault_step("restore-late") ?: cg_rst_late(ctx);
	if (!ret)
		ret = files_restore_late(ctx);
	if (!ret)
		ret = fault_step("restore-post-script") ?: run_scripts(ACT_POST_RESTORE, ctx->img_dfd, pid);
	/* before the tree runs, so that a pidfile that can't be written still undoes the restore */
	if (!ret && ctx->opts->pidfile)
		ret = fault_step("restore-pidfile") ?: write_pidfile(ctx->opts->pidfile, pid);
	if (!ret)
		ret = fault_step("restore-resume");
	if (ret) {
		if (ctx->opts->pidfile)
			unlink(ctx->opts->pidfile);	/* a failed restore leaves no file behind */
		morph_pool_stop(pool, true);	/* its threads are the tracers: they undo their morphs */
		return ret;
	}
	/* as in CRIU, pre-resume and post-resume scripts can't fail the restore */
	if (run_scripts(ACT_PRE_RESUME, ctx->img_dfd, pid))
		pr_warn("the pre-resume action script failed\n");
	ret = release_all(ctx, mts, nr, pool);
	morph_pool_stop(pool, ret != 0);
	return ret;
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

static void restore_cleanup(struct rst_ctx *ctx)
{
	lazy_restore_finish(ctx, false);	/* a failure before the tree was forked */
	ns_restore_free(ctx);
	mntns_restore_fini(ctx);
	free_images(ctx);
	restore_mem_reset(ctx);
	cow_reset(ctx);
	free_shmem_imgs(ctx);
	pages_crc_free(&ctx->pages_crc);
	alive_fds_free(ctx);
	if (ctx->shared)
		munmap(ctx->shared, ctx->shared_size);
	ctx->shared = NULL;
	if (ctx->tramp)
		munmap((void *)ctx->tramp, RST_TRAMP_RESERVE);
	ctx->tramp = 0;
	ctx->in_stub = false;
	if (ctx->ctl_pidfd >= 0)
		close(ctx->ctl_pidfd);
	ctx->ctl_pidfd = -1;
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	ctx->proc_fd = -1;
}

int cr_restore_tasks(const struct restore_opts *o)
{
	struct morph_task *mts = NULL;
	pid_t root_pid = 0;
	int ret, was_subreaper = 0;
	struct rst_ctx rctx = {
		.opts = o,
		.img_dfd = o->img_dfd,
		.log_fd = log_get_fd(),
		.ctl_pidfd = -1,
		.proc_fd = -1,
		.ctl_pid = getpid(),
		.morph_proc_fd = -1,
		.watchdog_fd = -1,
		.lazy_sk = -1,
	}, *ctx = &rctx;

	INIT_LIST_HEAD(&ctx->files.descs);
	ctx->stats_start_us = stats_now_us();
	fault_steps_reset();
	if (o->auto_dedup && o->lazy_pages)
		return pr_fail(-EINVAL, "--auto-dedup with --lazy-pages: the daemon reads the pages images after the restore\n");
	ret = dedup_refuse_punched(o->img_dfd);
	if (ret)
		return ret;
	/* the daemon first: it may have checked the pages images already */
	ret = o->lazy_pages ? lazy_restore_connect(ctx) : 0;
	ret = ret ?: fault_step("restore-images") ?: read_images(ctx, o);
	if (!ret && o->lazy_pages)
		lazy_mark_tasks(ctx);
	if (ret)
		goto out;
	ret = fault_step("restore-pre-script") ?: run_scripts(ACT_PRE_RESTORE, o->img_dfd, 0);
	if (ret) {
		pr_err("the pre-restore action script failed: nothing restored\n");
		goto out;
	}
	ret = fault_step("restore-plan") ?: pick_tramp(ctx);
	if (!ret)
		ret = cow_plan(ctx);
	if (!ret && ctx->lazy_remote)
		ret = lazy_check_remote(ctx);
	if (!ret)
		ret = cg_rst_prepare(ctx);
	if (ret)
		goto out;
	ctx->ctl_pidfd = sys_pidfd_open(getpid(), 0);
	if (ctx->ctl_pidfd < 0) {
		ret = pr_fail_errno("can't open a pidfd of criu itself");
		goto out;
	}
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0) {
		ret = pr_fail_errno("can't open /proc");
		goto out;
	}
	ret = fault_step("restore-shared") ?: shared_alloc(ctx, ctx->tree.nr_items);
	if (!ret)
		ret = pages_crc_log_alloc(&ctx->pages_crc);
	if (!ret)
		ctx->fill_uffd = fill_uffd_probe();
	/* the stubs unmap criu themselves, all but the vdso block, which is where criu's is (stub-unmap.c) */
	if (!ret)
		ret = stub_unmap_plan(ctx);
	if (ret)
		goto out;
	{
		struct pstree_item *item;

		for_each_pstree_item(&ctx->tree, item)
			ctx->shared->slots[rsti(item)->slot].pid = item->pid;
	}
	/* the files of the tree are opened in its mount tree: built first */
	ret = fault_step("restore-mounts") ?: mntns_restore_prepare(ctx);
	if (!ret)
		ret = fault_step("restore-files-prepare") ?: files_restore_prepare(ctx);
	if (ret)
		goto out_files;
	ret = choose_sfd_base(ctx);
	if (ret)
		goto out_files;

	prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		ret = pr_fail_errno("can't become a child subreaper");
		goto out_files;
	}
	catch_stop_signals(ctx, true);
	ret = fault_step("restore-watchdog") ?: watchdog_start(ctx);
	if (!ret)
		ret = fork_and_morph(ctx, &root_pid, &mts);
	catch_stop_signals(ctx, false);
	if (ret) {
		watchdog_stop(ctx, false);
		abort_all(mts, ctx->tree.nr_items);
		kill_and_reap(ctx, root_pid);
		lazy_restore_finish(ctx, false);
		prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
		cg_rst_fini(ctx, true);
		goto out_files;
	}
	prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
	lazy_restore_finish(ctx, true);	/* the tree runs: the daemon copies the rest */
	files_restore_fini(ctx);
	pr_info("restore of %d tasks done, root %d\n", ctx->tree.nr_items, root_pid);
	if (o->auto_dedup && dedup_consume(o->img_dfd))
		pr_warn("--auto-dedup: the pages images were not all punched (the tree is restored)\n");
	stats_write_restore(o->img_dfd, &(struct restore_stats){ .start = ctx->stats_start_us,
								  .forked = ctx->stats_forked_us,
								  .end = stats_now_us() });
	if (o->ret_pid)
		*o->ret_pid = root_pid;

	free(mts);
	cg_rst_fini(ctx, false);
	restore_cleanup(ctx);
	if (run_scripts(ACT_POST_RESUME, o->img_dfd, root_pid))
		pr_warn("the post-resume action script failed\n");
	report_ready();
	if (o->detached)
		return 0;
	return wait_root(root_pid);

out_files:
	files_restore_fini(ctx);
out:
	free(mts);
	cg_rst_fini(ctx, true);
	restore_cleanup(ctx);
	return ret;
}
