// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces other than pid, restore side (namespaces.h,
 * Documentation/namespaces.md).
 *
 * The plan is made in the controller from the images, before anything
 * starts (ns_plan_restore()): for each kind, each live task, in tree order,
 *   - inherits its parent's namespace when it was in its parent's;
 *   - else, is the first task of the tree in that namespace: its stub makes
 *     it (unshare() before it forks its children) and fills it with the
 *     kind's restore hook, from the images the controller read;
 *   - else joins it: setns() on a pidfd of the task that made it, once that
 *     one says it is ready (the task that made it comes earlier in tree
 *     order, so nobody waits on a task that waits on it);
 *   - or goes back to criu's: setns() on the stubs' pidfd of criu.
 * Zombies are made in their parent's namespaces (they have none left).
 *
 * The root's namespace of a kind may instead be one given to criu: a file
 * named by --join-ns, or an fd given with --inherit-fd for the key of an
 * external net namespace (net_ns.c). The root's stub joins it with setns()
 * while it still holds criu's fds; tasks that were in it too join the root's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "ns: "
#include "common.h"
#include "cr_options.h"
#include "log.h"
#include "namespaces.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"
#include "syscalls.h"
#include "userns.h"

#include "core.pb-c.h"

static uint32_t item_ns_id(struct rst_ctx *ctx, struct pstree_item *item, enum ns_kind k)
{
	uint32_t id = ns_ids_get(rsti(item)->core[0]->ids, k);

	/* no id (an image of a kernel without the kind): criu's, as before namespaces were dumped */
	return id ?: ctx->dump_criu_ns_id[k];
}

static struct rst_ns *find_ns(struct rst_ctx *ctx, enum ns_kind k, uint32_t id)
{
	for (int i = 0; i < ctx->nr_nss; i++)
		if (ctx->nss[i]->kind == k && ctx->nss[i]->id == id)
			return ctx->nss[i];
	return NULL;
}

/* join_fd >= 0: the root joins it (--join-ns); else the kind's read() hook reads its contents */
static int add_ns(struct rst_ctx *ctx, enum ns_kind k, uint32_t id, struct pstree_item *creator, int join_fd)
{
	const struct ns_desc *d = &ns_kinds[k];
	struct rst_ns **all, *v;
	int ret;

	/* each on its own: the tasks keep pointers to them */
	all = realloc(ctx->nss, (ctx->nr_nss + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	ctx->nss = all;
	v = xzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->nss[ctx->nr_nss++] = v;
	*v = (struct rst_ns){ .kind = k, .id = id, .creator = creator, .join_fd = join_fd, .own_fd = join_fd >= 0 };
	if (join_fd < 0 && d->read) {
		ret = d->read(ctx->img_dfd, id, &v->data, &v->join_fd);
		if (ret)
			return ret;
	}
	if (v->join_fd >= 0 && creator != ctx->tree.root)
		return pr_fail(-EOPNOTSUPP, "task %d was in an external %s namespace (id %u): only the root's may be "
					    "external\n", creator->pid, d->name, id);
	rsti(creator)->ns_how[k] = RST_NS_CREATE;
	rsti(creator)->ns[k] = v;
	if (v->join_fd >= 0)
		pr_info("task %d joins the %s namespace given for %u (fd %d)\n", creator->pid, d->name, id, v->join_fd);
	else
		pr_info("task %d makes the %s namespace %u\n", creator->pid, d->name, id);
	return 0;
}

/* --join-ns KIND:FILE: an fd of the namespace, checked to be of that kind; -1 when not asked */
static int open_join_ns(enum ns_kind k, int *ret_fd)
{
	const char *path = opts.join_ns[k];
	int fd, type;

	*ret_fd = -1;
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("--join-ns %s: can't open %s", ns_kinds[k].name, path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != ns_kinds[k].clone_flag) {
		close(fd);
		return pr_fail(-EINVAL, "--join-ns %s: %s is not a %s namespace\n", ns_kinds[k].name, path,
			       ns_kinds[k].name);
	}
	*ret_fd = fd;
	return 0;
}

static int plan_task(struct rst_ctx *ctx, struct pstree_item *item, enum ns_kind k, int join_fd)
{
	const struct ns_desc *d = &ns_kinds[k];
	uint32_t criu_id = ctx->dump_criu_ns_id[k];
	uint32_t id = item_ns_id(ctx, item, k);
	uint32_t parent_id = item->parent ? item->parent->ns_id[k] : criu_id;
	struct rst_info *ri = rsti(item);
	struct rst_ns *ns;

	item->ns_id[k] = id;
	if (id == parent_id && !(item == ctx->tree.root && join_fd >= 0)) {
		ri->ns_how[k] = RST_NS_INHERIT;
		return 0;
	}
	if (item == ctx->tree.root && join_fd >= 0)
		return add_ns(ctx, k, id, item, join_fd);
	ns = find_ns(ctx, k, id);
	if (ns) {
		ri->ns_how[k] = RST_NS_JOIN_TASK;
		ri->ns[k] = ns;
		return 0;
	}
	if (id == criu_id) {
		ri->ns_how[k] = RST_NS_JOIN_CRIU;
		return 0;
	}
	if (!d->supported)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: task %d was in a %s namespace of its own (id %u, criu's %u): "
					    "this criu does not restore %s namespaces\n",
			       item->pid, item->pid, d->name, id, criu_id, d->name);
	return add_ns(ctx, k, id, item, -1);
}

int ns_plan_restore(struct rst_ctx *ctx)
{
	struct pstree_item *item;
	int ret;

	for (int k = 0; k < NS_KIND_NR; k++) {
		int join_fd;

		if (ns_kinds[k].elsewhere || k == NS_USER)
			continue;	/* mount namespaces: mount-restore.c; user namespaces: userns.c */
		ret = open_join_ns(k, &join_fd);
		if (ret)
			return ret;
		/* parents before children */
		for_each_pstree_item(&ctx->tree, item) {
			if (item->state == TASK_DEAD) {
				item->ns_id[k] = item->parent->ns_id[k];
				continue;
			}
			ret = plan_task(ctx, item, k, join_fd);
			if (ret) {
				/* not handed to an rst_ns yet when the root's plan failed before add_ns() */
				if (join_fd >= 0 && !(ctx->nr_nss && ctx->nss[ctx->nr_nss - 1]->join_fd == join_fd))
					close(join_fd);
				return ret;
			}
		}
	}
	return userns_plan_restore(ctx);
}

bool rst_ns_of_tree(struct rst_ctx *ctx, enum ns_kind k, uint32_t id)
{
	return find_ns(ctx, k, id) != NULL;
}

int rst_ns_fd(struct rst_ctx *ctx, enum ns_kind k, uint32_t id)
{
	struct rst_ns *ns = find_ns(ctx, k, id);
	pid_t real;
	int fd;

	if (!ns)
		return -ENOENT;
	if (ns->join_fd >= 0) {
		fd = fcntl(ns->join_fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? pr_fail_errno("can't dup the fd of the %s namespace %u", ns_kinds[k].name, id) : fd;
	}
	real = rst_real_pid(ctx, ns->creator->pid);
	fd = real > 0 ? sys_pidfd_open(real, 0) : -1;
	if (fd < 0)
		return pr_fail_errno("can't open a pidfd of task %d, which made the %s namespace %u", ns->creator->pid,
				     ns_kinds[k].name, id);
	return fd;
}

bool rst_makes_ns(const struct rst_ctx *ctx)
{
	for (int i = 0; i < ctx->nr_nss; i++)
		if (ctx->nss[i]->join_fd < 0)
			return true;
	return rst_own_pidns(ctx);
}

void ns_restore_free(struct rst_ctx *ctx)
{
	for (int i = 0; i < ctx->nr_nss; i++) {
		if (ctx->nss[i]->data)
			ns_kinds[ctx->nss[i]->kind].free(ctx->nss[i]->data);
		if (ctx->nss[i]->own_fd)
			close(ctx->nss[i]->join_fd);
		free(ctx->nss[i]);
	}
	free(ctx->nss);
	ctx->nss = NULL;
	ctx->nr_nss = 0;
	userns_restore_free(ctx);
}

/* ------------------------------------------------------ in the stub */

/* Wait until the stub of creator has made (and filled) its namespaces. */
static int wait_ns_ready(struct rst_ctx *ctx, struct pstree_item *creator)
{
	struct rst_slot *s = &ctx->shared->slots[rsti(creator)->slot];

	for (;;) {
		uint32_t f = __atomic_load_n(&ctx->shared->futex, __ATOMIC_SEQ_CST);

		if (__atomic_load_n(&ctx->shared->error, __ATOMIC_SEQ_CST))
			return -ECANCELED;
		if (__atomic_load_n(&s->ns_ready, __ATOMIC_SEQ_CST))
			return 0;
		shared_wait(ctx, f, 1000);
	}
}

static int join_task_ns(struct rst_ctx *ctx, struct pstree_item *me, enum ns_kind k)
{
	struct pstree_item *creator = rsti(me)->ns[k]->creator;
	const char *name = ns_kinds[k].name;
	_cleanup_close_ int pidfd = -1;
	int ret;

	ret = wait_ns_ready(ctx, creator);
	if (ret)
		return ret;
	/* the creator's pid as this stub sees it (pid namespaces nested below the tree's: pidns.c) */
	if (!item_pid_seen_by(me, creator, 0))
		return pr_fail(-EOPNOTSUPP, "task %d: can't join the %s namespace of task %d, which is outside its pid "
					    "namespace\n", me->pid, name, creator->pid);
	pidfd = sys_pidfd_open(item_pid_seen_by(me, creator, 0), 0);
	if (pidfd < 0)
		return pr_fail_errno("task %d: can't open a pidfd of task %d to join its %s namespace", me->pid,
				     creator->pid, name);
	if (setns(pidfd, ns_kinds[k].clone_flag))
		return pr_fail_errno("task %d: can't join the %s namespace of task %d", me->pid, name, creator->pid);
	return 0;
}

static int make_namespaces(struct pstree_item *me)
{
	struct rst_info *ri = rsti(me);
	int flags = 0, ret;

	for (int k = 0; k < NS_KIND_NR; k++) {
		if (ri->ns_how[k] != RST_NS_CREATE)
			continue;
		if (ri->ns[k]->join_fd < 0) {
			flags |= ns_kinds[k].clone_flag;
			continue;
		}
		/* the root, still holding criu's fds */
		if (setns(ri->ns[k]->join_fd, ns_kinds[k].clone_flag))
			return pr_fail_errno("task %d: can't join the %s namespace given to criu", me->pid,
					     ns_kinds[k].name);
		if (ri->ns[k]->premade && ri->ns[k]->data) {
			ret = ns_kinds[k].restore(ri->ns[k]->data);
			if (ret)
				return ret;
		}
	}
	if (!flags)
		return 0;
	if (unshare(flags))
		return pr_fail_errno("task %d: can't unshare its namespaces (flags %#x)", me->pid, flags);
	for (int k = 0; k < NS_KIND_NR; k++) {
		void *data = ri->ns_how[k] == RST_NS_CREATE && ri->ns[k]->join_fd < 0 ? ri->ns[k]->data : NULL;

		if (!data)
			continue;
		ret = ns_kinds[k].restore(data);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The root task's namespace of kind k made now, empty, instead of by its
 * stub: something built before the tree needs it (an mqueue mount shows
 * the IPC namespace of the process that mounted it, and the mount helper
 * runs before the root stub). The stub joins it and fills it as it would
 * have filled one of its own. The fd of the namespace the root will be in,
 * -1 when it is criu's, or -errno.
 */
int ns_root_fd(struct rst_ctx *ctx, enum ns_kind k)
{
	struct rst_info *ri = rsti(ctx->tree.root);
	struct rst_ns *ns = ri->ns[k];
	_cleanup_close_ int mine = -1;
	int fd;

	if (ri->ns_how[k] != RST_NS_CREATE)
		return -1;
	if (ns->join_fd >= 0)
		return ns->join_fd;
	if (k != NS_IPC)
		return -EINVAL;
	/* this thread only: unshare() and setns() of an IPC namespace act on the caller */
	mine = openat(ctx->proc_fd, "thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (mine < 0 || unshare(CLONE_NEWIPC))
		return pr_fail_errno("can't make the root task's IPC namespace in advance");
	fd = openat(ctx->proc_fd, "thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (setns(mine, CLONE_NEWIPC)) {
		if (fd >= 0)
			close(fd);
		return pr_fail_errno("can't go back to criu's IPC namespace");
	}
	if (fd < 0)
		return pr_fail_errno("can't open the IPC namespace made for the root task");
	ns->join_fd = fd;
	ns->own_fd = ns->premade = true;
	pr_info("the IPC namespace %u of task %d is made in advance (fd %d)\n", ns->id, ctx->tree.root->pid, fd);
	return fd;
}

int stub_namespaces(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct rst_info *ri = rsti(me);
	int to_criu = 0, ret;

	for (int k = 0; k < NS_KIND_NR; k++) {
		if (ri->ns_how[k] == RST_NS_JOIN_CRIU)
			to_criu |= ns_kinds[k].clone_flag;
		if (ri->ns_how[k] != RST_NS_JOIN_TASK)
			continue;
		ret = join_task_ns(ctx, me, k);
		if (ret)
			return ret;
	}
	if (to_criu && setns(ctx->ctl_pidfd, to_criu))
		return pr_fail_errno("task %d: can't go back to criu's namespaces (flags %#x)", me->pid, to_criu);
	ret = make_namespaces(me);
	if (ret)
		return ret;
	__atomic_store_n(&ctx->shared->slots[ri->slot].ns_ready, 1, __ATOMIC_SEQ_CST);
	shared_wake(ctx);
	return 0;
}
