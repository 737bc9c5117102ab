/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Namespaces other than the pid namespace (pidns.h has that one).
 *
 * One descriptor per kind, in one table (namespaces.c). A kind whose
 * contents criu does not dump and restore yet is refused at dump: a task
 * of the tree in a namespace of that kind other than criu's own would
 * otherwise come back in criu's namespace without a word (its hostname,
 * its mounts, its private network gone).
 */
#ifndef CRIU_NAMESPACES_H
#define CRIU_NAMESPACES_H

#include <stdbool.h>

#include "pstree.h"

struct ns_desc {
	const char *name;	/* the /proc/PID/ns/ entry and the name in messages */
	const char *what;	/* what a task in such a namespace would lose, for the error */
	int clone_flag;
	bool supported;		/* dumped and restored: a task may be in its own */
};

/* The kinds, for the checks and for `criu check`; ends with a NULL name. */
extern const struct ns_desc ns_kinds[];

/*
 * Refuse (-EOPNOTSUPP, one pr_err naming the task, the kind and both
 * namespace inodes) a tree in which a live thread is in a namespace of an
 * unsupported kind other than criu's, or has unshared a pid or time
 * namespace for the children it has not made yet (pid_for_children,
 * time_for_children). Zombies have no namespaces left and are skipped.
 */
int ns_check_tree(struct pstree *t);

#endif
