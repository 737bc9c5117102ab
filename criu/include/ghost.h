/* SPDX-License-Identifier: GPL-2.0 */
/* Ghost files: open files with no name left (files-ghost.c). */
#ifndef CRIU_GHOST_H
#define CRIU_GHOST_H

#include <stdint.h>
#include <sys/types.h>

struct rst_ctx;

struct dump_files_ctx;
struct fd_parms;

/*
 * Dump: file object id (p, an fd of a task) is a regular file, directory,
 * FIFO, device node or symlink whose last name, name, was unlinked; mnt_id is its mount in the tree's own mount
 * namespace (-1: criu's). Writes its inode once (ghost-file-<n>.img) and
 * the remap-fpath.img entry of id. Refuses (-EOPNOTSUPP, logged) what a
 * ghost image can't carry.
 */
int dump_ghost(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p, const char *name, int mnt_id);
/*
 * Dump: a watch (who: "fd N of task P: inotify watch W") is on removed
 * inode ino of device dev (stat()'s): it comes back on the ghost of that
 * inode, which some file of the tree must hold (checked at the end,
 * dump_ghost_check_watched()). 0 or -ENOMEM.
 */
int ghost_note_watched(struct dump_files_ctx *ctx, dev_t dev, ino_t ino, const char *who);
/* End of the files dump: every inode noted by ghost_note_watched() is a ghost, or -EOPNOTSUPP (logged). */
int dump_ghost_check_watched(struct dump_files_ctx *ctx);
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
/*
 * Restore: the times of the ghost of file id (if it is one) set again as
 * dumped, after its opener changed them (a FIFO's data written back).
 */
int ghost_retime(struct rst_ctx *ctx, uint32_t id);
/* Restore: every file object of the early stage is open (symlink ghosts drop the names they kept). */
int ghost_stage_done(struct rst_ctx *ctx);
void ghost_restore_fini(struct rst_ctx *ctx);
/*
 * Restore: an O_PATH fd of the ghost that was inode ino of device kdev
 * (the kernel's encoding, a watch's s_dev) at dump, an inode a watch is on:
 * 1 and *ret_fd, 0 when no ghost is that inode, -errno. Every ghost is made
 * first, before the watch exists (making one creates and removes names in
 * its directory).
 */
int open_ghost_inode(struct rst_ctx *ctx, uint32_t kdev, uint64_t ino, int *ret_fd);

#endif
