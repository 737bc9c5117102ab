// SPDX-License-Identifier: GPL-2.0
/*
 * What processes share through clone() without being threads of one
 * process (Documentation/restore.md, "Shared fd tables and fs").
 *
 * Dump: the live processes of the tree are sorted by kcmp() of each kind,
 * so that sharers are neighbours. An fd table or fs shared by several gets
 * the vpid of the first of them in tree order as its id (CRIU's files_id,
 * fs_id); the fds are dumped once, by that task. Restore builds a shared
 * table or fs by cloning each sharer from its parent with CLONE_FILES or
 * CLONE_FS, so every sharer but the first must be a child of a sharer: a
 * group that is not (a task that shares its grandparent's table after its
 * parent unshared it) is refused. So are an address space and signal
 * handlers shared by processes (clone(CLONE_VM), vfork(), CLONE_SIGHAND),
 * which the morph can't give back, and a thread with an fd table or fs of
 * its own (unshare() in a thread), which the stubs' threads can't have.
 *
 * Restore: the first task of each table or fs in tree order makes it; the
 * others are cloned sharing their parent's and leave their fds (and cwd,
 * root, umask) to it; the service fds go with the morph of the table's last
 * task.
 */
#define LOG_PREFIX "share: "
#include <sched.h>
#include <stdlib.h>

#include "common.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"
#include "syscalls.h"
#include "task-share.h"

#include "core.pb-c.h"

#ifndef KCMP_VM
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4
#endif

enum share_kind { SH_FILES, SH_FS, SH_VM, SH_SIGHAND, SH_NR };

static const struct {
	int kcmp;
	const char *what;	/* "share one ..." */
	const char *how;	/* how they came to share it */
	bool restored;
} kinds[SH_NR] = {
	[SH_FILES] = { KCMP_FILES, "fd table", "clone(CLONE_FILES) without CLONE_THREAD", true },
	[SH_FS] = { KCMP_FS, "fs (cwd, root, umask)", "clone(CLONE_FS) without CLONE_THREAD", true },
	[SH_VM] = { KCMP_VM, "address space", "clone(CLONE_VM) without CLONE_THREAD, or vfork()", false },
	[SH_SIGHAND] = { KCMP_SIGHAND, "table of signal handlers", "clone(CLONE_SIGHAND) without CLONE_THREAD", false },
};

/* ------------------------------------------------------ dump */

struct live_task {
	struct pstree_item *item;
	int order;	/* in tree order */
};

struct kcmp_sort {
	int type;
	int err;	/* the first kcmp error, -errno */
};

/* By kernel object (kcmp's order: the objects' addresses), then by tree order. */
static int cmp_obj(const void *a, const void *b, void *arg)
{
	const struct live_task *x = a, *y = b;
	struct kcmp_sort *s = arg;
	int r;

	if (x->item == y->item)
		return 0;
	r = sys_kcmp(x->item->pid, y->item->pid, s->type, 0, 0);
	if (r < 0 && !s->err)
		s->err = -errno;
	if (r == 0)
		return x->order - y->order;
	return r == 1 ? -1 : r == 2 ? 1 : 0;
}

static uint32_t *kind_id(struct pstree_item *item, enum share_kind k)
{
	return k == SH_FILES ? &item->files_id : &item->fs_id;
}

/*
 * One group of n > 1 tasks sharing an object of kind k, v[0] the first in
 * tree order: they get its id; each other one must be its parent's sharer.
 */
static int share_group(struct live_task *v, int n, enum share_kind k)
{
	uint32_t id = (uint32_t)item_vpid(v[0].item);

	if (!kinds[k].restored)
		return pr_fail(-EOPNOTSUPP, "tasks %d and %d share one %s (%s): criu can't restore a shared %s\n",
			       v[0].item->pid, v[1].item->pid, kinds[k].what, kinds[k].how, kinds[k].what);
	for (int i = 0; i < n; i++)
		*kind_id(v[i].item, k) = id;
	for (int i = 1; i < n; i++) {
		struct pstree_item *parent = v[i].item->parent;

		if (!parent || parent->state == TASK_DEAD || *kind_id(parent, k) != id)
			return pr_fail(-EOPNOTSUPP,
				       "task %d shares one %s with task %d but not with its parent %d (%s, then "
				       "unshared or reparented): criu can't restore a shared %s whose tasks are not "
				       "parents and children\n",
				       v[i].item->pid, kinds[k].what, v[0].item->pid, parent ? parent->pid : 0,
				       kinds[k].how, kinds[k].what);
		pr_info("task %d shares the %s of task %d\n", v[i].item->pid, kinds[k].what, v[0].item->pid);
	}
	return 0;
}

static int share_kind_collect(struct live_task *v, int n, enum share_kind k)
{
	struct kcmp_sort s = { .type = kinds[k].kcmp };
	int start = 0;

	qsort_r(v, n, sizeof(*v), cmp_obj, &s);
	if (s.err)
		return pr_fail(s.err, "can't compare the %ss of the tree's tasks (kcmp): %s\n", kinds[k].what,
			       strerror(-s.err));
	for (int i = 1; i <= n; i++) {
		int r = i < n ? sys_kcmp(v[i - 1].item->pid, v[i].item->pid, kinds[k].kcmp, 0, 0) : 1;
		int ret;

		if (r < 0)
			return pr_fail_errno("can't compare the %ss of tasks %d and %d (kcmp)", kinds[k].what,
					     v[i - 1].item->pid, v[i].item->pid);
		if (r == 0)
			continue;
		ret = i - start > 1 ? share_group(v + start, i - start, k) : 0;
		if (ret)
			return ret;
		start = i;
	}
	return 0;
}

/* Every thread of a task has its fd table and fs: the stubs' threads are made sharing them. */
static int check_threads(struct pstree_item *item)
{
	for (int i = 1; i < item->nr_threads; i++) {
		for (int k = SH_FILES; k <= SH_FS; k++) {
			int r = sys_kcmp(item->pid, item->threads[i], kinds[k].kcmp, 0, 0);

			if (r < 0)
				return pr_fail_errno("can't compare the %s of thread %d with its task %d (kcmp)",
						     kinds[k].what, item->threads[i], item->pid);
			if (r)
				return pr_fail(-EOPNOTSUPP,
					       "thread %d of task %d has an %s of its own (unshare(%s)): criu can't "
					       "restore a thread with its own %s\n",
					       item->threads[i], item->pid, kinds[k].what,
					       k == SH_FILES ? "CLONE_FILES" : "CLONE_FS", kinds[k].what);
		}
	}
	return 0;
}

int share_collect_tree(struct pstree *tree)
{
	_cleanup_free_ struct live_task *v = xzalloc(sizeof(*v) * (tree->nr_items ?: 1));
	struct pstree_item *item;
	int n = 0, ret = 0;

	if (!v)
		return -ENOMEM;
	for_each_pstree_item(tree, item) {
		item->files_id = item->fs_id = (uint32_t)item_vpid(item);
		if (item->state == TASK_DEAD)	/* a zombie has none of them */
			continue;
		ret = check_threads(item);
		if (ret)
			return ret;
		v[n].item = item;
		v[n].order = n;
		n++;
	}
	/* signal handlers before the address space: CLONE_SIGHAND needs CLONE_VM, the error names the first */
	ret = share_kind_collect(v, n, SH_SIGHAND) ?: share_kind_collect(v, n, SH_VM);
	if (!ret)
		ret = share_kind_collect(v, n, SH_FILES) ?: share_kind_collect(v, n, SH_FS);
	return ret;
}

/* ------------------------------------------------------ restore */

static TaskKobjIdsEntry *core_ids(struct pstree_item *item)
{
	return rsti(item)->core[0]->ids;
}

/* The task that makes item's object of kind k (files, fs); NULL: images that can't be built (logged). */
static struct pstree_item *plan_owner(struct pstree_item *item, enum share_kind k)
{
	struct pstree_item *parent = item->parent;
	uint32_t id = *kind_id(item, k);

	if (parent && parent->state != TASK_DEAD && *kind_id(parent, k) == id) {
		rsti(item)->clone_flags |= k == SH_FILES ? CLONE_FILES : CLONE_FS;
		return k == SH_FILES ? rsti(parent)->fdt_owner : rsti(parent)->fs_owner;
	}
	return item;
}

struct owner_id {
	uint32_t id;
	pid_t pid;
};

static int cmp_owner_id(const void *a, const void *b)
{
	const struct owner_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Two entries of one id: an address space or signal handlers shared, or an
 * fd table or fs made twice (shared by tasks that are not parent and child).
 */
static int check_unique(struct owner_id *v, int n, enum share_kind k, const char *field)
{
	qsort(v, n, sizeof(*v), cmp_owner_id);
	for (int i = 1; i < n; i++)
		if (v[i].id == v[i - 1].id)
			return pr_fail(-EOPNOTSUPP, "tasks %d and %d share one %s (%s %u)%s: criu can't restore it\n",
				       v[i - 1].pid, v[i].pid, kinds[k].what, field, v[i].id,
				       kinds[k].restored ? " and are not parent and child" : "");
	return 0;
}

int share_plan_restore(struct rst_ctx *ctx)
{
	_cleanup_free_ struct owner_id *ids = xzalloc(sizeof(*ids) * 4 * (ctx->tree.nr_items ?: 1));
	struct owner_id *fdt = ids, *fs = ids + ctx->tree.nr_items, *vm = fs + ctx->tree.nr_items,
			*sh = vm + ctx->tree.nr_items;
	int nfdt = 0, nfs = 0, nlive = 0;
	struct pstree_item *item;

	if (!ids)
		return -ENOMEM;
	for_each_pstree_item(&ctx->tree, item) {
		TaskKobjIdsEntry *e;

		if (item->state == TASK_DEAD)
			continue;
		e = core_ids(item);
		/* a dump without ids: every task has its own */
		item->fs_id = e ? e->fs_id : (uint32_t)item->pid;
		rsti(item)->fdt_owner = plan_owner(item, SH_FILES);
		rsti(item)->fs_owner = plan_owner(item, SH_FS);
		rsti(rsti(item)->fdt_owner)->fdt_left++;
		if (rsti(item)->fdt_owner == item)
			fdt[nfdt++] = (struct owner_id){ item->files_id, item->pid };
		if (rsti(item)->fs_owner == item)
			fs[nfs++] = (struct owner_id){ item->fs_id, item->pid };
		vm[nlive] = (struct owner_id){ e ? e->vm_id : (uint32_t)item->pid, item->pid };
		sh[nlive++] = (struct owner_id){ e ? e->sighand_id : (uint32_t)item->pid, item->pid };
		if (rsti(item)->clone_flags)
			pr_info("task %d is made sharing the%s%s of its parent\n", item->pid,
				(rsti(item)->clone_flags & CLONE_FILES) ? " fd table" : "",
				(rsti(item)->clone_flags & CLONE_FS) ? " fs" : "");
	}
	return check_unique(fdt, nfdt, SH_FILES, "files_id") ?: check_unique(fs, nfs, SH_FS, "fs_id") ?:
	       check_unique(sh, nlive, SH_SIGHAND, "sighand_id") ?: check_unique(vm, nlive, SH_VM, "vm_id");
}

uint64_t share_clone_flags(const struct pstree_item *child)
{
	return child->state == TASK_DEAD ? 0 : rsti((struct pstree_item *)child)->clone_flags;
}

bool share_last_of_fdt(struct pstree_item *item)
{
	struct pstree_item *owner = rsti(item)->fdt_owner ?: item;

	return __atomic_sub_fetch(&rsti(owner)->fdt_left, 1, __ATOMIC_SEQ_CST) <= 0;
}
