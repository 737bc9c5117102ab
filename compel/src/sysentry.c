// SPDX-License-Identifier: GPL-2.0
/*
 * Stop a thread at the entry of a syscall it is about to make from its own code: the
 * restore puts a thread that was dumped inside an interrupted syscall there, with the
 * call's registers, and lets it go from that stop (criu/syscall-resume.c).
 */
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "compel/compel.h"
#include "compel-internal.h"

#define ENTRY_MAX_STOPS 64

static bool is_syscall_stop(int status)
{
	return (status >> 16) == 0 && WSTOPSIG(status) == (SIGTRAP | 0x80);
}

/* 1 at a syscall-entry stop, 0 at an exit stop, -errno */
static int at_entry(pid_t tid)
{
	struct __ptrace_syscall_info info;

	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), &info) < 0)
		return -errno;
	return info.op == PTRACE_SYSCALL_INFO_ENTRY;
}

int compel_stop_at_syscall_entry(pid_t tid, const compel_regs_t *at, compel_regs_t *ret_regs,
				 uint64_t *ret_swallowed)
{
	int ret = compel_set_regs(tid, at);

	*ret_swallowed = 0;
	for (int i = 0; !ret && i < ENTRY_MAX_STOPS; i++) {
		int status, sig;

		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL))
			return -errno;
		ret = compel_wait_stop(tid, &status);
		if (ret)
			return ret;
		sig = WSTOPSIG(status);
		if (!is_syscall_stop(status)) {
			/* an event stop goes on; a signal-delivery stop (event 0) is suppressed */
			if ((status >> 16) == 0 && sig > 0 && sig <= 64) {
				cpr_debug("%d: signal %d on the way to a syscall entry, suppressed\n", tid, sig);
				*ret_swallowed |= 1ULL << (sig - 1);
			}
			continue;
		}
		ret = at_entry(tid);
		if (ret < 0)
			return ret;
		if (!ret) {
			cpr_debug("%d: a syscall-exit stop on the way to an entry\n", tid);
			return -EIO;
		}
		ret = compel_get_regs(tid, ret_regs);
		if (ret)
			return ret;
		if (ret_regs->rip != at->rip + 2 || ret_regs->orig_rax != at->rax) {
			cpr_debug("%d: entry of syscall %lld at %#llx, not %lld at %#llx\n", tid,
				  (long long)ret_regs->orig_rax, (unsigned long long)ret_regs->rip,
				  (long long)at->rax, (unsigned long long)at->rip + 2);
			return -EIO;
		}
		return 0;
	}
	return ret ?: -EIO;
}
