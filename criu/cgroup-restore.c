// SPDX-License-Identifier: GPL-2.0
/*
 * cgroups at restore (Documentation/cgroups.md). Before any task exists,
 * criu makes the directories of cgroup.img as --manage-cgroups says (under
 * --cgroup-root when given) and checks that every cgroup a task goes to is
 * there. Each stub then joins its set's cgroups itself, first thing, before
 * it builds memory or forks: its children and threads inherit them. Once
 * every task is in, the remaining properties are written; a failed restore
 * removes the directories it made.
 *
 * Hierarchies are used where criu sees them mounted (its mountinfo).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "cgroup: "
#include "cgroup.h"
#include "common.h"
#include "cr_options.h"
#include "image.h"
#include "log.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"

#include "cgroup.pb-c.h"
#include "core.pb-c.h"

struct cg_rdir {
	char *abs;		/* mount point + path */
	CgroupDirEntry *e;	/* NULL: a parent criu had to make */
	const char *hier;
	bool created;
	bool props;		/* its properties are restored */
};

struct cg_rset {
	uint32_t id;
	struct cg_members m;	/* the paths after --cgroup-root */
	char **procs;		/* per member: its cgroup.procs, resolved by cg_rst_prepare(); NULL when unused */
	char **roots;		/* per member: the cgroup.procs of its cgroup namespace root (cgroup-ns.c) */
};

struct cg_rst {
	CgroupEntry *ce;
	uint32_t root_set;
	struct cg_rset *sets;	/* the image's, and last criu's own (id root_set) */
	int nr_sets;
	struct cg_rdir *dirs;	/* parents first */
	int nr_dirs;
	char *mountinfo;
	char **hiers;		/* per controller of the image: its member name */
	struct cg_members self;	/* the restoring criu's own cgroups, where the stubs start */
};

/* ------------------------------------------------------ helpers */

static char *hier_name(const CgControllerEntry *c)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < c->n_cnames; i++)
		len += strlen(c->cnames[i]) + 1;
	s = xzalloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < c->n_cnames; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, c->cnames[i]);
	}
	return s;
}

static const char *hier_msg(const char *hier)
{
	return hier[0] ? hier : "cgroup2";
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static struct cg_rset *find_set(struct cg_rst *cg, uint32_t id)
{
	for (int i = 0; i < cg->nr_sets; i++)
		if (cg->sets[i].id == id)
			return &cg->sets[i];
	return NULL;
}

/* m names the cgroup the restoring criu itself is in (so every stub is, by inheritance) */
static bool stays_in_criu_cgroup(struct cg_rst *cg, const struct cg_member *m)
{
	const struct cg_member *own = cg_members_find(&cg->self, m->name);

	return own && !m->cgns_prefix && !strcmp(own->path, m->path);
}

/* Every task's member of hier (the dumping criu's set aside) stays in criu's cgroup. */
static bool hier_stays_with_criu(struct cg_rst *cg, const char *hier)
{
	for (int s = 0; s < cg->nr_sets; s++) {
		const struct cg_member *m = cg_members_find(&cg->sets[s].m, hier);

		if (cg->sets[s].id != cg->root_set && m && !stays_in_criu_cgroup(cg, m))
			return false;
	}
	return true;
}

/* The set a task starts in: its nearest ancestor's with one, else the restoring criu's. */
static uint32_t inherited_set(struct rst_ctx *ctx, struct pstree_item *parent)
{
	for (; parent; parent = parent->parent)
		if (parent->cg_set)
			return parent->cg_set;
	return ctx->cg->root_set;
}

static bool needs_join(struct rst_ctx *ctx, struct pstree_item *item)
{
	if (!ctx->cg || opts.manage_cgroups == CG_MODE_IGNORE || !item->cg_set)
		return false;
	return item->cg_set != inherited_set(ctx, item->parent) || cgns_needs_unshare(item);
}

/* ------------------------------------------------------ reading */

static int add_set(struct cg_rst *cg, uint32_t id, struct cg_members *m)
{
	struct cg_rset *n = realloc(cg->sets, (cg->nr_sets + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	cg->sets = n;
	n = &cg->sets[cg->nr_sets++];
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->m = *m;
	return 0;
}

static int copy_set(struct cg_rst *cg, const CgSetEntry *se)
{
	struct cg_members m = { .m = xzalloc((se->n_ctls + 1) * sizeof(*m.m)) };

	if (!m.m)
		return -ENOMEM;
	for (size_t i = 0; i < se->n_ctls; i++) {
		m.m[i].name = xstrdup(se->ctls[i]->name);
		m.m[i].path = xstrdup(se->ctls[i]->path);
		m.nr++;
		if (!m.m[i].name || !m.m[i].path) {
			cg_members_free(&m);
			return -ENOMEM;
		}
		m.m[i].cgns_prefix = se->ctls[i]->has_cgns_prefix ? se->ctls[i]->cgns_prefix : 0;
		if (m.m[i].cgns_prefix > strlen(m.m[i].path)) {
			cg_members_free(&m);
			return pr_fail(-EINVAL, "cgroup.img: set %u: cgns_prefix %u is longer than %s\n", se->id,
				       m.m[i].cgns_prefix, m.m[i].path);
		}
	}
	return add_set(cg, se->id, &m);
}

/*
 * A task's set: CRIU 4.2 writes it in the leader's thread_core (as for
 * every thread) and no longer in task_core, where we write it (and CRIU
 * reads it when the other is absent); the thread's one wins, as in CRIU.
 */
static uint32_t task_cg_set(const CoreEntry *core)
{
	if (core->thread_core && core->thread_core->has_cg_set)
		return core->thread_core->cg_set;
	return core->tc->has_cg_set ? core->tc->cg_set : 0;
}

int cg_rst_read(struct rst_ctx *ctx, int dfd, uint32_t root_set)
{
	struct cg_rst *cg = xzalloc(sizeof(*cg));
	struct pstree_item *item;
	struct cr_img *img;
	int ret = 0;

	if (!cg)
		return -ENOMEM;
	ctx->cg = cg;
	cg->root_set = root_set;
	img = open_image_at(dfd, CR_FD_CGROUP, O_RSTR);
	if (!img)
		return pr_fail_errno("can't open cgroup.img");
	if (!img_is_empty(img))
		ret = pb_read_one(img, (void **)&cg->ce, PB_CGROUP);
	close_image(img);
	for (size_t i = 0; !ret && cg->ce && i < cg->ce->n_sets; i++)
		ret = copy_set(cg, cg->ce->sets[i]);
	if (ret)
		return ret;
	for_each_pstree_item(&ctx->tree, item) {
		item->cg_set = task_cg_set(rsti(item)->core[0]);
		item->cgns_id = rsti(item)->core[0]->ids && rsti(item)->core[0]->ids->has_cgroup_ns_id ?
					rsti(item)->core[0]->ids->cgroup_ns_id : 0;
		/* CRIU writes every task's id, criu's own (inventory root_ids) too: that one is ours 0 */
		if (item->cgns_id == ctx->dump_criu_ns_id[NS_CGROUP])
			item->cgns_id = 0;
		if (cgns_needs_unshare(item) && opts.manage_cgroups == CG_MODE_IGNORE)
			return pr_fail(-EINVAL, "task %d has a cgroup namespace of its own: not with "
						"--manage-cgroups=ignore, which would leave it in criu's\n", item->pid);
		if (cgns_needs_unshare(item) && (!item->cg_set || item->cg_set == root_set))
			return pr_fail(-EINVAL, "task %d has a cgroup namespace of its own but no cgroup set with "
						"its root\n", item->pid);
		for (int i = 1; i < item->nr_threads; i++) {
			ThreadCoreEntry *th = rsti(item)->core[i]->thread_core;

			if (!th || !th->has_cg_set || !item->cg_set || th->cg_set == item->cg_set)
				continue;
			if (th->cg_set != root_set && !find_set(cg, th->cg_set))
				return pr_fail(-EINVAL, "thread %d of task %d is in cgroup set %u, which cgroup.img does "
							"not have\n", item->threads[i], item->pid, th->cg_set);
			if (!item->cg_thread_sets)
				item->cg_thread_sets = xzalloc(item->nr_threads * sizeof(*item->cg_thread_sets));
			if (!item->cg_thread_sets)
				return -ENOMEM;
			item->cg_thread_sets[i] = th->cg_set;
		}
		if (!item->cg_set || item->cg_set == root_set)
			continue;
		if (!find_set(cg, item->cg_set))
			return pr_fail(-EINVAL, "task %d is in cgroup set %u, which cgroup.img does not have\n",
				       item->pid, item->cg_set);
	}
	return 0;
}

/* ------------------------------------------------------ properties */

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return write_file_at(AT_FDCWD, path, val);
}

static int read_str(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int set_perms(const char *dir, const char *file, const CgroupPerms *p)
{
	char path[PATH_MAX];

	if (!p)
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", dir, file ? "/" : "", file ?: "");
	if (chown(path, p->uid, p->gid) || chmod(path, p->mode & 07777))
		return pr_fail_errno("can't give %s its owner %u:%u and mode %o", path, p->uid, p->gid, p->mode & 07777);
	return 0;
}

/* Is word one of the space-separated words of list? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ' ');

		if ((size_t)(e - p) == n && !strncmp(p, word, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* "+a +b" for the dumped controllers, "-c" for those enabled now and not then */
static int write_subtree_control(const char *dir, const char *want)
{
	char now[1024], line[2048] = "", *save = NULL;
	_cleanup_free_ char *w = xstrdup(want);
	int ret;

	if (!w)
		return -ENOMEM;
	ret = read_str(dir, "cgroup.subtree_control", now, sizeof(now));
	if (ret)
		return ret;
	for (char *c = strtok_r(now, " ", &save); c; c = strtok_r(NULL, " ", &save))
		if (!has_word(want, c)) {
			strncat(line, " -", sizeof(line) - strlen(line) - 1);
			strncat(line, c, sizeof(line) - strlen(line) - 1);
		}
	for (char *c = strtok_r(w, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		strncat(line, " +", sizeof(line) - strlen(line) - 1);
		strncat(line, c, sizeof(line) - strlen(line) - 1);
	}
	return line[0] ? write_str(dir, "cgroup.subtree_control", line + 1) : 0;
}

static int restore_prop(const struct cg_rdir *d, const CgroupPropEntry *p)
{
	int ret;

	if (!strcmp(p->name, "cgroup.subtree_control"))
		ret = write_subtree_control(d->abs, p->value);
	else if (!strcmp(p->name, "cgroup.type") && strcmp(p->value, "threaded"))
		ret = 0;	/* only "threaded" can be written */
	else if (!strcmp(p->name, "memory.swappiness") && !strcmp(p->value, "60"))
		ret = 0;	/* the default, which newer kernels refuse to be written below the root */
	else if (!strcmp(p->name, "memory.oom_control") && !strcmp(p->value, "0"))
		ret = 0;
	else
		ret = write_str(d->abs, p->name, p->value);
	if (ret == -EOPNOTSUPP && !strcmp(p->name, "memory.kmem.limit_in_bytes"))
		ret = 0;	/* gone from the kernel's memory controller */
	if (ret)
		return pr_fail(ret, "can't restore %s/%s = '%s': %s\n", d->abs, p->name, p->value, strerror(-ret));
	pr_info("%s/%s = '%s'\n", d->abs, p->name, p->value);
	return set_perms(d->abs, p->name, p->perms);
}

/*
 * CRIU dumps cgroup2's cgroup.freeze; "0" is what every cgroup criu makes
 * has already (and soft mode leaves an existing one alone). A frozen one
 * ("1") is still refused: criu does not restore frozen cgroups.
 */
static bool is_thawed_v2(const struct cg_rdir *d, const CgroupPropEntry *p)
{
	return !d->hier[0] && !strcmp(p->name, "cgroup.freeze") && p->value && !strcmp(p->value, "0");
}

static int restore_props(const struct cg_rdir *d, bool early)
{
	for (size_t i = 0; d->e && i < d->e->n_properties; i++) {
		const CgroupPropEntry *p = d->e->properties[i];
		const struct cg_prop_desc *desc = cg_prop_find(d->hier, p->name);
		int ret;

		if (!desc && is_thawed_v2(d, p))
			continue;
		if (!desc)
			return pr_fail(-EINVAL, "cgroup.img: %s has property %s, which criu does not restore\n", d->abs,
				       p->name);
		if (desc->when == CGP_PERMS) {
			ret = early ? set_perms(d->abs, p->name, p->perms) : 0;
		} else if ((desc->when == CGP_EARLY) == early) {
			ret = restore_prop(d, p);
		} else {
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------ directories */

static int add_rdir(struct cg_rst *cg, const char *abs, CgroupDirEntry *e, const char *hier, bool created)
{
	struct cg_rdir *n = realloc(cg->dirs, (cg->nr_dirs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	cg->dirs = n;
	n = &cg->dirs[cg->nr_dirs];
	n->abs = xstrdup(abs);
	if (!n->abs)
		return -ENOMEM;
	n->e = e;
	n->hier = hier;
	n->created = created;
	n->props = false;
	cg->nr_dirs++;
	return 0;
}

/* A new v1 cpuset cgroup has no CPUs or nodes: no task could join it. Give it its parent's. */
static int cpuset_inherit(const char *abs, const char *hier)
{
	char parent[PATH_MAX], val[4096];
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	if (!hier[0] || !cg_name_has(hier, "cpuset"))
		return 0;
	snprintf(parent, sizeof(parent), "%s", abs);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int ret = read_str(parent, files[i], val, sizeof(val));

		if (!ret && val[0])
			ret = write_str(abs, files[i], val);
		if (ret)
			return pr_fail(ret, "can't give %s its parent's %s: %s\n", abs, files[i], strerror(-ret));
	}
	return 0;
}

/* Make abs and the parents it lacks (not mnt), each recorded as made by criu; abs is the last one. */
static int make_dir(struct cg_rst *cg, const char *mnt, const char *abs, const char *hier, CgroupDirEntry *e)
{
	char path[PATH_MAX];
	size_t base = strlen(mnt), len;
	int ret;

	len = snprintf(path, sizeof(path), "%s", abs);
	for (size_t end = base + 1; end <= len; end++) {
		if (path[end] != '/' && path[end] != '\0')
			continue;
		path[end] = '\0';
		if (end == len || access(path, F_OK)) {
			if (mkdir(path, 0755))
				return pr_fail_errno("can't make cgroup %s", path);
			pr_info("made cgroup %s\n", path);
			ret = add_rdir(cg, path, end == len ? e : NULL, hier, true);
			if (!ret)
				ret = cpuset_inherit(path, hier);
			if (ret)
				return ret;
		}
		if (end < len)
			path[end] = '/';
	}
	return 0;
}

static int prepare_dir(struct cg_rst *cg, const char *mnt, const char *hier, const char *rel, CgroupDirEntry *e)
{
	char abs[PATH_MAX];
	enum cg_mode mode = opts.manage_cgroups;
	struct cg_rdir *d;
	int ret;

	if (snprintf(abs, sizeof(abs), "%s%s", mnt, rel) >= (int)sizeof(abs))
		return pr_fail(-ENAMETOOLONG, "cgroup path %s%s is too long\n", mnt, rel);
	if (access(abs, F_OK) == 0) {
		if (mode == CG_MODE_STRICT)
			return pr_fail(-EEXIST, "cgroup %s exists already (--manage-cgroups=strict)\n", abs);
		ret = add_rdir(cg, abs, e, hier, false);
		if (ret)
			return ret;
		d = &cg->dirs[cg->nr_dirs - 1];
		/* as CRIU: soft and none leave an existing cgroup's properties alone */
		d->props = mode == CG_MODE_FULL || mode == CG_MODE_PROPS;
		if (mode != CG_MODE_NONE && strcmp(rel, "/"))
			ret = set_perms(abs, NULL, e->dir_perms);
	} else {
		if (errno != ENOENT)
			return pr_fail_errno("can't look at cgroup %s", abs);
		if (mode == CG_MODE_NONE || mode == CG_MODE_PROPS)
			return pr_fail(-ENOENT, "cgroup %s does not exist (--manage-cgroups=%s makes none)\n", abs,
				       mode == CG_MODE_NONE ? "none" : "props");
		ret = make_dir(cg, mnt, abs, hier, e);
		if (ret)
			return ret;
		d = &cg->dirs[cg->nr_dirs - 1];
		d->props = true;
		ret = set_perms(abs, NULL, e->dir_perms);
	}
	/* the root cgroup of a hierarchy has no properties to write (as CRIU skips it) */
	if (!strcmp(rel, "/"))
		d->props = false;
	if (!ret && d->props)
		ret = restore_props(d, true);
	for (size_t i = 0; !ret && i < e->n_children; i++) {
		char sub[PATH_MAX];

		snprintf(sub, sizeof(sub), "%s/%s", strcmp(rel, "/") ? rel : "", e->children[i]->dir_name);
		ret = prepare_dir(cg, mnt, hier, sub, e->children[i]);
	}
	return ret;
}

/* --cgroup-root at restore for this hierarchy: its controller's own, else the global one, else NULL. */
static const char *new_root_of(const CgControllerEntry *c, const char *hier)
{
	const char *global = NULL, *own = NULL;

	for (int i = 0; i < opts.nr_cg_roots; i++) {
		const struct cg_root_opt *o = &opts.cg_roots[i];

		if (!o->ctl)
			global = o->path;
		else if (cg_name_has(hier, o->ctl))
			own = o->path;
	}
	return own ?: global;
}

/* The head dir's path "/" + dir_name moves to root: so do the members of hier below it. */
static int rewrite_root(struct cg_rst *cg, const char *hier, const char *old, const char *root)
{
	for (int s = 0; s < cg->nr_sets; s++)
		for (int i = 0; i < cg->sets[s].m.nr; i++) {
			struct cg_member *m = &cg->sets[s].m.m[i];
			char *n;

			if (strcmp(m->name, hier) || !path_under(m->path, old))
				continue;
			if (m->cgns_prefix) {
				/* as CRIU: the namespace's root becomes the new root */
				if (asprintf(&n, "%s%s", strcmp(root, "/") ? root : "", m->path + m->cgns_prefix) < 0)
					return -ENOMEM;
				m->cgns_prefix = strcmp(root, "/") ? strlen(root) : 0;
			} else if (asprintf(&n, "%s%s", strcmp(root, "/") ? root : "", m->path + strlen(old)) < 0) {
				return -ENOMEM;
			}
			if (!n[0]) {
				free(n);
				n = xstrdup("/");
				if (!n)
					return -ENOMEM;
			}
			pr_info("%s: %s becomes %s (--cgroup-root)\n", hier_msg(hier), m->path, n);
			free(m->path);
			m->path = n;
		}
	return 0;
}

static int prepare_controller(struct cg_rst *cg, CgControllerEntry *c, const char *hier)
{
	_cleanup_free_ char *mnt = NULL;
	const char *root;
	int ret;

	if (!c->n_dirs)
		return 0;
	ret = cg_hier_dir(cg->mountinfo, hier, &mnt);
	if (ret && hier_stays_with_criu(cg, hier) && opts.manage_cgroups != CG_MODE_FULL &&
	    opts.manage_cgroups != CG_MODE_STRICT) {
		/*
		 * CRIU mounts every hierarchy itself and keeps all of it; a named
		 * one of another program's, mounted nowhere here, has no task of
		 * the tree below criu's cgroup: its directories are not ours.
		 */
		pr_warn("the %s hierarchy is mounted nowhere here: its directories in cgroup.img are not made; "
			"the tasks stay in criu's cgroup there\n", hier_msg(hier));
		return 0;
	}
	if (ret)
		return pr_fail(ret, "the %s hierarchy of cgroup.img is not mounted where criu runs\n", hier_msg(hier));
	root = new_root_of(c, hier);
	for (size_t i = 0; i < c->n_dirs; i++) {
		CgroupDirEntry *e = c->dirs[i];
		char old[PATH_MAX];

		snprintf(old, sizeof(old), "/%s", e->dir_name[0] == '/' ? e->dir_name + 1 : e->dir_name);
		if (root) {
			ret = rewrite_root(cg, hier, old, root);
			if (ret)
				return ret;
			snprintf(old, sizeof(old), "%s", root);
		}
		ret = prepare_dir(cg, mnt, hier, old, e);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------ the sets */

/*
 * Every member's cgroup.procs, which must exist by now; "" for a member of
 * a hierarchy that is mounted nowhere and where the task stays with criu.
 */
static int resolve_set(struct cg_rst *cg, struct cg_rset *set)
{
	if (set->procs)
		return 0;
	set->procs = xzalloc((set->m.nr + 1) * sizeof(*set->procs));
	set->roots = xzalloc((set->m.nr + 1) * sizeof(*set->roots));
	if (!set->procs || !set->roots)
		return -ENOMEM;
	for (int i = 0; i < set->m.nr; i++) {
		const struct cg_member *m = &set->m.m[i];
		_cleanup_free_ char *mnt = NULL;
		struct stat st;
		int ret;

		ret = cg_hier_dir(cg->mountinfo, m->name, &mnt);
		if (ret && stays_in_criu_cgroup(cg, m)) {
			/* a hierarchy mounted nowhere (a named one left by some program): nobody moves in it */
			pr_info("%s is not mounted; the task stays in %s with criu\n", hier_msg(m->name), m->path);
			set->procs[i] = xstrdup("");
			set->roots[i] = xstrdup("");
			if (!set->procs[i] || !set->roots[i])
				return -ENOMEM;
			continue;
		}
		if (ret)
			return pr_fail(ret, "a task goes to cgroup %s of the %s hierarchy, which is not mounted where "
					    "criu runs\n", m->path, hier_msg(m->name));
		if (asprintf(&set->procs[i], "%s%s/cgroup.procs", mnt, strcmp(m->path, "/") ? m->path : "") < 0) {
			set->procs[i] = NULL;
			return -ENOMEM;
		}
		if (stat(set->procs[i], &st))
			return pr_fail_errno("a task goes to cgroup %s%s, which is not there", mnt, m->path);
		if (asprintf(&set->roots[i], "%s%.*s/cgroup.procs", mnt, (int)m->cgns_prefix, m->path) < 0) {
			set->roots[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static int add_criu_set(struct rst_ctx *ctx)
{
	_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct cg_members m;
	int ret;

	if (self < 0)
		return pr_fail_errno("can't open /proc/self");
	ret = cg_read_members(self, 0, &m);
	if (ret)
		return pr_fail(ret, "can't read /proc/self/cgroup: %s\n", strerror(-ret));
	ret = add_set(ctx->cg, ctx->cg->root_set, &m);
	if (ret)
		cg_members_free(&m);
	return ret;
}

int cg_rst_prepare(struct rst_ctx *ctx)
{
	struct cg_rst *cg = ctx->cg;
	struct pstree_item *item;
	_cleanup_close_ int self = -1;
	int ret = 0;

	if (!cg || opts.manage_cgroups == CG_MODE_IGNORE)
		return 0;
	self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (self < 0 || read_file_alloc_at(self, "mountinfo", &cg->mountinfo) < 0)
		return pr_fail_errno("can't read /proc/self/mountinfo");
	ret = cg_read_members(self, 0, &cg->self);
	if (ret)
		return pr_fail(ret, "can't read /proc/self/cgroup: %s\n", strerror(-ret));
	if (cg->ce && cg->ce->n_controllers) {
		cg->hiers = xzalloc(cg->ce->n_controllers * sizeof(*cg->hiers));
		if (!cg->hiers)
			return -ENOMEM;
	}
	for (size_t i = 0; !ret && cg->ce && i < cg->ce->n_controllers; i++) {
		cg->hiers[i] = hier_name(cg->ce->controllers[i]);
		ret = cg->hiers[i] ? prepare_controller(cg, cg->ce->controllers[i], cg->hiers[i]) : -ENOMEM;
	}
	if (!ret && !find_set(cg, cg->root_set))
		ret = add_criu_set(ctx);
	for_each_pstree_item(&ctx->tree, item) {
		if (!ret && needs_join(ctx, item)) {
			ret = resolve_set(cg, find_set(cg, item->cg_set));
			if (!ret)
				pr_info("task %d goes to cgroup set %u\n", item->pid, item->cg_set);
		}
		for (int i = 1; !ret && item->cg_thread_sets && i < item->nr_threads; i++)
			if (item->cg_thread_sets[i]) {
				ret = resolve_set(cg, find_set(cg, item->cg_thread_sets[i]));
				if (!ret)
					pr_info("thread %d of task %d goes to cgroup set %u\n", item->threads[i],
						item->pid, item->cg_thread_sets[i]);
			}
	}
	return ret;
}

/*
 * A path of criu's own mount namespace, opened from a stub that may be in
 * the tree's already (whose /sys/fs/cgroup need not show the same
 * hierarchies): through criu's /proc/PID/root.
 */
int cg_open_criu_path(int proc_fd, pid_t ctl_pid, const char *path)
{
	char rel[PATH_MAX];

	if (snprintf(rel, sizeof(rel), "%d/root%s", ctl_pid, path) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	return openat(proc_fd, rel, O_WRONLY | O_CLOEXEC);
}

int cg_stub_join(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct cg_rset *set;

	if (!needs_join(ctx, me))
		return 0;
	set = find_set(ctx->cg, me->cg_set);
	if (!set || !set->procs)
		return pr_fail(-EINVAL, "task %d: cgroup set %u was not prepared\n", me->pid, me->cg_set);
	if (cgns_needs_unshare(me)) {
		int ret = cgns_stub_unshare(me, set->roots, set->m.nr, ctx->proc_fd, ctx->ctl_pid);

		if (ret)
			return ret;
	}
	for (int i = 0; i < set->m.nr; i++) {
		_cleanup_close_ int fd = -1;

		if (!set->procs[i][0])
			continue;
		fd = cg_open_criu_path(ctx->proc_fd, ctx->ctl_pid, set->procs[i]);
		/* "0" is the writer itself, whatever pid namespace it is in */
		if (fd < 0 || write(fd, "0", 1) != 1)
			return pr_fail_errno("task %d can't join %s", me->pid, set->procs[i]);
	}
	return 0;
}

/* The members of set where it differs from the task's own: write tid to their thread file. */
static int move_thread(struct rst_ctx *ctx, struct pstree_item *item, int idx)
{
	struct cg_rset *set = find_set(ctx->cg, item->cg_thread_sets[idx]);
	struct cg_rset *own = find_set(ctx->cg, item->cg_set);
	pid_t tid = rst_real_pid(ctx, item->threads[idx]);
	char tids[16];

	snprintf(tids, sizeof(tids), "%d", tid);
	for (int i = 0; set && i < set->m.nr; i++) {
		const struct cg_member *m = &set->m.m[i], *o = own ? cg_members_find(&own->m, m->name) : NULL;
		/* v1 moves a thread through "tasks", cgroup2 (threaded) through "cgroup.threads" */
		const char *file = m->name[0] ? "tasks" : "cgroup.threads";
		char path[PATH_MAX];
		size_t len = strlen(set->procs[i]) - strlen("cgroup.procs");
		_cleanup_close_ int fd = -1;

		if ((o && !strcmp(o->path, m->path)) || !set->procs[i][0])
			continue;
		snprintf(path, sizeof(path), "%.*s%s", (int)len, set->procs[i], file);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, tids, strlen(tids)) != (ssize_t)strlen(tids))
			return pr_fail_errno("can't move thread %d of task %d into %s", item->threads[idx], item->pid,
					     path);
		pr_info("thread %d of task %d: %s\n", item->threads[idx], item->pid, path);
	}
	return 0;
}

int cg_rst_threads(struct rst_ctx *ctx)
{
	struct pstree_item *item;

	if (!ctx->cg || opts.manage_cgroups == CG_MODE_IGNORE)
		return 0;
	for_each_pstree_item(&ctx->tree, item)
		for (int i = 1; item->cg_thread_sets && i < item->nr_threads; i++) {
			int ret = item->cg_thread_sets[i] ? move_thread(ctx, item, i) : 0;

			if (ret)
				return ret;
		}
	return 0;
}

int cg_rst_late(struct rst_ctx *ctx)
{
	struct cg_rst *cg = ctx->cg;

	for (int i = 0; cg && i < cg->nr_dirs; i++) {
		int ret = cg->dirs[i].props ? restore_props(&cg->dirs[i], false) : 0;

		if (ret)
			return ret;
	}
	return 0;
}

void cg_rst_fini(struct rst_ctx *ctx, bool failed)
{
	struct cg_rst *cg = ctx->cg;

	if (!cg)
		return;
	for (int i = cg->nr_dirs - 1; i >= 0; i--) {
		if (failed && cg->dirs[i].created && rmdir(cg->dirs[i].abs))
			pr_warn("can't remove cgroup %s made by the failed restore: %s\n", cg->dirs[i].abs,
				strerror(errno));
		free(cg->dirs[i].abs);
	}
	free(cg->dirs);
	for (int i = 0; i < cg->nr_sets; i++) {
		cg_members_free(&cg->sets[i].m);
		for (int k = 0; cg->sets[i].procs && cg->sets[i].procs[k]; k++)
			free(cg->sets[i].procs[k]);
		for (int k = 0; cg->sets[i].roots && cg->sets[i].roots[k]; k++)
			free(cg->sets[i].roots[k]);
		free(cg->sets[i].procs);
		free(cg->sets[i].roots);
	}
	free(cg->sets);
	for (size_t i = 0; cg->hiers && cg->ce && i < cg->ce->n_controllers; i++)
		free(cg->hiers[i]);
	free(cg->hiers);
	free(cg->mountinfo);
	cg_members_free(&cg->self);
	if (cg->ce)
		pb_free(cg->ce, PB_CGROUP);
	free(cg);
	ctx->cg = NULL;
}
