/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scheduling and memory attributes of threads and tasks that the core image keeps in
 * our own fields (images/core.proto, numbers from 100): per thread the timer slack and
 * its default, CPU affinity, I/O priority, NUMA memory policy, PR_SET_TSC and
 * PR_MCE_KILL; per mm coredump_filter and PR_SET_MDWE. Each field is written only
 * when not the default. See Documentation/restore.md.
 */
#ifndef CRIU_TASK_ATTRS_H
#define CRIU_TASK_ATTRS_H

#include <stdint.h>
#include <sys/types.h>

#include "compel/compel.h"

#include "core.pb-c.h"

#define TA_CPU_WORDS 16		/* 1024 CPUs */
#define TA_NODE_WORDS 16	/* 1024 NUMA nodes */

/* Storage the dumped ThreadCoreEntry points into: keep it until the image is written. */
struct thread_attrs {
	uint64_t cpus[TA_CPU_WORDS];
	uint64_t nodes[TA_NODE_WORDS];
};

/*
 * Dump: fill tc's attribute fields for thread tid (criu's tid), stopped with remote
 * syscalls prepared (rs); scratch is a page of the task for the calls' arguments.
 * A state that can't be restored is refused, logged. 0 or -errno.
 */
int dump_thread_attrs(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a,
		      ThreadCoreEntry *tc);
/*
 * What the leader's blob of reads (dump-core.c, compel_rsys_blob()) got for
 * dump_thread_attrs_pre(): the raw results of PR_GET_TIMERSLACK, get_mempolicy,
 * PR_GET_TSC and PR_MCE_KILL_GET, and what the calls wrote.
 */
struct thread_attr_reads {
	long slack, mempolicy, tsc, mce;
	int32_t tsc_mode, mempolicy_mode;
	uint64_t nodes[TA_NODE_WORDS];
};

/* dump_thread_attrs() with those reads made already (pre not NULL): no remote call but the slack's default. */
int dump_thread_attrs_pre(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a,
			  ThreadCoreEntry *tc, const struct thread_attr_reads *pre);
/* Dump: coredump_filter (from proc_dfd) and MDWE (remote, rs in any thread). 0 or -errno. */
int dump_task_attrs(struct compel_rsys *rs, int proc_dfd, TaskCoreEntry *tc);
/* dump_task_attrs() with PR_GET_MDWE's result read already (mdwe not NULL). */
int dump_task_attrs_pre(struct compel_rsys *rs, int proc_dfd, TaskCoreEntry *tc, const long *mdwe);

/* Restore, image check before anything starts: -EINVAL (logged) for values out of range. */
int check_thread_attrs(pid_t tid, const ThreadCoreEntry *tc);

/*
 * Restore, in a stub (or criu) right before it creates a task or thread: a new task's
 * default timer slack is its creator's current one, so take the default the new one
 * must have (core: its core image, NULL for none). 0 or -errno.
 */
int slack_for_next(const CoreEntry *core);

/*
 * Restore, in the morph: the thread's attributes; tid is criu's tid, rs its remote
 * syscalls, scratch a page of the task. Before the scheduling policy is set. 0 or -errno (logged).
 */
int restore_thread_attrs(struct compel_rsys *rs, pid_t tid, unsigned long scratch, const ThreadCoreEntry *tc);
/* Restore: coredump_filter, from criu (real_pid: criu's pid of the task). 0 or -errno (logged). */
int restore_coredump_filter(int proc_dfd, pid_t real_pid, const TaskCoreEntry *tc);
/* Restore: MDWE, in the task (rs of any thread); after the memory, as it can't be undone. */
int restore_mdwe(struct compel_rsys *rs, pid_t pid, const TaskCoreEntry *tc);

#endif
