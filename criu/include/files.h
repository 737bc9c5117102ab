/* SPDX-License-Identifier: GPL-2.0 */
/* The fd machinery (DESIGN.md §5). */
#ifndef CRIU_FILES_H
#define CRIU_FILES_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Dump a file that criu itself holds open (lfd), such as a task's exe or the
 * file behind a file-backed mapping (open it through /proc/PID/map_files/...),
 * into files.img as a regular file object, once per file. Returns 0 and the
 * object's id in *ret_id, or -errno.
 */
int dump_file_lfd(int lfd, uint32_t *ret_id);

#endif
