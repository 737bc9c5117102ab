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

/* Write manifest.img for every image file in img_dfd; its own CRC-32C in *ret_crc. 0 or -errno (logged). */
int write_image_manifest(int img_dfd, uint32_t *ret_crc);
/*
 * Check the images in img_dfd against manifest.img, whose CRC inventory.img
 * holds (has_manifest: inventory.img has the field). Without a manifest, or
 * with skip (--skip-image-check), only a warning. remote_pages: the dump sent
 * its pages to a page server, whose pagemap-*.img and pages-*.img the
 * manifest can't list (they are read and checked for length as any). 0 or
 * -errno (logged, naming the image).
 */
int check_images(int img_dfd, bool has_manifest, uint32_t manifest_crc, bool skip, bool remote_pages);
/* What check_images_how() checks. */
enum img_check {
	IMG_CHECK_ALL,
	IMG_CHECK_SKIP,			/* --skip-image-check: nothing, a warning */
	IMG_CHECK_PAGES_BY_SIZE,	/* restore --lazy-pages: the daemon checked the pages images' CRCs */
	IMG_CHECK_PAGES_ONLY,		/* criu lazy-pages: the CRCs of the pages images, the lengths of the rest */
};
int check_images_how(int img_dfd, bool has_manifest, uint32_t manifest_crc, enum img_check how, bool remote_pages);
/*
 * The dump already summed the bytes it wrote to the open image fd (a pages
 * image, summed as its pages were copied): write_image_manifest() takes size
 * and crc for that file, when it still has that size, instead of reading it
 * back. 0 or -errno (not logged; the file is then read back).
 */
int image_crc_known(int fd, uint64_t size, uint32_t crc);
/* Length and CRC-32C of the file name in dfd. 0 or -errno (not logged). */
int image_file_crc(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc);

#endif
