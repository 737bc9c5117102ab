/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What clone() lets processes share without being threads of one process:
 * the fd table (CLONE_FILES), the fs (CLONE_FS: cwd, root, umask), the
 * address space (CLONE_VM) and the signal handlers (CLONE_SIGHAND).
 * Documentation/restore.md, "Shared fd tables and fs".
 */
#ifndef CRIU_TASK_SHARE_H
#define CRIU_TASK_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "pstree.h"

struct rst_ctx;

/*
 * Dump, once the tree is seized: give each fd table and fs shared by
 * processes the id of the first of them in tree order (files_id, fs_id; the
 * others keep their own vpid), and refuse, naming the tasks, what restore
 * can't build: a shared table or fs whose sharers are not parents and
 * children of one another, a shared address space or signal handlers, and
 * a thread with an fd table or fs of its own. 0 or -errno, logged.
 */
int share_collect_tree(struct pstree *tree);

/* Dump: does this task write its fd table (fdinfo-<files_id>.img)? Only the first of its sharers does. */
static inline bool share_dumps_fds(const struct pstree_item *item)
{
	return item->files_id == (uint32_t)item_vpid(item);
}

/*
 * Restore, after the images are read: which task makes each fd table and fs
 * (the first of its sharers in tree order) and with which clone flags each
 * task is made; images whose sharing can't be built are refused. 0 or
 * -errno, logged.
 */
int share_plan_restore(struct rst_ctx *ctx);

/* Restore: the clone flags (CLONE_FILES, CLONE_FS) a stub makes its child with. */
uint64_t share_clone_flags(const struct pstree_item *child);

/*
 * The morph: the service fds of a task go once the last task of its fd
 * table no longer needs them. True for the last of the table's tasks to ask.
 */
bool share_last_of_fdt(struct pstree_item *item);

#endif
