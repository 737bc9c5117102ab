// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces other than the pid namespace: the table of kinds and the dump
 * check that refuses what restore would silently drop.
 *
 * A namespace is named by the inode (and device) of its /proc/PID/ns/ entry.
 * criu's own namespaces are read once, through one directory fd on
 * /proc/self/ns; each thread's through its task's /proc directory fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "ns: "
#include "common.h"
#include "log.h"
#include "namespaces.h"
#include "pstree.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const struct ns_desc ns_kinds[] = {
	{ "mnt", "its mount tree", CLONE_NEWNS, false },
	{ "uts", "its hostname and domain name", CLONE_NEWUTS, false },
	{ "ipc", "its SysV IPC objects and POSIX message queues", CLONE_NEWIPC, false },
	{ "net", "its network devices, addresses, routes and sockets' network", CLONE_NEWNET, false },
	{ "cgroup", "its cgroup root", CLONE_NEWCGROUP, true },	/* cgroup-ns.c */
	{ "time", "its clock offsets", CLONE_NEWTIME, false },
	{ "user", "its uid/gid mappings and the capabilities they give", CLONE_NEWUSER, false },
	{ NULL, NULL, 0, false },
};

/*
 * "Unshared for the children": the namespace a task's next children will
 * be made in. It equals the task's own unless it called unshare() (or
 * setns()) for that kind and has not forked since; restore would lose that.
 */
struct ns_for_children {
	const char *entry;
	const char *own;
};

static const struct ns_for_children for_children[] = {
	{ "pid_for_children", "pid" },
	{ "time_for_children", "time" },
};

static bool same_ns(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* Stat one entry of a /proc/.../ns directory; a kind the kernel lacks gives -ENOENT. */
static int ns_stat(int ns_dfd, const char *entry, struct stat *st)
{
	if (fstatat(ns_dfd, entry, st, 0))
		return -errno;
	return 0;
}

static int check_kind(int ns_dfd, int self_dfd, const struct ns_desc *d, pid_t pid, pid_t tid)
{
	struct stat mine, its;
	int ret;

	ret = ns_stat(self_dfd, d->name, &mine);
	if (ret == -ENOENT)
		return 0;	/* the kernel has no such namespace */
	if (ret)
		return pr_fail(ret, "can't stat /proc/self/ns/%s: %s\n", d->name, strerror(-ret));
	ret = ns_stat(ns_dfd, d->name, &its);
	if (ret)
		return pr_fail(ret, "can't stat /proc/%d/task/%d/ns/%s: %s\n", pid, tid, d->name, strerror(-ret));
	if (same_ns(&mine, &its) || d->supported)
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "task %d (thread %d) is in its own %s namespace (%s:[%lu], criu's is %s:[%lu]): %s "
		       "namespaces are not dumped yet, a restore would put the task in criu's and lose %s\n",
		       pid, tid, d->name, d->name, (unsigned long)its.st_ino, d->name, (unsigned long)mine.st_ino,
		       d->name, d->what);
}

static int check_for_children(int ns_dfd, int self_dfd, const struct ns_for_children *c, pid_t pid, pid_t tid)
{
	struct stat own, next;
	int ret;

	ret = ns_stat(ns_dfd, c->entry, &next);
	if (ret == -ENOENT && ns_stat(self_dfd, c->entry, &next) == 0)
		/* the kernel hides a pid namespace unshared for children until its first child exists */
		return pr_fail(-EOPNOTSUPP,
			       "task %d (thread %d) has unshared a %s namespace for the children it has not made "
			       "yet (its %s is not there yet): that is not restored, the children would be made in "
			       "its own\n",
			       pid, tid, c->own, c->entry);
	if (ret == -ENOENT)
		return 0;	/* the kernel has no such entry */
	if (!ret)
		ret = ns_stat(ns_dfd, c->own, &own);
	if (ret)
		return pr_fail(ret, "can't stat /proc/%d/task/%d/ns/%s: %s\n", pid, tid, c->entry, strerror(-ret));
	if (same_ns(&own, &next))
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "task %d (thread %d) has unshared a %s namespace for the children it has not made yet "
		       "(%s:[%lu], its own is [%lu]): that is not restored, the children would be made in its "
		       "own\n",
		       pid, tid, c->own, c->entry, (unsigned long)next.st_ino, (unsigned long)own.st_ino);
}

static int check_thread(struct pstree_item *item, int idx, int self_dfd)
{
	_cleanup_close_ int ns_dfd = -1;
	pid_t tid = item->threads[idx];
	char path[48];
	int ret;

	snprintf(path, sizeof(path), "task/%d/ns", tid);
	ns_dfd = openat(item->proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ns_dfd < 0)
		return pr_fail_errno("can't open /proc/%d/%s", item->pid, path);
	for (const struct ns_desc *d = ns_kinds; d->name; d++) {
		ret = check_kind(ns_dfd, self_dfd, d, item->pid, tid);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(for_children); i++) {
		ret = check_for_children(ns_dfd, self_dfd, &for_children[i], item->pid, tid);
		if (ret)
			return ret;
	}
	return 0;
}

int ns_check_tree(struct pstree *t)
{
	_cleanup_close_ int self_dfd = -1;
	struct pstree_item *item;
	int ret;

	self_dfd = open("/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (self_dfd < 0)
		return pr_fail_errno("can't open /proc/self/ns");
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD)
			continue;
		for (int i = 0; i < item->nr_threads; i++) {
			ret = check_thread(item, i, self_dfd);
			if (ret)
				return ret;
		}
	}
	return 0;
}
