/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Write tracking across criu processes (issue #17: the command line, and
 * runc's one swrk per pass). A pre-dump that tracked writes hands its
 * tasks' userfaultfds to a holder process ("criu-track", detached,
 * non-dumpable) which only keeps them open; the next pass whose parent dir
 * is that pass's dir takes them back with pidfd_getfd() and ends the holder
 * (Documentation/migration.md, "Tracking across criu processes").
 *
 * Holder fd layout (it holds nothing else; 0-2 are /dev/null):
 *   3: O_PATH of the images dir of the pass it belongs to
 *   4: O_PATH of that dir's manifest.img (a later pass into the dir makes a new one)
 *   5 + 2i: a pidfd of tracked task i, 6 + 2i: its userfaultfd
 */
#ifndef CRIU_MEM_TRACK_HOLDER_H
#define CRIU_MEM_TRACK_HOLDER_H

#include <stdbool.h>

struct pstree;

#define TRACK_HOLDER_COMM "criu-track"
#define TRACK_HOLDER_FD_DIR 3
#define TRACK_HOLDER_FD_MANIFEST 4
#define TRACK_HOLDER_FD_TASKS 5
#define TRACK_HOLDER_MAX_TASKS 4096
#define TRACK_HOLDER_MAX_FOUND 64
#define TRACK_HOLDER_LIFETIME_S 3600	/* a holder nobody takes ends after an hour */

/*
 * CLI and RPC: the pass should track writes: a pre-dump (as CRIU's, it
 * always tracks for the next pass), --track-mem or --prev-images-dir; never
 * with CRIU_NO_WRITE_TRACKING=1 in the environment.
 */
bool mem_track_wanted(bool pre_dump);
/*
 * Before the seize (the /proc scan stays out of the freeze), nothing tracked
 * in this criu yet: the holders there are (their pidfds, at most
 * TRACK_HOLDER_MAX_FOUND). A holder made between this and the seize (another
 * criu's pass of the same tree finishing meanwhile) is not seen.
 */
void track_holders_find(void);
/*
 * The tree seized: every holder track_holders_find() saw whose tasks
 * are in the tree is ended (so its registrations go); its uffds are adopted
 * when allowed and its dir is the parent of img_dfd.
 */
void track_holders_take(struct pstree *tree, int img_dfd, bool allowed);
/* A pass ended: ok (a pre-dump that tracked): its dir is what a holder would belong to; else forgotten. */
void track_holder_note_pass(int img_dfd, bool ok);
/*
 * Wait for the exit of the holders track_holders_take() ended without
 * waiting (all their uffds of the tree adopted): before any uffd of ours is
 * closed (the holder's reference would keep its registrations) and out of
 * the freeze (mem_track_close_all(), track_holder_leave()).
 */
void track_holders_reap(void);
/* The end of a criu (CLI pre-dump, RPC session): leave a holder when the last pass was a tracking pre-dump. */
void track_holder_leave(void);

#endif
