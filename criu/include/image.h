/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Image I/O with CRIU's framing.
 *
 * inventory.img: u32 INVENTORY magic, then entries.
 * every other protobuf image: u32 IMG_COMMON_MAGIC (0x54564319), u32 per-image magic, then entries;
 * service images (stats-dump, stats-restore): u32 IMG_SERVICE_MAGIC (0x55105940) instead of the first.
 * an entry: host-endian u32 length + the packed protobuf message.
 * pages-*.img: raw page data, no header.
 */
#ifndef CRIU_IMAGE_H
#define CRIU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/types.h>

#include "magic.h"

/* Every image kind: CR_FD_KIND for each IMAGE row of objects.def. */
enum cr_fd_types {
#define IMAGE(kind, fmt, magic, flags, crit) CR_FD_##kind,
#include "objects.def"
	CR_FD_MAX
};

/* IMAGE() flags */
#define IMG_NO_COMMON	1	/* the magic is not preceded by IMG_COMMON_MAGIC */
#define IMG_SERVICE	2	/* preceded by IMG_SERVICE_MAGIC instead (stats) */

struct cr_img;

/* Largest protobuf entry we accept; a bigger length header means a corrupt image. */
#define IMG_ENTRY_MAX (64u << 20)

#define O_DUMP (O_WRONLY | O_CREAT | O_TRUNC)
#define O_RSTR (O_RDONLY)
/* An image the dump always writes: missing, it is an error naming it, not an empty image. */
#define O_IMG_REQUIRED 0x40000000
#define O_RSTR_REQ (O_RDONLY | O_IMG_REQUIRED)

/*
 * Open an image in the directory dfd. For O_RSTR a missing image is not an
 * error: the image reads as empty (EOF at once), as in CRIU; with
 * O_RSTR_REQ it fails with ENOENT and img_last_error() says "NAME is missing". Returns NULL and sets errno on failure
 * (after logging at debug level only: the caller decides what to say).
 */
struct cr_img *open_image_at(int dfd, int type, int flags, ...);
void close_image(struct cr_img *img);
/* Close an image being written without writing out its buffered entries (a failed dump). */
void discard_image(struct cr_img *img);
/*
 * As close_image(), but reports a failure to write out buffered entries
 * (0 or -errno; logged with the file name). Use it for images being dumped.
 */
int close_image_checked(struct cr_img *img);
/* Why the last open_image_at() failed, with the file name: for the caller's message. */
const char *img_last_error(void);
bool img_is_empty(struct cr_img *img);
/* The file descriptor, positioned where the entries read or written so far end. */
int img_raw_fd(struct cr_img *img);
/*
 * A read image given up for its fd alone, positioned as img_raw_fd() leaves
 * it: the image and its buffer are freed, the fd is the caller's (or -errno,
 * the image closed all the same).
 */
int img_take_fd(struct cr_img *img);
const char *img_name(struct cr_img *img);

/*
 * Protobuf entries. pb_type is a PB_* value from protobuf.h. Entries are
 * buffered: nothing reaches the file before the buffer fills, img_raw_fd()
 * or close. The pb_* and *_img_buf calls log a failure once, naming the
 * file; callers only pass the -errno on.
 * pb_write_one: 0 or -errno (-EINVAL for a message of another type or with
 * a required field unset).
 */
int pb_write_one(struct cr_img *img, const void *msg, int pb_type);
/* 1 on an entry, 0 at a clean EOF, -errno (EINVAL for corrupt data) otherwise; logs the file name on error. */
int pb_read_one_eof(struct cr_img *img, void **pmsg, int pb_type);
/*
 * Every message left in img, appended to *msgs (an array of message
 * pointers, grown with realloc()) and counted in *nr: 0 or -errno; the
 * messages read before an error stay there, for the caller to free.
 */
int pb_read_all(struct cr_img *img, int pb_type, void ***msgs, size_t *nr);
/* As above, but EOF is an error (-ENODATA). Returns 0 on success. */
int pb_read_one(struct cr_img *img, void **pmsg, int pb_type);
void pb_free(void *msg, int pb_type);

/* Raw bytes (for pages and data sidecars). */
int write_img_buf(struct cr_img *img, const void *buf, size_t len);
int read_img_buf(struct cr_img *img, void *buf, size_t len);	/* exact length or -errno */
/* Up to len bytes: how many were read (0 at EOF) or -errno (logged). */
ssize_t read_img_some(struct cr_img *img, void *buf, size_t len);

#endif
