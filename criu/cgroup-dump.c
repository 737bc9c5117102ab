// SPDX-License-Identifier: GPL-2.0
/*
 * cgroups at dump (Documentation/cgroups.md): every live thread's cgroups
 * become a set (a task's core names its set, as CRIU's cg_set), and
 * cgroup.img gets the sets other than criu's own with, per hierarchy, the
 * directories from each of the tasks' cgroups down and their properties.
 */
#include <dirent.h>
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

#include "cgroup.pb-c.h"

/* a cgroup tree deeper or wider than this is refused rather than walked on */
#define CG_MAX_DIRS 4096
#define CG_PROP_MAX 4096

/* ------------------------------------------------------ sets */

static bool same_set(const struct cg_members *a, const struct cg_members *b)
{
	return a->nr == b->nr && !cg_members_diff(a, b);
}

/* The id of the set equal to m (m is taken over), a new one if none. */
static int set_id(struct cg_dump *d, struct cg_members *m, uint32_t *ret)
{
	struct cg_members *n;

	for (int i = 0; i < d->nr_sets; i++)
		if (same_set(&d->sets[i], m)) {
			cg_members_free(m);
			*ret = i + 1;
			return 0;
		}
	n = realloc(d->sets, (d->nr_sets + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	d->sets = n;
	d->sets[d->nr_sets++] = *m;
	*ret = d->nr_sets;
	pr_info("set %u: %d hierarchies\n", *ret, m->nr);
	return 0;
}

/* --cgroup-dump-controller: drop the hierarchies not named (CRIU compares the whole name) */
static void filter_members(struct cg_members *m)
{
	int k = 0;

	if (!opts.nr_cg_dump_ctls)
		return;
	for (int i = 0; i < m->nr; i++) {
		bool keep = false;

		for (int j = 0; j < opts.nr_cg_dump_ctls && !keep; j++)
			keep = !strcmp(m->m[i].name, opts.cg_dump_ctls[j]);
		if (keep) {
			m->m[k++] = m->m[i];
		} else {
			free(m->m[i].name);
			free(m->m[i].path);
		}
	}
	m->nr = k;
}

static int read_members(int proc_dfd, pid_t tid, struct cg_members *ret)
{
	int err = cg_read_members(proc_dfd, tid, ret);

	if (!err)
		filter_members(ret);
	return err;
}

/* A member other than criu's must be in a hierarchy criu sees mounted (its directories are read there). */
static int check_mounted(struct cg_dump *d, struct pstree_item *item, const struct cg_members *m)
{
	const struct cg_members *criu = &d->sets[0];

	for (int i = 0; i < m->nr; i++) {
		const struct cg_member *c = cg_members_find(criu, m->m[i].name);
		_cleanup_free_ char *dir = NULL;

		if (c && !strcmp(c->path, m->m[i].path))
			continue;
		if (!c)
			return pr_fail(-EOPNOTSUPP, "task %d is in the %s hierarchy, which criu is not in\n", item->pid,
				       m->m[i].name);
		if (cg_hier_dir(d->mountinfo, m->m[i].name, &dir))
			return pr_fail(-EOPNOTSUPP,
				       "task %d is in cgroup %s of the %s hierarchy, which is not mounted where criu "
				       "runs: its cgroups can't be dumped\n",
				       item->pid, m->m[i].path, m->m[i].name[0] ? m->m[i].name : "cgroup2");
	}
	return 0;
}

/* Is the member's cgroup frozen (v1 freezer FROZEN or FREEZING, cgroup2 "frozen 1" or cgroup.freeze 1)? */
static bool member_frozen(const char *mountinfo, const struct cg_member *m, char *what, size_t size)
{
	_cleanup_free_ char *mnt = NULL;
	_cleanup_close_ int dfd = -1;
	char buf[256];

	if (!cg_name_has(m->name, m->name[0] ? "freezer" : ""))
		return false;
	if (cg_hier_dir(mountinfo, m->name, &mnt))
		return false;	/* can't tell: the seize says it if it does not stop */
	snprintf(what, size, "%s%s", mnt, m->path);
	dfd = open(what, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	if (m->name[0])
		return read_file_at(dfd, "freezer.state", buf, sizeof(buf)) >= 0 && strncmp(buf, "THAWED", 6);
	if (read_file_at(dfd, "cgroup.freeze", buf, sizeof(buf)) >= 0 && buf[0] == '1')
		return true;
	return read_file_at(dfd, "cgroup.events", buf, sizeof(buf)) >= 0 && strstr(buf, "frozen 1");
}

int cg_refuse_frozen(int proc_dfd, pid_t pid, const char *mountinfo)
{
	struct cg_members m;
	char what[PATH_MAX];
	int ret = cg_read_members(proc_dfd, 0, &m);

	if (ret)
		return pr_fail(ret, "can't read /proc/%d/cgroup: %s\n", pid, strerror(-ret));
	for (int i = 0; !ret && i < m.nr; i++)
		if (member_frozen(mountinfo, &m.m[i], what, sizeof(what)))
			ret = pr_fail(-EBUSY, "task %d is in the frozen cgroup %s: criu can't run anything in it; "
					      "thaw it, or dump with --freeze-cgroup (which freezes and thaws it)\n",
				      pid, what);
	cg_members_free(&m);
	return ret;
}

/*
 * A thread in other cgroups than its leader gets a set of its own (CRIU's
 * thread_core_entry.cg_set); its cgroup namespace must be the leader's
 * (cgroup-ns.c checks).
 */
static int collect_thread(struct cg_dump *d, struct pstree_item *item, int idx, const struct cg_members *leader)
{
	struct cg_members its;
	pid_t tid = item->threads[idx];
	int ret;

	ret = read_members(item->proc_dfd, tid, &its);
	if (ret)
		return pr_fail(ret, "can't read /proc/%d/task/%d/cgroup: %s\n", item->pid, tid, strerror(-ret));
	if (same_set(&its, leader)) {
		cg_members_free(&its);
		return 0;
	}
	if (!item->cg_thread_sets) {
		item->cg_thread_sets = xzalloc(item->nr_threads * sizeof(*item->cg_thread_sets));
		if (!item->cg_thread_sets) {
			cg_members_free(&its);
			return -ENOMEM;
		}
	}
	ret = check_mounted(d, item, &its);
	if (ret) {
		cg_members_free(&its);
		return ret;
	}
	ret = set_id(d, &its, &item->cg_thread_sets[idx]);
	if (ret)
		cg_members_free(&its);
	else
		pr_info("thread %d of task %d is in cgroup set %u\n", tid, item->pid, item->cg_thread_sets[idx]);
	return ret;
}

static int collect_task(struct cg_dump *d, struct pstree_item *item)
{
	struct cg_members m;
	int ret;

	ret = cg_refuse_frozen(item->proc_dfd, item->pid, d->mountinfo);
	if (ret)
		return ret;
	ret = read_members(item->proc_dfd, 0, &m);
	if (ret)
		return pr_fail(ret, "can't read /proc/%d/cgroup: %s\n", item->pid, strerror(-ret));
	for (int i = 1; !ret && i < item->nr_threads; i++)
		ret = collect_thread(d, item, i, &m);
	if (!ret)
		ret = check_mounted(d, item, &m);
	if (!ret)
		ret = cgns_dump_task(&d->ns, item, &m);
	if (ret) {
		cg_members_free(&m);
		return ret;
	}
	ret = set_id(d, &m, &item->cg_set);
	if (ret)
		cg_members_free(&m);
	return ret;
}

int cg_dump_collect(struct pstree *t, struct cg_dump *d)
{
	_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct cg_members criu;
	struct pstree_item *item;
	uint32_t id;
	int ret;

	if (self < 0)
		return pr_fail_errno("can't open /proc/self");
	ret = read_members(self, 0, &criu);
	if (ret)
		return pr_fail(ret, "can't read /proc/self/cgroup: %s\n", strerror(-ret));
	ret = set_id(d, &criu, &id);
	if (ret) {
		cg_members_free(&criu);
		return ret;
	}
	if (read_file_alloc_at(self, "mountinfo", &d->mountinfo) < 0)
		return pr_fail_errno("can't read /proc/self/mountinfo");
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD)
			continue;
		ret = collect_task(d, item);
		if (ret)
			return ret;
	}
	return 0;
}

void cg_dump_fini(struct cg_dump *d)
{
	for (int i = 0; i < d->nr_sets; i++)
		cg_members_free(&d->sets[i]);
	free(d->sets);
	free(d->mountinfo);
	d->sets = NULL;
	d->mountinfo = NULL;
	d->nr_sets = 0;
}

/* ------------------------------------------------------ directories and properties */

struct dir_walk {
	const char *hier;	/* the member name */
	int nr_dirs;
	bool threaded;
};

struct prop_read {
	int dfd;
	const char *path;	/* for messages */
	CgroupPropEntry **props;
	size_t n;
	int err;
	struct dir_walk *w;
};

static CgroupPerms *perms_of(const struct stat *st)
{
	CgroupPerms *p = xzalloc(sizeof(*p));

	if (!p)
		return NULL;
	cgroup_perms__init(p);
	p->mode = st->st_mode;
	p->uid = st->st_uid;
	p->gid = st->st_gid;
	return p;
}

static void free_prop(CgroupPropEntry *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->value);
	free(p->perms);
	free(p);
}

static int read_prop_value(int fd, const char *name, char **ret)
{
	char buf[CG_PROP_MAX];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int v;

	if (n < 0)
		return -errno;
	if (n == sizeof(buf) - 1)
		return -EFBIG;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* CRIU keeps only the flag that can be written back */
	if (!strcmp(name, "memory.oom_control")) {
		if (sscanf(buf, "oom_kill_disable %d", &v) != 1)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%d", v);
	}
	*ret = xstrdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static void read_one_prop(const struct cg_prop_desc *d, void *arg)
{
	struct prop_read *r = arg;
	_cleanup_close_ int fd = -1;
	CgroupPropEntry *p, **n;
	struct stat st;
	int ret;

	if (r->err)
		return;
	fd = openat(r->dfd, d->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return;	/* not on this kernel, or the controller is not enabled here */
	if (fd < 0 || fstat(fd, &st)) {
		r->err = pr_fail_errno("can't open cgroup property %s/%s", r->path, d->name);
		return;
	}
	p = xzalloc(sizeof(*p));
	if (!p) {
		r->err = -ENOMEM;
		return;
	}
	cgroup_prop_entry__init(p);
	p->name = xstrdup(d->name);
	p->perms = perms_of(&st);
	ret = p->name && p->perms ? 0 : -ENOMEM;
	if (!ret && d->when == CGP_PERMS)
		p->value = xstrdup("");
	else if (!ret)
		ret = read_prop_value(fd, d->name, &p->value);
	if (!ret && !p->value)
		ret = -ENOMEM;
	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		pr_info("cgroup property %s/%s can't be read (%s): not dumped\n", r->path, d->name, strerror(-ret));
		free_prop(p);
		return;
	}
	n = ret ? NULL : realloc(r->props, (r->n + 1) * sizeof(*n));
	if (!n) {
		free_prop(p);
		r->err = ret ? pr_fail(ret, "can't read cgroup property %s/%s: %s\n", r->path, d->name,
				       strerror(-ret)) : -ENOMEM;
		return;
	}
	r->props = n;
	r->props[r->n++] = p;
	if (!strcmp(d->name, "cgroup.type") && !strcmp(p->value, "threaded"))
		r->w->threaded = true;
	if (!strcmp(d->name, "tasks"))
		r->w->threaded = true;	/* v1 puts threads anywhere, as CRIU marks it */
	pr_debug("%s/%s = '%s'\n", r->path, d->name, p->value);
}

static void free_dir(CgroupDirEntry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_children; i++)
		free_dir(e->children[i]);
	for (size_t i = 0; i < e->n_properties; i++)
		free_prop(e->properties[i]);
	free(e->children);
	free(e->properties);
	free(e->dir_perms);
	free(e->dir_name);
	free(e);
}

static int add_child(CgroupDirEntry *e, CgroupDirEntry *c)
{
	CgroupDirEntry **n = realloc(e->children, (e->n_children + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	e->children = n;
	e->children[e->n_children++] = c;
	return 0;
}

/* The directory rel ("a/b", below the mount dfd) and everything under it; entry name is its dir_name. */
static int walk_dir(struct dir_walk *w, int mnt_dfd, const char *rel, const char *name, CgroupDirEntry **ret_e)
{
	_cleanup_close_ int dfd = openat(mnt_dfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct prop_read r = { .path = rel, .w = w };
	CgroupDirEntry *e;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int ret = 0;

	if (dfd < 0 || fstat(dfd, &st))
		return pr_fail_errno("can't open cgroup %s", rel);
	if (++w->nr_dirs > CG_MAX_DIRS)
		return pr_fail(-E2BIG, "more than %d cgroups below the tasks' in the %s hierarchy\n", CG_MAX_DIRS,
			       w->hier[0] ? w->hier : "cgroup2");
	e = xzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	cgroup_dir_entry__init(e);
	e->dir_name = xstrdup(name);
	e->dir_perms = perms_of(&st);
	if (!e->dir_name || !e->dir_perms) {
		free_dir(e);
		return -ENOMEM;
	}
	r.dfd = dfd;
	cg_for_each_prop(w->hier, read_one_prop, &r);
	e->properties = r.props;
	e->n_properties = r.n;
	if (r.err) {
		free_dir(e);
		return r.err;
	}
	dir = fdopendir(dup(dfd));
	if (!dir) {
		free_dir(e);
		return pr_fail_errno("can't list cgroup %s", rel);
	}
	while (!ret && (de = readdir(dir))) {
		char sub[PATH_MAX];
		CgroupDirEntry *c;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub)) {
			ret = pr_fail(-ENAMETOOLONG, "cgroup path %s/%s is too long\n", rel, de->d_name);
			break;
		}
		ret = walk_dir(w, mnt_dfd, sub, de->d_name, &c);
		if (!ret && add_child(e, c)) {
			free_dir(c);
			ret = -ENOMEM;
		}
	}
	closedir(dir);
	if (ret) {
		free_dir(e);
		return ret;
	}
	*ret_e = e;
	return 0;
}

/* ------------------------------------------------------ the image */

/* Is path below (or equal to) dir? Both start with '/'. */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* --cgroup-root for this hierarchy at dump: the controller's own, else the global one, else NULL. */
static const char *dump_root_of(const char *hier)
{
	const char *global = NULL;

	for (int i = 0; i < opts.nr_cg_roots; i++) {
		const struct cg_root_opt *o = &opts.cg_roots[i];

		if (!o->ctl)
			global = o->path;
		else if (cg_name_has(hier, o->ctl))
			return o->path;
	}
	return global;
}

struct heads {
	char **paths;
	int nr;
};

static int heads_add(struct heads *h, const char *path)
{
	char **n;

	for (int i = 0; i < h->nr; i++)
		if (path_under(path, h->paths[i]))
			return 0;
	/* a new head swallows those below it */
	for (int i = 0; i < h->nr;)
		if (path_under(h->paths[i], path)) {
			free(h->paths[i]);
			h->paths[i] = h->paths[--h->nr];
		} else {
			i++;
		}
	n = realloc(h->paths, (h->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	h->paths = n;
	h->paths[h->nr] = xstrdup(path);
	return h->paths[h->nr] ? (h->nr++, 0) : -ENOMEM;
}

static void heads_free(struct heads *h)
{
	for (int i = 0; i < h->nr; i++)
		free(h->paths[i]);
	free(h->paths);
}

/* The directories to dump in hierarchy hier: from each task cgroup that is not criu's (nor the root). */
static int find_heads(struct cg_dump *d, const char *hier, struct heads *h)
{
	const struct cg_member *criu = cg_members_find(&d->sets[0], hier);
	const char *root = dump_root_of(hier);
	int ret = 0;

	for (int s = 1; !ret && s < d->nr_sets; s++) {
		const struct cg_member *m = cg_members_find(&d->sets[s], hier);

		if (!m || !strcmp(m->path, "/") || (criu && !strcmp(m->path, criu->path)))
			continue;
		if (root && !path_under(m->path, root))
			return pr_fail(-EINVAL, "--cgroup-root %s is not above the tasks' cgroup %s (%s hierarchy)\n",
				       root, m->path, hier[0] ? hier : "cgroup2");
		ret = heads_add(h, root && strcmp(root, "/") ? root : m->path);
	}
	return ret;
}

static void free_controller(CgControllerEntry *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_dirs; i++)
		free_dir(c->dirs[i]);
	for (size_t i = 0; i < c->n_cnames; i++)
		free(c->cnames[i]);
	free(c->dirs);
	free(c->cnames);
	free(c);
}

/* "cpu,cpuacct" -> { "cpu", "cpuacct" }; "" -> { "" } */
static int split_cnames(const char *hier, CgControllerEntry *c)
{
	const char *p = hier;

	do {
		const char *e = strchrnul(p, ',');
		char **n = realloc(c->cnames, (c->n_cnames + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->cnames = n;
		c->cnames[c->n_cnames] = strndup(p, e - p);
		if (!c->cnames[c->n_cnames])
			return -ENOMEM;
		c->n_cnames++;
		p = *e ? e + 1 : e;
	} while (*p);
	return 0;
}

static int dump_controller(struct cg_dump *d, const char *hier, CgControllerEntry **ret)
{
	struct dir_walk w = { .hier = hier };
	struct heads h = {};
	_cleanup_free_ char *mnt = NULL;
	_cleanup_close_ int mnt_dfd = -1;
	CgControllerEntry *c = xzalloc(sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	cg_controller_entry__init(c);
	err = split_cnames(hier, c);
	if (!err && opts.manage_cgroups != CG_MODE_IGNORE)
		err = find_heads(d, hier, &h);
	if (!err && h.nr) {
		err = cg_hier_dir(d->mountinfo, hier, &mnt);
		if (err)
			err = pr_fail(err, "the %s hierarchy is not mounted\n", hier[0] ? hier : "cgroup2");
		mnt_dfd = err ? -1 : open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!err && mnt_dfd < 0)
			err = pr_fail_errno("can't open %s", mnt);
	}
	c->dirs = h.nr ? xzalloc(h.nr * sizeof(*c->dirs)) : NULL;
	if (!err && h.nr && !c->dirs)
		err = -ENOMEM;
	for (int i = 0; !err && i < h.nr; i++) {
		pr_info("dumping the cgroups under %s%s\n", mnt, h.paths[i]);
		err = walk_dir(&w, mnt_dfd, h.paths[i] + 1, h.paths[i] + 1, &c->dirs[i]);
		if (!err)
			c->n_dirs++;
	}
	heads_free(&h);
	c->has_is_threaded = true;
	c->is_threaded = w.threaded;
	if (err) {
		free_controller(c);
		return err;
	}
	*ret = c;
	return 0;
}

/* The hierarchies of the written sets, each once, in the order first seen. */
static int list_hierarchies(struct cg_dump *d, const char ***ret, int *ret_nr)
{
	const char **l = NULL;
	int nr = 0;

	for (int s = 1; s < d->nr_sets; s++)
		for (int i = 0; i < d->sets[s].nr; i++) {
			const char *name = d->sets[s].m[i].name, **n;
			bool seen = false;

			for (int j = 0; j < nr && !seen; j++)
				seen = !strcmp(l[j], name);
			if (seen)
				continue;
			n = realloc(l, (nr + 1) * sizeof(*n));
			if (!n) {
				free(l);
				return -ENOMEM;
			}
			l = n;
			l[nr++] = name;
		}
	*ret = l;
	*ret_nr = nr;
	return 0;
}

static void free_entry(CgroupEntry *ce)
{
	for (size_t i = 0; i < ce->n_sets; i++) {
		if (ce->sets[i])
			free(ce->sets[i]->ctls);
		free(ce->sets[i]);
	}
	free(ce->sets);
	for (size_t i = 0; i < ce->n_controllers; i++)
		free_controller(ce->controllers[i]);
	free(ce->controllers);
}

/* The members point into d: only the arrays are allocated. */
static int fill_sets(struct cg_dump *d, CgroupEntry *ce, CgMemberEntry *members)
{
	ce->sets = xzalloc((d->nr_sets - 1) * sizeof(*ce->sets));
	if (!ce->sets)
		return -ENOMEM;
	for (int s = 1; s < d->nr_sets; s++) {
		CgSetEntry *se = xzalloc(sizeof(*se));

		if (!se)
			return -ENOMEM;
		ce->sets[ce->n_sets++] = se;
		cg_set_entry__init(se);
		se->id = s + 1;
		se->ctls = xzalloc(d->sets[s].nr * sizeof(*se->ctls) + 1);
		if (!se->ctls)
			return -ENOMEM;
		for (int i = 0; i < d->sets[s].nr; i++) {
			cg_member_entry__init(members);
			members->name = d->sets[s].m[i].name;
			members->path = d->sets[s].m[i].path;
			if (d->sets[s].m[i].cgns_prefix) {
				members->has_cgns_prefix = true;
				members->cgns_prefix = d->sets[s].m[i].cgns_prefix;
			}
			se->ctls[se->n_ctls++] = members++;
		}
	}
	return 0;
}

int cg_dump_write(int img_dfd, struct cg_dump *d)
{
	CgroupEntry ce = CGROUP_ENTRY__INIT;
	_cleanup_free_ CgMemberEntry *members = NULL;
	_cleanup_free_ const char **hiers = NULL;
	struct cr_img *img;
	int nr_hiers = 0, nr_members = 0, ret;

	if (d->nr_sets <= 1) {
		pr_info("every task is in criu's cgroups: no cgroup.img\n");
		return 0;
	}
	for (int s = 1; s < d->nr_sets; s++)
		nr_members += d->sets[s].nr;
	members = xzalloc((nr_members + 1) * sizeof(*members));
	ret = members ? fill_sets(d, &ce, members) : -ENOMEM;
	if (!ret)
		ret = list_hierarchies(d, &hiers, &nr_hiers);
	if (!ret && nr_hiers) {
		ce.controllers = xzalloc(nr_hiers * sizeof(*ce.controllers));
		ret = ce.controllers ? 0 : -ENOMEM;
	}
	for (int i = 0; !ret && i < nr_hiers; i++) {
		ret = dump_controller(d, hiers[i], &ce.controllers[i]);
		if (!ret)
			ce.n_controllers++;
	}
	if (!ret) {
		img = open_image_at(img_dfd, CR_FD_CGROUP, O_DUMP);
		if (!img)
			ret = pr_fail_errno("can't create cgroup.img");
		else {
			ret = pb_write_one(img, &ce, PB_CGROUP);
			int cl = close_image_checked(img);

			ret = ret ?: cl;
		}
	}
	free_entry(&ce);
	return ret;
}

