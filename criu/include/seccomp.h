/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seccomp (criu/seccomp.c, Documentation/security.md): every filter of the
 * tree once in seccomp.img, each thread's chain named in its core by the
 * index of its newest filter (CRIU's ThreadCoreEntry.seccomp_filter).
 */
#ifndef CRIU_SECCOMP_H
#define CRIU_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>

#include "pstree.h"

struct rst_ctx;
struct compel_rsys;
struct ThreadCoreEntry;

/* item->seccomp_filter[i] of a thread written with seccomp disabled: the leader's filters reach it by TSYNC */
#define SECCOMP_BY_TSYNC (-2)

/*
 * Dump: read every seized thread's filters (PTRACE_SECCOMP_GET_FILTER and
 * _GET_METADATA), write seccomp.img (only when some thread has filters) and
 * fill item->seccomp_filter for dump_task_core(). Refuses, naming the threads,
 * what the restore could not give back. 0 or -errno, logged.
 */
int dump_seccomp(int img_dfd, struct pstree *tree);

/* Restore: read and check seccomp.img against every thread's core (read_images()). */
int rst_seccomp_read(struct rst_ctx *ctx);
void rst_seccomp_free(struct rst_ctx *ctx);

/* Does any thread of this task run under seccomp (strict or filters)? */
bool rst_seccomp_task(const struct pstree_item *item);

/*
 * How many of the oldest filters every thread of the task shares (0 for a
 * single thread): the first thread installs them with SECCOMP_FILTER_FLAG_TSYNC
 * so that they are one filter again, as the kernel needs for a later TSYNC.
 */
int rst_seccomp_shared(struct rst_ctx *ctx, struct pstree_item *item);

/*
 * Install a thread's filters in it (remote syscalls through rs, scratch: room
 * in the task for one filter), from the oldest on, skipping the first `skip`
 * (installed already by a TSYNC); the first `tsync` of them with TSYNC.
 * Strict mode is set by rst_seccomp_strict(). 0 or -errno, logged.
 */
int rst_seccomp_filters(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch,
			const struct ThreadCoreEntry *tc, int skip, int tsync);
int rst_seccomp_strict(struct compel_rsys *rs, pid_t tid, const struct ThreadCoreEntry *tc);

#endif
