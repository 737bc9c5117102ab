/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_PSTREE_H
#define CRIU_PSTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "list.h"
#include "ns-kinds.h"

struct sc_seen;

enum task_state {
	TASK_ALIVE = 1,	/* CRIU's numbering (TASK_ALIVE 0x1, TASK_DEAD 0x2, TASK_STOPPED 0x3) */
	TASK_DEAD = 2,	/* a zombie */
	TASK_STOPPED = 3,
};

struct pstree_item {
	struct pstree_item *parent;
	struct list_head children;	/* of pstree_item.sibling */
	struct list_head sibling;
	struct list_head all;		/* the global list, in tree (pre-)order */

	pid_t pid;			/* pid as seen by criu (the dumped pid) */
	pid_t ppid, pgid, sid;
	/*
	 * Dump: the same ids as seen inside the tree's pid namespace ("virtual"),
	 * which the images hold and name files by; equal to pid/pgid/sid/threads
	 * unless the tree has its own pid namespace (pidns.c). Restore does not
	 * use them: there pid/threads are the images' ids and rst_real_pid()
	 * gives the pids criu sees.
	 */
	pid_t vpid, vpgid, vsid;
	pid_t *vtids;			/* nr_threads entries, vtids[0] == vpid; NULL until filled */
	uint32_t pid_ns_id;		/* dump and restore: TaskKobjIdsEntry.pid_ns_id, 0 until filled */
	/*
	 * Pid namespaces nested below the tree's (pidns.c): how deep the task's
	 * own is (0: the tree's), and each thread's ids in them, outermost
	 * first (ns_tids[thread * ns_depth + level - 1]); NULL when ns_depth is
	 * 0. pfc_vpid: the task's pid_for_children is the pid namespace of its
	 * child with this pid (in the tree's namespace); 0 when it is its own.
	 */
	int ns_depth;
	pid_t *ns_tids;
	pid_t pfc_vpid;
	uint64_t pidns_ino;		/* dump: the inode of its pid namespace */
	uint32_t *ns_chain;		/* restore: the pid_ns_id of each level, tree's first (ns_depth + 1) */
	/*
	 * dump: the id of the task's namespace of each other kind (CRIU's
	 * TaskKobjIdsEntry.*_ns_id), 0 when the kernel has no such kind;
	 * filled by ns_collect_tree() (namespaces.c)
	 */
	uint32_t ns_id[NS_KIND_NR];
	uint32_t mnt_ns_id;		/* dump: TaskKobjIdsEntry.mnt_ns_id (mount.h), 0 until filled */
	enum task_state state;
	int exit_code;			/* wait status of a zombie, when known */

	/* Id of the task's fd table: its fds are in fdinfo-<files_id>.img (CoreEntry.ids.files_id);
	 * a table shared by processes: the vpid of the first of them in tree order (task-share.c). */
	uint32_t files_id;
	/* Id of the task's fs (cwd, root, umask: CoreEntry.ids.fs_id); shared fs: the first sharer's vpid */
	uint32_t fs_id;
	/* The task's cgroup set (CoreEntry.tc.cg_set, cgroup.h); 0: none (a zombie) */
	uint32_t cg_set;
	/* Per thread (nr_threads), when a thread is in another set than the task; NULL: all in cg_set */
	uint32_t *cg_thread_sets;
	/* Its cgroup namespace (task_kobj_ids_entry.cgroup_ns_id, cgroup-ns.c); 0: criu's */
	uint32_t cgns_id;

	int nr_threads;
	pid_t *threads;			/* tids, threads[0] == pid */
	struct sc_seen *sc_seen;	/* dump: per thread, what seize saw of the syscall it woke it
					   from (syscall-resume.h); may be NULL */

	int proc_dfd;			/* open /proc/PID, -1 when not open */
	int pidfd;			/* criu's pidfd for the task (dump: for pidfd_getfd) */
	unsigned long rsys_code;	/* dump: where remote syscalls put their code, 0 until found */
	unsigned int rsys_flags;	/* dump: COMPEL_RSYS_RECOVER when rsys_code is past a segment's code */

	void *priv;			/* dump or restore private per-task state */

	/* dump: mm flags only the task can read (remote prctl in dump-core.c), for the mm image */
	bool has_mm_flags;
	int dumpable;			/* PR_GET_DUMPABLE */
	int thp_disable;		/* PR_GET_THP_DISABLE */
	unsigned long brk;		/* brk(0), asked with them: the mm step makes no remote call */
	bool core_mapped;		/* its core mapped a scratch page for a while: VMAs read meanwhile are not kept */

	/* dump: per thread, the index of its newest filter in seccomp.img, -1 none; NULL: no filters (seccomp.c) */
	int *seccomp_filter;
	bool seccomp_unsuspended;	/* dump: a thread's seccomp could not be suspended (seize.c) */
};

struct mnt_ns;

struct pstree {
	struct pstree_item *root;
	struct list_head items;		/* every item, parents before children */
	int nr_items;
	/*
	 * CLONE_NEWPID when the root is the init of a pid namespace other than
	 * criu's (CRIU's root_ns_mask, for the pid namespace only): every task
	 * is in that namespace and the images hold the pids seen there.
	 */
	unsigned long ns_flags;
	/* dump: the root task's mount namespace (mount.h), NULL when it is criu's */
	struct mnt_ns *mntns;
	/* dump: every mount namespace of the tree's own (the root's among them), by id, linked by next */
	struct mnt_ns *mntns_list;
	/* seize.c: tids seized before the walk (--freeze-cgroup), sorted; only interrupted by the walk */
	const pid_t *preseized;
	int nr_preseized;
};

/* Dump: the id an image holds for the task / its thread idx (the pid itself until vpid/vtids are filled). */
static inline pid_t item_vpid(const struct pstree_item *item)
{
	return item->vpid ?: item->pid;
}

static inline pid_t item_vtid(const struct pstree_item *item, int idx)
{
	return item->vtids ? item->vtids[idx] : item->threads[idx];
}

#define for_each_pstree_item(t, item) list_for_each_entry(item, &(t)->items, all)

struct pstree_item *pstree_item_alloc(void);
/*
 * The sessions and process groups restore can build (dump and restore run
 * it): a task other than the root is in its parent's session or leads its
 * own, and its group has its leader in the tree, in the same session, or is
 * the root's group, or its leader is gone and the parent of its first task
 * is in its session (pstree_group_host()). 0, or -EOPNOTSUPP/-EINVAL logged
 * naming the task.
 */
int pstree_check_groups(struct pstree *t);
/*
 * A process group whose leader is gone (not in the tree, not the root's
 * group): the task whose stub makes it at restore, with a helper of the
 * leader's pid (the parent of its first task in tree order); NULL for any
 * other group.
 */
struct pstree_item *pstree_group_host(struct pstree *t, pid_t pgid);
void pstree_free(struct pstree *t);
struct pstree_item *pstree_find(struct pstree *t, pid_t pid);
/* Does some task of the tree lead or belong to process group pgid? */
bool pstree_has_pgid(struct pstree *t, pid_t pgid);
/* The task or thread with this tid, or NULL; *ret_thread gets the thread index. */
struct pstree_item *pstree_find_tid(struct pstree *t, pid_t tid, int *ret_thread);
/* Thread idx's pid at nesting level l below the tree's pid namespace (0: the tree's, the images' id). */
static inline pid_t item_pid_at(const struct pstree_item *item, int idx, int level)
{
	return level ? item->ns_tids[idx * item->ns_depth + level - 1] : item->threads[idx];
}

/*
 * Restore: the pid of thread idx of x as task me sees it (from me's own pid
 * namespace), 0 when x is not in me's namespace or one below it.
 */
static inline pid_t item_pid_seen_by(const struct pstree_item *me, const struct pstree_item *x, int idx)
{
	if (x->ns_depth < me->ns_depth || (me->ns_depth && x->ns_chain[me->ns_depth] != me->ns_chain[me->ns_depth]))
		return 0;
	return item_pid_at(x, idx, me->ns_depth);
}

/* The same, by the id in the tree's pid namespace (vpid/vtids). */
struct pstree_item *pstree_find_vtid(struct pstree *t, pid_t vtid, int *ret_thread);

#endif
