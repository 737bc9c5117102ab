/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_SYSCALL_RESUME_H
#define CRIU_SYSCALL_RESUME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "compel/compel.h"

struct ThreadCoreEntry;

/* seize: where a sleeping thread's last run ended, on the scheduler's clock of its CPU */
struct sc_sleep {
	bool ok;
	int cpu;
	uint64_t since;		/* ns */
	bool now_ok;
	uint64_t now;		/* that CPU's clock before the thread was woken, >= since (ns) */
	char wchan[64];		/* the kernel function it sleeps in */
};

/* seize: what the dump needs to know of a thread woken in a syscall */
struct sc_seen {
	int64_t slept_ns;	/* how long it had slept in a call with a timeout, -1 unknown or none */
	long nr;		/* for a thread in restart_syscall(): the call restarted, -1 unknown */
	/*
	 * for a thread whose call returned -EINTR at the stop (epoll_*,
	 * rt_sigtimedwait): that call, -1 none. Remote syscalls leave the
	 * registers without it (orig_rax -1), sc_resume_live() needs it.
	 */
	long eintr_nr;
};

/* Before the thread is woken (seized and interrupted): note since when it sleeps. */
void sc_note_sleep(int proc_dfd, pid_t tid, struct sc_sleep *s);
/*
 * Once it is stopped: how long it had slept (ns) when it was woken in a syscall whose
 * timeout the kernel keeps to itself, and which call a restart_syscall() restarted.
 * stopped: it was in a group stop.
 */
struct sc_seen sc_seen(pid_t tid, const struct sc_sleep *s, bool stopped);

/*
 * Dump: a thread stopped with regs r inside a syscall the dump interrupted gets the call
 * to make again (sc_resume) and what is left of its timeout (sc_timeout_ns) in *tc.
 * mem_fd: its /proc/TID/mem. stopped: the task was in a group stop.
 */
int sc_dump_thread(pid_t tid, int mem_fd, const compel_regs_t *r, bool stopped, const struct sc_seen *seen,
		   struct ThreadCoreEntry *tc);

/*
 * Restore, as the thread's last step: from its ptrace stop, put it at the entry of the
 * syscall its image makes again, with its dumped registers and what was left of the
 * timeout; an epoll_* call is left on its `syscall` instruction instead, to be made from
 * user mode (logs its error). The caller sets the thread's blocked mask afterwards.
 */
int sc_restore_thread(pid_t tid, const compel_regs_t *dumped, const struct ThreadCoreEntry *tc);

/*
 * A dumped tree that goes on (--leave-running, a failed dump): a thread the dump woke from
 * a call that then returns -EINTR (epoll_wait, rt_sigtimedwait...) is made to make it again
 * as the restore does, before it is detached; the kernel restarts the others itself.
 */
void sc_resume_live(pid_t tid, bool stopped, const struct sc_seen *seen);

#endif
