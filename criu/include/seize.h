/* SPDX-License-Identifier: GPL-2.0 */
/* Collect the process tree under a root and freeze it with ptrace for dump. */
#ifndef CRIU_SEIZE_H
#define CRIU_SEIZE_H

#include <sys/types.h>

#include "pstree.h"

/*
 * Walk /proc/PID/task/TID/children from root, PTRACE_SEIZE + PTRACE_INTERRUPT every thread
 * of every task, and walk again until a whole pass finds no new task or thread. Fills *ret
 * (items in pre-order, parents first): pid, ppid/pgid/sid, state (TASK_ALIVE, TASK_STOPPED
 * when it was in a group stop, TASK_DEAD for a zombie, with exit_code from stat field 52),
 * the tids (threads[0] == pid; every listed tid of a live task is seized), proc_dfd (an open
 * /proc/PID) and pidfd; then the ids seen in the tree's pid namespace (vpid, vtids,
 * vpgid, vsid, pid_ns_id, ns_flags: pidns_collect()).
 *
 * Zombies are not seized. A child that disappears (reaped) while we walk is left out.
 * On failure every task seized so far is detached as it was, *ret is empty, and a
 * negative errno is returned (after one pr_err).
 */
int collect_and_seize_tree(pid_t root, struct pstree *ret);

/*
 * The same, for a tree whose threads criu may have seized already
 * (PTRACE_SEIZE and PTRACE_INTERRUPT while a freezer held them:
 * freezer.c): those are only waited for. pre is sorted.
 */
int collect_and_seize_tree_pre(pid_t root, struct pstree *ret, const pid_t *pre, int nr_pre);

/* Detach every seized thread; tasks that were stopped stay stopped. Does not free the tree. */
void resume_tree(struct pstree *t);

/* SIGKILL every live task (through its pidfd), reap the ptrace notifications, detach. */
void kill_tree(struct pstree *t);

#endif
