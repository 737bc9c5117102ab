/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page deduplication of a chain of images dirs (criu dedup, --auto-dedup):
 * the pages a dir holds itself are dead in its ancestors (the chain is
 * linear: each dir has one child), so they are punched out of the
 * ancestors' pages images (holes, the files keep their length). See
 * Documentation/migration.md, "Deduplication".
 */
#ifndef CRIU_DEDUP_H
#define CRIU_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

/* The marker a dir gets once pages of its images are punched: it restores only through a child. */
#define DEDUP_MARK "dedup-punched.img"

struct dedup_stats {
	uint64_t pages;		/* pages punched (holes before not counted) */
	int levels;		/* ancestor dirs changed */
};

/*
 * criu dedup, dump --auto-dedup: punch the pages img_dfd's task pagemaps hold
 * (PE_PRESENT) out of every ancestor that holds them, check each changed
 * ancestor against its manifest first and rewrite the manifest after.
 * check_self: check img_dfd against its own manifest first (not needed right
 * after the dump wrote it). 0 or -errno (logged).
 */
int dedup_chain(int img_dfd, bool check_self, struct dedup_stats *st);
/*
 * restore --auto-dedup, once the tree's memory is restored: punch every
 * task pages image of img_dfd and of its ancestors (they are consumed: the
 * dirs are marked and restore no more). 0 or -errno (logged).
 */
int dedup_consume(int img_dfd);
/*
 * --auto-dedup of a dump or pre-dump (command line and RPC): refused with a
 * page server (the pages are in its dir, where criu dedup runs), 0 or
 * -EINVAL before the dump; after a complete dump, dedup_chain() of its dir.
 */
int dedup_dump_allowed(void);
int dedup_after_dump(int img_dfd);
/* Restore: a dir marked DEDUP_MARK lost pages to a child's dedup; refused with why. 0 or -EINVAL. */
int dedup_refuse_punched(int img_dfd);

#endif
