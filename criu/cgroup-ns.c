// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup namespaces (Documentation/cgroups.md, "cgroup namespaces").
 *
 * A task in a cgroup namespace of its own sees its cgroups relative to the
 * namespace's root: the cgroup it was in when the namespace was made. At
 * dump, criu reads the task's /proc/PID/cgroup twice: as criu sees it
 * (the whole path), and from inside the task's namespace (a helper that
 * setns()es into it), which gives the part below the root; the rest is the
 * root, kept as CRIU keeps it: cg_member_entry.cgns_prefix, the length of
 * the root's part of the path. Each namespace gets an id
 * (task_kobj_ids_entry.cgroup_ns_id) for the tasks in it.
 *
 * At restore, a stub whose namespace differs from its parent's joins the
 * roots, unshare()s a cgroup namespace there, then joins its cgroups
 * (cg_stub_join()); children share it by inheritance.
 *
 * This file is the cgroup kind's own part: namespaces.c has the kind in its
 * table (supported), cgroup-dump.c calls cgns_dump_task() for each task and
 * cgroup-restore.c cgns_stub_unshare() from the stub.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "cgroup-ns: "
#include "cgroup.h"
#include "common.h"
#include "log.h"

#define CGNS_VIEW_MAX (64 << 10)

static int ns_stat(int dfd, const char *path, struct stat *st)
{
	return fstatat(dfd, path, st, 0) ? -errno : 0;
}

/* /proc/PID/cgroup as read from inside the task's cgroup namespace (a forked helper setns()es into it). */
static int read_inner_view(struct pstree_item *item, char **ret)
{
	char *buf = xzalloc(CGNS_VIEW_MAX);
	int p[2], status;
	ssize_t n = 0, r;
	pid_t pid;

	if (!buf)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC)) {
		free(buf);
		return pr_fail_errno("pipe");
	}
	pid = fork();
	if (pid == 0) {
		/* no malloc in here: criu may be multi-threaded */
		int ns = openat(item->proc_dfd, "ns/cgroup", O_RDONLY | O_CLOEXEC), fd;
		char b[4096];
		ssize_t k;

		close(p[0]);
		if (ns < 0 || setns(ns, CLONE_NEWCGROUP))
			_exit(2);
		fd = openat(item->proc_dfd, "cgroup", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(3);
		while ((k = read(fd, b, sizeof(b))) > 0)
			if (write(p[1], b, k) != k)
				_exit(4);
		_exit(k < 0 ? 5 : 0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		free(buf);
		return pr_fail_errno("fork");
	}
	while (n < CGNS_VIEW_MAX - 1 && (r = read(p[0], buf + n, CGNS_VIEW_MAX - 1 - n)) > 0)
		n += r;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(buf);
		return pr_fail(-EIO, "can't read the cgroups of task %d from inside its cgroup namespace "
				     "(helper status %#x)\n", item->pid, status);
	}
	*ret = buf;
	return 0;
}

/* The namespace's root in each member: outer path = root + inner path. */
static int set_prefixes(struct pstree_item *item, struct cg_members *outer, const struct cg_members *inner)
{
	for (int i = 0; i < outer->nr; i++) {
		struct cg_member *o = &outer->m[i];
		const struct cg_member *in = cg_members_find(inner, o->name);
		size_t ol = strlen(o->path), il;

		if (!in)
			return pr_fail(-EINVAL, "task %d: no %s line in its own view of its cgroups\n", item->pid,
				       o->name[0] ? o->name : "cgroup2");
		il = strlen(in->path);
		if (!strncmp(in->path, "/..", 3))
			return pr_fail(-EOPNOTSUPP,
				       "task %d is in cgroup %s of the %s hierarchy, outside the root of its cgroup "
				       "namespace (it sees %s): not restored\n",
				       item->pid, o->path, o->name[0] ? o->name : "cgroup2", in->path);
		if (!strcmp(in->path, "/"))
			o->cgns_prefix = strcmp(o->path, "/") ? ol : 0;
		else if (il <= ol && !strcmp(o->path + ol - il, in->path))
			o->cgns_prefix = ol - il;
		else
			return pr_fail(-EINVAL, "task %d: cgroup %s seen as %s from its cgroup namespace\n", item->pid,
				       o->path, in->path);
	}
	return 0;
}

int cgns_dump_task(struct cgns_dump *c, struct pstree_item *item, struct cg_members *m)
{
	struct stat mine, its, th;
	_cleanup_free_ char *view = NULL;
	struct cg_members inner;
	int ret;

	ret = ns_stat(AT_FDCWD, "/proc/self/ns/cgroup", &mine);
	if (!ret)
		ret = ns_stat(item->proc_dfd, "ns/cgroup", &its);
	if (ret == -ENOENT)
		return 0;	/* no cgroup namespaces in this kernel */
	if (ret)
		return pr_fail(ret, "can't stat the cgroup namespace of %d: %s\n", item->pid, strerror(-ret));
	for (int i = 1; i < item->nr_threads; i++) {
		char path[64];

		snprintf(path, sizeof(path), "task/%d/ns/cgroup", item->threads[i]);
		ret = ns_stat(item->proc_dfd, path, &th);
		if (!ret && (th.st_ino != its.st_ino || th.st_dev != its.st_dev))
			return pr_fail(-EOPNOTSUPP, "thread %d of task %d is in another cgroup namespace than its "
						    "leader: not restored\n", item->threads[i], item->pid);
	}
	if (its.st_ino == mine.st_ino && its.st_dev == mine.st_dev)
		return 0;
	ret = read_inner_view(item, &view);
	if (!ret)
		ret = cg_parse_members(view, &inner);
	if (ret)
		return ret;
	ret = set_prefixes(item, m, &inner);
	cg_members_free(&inner);
	if (ret)
		return ret;
	/* the namespace's id: one per inode, from 1 */
	for (int i = 0; i < c->nr; i++)
		if (c->inos[i] == its.st_ino) {
			item->cgns_id = i + 1;
			return 0;
		}
	if (c->nr == (int)ARRAY_SIZE(c->inos))
		return pr_fail(-E2BIG, "more than %zu cgroup namespaces in the tree\n", ARRAY_SIZE(c->inos));
	c->inos[c->nr++] = its.st_ino;
	item->cgns_id = c->nr;
	pr_info("task %d is in cgroup namespace %u ([%lu])\n", item->pid, item->cgns_id, (unsigned long)its.st_ino);
	return 0;
}

/* ------------------------------------------------------ restore */

bool cgns_needs_unshare(struct pstree_item *item)
{
	return item->cgns_id && item->cgns_id != (item->parent ? item->parent->cgns_id : 0);
}

int cgns_stub_unshare(struct pstree_item *me, char **root_procs, int nr, int proc_fd, pid_t ctl_pid)
{
	for (int i = 0; i < nr; i++) {
		_cleanup_close_ int fd = -1;

		if (!root_procs[i][0])
			continue;	/* a hierarchy mounted nowhere: the task is where criu is */
		fd = cg_open_criu_path(proc_fd, ctl_pid, root_procs[i]);
		if (fd < 0 || write(fd, "0", 1) != 1)
			return pr_fail_errno("task %d can't join the root of its cgroup namespace %s", me->pid,
					     root_procs[i]);
	}
	if (unshare(CLONE_NEWCGROUP))
		return pr_fail_errno("task %d can't make its cgroup namespace", me->pid);
	return 0;
}
