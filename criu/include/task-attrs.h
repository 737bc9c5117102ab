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
 * PR_GET_TSC and PR_MCE_KILL_GET, and what the calls wrote. slack_back, when
 * not 0: the blob ended with the calls of slack_default_calls() too, which
 * put back slack_back; slack_zero, slack_def and slack_set are their results.
 */
struct thread_attr_reads {
	long slack, mempolicy, tsc, mce;
	int32_t tsc_mode, mempolicy_mode;
	uint64_t nodes[TA_NODE_WORDS];
	unsigned long slack_back;
	long slack_zero, slack_def, slack_set;
};

/* dump_thread_attrs() with those reads made already (pre not NULL): no remote call but the slack's default. */
int dump_thread_attrs_pre(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a,
			  ThreadCoreEntry *tc, const struct thread_attr_reads *pre);
/*
 * The default timer slack of a task's leader read in its blob: the last
 * SLACK_CALLS calls of the table are PR_SET_TIMERSLACK 0 (the default
 * becomes the current slack), PR_GET_TIMERSLACK, PR_SET_TIMERSLACK back to
 * the current slack, which criu reads first from proc_dfd's timerslack_ns
 * (the leader's, /proc/PID). A criu killed in the blob still has the thread
 * run the set back (compel_rsys_blob()). Fills c[] and *ret_cur and returns
 * SLACK_CALLS; 0 when dump_thread_attrs_pre() has to read the default by
 * itself: a real-time thread, whose default is not dumped, a slack of 0,
 * which the dump refuses, or no timerslack_ns to read (criu without
 * CAP_SYS_NICE over the task).
 */
#define SLACK_CALLS 3
int slack_default_calls(pid_t tid, int proc_dfd, struct compel_rsys_call *c, unsigned long *ret_cur);
/*
 * After a blob with those calls that failed once the thread ran (it may have
 * stopped between the set to 0 and the set back): cur set back. 0 or -errno.
 */
int slack_put_back(struct compel_rsys *rs, unsigned long cur);

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
