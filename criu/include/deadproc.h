/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A cwd in /proc/PID of a process that is gone (files-deadproc.c): CRIU's
 * PROCFS remap of remap-fpath.img.
 */
#ifndef CRIU_DEADPROC_H
#define CRIU_DEADPROC_H

#include <stdint.h>

struct dump_files_ctx;
struct pstree_item;
struct rst_ctx;

/*
 * Dump: the cwd of item can't be opened (ESRCH): when it is /proc/PID of a
 * process that is gone, write it as a file of that path with a PROCFS
 * remap of PID and give its id; anything else is refused, logged.
 */
int dump_dead_proc_cwd(struct dump_files_ctx *ctx, struct pstree_item *item, uint32_t *ret_id);

/* Dump: the root of item can't be opened (ESRCH): refused, naming it (-EOPNOTSUPP, logged). */
int refuse_dead_proc_root(struct pstree_item *item);

/* Restore: 1 and the pid when file id is /proc/PID of a process that was gone, 0 when not, -errno. */
int dead_proc_of_file(struct rst_ctx *ctx, uint32_t id, pid_t *ret_pid);

/*
 * Restore, in the stub: make /proc/PID of a process that is gone the cwd:
 * a helper of that pid lives while the stub enters its /proc directory,
 * then is killed and reaped. 0 or -errno, logged.
 */
int enter_dead_proc_cwd(struct rst_ctx *ctx, struct pstree_item *me, pid_t pid);

#endif
