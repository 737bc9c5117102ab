/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMAs of the tasks of a dump read ahead, on threads of their own (one
 * per CPU, at most one per task), once the tree is seized and collected,
 * while criu dumps the tasks' cores. /proc/PID/smaps is the only source of
 * VmFlags and costs a walk of every page table of the mm (2-5 ms per 256 MiB
 * here); the tree is stopped and nothing criu does to a task before its mm
 * step (namespaces, files, the core's remote syscalls) changes its VMAs, but
 * the scratch page a core may map for a while (pstree_item.core_mapped: such
 * a read is made again), so the read can be made earlier.
 */
#ifndef CRIU_MAPS_AHEAD_H
#define CRIU_MAPS_AHEAD_H

#include <sys/types.h>

struct proc_maps;
struct pstree;

/* Start reading maps and smaps of every live task of tree, in the tree's order. */
void maps_ahead_start(struct pstree *tree);
/*
 * The VMAs of pid read ahead (maps and smaps), waiting for them if a thread
 * reads them: 1 when *ret holds them (the caller frees it), 0 when there are
 * none (read them yourself: not read ahead, no thread came to them yet, or
 * the read failed).
 */
int maps_ahead_take(pid_t pid, struct proc_maps *ret);
/* Stop the thread and free what was not taken. */
void maps_ahead_stop(void);

#endif
