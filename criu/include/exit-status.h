/* SPDX-License-Identifier: GPL-2.0 */
/* Ending a process with a dumped wait status, the core-dump bit included (criu/exit-status.c). */
#ifndef CRIU_EXIT_STATUS_H
#define CRIU_EXIT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "creds.pb-c.h"

/* /proc/sys/kernel/core_pattern, without its newline; 0 or -errno. */
int read_core_pattern(int proc_fd, char *buf, size_t size);
/* Does the pattern name a file (not "|program" nor "@socket")? */
bool core_pattern_is_file(const char *pattern);
/* 0 when a process (what: "zombie 12") ended with want, else a logged error naming the cause. */
int check_exit_status(int proc_fd, const char *what, int got, int want);
/*
 * Ends the caller so its parent reaps status (proc_fd: criu's /proc), after
 * it took creds (a zombie's, criu's view), unless NULL.
 */
void __attribute__((noreturn)) exit_with_status(int proc_fd, int status, const CredsEntry *creds);
/* 0 when zombie pid shows creds in its status, else a logged error. */
int check_zombie_creds(int proc_fd, pid_t pid, const char *what, const CredsEntry *creds);

#endif
