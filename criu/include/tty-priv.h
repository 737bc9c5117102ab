/* SPDX-License-Identifier: GPL-2.0 */
/* What the dump (tty.c) and the restore (tty-restore.c) of terminals share. */
#ifndef CRIU_TTY_PRIV_H
#define CRIU_TTY_PRIV_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "tty.pb-c.h"

#define PTMX_RDEV makedev(5, 2)
#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
#define MAX_PTS_INDEX 4096
#define DEV_TTY_RDEV makedev(5, 0)
#define CONSOLE_RDEV makedev(5, 1)
/* CRIU's ids of /dev/console and of the virtual terminals (its drivers' indexes, 1002 and 1004, twice) */
#define CONSOLE_INFO_ID (1002 << 1)
#define VT_INFO_ID (1004 << 1)
/* CRIU's tty-info.img id of /dev/tty (its "ctty" driver's index, 1006, twice) */
#define CTTY_INFO_ID (1006 << 1)

static inline bool is_ptmx(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == PTMX_RDEV;
}

static inline bool is_pts(const struct stat *st)
{
	unsigned int maj = major(st->st_rdev);

	return S_ISCHR(st->st_mode) && maj >= PTS_MAJOR_FIRST && maj <= PTS_MAJOR_LAST;
}

static inline int pts_index(const struct stat *st)
{
	return (major(st->st_rdev) - PTS_MAJOR_FIRST) * 256 + minor(st->st_rdev);
}

/* termios c_cc from an entry: CRIU's 19 words, or ours before (NCCS words); -EINVAL, not logged. */
int tty_unpack_cc(const TermiosEntry *e, struct termios *t);

/* The restore hooks of tty_file_type (tty-restore.c). */
struct rst_ctx;
struct file_desc;
int tty_collect(struct rst_ctx *ctx, struct file_desc *d);
int tty_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd);
int tty_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd);
void tty_cleanup(struct rst_ctx *ctx);

#endif
