/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User namespaces (Documentation/namespaces.md, "User namespaces"): a tree
 * in one user namespace of its own, child of criu's, whose pid namespace
 * and other namespaces are owned by criu's. Dump: the maps and setgroups
 * (userns-ID.img, userns-ext-ID.img) and the refusals. Restore: criu makes
 * the namespace (a short-lived holder made with CLONE_NEWUSER, its maps
 * written from outside, kept by an fd of criu), every stub stays in criu's
 * user namespace, and the morph has each task enter it with a remote
 * setns() just before its credentials.
 */
#ifndef CRIU_USERNS_H
#define CRIU_USERNS_H

#include <stdbool.h>
#include <stdint.h>

#include "pstree.h"

#define USERNS_MAX_EXTENTS 340	/* the kernel's limit of lines in a map */

struct id_extent {
	uint32_t first, lower, count;
};

struct id_map {
	int nr;
	struct id_extent e[USERNS_MAX_EXTENTS];
};

/* Read a uid_map or gid_map file (relative to dfd). 0 or -errno, logged. */
int id_map_read(int dfd, const char *path, struct id_map *m);
/* An id inside to the parent's (up) or back (down); -ERANGE when the map has no such id. */
int id_map_up(const struct id_map *m, uint32_t id, uint32_t *ret);
int id_map_down(const struct id_map *m, uint32_t id, uint32_t *ret);

/* namespaces.c: refuse a task in a nested user namespace, or with threads in one (hook check_task) */
int userns_check_task(struct pstree_item *item);
/* namespaces.c, every live task: refuse a namespace of the task (not criu's) owned by another user namespace than criu's */
int userns_check_owners(struct pstree_item *item);
int userns_dump(int img_dfd, uint32_t id);

/*
 * dump-core.c: thread_dfd's thread (of task pid) in a user namespace other
 * than criu's: its creds read in criu's namespace, turned into its own
 * (uids, gids, groups, in place). 0, or -EOPNOTSUPP (logged) for an id
 * its namespace does not map.
 */
int userns_creds_inside(int thread_dfd, pid_t pid, uint32_t *uid, uint32_t *gid, uint32_t *groups, int ngroups);

struct rst_ctx;
struct morph_task;
/* ns-restore.c: read the tree's user namespace and make it (controller, before anything starts). */
int userns_plan_restore(struct rst_ctx *ctx);
void userns_restore_free(struct rst_ctx *ctx);
/* restore-images.c, after share_plan_restore(): refuse a task of the user namespace sharing its fs. */
int userns_check_shares(struct rst_ctx *ctx);
/* morph.c: true when the task enters the tree's user namespace. */
bool userns_task_enters(struct rst_ctx *ctx, struct pstree_item *item);
/* The task's groups (inside values) as criu's namespace sees them. */
int userns_groups_outside(struct rst_ctx *ctx, const uint32_t *in, uint32_t *out, int n);
/* An fd of the namespace in the controller. */
int userns_fd(struct rst_ctx *ctx);

#endif
