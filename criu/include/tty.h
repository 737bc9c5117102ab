/* SPDX-License-Identifier: GPL-2.0 */
/* Terminals (tty.c): the shell job's terminal and pty pairs. */
#ifndef CRIU_TTY_H
#define CRIU_TTY_H

#include <stdbool.h>
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

#endif
