/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroups (Documentation/cgroups.md): the tasks' cgroup membership.
 *
 * A task's membership is the list of /proc/PID/cgroup lines: one per
 * hierarchy, "ID:CONTROLLERS:PATH" ("4:memory:/a", "2:cpu,cpuacct:/",
 * "1:name=systemd:/x" for a named v1 hierarchy, "0::/a" for cgroup2). The
 * member's name is the CONTROLLERS field ("" for cgroup2), as in CRIU's
 * CgMemberEntry.
 */
#ifndef CRIU_CGROUP_H
#define CRIU_CGROUP_H

#include <stdbool.h>

#include "pstree.h"

struct cg_member {
	char *name;	/* "memory", "cpu,cpuacct", "name=systemd", "" (cgroup2) */
	char *path;	/* "/a/b", as the reader's cgroup namespace shows it */
};

struct cg_members {
	int nr;
	struct cg_member *m;	/* sorted by name */
};

/*
 * Parse the text of a /proc/PID/cgroup file into ret (freed with
 * cg_members_free(), also on error). 0, -EINVAL for a line that is not
 * "ID:NAME:PATH" or a name seen twice, -ENOMEM.
 */
int cg_parse_members(const char *text, struct cg_members *ret);
void cg_members_free(struct cg_members *m);
/* The member of a whose path differs from b's (or that b lacks), or NULL when both are the same set. */
const struct cg_member *cg_members_diff(const struct cg_members *a, const struct cg_members *b);
/* The member of m with this name, or NULL. */
const struct cg_member *cg_members_find(const struct cg_members *m, const char *name);

/* Read /proc/PID/task/TID/cgroup through the task's /proc directory fd (tid 0: /proc/PID/cgroup). */
int cg_read_members(int proc_dfd, pid_t tid, struct cg_members *ret);

/*
 * Dump: refuse (-EOPNOTSUPP, one error naming the task, the thread, the
 * hierarchy and both paths) a tree with a live thread in another cgroup
 * than criu's in some hierarchy.
 */
int cg_check_tree(struct pstree *t);

#endif
