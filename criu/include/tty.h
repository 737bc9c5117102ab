/* SPDX-License-Identifier: GPL-2.0 */
/* Terminals (tty.c): the shell job's terminal and pty pairs. */
#ifndef CRIU_TTY_H
#define CRIU_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* A character device that tty.c dumps: tty/ttyS, /dev/tty, /dev/console, /dev/ptmx, a pts. */
bool tty_is_terminal(const struct stat *st);

/*
 * first is an open of a ptmx (a new pty master): open that ptmx again
 * (through proc_fd's self/fd) until the kernel hands out pty index (it gives
 * the lowest free one), close the others. Takes first. The master of index,
 * or -EBUSY (index in use), -errno; not logged.
 */
int tty_ptmx_index(int proc_fd, int first, int index);

struct rst_ctx;
struct pstree_item;
/*
 * In a restored session leader's stub, right after setsid() and before it
 * forks: the pty that was its session's controlling terminal becomes it
 * again, so its children inherit it.
 */
int tty_stub_ctty(struct rst_ctx *ctx, struct pstree_item *me);

/*
 * Bytes queued in a pty (tty-data.c). to_slave: the slave's input (read on
 * the slave, written on the master), else what the master has to read.
 * master: an fd of the pty's master (its termios ioctls reach the slave's).
 */
struct tty_queued {
	uint8_t *buf;
	size_t len;	/* the bytes as the image holds them */
};

/*
 * Read out every byte the reader has queued into q (free q->buf). -EOPNOTSUPP
 * with *ret_why when they can't be written back as they were (what was read
 * is in q all the same), -errno; not logged.
 */
int tty_data_take(int master, int reader, bool to_slave, struct tty_queued *q, const char **ret_why);

/*
 * Write len bytes through writer so that reader gets them as they were, the
 * slave's termios set aside while they go through. -errno, not logged.
 */
int tty_data_put(int master, int reader, int writer, bool to_slave, const uint8_t *buf, size_t len);

#endif
