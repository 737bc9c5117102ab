// SPDX-License-Identifier: GPL-2.0
/*
 * Pid namespaces, dump side (see pidns.h).
 *
 * criu reads /proc through a procfs of its own pid namespace, so every pid it
 * sees (stat, children, fdinfo "Pid:") is a pid of that namespace. The pids
 * the tree sees are the last column of the NSpid/NSpgid/NSsid lines of
 * /proc/PID/status: one column per namespace level, from the procfs's
 * namespace down to the task's own.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define LOG_PREFIX "pidns: "
#include "common.h"
#include "log.h"
#include "pidns.h"
#include "proc_parse.h"
#include "pstree.h"

int pidns_innermost(const struct proc_status *st, pid_t *ret_pid, pid_t *ret_pgid, pid_t *ret_sid)
{
	int last = st->ns_levels - 1;

	if (st->ns_levels < 1 || st->ns_levels > PROC_MAX_NS_LEVEL)
		return -EINVAL;
	if (ret_pid)
		*ret_pid = st->nspid[last];
	if (ret_pgid)
		*ret_pgid = st->nspgid[last];
	if (ret_sid)
		*ret_sid = st->nssid[last];
	return 0;
}

static int same_ns(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

int pidns_at_level(const struct proc_status *st, int level, pid_t *ret_pid, pid_t *ret_pgid, pid_t *ret_sid)
{
	if (st->ns_levels < 1 || st->ns_levels > PROC_MAX_NS_LEVEL || level < 0 || level >= st->ns_levels)
		return -EINVAL;
	if (ret_pid)
		*ret_pid = st->nspid[level];
	if (ret_pgid)
		*ret_pgid = st->nspgid[level];
	if (ret_sid)
		*ret_sid = st->nssid[level];
	return 0;
}

/* One thread's ids: in the tree's namespace (column level) and in every namespace below it. */
static int fill_thread_ids(struct pstree_item *item, int idx, const struct proc_status *st, int level)
{
	int depth = st->ns_levels - 1 - level;

	if (level >= st->ns_levels || (idx && depth != item->ns_depth))
		return -EINVAL;
	if (pidns_at_level(st, level, &item->vtids[idx], idx ? NULL : &item->vpgid, idx ? NULL : &item->vsid))
		return -EINVAL;
	if (!idx) {
		item->vpid = item->vtids[0];
		item->ns_depth = depth;
		if (depth) {
			item->ns_tids = xzalloc(item->nr_threads * depth * sizeof(pid_t));
			if (!item->ns_tids)
				return -ENOMEM;
		}
	}
	for (int l = 1; l <= depth; l++)
		item->ns_tids[idx * depth + l - 1] = st->nspid[level + l];
	return item->vtids[idx] > 0 ? 0 : -EINVAL;
}

/*
 * Ids as seen in the tree's namespace, column level of criu's NSpid lines,
 * and in the namespaces nested below it: status of the task, then of each
 * other thread.
 */
static int fill_virtual(struct pstree_item *item, int level)
{
	struct proc_status st;
	int ret;

	ret = parse_pid_status(item->proc_dfd, &st);
	if (ret)
		return pr_fail(ret, "can't read /proc/%d/status: %s\n", item->pid, strerror(-ret));
	ret = fill_thread_ids(item, 0, &st, level);
	proc_status_free(&st);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return pr_fail(-EINVAL, "/proc/%d/status: no usable NSpid line\n", item->pid);

	for (int i = 1; i < item->nr_threads; i++) {
		_cleanup_close_ int dfd = -1;
		char path[32];

		snprintf(path, sizeof(path), "task/%d", item->threads[i]);
		dfd = openat(item->proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ret = dfd < 0 ? -errno : parse_pid_status(dfd, &st);
		if (ret)
			return pr_fail(ret, "can't read /proc/%d/task/%d/status: %s\n", item->pid, item->threads[i],
				       strerror(-ret));
		ret = fill_thread_ids(item, i, &st, level);
		proc_status_free(&st);
		if (ret)
			return pr_fail(-EINVAL, "/proc/%d/task/%d/status: no usable NSpid line\n", item->pid,
				       item->threads[i]);
	}
	return 0;
}

static void fill_same(struct pstree_item *item)
{
	item->vpid = item->pid;
	item->vpgid = item->pgid;
	item->vsid = item->sid;
	for (int i = 0; i < item->nr_threads; i++)
		item->vtids[i] = item->threads[i];
}

#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif

/* The inode of the pid namespace that the one of /proc/PID/ns/pid is nested in. */
static int parent_ns_ino(struct pstree_item *item, uint64_t *ret)
{
	_cleanup_close_ int fd = openat(item->proc_dfd, "ns/pid", O_RDONLY | O_CLOEXEC), pfd = -1;
	struct stat st;

	if (fd < 0)
		return -errno;
	pfd = ioctl(fd, NS_GET_PARENT);
	if (pfd < 0 || fstat(pfd, &st))
		return -errno;
	*ret = st.st_ino;
	return 0;
}

/* An earlier child of the same parent that is the init of the namespace ino. */
static struct pstree_item *sibling_init(struct pstree_item *item, uint64_t ino)
{
	struct pstree_item *s;

	list_for_each_entry(s, &item->parent->children, sibling) {
		if (s == item)
			break;
		if (s->pidns_ino == ino && s->ns_depth == item->ns_depth && s->ns_tids &&
		    s->ns_tids[s->ns_depth - 1] == 1)
			return s;
	}
	return NULL;
}

/*
 * A task in another pid namespace than its parent's: restore makes it with
 * clone3(CLONE_NEWPID) when it is the init of a namespace nested right below
 * its parent's, or forks it there after its parent setns()'ed its
 * pid_for_children to the namespace of an earlier child, that namespace's
 * init (the parent had unshared it). Anything else is refused.
 */
static int check_nested(struct pstree_item *item)
{
	struct pstree_item *p = item->parent;
	uint64_t up = 0;
	int ret;

	if (item->pidns_ino == p->pidns_ino) {
		if (item->ns_depth != p->ns_depth)
			return pr_fail(-EINVAL, "task %d: %d pid namespace levels, its parent %d in the same one has %d\n",
				       item->pid, item->ns_depth, p->pid, p->ns_depth);
		return 0;
	}
	ret = parent_ns_ino(item, &up);
	if (ret)
		return pr_fail(ret, "can't find the parent of the pid namespace of task %d: %s\n", item->pid,
			       strerror(-ret));
	if (item->ns_depth != p->ns_depth + 1 || up != p->pidns_ino)
		return pr_fail(-EOPNOTSUPP,
			       "task %d is in pid namespace [%llu], which is not nested right below its parent %d's "
			       "([%llu]): it was made there by setns(), which is not restored\n",
			       item->pid, (unsigned long long)item->pidns_ino, p->pid, (unsigned long long)p->pidns_ino);
	if (item->ns_tids[item->ns_depth - 1] == 1 || sibling_init(item, item->pidns_ino))
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "task %d is %d in pid namespace [%llu] whose init is not an earlier child of its parent %d: "
		       "it was made there by setns(), which is not restored\n",
		       item->pid, item->ns_tids[item->ns_depth - 1], (unsigned long long)item->pidns_ino, p->pid);
}

/*
 * The pid namespace the task's next children go to (pid_for_children): its
 * own, or (after unshare(CLONE_NEWPID) and a fork) that of one of its
 * children. A namespace unshared for children not made yet has no entry;
 * namespaces.c refuses it.
 */
static int collect_for_children(struct pstree_item *item)
{
	struct pstree_item *c;
	struct stat st;

	if (fstatat(item->proc_dfd, "ns/pid_for_children", &st, 0))
		return errno == ENOENT ? 0 : pr_fail_errno("can't stat /proc/%d/ns/pid_for_children", item->pid);
	if (st.st_ino == item->pidns_ino)
		return 0;
	list_for_each_entry(c, &item->children, sibling)
		if (c->pidns_ino == st.st_ino && c->state != TASK_DEAD) {
			item->pfc_vpid = c->vpid;
			pr_info("task %d makes its children in the pid namespace of its child %d\n", item->pid, c->pid);
			return 0;
		}
	return pr_fail(-EOPNOTSUPP,
		       "task %d makes its children in pid namespace [%llu], which none of its children is in: "
		       "that is not restored\n",
		       item->pid, (unsigned long long)st.st_ino);
}

static int collect_one(struct pstree_item *item, bool own, int level, const struct stat *mine)
{
	struct stat st;
	int ret;

	free(item->vtids);
	free(item->ns_tids);
	item->ns_tids = NULL;
	item->ns_depth = 0;
	item->vtids = xzalloc(item->nr_threads * sizeof(pid_t));
	if (!item->vtids)
		return -ENOMEM;
	if (fstatat(item->proc_dfd, "ns/pid", &st, 0))
		return pr_fail_errno("can't stat /proc/%d/ns/pid", item->pid);
	item->pidns_ino = st.st_ino;
	if (own || item->pidns_ino != mine->st_ino) {
		ret = fill_virtual(item, level);
		if (ret)
			return ret;
	} else {
		fill_same(item);
	}
	item->pid_ns_id = own ? PIDNS_ID_TREE : PIDNS_ID_CRIU;
	if (item->parent)
		return check_nested(item);
	return 0;
}

/* The column of criu's NSpid lines that is the tree's namespace: the root's last. */
static int tree_level(struct pstree_item *root, int *ret)
{
	struct proc_status st;
	int err = parse_pid_status(root->proc_dfd, &st);

	if (err)
		return pr_fail(err, "can't read /proc/%d/status: %s\n", root->pid, strerror(-err));
	*ret = st.ns_levels - 1;
	proc_status_free(&st);
	return *ret >= 0 ? 0 : pr_fail(-EINVAL, "/proc/%d/status: no NSpid line\n", root->pid);
}

int pidns_collect(struct pstree *t)
{
	struct pstree_item *item;
	struct stat mine, root_ns;
	int ret, level, nested = 0;
	bool own;

	if (!t->root || t->root->proc_dfd < 0)
		return pr_fail(-EINVAL, "no root task to look at\n");
	if (stat("/proc/self/ns/pid", &mine))
		return pr_fail_errno("can't stat /proc/self/ns/pid");
	if (fstatat(t->root->proc_dfd, "ns/pid", &root_ns, 0))
		return pr_fail_errno("can't stat /proc/%d/ns/pid", t->root->pid);
	own = !same_ns(&mine, &root_ns);
	t->ns_flags = own ? CLONE_NEWPID : 0;
	ret = tree_level(t->root, &level);
	if (ret)
		return ret;

	/* parents first: a child's namespace is checked against its parent's */
	for_each_pstree_item(t, item) {
		ret = collect_one(item, own, level, &mine);
		if (ret)
			return ret;
		nested += item->ns_depth > 0;
		if (own || item->ns_depth)
			pr_debug("task %d is %d in the tree's pid namespace (group %d, session %d), %d levels below\n",
				 item->pid, item->vpid, item->vpgid, item->vsid, item->ns_depth);
	}
	for_each_pstree_item(t, item) {
		ret = item->state == TASK_DEAD ? 0 : collect_for_children(item);
		if (ret)
			return ret;
	}
	if (own && t->root->vpid != 1)
		return pr_fail(-EOPNOTSUPP,
			       "the root task %d is in a pid namespace of its own but is not its init (it is %d "
			       "there): dump the namespace's init, pid 1, instead\n",
			       t->root->pid, t->root->vpid);
	if (own)
		pr_info("the tree has its own pid namespace: its init %d is the root\n", t->root->pid);
	if (nested)
		pr_info("%d tasks are in pid namespaces nested below the tree's\n", nested);
	return 0;
}

void pidns_assign_ids(struct pstree *t, uint32_t *next_id)
{
	struct pstree_item *item, *o;

	for_each_pstree_item(t, item) {
		if (!item->ns_depth)
			continue;
		if (item->parent && item->parent->pidns_ino == item->pidns_ino) {
			item->pid_ns_id = item->parent->pid_ns_id;
			continue;
		}
		item->pid_ns_id = 0;
		for_each_pstree_item(t, o) {
			if (o == item)
				break;
			if (o->ns_depth && o->pidns_ino == item->pidns_ino) {
				item->pid_ns_id = o->pid_ns_id;
				break;
			}
		}
		if (!item->pid_ns_id)
			item->pid_ns_id = (*next_id)++;
	}
}
