/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRC-32C of the pages images, checked as the restore fills memory from
 * them (criu/pages-crc.c): one read of the pages instead of two.
 *
 * check_images() checks only the length of each pages-*.img and hands its
 * name, length and CRC from manifest.img to pages_crc_defer(). A stub that
 * reads a chunk of its pages image into its memory sums the bytes it just
 * read and notes (file, offset, length, CRC) in a log criu shares with the
 * stubs. Once every stub has filled its memory, and before any task runs,
 * pages_crc_finish() combines the noted CRCs of each file in file order,
 * reads and sums the bytes no stub read (those the morph fills, pages left
 * out), and compares the whole with the manifest: a mismatch fails the
 * restore, which kills the tree.
 */
#ifndef CRIU_PAGES_CRC_H
#define CRIU_PAGES_CRC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A pages image whose CRC is checked late: what manifest.img says of it. */
struct pages_crc_want {
	char *name;
	uint64_t size;
	uint32_t crc;
	dev_t dev;
	ino_t ino;
};

/* One run of bytes a stub read and summed. */
struct pages_crc_rec {
	uint64_t dev, ino;
	uint64_t off, len;
	uint32_t crc;
};

/* MAP_SHARED between criu and the stubs; a full log only costs a second read of what is not in it. */
struct pages_crc_log {
	uint64_t cap;
	uint64_t nr;		/* records taken (atomic); may pass cap */
	struct pages_crc_rec recs[];
};

struct pages_crc {
	struct pages_crc_want *want;
	size_t nr;
	struct pages_crc_log *log;	/* NULL: nothing deferred */
	size_t log_size;
};

/* Note that the pages image name in dfd, of this size and CRC, is checked by pages_crc_finish(). */
int pages_crc_defer(struct pages_crc *pc, int dfd, const char *name, uint64_t size, uint32_t crc);
/* Map the shared log (before the stubs are forked); nothing when no image was deferred. 0 or -errno. */
int pages_crc_log_alloc(struct pages_crc *pc);
/* In a stub: bytes [off, off + len) of the pages image fd were read, their CRC is crc. */
void pages_crc_note(struct pages_crc_log *log, dev_t dev, ino_t ino, uint64_t off, uint64_t len, uint32_t crc);
/* Every deferred image against its manifest entry. 0 or -errno, logged naming the image. */
int pages_crc_finish(struct pages_crc *pc, int dfd);
void pages_crc_free(struct pages_crc *pc);

#endif
