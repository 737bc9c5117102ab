/* SPDX-License-Identifier: GPL-2.0 */
/* File locks and leases in filelocks.img (criu/file-lock.c, --file-locks). */
#ifndef CRIU_FILE_LOCK_H
#define CRIU_FILE_LOCK_H

#include <stdint.h>

struct dump_files_ctx;
struct fd_parms;
struct pstree_item;
struct rst_ctx;

/*
 * Dump the locks held through fd p (its fdinfo "lock:" lines) of the file
 * file_id. 0, or -errno logged: a lock without --file-locks, or one restore
 * can't take again.
 */
int dump_fd_locks(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t file_id);
/* In a restored task, its fds in place: take its locks again. 0 or -errno logged. */
int restore_task_locks(struct rst_ctx *ctx, struct pstree_item *me);

#endif
