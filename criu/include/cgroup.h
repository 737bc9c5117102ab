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
#include <stdint.h>

#include "pstree.h"

struct cg_member {
	char *name;	/* "memory", "cpu,cpuacct", "name=systemd", "" (cgroup2) */
	char *path;	/* "/a/b", as the reader's cgroup namespace shows it */
	uint32_t cgns_prefix;	/* the task's cgroup namespace root: the first cgns_prefix bytes of path */
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

/* Does the hierarchy of member name hier have controller ctl ("cpu", "name=systemd"; "" is cgroup2)? */
bool cg_name_has(const char *hier, const char *ctl);

/* Read /proc/PID/task/TID/cgroup through the task's /proc directory fd (tid 0: /proc/PID/cgroup). */
int cg_read_members(int proc_dfd, pid_t tid, struct cg_members *ret);

/*
 * The directory where the hierarchy of this member name is mounted in
 * mountinfo (the text of a /proc/PID/mountinfo): a "cgroup2" mount for "",
 * a "cgroup" mount whose options have every item of name otherwise; only
 * mounts of the hierarchy's root. 0 with *ret_dir (malloc'ed), -ENOENT.
 */
int cg_find_mount(const char *mountinfo, const char *name, char **ret_dir);
/*
 * Where criu reads and writes the hierarchy: with --cgroup-yard, CRIU's
 * layout under it (YARD/unified for cgroup2, YARD/systemd for name=systemd,
 * YARD/cpu,cpuacct); else the mount cg_find_mount() finds. -ENOENT.
 */
int cg_hier_dir(const char *mountinfo, const char *name, char **ret_dir);

/* ------------------------------------------------------ properties */

enum cg_prop_when {
	CGP_EARLY,	/* right after criu creates the directory, before tasks or children */
	CGP_LATE,	/* once the tasks are in */
	CGP_PERMS,	/* only its owner and mode are restored (cgroup.procs, tasks) */
};

struct cg_prop_desc {
	const char *name;
	enum cg_prop_when when;
};

/*
 * The properties dumped for a directory of a hierarchy (a member name:
 * "" for cgroup2). Calls fn for each; a file that is not there is skipped
 * by the caller.
 */
void cg_for_each_prop(const char *name, void (*fn)(const struct cg_prop_desc *d, void *arg), void *arg);
const struct cg_prop_desc *cg_prop_find(const char *hier, const char *prop);

/* ------------------------------------------------------ dump (cgroup-dump.c) */

struct cgns_dump {
	unsigned long inos[64];	/* the namespaces other than criu's, id = index + 1 */
	int nr;
};

struct cg_dump {
	struct cg_members *sets;	/* sets[i] has id i + 1; sets[0] is criu's own */
	int nr_sets;
	char *mountinfo;		/* criu's /proc/self/mountinfo */
	struct cgns_dump ns;
};

/* The id of criu's own set at dump (InventoryEntry.root_cg_set). */
#define CG_SET_CRIU 1

/*
 * Read every live thread's cgroups: item->cg_set gets the task's set id,
 * item->cg_thread_sets those of threads in other cgroups than their leader.
 * Refused (logged, naming the task and the cgroup): a task in a frozen
 * cgroup, or in a cgroup of a hierarchy criu can't see mounted; cgroup
 * namespaces: cgns_dump_task().
 */
int cg_dump_collect(struct pstree *t, struct cg_dump *d);
/* cgroup.img: the sets other than criu's and the directories below them; nothing when there are none. */
int cg_dump_write(int img_dfd, struct cg_dump *d);
void cg_dump_fini(struct cg_dump *d);
/*
 * Refuse (-EBUSY, logged) a task in a frozen cgroup (v1 freezer, cgroup2):
 * its threads would not run the dump's remote syscalls. mountinfo: criu's.
 */
int cg_refuse_frozen(int proc_dfd, pid_t pid, const char *mountinfo);

/* ------------------------------------------------------ cgroup namespaces (cgroup-ns.c) */

/*
 * Dump: when the task is in another cgroup namespace than criu's, set the
 * roots (cgns_prefix) of its members m and item->cgns_id; refuse a thread
 * in another one than its leader, or a task outside its namespace's root.
 */
int cgns_dump_task(struct cgns_dump *c, struct pstree_item *item, struct cg_members *m);
/* Restore: does the task make a cgroup namespace (its own differs from its parent's, or criu's)? */
bool cgns_needs_unshare(struct pstree_item *item);
/* In the stub: join the namespace roots (their cgroup.procs), unshare(CLONE_NEWCGROUP). */
int cgns_stub_unshare(struct pstree_item *me, char **root_procs, int nr, int proc_fd, pid_t ctl_pid);
/* Open path (a cgroup.procs) of criu's mount namespace for writing, from a stub in another one. */
int cg_open_criu_path(int proc_fd, pid_t ctl_pid, const char *path);

/* ------------------------------------------------------ restore (cgroup-restore.c) */

struct rst_ctx;

/* Read cgroup.img (if any) and every task's set (item->cg_set); root_set is the inventory's. */
int cg_rst_read(struct rst_ctx *ctx, int dfd, uint32_t root_set);
/*
 * Before any task exists: make the directories (--manage-cgroups, --cgroup-root),
 * their early properties, and check that every cgroup a task joins is there.
 */
int cg_rst_prepare(struct rst_ctx *ctx);
/* In a stub, first thing: join its set's cgroups when its parent's are not the same. */
int cg_stub_join(struct rst_ctx *ctx, struct pstree_item *me);
/* Controller, once every thread exists: move the threads in other cgroups than their task. */
int cg_rst_threads(struct rst_ctx *ctx);
/* Once every task is in: the other properties. */
int cg_rst_late(struct rst_ctx *ctx);
/* Free; after a failed restore, remove the directories criu made. */
void cg_rst_fini(struct rst_ctx *ctx, bool failed);

#endif
