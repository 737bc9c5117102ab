// SPDX-License-Identifier: GPL-2.0
/*
 * cgroups (Documentation/cgroups.md): the tasks' cgroup membership, read
 * from /proc/PID/task/TID/cgroup through each task's /proc directory fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "cgroup: "
#include "cgroup.h"
#include "common.h"
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

		if (!o || strcmp(o->path, a->m[i].path))
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

/* ------------------------------------------------------ dump */

static int check_thread(struct pstree_item *item, int idx, const struct cg_members *criu)
{
	struct cg_members its;
	const struct cg_member *d, *mine;
	pid_t tid = item->threads[idx];
	int ret;

	ret = cg_read_members(item->proc_dfd, tid, &its);
	if (ret)
		return pr_fail(ret, "can't read /proc/%d/task/%d/cgroup: %s\n", item->pid, tid, strerror(-ret));
	d = cg_members_diff(&its, criu);
	if (!d)
		d = cg_members_diff(criu, &its);
	if (d) {
		mine = cg_members_find(criu, d->name);
		ret = pr_fail(-EOPNOTSUPP,
			      "task %d (thread %d) is in another cgroup than criu's in the %s hierarchy "
			      "(%s, criu's is %s): cgroups are not dumped yet, a restore would put the task in criu's\n",
			      item->pid, tid, d->name[0] ? d->name : "cgroup2", d->path, mine ? mine->path : "none");
	}
	cg_members_free(&its);
	return ret;
}

int cg_check_tree(struct pstree *t)
{
	struct cg_members criu;
	struct pstree_item *item;
	_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (self < 0)
		return pr_fail_errno("can't open /proc/self");
	ret = cg_read_members(self, 0, &criu);
	if (ret)
		return pr_fail(ret, "can't read /proc/self/cgroup: %s\n", strerror(-ret));
	for_each_pstree_item(t, item) {
		if (item->state == TASK_DEAD)
			continue;
		for (int i = 0; !ret && i < item->nr_threads; i++)
			ret = check_thread(item, i, &criu);
		if (ret)
			break;
	}
	cg_members_free(&criu);
	return ret;
}
