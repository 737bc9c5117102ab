// SPDX-License-Identifier: GPL-2.0
/*
 * cgroups (Documentation/cgroups.md), what dump and restore share: the
 * membership of a task (/proc/PID/task/TID/cgroup, read through the task's
 * /proc directory fd), where a hierarchy is mounted (mountinfo), and the
 * table of properties criu dumps and restores. cgroup-dump.c and
 * cgroup-restore.c do the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PREFIX "cgroup: "
#include "cgroup.h"
#include "common.h"
#include "cr_options.h"
#include "log.h"

/* ------------------------------------------------------ parsing */

void cg_members_free(struct cg_members *m)
{
	for (int i = 0; i < m->nr; i++) {
		free(m->m[i].name);
		free(m->m[i].path);
	}
	free(m->m);
	m->m = NULL;
	m->nr = 0;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cg_member *)a)->name, ((const struct cg_member *)b)->name);
}

/* One "ID:NAME:PATH" line (no newline) appended to m. */
static int parse_member_line(const char *line, size_t len, struct cg_members *m)
{
	const char *c1 = memchr(line, ':', len), *c2;
	struct cg_member *n;

	if (!c1)
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', len - (c1 + 1 - line));
	if (!c2 || c1 == line || c2 + 1 >= line + len || c2[1] != '/')
		return -EINVAL;
	for (const char *p = line; p < c1; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	n = realloc(m->m, (m->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->m = n;
	n = &m->m[m->nr];
	n->cgns_prefix = 0;
	n->name = strndup(c1 + 1, c2 - c1 - 1);
	n->path = strndup(c2 + 1, line + len - c2 - 1);
	if (!n->name || !n->path) {
		free(n->name);
		free(n->path);
		return -ENOMEM;
	}
	m->nr++;
	return 0;
}

int cg_parse_members(const char *text, struct cg_members *ret)
{
	const char *p = text;
	int err;

	ret->nr = 0;
	ret->m = NULL;
	while (*p) {
		const char *e = strchrnul(p, '\n');

		if (e > p) {
			err = parse_member_line(p, e - p, ret);
			if (err) {
				cg_members_free(ret);
				return err;
			}
		}
		p = *e ? e + 1 : e;
	}
	if (ret->nr > 1)	/* an empty file leaves m NULL: qsort() must not see it */
		qsort(ret->m, ret->nr, sizeof(*ret->m), member_cmp);
	for (int i = 1; i < ret->nr; i++)
		if (!strcmp(ret->m[i - 1].name, ret->m[i].name)) {
			cg_members_free(ret);
			return -EINVAL;
		}
	return 0;
}

const struct cg_member *cg_members_find(const struct cg_members *m, const char *name)
{
	for (int i = 0; i < m->nr; i++)
		if (!strcmp(m->m[i].name, name))
			return &m->m[i];
	return NULL;
}

const struct cg_member *cg_members_diff(const struct cg_members *a, const struct cg_members *b)
{
	for (int i = 0; i < a->nr; i++) {
		const struct cg_member *o = cg_members_find(b, a->m[i].name);

		if (!o || strcmp(o->path, a->m[i].path) || o->cgns_prefix != a->m[i].cgns_prefix)
			return &a->m[i];
	}
	return NULL;
}

int cg_read_members(int proc_dfd, pid_t tid, struct cg_members *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[48];
	ssize_t len;

	if (tid)
		snprintf(path, sizeof(path), "task/%d/cgroup", tid);
	else
		snprintf(path, sizeof(path), "cgroup");
	len = read_file_alloc_at(proc_dfd, path, &buf);
	if (len < 0)
		return (int)len;
	return cg_parse_members(buf, ret);
}

/* ------------------------------------------------------ mounts */

/* Is word one of the comma-separated items of list (len bytes)? */
static bool has_item(const char *list, size_t len, const char *word, size_t wlen)
{
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *c = memchr(p, ',', end - p);
		size_t n = (c ? c : end) - p;

		if (n == wlen && !memcmp(p, word, n))
			return true;
		p += n + 1;
	}
	return false;
}

/* Every comma-separated item of name is in the mount's super options. */
static bool mount_has_all(const char *super, size_t slen, const char *name)
{
	const char *p = name;

	while (*p) {
		const char *c = strchrnul(p, ',');

		if (!has_item(super, slen, p, c - p))
			return false;
		p = *c ? c + 1 : c;
	}
	return true;
}

/*
 * One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPER".
 * The fields are separated by single spaces; spaces in paths are octal escapes (\040).
 */
static int mount_matches(const char *line, size_t len, const char *name, char **ret_dir)
{
	const char *f[5], *p = line, *end = line + len, *dash, *fs, *super;
	size_t fslen;
	int i;

	for (i = 0; i < 5 && p < end; i++) {
		f[i] = p;
		p = memchr(p, ' ', end - p);
		if (!p)
			return 0;
		p++;
	}
	if (i < 5)
		return 0;
	dash = strstr(p, " - ");
	if (!dash || dash >= end)
		return 0;
	fs = dash + 3;
	super = memchr(fs, ' ', end - fs);
	if (!super)
		return 0;
	fslen = super - fs;
	super = memchr(super + 1, ' ', end - super - 1);	/* skip the source */
	if (!super)
		return 0;
	super++;
	if (f[4] - f[3] != 2 || f[3][0] != '/')
		return 0;	/* not the hierarchy's root */
	if (!name[0]) {
		if (fslen != 7 || memcmp(fs, "cgroup2", 7))
			return 0;
	} else if (fslen != 6 || memcmp(fs, "cgroup", 6) || !mount_has_all(super, end - super, name)) {
		return 0;
	}
	/* the mount point, unescaped */
	char *dir = malloc(p - f[4] + 1), *o;

	if (!dir)
		return -ENOMEM;
	o = dir;
	for (const char *q = f[4]; q < p - 1 && *q != ' '; q++) {
		if (q[0] == '\\' && q + 3 < p && q[1] >= '0' && q[1] <= '3') {
			*o++ = (char)(((q[1] - '0') << 6) | ((q[2] - '0') << 3) | (q[3] - '0'));
			q += 3;
		} else {
			*o++ = *q;
		}
	}
	*o = '\0';
	*ret_dir = dir;
	return 1;
}

bool cg_name_has(const char *hier, const char *ctl)
{
	if (!hier[0] || !ctl[0])
		return !hier[0] && !ctl[0];
	return has_item(hier, strlen(hier), ctl, strlen(ctl));
}

int cg_hier_dir(const char *mountinfo, const char *name, char **ret_dir)
{
	struct stat st;
	char *dir;

	if (!opts.cgroup_yard)
		return cg_find_mount(mountinfo, name, ret_dir);
	/* CRIU's yard: one directory per hierarchy, "unified" for cgroup2, a named one without "name=" */
	if (asprintf(&dir, "%s/%s", opts.cgroup_yard,
		     !name[0] ? "unified" : !strncmp(name, "name=", 5) ? name + 5 : name) < 0)
		return -ENOMEM;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		free(dir);
		return -ENOENT;
	}
	*ret_dir = dir;
	return 0;
}

int cg_find_mount(const char *mountinfo, const char *name, char **ret_dir)
{
	const char *p = mountinfo;

	while (*p) {
		const char *e = strchrnul(p, '\n');
		int r = mount_matches(p, e - p, name, ret_dir);

		if (r)
			return r < 0 ? r : 0;
		p = *e ? e + 1 : e;
	}
	return -ENOENT;
}

/* ------------------------------------------------------ properties */

/*
 * What is dumped per hierarchy: CRIU's lists for the v1 controllers and
 * both global lists, plus, for cgroup2, the files of the controllers a
 * parent may enable (CRIU dumps only the global ones there). Early ones are
 * those the kernel takes only from an empty cgroup (cpuset.cpus/mems before
 * a task can join, cgroup.type, use_hierarchy), or that the directory's
 * children need first (cgroup.subtree_control gives them their files).
 */
struct cg_prop_list {
	const char *ctl;	/* a controller, "" for cgroup2's own files, NULL for v1's own */
	const struct cg_prop_desc *props;
};

static const struct cg_prop_desc v1_global[] = {
	{ "cgroup.clone_children", CGP_LATE }, { "notify_on_release", CGP_LATE },
	{ "cgroup.procs", CGP_PERMS }, { "tasks", CGP_PERMS }, { NULL, 0 },
};
static const struct cg_prop_desc v1_cpu[] = {
	{ "cpu.shares", CGP_LATE }, { "cpu.cfs_period_us", CGP_LATE }, { "cpu.cfs_quota_us", CGP_LATE },
	{ "cpu.rt_period_us", CGP_LATE }, { "cpu.rt_runtime_us", CGP_LATE }, { NULL, 0 },
};
static const struct cg_prop_desc v1_memory[] = {
	{ "memory.use_hierarchy", CGP_EARLY }, { "memory.swappiness", CGP_EARLY },
	{ "memory.oom_control", CGP_EARLY }, { "memory.limit_in_bytes", CGP_LATE },
	{ "memory.memsw.limit_in_bytes", CGP_LATE }, { "memory.soft_limit_in_bytes", CGP_LATE },
	{ "memory.move_charge_at_immigrate", CGP_LATE }, { "memory.kmem.limit_in_bytes", CGP_EARLY },
	{ "memory.kmem.tcp.limit_in_bytes", CGP_LATE }, { NULL, 0 },
};
static const struct cg_prop_desc v1_cpuset[] = {
	{ "cpuset.cpus", CGP_EARLY }, { "cpuset.mems", CGP_EARLY }, { "cpuset.memory_migrate", CGP_LATE },
	{ "cpuset.cpu_exclusive", CGP_LATE }, { "cpuset.mem_exclusive", CGP_LATE },
	{ "cpuset.mem_hardwall", CGP_LATE }, { "cpuset.memory_spread_page", CGP_LATE },
	{ "cpuset.memory_spread_slab", CGP_LATE }, { "cpuset.sched_load_balance", CGP_LATE },
	{ "cpuset.sched_relax_domain_level", CGP_LATE }, { NULL, 0 },
};
static const struct cg_prop_desc v1_blkio[] = { { "blkio.weight", CGP_LATE }, { NULL, 0 } };
static const struct cg_prop_desc v1_pids[] = { { "pids.max", CGP_LATE }, { NULL, 0 } };

static const struct cg_prop_desc v2_global[] = {
	{ "cgroup.type", CGP_EARLY }, { "cgroup.subtree_control", CGP_EARLY },
	{ "cgroup.max.descendants", CGP_LATE }, { "cgroup.max.depth", CGP_LATE },
	{ "cgroup.procs", CGP_PERMS }, { "cgroup.threads", CGP_PERMS }, { NULL, 0 },
};
static const struct cg_prop_desc v2_ctls[] = {
	{ "cpuset.cpus", CGP_EARLY }, { "cpuset.mems", CGP_EARLY }, { "cpuset.cpus.partition", CGP_LATE },
	{ "cpu.weight", CGP_LATE }, { "cpu.max", CGP_LATE }, { "cpu.max.burst", CGP_LATE },
	{ "cpu.idle", CGP_LATE }, { "cpu.uclamp.min", CGP_LATE }, { "cpu.uclamp.max", CGP_LATE },
	{ "memory.min", CGP_LATE }, { "memory.low", CGP_LATE }, { "memory.high", CGP_LATE },
	{ "memory.max", CGP_LATE }, { "memory.swap.high", CGP_LATE }, { "memory.swap.max", CGP_LATE },
	{ "memory.zswap.max", CGP_LATE }, { "memory.oom.group", CGP_LATE },
	{ "io.weight", CGP_LATE }, { "io.max", CGP_LATE }, { "io.latency", CGP_LATE },
	{ "pids.max", CGP_LATE }, { NULL, 0 },
};

static const struct cg_prop_list v1_lists[] = {
	{ "cpu", v1_cpu }, { "memory", v1_memory }, { "cpuset", v1_cpuset },
	{ "blkio", v1_blkio }, { "pids", v1_pids },
};

void cg_for_each_prop(const char *name, void (*fn)(const struct cg_prop_desc *d, void *arg), void *arg)
{
	const struct cg_prop_desc *d;

	if (!name[0]) {
		for (d = v2_global; d->name; d++)
			fn(d, arg);
		for (d = v2_ctls; d->name; d++)
			fn(d, arg);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(v1_lists); i++)
		if (has_item(name, strlen(name), v1_lists[i].ctl, strlen(v1_lists[i].ctl)))
			for (d = v1_lists[i].props; d->name; d++)
				fn(d, arg);
	for (d = v1_global; d->name; d++)
		fn(d, arg);
}

struct prop_find {
	const char *prop;
	const struct cg_prop_desc *found;
};

static void prop_find_one(const struct cg_prop_desc *d, void *arg)
{
	struct prop_find *f = arg;

	if (!f->found && !strcmp(d->name, f->prop))
		f->found = d;
}

const struct cg_prop_desc *cg_prop_find(const char *hier, const char *prop)
{
	struct prop_find f = { prop, NULL };

	cg_for_each_prop(hier, prop_find_one, &f);
	return f.found;
}
