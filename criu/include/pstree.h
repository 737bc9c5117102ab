/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_PSTREE_H
#define CRIU_PSTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "list.h"

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
	enum task_state state;
	int exit_code;			/* wait status of a zombie, when known */

	/* Id of the task's fd table: its fds are in fdinfo-<files_id>.img (CoreEntry.ids.files_id). */
	uint32_t files_id;

	int nr_threads;
	pid_t *threads;			/* tids, threads[0] == pid */

	int proc_dfd;			/* open /proc/PID, -1 when not open */
	int pidfd;			/* criu's pidfd for the task (dump: for pidfd_getfd) */

	void *priv;			/* dump or restore private per-task state */
};

struct pstree {
	struct pstree_item *root;
	struct list_head items;		/* every item, parents before children */
	int nr_items;
};

#define for_each_pstree_item(t, item) list_for_each_entry(item, &(t)->items, all)

struct pstree_item *pstree_item_alloc(void);
void pstree_free(struct pstree *t);
struct pstree_item *pstree_find(struct pstree *t, pid_t pid);
/* The task or thread with this tid, or NULL; *ret_thread gets the thread index. */
struct pstree_item *pstree_find_tid(struct pstree *t, pid_t tid, int *ret_thread);

#endif
