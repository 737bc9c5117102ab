/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the seccomp zdtm tests: small classic-BPF filters that make one
 * syscall (optionally only with a given first argument) return an errno or
 * kill, and the seccomp state of a thread from /proc.
 *
 * The usual probe is getsid() of a "magic" pid that can't exist (negative):
 * without a filter for it ESRCH, under one the filter's errno. Different
 * filters use different magics and errnos. (Not getpid(): glibc's wrapper
 * leaves whatever the first argument register held, so a filter on its
 * argument would hit glibc's own calls.)
 */
#ifndef ZDTM_SECCOMP_TST_H
#define ZDTM_SECCOMP_TST_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCT_ANY_ARG (-1L)

/*
 * A filter program: for syscall nr (with args[0] == arg, unless SCT_ANY_ARG)
 * return action, else allow. prog must hold 8 instructions.
 */
static inline unsigned int sct_build(struct sock_filter *prog, int nr, long arg, unsigned int action)
{
	unsigned int n = 0;

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, arg == SCT_ANY_ARG ? 3 : 5);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	if (arg == SCT_ANY_ARG) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1);
	} else {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 3);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)arg, 0, 1);
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return n;
}

/* Install such a filter on the calling thread: seccomp()'s result (a tid when TSYNC fails), -1 with errno. */
static inline long sct_install(int nr, long arg, unsigned int action, unsigned int flags)
{
	struct sock_filter prog[8];
	struct sock_fprog fp;

	fp.len = (unsigned short)sct_build(prog, nr, arg, action);
	fp.filter = prog;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
}

#define SCT_PROBE_NR SYS_getsid
#define SCT_MAGIC(n) ((int)(0xdead5ec0u + (n)))	/* negative: no such pid */
#define SCT_NONE (-ESRCH)			/* the probe without a filter */

/* getsid(magic) under sct_install(SCT_PROBE_NR, magic, ERRNO(e)): -e; SCT_NONE without one. */
static inline long sct_probe(long magic)
{
	long r = syscall(SCT_PROBE_NR, magic);

	return r < 0 ? -errno : r;
}

/* "Seccomp" (key "Seccomp:") or "Seccomp_filters" of thread tid (0: the calling process). -1 when absent. */
static inline int sct_status(pid_t tid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int val = -1;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = atoi(line + klen + 1);
			break;
		}
	fclose(f);
	return val;
}

#endif
