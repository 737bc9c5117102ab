// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces other than the pid namespace, dump side (namespaces.h,
 * Documentation/namespaces.md): the table of kinds, the ids of every task's
 * namespaces, the refusals, and the dump of each namespace's contents.
 *
 * A namespace is named by the inode (and device) of its /proc/PID/ns/ entry.
 * criu's own namespaces are read once, through one directory fd on
 * /proc/self/ns; each thread's through its task's /proc directory fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "ns: "
#include "common.h"
#include "log.h"
#include "namespaces.h"
#include "pidns.h"
#include "pstree.h"
#include "userns.h"

#include "core.pb-c.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const struct ns_desc ns_kinds[NS_KIND_NR] = {
	[NS_MNT] = { "mnt", "its mount tree", CLONE_NEWNS, true, .elsewhere = true },	/* mount.c, mount-restore.c */
	[NS_UTS] = { "uts", "its hostname and domain name", CLONE_NEWUTS, true,
		     .dump = uts_ns_dump, .read = uts_ns_read, .restore = uts_ns_restore, .free = uts_ns_free },
	[NS_IPC] = { "ipc", "its SysV IPC objects and POSIX message queues", CLONE_NEWIPC, true,
		     .dump = ipc_ns_dump, .read = ipc_ns_read, .restore = ipc_ns_restore, .free = ipc_ns_free },
	[NS_NET] = { "net", "its network devices, addresses, routes and sockets' network", CLONE_NEWNET, true,
		     .check_task = net_ns_check_task, .dump = net_ns_dump, .read = net_ns_read,
		     .restore = net_ns_restore, .free = net_ns_free },
	[NS_CGROUP] = { "cgroup", "its cgroup root", CLONE_NEWCGROUP, true, .elsewhere = true },	/* cgroup-ns.c */
	[NS_TIME] = { "time", "its clock offsets", CLONE_NEWTIME, true,
		      .dump = time_ns_dump, .read = time_ns_read, .restore = time_ns_restore, .free = time_ns_free },
	[NS_USER] = { "user", "its uid/gid mappings and the capabilities they give", CLONE_NEWUSER, true,
		      .check_task = userns_check_task, .dump = userns_dump },	/* userns.c */
};

/* ------------------------------------------------------ ids in TaskKobjIdsEntry */

struct ids_field {
	size_t has;
	size_t val;
};

#define IDS_FIELD(f) { offsetof(TaskKobjIdsEntry, has_##f), offsetof(TaskKobjIdsEntry, f) }

static const struct ids_field ids_fields[NS_KIND_NR] = {
	[NS_MNT] = IDS_FIELD(mnt_ns_id),
	[NS_UTS] = IDS_FIELD(uts_ns_id),
	[NS_IPC] = IDS_FIELD(ipc_ns_id),
	[NS_NET] = IDS_FIELD(net_ns_id),
	[NS_CGROUP] = IDS_FIELD(cgroup_ns_id),
	[NS_TIME] = IDS_FIELD(time_ns_id),
	[NS_USER] = IDS_FIELD(user_ns_id),
};

void ns_ids_set(TaskKobjIdsEntry *ids, enum ns_kind k, uint32_t id)
{
	*(protobuf_c_boolean *)((char *)ids + ids_fields[k].has) = true;
	*(uint32_t *)((char *)ids + ids_fields[k].val) = id;
}

uint32_t ns_ids_get(const TaskKobjIdsEntry *ids, enum ns_kind k)
{
	if (!ids || !*(const protobuf_c_boolean *)((const char *)ids + ids_fields[k].has))
		return 0;
	return *(const uint32_t *)((const char *)ids + ids_fields[k].val);
}

void ns_ids_fill(TaskKobjIdsEntry *ids, const uint32_t *ns_id)
{
	for (int k = 0; k < NS_KIND_NR; k++)
		if (ns_id[k] && !ns_kinds[k].elsewhere)
			ns_ids_set(ids, k, ns_id[k]);
}

/* ------------------------------------------------------ the namespaces seen */

static bool same_ns(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

static struct ns_seen *ns_find(struct ns_set *set, enum ns_kind k, const struct stat *st)
{
	for (int i = 0; i < set->nr; i++)
		if (set->v[i].kind == k && set->v[i].ino == st->st_ino && set->v[i].dev == st->st_dev)
			return &set->v[i];
	return NULL;
}

static struct ns_seen *ns_add(struct ns_set *set, enum ns_kind k, const struct stat *st, struct pstree_item *owner)
{
	struct ns_seen *v = realloc(set->v, (set->nr + 1) * sizeof(*v));

	if (!v)
		return NULL;
	set->v = v;
	v = &set->v[set->nr++];
	*v = (struct ns_seen){ .kind = k, .dev = st->st_dev, .ino = st->st_ino, .id = set->next_id++, .owner = owner };
	return v;
}

void ns_set_free(struct ns_set *set)
{
	free(set->v);
	set->v = NULL;
	set->nr = 0;
}

/* Stat one entry of a /proc/.../ns directory; a kind the kernel lacks gives -ENOENT. */
static int ns_stat(int ns_dfd, const char *entry, struct stat *st)
{
	if (fstatat(ns_dfd, entry, st, 0))
		return -errno;
	return 0;
}

int ns_task_in_own(const struct pstree_item *item, enum ns_kind k)
{
	struct stat mine, its;
	char path[32];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_kinds[k].name);
	if (stat(path, &mine))
		return -errno;
	snprintf(path, sizeof(path), "ns/%s", ns_kinds[k].name);
	if (fstatat(item->proc_dfd, path, &its, 0))
		return -errno;
	return !same_ns(&mine, &its);
}

/* criu's own namespaces get the first ids, after the pid namespaces' (pidns.h) */
static int collect_criu(struct ns_set *set, int self_dfd, struct stat *mine)
{
	set->next_id = PIDNS_ID_TREE + 1;
	for (int k = 0; k < NS_KIND_NR; k++) {
		int ret = ns_stat(self_dfd, ns_kinds[k].name, &mine[k]);

		if (ret == -ENOENT) {
			mine[k].st_ino = 0;	/* the kernel has no such namespace */
			continue;
		}
		if (ret)
			return pr_fail(ret, "can't stat /proc/self/ns/%s: %s\n", ns_kinds[k].name, strerror(-ret));
		if (!ns_add(set, k, &mine[k], NULL))
			return -ENOMEM;
		set->criu_id[k] = set->v[set->nr - 1].id;
	}
	return 0;
}

/* ------------------------------------------------------ the checks and ids */

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

/*
 * One kind of one thread: the leader (idx 0) gets its namespace's id, a
 * new one for a namespace not seen before; another thread must be in its
 * leader's (restore makes threads in their leader's namespaces).
 */
static int collect_kind(struct ns_set *set, int ns_dfd, const struct stat *mine, enum ns_kind k,
			struct pstree_item *item, int idx, struct stat *leader)
{
	const struct ns_desc *d = &ns_kinds[k];
	pid_t tid = item->threads[idx];
	struct ns_seen *ns;
	struct stat its;
	int ret;

	if (!mine->st_ino)
		return 0;	/* the kernel has no such namespace */
	ret = ns_stat(ns_dfd, d->name, &its);
	if (ret)
		return pr_fail(ret, "can't stat /proc/%d/task/%d/ns/%s: %s\n", item->pid, tid, d->name,
			       strerror(-ret));
	if (idx && !same_ns(&its, leader))
		return pr_fail(-EOPNOTSUPP,
			       "task %d (thread %d) is in its own %s namespace (%s:[%lu]), not its thread group "
			       "leader's ([%lu]): threads are restored in their leader's namespaces, it would lose %s\n",
			       item->pid, tid, d->name, d->name, (unsigned long)its.st_ino,
			       (unsigned long)leader->st_ino, d->what);
	if (idx)
		return 0;
	*leader = its;
	if (!same_ns(mine, &its) && !d->supported)
		return pr_fail(-EOPNOTSUPP,
			       "task %d (thread %d) is in its own %s namespace (%s:[%lu], criu's is %s:[%lu]): %s "
			       "namespaces are not dumped yet, a restore would put the task in criu's and lose %s\n",
			       item->pid, tid, d->name, d->name, (unsigned long)its.st_ino, d->name,
			       (unsigned long)mine->st_ino, d->name, d->what);
	ns = ns_find(set, k, &its) ?: ns_add(set, k, &its, item);
	if (!ns)
		return -ENOMEM;
	item->ns_id[k] = ns->id;
	if (ns->owner && d->check_task)
		return d->check_task(item);
	return 0;
}

static int collect_thread(struct ns_set *set, int self_dfd, const struct stat *mine, struct pstree_item *item,
			  int idx, struct stat *leader)
{
	_cleanup_close_ int ns_dfd = -1;
	pid_t tid = item->threads[idx];
	char path[48];
	int ret;

	snprintf(path, sizeof(path), "task/%d/ns", tid);
	ns_dfd = openat(item->proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ns_dfd < 0)
		return pr_fail_errno("can't open /proc/%d/%s", item->pid, path);
	for (int k = 0; k < NS_KIND_NR; k++) {
		ret = collect_kind(set, ns_dfd, &mine[k], k, item, idx, &leader[k]);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(for_children); i++) {
		/* a pid_for_children that is a child's namespace is restored (pidns.c) */
		if (!idx && item->pfc_vpid && !strcmp(for_children[i].own, "pid"))
			continue;
		ret = check_for_children(ns_dfd, self_dfd, &for_children[i], item->pid, tid);
		if (ret)
			return ret;
	}
	return 0;
}

/* One user namespace besides criu's at most (userns.c restores one). */
static int check_one_userns(const struct ns_set *set)
{
	const struct ns_seen *first = NULL;

	for (int i = 0; i < set->nr; i++) {
		if (set->v[i].kind != NS_USER || !set->v[i].owner)
			continue;
		if (first)
			return pr_fail(-EOPNOTSUPP,
				       "tasks %d and %d are in two user namespaces other than criu's (user:[%lu] and "
				       "user:[%lu]): only one user namespace besides criu's is restored\n",
				       first->owner->pid, set->v[i].owner->pid, (unsigned long)first->ino,
				       (unsigned long)set->v[i].ino);
		first = &set->v[i];
	}
	return 0;
}

int ns_collect_tree(struct pstree *t, struct ns_set *set)
{
	_cleanup_close_ int self_dfd = -1;
	struct stat mine[NS_KIND_NR], leader[NS_KIND_NR];
	struct pstree_item *item;
	int ret;

	self_dfd = open("/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (self_dfd < 0)
		return pr_fail_errno("can't open /proc/self/ns");
	ret = collect_criu(set, self_dfd, mine);
	if (ret)
		return ret;
	/* parents before children: a zombie takes its parent's ids */
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD) {
			memcpy(item->ns_id, item->parent ? item->parent->ns_id : set->criu_id, sizeof(item->ns_id));
			continue;
		}
		for (int i = 0; i < item->nr_threads; i++) {
			ret = collect_thread(set, self_dfd, mine, item, i, leader);
			if (ret)
				return ret;
		}
		ret = userns_check_owners(item);
		if (ret)
			return ret;
	}
	ret = check_one_userns(set);
	if (ret)
		return ret;
	/* after every other namespace: the ids of pid namespaces nested below the tree's */
	pidns_assign_ids(t, &set->next_id);
	return 0;
}

int ns_id_of_fd(struct pstree *t, enum ns_kind k, int ns_fd, uint32_t *ret_id)
{
	struct pstree_item *item;
	struct stat want, its;
	char path[16];

	if (fstat(ns_fd, &want))
		return -errno;
	snprintf(path, sizeof(path), "ns/%s", ns_kinds[k].name);
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD || item->proc_dfd < 0 || !item->ns_id[k])
			continue;
		if (!fstatat(item->proc_dfd, path, &its, 0) && same_ns(&want, &its)) {
			*ret_id = item->ns_id[k];
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------ the contents */

/* In a forked helper: join the namespace through its first task's ns file and run the kind's dump. */
static int __attribute__((noreturn)) dump_in_ns(int img_dfd, const struct ns_seen *ns)
{
	const struct ns_desc *d = &ns_kinds[ns->kind];
	char path[16];
	int fd, ret;

	snprintf(path, sizeof(path), "ns/%s", d->name);
	fd = openat(ns->owner->proc_dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, d->clone_flag)) {
		ret = pr_fail_errno("can't join the %s namespace [%lu] of task %d", d->name, (unsigned long)ns->ino,
				    ns->owner->pid);
		_exit(-ret & 0xff ?: EIO);
	}
	close(fd);
	ret = d->dump(img_dfd, ns->id);
	/* the error is logged: its errno is the exit code */
	_exit(ret ? (-ret & 0xff ?: EIO) : 0);
}

static int dump_one_ns(int img_dfd, const struct ns_seen *ns)
{
	const struct ns_desc *d = &ns_kinds[ns->kind];
	int status;
	pid_t pid;

	pr_info("dumping the %s namespace [%lu] (id %u) of task %d\n", d->name, (unsigned long)ns->ino, ns->id,
		ns->owner->pid);
	pid = fork();
	if (pid < 0)
		return pr_fail_errno("can't fork to dump the %s namespace of task %d", d->name, ns->owner->pid);
	if (pid == 0)
		dump_in_ns(img_dfd, ns);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pr_fail_errno("can't wait for the helper dumping a %s namespace", d->name);
	if (WIFEXITED(status)) {
		/* the helper logged why */
		if (WEXITSTATUS(status))
			pr_info("the %s namespace [%lu] was not dumped\n", d->name, (unsigned long)ns->ino);
		return -WEXITSTATUS(status);
	}
	return pr_fail(-EIO, "the helper dumping the %s namespace [%lu] of task %d was killed by signal %d\n",
		       d->name, (unsigned long)ns->ino, ns->owner->pid, WTERMSIG(status));
}

int ns_dump_contents(int img_dfd, struct ns_set *set)
{
	for (int i = 0; i < set->nr; i++) {
		const struct ns_seen *ns = &set->v[i];
		int ret;

		if (!ns->owner || !ns_kinds[ns->kind].dump)
			continue;
		ret = dump_one_ns(img_dfd, ns);
		if (ret)
			return ret;
	}
	return 0;
}
