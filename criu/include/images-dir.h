/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who owns an images dir's marks (inventory.img, manifest.img): a dump
 * claims its dir for its whole run (criu/images-dir.c); a page server
 * writing into the same dir leaves the marks to it.
 */
#ifndef CRIU_IMAGES_DIR_H
#define CRIU_IMAGES_DIR_H

#include <stdbool.h>
#include <time.h>

/*
 * A dump or pre-dump (or a dedup changing a parent dir) claims img_dfd: an
 * fd holding an exclusive flock() on the dir (close it at the end; not
 * locked, with a warning, on a filesystem without flock()), or -errno
 * (logged, with `then`, what the refusal leaves; -EBUSY: another criu holds
 * the dir).
 */
int images_dir_claim(int img_dfd, const char *then);

/*
 * The page server, at the end of a session that started at `since`: a dump
 * shares img_dfd. Then *lock_fd is -1. Otherwise *lock_fd holds a shared
 * flock() on the dir, which keeps a dump from claiming it while the server
 * writes its own marks (close it after).
 */
bool images_dir_has_dump(int img_dfd, const struct timespec *since, int *lock_fd);

#endif
