// SPDX-License-Identifier: GPL-2.0
/*
 * criu dump: checkpoint a process tree (Documentation/architecture.md, "Dump").
 *
 * The flow is a list of steps; any failure before inventory.img is written
 * resumes the tree untouched (reading a task's state never changes it).
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "action-scripts.h"
#include "cgroup.h"
#include "common.h"
#include "compel/compel.h"
#include "cr_options.h"
#include "lazy-dump.h"
#include "sk-inet.h"
#include "dump-core.h"
#include "crtools.h"
#include "files.h"
#include "freezer.h"
#include "image.h"
#include "image-check.h"
#include "images-dir.h"
#include "mem.h"
#include "fds-ahead.h"
#include "maps-ahead.h"
#include "mem-track.h"
#include "prewarm.h"
#include "mount.h"
#include "namespaces.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "seccomp.h"
#include "seize.h"
#include "stats.h"
#include "task-share.h"

#include "inventory.pb-c.h"
#include "page-server.h"
#include "page-xfer.h"
#include "pagemap.h"
#include "tls.h"
#include "pstree.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "dump: "

/* CRIU's image set version (CRTOOLS_IMAGES_V1_1) */
#define CRTOOLS_IMAGES_V1_1 2



/* The task's brk, asked with a remote brk(0) among its core's calls (dump-core.c, fill_mm_flags()). */
static int core_brk(struct pstree_item *item, unsigned long *ret_brk, void *arg)
{
	(void)arg;
	if (!item->has_mm_flags)
		return -ENODATA;
	*ret_brk = item->brk;
	return 0;
}

static int root_not_frozen(pid_t root)
{
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_close_ int dfd = -1;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", root);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;	/* the seize says it */
	if (read_file_alloc_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo) < 0)
		return pr_fail_errno("can't read /proc/self/mountinfo");
	return cg_refuse_frozen(dfd, root, mountinfo);
}

static int dump_pstree(int img_dfd, struct pstree *tree)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_PSTREE, O_DUMP);
	struct pstree_item *item;
	int ret = 0;

	if (!img)
		return pr_fail_errno("can't create pstree.img");
	for_each_pstree_item(tree, item) {
		PstreeEntry e = PSTREE_ENTRY__INIT;
		uint32_t threads[item->nr_threads ?: 1];

		/* the pids as the tree sees them (its own pid namespace, if it has one) */
		e.pid = item_vpid(item);
		e.ppid = item->parent ? item_vpid(item->parent) : 0;
		e.pgid = item->vpid ? item->vpgid : item->pgid;
		e.sid = item->vpid ? item->vsid : item->sid;
		for (int i = 0; i < item->nr_threads; i++)
			threads[i] = item_vtid(item, i);
		e.n_threads = item->nr_threads;
		e.threads = threads;
		ret = pb_write_one(img, &e, PB_PSTREE);
		if (ret)
			break;
	}
	close_image(img);
	return ret;
}

static int write_inventory(int img_dfd, const struct ns_set *nss)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_INVENTORY, O_DUMP);
	InventoryEntry ie = INVENTORY_ENTRY__INIT;
	TaskKobjIdsEntry criu_ids = TASK_KOBJ_IDS_ENTRY__INIT;
	struct timespec ts;
	int ret;

	if (!img)
		return pr_fail_errno("can't create inventory.img");
	ie.img_version = CRTOOLS_IMAGES_V1_1;
	ie.has_fdinfo_per_id = true;
	ie.fdinfo_per_id = true;
	/*
	 * As in CRIU, root_ids are criu's own ids: a task whose pid_ns_id differs
	 * lives in another pid namespace (pidns.h). Only the namespace ids mean
	 * something here; criu shares no mm, files, fs or sighand with the tree.
	 */
	criu_ids.has_pid_ns_id = true;
	criu_ids.pid_ns_id = PIDNS_ID_CRIU;
	ns_ids_fill(&criu_ids, nss->criu_id);
	criu_ids.has_mnt_ns_id = true;
	criu_ids.mnt_ns_id = MNTNS_ID_CRIU;
	ie.root_ids = &criu_ids;
	ie.has_ns_per_id = true;
	ie.ns_per_id = true;
	/* as in CRIU: the tasks in this set are in criu's cgroups, and stay in the restoring criu's */
	ie.has_root_cg_set = true;
	ie.root_cg_set = CG_SET_CRIU;
	if (!clock_gettime(CLOCK_BOOTTIME, &ts)) {
		ie.has_dump_uptime = true;
		ie.dump_uptime = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
	}
	/* as CRIU: a dump with --tcp-close needs it on restore; the lock method goes on to the restore */
	if (opts.tcp_close) {
		ie.has_tcp_close = true;
		ie.tcp_close = true;
	}
	if (opts.use_page_server) {
		ie.has_pages_on_page_server = true;
		ie.pages_on_page_server = true;
	}
	/* CRIU's numbering in the inventory (its enum NETWORK_LOCK_METHOD, ours too), not the RPC's */
	ie.has_network_lock_method = true;
	ie.network_lock_method = opts.network_lock;
	ret = pb_write_one(img, &ie, PB_INVENTORY);
	if (ret) {
		discard_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/*
 * While a task is dumped criu runs on the CPU the task last ran on. Its remote syscalls
 * (signal actions, prctl reads, timers: about 90 a task) are two ptrace stops each, and a
 * stop or a resume of a task on another CPU wakes that CPU (an IPI; on a VM a halted vCPU
 * the host has to run again): on this 2-vCPU VM, shared, a call took 7 us with both on one
 * CPU and 50-500 us across (bench/RESULTS.md, ninth session). Only criu's own main thread
 * moves, and only for the task's core (where nearly all of its remote syscalls are): a thread
 * criu starts inherits its affinity, and the memory dump's page writer must not be kept on
 * the reader's CPU. The task's affinity is not touched. A CPU criu may not use is left alone.
 */
struct cpu_near {
	bool saved, moved;
	cpu_set_t allowed;	/* criu's own affinity before the dump's loop */
};

static void cpu_near_init(struct cpu_near *n)
{
	n->saved = !sched_getaffinity(0, sizeof(n->allowed), &n->allowed);
}

static void cpu_near_task(struct cpu_near *n, struct pstree_item *item)
{
	struct proc_pid_stat st;
	cpu_set_t one;

	if (!n->saved || item->state == TASK_DEAD || parse_pid_stat(item->proc_dfd, &st))
		return;
	if (st.processor < 0 || st.processor >= CPU_SETSIZE || !CPU_ISSET(st.processor, &n->allowed))
		return;
	CPU_ZERO(&one);
	CPU_SET(st.processor, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		pr_debug("can't move to CPU %d near task %d: %s\n", st.processor, item->pid, strerror(errno));
		return;
	}
	n->moved = true;
	pr_debug("on CPU %d, where task %d last ran\n", st.processor, item->pid);
}

/* criu's own affinity back, after a task's core */
static void cpu_near_back(struct cpu_near *n)
{
	if (!n->moved)
		return;
	if (sched_setaffinity(0, sizeof(n->allowed), &n->allowed))
		pr_warn("can't put criu's CPU affinity back: %s\n", strerror(errno));
	n->moved = false;
}

/* A task's core (and all of a zombie). */
static int dump_one_core(int img_dfd, struct pstree_item *item, struct cpu_near *near)
{
	int ret;

	pr_info("Dumping task %d (%s)\n", item->pid, item->state == TASK_DEAD ? "zombie" : "alive");
	fds_ahead_claim(item);	/* the remote syscalls below open and close fds in the task: not listed meanwhile */
	cpu_near_task(near, item);
	ret = fault_step("dump-core") ?: dump_task_core(img_dfd, item);
	cpu_near_back(near);
	return ret;
}

/* The rest of a live task, its core dumped: memory, fs, files. */
static int dump_one_rest(int img_dfd, struct pstree_item *item, struct dump_files_ctx *fctx,
			 struct dump_mem_ctx *mctx)
{
	uint64_t mem_start = stats_now_us();
	int ret;

	ret = fault_step("dump-task") ?: dump_task_mm(img_dfd, item, mctx, fctx);
	mctx->dump_us += stats_now_us() - mem_start;
	if (!ret)
		ret = fault_step("dump-fs") ?: dump_task_fs(fctx, item);
	/* an fd table shared by processes is dumped once, by the first of them (task-share.c) */
	if (!ret && share_dumps_fds(item))
		ret = fault_step("dump-files") ?: dump_task_files(fctx, item);
	return ret;
}

/*
 * Every task, one core ahead: a task's core is dumped before the memory of
 * the task before it, so that the read of each task's VMAs (maps-ahead.c: smaps
 * walks the page tables, milliseconds for a large task) has a core's time
 * more to end before the memory step waits for it. Each task's remote calls
 * (all in its core, brk(0) too) end before its pages are handed to the
 * copying threads; another task's calls write into another mm only.
 */
static int dump_all_tasks(int img_dfd, struct pstree *tree, struct dump_files_ctx *fctx,
			  struct dump_mem_ctx *mctx, struct cpu_near *near)
{
	struct pstree_item *item, *prev = NULL;
	int ret;

	for_each_pstree_item(tree, item) {
		ret = dump_one_core(img_dfd, item, near);
		if (!ret && prev)
			ret = dump_one_rest(img_dfd, prev, fctx, mctx);
		if (ret)
			return ret;
		/* a zombie has no rest: the task before it is done, not dumped again after the loop */
		prev = item->state != TASK_DEAD ? item : NULL;
	}
	return prev ? dump_one_rest(img_dfd, prev, fctx, mctx) : 0;
}

/*
 * --page-server: connect before the tree is touched, so that a server that
 * can't be reached or refuses us (TLS) fails the dump with the tree as it
 * was. Every page image of the dump then goes there (page_server_conn).
 */
static int page_server_connect(struct ps_conn *c)
{
	struct tls_conf tc;
	struct ps_conf conf;
	int ret;

	if (!opts.use_page_server)
		return 0;
	ps_conf_from_opts(&conf, &tc);
	ret = ps_connect(&conf, c);
	if (ret)
		return pr_fail(ret, "the page server can't be used: nothing dumped, the tree runs on\n");
	page_server_conn = c;
	return 0;
}

/* The end of the session: the server confirms it has every page (failed: just drop the connection). */
static int page_server_disconnect(struct ps_conn *c, bool failed)
{
	int ret = 0;

	if (!page_server_conn)
		return 0;
	page_server_conn = NULL;
	if (failed)
		ps_conn_close(c, true);
	else
		ret = ps_disconnect(c);
	if (!ret && !failed)
		pr_info("page server: %llu bytes sent\n", (unsigned long long)c->bytes_sent);
	return ret;
}

/* --prev-images-dir: the images dir's `parent` symlink, as CRIU makes it (the path as given, relative to -D). */
int link_parent_dir(int img_dfd, const char *prev)
{
	_cleanup_close_ int fd = -1;

	if (unlinkat(img_dfd, "parent", 0) && errno != ENOENT)
		return pr_fail_errno("can't remove the old `parent` link of the images dir");
	if (!prev)
		return 0;
	if (symlinkat(prev, img_dfd, "parent"))
		return pr_fail_errno("can't link `parent` to %s in the images dir", prev);
	fd = openat(img_dfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pr_fail_errno("--prev-images-dir %s (relative to the images dir) is not a directory", prev);
		unlinkat(img_dfd, "parent", 0);
		return -1;
	}
	return 0;
}

/* inventory.img and manifest.img of an earlier dump into the same dir: they mark a complete dump. */
static int remove_marks(int img_dfd)
{
	if (unlinkat(img_dfd, "inventory.img", 0) && errno != ENOENT)
		return pr_fail_errno("can't remove an old inventory.img");
	if (unlinkat(img_dfd, "manifest.img", 0) && errno != ENOENT)
		return pr_fail_errno("can't remove an old manifest.img");
	return 0;
}

/*
 * A pre-dump's inventory.img: the image version only; then its manifest,
 * so that a restore through the chain checks this dir's images
 * (page-chain.c) as it checks the final dump's.
 */
int write_pre_dump_inventory(int img_dfd)
{
	InventoryEntry ie = INVENTORY_ENTRY__INIT;
	struct cr_img *img = open_image_at(img_dfd, CR_FD_INVENTORY, O_DUMP);
	int ret;

	if (!img)
		return pr_fail_errno("can't create inventory.img");
	ie.img_version = CRTOOLS_IMAGES_V1_1;
	ret = pb_write_one(img, &ie, PB_INVENTORY);
	if (ret) {
		discard_image(img);
		return ret;
	}
	ret = close_image_checked(img);
	return ret ?: write_image_manifest(img_dfd);
}

/*
 * criu pre-dump: the private pages of every task (pagemap-PID.img +
 * pages-N.img, PE_PARENT entries for pages the parent images hold
 * unchanged), copied while the tree is stopped; the tree then runs on.
 * Nothing else is dumped: the final dump writes the whole state.
 */
int cr_pre_dump_tasks(int img_dfd, pid_t root)
{
	struct pstree tree = { .items = LIST_HEAD_INIT(tree.items) };
	struct dump_mem_ctx mctx;
	struct pstree_item *item;
	struct ps_conn psc;
	struct dump_stats st = {};
	struct mem_copy_bufs bufs __attribute__((cleanup(mem_copy_bufs_fini))) = {};
	_cleanup_close_ int dir_lock = -1;
	int ret;

	pr_info("Pre-dumping the memory of the tree of %d\n", root);
	if (opts.lazy_pages)	/* RPC PRE_DUMP with lazy_pages; the command line refuses it first */
		return pr_fail(-EOPNOTSUPP, "a pre-dump can't leave pages to lazy-pages: only the final dump can\n");
	dir_lock = images_dir_claim(img_dfd, "nothing dumped, the tree runs on");	/* the marks are ours, not a page server's in this dir */
	if (dir_lock < 0)
		return dir_lock;
	ret = remove_marks(img_dfd);
	if (ret)
		return ret;
	ret = page_server_connect(&psc);
	if (ret)
		return ret;
	mem_track_before_seize();	/* the /proc scan for a holder, out of the freeze */
	prewarm_before_seize(img_dfd, &bufs);
	st.start = stats_now_us();
	ret = collect_and_seize_tree_pre(root, &tree, NULL, 0);
	if (ret) {
		page_server_disconnect(&psc, true);
		return pr_fail(ret, "Can't seize the tree of %d: %s\n", root, strerror(-ret));
	}
	st.seized = stats_now_us();
	mem_track_pass(&tree, img_dfd, false);	/* an RPC session's write tracking, while the tree is stopped */
	ret = dump_mem_ctx_init(&mctx);
	if (!ret) {
		mctx.pre_dump = true;
		mctx.with_parent = opts.prev_imgs_dir != NULL;
		mctx.lazy_remote = opts.lazy_pages;
		ret = dump_mem_threads_start(&mctx, &bufs);
		for_each_pstree_item(&tree, item) {
			if (ret || item->state == TASK_DEAD)
				continue;
			ret = dump_task_mm(img_dfd, item, &mctx, NULL);
		}
		if (!ret)
			ret = dump_mem_collect(&mctx);
		ret = page_server_disconnect(&psc, ret != 0) ?: ret;
		if (!ret)
			ret = write_pre_dump_inventory(img_dfd);
		if (!ret)
			pr_info("Pre-dumped %lu pages (%lu left in the parent images)\n", mctx.nr_pages_dumped,
				mctx.nr_parent_pages);
		st.memdump_us = mctx.dump_us;
		st.pages_written = mctx.nr_pages_dumped;
		st.pages_parent = mctx.nr_parent_pages;
		dump_mem_ctx_fini(&mctx);
	}
	page_server_disconnect(&psc, true);	/* when dump_mem_ctx_init() failed */
	mem_track_pass_done(img_dfd, ret == 0);
	resume_tree(&tree);
	st.end = stats_now_us();
	if (!ret)	/* as CRIU's pre-dump: stats-dump, its frozen time up to the resume */
		stats_write_dump(img_dfd, &st);
	pstree_free(&tree);
	return ret;
}

int cr_dump_tasks(int img_dfd, pid_t root)
{
	struct pstree tree = { .items = LIST_HEAD_INIT(tree.items) };
	struct dump_files_ctx fctx = {};
	struct dump_mem_ctx mctx = {};
	struct cpu_near near = {};
	struct ns_set nss = {};
	struct cg_dump cgd = {};
	struct freezer fz = {};
	struct pstree_item *item;
	struct ps_conn psc;
	struct lazy_dump lazy = { .lsk = -1 };
	bool files_ready = false, mem_ready = false;
	struct dump_stats st = {};
	struct proc_locks locks __attribute__((cleanup(proc_locks_fini))) = {};
	struct mem_copy_bufs bufs __attribute__((cleanup(mem_copy_bufs_fini))) = {};
	_cleanup_close_ int dir_lock = -1;
	int ret, post_ret;

	pr_info("Dumping the process tree of %d\n", root);
	fault_steps_reset();
	dir_lock = images_dir_claim(img_dfd, "nothing dumped, the tree runs on");	/* the marks are ours, not a page server's in this dir */
	if (dir_lock < 0)
		return dir_lock;
	proc_locks_prime_start(&locks);	/* the grace period of /proc/locks' first read, before the seize */
	ret = remove_marks(img_dfd);
	if (ret)
		return ret;

	ret = fault_step("dump-pre-script") ?: run_scripts(ACT_PRE_DUMP, img_dfd, root);
	if (ret)
		return pr_fail(ret, "the pre-dump action script failed: nothing dumped\n");

	ret = page_server_connect(&psc);
	if (ret)
		return ret;
	if (opts.lazy_pages) {
		ret = fault_step("dump-lazy-listen") ?: lazy_dump_listen(&lazy);
		if (ret) {
			lazy_dump_fini(&lazy);
			return ret;
		}
	}
	mem_track_before_seize();	/* the /proc scan for a holder, out of the freeze */
	prewarm_before_seize(img_dfd, &bufs);
	proc_locks_prime_wait(&locks);
	st.start = stats_now_us();	/* freezing_time, as CRIU's: the seize (and cgroup freeze) alone */
	if (opts.freeze_cgroup) {
		ret = freezer_seize(opts.freeze_cgroup, &fz);
	} else {
		/* a root in a frozen v1 cgroup would not even stop for the seize: say why now */
		ret = root_not_frozen(root);
	}
	if (ret) {
		page_server_disconnect(&psc, true);
		lazy_dump_fini(&lazy);
		return ret;
	}
	ret = fault_step("dump-seize") ?: collect_and_seize_tree_pre(root, &tree, fz.tids, fz.nr);
	freezer_fini(&fz, ret ? NULL : &tree);
	if (ret) {
		page_server_disconnect(&psc, true);
		lazy_dump_fini(&lazy);
		pr_err("Can't seize the tree of %d: %s\n", root, strerror(-ret));
		return ret;
	}
	st.seized = stats_now_us();
	stats_cpu_now(&st.cpu_seized);
	/* the written pages since the last pre-dump of the session (its uffds are closed after the tree is let go) */
	mem_track_pass(&tree, img_dfd, true);
	for_each_pstree_item(&tree, item)	/* a table or fs shared by processes: share_collect_tree() */
		item->files_id = item->fs_id = item_vpid(item);
	ret = fault_step("dump-check-tree") ?: pstree_check_groups(&tree);	/* what restore could not build is refused now */
	if (!ret)	/* fd tables and fs shared by processes: their ids; what restore can't share again is refused */
		ret = fault_step("dump-share") ?: share_collect_tree(&tree);
	if (!ret)
		ret = fault_step("dump-ns-collect") ?: ns_collect_tree(&tree, &nss);
	if (!ret)
		ret = cg_dump_collect(&tree, &cgd);
	if (!ret)
		ret = fault_step("dump-ns-contents") ?: ns_dump_contents(img_dfd, &nss);
	if (!ret)
		ret = fault_step("dump-mntns-collect") ?: mntns_collect(&tree);
	if (!ret)	/* before the core images, which name the filters */
		ret = fault_step("dump-seccomp") ?: dump_seccomp(img_dfd, &tree);
	if (ret)
		goto err;

	/*
	 * Threads of criu's own from here on, not before: the namespace and cgroup
	 * steps above fork helpers that allocate and log, and a fork taken while
	 * another thread holds the allocator's lock (ASan's is not fork-safe)
	 * leaves the helper waiting forever (the sanitized zdtm ns_ipc tests hung).
	 */
	proc_locks_start(&locks);	/* its read waits for an RCU grace period: meanwhile the next steps run */
	maps_ahead_start(&tree);	/* every task's VMAs read on a thread while the tasks are dumped */
	fds_ahead_start(&tree);		/* and every task's fds (fds-ahead.h) */
	ret = fault_step("dump-files-init") ?: dump_files_init(&fctx, img_dfd, &tree);
	if (ret)
		goto err;
	fctx.criu_ns_id = nss.criu_id;
	files_ready = true;
	/* before any mapping is dumped: which shared anonymous memory is a file of the tree (memfd.c) */
	ret = memfd_collect_shmem_files(&fctx);
	if (ret)
		goto err;
	ret = dump_mem_ctx_init(&mctx);
	if (ret)
		goto err;
	mem_ready = true;
	mctx.get_brk = core_brk;
	mctx.with_parent = opts.prev_imgs_dir != NULL;
	mctx.lazy_remote = opts.lazy_pages;
	ret = fault_step("dump-mem-threads") ?: dump_mem_threads_start(&mctx, &bufs);
	if (ret)
		goto err;

	/* each task's private pages are copied by the threads while the next tasks are dumped */
	cpu_near_init(&near);
	ret = dump_all_tasks(img_dfd, &tree, &fctx, &mctx, &near);
	if (ret)
		goto err;
	maps_ahead_stop();
	fds_ahead_stop();
	/* the tree's file locks, from /proc/locks read meanwhile (refusals only: nothing is written) */
	ret = fault_step("dump-check-locks") ?: check_tree_files(&tree, &locks);
	if (ret)
		goto err;
	ret = fault_step("dump-mem-collect") ?: dump_mem_collect(&mctx);
	if (ret)
		goto err;
	ret = fault_step("dump-tcp-check") ?: tcp_dump_check(&fctx);
	if (ret)
		goto err;
	ret = fault_step("dump-mounts") ?: mntns_dump(img_dfd, &tree);
	if (ret)
		goto err;
	ret = fault_step("dump-pstree") ?: dump_pstree(img_dfd, &tree);
	if (!ret)
		ret = fault_step("dump-cgroups") ?: cg_dump_write(img_dfd, &cgd);
	if (ret)
		goto err;
	ret = fault_step("dump-files-fini");
	if (ret)
		goto err;
	ret = dump_files_fini(&fctx);
	files_ready = false;
	if (ret)
		goto err;
	ret = fault_step("dump-page-server-close") ?: page_server_disconnect(&psc, false);
	if (ret)
		goto err;
	ret = fault_step("before-inventory") ?: fault_step("dump-inventory") ?: write_inventory(img_dfd, &nss);
	if (ret)
		goto err;
	ret = fault_step("dump-manifest") ?: write_image_manifest(img_dfd);
	if (ret)
		goto err;
	pr_info("Dumped %d tasks, %lu pages (%lu left in the parent images, %lu in the tree for lazy-pages)\n",
		tree.nr_items, mctx.nr_pages_dumped + mctx.nr_shmem_pages, mctx.nr_parent_pages, mctx.nr_lazy_pages);
	if (opts.lazy_pages) {
		/* the tree stays stopped while its pages are served; a broken session resumes it */
		ret = fault_step("dump-lazy-serve") ?: lazy_dump_serve(&lazy, img_dfd, &tree);
		lazy_dump_fini(&lazy);
		if (ret) {
			pr_err("the lazy pages were not all served: the images are incomplete, the tree is resumed\n");
			goto err;
		}
	}

	/* as in CRIU: a failing post-dump script keeps the images but lets the tree run on */
	post_ret = run_scripts(ACT_POST_DUMP, img_dfd, root);
	if (post_ret)
		pr_err("the post-dump action script failed: the images are kept, the tree is resumed\n");
	if (opts.leave_running || post_ret) {
		tcp_dump_finish(&fctx, true);	/* connections out of repair mode, unlocked */
		resume_tree(&tree);
	} else {
		kill_tree(&tree);
		tcp_dump_finish(&fctx, false);	/* closed in repair mode: silently; the lock stays */
	}
	st.end = stats_now_us();
	stats_cpu_now(&st.cpu_end);
	st.memdump_us = mctx.dump_us;
	st.pages_written = mctx.nr_pages_dumped;
	st.pages_parent = mctx.nr_parent_pages;
	st.shpages_written = mctx.nr_shmem_pages;
	stats_write_dump(img_dfd, &st);
	dump_mem_ctx_fini(&mctx);
	ns_set_free(&nss);
	mntns_free(tree.mntns_list);
	cg_dump_fini(&cgd);
	pstree_free(&tree);
	return post_ret ? CR_DUMP_POST_SCRIPT_FAILED : 0;

err:
	pr_err("Dump failed: resuming the tree untouched\n");
	maps_ahead_stop();
	fds_ahead_stop();	/* its copies closed before the tree runs again */
	page_server_disconnect(&psc, true);
	lazy_dump_fini(&lazy);
	if (files_ready) {
		fctx.failed = true;	/* the images are dropped, not written out */
		dump_files_fini(&fctx);
	}
	if (mem_ready)
		dump_mem_ctx_fini(&mctx);
	cg_dump_fini(&cgd);
	unlinkat(img_dfd, "inventory.img", 0);
	unlinkat(img_dfd, "manifest.img", 0);
	unlinkat(img_dfd, "cgroup.img", 0);
	tcp_dump_finish(&fctx, true);
	resume_tree(&tree);
	ns_set_free(&nss);
	mntns_free(tree.mntns_list);
	pstree_free(&tree);
	return ret;
}
