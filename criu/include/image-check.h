/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The image manifest, manifest.img (criu/image-check.c): each image file's
 * length and CRC-32C, written by the dump right before inventory.img and
 * checked by restore before anything starts.
 */
#ifndef CRIU_IMAGE_CHECK_H
#define CRIU_IMAGE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Write manifest.img, sealed, for every image file in img_dfd (inventory.img
 * too): the last image a dump writes. 0 or -errno (logged).
 */
int write_image_manifest(int img_dfd);

/* What check_images() checks. */
enum img_check {
	IMG_CHECK_ALL,
	IMG_CHECK_SKIP,			/* --skip-image-check: nothing, a warning */
	IMG_CHECK_PAGES_BY_SIZE,	/* restore --lazy-pages: the daemon checked the pages images' CRCs */
	IMG_CHECK_PAGES_ONLY,		/* criu lazy-pages: the CRCs of the pages images, the lengths of the rest */
};

/* What inventory.img says about the manifest, and what to check. */
struct image_check_how {
	bool has_manifest_crc;	/* a dump of ours before the seal: the manifest's CRC (field 100) */
	uint32_t manifest_crc;
	bool dumped_by_criu;	/* inventory.img is CRIU's: no manifest is only a warning */
	enum img_check mode;
	/*
	 * the dump sent its pages to a page server, whose pagemap-*.img and
	 * pages-*.img the manifest can't list (they are read and checked for
	 * length as any)
	 */
	bool remote_pages;
	/*
	 * IMG_CHECK_ALL: the pages-*.img get their lengths checked here and
	 * their CRCs handed to this set, checked as the restore reads them
	 * (pages-crc.h); NULL: checked here
	 */
	struct pages_crc *defer;
};

/*
 * Check the images in img_dfd against manifest.img. Without a manifest: a
 * warning for CRIU's dumps, an error for ours; with skip, only a warning. 0
 * or -errno (logged, naming the image).
 */
int check_images(int img_dfd, const struct image_check_how *how);
/* What inventory.img's entry says, for check_images(). */
struct InventoryEntry;
void image_check_how_of(const struct InventoryEntry *ie, enum img_check mode, struct image_check_how *how);
/*
 * The identity of a dump's manifest (the lazy-pages daemon and the restore
 * agree on the dump by it): the CRC-32C of manifest.img. 0 or -errno.
 */
int image_manifest_id(int img_dfd, uint64_t *ret_size, uint32_t *ret_crc);
/*
 * The dump already summed the bytes it wrote to the open image fd (a pages
 * image, summed as its pages were copied): write_image_manifest() takes size
 * and crc for that file, when it still has that size, instead of reading it
 * back. 0 or -errno (not logged; the file is then read back).
 */
int image_crc_known(int fd, uint64_t size, uint32_t crc);
/* What write_image_manifest() would take for the file name in dfd without reading it: true when known. */
bool image_crc_from_dump(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc);
/* The seal of img_dfd's manifest.img matches its entries: 0 or -errno (logged). */
int image_manifest_sealed(int img_dfd);
/* A change of an image file in place (dedup.c): its CRC-32C xor crc_xor, its length the same. */
struct manifest_change {
	char name[64];
	uint32_t crc_xor;
};
/*
 * Write img_dfd's sealed manifest.img again with the listed files' CRCs
 * updated by their changes (their other bytes are not read again: whatever
 * did not match before still does not), and the file add (when not listed
 * yet) summed and listed. The new manifest is written aside and renamed over
 * the old one. 0 or -errno (logged).
 */
int image_manifest_update(int img_dfd, const struct manifest_change *ch, size_t nr, const char *add);
/* Length and CRC-32C of the file name in dfd. 0 or -errno (not logged). */
int image_file_crc(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc);

#endif
