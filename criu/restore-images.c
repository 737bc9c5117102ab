// SPDX-License-Identifier: GPL-2.0
/*
 * Read and check every image a restore needs (Documentation/restore.md,
 * section 1), before any process is created: inventory, pstree, cores,
 * mm, pagemaps and the pages images they name.
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

#include "cgroup.h"
#include "common.h"
#include "core-ext.h"
#include "sk-inet.h"
#include "cr_options.h"
#include "files.h"
#include "image.h"
#include "namespaces.h"
#include "mount.h"
#include "lsm.h"
#include "pagemap.h"
#include "page-chain.h"
#include "image-check.h"
#include "pidns.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"
#include "userns.h"
#include "task-share.h"
#include "seccomp.h"
#include "task-attrs.h"
#include "syscalls.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "vma.pb-c.h"

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
	if (ri->mem.mm) {
		mem_join_guards(&ri->mem);
		pb_free(ri->mem.mm, PB_MM);
	}
	for (size_t i = 0; i < ri->mem.nr_pmes; i++)
		pb_free(ri->mem.pmes[i], PB_PAGEMAP);
	free(ri->mem.pmes);
	if (ri->pages_fd >= 0)
		close(ri->pages_fd);
	if (ri->chain_fd >= 0)
		close(ri->chain_fd);
	free(ri);
	item->priv = NULL;
}

void free_images(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	if (!ctx->tree.items.next)
		return;
	for_each_pstree_item(&ctx->tree, item)
		free_task_images(item);
	pstree_free(&ctx->tree);
	rst_seccomp_free(ctx);
}

/* core-PID.img says the task is a zombie. */
static bool is_zombie(int dfd, pid_t pid)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, pid);
	CoreEntry *c = NULL;
	bool ret;

	if (!img)
		return false;
	ret = !img_is_empty(img) && !pb_read_one(img, (void **)&c, PB_CORE) && c->tc && c->tc->task_state == TASK_DEAD;
	close_image(img);
	pb_free(c, PB_CORE);
	return ret;
}

static int read_pstree(struct rst_ctx *ctx, int dfd)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_PSTREE, O_RSTR);
	PstreeEntry *e;
	int ret;

	INIT_LIST_HEAD(&ctx->tree.items);
	if (!img)
		return pr_fail_errno("can't open pstree.img");
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
			if (e->n_threads == 1 && e->threads[0] != e->pid && is_zombie(dfd, e->pid)) {
				pr_info("pstree.img: zombie %d: thread %u ignored (CRIU writes no thread id for a zombie)\n",
					e->pid, e->threads[0]);
				item->threads[0] = item->pid;
			}
		}
		pb_free(e, PB_PSTREE);
		list_add_tail(&item->all, &ctx->tree.items);
		ctx->tree.nr_items++;
		if (!item->threads) {
			ret = -ENOMEM;
			break;
		}
		if (!ctx->tree.root) {
			ctx->tree.root = item;
			continue;
		}
		item->parent = pstree_find(&ctx->tree, item->ppid);
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
	if (!ctx->tree.root)
		return pr_fail(-EINVAL, "pstree.img has no tasks\n");
	return 0;
}

static int check_pstree(struct rst_ctx *ctx)
{
	struct pstree_item *item, *other;

	for_each_pstree_item(&ctx->tree, item) {
		if (item->pid <= 0 || item->threads[0] != item->pid)
			return pr_fail(-EINVAL, "pstree.img: task %d: bad pid or thread list\n", item->pid);
		for (int i = 0; i < item->nr_threads; i++) {
			int idx;

			if (item->threads[i] <= 0)
				return pr_fail(-EINVAL, "pstree.img: task %d has thread id %d\n", item->pid,
					       item->threads[i]);
			other = pstree_find_tid(&ctx->tree, item->threads[i], &idx);
			if (other != item || idx != i)
				return pr_fail(-EINVAL, "pstree.img: id %d appears twice\n", item->threads[i]);
		}
		if (item->sid == item->pid && item->pgid != item->pid)
			return pr_fail(-EINVAL, "pstree.img: session leader %d is not its group leader\n", item->pid);
	}
	return 0;
}

static int check_sessions(struct rst_ctx *ctx, const struct restore_opts *o)
{
	struct pstree_item *root = ctx->tree.root;

	if (root->sid != root->pid && root->sid != getsid(0) && !o->shell_job)
		return pr_fail(-EINVAL,
			       "the root task %d is in session %d, which is outside the dump; use --shell-job\n",
			       root->pid, root->sid);
	if (root->pgid != root->pid && root->pgid != getpgid(0) && !pstree_find(&ctx->tree, root->pgid) &&
	    !o->shell_job)
		return pr_fail(-EINVAL, "the root task %d is in process group %d, which is outside the dump; "
					"use --shell-job\n",
			       root->pid, root->pgid);
	return pstree_check_groups(&ctx->tree);
}

static int read_one_core(int dfd, pid_t tid, CoreEntry **ret)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, tid);
	CoreEntry *c;
	int err;

	if (!img)
		return pr_fail_errno("can't open core-%d.img", tid);
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "core-%d.img is missing\n", tid);
	}
	err = pb_read_one(img, (void **)&c, PB_CORE);
	close_image(img);
	if (err)
		return err;	/* pb_read_one() named the image and what is wrong */
	*ret = c;
	err = read_core_ext(dfd, tid, c);
	if (err)
		return err;
	if (c->mtype != CORE_ENTRY__MARCH__X86_64)
		return pr_fail(-EINVAL, "core-%d.img: not an x86_64 task\n", tid);
	if (c->tc && c->tc->task_state == TASK_DEAD)
		return 0;	/* a zombie: no registers */
	if (!c->thread_info || !c->thread_info->gpregs || !c->thread_core)
		return pr_fail(-EINVAL, "core-%d.img: registers or thread state missing\n", tid);
	if (c->thread_info->gpregs->has_mode && c->thread_info->gpregs->mode != USER_X86_REGS_MODE__NATIVE)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: 32-bit tasks are not supported\n", tid);
	if (c->thread_info->fpregs && c->thread_info->fpregs->xsave && c->thread_info->fpregs->xsave->cet &&
	    c->thread_info->fpregs->xsave->cet->cet)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: thread_info.fpregs.xsave.cet: CET (shadow stack) is enabled, "
					    "not restored\n", tid);
	return check_thread_attrs(tid, c->thread_core);
}

/*
 * Read a pagemap image (pagemap-<pid>.img or pagemap-shmem-<shmid>.img) and
 * open the pages image it names, checking the pages image is long enough.
 * A missing pagemap image is an error only when must_exist.
 */
static int read_pagemap_img(int dfd, int type, unsigned long id, const char *name, bool must_exist, bool remote_ok,
			    PagemapEntry ***ret_pmes, size_t *ret_nr, struct cr_img **ret_pages)
{
	struct cr_img *img = open_image_at(dfd, type, O_RSTR, id);
	PagemapEntry **pmes = NULL, *pe;
	size_t nr = 0, cap = 0;
	const char *why;
	PagemapHead *h;
	uint64_t need = 0;
	struct stat st;
	int ret;

	if (!img)
		return pr_fail_errno("can't open %s", name);
	if (img_is_empty(img)) {
		close_image(img);
		if (!must_exist)
			return 0;
		return pr_fail(-ENOENT, "%s is missing\n", name);
	}
	ret = pb_read_one(img, (void **)&h, PB_PAGEMAP_HEAD);
	if (ret) {
		close_image(img);
		return ret;	/* logged by pb_read_one() */
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
		why = pagemap_entry_fixup(pe);
		if (!why && (pe->flags & PE_PARENT) && type != CR_FD_PAGEMAP)
			why = "flags PE_PARENT (in_parent): shared memory is dumped whole, never in a parent";
		if (!why && pagemap_entry_remote(pe) && !remote_ok)
			why = "PE_LAZY without PE_PRESENT: its pages were left on the source by dump --lazy-pages; "
			      "restore it with --lazy-pages from a `criu lazy-pages --page-server`";
		if (why) {
			ret = pr_fail(-EOPNOTSUPP, "%s: the entry at %#" PRIx64 ": %s\n", name, pe->vaddr, why);
			break;
		}
		if (pe->flags & PE_PRESENT)
			need += pe->nr_pages * PAGE_SIZE;
	}
	close_image(img);
	*ret_pmes = pmes;
	*ret_nr = nr;
	if (ret == -EOPNOTSUPP) {
		pb_free(h, PB_PAGEMAP_HEAD);
		return ret;	/* logged above */
	}
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

/*
 * An incremental dump (--prev-images-dir): entries flagged PE_PARENT have
 * their pages up the `parent` chain. They are gathered with the task's own
 * into one memfd that stands for the pages image from here on.
 */
static int read_parent_pages(int dfd, struct pstree_item *item, const char *name)
{
	struct rst_info *ri = rsti(item);
	char why[256] = "";
	size_t i;
	int ret;

	for (i = 0; i < ri->mem.nr_pmes && !(ri->mem.pmes[i]->flags & PE_PARENT); i++)
		;
	if (i == ri->mem.nr_pmes)
		return 0;
	ret = page_chain_flatten(dfd, item->pid, ri->mem.pmes, ri->mem.nr_pmes, ri->mem.pages_fd,
				 !opts.skip_image_check, &ri->chain_fd, why, sizeof(why));
	if (ret < 0)
		return pr_fail(ret, "%s refers to pages in the parent images (--prev-images-dir), which can't be read: %s\n",
			       name, why);
	ri->mem.pages_fd = ri->chain_fd;
	pr_info("%s: pages gathered through the parent images\n", name);
	return 0;
}

static int read_pagemap(struct rst_ctx *ctx, int dfd, struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);
	struct cr_img *pages = NULL;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "pagemap-%d.img", item->pid);
	/* pages left on the source: only a lazy-pages daemon with a page server has them */
	ret = read_pagemap_img(dfd, CR_FD_PAGEMAP, item->pid, name, true, ctx->lazy_remote, &ri->mem.pmes,
			       &ri->mem.nr_pmes,
			       &pages);
	/*
	 * only the fd is kept (the pages are read through it, never through the
	 * image): the image's 64 KiB buffer would be one more in criu's heap per
	 * task at fork, for each stub to copy and unmap
	 */
	if (!ret && pages) {
		ri->pages_fd = img_take_fd(pages);
		if (ri->pages_fd < 0)
			ret = pr_fail(ri->pages_fd, "%s: can't keep the pages image open: %s\n", name,
				      strerror(-ri->pages_fd));
		ri->mem.pages_fd = ri->pages_fd;
	}
	if (!ret)
		ret = read_parent_pages(dfd, item, name);
	return ret;
}

void free_shmem_imgs(struct rst_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_shmem_imgs; i++) {
		for (size_t k = 0; k < ctx->shmem_imgs[i].nr; k++)
			pb_free(ctx->shmem_imgs[i].pmes[k], PB_PAGEMAP);
		free(ctx->shmem_imgs[i].pmes);
		if (ctx->shmem_imgs[i].pages)
			close_image(ctx->shmem_imgs[i].pages);
	}
	free(ctx->shmem_imgs);
	ctx->shmem_imgs = NULL;
	ctx->nr_shmem_imgs = 0;
}

static int read_shmems(struct rst_ctx *ctx, int dfd, struct pstree_item *item)
{
	MmEntry *mm = rsti(item)->mem.mm;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		VmaEntry *v = mm->vmas[i];
		struct shmem_img *si = NULL, *n;
		char name[64];
		int ret;

		/* a SysV segment's contents are in its IPC namespace's images */
		if (!(v->status & VMA_ANON_SHARED) || (v->status & (VMA_FILE_SHARED | VMA_FILE_PRIVATE | VMA_AREA_SYSVIPC)) ||
		    !(v->status & VMA_AREA_REGULAR))
			continue;
		for (size_t k = 0; k < ctx->nr_shmem_imgs; k++)
			if (ctx->shmem_imgs[k].shmid == v->shmid)
				si = &ctx->shmem_imgs[k];
		if (!si) {
			n = xrealloc(ctx->shmem_imgs, (ctx->nr_shmem_imgs + 1) * sizeof(*n));
			if (!n)
				return -ENOMEM;
			ctx->shmem_imgs = n;
			si = &ctx->shmem_imgs[ctx->nr_shmem_imgs++];
			*si = (struct shmem_img){ .shmid = v->shmid };
			snprintf(name, sizeof(name), "pagemap-shmem-%" PRIu64 ".img", v->shmid);
			ret = read_pagemap_img(dfd, CR_FD_SHMEM_PAGEMAP, v->shmid, name, false, false, &si->pmes, &si->nr,
					       &si->pages);
			if (ret)
				return ret;
		}
		ret = restore_shmem_add(ctx, v->shmid, v->pgoff + (v->end - v->start), si->pmes, si->nr,
					si->pages ? img_raw_fd(si->pages) : -1);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_mm(struct rst_ctx *ctx, int dfd, struct pstree_item *item)
{
	struct rst_info *ri = rsti(item);
	struct cr_img *img = open_image_at(dfd, CR_FD_MM, O_RSTR, item->pid);
	int ret;

	if (!img)
		return pr_fail_errno("can't open mm-%d.img", item->pid);
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "mm-%d.img is missing\n", item->pid);
	}
	ret = pb_read_one(img, (void **)&ri->mem.mm, PB_MM);
	close_image(img);
	if (ret)
		return ret;	/* logged by pb_read_one() */
	ret = mem_split_guards(item->pid, &ri->mem);
	if (!ret)
		ret = read_pagemap(ctx, dfd, item);
	if (!ret)
		ret = mem_skip_vdso_pages(item->pid, &ri->mem);
	if (!ret)
		ret = validate_mem(item->pid, &ri->mem);
	if (!ret)
		ret = read_shmems(ctx, dfd, item);
	return ret;
}

static int restore_file_path(struct rst_ctx *ctx, uint32_t id, char *buf, size_t size);

/*
 * CRIU 4.2 reads /proc/PID/personality (hex digits) with atoi(): its
 * personality is those digits read as a decimal number (cut at the first
 * a-f digit). Ours is the value itself.
 */
static uint32_t criu_personality(uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return (uint32_t)strtoul(buf, NULL, 16);
}

/*
 * A task's TaskKobjIdsEntry: ours is in the leader's core (and in
 * ids-PID.img), CRIU's in ids-PID.img only, which then goes into the core.
 */
static int read_task_ids(int dfd, struct pstree_item *item, CoreEntry *core)
{
	struct cr_img *img;
	int ret;

	if (core->ids)
		return 0;
	img = open_image_at(dfd, CR_FD_IDS, O_RSTR, item->pid);
	if (!img)
		return pr_fail_errno("can't open ids-%d.img", item->pid);
	if (img_is_empty(img)) {
		close_image(img);
		return 0;
	}
	ret = pb_read_one(img, (void **)&core->ids, PB_IDS);
	close_image(img);
	return ret;	/* pb_read_one() logs what is wrong */
}

/*
 * An image the dump writes for every live task (its fd table, its fs) is read
 * by the stubs; its absence is caught here, before anything starts, instead
 * of being read as an empty table.
 */
static int require_image(int dfd, int type, uint32_t id)
{
	struct cr_img *img = open_image_at(dfd, type, O_RSTR_REQ, id);

	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	close_image(img);
	return 0;
}

static int read_task_images(struct rst_ctx *ctx, int dfd, struct pstree_item *item, int slot)
{
	struct rst_info *ri = xzalloc(sizeof(*ri));
	TaskCoreEntry *tc;
	int ret;

	if (!ri)
		return -ENOMEM;
	item->priv = ri;
	ri->slot = slot;
	ri->mem.pages_fd = -1;
	ri->pages_fd = -1;
	ri->chain_fd = -1;
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
	if (ctx->dumped_by_criu)
		tc->personality = criu_personality(tc->personality);
	ret = read_task_ids(dfd, item, ri->core[0]);
	if (ret)
		return ret;
	/* fdinfo-<files_id>.img; a dump without ids names it by pid */
	item->files_id = ri->core[0]->ids ? ri->core[0]->ids->files_id : (uint32_t)item->pid;
	switch (tc->task_state) {
	case TASK_ALIVE:
	case TASK_STOPPED:
		item->state = tc->task_state;
		ret = require_image(dfd, CR_FD_FDINFO, item->files_id) ?: require_image(dfd, CR_FD_FS, item->pid);
		return ret ?: read_mm(ctx, dfd, item);
	case TASK_DEAD:
		item->state = TASK_DEAD;
		item->exit_code = (int)tc->exit_code;
		if (item == ctx->tree.root)
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

	/* CRIU writes no ids for a zombie: it is in its parent's namespace */
	if (!ids && item->state == TASK_DEAD && item->parent)
		return core_pidns_id(item->parent);
	return ids && ids->has_pid_ns_id ? ids->pid_ns_id : 0;
}

/* An earlier child of item's parent that is the init of pid namespace id (restore-stub.c forks there). */
static struct pstree_item *rst_sibling_init(struct pstree_item *item, uint32_t id)
{
	struct pstree_item *s;

	list_for_each_entry(s, &item->parent->children, sibling) {
		if (s == item)
			return NULL;
		if (s->pid_ns_id == id && s->ns_depth == item->ns_depth && s->ns_tids[s->ns_depth - 1] == 1)
			return s;
	}
	return NULL;
}

/*
 * A task's ids in the pid namespaces nested below the tree's (core ns_pids,
 * pid-namespaces.md): what restore can make, checked against its parent's.
 */
static int read_nested_pids(struct pstree *t, struct pstree_item *item)
{
	const TaskCoreEntry *tc = rsti(item)->core[0]->tc;
	struct pstree_item *p = item->parent, *o;
	size_t n = tc ? tc->n_ns_pids : 0;
	int depth = item->nr_threads ? (int)(n / item->nr_threads) : 0;

	if (n % item->nr_threads || depth > 31)
		return pr_fail(-EINVAL, "core-%d.img: %zu ns_pids for %d threads\n", item->pid, n, item->nr_threads);
	item->ns_depth = depth;
	if (depth) {
		item->ns_tids = xmalloc(n * sizeof(pid_t));
		if (!item->ns_tids)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			item->ns_tids[i] = (pid_t)tc->ns_pids[i];
			if (item->ns_tids[i] <= 0)
				return pr_fail(-EINVAL, "core-%d.img: ns_pids has pid %d\n", item->pid, item->ns_tids[i]);
		}
	}
	item->ns_chain = xmalloc((depth + 1) * sizeof(uint32_t));
	if (!item->ns_chain)
		return -ENOMEM;
	if (!p) {
		if (depth)
			return pr_fail(-EINVAL, "core-%d.img: the root is not in the tree's pid namespace\n", item->pid);
		item->ns_chain[0] = item->pid_ns_id;
		return 0;
	}
	if (item->pid_ns_id == p->pid_ns_id && depth == p->ns_depth) {
		memcpy(item->ns_chain, p->ns_chain, (depth + 1) * sizeof(uint32_t));
		return 0;
	}
	if (item->pid_ns_id == p->pid_ns_id || depth != p->ns_depth + 1 ||
	    (item->ns_tids[depth - 1] != 1 && !rst_sibling_init(item, item->pid_ns_id)))
		return pr_fail(-EINVAL,
			       "core-%d.img: task %d is %d levels below the tree's pid namespace, in namespace %u; "
			       "its parent %d is %d levels below, in %u: not a namespace restore can make\n",
			       item->pid, item->pid, depth, item->pid_ns_id, p->pid, p->ns_depth, p->pid_ns_id);
	/* one task makes each namespace: another entry into it is a later child of the same parent */
	for_each_pstree_item(t, o) {
		if (o == item)
			break;
		if (o->pid_ns_id == item->pid_ns_id && o->parent && o->parent->pid_ns_id != o->pid_ns_id &&
		    (o->parent != p || item->ns_tids[depth - 1] == 1))
			return pr_fail(-EINVAL, "core-%d.img: pid namespace %u is made twice\n", item->pid,
				       item->pid_ns_id);
	}
	memcpy(item->ns_chain, p->ns_chain, depth * sizeof(uint32_t));
	item->ns_chain[depth] = item->pid_ns_id;
	return 0;
}

/* The child whose pid namespace the task makes its children in (core pid_for_children). */
static int read_for_children(struct pstree_item *item)
{
	const TaskCoreEntry *tc = rsti(item)->core[0]->tc;
	struct pstree_item *c;

	if (!tc || !tc->has_pid_for_children)
		return 0;
	list_for_each_entry(c, &item->children, sibling)
		if (c->pid == (pid_t)tc->pid_for_children && c->pid_ns_id != item->pid_ns_id &&
		    c->state != TASK_DEAD) {
			item->pfc_vpid = c->pid;
			return 0;
		}
	return pr_fail(-EINVAL, "core-%d.img: pid_for_children %u is not a live child in a pid namespace of its own\n",
		       item->pid, tc->pid_for_children);
}

/*
 * As in CRIU: the root's pid_ns_id differs from criu's at dump time
 * (inventory root_ids) when the tree had a pid namespace of its own, whose
 * init the root was. A task in another namespace than its parent's is the
 * init of a namespace nested right below it, or a later child of the same
 * parent in that namespace (read_nested_pids()).
 */
static int check_pidns(struct rst_ctx *ctx)
{
	struct pstree_item *root = ctx->tree.root, *item;
	uint32_t root_ns = core_pidns_id(root);
	int ret;

	ctx->tree.ns_flags = 0;
	if (root_ns && ctx->dump_criu_pidns_id && root_ns != ctx->dump_criu_pidns_id)
		ctx->tree.ns_flags |= CLONE_NEWPID;
	for_each_pstree_item(&ctx->tree, item) {
		item->pid_ns_id = core_pidns_id(item);
		ret = read_nested_pids(&ctx->tree, item);
		if (ret)
			return ret;
		if (!item->ns_depth && item->pid_ns_id != root_ns)
			return pr_fail(-EINVAL, "core-%d.img: task %d is in pid namespace %u, the root in %u, "
						"with no pid below the tree's namespace (ns_pids)\n",
				       item->pid, item->pid, item->pid_ns_id, root_ns);
	}
	for_each_pstree_item(&ctx->tree, item) {
		ret = read_for_children(item);
		if (ret)
			return ret;
	}
	if (rst_own_pidns(ctx) && root->pid != 1)
		return pr_fail(-EINVAL, "the tree had its own pid namespace, but its root is pid %d there, not 1\n",
			       root->pid);
	if (rst_own_pidns(ctx))
		pr_info("the tree had its own pid namespace: the root is created as its init\n");
	return 0;
}

/*
 * CRIU's inventory fields that change a restore: an incremental dump's mode
 * (its pages are in a parent dump, refused with them in the pagemap), TCP
 * connections closed at dump (no TCP here), plugins (none restored here).
 * root_cg_set, lsmtype, network_lock_method, dump_criu_run_id and
 * allow_uprobes change nothing for a tree ours restores.
 */
static int check_inventory_fields(const InventoryEntry *ie)
{
	if (ie->plugins_entry && ie->plugins_entry->n_plugins)
		return pr_fail(-EOPNOTSUPP, "inventory.img: plugins_entry: the dump used CRIU plugin %s, not supported\n",
			       ie->plugins_entry->plugins[0]);
	return 0;
}

/*
 * The method that locked the connections at dump unlocks them (as CRIU),
 * and CRIU's nftables table is named by the dump's run id. The inventory
 * has CRIU's numbering (enum network_lock_method); dumps of ours that kept
 * the manifest's CRC in the inventory wrote the RPC's (1 iptables, 2
 * nftables, 3 skip).
 */
static int inventory_lock_method(const InventoryEntry *ie)
{
	uint32_t m = ie->network_lock_method;

	if (!ie->has_network_lock_method)
		return 0;	/* as CRIU: iptables, the default */
	if (ie->has_manifest_crc32c && m >= 1 && m <= 3)
		m = m == 2 ? NETWORK_LOCK_NFTABLES : m == 3 ? NETWORK_LOCK_SKIP : NETWORK_LOCK_IPTABLES;
	if (m > NETWORK_LOCK_SKIP)
		return pr_fail(-EINVAL, "inventory.img: network_lock_method %u: not a lock method\n", m);
	opts.network_lock = m;
	return net_lock_set_run_id(ie->dump_criu_run_id);
}

/* inventory.img is written at the end of a dump: without a sound one the dump is not complete. */

/* --lazy-pages: the daemon checked the CRCs of the pages images of this very manifest, we check the rest. */
static enum img_check images_check_how(const struct rst_ctx *ctx, int dfd)
{
	uint64_t size;
	uint32_t crc;

	if (ctx->opts->skip_image_check)
		return IMG_CHECK_SKIP;
	if (ctx->lazy_pages_checked && !image_manifest_id(dfd, &size, &crc) && crc == ctx->lazy_manifest_crc)
		return IMG_CHECK_PAGES_BY_SIZE;
	return IMG_CHECK_ALL;
}

static int check_inventory(struct rst_ctx *ctx, int dfd)
{
	struct image_check_how how;
	struct cr_img *img = open_image_at(dfd, CR_FD_INVENTORY, O_RSTR);
	InventoryEntry *ie;
	int ret;

	if (!img)
		return pr_fail_errno("can't open inventory.img");
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "no inventory.img: not a complete dump\n");
	}
	ret = pb_read_one(img, (void **)&ie, PB_INVENTORY);
	close_image(img);
	if (ret)
		return ret;	/* logged by pb_read_one() */
	if (ie->img_version != CRTOOLS_IMAGES_V1_1)
		ret = pr_fail(-EINVAL, "inventory.img: image version %u, this criu reads %u\n", ie->img_version,
			      CRTOOLS_IMAGES_V1_1);
	if (!ret)
		ret = check_inventory_fields(ie);
	image_check_how_of(ie, images_check_how(ctx, dfd), &how);
	how.defer = &ctx->pages_crc;
	ctx->dumped_by_criu = how.dumped_by_criu;
	/* every other image is checked against the manifest before it is read */
	if (!ret)
		ret = check_images(dfd, &how);
	ctx->dump_root_cg_set = ie->has_root_cg_set ? ie->root_cg_set : 0;
	if (!ret && ie->has_tcp_close && ie->tcp_close && !opts.tcp_close)
		ret = pr_fail(-EINVAL, "the tree was dumped with --tcp-close: restore needs --tcp-close too\n");
	if (!ret)
		ret = inventory_lock_method(ie);
	ctx->dump_criu_pidns_id = ie->root_ids && ie->root_ids->has_pid_ns_id ? ie->root_ids->pid_ns_id : 0;
	for (int k = 0; k < NS_KIND_NR; k++)
		ctx->dump_criu_ns_id[k] = ns_ids_get(ie->root_ids, k);
	pb_free(ie, PB_INVENTORY);
	return ret;
}

int read_images(struct rst_ctx *ctx, const struct restore_opts *o)
{
	struct pstree_item *item;
	int ret, slot = 0;

	INIT_LIST_HEAD(&ctx->tree.items);
	ret = check_inventory(ctx, o->img_dfd);
	if (ret)
		return ret;
	ret = read_pstree(ctx, o->img_dfd);
	if (!ret)
		ret = check_pstree(ctx);
	if (!ret)
		ret = check_sessions(ctx, o);
	if (ret)
		return ret;
	for_each_pstree_item(&ctx->tree, item) {
		ret = read_task_images(ctx, o->img_dfd, item, slot++);
		if (ret)
			return ret;
	}
	ret = rst_seccomp_read(ctx);
	if (!ret)
		ret = rst_lsm_check(ctx);
	if (!ret)
		ret = cg_rst_read(ctx, o->img_dfd, ctx->dump_root_cg_set);
	if (!ret)
		ret = check_pidns(ctx);
	if (!ret)
		ret = ns_plan_restore(ctx);
	if (!ret)
		ret = mntns_read_images(ctx);
	if (!ret)	/* who makes each fd table and fs shared by processes */
		ret = share_plan_restore(ctx);
	if (!ret)
		ret = userns_check_shares(ctx);
	return ret;
}

/* ------------------------------------------------------ files of mappings */

static int restore_file_path(struct rst_ctx *ctx, uint32_t id, char *buf, size_t size)
{
	struct file_desc *d = find_file_desc(ctx, id);
	int fd;

	if (!d)
		return -ENOENT;
	fd = file_desc_ctl_fd(ctx, d);
	if (fd >= 0) {
		/* the controller's open file: right even when the file was deleted or is a memfd */
		snprintf(buf, size, "/proc/%d/fd/%d", getpid(), fd);
		return 0;
	}
	return -ENOENT;
}

