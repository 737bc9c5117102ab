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

/* Ids as seen in the tree's namespace: status of the task, then of each other thread. */
static int fill_virtual(struct pstree_item *item)
{
	struct proc_status st;
	int ret;

	ret = parse_pid_status(item->proc_dfd, &st);
	if (ret)
		return pr_fail(ret, "can't read /proc/%d/status: %s\n", item->pid, strerror(-ret));
	ret = pidns_innermost(&st, &item->vpid, &item->vpgid, &item->vsid);
	proc_status_free(&st);
	if (ret || item->vpid <= 0)
		return pr_fail(-EINVAL, "/proc/%d/status: no usable NSpid line\n", item->pid);
	item->vtids[0] = item->vpid;

	for (int i = 1; i < item->nr_threads; i++) {
		_cleanup_close_ int dfd = -1;
		char path[32];

		snprintf(path, sizeof(path), "task/%d", item->threads[i]);
		dfd = openat(item->proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ret = dfd < 0 ? -errno : parse_pid_status(dfd, &st);
		if (ret)
			return pr_fail(ret, "can't read /proc/%d/task/%d/status: %s\n", item->pid, item->threads[i],
				       strerror(-ret));
		ret = pidns_innermost(&st, &item->vtids[i], NULL, NULL);
		proc_status_free(&st);
		if (ret || item->vtids[i] <= 0)
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

/* The pid namespace of one task must be the root's. */
static int check_task_ns(struct pstree_item *item, const struct stat *root_ns, bool own)
{
	struct stat st;

	if (fstatat(item->proc_dfd, "ns/pid", &st, 0))
		return pr_fail_errno("can't stat /proc/%d/ns/pid", item->pid);
	if (same_ns(&st, root_ns))
		return 0;
	if (own)
		return pr_fail(-EOPNOTSUPP,
			       "task %d is in a pid namespace nested in the tree's own one: nested pid namespaces "
			       "are not supported\n",
			       item->pid);
	return pr_fail(-EOPNOTSUPP,
		       "task %d is in a pid namespace of its own, below the root's (criu's): nested pid "
		       "namespaces are not supported (dump that namespace's init on its own)\n",
		       item->pid);
}

int pidns_collect(struct pstree *t)
{
	struct pstree_item *item;
	struct stat mine, root_ns;
	bool own;
	int ret;

	if (!t->root || t->root->proc_dfd < 0)
		return pr_fail(-EINVAL, "no root task to look at\n");
	if (stat("/proc/self/ns/pid", &mine))
		return pr_fail_errno("can't stat /proc/self/ns/pid");
	if (fstatat(t->root->proc_dfd, "ns/pid", &root_ns, 0))
		return pr_fail_errno("can't stat /proc/%d/ns/pid", t->root->pid);
	own = !same_ns(&mine, &root_ns);
	t->ns_flags = own ? CLONE_NEWPID : 0;

	for_each_pstree_item(t, item) {
		ret = check_task_ns(item, &root_ns, own);
		if (ret)
			return ret;
		free(item->vtids);
		item->vtids = xzalloc(item->nr_threads * sizeof(pid_t));
		if (!item->vtids)
			return -ENOMEM;
		if (own) {
			ret = fill_virtual(item);
			if (ret)
				return ret;
		} else {
			fill_same(item);
		}
		item->pid_ns_id = own ? PIDNS_ID_TREE : PIDNS_ID_CRIU;
		if (own)
			pr_debug("task %d is %d in the tree's pid namespace (group %d, session %d)\n", item->pid,
				 item->vpid, item->vpgid, item->vsid);
	}
	if (own && t->root->vpid != 1)
		return pr_fail(-EOPNOTSUPP,
			       "the root task %d is in a pid namespace of its own but is not its init (it is %d "
			       "there): dump the namespace's init, pid 1, instead\n",
			       t->root->pid, t->root->vpid);
	if (own)
		pr_info("the tree has its own pid namespace: its init %d is the root\n", t->root->pid);
	return 0;
}
