/* SPDX-License-Identifier: GPL-2.0 */
/* Ghost files: open regular files with no name left (files-ghost.c). */
#ifndef CRIU_GHOST_H
#define CRIU_GHOST_H

#include <stdint.h>

struct rst_ctx;

struct dump_files_ctx;
struct fd_parms;

/*
 * Dump: file object id (p, an fd of a task) is a regular file whose last
 * name, name, was unlinked; mnt_id is its mount in the tree's own mount
 * namespace (-1: criu's). Writes its inode once (ghost-file-<n>.img) and
 * the remap-fpath.img entry of id. Refuses (-EOPNOTSUPP, logged) what a
 * ghost image can't carry.
 */
int dump_ghost(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p, const char *name, int mnt_id);
/* End of dump: forget the ghosts (remap-fpath.img is one of dump_files_img()'s). */
void dump_ghost_fini(struct dump_files_ctx *ctx);

/*
 * Restore: 1 when file id has an entry in remap-fpath.img (its remap_type,
 * CRIU's REMAP_TYPE__*, and remap_id), 0 when not, -errno.
 */
int remap_of_file(struct rst_ctx *ctx, uint32_t id, int *ret_type, uint32_t *ret_remap_id);
/* Restore: 1 and the ghost id when file id is a ghost, 0 when not, -errno. */
int ghost_of_file(struct rst_ctx *ctx, uint32_t id, uint32_t *ret_gid);
/*
 * Restore: open ghost gid (recreated at its first use, beside name: below
 * mount mnt_id in the tree's own mount namespace, from criu's root for -1)
 * with flags.
 */
int open_ghost(struct rst_ctx *ctx, uint32_t gid, const char *name, int mnt_id, unsigned int flags, int *ret_fd);
void ghost_restore_fini(struct rst_ctx *ctx);

#endif
