/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --freeze-cgroup PATH (Documentation/cgroups.md): the dump freezes the
 * cgroup (v1 freezer.state, cgroup2 cgroup.freeze), seizes every thread
 * in it and below it while nothing runs, and thaws it again before
 * returning, whatever happened; the walk of the tree then only waits for
 * those threads' stops (seize.c).
 */
#ifndef CRIU_FREEZER_H
#define CRIU_FREEZER_H

#include <stdbool.h>
#include <sys/types.h>

#include "pstree.h"

struct freezer {
	pid_t *tids;	/* seized (PTRACE_SEIZE + PTRACE_INTERRUPT), sorted */
	int nr;
};

/* 0 or -errno (logged); the cgroup is thawed on return and, on failure, nothing is left seized. */
int freezer_seize(const char *path, struct freezer *fz);
/* Detach the seized threads the tree does not have (tasks of the cgroup outside it); free. */
void freezer_fini(struct freezer *fz, struct pstree *t);

#endif
