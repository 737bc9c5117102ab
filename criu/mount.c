// SPDX-License-Identifier: GPL-2.0
/*
 * The mount namespace on the dump side (Documentation/mounts.md): read the
 * tree's mounts from /proc/PID/mountinfo, refuse what restore can't build
 * (naming the mount), write mountpoints-ID.img and each tmpfs's files.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "mnt: "
#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "image.h"
#include "log.h"
#include "mount.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"

#include "mnt.pb-c.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

/* The filesystems restore makes again from nothing (their contents are the kernel's, or tmpfs's image). */
static const struct {
	const char *name;
	int fstype;
} fresh_fs[] = {
	{ "proc", FSTYPE__PROC },	{ "sysfs", FSTYPE__SYSFS },   { "devtmpfs", FSTYPE__DEVTMPFS },
	{ "tmpfs", FSTYPE__TMPFS },	{ "devpts", FSTYPE__DEVPTS }, { "mqueue", FSTYPE__MQUEUE },
	{ "cgroup", FSTYPE__CGROUP }, { "cgroup2", FSTYPE__CGROUP2 },
};

const char *fstype_name(int fstype)
{
	for (size_t i = 0; i < ARRAY_SIZE(fresh_fs); i++)
		if (fresh_fs[i].fstype == fstype)
			return fresh_fs[i].name;
	return NULL;
}

static int fstype_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fresh_fs); i++)
		if (!strcmp(fresh_fs[i].name, name))
			return fresh_fs[i].fstype;
	return FSTYPE__UNSUPPORTED;
}

/* ------------------------------------------------------ options */

static const struct {
	const char *opt;
	unsigned int flag;
} mnt_flags[] = {
	{ "ro", MS_RDONLY },	     { "nosuid", MS_NOSUID },	    { "nodev", MS_NODEV },
	{ "noexec", MS_NOEXEC },     { "noatime", MS_NOATIME },	    { "nodiratime", MS_NODIRATIME },
	{ "relatime", MS_RELATIME }, { "nosymfollow", MS_NOSYMFOLLOW },
}, sb_flags[] = {
	{ "ro", MS_RDONLY },	    { "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC },
	{ "mand", MS_MANDLOCK },    { "lazytime", MS_LAZYTIME },
};

static int parse_mnt_flags(const char *opts, uint32_t *ret)
{
	_cleanup_free_ char *s = xstrdup(opts);
	char *save = NULL, *o;

	if (!s)
		return -ENOMEM;
	*ret = 0;
	for (o = strtok_r(s, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < ARRAY_SIZE(mnt_flags); i++)
			if (!strcmp(o, mnt_flags[i].opt))
				*ret |= mnt_flags[i].flag;
	}
	return 0;
}

/* The superblock's flags into *ret_flags, its other options (but "rw") into *ret_opts. */
static int parse_sb_opts(const char *opts, uint32_t *ret_flags, char **ret_opts)
{
	_cleanup_free_ char *s = xstrdup(opts);
	char *out = xzalloc(strlen(opts) + 1), *save = NULL, *o;

	if (!s || !out) {
		free(out);
		return -ENOMEM;
	}
	*ret_flags = 0;
	for (o = strtok_r(s, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool flag = false;

		for (size_t i = 0; i < ARRAY_SIZE(sb_flags); i++)
			if (!strcmp(o, sb_flags[i].opt)) {
				*ret_flags |= sb_flags[i].flag;
				flag = true;
			}
		if (flag || !strcmp(o, "rw"))
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, o);
	}
	*ret_opts = out;
	return 0;
}

/* ------------------------------------------------------ collect */

void mntns_free(struct mnt_ns *ns)
{
	while (ns) {
		struct mnt_ns *next = ns->next;

		for (int i = 0; i < ns->nr; i++)
			free(ns->m[i].options);
		free(ns->m);
		free(ns->buf);
		free(ns->sock_files);
		free(ns);
		ns = next;
	}
}

struct mnt_ns *mntns_of(const struct pstree *t, const struct pstree_item *item)
{
	if (!t)
		return NULL;
	if (!item)
		return t->mntns;
	for (struct mnt_ns *ns = t->mntns_list; ns; ns = ns->next)
		if (ns->id == item->mnt_ns_id)
			return ns;
	return NULL;
}

int mntns_note_socket_file(struct pstree *t, const struct stat *st)
{
	/* kept with the first namespace: a tmpfs may be in several */
	struct mnt_ns *ns = t ? t->mntns_list : NULL;
	struct file_key *n;

	if (!ns || mntns_socket_file_bound(ns, st))
		return 0;
	n = xrealloc(ns->sock_files, (ns->nr_sock_files + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ns->sock_files = n;
	ns->sock_files[ns->nr_sock_files++] = (struct file_key){ .dev = st->st_dev, .ino = st->st_ino };
	return 0;
}

bool mntns_socket_file_bound(const struct mnt_ns *ns, const struct stat *st)
{
	for (int i = 0; ns && i < ns->nr_sock_files; i++)
		if (ns->sock_files[i].dev == st->st_dev && ns->sock_files[i].ino == st->st_ino)
			return true;
	return false;
}

static int find_mnt(const struct mnt_ns *ns, uint32_t mnt_id)
{
	for (int i = 0; i < ns->nr; i++)
		if (ns->m[i].mnt_id == mnt_id)
			return i;
	return -1;
}

/* Mount mnt_id in any namespace of the tree's (mount ids are the system's, unique): its index, -1. */
static int find_mnt_any(const struct mnt_ns *list, uint32_t mnt_id, const struct mnt_ns **ret_ns)
{
	for (const struct mnt_ns *ns = list; ns; ns = ns->next) {
		int i = find_mnt(ns, mnt_id);

		if (i >= 0) {
			*ret_ns = ns;
			return i;
		}
	}
	return -1;
}

/* --external mnt[MOUNTPOINT]:KEY (and --ext-mount-map MOUNTPOINT:KEY) at dump */
static char *ext_key_of(const char *mountpoint)
{
	for (int i = 0; i < opts.nr_ext_mnts; i++)
		if (!strcmp(opts.ext_mnts[i].key, mountpoint))
			return opts.ext_mnts[i].val;
	return NULL;
}

/* ext: the keys of --external name mountpoints of the root task's namespace only */
static int fill_mnt(struct mnt_info *mi, const struct proc_mount *pm, bool ext)
{
	int ret;

	memset(mi, 0, sizeof(*mi));
	mi->mnt_id = pm->mnt_id;
	mi->parent_id = pm->parent_id;
	mi->s_dev = (pm->major << 20) | pm->minor;
	mi->root = pm->root;
	mi->mountpoint = pm->mountpoint;
	mi->fsname = pm->fstype;
	mi->source = pm->source;
	mi->shared_id = pm->shared_id;
	mi->master_id = pm->master_id;
	mi->unbindable = pm->unbindable;
	mi->fstype = fstype_of(pm->fstype);
	mi->ext_key = ext ? ext_key_of(pm->mountpoint) : NULL;
	ret = parse_mnt_flags(pm->mnt_opts, &mi->flags);
	if (!ret)
		ret = parse_sb_opts(pm->sb_opts, &mi->sb_flags, &mi->options);
	return ret;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * The mount of m's superblock with the shortest root, in any namespace of
 * the tree's: the one a tmpfs image is made from, and the one restore makes
 * the superblock for (the others are bound from it).
 */
static void sb_base(const struct mnt_ns *list, const struct mnt_info *m, const struct mnt_ns **ret_ns, int *ret_idx)
{
	const struct mnt_info *best = NULL;

	for (const struct mnt_ns *ns = list; ns; ns = ns->next)
		for (int i = 0; i < ns->nr; i++)
			if (ns->m[i].s_dev == m->s_dev && (!best || strlen(ns->m[i].root) < strlen(best->root))) {
				best = &ns->m[i];
				*ret_ns = ns;
				*ret_idx = i;
			}
}

static bool has_children(const struct mnt_ns *ns, int idx)
{
	for (int i = 0; i < ns->nr; i++)
		if (ns->m[i].parent == idx)
			return true;
	return false;
}

static bool overmounted_at_root(const struct mnt_ns *ns, int idx)
{
	for (int i = 0; i < ns->nr; i++)
		if (ns->m[i].parent == idx && !strcmp(ns->m[i].mountpoint, ns->m[idx].mountpoint))
			return true;
	return false;
}

/* a peer group with a mount in a namespace of the tree's */
static bool group_in_tree(const struct mnt_ns *list, uint32_t group)
{
	for (const struct mnt_ns *ns = list; ns; ns = ns->next)
		for (int i = 0; i < ns->nr; i++)
			if (ns->m[i].shared_id == group)
				return true;
	return false;
}

/* An external mount of the tree (any namespace) that m is a bind of: restore binds m from it. */
static bool bind_of_external(const struct mnt_ns *list, const struct mnt_info *m)
{
	for (const struct mnt_ns *ns = list; ns; ns = ns->next)
		for (int i = 0; i < ns->nr; i++)
			if (ns->m[i].ext_key && ns->m[i].s_dev == m->s_dev && path_under(m->root, ns->m[i].root))
				return true;
	return false;
}

/*
 * A slave of a peer group outside the namespace (a container's root made
 * rslave of the host's) is restored only where the source comes from
 * outside too: the root mount and external mounts become slaves of their
 * source's group (restore checks it is that group), binds of the root's
 * filesystem with the root's master are cloned from the root mount.
 */
static int check_master(const struct mnt_ns *list, const struct mnt_ns *ns, int idx)
{
	const struct mnt_info *m = &ns->m[idx], *root = &ns->m[ns->root];
	bool outside = idx == ns->root || m->ext_key;

	if (!m->master_id)
		return 0;
	if (group_in_tree(list, m->master_id)) {
		if (!outside)
			return 0;
		return pr_fail(-EOPNOTSUPP,
			       "mount %u at %s comes from outside the namespace (%s) and is a slave of peer group "
			       "%u of the namespace: not supported\n",
			       m->mnt_id, m->mountpoint, m->ext_key ? "external" : "the root", m->master_id);
	}
	if (outside)
		return 0;
	if (m->fstype == FSTYPE__UNSUPPORTED && m->s_dev == root->s_dev && path_under(m->root, root->root) &&
	    m->master_id == root->master_id)
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "mount %u at %s is a slave of peer group %u, which has no mount in the tree's mount namespace "
		       "(only the root mount, external mounts and binds of the root's filesystem with the root's "
		       "master can have one)\n",
		       m->mnt_id, m->mountpoint, m->master_id);
}

/* What restore can't build is refused here, naming the mount. */
static int check_mnt(const struct mnt_ns *list, struct mnt_ns *ns, int idx)
{
	struct mnt_info *m = &ns->m[idx], *root = &ns->m[ns->root];
	const struct mnt_ns *bns = ns;
	const struct mnt_info *base;
	int bidx = idx, ret;

	if (strstr(m->root, "//deleted"))
		return pr_fail(-EOPNOTSUPP, "mount %u at %s: its root %s was deleted\n", m->mnt_id, m->mountpoint,
			       m->root);
	ret = check_master(list, ns, idx);
	if (ret || idx == ns->root || m->ext_key)
		return ret;
	if (m->fstype == FSTYPE__UNSUPPORTED) {
		if (m->s_dev == root->s_dev && path_under(m->root, root->root))
			return 0;	/* a bind of the root's filesystem */
		if (bind_of_external(list, m))
			return 0;	/* a copy of an external mount in another namespace */
		return pr_fail(-EOPNOTSUPP,
			       "mount %u at %s (%s %s, root %s): criu can't make a %s filesystem again and it is not "
			       "a bind of the tree's root filesystem; name it with --external mnt[%s]:KEY\n",
			       m->mnt_id, m->mountpoint, m->fsname, m->source, m->root, m->fsname, m->mountpoint);
	}
	if (m->parent >= 0 && ns->m[m->parent].shared_id)
		return pr_fail(-EOPNOTSUPP,
			       "mount %u at %s is on mount %u, which is shared (peer group %u): mounts on shared mounts "
			       "are not restored yet\n",
			       m->mnt_id, m->mountpoint, ns->m[m->parent].mnt_id, ns->m[m->parent].shared_id);
	sb_base(list, m, &bns, &bidx);
	base = &bns->m[bidx];
	if (!path_under(m->root, base->root))
		return pr_fail(-EOPNOTSUPP,
			       "mount %u at %s (%s, root %s): no mount of its filesystem has a root above both it and "
			       "mount %u (root %s)\n",
			       m->mnt_id, m->mountpoint, m->fsname, m->root, base->mnt_id, base->root);
	if (m->fstype == FSTYPE__PROC && strcmp(base->root, "/"))
		return pr_fail(-EOPNOTSUPP,
			       "proc mount %u at %s (root %s): no mount of that proc shows its root, its pid namespace "
			       "can't be told\n",
			       m->mnt_id, m->mountpoint, m->root);
	if (m->fstype == FSTYPE__TMPFS && strcmp(base->root, "/"))
		return pr_fail(-EOPNOTSUPP,
			       "tmpfs mount %u at %s (root %s): no mount of that tmpfs shows its whole tree, its files "
			       "can't all be read\n",
			       m->mnt_id, m->mountpoint, m->root);
	if (m->fstype == FSTYPE__TMPFS && base == m) {
		if (m->unbindable && has_children(ns, idx))
			return pr_fail(-EOPNOTSUPP,
				       "tmpfs mount %u at %s is unbindable and has mounts on it: the files under them "
				       "can't be read\n",
				       m->mnt_id, m->mountpoint);
		if (overmounted_at_root(ns, idx))
			return pr_fail(-EOPNOTSUPP,
				       "tmpfs mount %u at %s is overmounted at its root: its files can't be read\n",
				       m->mnt_id, m->mountpoint);
		m->tar = true;	/* once per superblock, whichever namespaces show it */
	}
	return 0;
}

/*
 * A peer group with mounts in criu's namespace too (the copy unshare() made
 * of a shared mount is its peer): restore makes a group of its own, the
 * sharing with the outside would be lost. Peer groups between namespaces of
 * the tree are kept.
 */
static int check_outside_sharing(const struct mnt_ns *ns, const struct proc_mounts *mine)
{
	for (int i = 0; i < ns->nr; i++)
		for (int j = 0; j < mine->nr; j++)
			if (ns->m[i].shared_id && (uint32_t)mine->m[j].shared_id == ns->m[i].shared_id)
				return pr_fail(-EOPNOTSUPP,
					       "mount %u at %s is shared with mounts outside the tree's namespace (peer "
					       "group %u, criu's %s): sharing with the outside is not restored\n",
					       ns->m[i].mnt_id, ns->m[i].mountpoint, ns->m[i].shared_id,
					       mine->m[j].mountpoint);
	return 0;
}

/*
 * Restore makes every namespace's root mount from one directory (--root,
 * else criu's /): they must all be the same root of the same filesystem,
 * and criu's own when the root task is in criu's namespace.
 */
static int check_roots(const struct pstree *t, const struct proc_mounts *mine)
{
	const struct mnt_info *ref = t->mntns ? &t->mntns->m[t->mntns->root] : NULL;
	uint32_t dev = 0;
	const char *root = NULL, *what = "criu's";

	if (ref) {
		dev = ref->s_dev;
		root = ref->root;
		what = "the root task's";
	} else {
		for (int j = 0; j < mine->nr; j++)
			if (!strcmp(mine->m[j].mountpoint, "/")) {
				dev = (mine->m[j].major << 20) | mine->m[j].minor;
				root = mine->m[j].root;
			}
	}
	for (const struct mnt_ns *ns = t->mntns_list; ns && root; ns = ns->next) {
		const struct mnt_info *r = &ns->m[ns->root];

		if (r->s_dev != dev || strcmp(r->root, root))
			return pr_fail(-EOPNOTSUPP,
				       "mount namespace %u (of task %d): its root mount %u (%s, root %s, device %u:%u) is "
				       "not the root of %s namespace (root %s, device %u:%u): restore makes every "
				       "namespace's root from one directory\n",
				       ns->id, ns->item->pid, r->mnt_id, r->fsname, r->root, r->s_dev >> 20,
				       r->s_dev & 0xfffff, what, root, dev >> 20, dev & 0xfffff);
	}
	return 0;
}

/* The mounts of ns from its mountinfo, with their parents and its root mount. */
static int fill_ns(struct mnt_ns *ns, struct proc_mounts *pms, bool ext)
{
	int ret;

	ns->m = xzalloc(sizeof(*ns->m) * (pms->nr ?: 1));
	if (!ns->m)
		return -ENOMEM;
	ns->root = -1;
	for (int i = 0; i < pms->nr; i++) {
		ret = fill_mnt(&ns->m[i], &pms->m[i], ext);
		ns->nr = i + 1;
		if (ret)
			return ret;
	}
	for (int i = 0; i < ns->nr; i++) {
		pr_debug("namespace %u: mount %u on %u: %s %s root %s at %s\n", ns->id, ns->m[i].mnt_id,
			 ns->m[i].parent_id, ns->m[i].fsname, ns->m[i].source, ns->m[i].root, ns->m[i].mountpoint);
		ns->m[i].parent = find_mnt(ns, ns->m[i].parent_id);
		if (ns->m[i].parent == i)
			ns->m[i].parent = -1;
		if (ns->m[i].parent >= 0)
			continue;
		if (ns->root >= 0 || strcmp(ns->m[i].mountpoint, "/"))
			return pr_fail(-EOPNOTSUPP,
				       "mount %u at %s has no parent in mount namespace %u (is task %d chroot()ed below "
				       "its namespace's root?)\n",
				       ns->m[i].mnt_id, ns->m[i].mountpoint, ns->id, ns->item->pid);
		ns->root = i;
	}
	if (ns->root < 0)
		return pr_fail(-EINVAL, "the mountinfo of task %d has no root mount\n", ns->item->pid);
	return 0;
}

static int read_ns(struct pstree *t, struct mnt_ns *ns)
{
	struct proc_mounts pms = {};
	int err;

	err = parse_pid_mountinfo(ns->item->proc_dfd, &pms);
	if (err)
		return pr_fail(err, "can't read /proc/%d/mountinfo: %s\n", ns->item->pid, strerror(-err));
	err = fill_ns(ns, &pms, ns == t->mntns);
	ns->buf = pms.buf;	/* the strings point into it */
	free(pms.m);
	return err;
}

static int check_all(struct pstree *t)
{
	_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct proc_mounts mine = {};
	int ret;

	ret = self < 0 ? -errno : parse_pid_mountinfo(self, &mine);
	if (ret)
		return pr_fail(ret, "can't read /proc/self/mountinfo: %s\n", strerror(-ret));
	ret = check_roots(t, &mine);
	for (struct mnt_ns *ns = t->mntns_list; ns && !ret; ns = ns->next) {
		for (int i = 0; i < ns->nr && !ret; i++)
			ret = check_mnt(t->mntns_list, ns, i);
		if (!ret)
			ret = check_outside_sharing(ns, &mine);
	}
	proc_mounts_free(&mine);
	return ret;
}

static int stat_mntns(int dfd, const char *path, struct stat *st)
{
	return fstatat(dfd, path, st, 0) ? -errno : 0;
}

/* The task's mount namespace; each of its live threads must be in it. */
static int task_mntns(struct pstree_item *item, struct stat *ret)
{
	int err = stat_mntns(item->proc_dfd, "ns/mnt", ret);

	if (err)
		return pr_fail(err, "can't stat /proc/%d/ns/mnt\n", item->pid);
	for (int i = 0; i < item->nr_threads; i++) {
		char path[48];
		struct stat st;

		snprintf(path, sizeof(path), "task/%d/ns/mnt", item->threads[i]);
		err = stat_mntns(item->proc_dfd, path, &st);
		if (err)
			return pr_fail(err, "can't stat /proc/%d/%s\n", item->pid, path);
		if (st.st_ino != ret->st_ino || st.st_dev != ret->st_dev)
			return pr_fail(-EOPNOTSUPP,
				       "thread %d of task %d is in mount namespace mnt:[%lu], the task in mnt:[%lu]: "
				       "restore makes threads in their process's\n",
				       item->threads[i], item->pid, (unsigned long)st.st_ino,
				       (unsigned long)ret->st_ino);
	}
	return 0;
}

/* The namespace of ns file st, a new one (ids from 2, in tree order) the first time. */
static struct mnt_ns *ns_by_file(struct pstree *t, struct pstree_item *item, const struct stat *st)
{
	struct mnt_ns **tail = &t->mntns_list, *ns;
	uint32_t id = MNTNS_ID_TREE;

	for (ns = t->mntns_list; ns; ns = ns->next) {
		if (ns->ns_ino == st->st_ino && ns->ns_dev == st->st_dev) {
			/* its mountinfo is read through a task at its root (a chrooted one sees less) */
			if (!mntns_task_at_root(ns->item) && mntns_task_at_root(item))
				ns->item = item;
			return ns;
		}
		id = ns->id + 1;
		tail = &ns->next;
	}
	ns = xzalloc(sizeof(*ns));
	if (!ns)
		return NULL;
	ns->id = id;
	ns->ns_ino = st->st_ino;
	ns->ns_dev = st->st_dev;
	ns->item = item;
	*tail = ns;
	return ns;
}

int mntns_collect(struct pstree *t)
{
	struct pstree_item *item;
	struct stat mine, its;
	struct mnt_ns *ns;
	int err;

	t->mntns = t->mntns_list = NULL;
	if (stat("/proc/self/ns/mnt", &mine))
		return pr_fail_errno("can't stat /proc/self/ns/mnt");
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD) {
			/* a zombie has no namespaces left: its parent's */
			item->mnt_ns_id = item->parent ? item->parent->mnt_ns_id : MNTNS_ID_CRIU;
			continue;
		}
		item->mnt_ns_id = MNTNS_ID_CRIU;
		err = task_mntns(item, &its);
		if (err)
			return err;
		if (its.st_ino == mine.st_ino && its.st_dev == mine.st_dev)
			continue;
		ns = ns_by_file(t, item, &its);
		if (!ns)
			return -ENOMEM;
		item->mnt_ns_id = ns->id;
		if (item == t->root)
			t->mntns = ns;
	}
	for (ns = t->mntns_list; ns; ns = ns->next) {
		err = read_ns(t, ns);
		if (err)
			return err;
	}
	if (!t->mntns_list)
		return 0;
	err = check_all(t);
	if (err)
		return err;
	for (ns = t->mntns_list; ns; ns = ns->next)
		pr_info("mount namespace %u mnt:[%lu] (task %d): %d mounts\n", ns->id, (unsigned long)ns->ns_ino,
			ns->item->pid, ns->nr);
	return 0;
}

/*
 * In a tree with its own pid namespace, proc mounts (and what is on them or
 * bound from them) are made by the root task's stub, inside that namespace
 * (mount-restore.c): the controller has no fd of them.
 */
static bool mnt_late(const struct mnt_ns *ns, int idx, bool own_pidns)
{
	if (!own_pidns)
		return false;
	for (int i = idx; i >= 0; i = ns->m[i].parent)
		for (int j = 0; j < ns->nr; j++)
			if (ns->m[j].fstype == FSTYPE__PROC && ns->m[j].s_dev == ns->m[i].s_dev)
				return true;
	return false;
}

int mntns_file_mount(const struct pstree *t, const struct fd_parms *p, int *ret_mnt_id)
{
	const struct mnt_ns *ns = mntns_of(t, p->item);
	int idx;

	*ret_mnt_id = -1;
	if (!ns)
		return 0;
	idx = p->fdinfo.mnt_id >= 0 ? find_mnt(ns, p->fdinfo.mnt_id) : -1;
	if (idx >= 0 && mnt_late(ns, idx, t->ns_flags & CLONE_NEWPID))
		return pr_fail(-EOPNOTSUPP,
			       "%s is on proc mount %d (or one on it) of a tree with its own pid namespace: files there "
			       "are not restored yet\n",
			       p->link, p->fdinfo.mnt_id);
	if (idx >= 0) {
		/*
		 * restore opens it below its mount's root, never crossing another
		 * mount (one stacked on that root hides nothing from there)
		 */
		for (int i = 0; i < ns->nr; i++)
			if (ns->m[i].parent == idx && strcmp(ns->m[i].mountpoint, ns->m[idx].mountpoint) &&
			    path_under(p->link, ns->m[i].mountpoint))
				return pr_fail(-EOPNOTSUPP,
					       "%s (fd %d of task %d) is on mount %d, hidden under mount %u at %s: not "
					       "supported yet\n",
					       p->link, p->fd, p->item ? p->item->pid : 0, p->fdinfo.mnt_id,
					       ns->m[i].mnt_id, ns->m[i].mountpoint);
		*ret_mnt_id = p->fdinfo.mnt_id;
		return 0;
	}
	if (p->fd < 0 || !p->item)
		return pr_fail(-EOPNOTSUPP,
			       "%s, mapped or the exe of a task, is on mount %d, which is not in the tree's mount "
			       "namespace (opened before the namespace was made? exec in it)\n",
			       p->link, p->fdinfo.mnt_id);
	return pr_fail(-EOPNOTSUPP,
		       "fd %d of task %d (%s) is on mount %d, which is not in the tree's mount namespace %u of the "
		       "task (opened before the namespace was made?)\n",
		       p->fd, p->item->pid, p->link, p->fdinfo.mnt_id, ns->id);
}

/* The mount id of criu's fd (its fdinfo), or -errno. */
static int fd_mnt_id(int fd)
{
	_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct proc_fdinfo fi = {};
	int ret;

	if (self < 0)
		return -errno;
	ret = parse_pid_fdinfo(self, fd, &fi);
	if (!ret)
		ret = fi.mnt_id;
	proc_fdinfo_free(&fi);
	return ret;
}

bool mntns_task_at_root(const struct pstree_item *item)
{
	char link[4];

	/* read from criu's namespace, a root in another reads as its path from that namespace's root */
	return item->proc_dfd >= 0 && readlinkat(item->proc_dfd, "root", link, sizeof(link)) == 1 && link[0] == '/';
}

/* The root of mount namespace ns of the tree: the root of a task there that is not chrooted. */
static int open_ns_root(const struct pstree *t, const struct mnt_ns *ns)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item) {
		int fd;

		if (item->state == TASK_DEAD || item->mnt_ns_id != ns->id || !mntns_task_at_root(item))
			continue;
		fd = openat(item->proc_dfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -EOPNOTSUPP;
}

/* An fd of mount idx of ns, reached from the namespace's root (-ENOENT: another is on top of it). */
static int open_tree_mount(const struct mnt_ns *ns, int root, int idx)
{
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	const struct mnt_info *m = &ns->m[idx];
	const char *rel = m->mountpoint;
	int fd;

	while (*rel == '/')
		rel++;
	fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fd_mnt_id(fd) != (int)m->mnt_id) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int mntns_open_handle(const struct pstree *t, const struct pstree_item *item, uint32_t s_dev, struct file_handle *fh,
		      int *ret_fd, int *ret_mnt_id, char *ret_path, size_t size)
{
	const struct mnt_ns *ns = mntns_of(t, item);
	_cleanup_close_ int root = ns ? open_ns_root(t, ns) : -ENOENT;
	bool own_pidns = t->ns_flags & CLONE_NEWPID;

	if (root < 0)
		return root;
	for (int i = 0; i < ns->nr; i++) {
		struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
		_cleanup_close_ int mfd = -1, fd = -1, there = -1;
		struct stat st, tst;
		char link[64];
		ssize_t n;
		int mnt_id;

		if (ns->m[i].s_dev != s_dev)
			continue;
		mfd = open_tree_mount(ns, root, i);
		fd = mfd < 0 ? -1 : open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, ret_path, size - 1);
		if (n <= 0 || (size_t)n >= size - 1)
			continue;
		ret_path[n] = '\0';
		if (!st.st_nlink) {
			/* a removed file: no path leads to it, the caller refuses it */
			*ret_mnt_id = ns->m[i].mnt_id;
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
		/* the path through this mount, from the namespace's root: where does it lead? */
		there = ret_path[0] == '/' ? (int)syscall(SYS_openat2, root, ret_path + 1, &how, sizeof(how)) : -1;
		if (there < 0 || fstat(there, &tst) || tst.st_ino != st.st_ino || tst.st_dev != st.st_dev)
			continue;
		mnt_id = fd_mnt_id(there);
		if (mnt_id < 0 || find_mnt(ns, mnt_id) < 0 || mnt_late(ns, find_mnt(ns, mnt_id), own_pidns))
			continue;
		*ret_mnt_id = mnt_id;
		*ret_fd = TAKE_FD(there);
		return 0;
	}
	return -ENOENT;
}

bool mntns_path_on_mount(const struct pstree *t, int mnt_id, const char *path)
{
	const struct mnt_ns *ns = NULL;
	int idx = t && mnt_id >= 0 ? find_mnt_any(t->mntns_list, mnt_id, &ns) : -1;

	return idx >= 0 && path_under(path, ns->m[idx].mountpoint);
}

/*
 * An absolute path as the task sees it: from its namespace's root when that
 * is one of the tree's own (openat2() with RESOLVE_IN_ROOT, so an absolute
 * symlink or a ".." stays under it), else criu's own path.
 */
int mntns_tree_open(const struct pstree *t, const struct pstree_item *item, const char *path, int flags)
{
	struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	const struct mnt_ns *ns = mntns_of(t, item);
	_cleanup_close_ int root = -1;
	int fd;

	if (path[0] != '/')
		return -EINVAL;
	if (!ns) {
		fd = open(path, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	root = open_ns_root(t, ns);
	if (root < 0)
		return root;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int mntns_tree_stat(const struct pstree *t, const struct pstree_item *item, const char *path, struct stat *st,
		    bool follow)
{
	_cleanup_close_ int fd = -1;

	if (!mntns_of(t, item))
		return (follow ? stat(path, st) : lstat(path, st)) ? -errno : 0;
	fd = mntns_tree_open(t, item, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return fd;
	return fstat(fd, st) ? -errno : 0;
}

/* ------------------------------------------------------ dump */

static int write_mnt(struct cr_img *img, const struct mnt_info *m)
{
	MntEntry me = MNT_ENTRY__INIT;

	me.fstype = m->fstype;
	me.mnt_id = m->mnt_id;
	me.root_dev = m->s_dev;
	me.parent_mnt_id = m->parent >= 0 ? m->parent_id : 0;
	me.flags = m->flags;
	me.has_sb_flags = true;
	me.sb_flags = m->sb_flags;
	me.root = m->root;
	me.mountpoint = m->mountpoint;
	me.source = m->source;
	me.options = m->options;
	me.has_shared_id = true;
	me.shared_id = m->shared_id;
	me.has_master_id = true;
	me.master_id = m->master_id;
	/* CRIU's restore takes fsname only with fstype AUTO (which we never write): the fstype names it */
	/* as CRIU 4.2: the key alone (its restore refuses ext_mount with ext_key, its older form) */
	me.ext_key = m->ext_key;
	if (m->unbindable) {
		me.has_unbindable = true;
		me.unbindable = true;
	}
	pr_info("mount %u: %s %s root %s at %s, shared %u master %u\n", m->mnt_id, m->fsname, m->source, m->root,
		m->mountpoint, m->shared_id, m->master_id);
	return pb_write_one(img, &me, PB_MNT);
}

/*
 * In a child that joined the tree's mount namespace: a detached copy of the
 * mount alone (no mounts on top, so files under them are seen too), tarred.
 */
/* In the tree's namespace: a fd of the tmpfs mount m alone, to read its files from. */
static int open_tmpfs(const struct mnt_info *m)
{
	_cleanup_close_ int dfd = -1;
	struct statx stx;
	int tree;

	dfd = open(m->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pr_fail_errno("can't open tmpfs mount %u at %s", m->mnt_id, m->mountpoint);
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID) ||
	    stx.stx_mnt_id != m->mnt_id)
		return pr_fail(-EOPNOTSUPP, "%s is not tmpfs mount %u any more (overmounted?)\n", m->mountpoint,
			       m->mnt_id);
	/* a clone has no mounts on it: files under them are read too; an unbindable one has none (check_mnt()) */
	if (m->unbindable)
		tree = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		tree = open_tree(dfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return pr_fail_errno("can't clone tmpfs mount %u at %s", m->mnt_id, m->mountpoint);
	return tree;
}

static int tar_one(int img_dfd, const struct mnt_ns *ns, const struct mnt_info *m, int tree)
{
	struct cr_img *img;
	int ret;

	img = open_image_at(img_dfd, CR_FD_TMPFS_DEV, O_DUMP, m->s_dev);
	if (!img)
		return pr_fail_errno("can't create the image of tmpfs mount %u", m->mnt_id);
	ret = tmpfs_tar_write(tree, img_raw_fd(img), m->mountpoint, ns);
	close_image(img);
	return ret;
}

/*
 * A proc mount must show the tree's pid namespace: restore mounts it from
 * there. In a tree with its own, that proc's pid 1 is the tree's root (the
 * same start time); else this process (in criu's) is its "self".
 */
static int check_proc_ns(const struct mnt_info *m, unsigned long long root_start)
{
	_cleanup_close_ int dfd = open(m->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct proc_pid_stat st;
	struct statx stx;
	char self[32];
	ssize_t n;

	if (dfd < 0)
		return pr_fail_errno("can't open proc mount %u at %s", m->mnt_id, m->mountpoint);
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID) ||
	    stx.stx_mnt_id != m->mnt_id)
		return pr_fail(-EOPNOTSUPP, "proc mount %u at %s is overmounted: its pid namespace can't be told\n",
			       m->mnt_id, m->mountpoint);
	if (root_start) {
		_cleanup_close_ int one = openat(dfd, "1", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (one >= 0 && !parse_pid_stat(one, &st) && st.start_time == root_start)
			return 0;
	} else {
		n = readlinkat(dfd, "self", self, sizeof(self) - 1);
		if (n > 0) {
			self[n] = '\0';
			if (atoi(self) == getpid())
				return 0;
		}

	}
	return pr_fail(-EOPNOTSUPP,
		       "proc mount %u at %s shows another pid namespace than the tree's: restore would mount the "
		       "tree's\n",
		       m->mnt_id, m->mountpoint);
}

/*
 * The device of the mqueue filesystem of the root task's IPC namespace: an
 * mqueue mount shows the IPC namespace of whoever mounted it, and the
 * restore mounts each one in the root task's (mount-restore.c). One made
 * here, in this child, after joining that namespace, is the same superblock.
 */
static int root_mqueue_dev(const struct pstree *t, dev_t *ret)
{
	_cleanup_close_ int ipc = openat(t->root->proc_dfd, "ns/ipc", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fs = -1, mnt = -1;
	struct stat st;

	if (ipc < 0 || setns(ipc, CLONE_NEWIPC))
		return pr_fail_errno("can't join the IPC namespace of task %d", t->root->pid);
	fs = fsopen("mqueue", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return pr_fail_errno("can't make an mqueue filesystem");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0 || fstat(mnt, &st))
		return pr_fail_errno("can't mount an mqueue filesystem");
	*ret = st.st_dev;
	return 0;
}

static bool has_mqueue(const struct pstree *t)
{
	for (const struct mnt_ns *ns = t->mntns_list; ns; ns = ns->next)
		for (int i = 0; i < ns->nr; i++)
			if (ns->m[i].fstype == FSTYPE__MQUEUE)
				return true;
	return false;
}

static int check_mqueue_ns(const struct mnt_info *m, dev_t root_mq)
{
	_cleanup_close_ int dfd = open(m->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statx stx;

	if (dfd < 0)
		return pr_fail_errno("can't open mqueue mount %u at %s", m->mnt_id, m->mountpoint);
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID) ||
	    stx.stx_mnt_id != m->mnt_id)
		return pr_fail(-EOPNOTSUPP, "mqueue mount %u at %s is overmounted: its IPC namespace can't be told\n",
			       m->mnt_id, m->mountpoint);
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) == root_mq)
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "mqueue mount %u at %s shows another IPC namespace than the root task's: restore would mount "
		       "the root task's\n",
		       m->mnt_id, m->mountpoint);
}

/* A fd of each namespace of the tree's, in list order (opened through a task in it). */
static int open_ns_fds(const struct pstree *t, int *fds)
{
	int n = 0;

	for (const struct mnt_ns *ns = t->mntns_list; ns; ns = ns->next, n++) {
		fds[n] = openat(ns->item->proc_dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
		if (fds[n] < 0)
			return pr_fail_errno("can't open /proc/%d/ns/mnt", ns->item->pid);
	}
	return 0;
}

/*
 * A child of criu: in each namespace of the tree's, check the proc mounts
 * and open each tmpfs to tar; back in criu's (its /proc: the tar reads
 * xattrs through /proc/self/fd), tar them (but the socket files a socket of
 * the tree is bound to, mntns_note_socket_file()).
 */
static int ns_child(int img_dfd, const struct pstree *t, const int *ns_fds, unsigned long long root_start)
{
	_cleanup_close_ int mine = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	const struct mnt_ns *ns;
	int n = 0, ret = 0, *fds;
	dev_t root_mq = 0;

	if (mine < 0)
		return pr_fail_errno("can't open criu's mount namespace");
	for (ns = t->mntns_list; ns; ns = ns->next)
		n += ns->nr;
	fds = xmalloc(sizeof(int) * (n ?: 1));
	if (!fds)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		fds[i] = -1;
	n = 0;
	if (has_mqueue(t))
		ret = root_mqueue_dev(t, &root_mq);
	for (ns = t->mntns_list; ns && !ret; n += ns->nr, ns = ns->next, ns_fds++) {
		if (setns(*ns_fds, CLONE_NEWNS))
			return pr_fail_errno("can't join mount namespace %u of the tree", ns->id);
		for (int i = 0; i < ns->nr && !ret; i++)
			if (ns->m[i].fstype == FSTYPE__PROC && !strcmp(ns->m[i].root, "/"))
				ret = check_proc_ns(&ns->m[i], root_start);
		for (int i = 0; i < ns->nr && !ret; i++)
			if (ns->m[i].fstype == FSTYPE__MQUEUE)
				ret = check_mqueue_ns(&ns->m[i], root_mq);
		for (int i = 0; i < ns->nr && !ret; i++)
			if (ns->m[i].tar) {
				fds[n + i] = open_tmpfs(&ns->m[i]);
				ret = fds[n + i] < 0 ? fds[n + i] : 0;
			}
	}
	if (!ret && setns(mine, CLONE_NEWNS))
		ret = pr_fail_errno("can't go back to criu's mount namespace");
	n = 0;
	for (ns = t->mntns_list; ns && !ret; n += ns->nr, ns = ns->next)
		for (int i = 0; i < ns->nr && !ret; i++)
			if (fds[n + i] >= 0)
				ret = tar_one(img_dfd, t->mntns_list, &ns->m[i], fds[n + i]);
	return ret;
}

static int tar_all(int img_dfd, const struct pstree *t, const int *ns_fds, unsigned long long root_start)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return pr_fail_errno("can't fork to read the tmpfs mounts");
	if (pid == 0)
		_exit(ns_child(img_dfd, t, ns_fds, root_start) ? 1 : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pr_fail_errno("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return pr_fail(-EIO, "the mounts could not be checked or the tmpfs contents dumped\n");
	return 0;
}

static int write_ns(int img_dfd, const struct mnt_ns *ns)
{
	struct cr_img *img;
	int ret = 0;

	img = open_image_at(img_dfd, CR_FD_MNTS, O_DUMP, ns->id);
	if (!img)
		return pr_fail_errno("can't create mountpoints-%u.img", ns->id);
	for (int i = 0; i < ns->nr && !ret; i++)
		ret = write_mnt(img, &ns->m[i]);
	return close_image_checked(img) ?: ret;
}

int mntns_dump(int img_dfd, struct pstree *t)
{
	struct proc_pid_stat st = {};
	int nr = 0, ret = 0, *ns_fds;

	for (const struct mnt_ns *ns = t->mntns_list; ns && !ret; ns = ns->next, nr++)
		ret = write_ns(img_dfd, ns);
	if (ret || !nr)
		return ret;
	/* a pid namespace of its own (pidns.c): its init, the root, is known by its start time */
	if (t->ns_flags & CLONE_NEWPID) {
		ret = parse_pid_stat(t->root->proc_dfd, &st);
		if (ret)
			return pr_fail(ret, "can't read /proc/%d/stat\n", t->root->pid);
	}
	ns_fds = xmalloc(nr * sizeof(int));
	if (!ns_fds)
		return -ENOMEM;
	for (int i = 0; i < nr; i++)
		ns_fds[i] = -1;
	ret = open_ns_fds(t, ns_fds);
	if (!ret)
		ret = tar_all(img_dfd, t, ns_fds, (t->ns_flags & CLONE_NEWPID) ? st.start_time : 0);
	for (int i = 0; i < nr; i++)
		if (ns_fds[i] >= 0)
			close(ns_fds[i]);
	free(ns_fds);
	return ret;
}
