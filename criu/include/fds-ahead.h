/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fds of the tasks of a dump read ahead, on a thread of their own, while
 * the main thread dumps the tasks before them (Documentation/files.md, "fds
 * read ahead"): each task's fd listing, and for every fd the reads that
 * depend on nothing else (pidfd_getfd into criu, fstat, fstatfs, the link,
 * the fdinfo, the owner's F_GETOWN_EX and F_GETSIG). The main thread keeps
 * the rest: the type, the kcmp grouping, the images, every log line.
 *
 * A task is read either by the thread before the main thread reaches it, or
 * by the main thread itself: never while criu runs remote syscalls in it (its
 * core and mm steps), which open and close fds of their own in the task.
 * The tree is stopped, and nothing the dump of other tasks does changes what
 * these reads give. The copies the thread holds are bounded by what
 * RLIMIT_NOFILE leaves criu beyond the main thread's own needs.
 */
#ifndef CRIU_FDS_AHEAD_H
#define CRIU_FDS_AHEAD_H

#include <stdbool.h>

struct fd_parms;
struct pstree;
struct pstree_item;
struct fds_ahead_task;

/* Start the thread on every task of tree that dumps an fd table, in the tree's order. */
void fds_ahead_start(struct pstree *tree);
/* Before criu's first remote syscall in item: the thread leaves it to the main thread if it has not begun it. */
void fds_ahead_claim(struct pstree_item *item);
/*
 * item's fds as read ahead: its sorted fd numbers in *ret_fds (the caller
 * frees them) and *ret_nr, and the reads, to take with fds_ahead_parms() and
 * give back with fds_ahead_done(). NULL when there are none: list and read
 * them yourself.
 */
struct fds_ahead_task *fds_ahead_take(struct pstree_item *item, int **ret_fds, int *ret_nr);
/* The i-th fd's reads into p (its copy p->lfd is the caller's to close); false: read it yourself. */
bool fds_ahead_parms(struct fds_ahead_task *t, int i, struct fd_parms *p);
/* What fds_ahead_parms() did not hand over is closed and freed (NULL: nothing). */
void fds_ahead_done(struct fds_ahead_task *t);
/* Stop the thread; close and free what was not taken. */
void fds_ahead_stop(void);

#endif
