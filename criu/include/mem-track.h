/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Write tracking across the passes of one criu process (an RPC PRE_DUMP
 * session: PRE_DUMP, PRE_DUMP, ..., DUMP). The first pass makes a
 * userfaultfd in each task (WP_ASYNC), registers the task's private
 * anonymous VMAs for write-protect and takes the fd into criu; every pass
 * then asks PAGEMAP_SCAN which pages were written since the last one and
 * write-protects them again. A page of a range registered since the last
 * pass that was not written holds what the last pass dumped: the parent
 * images have it, no need to read and compare it (Documentation/migration.md,
 * "Tracking within an RPC session"). Between two criu processes (the command
 * line, runc's swrk per pass) a holder process keeps the uffds
 * (mem-track-holder.h).
 *
 * Nothing here fails a dump: a task or range that can't be tracked is left
 * to the comparison with the parent images, and says so in the log.
 */
#ifndef CRIU_MEM_TRACK_H
#define CRIU_MEM_TRACK_H

#include <stdbool.h>
#include <sys/types.h>

struct proc_maps;
struct pstree;
struct pstree_item;
struct task_track;

/*
 * 0 when this kernel tracks writes as the passes need it (userfaultfd-wp
 * with WP_ASYNC and PAGEMAP_SCAN), tried on a page of criu's own; -errno.
 */
int mem_track_probe(void);
/* Tracking is made by the passes of a session that allows it (cr-service.c), off otherwise. */
void mem_track_allow(bool on);
/* Before a pass seizes the tree: the holders of a tracking from another criu (mem-track-holder.h). */
void mem_track_before_seize(void);
/*
 * At the start of a pass, the tree seized: which tasks are still the
 * tracked ones, and whether the parent is trusted (img_dfd's parent is the
 * last pass's dir). Each task is then tracked by mem_track_dump_task().
 * final: the DUMP.
 */
void mem_track_pass(struct pstree *tree, int img_dfd, bool final);
/*
 * When the dump has read the VMAs m of item (maps and smaps), before its
 * pages are walked: the written pages of its tracked ranges since the last
 * pass. A pre-dump registers the VMAs not yet tracked and protects
 * everything again. The DUMP only looks, and its uffd stays open (m shows
 * VmFlags uw on our ranges: mem_track_owns()) until mem_track_pass_done(),
 * after the tree is resumed or killed. 1 when the task's tracking failed
 * and was dropped (its uffd closed): m must be read again.
 */
int mem_track_dump_task(struct pstree_item *item, const struct proc_maps *m);
/*
 * The pass ended: ok: its dir (img_dfd) is the parent the next pass trusts;
 * else (a failed pass, or the DUMP, ok or not) every uffd is closed.
 */
void mem_track_pass_done(int img_dfd, bool ok);
/* Close every uffd (the session ends): the registrations go. */
void mem_track_close_all(void);

/* The tracking of task pid in this pass, NULL when none. */
const struct task_track *mem_track_find(pid_t pid);
/* true when page addr was write-protected at the last pass and not written since. */
bool mem_track_unwritten(const struct task_track *t, unsigned long addr);
/*
 * mem_track_unwritten() for the pages from addr on: its answer for addr,
 * the same for every page up to *ret_next (<= end), where it changes.
 */
bool mem_track_unwritten_run(const struct task_track *t, unsigned long addr, unsigned long end,
			     unsigned long *ret_next);
/* true when [start, end) is a VMA registered on our own uffd in this pass (not the task's userfaultfd). */
bool mem_track_owns(pid_t pid, unsigned long start, unsigned long end);
/* pages taken as unchanged without reading them (for the log and tests) */
void mem_track_count_skipped(const struct task_track *t, unsigned long nr);

/* mem-track-holder.c: a holder's uffd of task pid (pidfd, uffd now ours), tracked since its pass's dir */
int mem_track_adopt(pid_t pid, int pidfd, int uffd);
void mem_track_adopt_dir(dev_t dev, ino_t ino);
/* the pidfd/uffd pairs of the tracked tasks into fds (2 * max), their number */
int mem_track_held(int *fds, int max);

#endif
