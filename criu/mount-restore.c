// SPDX-License-Identifier: GPL-2.0
/*
 * The mount namespace on the restore side (Documentation/mounts.md).
 *
 * A helper process (a fork of criu) unshares a mount namespace, makes it
 * private and builds the dumped tree on a copy of the root directory
 * (--root PATH, else criu's /) stacked on its root: parents before children,
 * a mount of a filesystem already made is a bind of it (a peer of its group,
 * or from its master's group and then a slave), the others are made fresh
 * (tmpfs filled from its image), binds of the root's filesystem come from
 * the root directory, external mounts from the path the runtime gave. Every
 * mount is reached through the fd of the mount it was made on (never by a
 * path that another mount could hide). Then pivot_root into it.
 *
 * The helper keeps one fd per mount; the controller takes them with
 * pidfd_getfd() (files are opened relative to their mount) and a fd of the
 * namespace, then lets the helper go. The root stub setns()es into the
 * namespace before it forks the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "mnt: "
#include "common.h"
#include "cr_options.h"
#include "image.h"
#include "log.h"
#include "mount.h"
#include "tty.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"
#include "syscalls.h"

#include "core.pb-c.h"
#include "mnt.pb-c.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

struct rst_mnt {
	uint32_t id;		/* the root task's namespace, 0: criu's */
	MntEntry **me;		/* the mounts of every namespace, one image after the other */
	int nr;
	int root;		/* index of the root mount of the root task's namespace, else of the first */
	int nr_ns;
	uint32_t *ns_ids;	/* each namespace's id (mountpoints-ID.img) */
	int *ns_roots;		/* each namespace's root mount */
	int *ns_fds;		/* the controller's fd of each namespace, -1 */
	int *ns_of;		/* each mount's namespace (index into the above) */
	int criu_ns;		/* criu's mount namespace: stubs of tasks in it under a parent in another */
	int *fds;		/* the controller's fd of each mount, -1 */
	bool *late;		/* made by the root stub, in the tree's pid namespace (proc) */
	int nr_late;
	int *late_ext;		/* late external mounts (a file masked over /proc/keys): clones of their
				   paths made in criu's namespace for the stub to attach, -1 */
	int ns_fd;		/* the root task's namespace (one of ns_fds), -1: criu's */
	int nr_ptys;
	struct mnt_pty ptys[MNT_MAX_PTYS];	/* bound pts made by the helper; fd: the controller's, -1 once taken */
};

/* MAP_SHARED between the controller and the helper */
struct build_shared {
	int err;
	char msg[256];
	int nr_ptys;
	struct mnt_pty ptys[MNT_MAX_PTYS];	/* fd: the helper's */
	int fds[];		/* the helper's fd of each mount, then of each namespace */
};

struct build {
	struct rst_mnt *mnt;
	struct rst_ctx *ctx;
	struct build_shared *sh;
	int *fd;		/* the helper's fds, -1 until made */
	int *rootdirs;		/* O_PATH: the root directory in each namespace's copy of criu's tree, -1;
				   NULL in a stub */
	int *ns_fds;		/* each namespace, -1 until made */
	int *oldroots;		/* the root each namespace was made with (a copy of criu's), -1 */
	int cur;		/* the namespace this process is in, -1: its first */
	int *outside;		/* the helper: clones of the root directory and external paths made in
				   criu's namespace (peers of their source's group, if shared), -1; NULL in a stub */
};

/*
 * An external mount: CRIU 4.2 writes ext_key alone, CRIU before 3.x
 * ext_mount with the key in root, dumps of ours both (the key in ext_key):
 * all become ext_mount with ext_key.
 */
static int external_form(MntEntry *e)
{
	if (e->ext_key) {
		e->has_ext_mount = e->ext_mount = true;
		return 0;
	}
	if (!e->ext_mount)
		return 0;
	e->ext_key = xstrdup(e->root);
	return e->ext_key ? 0 : -ENOMEM;
}

/* ------------------------------------------------------ images */

static uint32_t core_mntns_id(struct pstree_item *item)
{
	CoreEntry *c = rsti(item)->core ? rsti(item)->core[0] : NULL;

	return c && c->ids && c->ids->has_mnt_ns_id ? c->ids->mnt_ns_id : 0;
}

static int find_me(const struct rst_mnt *m, uint32_t mnt_id)
{
	for (int i = 0; i < m->nr; i++)
		if (m->me[i]->mnt_id == mnt_id)
			return i;
	return -1;
}

static bool is_ns_root(const struct rst_mnt *m, int idx)
{
	return m->ns_roots[m->ns_of[idx]] == idx;
}

/* The mounts of namespace k: one root, every other's parent in k, no loop of parents. */
static int check_tree(struct rst_mnt *m, int k)
{
	uint32_t id = m->ns_ids[k];

	m->ns_roots[k] = -1;
	for (int i = 0; i < m->nr; i++) {
		MntEntry *e = m->me[i];
		int p = find_me(m, e->parent_mnt_id);

		if (m->ns_of[i] != k)
			continue;
		if (find_me(m, e->mnt_id) != i)
			return pr_fail(-EINVAL, "mountpoints-%u.img: mount %u is in another image too\n", id, e->mnt_id);
		if (p < 0 || p == i) {
			if (m->ns_roots[k] >= 0 || strcmp(e->mountpoint, "/"))
				return pr_fail(-EINVAL, "mountpoints-%u.img: mount %u at %s has no parent\n", id,
					       e->mnt_id, e->mountpoint);
			m->ns_roots[k] = i;
		} else if (m->ns_of[p] != k) {
			return pr_fail(-EINVAL, "mountpoints-%u.img: mount %u is on mount %u of another namespace\n", id,
				       e->mnt_id, e->parent_mnt_id);
		}
		if (e->mountpoint[0] != '/' || strstr(e->mountpoint, "/../") || e->root[0] != '/')
			return pr_fail(-EINVAL, "mountpoints-%u.img: mount %u has a bad path\n", id, e->mnt_id);
	}
	if (m->ns_roots[k] < 0)
		return pr_fail(-EINVAL, "mountpoints-%u.img: no root mount\n", id);
	/* every mount reaches the root through its parents (mountinfo order need not be parents first) */
	for (int i = 0; i < m->nr; i++) {
		int steps = 0;

		if (m->ns_of[i] != k)
			continue;
		for (int j = i; j != m->ns_roots[k]; j = find_me(m, m->me[j]->parent_mnt_id))
			if (++steps > m->nr)
				return pr_fail(-EINVAL, "mountpoints-%u.img: mount %u is in a loop of parents\n", id,
					       m->me[i]->mnt_id);
	}
	return 0;
}

/*
 * A proc mount shows the pid namespace of the task that made it: in a tree
 * with its own, proc mounts, what is mounted on them and what is bound from
 * them are made by the root stub (pid 1 there), after it joined the mount
 * namespace; the helper makes the rest.
 */
static bool is_late(const struct rst_mnt *m, int idx, bool own_pidns)
{
	if (!own_pidns)
		return false;
	for (int i = idx; i >= 0 && !is_ns_root(m, i); i = find_me(m, m->me[i]->parent_mnt_id))
		for (int j = 0; j < m->nr; j++)
			if (m->me[j]->fstype == FSTYPE__PROC && m->me[j]->root_dev == m->me[i]->root_dev)
				return true;
	return false;
}

/* criu's own: ours writes MNTNS_ID_CRIU, CRIU its id in inventory root_ids (and no mountpoints image) */
static bool criu_ns_id(struct rst_ctx *ctx, uint32_t id)
{
	return !id || id == MNTNS_ID_CRIU || id == ctx->dump_criu_ns_id[NS_MNT];
}

static int ns_index(const struct rst_mnt *m, uint32_t id)
{
	for (int k = 0; k < m->nr_ns; k++)
		if (m->ns_ids[k] == id)
			return k;
	return -1;
}

/* The ids of the tree's namespaces, in tree order. */
static int collect_ns_ids(struct rst_ctx *ctx, struct rst_mnt *m)
{
	struct pstree_item *item;

	for_each_pstree_item(&ctx->tree, item) {
		uint32_t id = core_mntns_id(item);
		uint32_t *n;

		if (item->state == TASK_DEAD || criu_ns_id(ctx, id) || ns_index(m, id) >= 0)
			continue;
		n = xrealloc(m->ns_ids, (m->nr_ns + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->ns_ids = n;
		m->ns_ids[m->nr_ns++] = id;
	}
	return 0;
}

static int read_ns_image(struct rst_ctx *ctx, struct rst_mnt *m, int k)
{
	struct cr_img *img;
	int ret = 0;

	img = open_image_at(ctx->img_dfd, CR_FD_MNTS, O_RSTR, m->ns_ids[k]);
	if (!img)
		return pr_fail_errno("can't open mountpoints-%u.img", m->ns_ids[k]);
	for (;;) {
		MntEntry *e, **n;
		int *o;

		ret = pb_read_one_eof(img, (void **)&e, PB_MNT);
		if (ret <= 0)
			break;
		n = xrealloc(m->me, (m->nr + 1) * sizeof(*n));
		o = n ? xrealloc(m->ns_of, (m->nr + 1) * sizeof(*o)) : NULL;
		if (n)
			m->me = n;
		if (o)
			m->ns_of = o;
		if (!n || !o) {
			pb_free(e, PB_MNT);
			ret = -ENOMEM;
			break;
		}
		m->ns_of[m->nr] = k;
		m->me[m->nr++] = e;
		ret = external_form(e);
		if (ret)
			break;
	}
	close_image(img);
	return ret;
}

int mntns_read_images(struct rst_ctx *ctx)
{
	uint32_t id = core_mntns_id(ctx->tree.root);
	struct rst_mnt *m;
	int ret = 0;

	m = xzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ns_fd = m->criu_ns = -1;
	ret = collect_ns_ids(ctx, m);
	if (ret || !m->nr_ns) {
		free(m->ns_ids);
		free(m);
		return ret;
	}
	ctx->mnt = m;
	m->id = criu_ns_id(ctx, id) ? 0 : id;
	m->ns_roots = xmalloc(m->nr_ns * sizeof(int));
	m->ns_fds = xmalloc(m->nr_ns * sizeof(int));
	if (!m->ns_roots || !m->ns_fds)
		return -ENOMEM;
	for (int k = 0; k < m->nr_ns; k++)
		m->ns_fds[k] = -1;
	for (int k = 0; k < m->nr_ns && !ret; k++)
		ret = read_ns_image(ctx, m, k);
	for (int k = 0; k < m->nr_ns && !ret; k++)
		ret = check_tree(m, k);
	if (ret)
		return ret;
	m->root = m->ns_roots[m->id ? ns_index(m, m->id) : 0];
	m->fds = xmalloc(m->nr * sizeof(int));
	m->late = xzalloc(m->nr * sizeof(bool));
	m->late_ext = xmalloc(m->nr * sizeof(int));
	if (!m->fds || !m->late || !m->late_ext)
		return -ENOMEM;
	for (int i = 0; i < m->nr; i++) {
		m->fds[i] = m->late_ext[i] = -1;
		m->late[i] = is_late(m, i, rst_own_pidns(ctx));
		m->nr_late += m->late[i];
	}
	/* the root stub goes back to it after it made the late mounts in the tree's */
	m->criu_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (m->criu_ns < 0)
		return pr_fail_errno("can't open criu's mount namespace");
	pr_info("the tree had %d mount namespaces of its own (the root task's: %u): %d mounts\n", m->nr_ns, m->id,
		m->nr);
	return 0;
}

void mntns_restore_fini(struct rst_ctx *ctx)
{
	struct rst_mnt *m = ctx->mnt;

	if (!m)
		return;
	for (int i = 0; i < m->nr; i++) {
		if (m->fds && m->fds[i] >= 0)
			close(m->fds[i]);
		if (m->late_ext && m->late_ext[i] >= 0)
			close(m->late_ext[i]);
		pb_free(m->me[i], PB_MNT);
	}
	for (int k = 0; m->ns_fds && k < m->nr_ns; k++)
		if (m->ns_fds[k] >= 0)
			close(m->ns_fds[k]);
	if (m->criu_ns >= 0)
		close(m->criu_ns);
	for (int i = 0; i < m->nr_ptys; i++)
		if (m->ptys[i].fd >= 0)
			close(m->ptys[i].fd);
	free(m->fds);
	free(m->late);
	free(m->late_ext);
	free(m->me);
	free(m->ns_of);
	free(m->ns_ids);
	free(m->ns_roots);
	free(m->ns_fds);
	free(m);
	ctx->mnt = NULL;
}

/* ------------------------------------------------------ the helper: one mount */

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* path below dir, without the leading '/' ("" for dir itself) */
static const char *rel_to(const char *path, const char *dir)
{
	const char *r = path + (strcmp(dir, "/") ? strlen(dir) : 0);

	while (*r == '/')
		r++;
	return r;
}

/* rel under dfd, never out of it (no "..", absolute or magic link escapes); xdev: may cross mounts */
static int open_under(int dfd, const char *rel, int flags, bool xdev)
{
	struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };

	if (!xdev)
		how.resolve |= RESOLVE_NO_XDEV;
	if (!*rel)
		rel = ".";
	return (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
}

static int open_beneath(int dfd, const char *rel, int flags)
{
	return open_under(dfd, rel, flags, false);
}

static int clone_at(int dfd, const char *rel)
{
	_cleanup_close_ int at = open_beneath(dfd, rel, O_PATH);
	int fd;

	if (at < 0)
		return -errno;
	fd = open_tree(at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	return fd < 0 ? -errno : fd;
}

static int attach(int mfd, int target)
{
	if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
		return -errno;
	return 0;
}

/* fsconfig() each "key" or "key=value" of the filesystem's options */
static int config_fs(int fsfd, const MntEntry *e)
{
	_cleanup_free_ char *s = xstrdup(e->options);
	char *save = NULL, *o;

	if (!s)
		return -ENOMEM;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", e->source, 0))
		return -errno;
	for (o = strtok_r(s, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		int r;

		if (eq) {
			*eq = '\0';
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (r)
			return -errno;
	}
	if (e->fstype == FSTYPE__DEVPTS)
		fsconfig(fsfd, FSCONFIG_SET_FLAG, "newinstance", NULL, 0);
	return 0;
}

/* CRIU names the filesystem by fstype alone (fsname only for one it has no number for) */
static const char *fs_name(const MntEntry *e)
{
	if (e->fsname && *e->fsname)
		return e->fsname;
	return fstype_name(e->fstype) ?: "?";
}

static int fill_tmpfs(struct build *b, const MntEntry *e, int mfd)
{
	struct cr_img *img = open_image_at(b->ctx->img_dfd, CR_FD_TMPFS_DEV, O_RSTR, e->root_dev);
	int ret;

	if (!img)
		return pr_fail_errno("can't open the image of tmpfs mount %u", e->mnt_id);
	ret = tmpfs_tar_read(mfd, img_raw_fd(img), e->mountpoint);
	close_image(img);
	return ret;
}

/* A new superblock of e's filesystem, attached at target; *ret_fd its root. */
static int make_fresh(struct build *b, const MntEntry *e, int target, int *ret_fd)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	int ret;

	fsfd = fsopen(fs_name(e), FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return pr_fail_errno("can't make a %s filesystem for mount %u", fs_name(e), e->mnt_id);
	ret = config_fs(fsfd, e);
	if (!ret && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		ret = -errno;
	if (ret)
		return pr_fail(ret, "can't make %s %s (%s) for mount %u: %s\n", fs_name(e), e->source, e->options,
			       e->mnt_id, strerror(-ret));
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return pr_fail_errno("can't mount the %s of mount %u", fs_name(e), e->mnt_id);
	if (e->fstype == FSTYPE__TMPFS) {
		ret = fill_tmpfs(b, e, mfd);
		if (ret)
			return ret;
	}
	if (e->sb_flags & MS_RDONLY) {
		if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) ||
		    fsconfig(fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0))
			return pr_fail_errno("can't make the %s of mount %u read-only", fs_name(e), e->mnt_id);
	}
	if (strcmp(e->root, "/")) {
		/* only a part of it is mounted: a clone of that part; the whole goes with its last fd */
		int sub = clone_at(mfd, e->root + 1);

		if (sub < 0)
			return pr_fail(sub, "mount %u: can't bind %s of its new %s: %s\n", e->mnt_id, e->root,
				       fs_name(e), strerror(-sub));
		close(mfd);
		mfd = sub;
	}
	ret = attach(mfd, target);
	if (ret)
		return pr_fail(ret, "can't attach the %s of mount %u at %s: %s\n", fs_name(e), e->mnt_id,
			       e->mountpoint, strerror(-ret));
	*ret_fd = mfd;
	mfd = -1;
	return 0;
}

static const char *ext_path(const MntEntry *e)
{
	for (int i = 0; i < opts.nr_ext_mnts; i++)
		if (!strcmp(opts.ext_mnts[i].key, e->ext_key))
			return opts.ext_mnts[i].val;
	return NULL;
}

/*
 * Into namespace k of the tree (this process: the helper, or the root stub
 * for the late mounts): a mount is cloned in its own namespace (the kernel
 * clones no mount of another) and attached in its parent's.
 */
static int enter_ns(struct build *b, int k)
{
	if (b->cur == k)
		return 0;
	if (setns(b->ns_fds[k], CLONE_NEWNS))
		return pr_fail_errno("can't go into mount namespace %u", b->mnt->ns_ids[k]);
	b->cur = k;
	return 0;
}

/* A clone of rel under mount src, made in src's namespace; back in namespace k after. */
static int clone_from(struct build *b, int src, const char *rel, int k)
{
	int fd, ret;

	ret = enter_ns(b, b->mnt->ns_of[src]);
	if (ret)
		return ret;
	fd = clone_at(b->fd[src], rel);
	ret = enter_ns(b, k);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/*
 * The mount a superblock criu makes again is made for (the others are bound
 * from it): of the mounts of e's superblock, in every namespace, the one
 * with the shortest root (the dump checked it is above all of them).
 */
static int sb_base(const struct rst_mnt *m, const MntEntry *e)
{
	int best = -1;

	for (int j = 0; j < m->nr; j++) {
		const MntEntry *s = m->me[j];

		if (is_ns_root(m, j) || s->ext_mount || s->root_dev != e->root_dev)
			continue;
		if (best < 0 || strlen(s->root) < strlen(m->me[best]->root))
			best = j;
	}
	return best;
}

/* An external mount (any namespace) that e, a filesystem criu can't make, is a bind of; -1. */
static int ext_source(const struct rst_mnt *m, const MntEntry *e)
{
	for (int j = 0; j < m->nr; j++)
		if (m->me[j]->ext_mount && m->me[j]->root_dev == e->root_dev && path_under(e->root, m->me[j]->root))
			return j;
	return -1;
}

static bool longer_root(const struct rst_mnt *m, int j, int than)
{
	return than < 0 || strlen(m->me[j]->root) > strlen(m->me[than]->root);
}

/* The mount made already to bind e from: a peer, else a member of its master group, else any of its superblock. */
static int bind_source(struct build *b, const MntEntry *e, bool *ret_peer)
{
	struct rst_mnt *m = b->mnt;
	int any = -1, master = -1, peer = -1;

	for (int j = 0; j < m->nr; j++) {
		const MntEntry *s = m->me[j];

		if (b->fd[j] < 0 || s->root_dev != e->root_dev || !path_under(e->root, s->root) || is_ns_root(m, j))
			continue;
		/*
		 * of each kind, the one with the longest root: the path to e's root
		 * within it crosses no mount made on it (a copy in another namespace
		 * of a bind on a bind)
		 */
		if (e->shared_id && s->shared_id == e->shared_id && longer_root(m, j, peer))
			peer = j;
		if (e->master_id && s->shared_id == e->master_id && longer_root(m, j, master))
			master = j;
		if (longer_root(m, j, any))
			any = j;
	}
	*ret_peer = peer >= 0;
	if (peer >= 0)
		return peer;
	if (e->master_id)
		return master;	/* -1: wait for a mount of the master group */
	return any;
}

static int set_prop(int mfd, uint64_t prop)
{
	struct mount_attr a = { .propagation = prop };

	return mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof(a)) ? -errno : 0;
}

/* e is a slave of a peer group with no mount in the tree (the root's or an external mount's source's) */
static bool master_outside(const struct rst_mnt *m, const MntEntry *e)
{
	if (!e->master_id)
		return false;
	for (int i = 0; i < m->nr; i++)
		if (m->me[i]->shared_id == e->master_id)
			return false;
	return true;
}

/* The master of mount mfd, from this process's mountinfo; 0 when none. */
static int master_of(struct build *b, int mfd, uint32_t *ret)
{
	struct proc_mounts ms = {};
	struct statx stx;
	char *buf = NULL;
	int ret_err;

	if (statx(mfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID))
		return -errno ?: -EINVAL;
	if (read_file_alloc_at(b->ctx->proc_fd, "self/mountinfo", &buf) < 0)
		return -EIO;
	ret_err = parse_mountinfo_buf(buf, &ms);
	if (ret_err)
		return ret_err;
	ret_err = -ENOENT;
	for (int i = 0; i < ms.nr; i++)
		if ((uint64_t)ms.m[i].mnt_id == stx.stx_mnt_id) {
			*ret = ms.m[i].master_id;
			ret_err = 0;
		}
	proc_mounts_free(&ms);
	return ret_err;
}

/*
 * The root mount and external mounts come from criu's namespace: a clone of
 * a shared mount is a peer of its group. As dumped: a slave of a group
 * outside the tree is made a slave of its source's group, which must be
 * that very group (checked); else private. Then shared, a group of its own.
 */
static int set_outside_prop(struct build *b, int mfd, const MntEntry *e, const char *from)
{
	uint32_t master = 0;
	int ret;

	if (master_outside(b->mnt, e)) {
		ret = set_prop(mfd, MS_SLAVE);
		if (!ret)
			ret = master_of(b, mfd, &master);
		if (ret)
			return pr_fail(ret, "mount %u at %s: can't make it a slave: %s\n", e->mnt_id, e->mountpoint,
				       strerror(-ret));
		if (master != e->master_id)
			return pr_fail(-EINVAL,
				       "mount %u at %s was a slave of peer group %u outside the tree; %s is in group %u "
				       "now: it can't be made a slave of that group\n",
				       e->mnt_id, e->mountpoint, e->master_id, from, master);
	} else {
		ret = set_prop(mfd, MS_PRIVATE);
	}
	if (!ret && e->shared_id)
		ret = set_prop(mfd, MS_SHARED);
	if (ret)
		return pr_fail(ret, "can't set the propagation of mount %u: %s\n", e->mnt_id, strerror(-ret));
	return 0;
}

/*
 * A bind of one pts of a devpts (runc binds its console's slave on
 * /dev/console): the new devpts has no pty yet. Make that one (ptmx opened
 * until the kernel gives its index) and keep its master, for tty.c to take
 * (mntns_take_pty()): it gives the slave its state back and hands the master
 * to the runtime.
 */
static int make_bind_pty(struct build *b, int src, const MntEntry *e)
{
	const MntEntry *s = b->mnt->me[src];
	const char *rel = rel_to(e->root, s->root);
	struct mnt_pty *p;
	char *end;
	long index;
	int fd;

	if (s->fstype != FSTYPE__DEVPTS || !*rel)
		return 0;
	index = strtol(rel, &end, 10);
	if (end == rel || *end || index < 0 || index >= 4096)
		return 0;
	for (int i = 0; i < b->sh->nr_ptys; i++)
		if (b->sh->ptys[i].dev == s->root_dev && b->sh->ptys[i].index == index)
			return 0;
	if (strcmp(s->root, "/"))
		return pr_fail(-EOPNOTSUPP, "mount %u binds pty %ld of devpts mount %u, whose root is %s, not /\n",
			       e->mnt_id, index, s->mnt_id, s->root);
	if (b->sh->nr_ptys == MNT_MAX_PTYS)
		return pr_fail(-EOPNOTSUPP, "mount %u: more than %d ptys bound\n", e->mnt_id, MNT_MAX_PTYS);
	fd = openat(b->fd[src], "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	fd = fd < 0 ? -errno : tty_ptmx_index(b->ctx->proc_fd, fd, (int)index);
	if (fd < 0)
		return pr_fail(fd, "mount %u: can't make pty %ld in devpts mount %u to bind it: %s\n", e->mnt_id, index,
			       s->mnt_id, strerror(-fd));
	p = &b->sh->ptys[b->sh->nr_ptys++];
	p->dev = s->root_dev;
	p->index = (int)index;
	p->fd = fd;
	pr_info("pty %ld made in devpts mount %u for mount %u\n", index, s->mnt_id, e->mnt_id);
	return 0;
}

/*
 * Make mount i at target. -EAGAIN: what it is bound from is not made yet.
 * *ret_fd is its root.
 */
static int make_one(struct build *b, int i, int target, int *ret_fd)
{
	struct rst_mnt *m = b->mnt;
	int k = m->ns_of[i], nroot = m->ns_roots[k], src, mfd, ret, base;
	const MntEntry *e = m->me[i], *root = m->me[nroot];
	bool peer;

	if (e->ext_mount) {
		const char *path = e->ext_key ? ext_path(e) : NULL;

		if (!path)
			return pr_fail(-ENOENT, "mount %u at %s is external (key %s): give its path with --external "
						"mnt[%s]:PATH\n",
				       e->mnt_id, e->mountpoint, e->ext_key ?: "", e->ext_key ?: "");
		if (!b->outside || b->outside[i] < 0)
			return pr_fail(-EINVAL, "external mount %u at %s: no clone of %s was made\n",
				       e->mnt_id, e->mountpoint, path);
		mfd = b->outside[i];
		b->outside[i] = -1;
	} else if ((src = bind_source(b, e, &peer)) >= 0) {
		ret = make_bind_pty(b, src, e);
		if (ret)
			return ret;
		mfd = clone_from(b, src, rel_to(e->root, b->mnt->me[src]->root), k);
		if (mfd < 0)
			return pr_fail(mfd, "can't bind %s of mount %u for mount %u: %s\n", e->root,
				       b->mnt->me[src]->mnt_id, e->mnt_id, strerror(-mfd));
		ret = peer ? 0 : set_prop(mfd, e->master_id ? MS_SLAVE : MS_PRIVATE);
		if (!ret && !peer && e->shared_id)
			ret = set_prop(mfd, MS_SHARED);
		if (ret) {
			close(mfd);
			return pr_fail(ret, "can't set the propagation of mount %u: %s\n", e->mnt_id, strerror(-ret));
		}
	} else if (e->master_id) {
		return -EAGAIN;
	} else if (ext_source(m, e) >= 0) {
		/* a copy of an external mount of another namespace: bound from it once it is made */
		return -EAGAIN;
	} else if (e->fstype == FSTYPE__UNSUPPORTED) {
		bool like_root = master_outside(b->mnt, e) && e->master_id == root->master_id;

		if (e->root_dev != root->root_dev || !path_under(e->root, root->root))
			return pr_fail(-EOPNOTSUPP, "mount %u at %s: a %s criu can't make again\n", e->mnt_id,
				       e->mountpoint, fs_name(e));
		/* a slave of the root's outside master: a clone of the root mount (a slave of it too) */
		mfd = like_root ? clone_from(b, nroot, rel_to(e->root, root->root), k)
				: clone_at(b->rootdirs ? b->rootdirs[k] : -EBADF, rel_to(e->root, root->root));
		if (mfd < 0)
			return pr_fail(mfd, "can't bind %s of the root %s for mount %u at %s: %s\n", e->root,
				       like_root ? "mount" : "directory", e->mnt_id, e->mountpoint, strerror(-mfd));
		ret = like_root ? 0 : set_prop(mfd, MS_PRIVATE);
		if (!ret && e->shared_id)
			ret = set_prop(mfd, MS_SHARED);
		if (ret) {
			close(mfd);
			return pr_fail(ret, "can't set the propagation of mount %u: %s\n", e->mnt_id, strerror(-ret));
		}
	} else if ((base = sb_base(m, e)) != i && base >= 0) {
		/* its superblock is made for another mount first (maybe in another namespace) */
		if (b->fd[base] < 0)
			return -EAGAIN;
		return pr_fail(-EINVAL, "mount %u at %s (root %s): its %s is made for mount %u (root %s), which has no "
					"mount above its root to bind it from\n",
			       e->mnt_id, e->mountpoint, e->root, fs_name(e), m->me[base]->mnt_id, m->me[base]->root);
	} else {
		ret = make_fresh(b, e, target, ret_fd);
		if (!ret && e->shared_id)
			ret = set_prop(*ret_fd, MS_SHARED);
		return ret;
	}
	ret = attach(mfd, target);
	if (ret) {
		close(mfd);
		return pr_fail(ret, "can't attach mount %u at %s: %s\n", e->mnt_id, e->mountpoint, strerror(-ret));
	}
	*ret_fd = mfd;
	/* attached first: the master is read back from mountinfo */
	return e->ext_mount ? set_outside_prop(b, mfd, e, ext_path(e)) : 0;
}

/* The per-mount flags, as dumped: read-only, nosuid, nodev, noexec, atime. */
static int set_flags(int mfd, const MntEntry *e)
{
	struct mount_attr a = { .attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					    MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME |
					    MOUNT_ATTR_NOSYMFOLLOW };

	if (e->flags & MS_RDONLY)
		a.attr_set |= MOUNT_ATTR_RDONLY;
	if (e->flags & MS_NOSUID)
		a.attr_set |= MOUNT_ATTR_NOSUID;
	if (e->flags & MS_NODEV)
		a.attr_set |= MOUNT_ATTR_NODEV;
	if (e->flags & MS_NOEXEC)
		a.attr_set |= MOUNT_ATTR_NOEXEC;
	if (e->flags & MS_NODIRATIME)
		a.attr_set |= MOUNT_ATTR_NODIRATIME;
	if (e->flags & MS_NOSYMFOLLOW)
		a.attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
	if (e->flags & MS_NOATIME)
		a.attr_set |= MOUNT_ATTR_NOATIME;
	else if (e->flags & MS_RELATIME)
		a.attr_set |= MOUNT_ATTR_RELATIME;
	else
		a.attr_set |= MOUNT_ATTR_STRICTATIME;
	if (mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof(a)))
		return pr_fail_errno("can't set the flags of mount %u at %s", e->mnt_id, e->mountpoint);
	return 0;
}

/* ------------------------------------------------------ the helper: the tree */

static int open_target(struct build *b, int i, int *ret_fd)
{
	const MntEntry *e = b->mnt->me[i];
	int p = find_me(b->mnt, e->parent_mnt_id);
	const char *rel = rel_to(e->mountpoint, b->mnt->me[p]->mountpoint);
	int fd;

	fd = open_beneath(b->fd[p], rel, O_PATH);
	if (fd < 0 && errno == EXDEV) {
		/* under a mount made on the parent: the path as the parent's mount shows it, still beneath it */
		fd = open_under(b->fd[p], rel, O_PATH, true);
		pr_debug("mountpoint %s of mount %u is under another mount of its parent\n", e->mountpoint, e->mnt_id);
	}
	if (fd < 0)
		return pr_fail_errno("no mountpoint %s for mount %u", e->mountpoint, e->mnt_id);
	*ret_fd = fd;
	return 0;
}

static int build_tree(struct build *b, bool late)
{
	struct rst_mnt *m = b->mnt;
	int left = late ? m->nr_late : m->nr - m->nr_ns - m->nr_late, ret;

	while (left > 0) {
		int made = 0;

		for (int i = 0; i < m->nr; i++) {
			int p = find_me(m, m->me[i]->parent_mnt_id), target = -1, fd = -1;

			if (b->fd[i] >= 0 || is_ns_root(m, i) || m->late[i] != late || b->fd[p] < 0)
				continue;
			ret = enter_ns(b, m->ns_of[i]) ?: open_target(b, i, &target);
			if (ret)
				return ret;
			ret = make_one(b, i, target, &fd);
			close(target);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				return ret;
			b->fd[i] = fd;
			pr_debug("mount %u at %s made (namespace %u)\n", m->me[i]->mnt_id, m->me[i]->mountpoint,
				 m->ns_ids[m->ns_of[i]]);
			made++;
			left--;
		}
		if (!made)
			return pr_fail(-EINVAL, "%d mounts can't be made: each is a slave of a group none of the others "
						"is in, or bound from one that can't be made\n",
				       left);
	}
	return 0;
}

/* The flags and unbindable of namespace k's mounts (mount_setattr() works in the caller's namespace). */
static int finish_tree(struct build *b, int k, bool late)
{
	struct rst_mnt *m = b->mnt;
	int ret = enter_ns(b, k);

	for (int i = 0; i < m->nr && !ret; i++) {
		if (m->late[i] != late || m->ns_of[i] != k)
			continue;
		ret = set_flags(b->fd[i], m->me[i]);
	}
	for (int i = 0; i < m->nr && !ret; i++)
		if (m->late[i] == late && m->ns_of[i] == k && m->me[i]->has_unbindable && m->me[i]->unbindable &&
		    set_prop(b->fd[i], MS_UNBINDABLE))
			return pr_fail_errno("can't make mount %u unbindable", m->me[i]->mnt_id);
	return ret;
}

/*
 * Namespace k: a new one, made private, its root mount a copy of the root
 * directory stacked on its root.
 */
static int make_root(struct build *b, int k)
{
	int r = b->mnt->ns_roots[k], mfd;
	const MntEntry *root = b->mnt->me[r];
	const char *dir = opts.root ?: "/";

	if (!opts.root && strcmp(root->root, "/"))
		return pr_fail(-EINVAL, "the tree's root mount is %s of its filesystem, not its root: use --root\n",
			       root->root);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return pr_fail_errno("can't make a private mount namespace");
	b->ns_fds[k] = openat(b->ctx->proc_fd, "self/ns/mnt", O_RDONLY | O_CLOEXEC);
	b->rootdirs[k] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	b->oldroots[k] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->ns_fds[k] < 0 || b->rootdirs[k] < 0 || b->oldroots[k] < 0)
		return pr_fail_errno("can't open the root %s or the new mount namespace", dir);
	b->cur = k;
	mfd = b->outside[r];
	b->outside[r] = -1;
	if (move_mount(mfd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH)) {
		close(mfd);
		return pr_fail_errno("can't put the root %s on /", dir);
	}
	b->fd[r] = mfd;
	return set_outside_prop(b, mfd, root, dir);
}

/* In criu's namespace still: clones of the root directory (for each namespace) and of each external mount's path. */
static int clone_outside(struct build *b)
{
	struct rst_mnt *m = b->mnt;
	const char *dir = opts.root ?: "/";

	b->outside = xmalloc(m->nr * sizeof(int));
	if (!b->outside)
		return -ENOMEM;
	for (int i = 0; i < m->nr; i++) {
		const char *path = is_ns_root(m, i) ? dir
				   : m->me[i]->ext_mount && m->me[i]->ext_key ? ext_path(m->me[i]) : NULL;

		b->outside[i] = -1;
		if (!path || m->late[i])
			continue;
		b->outside[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (b->outside[i] < 0)
			return pr_fail_errno("can't bind %s for mount %u at %s", path, m->me[i]->mnt_id,
					     m->me[i]->mountpoint);
	}
	return 0;
}

static int enter_root(struct build *b, int k)
{
	int ret = enter_ns(b, k);

	if (ret)
		return ret;
	/*
	 * setns() put this process's root on the topmost mount on the
	 * namespace's root, the tree's root mount: back to the one under it
	 * first, which pivot_root() then detaches
	 */
	if (fchdir(b->oldroots[k]) || chroot(".") || fchdir(b->fd[b->mnt->ns_roots[k]]) ||
	    syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
		return pr_fail_errno("can't pivot_root into the tree's mount namespace %u", b->mnt->ns_ids[k]);
	return 0;
}

/* Every namespace, each made from criu's (so that none is a copy of another's mounts). */
static int make_roots(struct build *b)
{
	_cleanup_close_ int criu_ns = openat(b->ctx->proc_fd, "self/ns/mnt", O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (criu_ns < 0)
		return pr_fail_errno("can't open criu's mount namespace");
	for (int k = 0; k < b->mnt->nr_ns && !ret; k++) {
		if (k && setns(criu_ns, CLONE_NEWNS))
			return pr_fail_errno("can't go back to criu's mount namespace");
		ret = make_root(b, k);
	}
	return ret;
}

static void __attribute__((noreturn)) helper_main(struct build *b, int sk)
{
	struct rst_mnt *m = b->mnt;
	int ret;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	b->ns_fds = xmalloc(m->nr_ns * sizeof(int));
	b->rootdirs = xmalloc(m->nr_ns * sizeof(int));
	b->oldroots = xmalloc(m->nr_ns * sizeof(int));
	ret = b->ns_fds && b->rootdirs && b->oldroots ? 0 : -ENOMEM;
	for (int k = 0; !ret && k < m->nr_ns; k++)
		b->ns_fds[k] = b->rootdirs[k] = b->oldroots[k] = -1;
	if (!ret)
		ret = clone_outside(b);
	if (!ret)
		ret = make_roots(b);
	if (!ret)
		ret = build_tree(b, false);
	for (int k = 0; !ret && k < m->nr_ns; k++)
		ret = finish_tree(b, k, false);
	for (int k = 0; !ret && k < m->nr_ns; k++)
		ret = enter_root(b, k);
	for (int i = 0; i < m->nr; i++)
		b->sh->fds[i] = b->fd[i];
	for (int k = 0; b->ns_fds && k < m->nr_ns; k++)
		b->sh->fds[m->nr + k] = b->ns_fds[k];
	if (ret && log_first_err())
		snprintf(b->sh->msg, sizeof(b->sh->msg), "%s", log_first_err());
	b->sh->err = ret;
	c = 0;
	if (write(sk, &c, 1) != 1)
		_exit(1);
	/* the controller takes the fds, then closes its end */
	while (read(sk, &c, 1) > 0)
		;
	_exit(0);
}

/* ------------------------------------------------------ the controller */

static int take_fds(struct rst_ctx *ctx, struct build_shared *sh, pid_t pid)
{
	struct rst_mnt *m = ctx->mnt;
	_cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);

	if (pidfd < 0)
		return pr_fail_errno("can't open a pidfd of the mount helper");
	for (int i = 0; i < m->nr; i++) {
		if (m->late[i])
			continue;
		m->fds[i] = sys_pidfd_getfd(pidfd, sh->fds[i], 0);
		if (m->fds[i] < 0)
			return pr_fail_errno("can't take the fd of mount %u", m->me[i]->mnt_id);
	}
	for (int i = 0; i < sh->nr_ptys; i++) {
		m->ptys[i] = sh->ptys[i];
		m->ptys[i].fd = sys_pidfd_getfd(pidfd, sh->ptys[i].fd, 0);
		if (m->ptys[i].fd < 0)
			return pr_fail_errno("can't take the master of pty %d", sh->ptys[i].index);
		m->nr_ptys = i + 1;
	}
	for (int k = 0; k < m->nr_ns; k++) {
		m->ns_fds[k] = sys_pidfd_getfd(pidfd, sh->fds[m->nr + k], 0);
		if (m->ns_fds[k] < 0)
			return pr_fail_errno("can't take the fd of mount namespace %u", m->ns_ids[k]);
	}
	m->ns_fd = m->id ? m->ns_fds[ns_index(m, m->id)] : -1;
	return 0;
}

/*
 * External mounts made by the root stub (runc binds /dev/null over files of
 * /proc: its masked paths): their paths are cloned here, in criu's namespace,
 * and the stub, which inherits these fds, attaches them in the tree's.
 */
static int clone_late_external(struct rst_mnt *m)
{
	for (int i = 0; i < m->nr; i++) {
		const MntEntry *e = m->me[i];
		const char *path = e->ext_mount && e->ext_key ? ext_path(e) : NULL;

		if (!m->late[i] || !path)
			continue;	/* no path: make_one() names the missing --external */
		m->late_ext[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (m->late_ext[i] < 0)
			return pr_fail_errno("can't bind %s for mount %u at %s", path, e->mnt_id, e->mountpoint);
	}
	return 0;
}

static bool has_fstype(const struct rst_mnt *m, uint32_t fstype)
{
	for (int i = 0; i < m->nr; i++)
		if (m->me[i]->fstype == fstype)
			return true;
	return false;
}

int mntns_restore_prepare(struct rst_ctx *ctx)
{
	struct rst_mnt *m = ctx->mnt;
	size_t size;
	struct build b = { .mnt = m, .ctx = ctx, .cur = -1 };
	struct build_shared *sh;
	int sk[2], ret, status, ipc;
	pid_t pid;
	char c;

	if (!m)
		return 0;
	size = sizeof(*sh) + (m->nr + m->nr_ns) * sizeof(int);
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -ENOMEM;
	b.sh = sh;
	b.fd = m->fds;	/* the helper's copy: all -1 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk)) {
		munmap(sh, size);
		return pr_fail_errno("socketpair");
	}
	/* mqueue mounts show the IPC namespace of their mounter: the helper is in the root task's */
	ipc = has_fstype(m, FSTYPE__MQUEUE) ? ns_root_fd(ctx, NS_IPC) : -1;
	if (ipc < -1) {
		close(sk[0]);
		close(sk[1]);
		munmap(sh, size);
		return ipc;
	}
	pid = fork();
	if (pid == 0) {
		close(sk[0]);
		if (ipc >= 0 && setns(ipc, CLONE_NEWIPC)) {
			pr_fail_errno("mount helper: can't join the root task's IPC namespace");
			_exit(1);
		}
		helper_main(&b, sk[1]);
	}
	close(sk[1]);
	if (pid < 0) {
		close(sk[0]);
		munmap(sh, size);
		return pr_fail_errno("can't fork the mount helper");
	}
	ret = read(sk[0], &c, 1) == 1 ? sh->err : -EIO;
	if (ret)
		pr_fail(ret, "the mount tree could not be built: %s\n", sh->msg[0] ? sh->msg : strerror(-ret));
	else
		ret = take_fds(ctx, sh, pid);
	if (!ret)
		ret = clone_late_external(m);
	close(sk[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	munmap(sh, size);
	if (!ret)
		pr_info("mount namespaces built: %d, %d mounts\n", m->nr_ns, m->nr);
	return ret;
}

/*
 * The root stub: the late mounts (proc of the tree's pid namespace, what is
 * on them or bound from them), in each namespace, with the controller's
 * fds, which it still holds; then into the root task's namespace.
 */
static int stub_enter_root(struct rst_ctx *ctx)
{
	struct rst_mnt *m = ctx->mnt;
	struct build b = { .mnt = m, .ctx = ctx, .cur = -1, .outside = m->late_ext, .ns_fds = m->ns_fds };
	int ret = 0;

	if (m->nr_late) {
		/* this stub's copy of the controller's fds of the mounts made so far */
		b.fd = m->fds;
		ret = build_tree(&b, true);
		for (int k = 0; k < m->nr_ns && !ret; k++)
			ret = finish_tree(&b, k, true);
		if (ret)
			return ret;
	}
	if (setns(m->ns_fd >= 0 ? m->ns_fd : m->criu_ns, CLONE_NEWNS))
		return pr_fail_errno("can't join the root task's mount namespace");
	return 0;
}

/*
 * Another stub, in another namespace than its parent's: it has the service
 * fds only, and opens the namespace through criu's /proc, as the
 * controller's fd of it (or goes back to criu's through criu's pidfd).
 */
static int stub_join(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct rst_mnt *m = ctx->mnt;
	uint32_t id = core_mntns_id(me);
	_cleanup_close_ int fd = -1;
	char path[64];
	int k;

	if (me->state == TASK_DEAD || !me->parent || id == core_mntns_id(me->parent))
		return 0;
	if (criu_ns_id(ctx, id)) {
		if (setns(ctx->ctl_pidfd, CLONE_NEWNS))
			return pr_fail_errno("task %d: can't go back to criu's mount namespace", me->pid);
		return 0;
	}
	k = ns_index(m, id);
	if (k < 0)
		return pr_fail(-EINVAL, "task %d: no mount namespace %u\n", me->pid, id);
	snprintf(path, sizeof(path), "%d/fd/%d", ctx->ctl_pid, m->ns_fds[k]);
	fd = openat(ctx->proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS))
		return pr_fail_errno("task %d: can't join mount namespace %u", me->pid, id);
	return 0;
}

int mntns_stub_enter(struct rst_ctx *ctx, struct pstree_item *me)
{
	if (!ctx->mnt)
		return 0;
	return ctx->in_stub ? stub_join(ctx, me) : stub_enter_root(ctx);
}

int mntns_take_pty(struct rst_ctx *ctx, int mnt_id, int index)
{
	struct rst_mnt *m = ctx->mnt;
	int i = m ? find_me(m, mnt_id) : -1, fd;

	for (int k = 0; i >= 0 && k < m->nr_ptys; k++) {
		if (m->ptys[k].dev != m->me[i]->root_dev || m->ptys[k].index != index || m->ptys[k].fd < 0)
			continue;
		fd = m->ptys[k].fd;
		m->ptys[k].fd = -1;
		return fd;
	}
	return -ENOENT;
}

int mntns_open_file(struct rst_ctx *ctx, int mnt_id, const char *path, int flags)
{
	struct rst_mnt *m = ctx->mnt;
	struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = RESOLVE_NO_XDEV | RESOLVE_BENEATH };
	const char *rel;
	int i, fd;

	if (!m)
		return -ENOENT;
	/* openat2() refuses O_PATH with any flag O_PATH ignores (O_NOCTTY, O_LARGEFILE...) */
	if (flags & O_PATH) {
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
		how.flags = flags | O_CLOEXEC;
	}
	i = find_me(m, mnt_id);
	if (i < 0 || m->fds[i] < 0)
		return -ENOENT;
	if (!path_under(path, m->me[i]->mountpoint))
		return -EXDEV;
	rel = rel_to(path, m->me[i]->mountpoint);
	if (!*rel) {
		/* the mount's root itself (a directory, or a file bind-mounted) */
		char self[64];

		snprintf(self, sizeof(self), "self/fd/%d", m->fds[i]);
		fd = openat(ctx->proc_fd, self, (flags | O_CLOEXEC) & ~O_NOFOLLOW);
		return fd < 0 ? -errno : fd;
	}
	fd = (int)syscall(SYS_openat2, m->fds[i], rel, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------ the controller, in the tree's namespace */

int mntns_visit(struct rst_ctx *ctx, struct mntns_visit *v)
{
	*v = (struct mntns_visit){ .ns = -1, .root = -1, .cwd = -1 };
	if (!ctx->mnt)
		return 0;
	v->ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	v->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	v->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* the root task in criu's namespace: mntns_visit_mount() may go into another of the tree's */
	if (v->ns < 0 || v->root < 0 || v->cwd < 0 || (ctx->mnt->ns_fd >= 0 && setns(ctx->mnt->ns_fd, CLONE_NEWNS))) {
		int ret = pr_fail_errno("can't go into the tree's mount namespace");

		mntns_visit_end(v);
		return ret;
	}
	return 0;
}

int mntns_visit_mount(struct rst_ctx *ctx, int mnt_id)
{
	struct rst_mnt *m = ctx->mnt;
	int i = m && mnt_id >= 0 ? find_me(m, mnt_id) : -1;

	if (!m || mnt_id < 0)
		return 0;
	if (i < 0)
		return pr_fail(-EINVAL, "no mount %d in the tree's mount namespaces\n", mnt_id);
	if (m->ns_fds[m->ns_of[i]] == m->ns_fd)
		return 0;
	if (setns(m->ns_fds[m->ns_of[i]], CLONE_NEWNS))
		return pr_fail_errno("can't go into mount namespace %u", m->ns_ids[m->ns_of[i]]);
	return 1;
}

int mntns_visit_mount_end(struct rst_ctx *ctx)
{
	struct rst_mnt *m = ctx->mnt;

	if (setns(m->ns_fd >= 0 ? m->ns_fd : m->criu_ns, CLONE_NEWNS))
		return pr_fail_errno("can't come back to the root task's mount namespace");
	return 0;
}

int mntns_visit_end(struct mntns_visit *v)
{
	int ret = 0;

	if (v->ns >= 0 && (setns(v->ns, CLONE_NEWNS) || fchdir(v->root) || chroot(".") || fchdir(v->cwd)))
		ret = pr_fail_errno("can't come back from the tree's mount namespace to criu's");
	closep(&v->ns);
	closep(&v->root);
	closep(&v->cwd);
	*v = (struct mntns_visit){ .ns = -1, .root = -1, .cwd = -1 };
	return ret;
}
