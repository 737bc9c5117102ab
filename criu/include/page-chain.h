/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Chains of incremental images (pre-dump, dump --prev-images-dir): an images
 * dir holds a `parent` symlink to the previous pass's dir, and its pagemap
 * entries flagged PE_PARENT (CRIU's in_parent) have their pages there, or
 * further up. A page_chain holds one task's pagemaps of every level above a
 * dir and tells where the bytes of a page are.
 *
 * Helpers here log at debug only; they return 0 or -errno.
 */
#ifndef CRIU_PAGE_CHAIN_H
#define CRIU_PAGE_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagemap.h"

#define PAGE_CHAIN_MAX 64	/* levels followed; more is a loop of symlinks */

struct page_chain {
	int nr;					/* levels read */
	struct pagemap_read lvl[PAGE_CHAIN_MAX];	/* lvl[0]: the parent of the dir the chain was opened from */
};

/*
 * Read the pagemap of task id (pagemap-<id>.img) in dir's parent, its
 * parent, and so on, as far as the entries need (a level without PE_PARENT
 * entries ends the chain). -ENOENT: dir has no parent, or the parent has no
 * pagemap for the task (a dump then writes all pages); -ENOLINK: a level
 * refers up to a parent that is missing or lacks the task; other errors are
 * those of reading the images. check: each level's images are checked
 * against its manifest first (restore; a dump compares bytes and needs not). why gets a description of what was missing (for the log).
 */
int page_chain_open(struct page_chain *c, int dir_dfd, unsigned long id, bool check, char *why, size_t why_len);
void page_chain_close(struct page_chain *c);
/* Where the page at addr is: the pages image fd and offset in it. -ENOENT: no level has it. */
int page_chain_find(const struct page_chain *c, uint64_t addr, int *fd, off_t *off);
/*
 * How many pages from addr (at most max) page_chain_find() finds, one after
 * the other: the dump's lookups per run of pages instead of per page.
 */
unsigned long page_chain_run(const struct page_chain *c, uint64_t addr, unsigned long max);
/* Same, starting the search at level `from` (used for PE_PARENT entries of a level). */
int page_chain_find_from(const struct page_chain *c, int from, uint64_t addr, int *fd, off_t *off);
/*
 * Restore: the bytes of a task's pagemap entries pmes[0..nr) (read from
 * dir_dfd, own bytes in pages_fd) gathered into a new memfd (*ret_fd), with
 * the PE_PARENT entries turned into PE_PRESENT ones: the restore then reads
 * one pages image, as for a dump without a parent. -ENOLINK: the chain is
 * broken (why says where).
 */
int page_chain_flatten(int dir_dfd, unsigned long id, PagemapEntry **pmes, size_t nr, int pages_fd, bool check,
		       int *ret_fd, char *why, size_t why_len);

#endif
