/* SPDX-License-Identifier: GPL-2.0 */
/*
 * page-digests-PID.img (ours): the SHA-256 of every page of a task's
 * pagemap, written by a dump or pre-dump whose pages went to a page server.
 * The next pass of the chain (--prev-images-dir) has no parent pages to
 * compare with (they are on the page server's machine): it compares the
 * task's pages with these digests instead, and sends the equal ones as
 * PE_PARENT entries. Records are { u64 vaddr; u8 sha256[32]; }, sorted by
 * vaddr (little endian, this machine's order: the file never travels).
 *
 * Helpers log at debug only; 0 or -errno.
 */
#ifndef CRIU_PAGE_DIGEST_H
#define CRIU_PAGE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_DIGEST_LEN 32

struct page_digest {
	uint64_t vaddr;
	uint8_t sha[PAGE_DIGEST_LEN];
};

struct page_digests {
	struct page_digest *d;
	size_t nr, cap;
};

/* The digest of one page. */
void page_digest_of(const void *page, uint8_t out[PAGE_DIGEST_LEN]);
/* Append the digest of page at vaddr (sha: a known digest; NULL: hash page). */
int page_digests_add(struct page_digests *dg, uint64_t vaddr, const void *page, const uint8_t *sha);
/* The digest of vaddr, or NULL. dg must be sorted (as written). */
const uint8_t *page_digests_find(const struct page_digests *dg, uint64_t vaddr);
/* Read the task's digests of the images dir's parent (dfd/parent/page-digests-ID.img); -ENOENT: none. */
int page_digests_read_parent(int dfd, int id, struct page_digests *ret);
int page_digests_write(int dfd, int id, const struct page_digests *dg);
void page_digests_free(struct page_digests *dg);

#endif
