/* SPDX-License-Identifier: GPL-2.0 */
/* Parsers of /proc/PID files. They read through a directory fd (proc_dfd) and never log above debug. */
#ifndef CRIU_PROC_PARSE_H
#define CRIU_PROC_PARSE_H

#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat we use (see proc(5) for the numbering). */
struct proc_pid_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid, pgid, sid;
	int tty_nr;
	unsigned long flags;
	unsigned long long start_time;	/* field 22, clock ticks since boot */
	unsigned long vsize;
	unsigned long start_code, end_code, start_stack;	/* 26, 27, 28 */
	unsigned long sigpending, sigblocked, sigignore, sigcatch; /* 31-34 (obsolete, bitmaps) */
	int exit_signal;			/* 38 */
	unsigned long start_data, end_data, start_brk;	/* 45, 46, 47 */
	unsigned long arg_start, arg_end, env_start, env_end;	/* 48-51 */
	int exit_code;				/* 52: wait status of a zombie */
};

/* Parse the "stat" file relative to proc_dfd (a /proc/PID or /proc/PID/task/TID dir fd). */
int parse_pid_stat(int proc_dfd, struct proc_pid_stat *ret);
/* Parse a stat line already in memory (used by the unit tests on fixtures). */
int parse_pid_stat_buf(const char *buf, struct proc_pid_stat *ret);

#endif
