// SPDX-License-Identifier: GPL-2.0
/*
 * User namespaces (userns.h, Documentation/namespaces.md).
 *
 * What is restored: every task of the tree in criu's user namespace or in
 * one user namespace U, a child of criu's, that owns none of the tree's
 * other namespaces (its pid namespace included), each task in U having a
 * single thread and being dumpable. The restore keeps every stub in criu's
 * user namespace until its morph (fork, files and memory need criu's
 * privileges over criu's own objects), and the morph enters U with a remote
 * setns() as the step before the credentials.
 *
 * Ids: CRIU's images hold the credentials as the task sees them (in U).
 * /proc/PID/status shows them in the reader's namespace (criu's), so the
 * dump takes them down through the maps, and the morph sets the groups,
 * which a "deny" namespace forbids inside, before the setns(), taken up
 * through the maps again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "userns: "
#include "common.h"
#include "image.h"
#include "log.h"
#include "namespaces.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"
#include "userns.h"

#include "core.pb-c.h"
#include "userns.pb-c.h"

/* ------------------------------------------------------ maps */

static int parse_map(const char *buf, struct id_map *m)
{
	const char *p = buf;

	m->nr = 0;
	while (*p) {
		unsigned long a, b, c;
		int n;

		if (sscanf(p, "%lu %lu %lu%n", &a, &b, &c, &n) != 3)
			return -EINVAL;
		if (m->nr == USERNS_MAX_EXTENTS)
			return -E2BIG;
		m->e[m->nr++] = (struct id_extent){ (uint32_t)a, (uint32_t)b, (uint32_t)c };
		p += n;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return 0;
}

int id_map_read(int dfd, const char *path, struct id_map *m)
{
	char buf[USERNS_MAX_EXTENTS * 36];
	_cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return pr_fail_errno("can't open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return pr_fail_errno("can't read %s", path);
	buf[n] = '\0';
	if (parse_map(buf, m))
		return pr_fail(-EINVAL, "%s: can't parse '%s'\n", path, buf);
	return 0;
}

int id_map_up(const struct id_map *m, uint32_t id, uint32_t *ret)
{
	for (int i = 0; i < m->nr; i++)
		if (id >= m->e[i].first && id - m->e[i].first < m->e[i].count) {
			*ret = m->e[i].lower + (id - m->e[i].first);
			return 0;
		}
	return -ERANGE;
}

int id_map_down(const struct id_map *m, uint32_t id, uint32_t *ret)
{
	for (int i = 0; i < m->nr; i++)
		if (id >= m->e[i].lower && id - m->e[i].lower < m->e[i].count) {
			*ret = m->e[i].first + (id - m->e[i].lower);
			return 0;
		}
	return -ERANGE;
}

/* ------------------------------------------------------ dump */

static int stat_criu_userns(struct stat *st)
{
	if (stat("/proc/self/ns/user", st))
		return pr_fail_errno("can't stat /proc/self/ns/user");
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* The user namespace that ns_fd's namespace belongs to (req NS_GET_USERNS) or its parent (NS_GET_PARENT). */
static int ns_relative(int ns_fd, unsigned long req, struct stat *st)
{
	_cleanup_close_ int fd = ioctl(ns_fd, req);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		return -errno;
	return 0;
}

static const char *const owned_kinds[] = { "pid", "mnt", "uts", "ipc", "net", "cgroup", "time" };

/* The owner of the task's namespace of one kind, unless that namespace is criu's own; -ENOENT then. */
static int task_ns_owner(struct pstree_item *item, const char *kind, struct stat *owner)
{
	_cleanup_close_ int fd = -1;
	struct stat its, mine;
	char path[24];

	snprintf(path, sizeof(path), "ns/%s", kind);
	fd = openat(item->proc_dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;	/* ENOENT: the kernel has no such namespace */
	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	if (fstat(fd, &its) || stat(path, &mine))
		return -errno;
	if (same_file(&its, &mine))
		return -ENOENT;	/* restored by inheriting criu's */
	return ns_relative(fd, NS_GET_USERNS, owner);
}

/*
 * Every namespace of the task that is not criu's must be owned by criu's
 * user namespace: the restore makes them from stubs in it, and a namespace
 * owned by the tree's user namespace would come back owned by criu's.
 */
int userns_check_owners(struct pstree_item *item)
{
	struct stat criu_user, owner;
	int ret = stat_criu_userns(&criu_user);

	for (size_t i = 0; !ret && i < ARRAY_SIZE(owned_kinds); i++) {
		ret = task_ns_owner(item, owned_kinds[i], &owner);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			return pr_fail(ret, "task %d: can't find the owner of its %s namespace: %s\n", item->pid,
				       owned_kinds[i], strerror(-ret));
		if (!same_file(&owner, &criu_user))
			return pr_fail(-EOPNOTSUPP,
				       "task %d: its %s namespace is owned by user:[%lu], not by criu's user:[%lu]: a "
				       "namespace owned by another user namespace than criu's is not restored (it would "
				       "be owned by criu's, and the tree would lose its capabilities over it)\n",
				       item->pid, owned_kinds[i], (unsigned long)owner.st_ino,
				       (unsigned long)criu_user.st_ino);
	}
	return ret;
}

/* A task sharing its fs (cwd, root, umask: CLONE_FS) with another: sharers are a chain of parents and children. */
static bool fs_shared(struct pstree_item *item)
{
	struct pstree_item *child;

	if (item->fs_id != (uint32_t)item_vpid(item))
		return true;
	list_for_each_entry(child, &item->children, sibling)
		if (child->state != TASK_DEAD && child->fs_id == item->fs_id)
			return true;
	return false;
}

int userns_check_task(struct pstree_item *item)
{
	_cleanup_close_ int fd = -1;
	struct stat criu_user, parent;
	int ret;

	ret = stat_criu_userns(&criu_user);
	if (ret)
		return ret;
	if (item->nr_threads > 1)
		return pr_fail(-EOPNOTSUPP,
			       "task %d has %d threads and is in a user namespace of its own: only a single-threaded "
			       "task enters a user namespace (setns), threads in a user namespace are not restored\n",
			       item->pid, item->nr_threads);
	if (fs_shared(item))
		return pr_fail(-EOPNOTSUPP,
			       "task %d shares its fs (cwd, root, umask: CLONE_FS) with another task and is in a user "
			       "namespace of its own: the kernel lets only a task with an fs of its own enter a user "
			       "namespace, not restored\n",
			       item->pid);
	fd = openat(item->proc_dfd, "ns/user", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open /proc/%d/ns/user", item->pid);
	ret = ns_relative(fd, NS_GET_PARENT, &parent);
	if (ret == -EPERM || (!ret && !same_file(&parent, &criu_user)))
		return pr_fail(-EOPNOTSUPP,
			       "task %d is in a user namespace that is not a child of criu's: nested user namespaces "
			       "are not restored\n",
			       item->pid);
	if (ret)
		return pr_fail(ret, "task %d: can't find the parent of its user namespace: %s\n", item->pid,
			       strerror(-ret));
	return 0;
}

static void fill_extents(const struct id_map *m, UidGidExtent *e, UidGidExtent **pe)
{
	for (int i = 0; i < m->nr; i++) {
		uid_gid_extent__init(&e[i]);
		e[i].first = m->e[i].first;
		e[i].lower_first = m->e[i].lower;
		e[i].count = m->e[i].count;
		pe[i] = &e[i];
	}
}

static int write_one(int img_dfd, int type, int pb, uint32_t id, void *msg)
{
	struct cr_img *img = open_image_at(img_dfd, type, O_DUMP, id);
	int ret;

	if (!img)
		return pr_fail_errno("can't create the image of user namespace %u", id);
	ret = pb_write_one(img, msg, pb);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* In a helper that joined the namespace: its maps as its parent (criu's) sees them. */
int userns_dump(int img_dfd, uint32_t id)
{
	struct id_map uid, gid;
	UidGidExtent ue[USERNS_MAX_EXTENTS], ge[USERNS_MAX_EXTENTS];
	UidGidExtent *pu[USERNS_MAX_EXTENTS], *pg[USERNS_MAX_EXTENTS];
	UsernsEntry e = USERNS_ENTRY__INIT;
	UsernsExtEntry x = USERNS_EXT_ENTRY__INIT;
	char sg[16] = "";
	int ret;

	ret = id_map_read(AT_FDCWD, "/proc/self/uid_map", &uid);
	if (!ret)
		ret = id_map_read(AT_FDCWD, "/proc/self/gid_map", &gid);
	if (ret)
		return ret;
	if (read_file_at(AT_FDCWD, "/proc/self/setgroups", sg, sizeof(sg)) < 0)
		return pr_fail_errno("can't read the setgroups of user namespace %u", id);
	fill_extents(&uid, ue, pu);
	fill_extents(&gid, ge, pg);
	e.n_uid_map = uid.nr;
	e.uid_map = pu;
	e.n_gid_map = gid.nr;
	e.gid_map = pg;
	x.has_setgroups_deny = true;
	x.setgroups_deny = !strncmp(sg, "deny", 4);
	pr_info("user namespace %u: %d uid and %d gid extents, setgroups %s\n", id, uid.nr, gid.nr,
		x.setgroups_deny ? "deny" : "allow");
	ret = write_one(img_dfd, CR_FD_USERNS, PB_USERNS, id, &e);
	if (!ret)
		ret = write_one(img_dfd, CR_FD_USERNS_EXT, PB_USERNS_EXT, id, &x);
	return ret;
}

static int down_all(const struct id_map *m, uint32_t *v, int n, pid_t pid, const char *what)
{
	for (int i = 0; i < n; i++) {
		uint32_t in;

		if (id_map_down(m, v[i], &in))
			return pr_fail(-EOPNOTSUPP,
				       "task %d: its %s %u is not mapped in its user namespace: it can't be set inside "
				       "it, not restored\n",
				       pid, what, v[i]);
		v[i] = in;
	}
	return 0;
}

int userns_creds_inside(int thread_dfd, pid_t pid, uint32_t *uid, uint32_t *gid, uint32_t *groups, int ngroups)
{
	struct id_map um, gm;
	struct stat criu_user, its;
	int ret;

	ret = stat_criu_userns(&criu_user);
	if (ret)
		return ret;
	if (fstatat(thread_dfd, "ns/user", &its, 0))
		return pr_fail_errno("can't stat the user namespace of task %d", pid);
	if (same_file(&its, &criu_user))
		return 0;
	ret = id_map_read(thread_dfd, "uid_map", &um);
	if (!ret)
		ret = id_map_read(thread_dfd, "gid_map", &gm);
	if (!ret)
		ret = down_all(&um, uid, 4, pid, "uid");
	if (!ret)
		ret = down_all(&gm, gid, 4, pid, "gid");
	if (!ret)
		ret = down_all(&gm, groups, ngroups, pid, "supplementary group");
	return ret;
}

/* ------------------------------------------------------ restore */

struct rst_userns {
	uint32_t id;
	int fd;				/* the namespace, held by criu */
	struct id_map uid, gid;
	bool deny;
};

static void map_from_image(struct id_map *m, UidGidExtent **e, size_t n)
{
	m->nr = (int)n;
	for (size_t i = 0; i < n; i++)
		m->e[i] = (struct id_extent){ e[i]->first, e[i]->lower_first, e[i]->count };
}

static int read_userns(struct rst_ctx *ctx, struct rst_userns *u)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_USERNS, O_RSTR_REQ, u->id);
	UsernsExtEntry *x = NULL;
	UsernsEntry *e;
	int ret;

	if (!img)
		return pr_fail_errno("can't open userns-%u.img", u->id);
	ret = pb_read_one(img, (void **)&e, PB_USERNS);
	close_image(img);
	if (ret)
		return ret;
	if (e->n_uid_map > USERNS_MAX_EXTENTS || e->n_gid_map > USERNS_MAX_EXTENTS || !e->n_uid_map ||
	    !e->n_gid_map) {
		pb_free(e, PB_USERNS);
		return pr_fail(-EINVAL, "userns-%u.img: a map with no extents or more than %d\n", u->id,
			       USERNS_MAX_EXTENTS);
	}
	map_from_image(&u->uid, e->uid_map, e->n_uid_map);
	map_from_image(&u->gid, e->gid_map, e->n_gid_map);
	pb_free(e, PB_USERNS);

	/*
	 * Written by our dump only, which refuses a namespace owned by the tree's
	 * user namespace; CRIU's images don't say which user namespace owns the
	 * tree's other namespaces (its containers' user namespace owns them all).
	 */
	img = open_image_at(ctx->img_dfd, CR_FD_USERNS_EXT, O_RSTR, u->id);
	if (!img)
		return pr_fail_errno("can't open userns-ext-%u.img", u->id);
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-EOPNOTSUPP, "user namespace %u has no userns-ext-%u.img (a dump by CRIU's criu?): the "
					    "images don't say its setgroups, nor whether it owns the tree's other "
					    "namespaces; not restored\n",
			       u->id, u->id);
	}
	ret = pb_read_one(img, (void **)&x, PB_USERNS_EXT);
	close_image(img);
	if (ret)
		return ret;
	u->deny = x->has_setgroups_deny && x->setgroups_deny;
	pb_free(x, PB_USERNS_EXT);
	return 0;
}

static int write_map(pid_t pid, const char *name, const struct id_map *m)
{
	char path[64], buf[USERNS_MAX_EXTENTS * 36];
	_cleanup_close_ int fd = -1;
	size_t len = 0;

	for (int i = 0; i < m->nr; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m->e[i].first, m->e[i].lower,
				m->e[i].count);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open %s", path);
	if (write(fd, buf, len) != (ssize_t)len)
		return pr_fail_errno("can't write %s", path);
	return 0;
}

static int __attribute__((noreturn)) holder(int ready, int go)
{
	char c = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER))
		_exit(1);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	(void)!read(go, &c, 1);
	_exit(0);
}

static int fill_holder(struct rst_userns *u, pid_t pid)
{
	char path[64];
	int ret;

	ret = write_map(pid, "uid_map", &u->uid);
	if (!ret && u->deny) {
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "deny", 4) != 4)
			ret = pr_fail_errno("can't write %s", path);
	}
	if (!ret)
		ret = write_map(pid, "gid_map", &u->gid);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	u->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0)
		return pr_fail_errno("can't open %s", path);
	return 0;
}

/* A child that unshares a user namespace; criu writes its maps, keeps an fd of it, and kills it. */
static int make_userns(struct rst_userns *u)
{
	int ready[2], go[2], ret = 0;
	pid_t pid;
	char c;

	if (pipe2(ready, O_CLOEXEC))
		return pr_fail_errno("can't make a pipe");
	if (pipe2(go, O_CLOEXEC)) {
		close(ready[0]);
		close(ready[1]);
		return pr_fail_errno("can't make a pipe");
	}
	pid = fork();
	if (pid == 0)
		holder(ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	if (pid < 0)
		ret = pr_fail_errno("can't fork the holder of user namespace %u", u->id);
	else if (read(ready[0], &c, 1) != 1)
		ret = pr_fail(-EIO, "the holder of user namespace %u could not make it\n", u->id);
	else
		ret = fill_holder(u, pid);
	close(ready[0]);
	close(go[1]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (!ret)
		pr_info("user namespace %u made (fd %d), setgroups %s\n", u->id, u->fd, u->deny ? "deny" : "allow");
	return ret;
}

static uint32_t task_userns_id(struct rst_ctx *ctx, struct pstree_item *item)
{
	uint32_t id = ns_ids_get(rsti(item)->core[0]->ids, NS_USER);

	return id ?: ctx->dump_criu_ns_id[NS_USER];
}

static int plan_task(struct rst_ctx *ctx, struct pstree_item *item, uint32_t *found)
{
	uint32_t id = task_userns_id(ctx, item);

	item->ns_id[NS_USER] = id;
	if (!id || id == ctx->dump_criu_ns_id[NS_USER])
		return 0;
	if (*found && *found != id)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: task %d is in user namespace %u, another task in %u: only "
					    "one user namespace besides criu's is restored\n",
			       item->pid, item->pid, id, *found);
	if (item->nr_threads > 1)
		return pr_fail(-EOPNOTSUPP, "core-%d.img: task %d has %d threads in user namespace %u: threads in a "
					    "user namespace are not restored\n",
			       item->pid, item->pid, item->nr_threads, id);
	*found = id;
	return 0;
}

int userns_plan_restore(struct rst_ctx *ctx)
{
	struct pstree_item *item;
	uint32_t found = 0;
	int ret;

	for_each_pstree_item(&ctx->tree, item) {
		if (item->state == TASK_DEAD) {
			item->ns_id[NS_USER] = item->parent->ns_id[NS_USER];
			continue;
		}
		ret = plan_task(ctx, item, &found);
		if (ret)
			return ret;
	}
	if (!found)
		return 0;
	ctx->userns = xzalloc(sizeof(*ctx->userns));
	if (!ctx->userns)
		return -ENOMEM;
	ctx->userns->id = found;
	ctx->userns->fd = -1;
	ret = read_userns(ctx, ctx->userns);
	if (!ret)
		ret = make_userns(ctx->userns);
	return ret;
}

/* A task of U whose fs another task shares (the kernel refuses setns() into a user namespace then). */
static struct pstree_item *fs_sharer(struct rst_ctx *ctx, struct pstree_item *item)
{
	struct pstree_item *x;

	if (rsti(item)->fs_owner != item)
		return rsti(item)->fs_owner;
	for_each_pstree_item(&ctx->tree, x)
		if (x != item && x->state != TASK_DEAD && rsti(x)->fs_owner == item)
			return x;
	return NULL;
}

int userns_check_shares(struct rst_ctx *ctx)
{
	struct pstree_item *item, *other;

	if (!ctx->userns)
		return 0;
	for_each_pstree_item(&ctx->tree, item) {
		if (item->state == TASK_DEAD || !userns_task_enters(ctx, item))
			continue;
		other = fs_sharer(ctx, item);
		if (other)
			return pr_fail(-EOPNOTSUPP, "core-%d.img: task %d of user namespace %u shares its fs with task %d: "
						    "only a task with an fs of its own can enter a user namespace\n",
				       item->pid, item->pid, ctx->userns->id, other->pid);
	}
	return 0;
}

void userns_restore_free(struct rst_ctx *ctx)
{
	if (!ctx->userns)
		return;
	if (ctx->userns->fd >= 0)
		close(ctx->userns->fd);
	free(ctx->userns);
	ctx->userns = NULL;
}

bool userns_task_enters(struct rst_ctx *ctx, struct pstree_item *item)
{
	return ctx->userns && item->ns_id[NS_USER] == ctx->userns->id;
}

int userns_groups_outside(struct rst_ctx *ctx, const uint32_t *in, uint32_t *out, int n)
{
	for (int i = 0; i < n; i++)
		if (id_map_up(&ctx->userns->gid, in[i], &out[i]))
			return pr_fail(-EINVAL, "userns-%u.img: group %u is not in the gid map\n", ctx->userns->id,
				       in[i]);
	return 0;
}

int userns_fd(struct rst_ctx *ctx)
{
	return ctx->userns ? ctx->userns->fd : -1;
}
