// SPDX-License-Identifier: GPL-2.0
#include "common.h"
#include "pstree.h"

struct pstree_item *pstree_item_alloc(void)
{
	struct pstree_item *item = xzalloc(sizeof(*item));

	if (!item)
		return NULL;
	INIT_LIST_HEAD(&item->children);
	INIT_LIST_HEAD(&item->sibling);
	INIT_LIST_HEAD(&item->all);
	item->proc_dfd = -1;
	item->pidfd = -1;
	return item;
}

void pstree_free(struct pstree *t)
{
	struct pstree_item *item, *tmp;

	if (!t->items.next)
		return;
	list_for_each_entry_safe(item, tmp, &t->items, all) {
		if (item->proc_dfd >= 0)
			close(item->proc_dfd);
		if (item->pidfd >= 0)
			close(item->pidfd);
		free(item->threads);
		free(item->sc_seen);
		free(item->vtids);
		free(item->ns_tids);
		free(item->ns_chain);
		free(item->seccomp_filter);
		free(item->cg_thread_sets);
		list_del(&item->all);
		free(item);
	}
	t->root = NULL;
	t->nr_items = 0;
}

struct pstree_item *pstree_find(struct pstree *t, pid_t pid)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item)
		if (item->pid == pid)
			return item;
	return NULL;
}

struct pstree_item *pstree_find_tid(struct pstree *t, pid_t tid, int *ret_thread)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item)
		for (int i = 0; i < item->nr_threads; i++)
			if (item->threads[i] == tid) {
				if (ret_thread)
					*ret_thread = i;
				return item;
			}
	return NULL;
}

struct pstree_item *pstree_find_vtid(struct pstree *t, pid_t vtid, int *ret_thread)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item)
		for (int i = 0; item->vtids && i < item->nr_threads; i++)
			if (item->vtids[i] == vtid) {
				if (ret_thread)
					*ret_thread = i;
				return item;
			}
	return NULL;
}

bool pstree_has_pgid(struct pstree *t, pid_t pgid)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item)
		if (item->pgid == pgid)
			return true;
	return false;
}

/* The first task of process group pgid in tree order, NULL when none. */
static struct pstree_item *group_first(struct pstree *t, pid_t pgid)
{
	struct pstree_item *item;

	for_each_pstree_item(t, item)
		if (item->pgid == pgid)
			return item;
	return NULL;
}

struct pstree_item *pstree_group_host(struct pstree *t, pid_t pgid)
{
	struct pstree_item *first;

	if (pgid == t->root->pgid || pstree_find(t, pgid))
		return NULL;
	first = group_first(t, pgid);
	return first && first != t->root ? first->parent : NULL;
}

/*
 * A group whose leader is gone: restore makes it with a helper of the
 * leader's pid, forked by the parent of its first task, so that parent must
 * be in the group's session, and the group must not be that session (a
 * session is made by its leader alone).
 */
static int check_orphan_group(struct pstree *t, struct pstree_item *item)
{
	struct pstree_item *host = pstree_group_host(t, item->pgid);

	if (!host || host->sid != item->sid || item->pgid == item->sid || host->ns_depth || item->ns_depth)
		return pr_fail(-EOPNOTSUPP,
			       "task %d: its process group %d has no leader in the tree (the leader is gone), and %s: "
			       "not supported\n",
			       item->pid, item->pgid,
			       item->pgid == item->sid ? "it is the session's group" :
			       host && host->sid == item->sid ? "it is in a nested pid namespace" :
							       "its first task's parent is in another session");
	return 0;
}

int pstree_check_groups(struct pstree *t)
{
	struct pstree_item *root = t->root, *item;

	for_each_pstree_item(t, item) {
		struct pstree_item *leader;

		if (item == root)
			continue;
		if (item->sid != item->pid && item->sid != item->parent->sid)
			return pr_fail(-EOPNOTSUPP,
				       "task %d: its session %d is neither its own nor its parent's: not supported\n",
				       item->pid, item->sid);
		leader = pstree_find(t, item->pgid);
		if (leader && leader->sid != item->sid)
			return pr_fail(-EINVAL, "task %d: its process group %d is in another session\n", item->pid,
				       item->pgid);
		if (!leader && item->pgid != root->pgid) {
			int ret = check_orphan_group(t, item);

			if (ret)
				return ret;
		}
	}
	return 0;
}
