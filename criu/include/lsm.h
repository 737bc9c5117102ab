/* SPDX-License-Identifier: GPL-2.0 */
/* LSM labels: AppArmor profiles and SELinux contexts of threads (criu/lsm.c). */
#ifndef CRIU_LSM_H
#define CRIU_LSM_H

#include <stdbool.h>
#include <sys/types.h>

enum lsm_kind {
	LSM_NONE,
	LSM_APPARMOR,
	LSM_SELINUX,
	LSM_OTHER,	/* an LSM with process labels criu does not restore (Smack, TOMOYO) */
};

struct CredsEntry;
struct ThreadCoreEntry;
struct rst_ctx;
struct compel_rsys;

/* The LSM that owns /proc/PID/attr/current on this machine. */
enum lsm_kind lsm_active(void);
const char *lsm_name(enum lsm_kind k);

/*
 * Dump: the thread's label (thread_dfd: its /proc/PID/task/TID) into c->lsm_profile
 * and c->lsm_sockcreate, strings kept in ret_bufs[2] (the caller frees them).
 * No label, or AppArmor's "unconfined": nothing. A label of an LSM criu does not
 * restore: -EOPNOTSUPP, logged.
 */
int dump_thread_lsm(int thread_dfd, pid_t tid, struct CredsEntry *c, char **ret_bufs);

/* "--lsm-profile TYPE:NAME": TYPE apparmor or selinux. 0 or -EINVAL. */
int lsm_parse_profile(const char *arg, enum lsm_kind *ret_kind, const char **ret_name);

/* Restore, before anything starts: every dumped label (and --lsm-profile) can be set here. */
int rst_lsm_check(struct rst_ctx *ctx);
/* Does this thread get a label? */
bool rst_lsm_needed(const struct rst_ctx *ctx, const struct ThreadCoreEntry *tc);
/* In the thread, while the task's /proc fd (proc_fd) is open: open its own attr files (fds[2], -1: none). */
int rst_lsm_open(const struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch, int proc_fd,
		 const struct ThreadCoreEntry *tc, int ret_fds[2]);
/* In the thread, late in its creds: write the labels, close fds, read the label back. */
int rst_lsm_apply(const struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch,
		  const struct ThreadCoreEntry *tc, int fds[2]);

#endif
