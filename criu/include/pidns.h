/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pid namespaces (dump side).
 *
 * Two layouts are supported, as in CRIU: every task lives in criu's pid
 * namespace, or the root task is the init (pid 1) of a pid namespace of its
 * own and every task lives in that one. In the second case the images hold
 * the pids seen inside the namespace (pstree_item.vpid/vtids/vpgid/vsid) and
 * name files by them, and TaskKobjIdsEntry.pid_ns_id in each core differs
 * from InventoryEntry.root_ids.pid_ns_id (criu's own namespace): that is how
 * restore knows to create the root with CLONE_NEWPID.
 */
#ifndef CRIU_PIDNS_H
#define CRIU_PIDNS_H

#include <stdint.h>

#include "pstree.h"

/* Ids written in pid_ns_id (one pid namespace each; CRIU numbers namespaces from 1). */
#define PIDNS_ID_CRIU 1		/* criu's own pid namespace */
#define PIDNS_ID_TREE 2		/* the tree's, when the root is the init of its own */

/*
 * Find out which pid namespace the tree lives in and fill every item's
 * vpid, vpgid, vsid, vtids and pid_ns_id, and t->ns_flags (CLONE_NEWPID
 * when the tree has its own namespace). Refuses (-EOPNOTSUPP, one pr_err)
 * a root that is in a namespace of its own without being its init, and a
 * task in any other pid namespace than the root's (nested namespaces).
 */
int pidns_collect(struct pstree *t);

/*
 * After the other namespaces got their ids (namespaces.c): an id of its own
 * for each pid namespace nested below the tree's, from *next_id on.
 */
void pidns_assign_ids(struct pstree *t, uint32_t *next_id);

/*
 * /proc/PID/status NS* lines -> the ids in the innermost namespace. Pure,
 * for the unit tests: ns_levels entries per array, the last is innermost.
 */
struct proc_status;
int pidns_at_level(const struct proc_status *st, int level, pid_t *ret_pid, pid_t *ret_pgid, pid_t *ret_sid);
int pidns_innermost(const struct proc_status *st, pid_t *ret_pid, pid_t *ret_pgid, pid_t *ret_sid);

#endif
