/* SPDX-License-Identifier: GPL-2.0 */
/* Terminals (tty.c): the shell job's terminal and pty pairs. */
#ifndef CRIU_TTY_H
#define CRIU_TTY_H

#include <stdbool.h>
#include <sys/stat.h>

/* A character device that tty.c dumps: tty/ttyS, /dev/tty, /dev/console, /dev/ptmx, a pts. */
bool tty_is_terminal(const struct stat *st);

#endif
