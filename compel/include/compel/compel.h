/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compel: control a seized (ptrace-stopped) task from outside.
 *
 * A standalone library: it includes only libc and kernel headers, never criu/include.
 * Every function returns >= 0 on success and a negative errno on failure. It logs at
 * debug level at most, through the hook set by compel_log_init() (silent by default).
 *
 * The caller (the tracer) must be one thread: ptrace ties a tracee to the thread
 * that attached it. All functions that take a tid expect that thread to be seized by
 * the calling thread and to sit in a ptrace stop, unless said otherwise.
 *
 * x86_64 only.
 */
#ifndef COMPEL_COMPEL_H
#define COMPEL_COMPEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include "compel/kdefs.h"

/* ---------------------------------------------------------------- logging */

/* Levels use criu's numbering, so criu can pass vprint_on_level() directly. */
enum {
	COMPEL_LOG_ERROR = 1,
	COMPEL_LOG_WARN = 2,
	COMPEL_LOG_INFO = 3,
	COMPEL_LOG_DEBUG = 4,
};

typedef void (*compel_log_fn)(int level, const char *fmt, va_list ap);

/* Install a log sink (NULL: silent, the default). */
void compel_log_init(compel_log_fn fn);

/* ------------------------------------------------------- seize and detach */

/* What a thread was doing when seized; values match criu's enum task_state. */
enum compel_task_state {
	COMPEL_TASK_ALIVE = 1,	 /* was running (or sleeping) */
	COMPEL_TASK_STOPPED = 3, /* was in a group stop (SIGSTOP, SIGTSTP, ...) */
};

/*
 * PTRACE_SEIZE tid (options: PTRACE_O_TRACESYSGOOD). Does not stop it.
 * -ESRCH: no such thread (gone). -EPERM: a zombie (the kernel refuses to attach to an
 * exiting task) or not permitted; callers check /proc state 'Z' to tell them apart.
 */
int compel_seize(pid_t tid);
/* The same with more PTRACE_O_* options (PTRACE_O_TRACESYSGOOD is always set), e.g. PTRACE_O_EXITKILL. */
int compel_seize_opts(pid_t tid, unsigned long opts);

/*
 * PTRACE_INTERRUPT a seized thread and wait (waitpid __WALL) until it sits in a ptrace
 * stop. A signal-delivery stop met on the way is re-injected (the signal is delivered as it
 * would have been) and the wait goes on. *ret_state tells whether the thread was in a
 * group stop. -ESRCH when the thread died meanwhile.
 */
int compel_interrupt(pid_t tid, enum compel_task_state *ret_state);

/*
 * How long compel_interrupt() waits for the stop, in milliseconds (default 10000; 0: forever).
 * A thread in a killable or uninterruptible sleep (a vfork parent, D state) does not stop:
 * compel_interrupt() then fails with -ETIMEDOUT. Such a thread stays seized (ptrace can't
 * let a running tracee go) and stops later; it is released when the tracer exits.
 */
void compel_set_stop_timeout(unsigned int ms);

/*
 * The signal of the PTRACE_EVENT_STOP the thread sits in (from PTRACE_GETSIGINFO): the
 * signal that stopped its process (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) when it is in a
 * group stop, SIGTRAP for a plain interrupt. Call it before any remote syscall, which
 * may leave the thread in another stop (a syscall stop: -EINVAL).
 */
int compel_get_stop_signal(pid_t tid);

/* compel_seize() + compel_interrupt(); on an interrupt failure the thread is detached again. */
int compel_seize_stop(pid_t tid, enum compel_task_state *ret_state);
int compel_seize_stop_opts(pid_t tid, unsigned long opts, enum compel_task_state *ret_state);
/* Clear PTRACE_O_EXITKILL (and every option but PTRACE_O_TRACESYSGOOD) of a stopped tracee. */
int compel_keep_on_exit(pid_t tid);

/*
 * Detach a stopped tracee. state is what compel_interrupt() reported: a thread that was
 * in a group stop gets a SIGSTOP queued first so it stays stopped after the detach.
 * sig != 0 is delivered to the thread on detach (used to re-inject a signal that compel
 * swallowed, see struct compel_rsys.swallowed).
 */
int compel_detach(pid_t tid, enum compel_task_state state, int sig);

/*
 * Suspend the seccomp filters (or strict mode) of a seized thread until it is detached
 * (PTRACE_O_SUSPEND_SECCOMP: needs CAP_SYS_ADMIN), so remote syscalls are not refused or
 * fatal. -EPERM when not allowed.
 */
int compel_suspend_seccomp(pid_t tid);

/* waitpid(tid, __WALL) for the next stop; returns the raw status in *ret_status, -ESRCH on exit. */
int compel_wait_stop(pid_t tid, int *ret_status);

/* ---------------------------------------------------------------- registers */

typedef struct user_regs_struct compel_regs_t;

int compel_get_regs(pid_t tid, compel_regs_t *ret);
int compel_set_regs(pid_t tid, const compel_regs_t *regs);

/*
 * FPU state. With xsave (NT_X86_XSTATE) buf holds the whole XSAVE area as the kernel
 * gives it (the legacy 512-byte FXSAVE region first, then the xsave header and the
 * extended components); size is what the kernel returned. Without xsave support, the
 * 512-byte user_fpregs_struct from NT_PRFPREG and xsave = false.
 */
struct compel_fpregs {
	void *buf;
	size_t size;
	bool xsave;
};

/* The XSAVE area size of this CPU (CPUID 0xd, sub-leaf 0, ebx), 0 when XSAVE is unsupported. */
size_t compel_xsave_size(void);
/* Fills *ret with a malloc()ed buffer; release it with compel_fpregs_free(). */
int compel_get_fpregs(pid_t tid, struct compel_fpregs *ret);
int compel_set_fpregs(pid_t tid, const struct compel_fpregs *fp);
void compel_fpregs_free(struct compel_fpregs *fp);

/* Blocked signal mask (64 bits, bit n-1 = signal n) via PTRACE_GETSIGMASK/SETSIGMASK. */
int compel_get_sigmask(pid_t tid, uint64_t *ret_mask);
int compel_set_sigmask(pid_t tid, uint64_t mask);

/*
 * Pending signals via PTRACE_PEEKSIGINFO, without dequeuing them. shared: the process-wide
 * queue, else the thread's own. *ret_si is malloc()ed (NULL when none); returns the count.
 */
int compel_get_pending(pid_t tid, bool shared, siginfo_t **ret_si);

/* rseq registration via PTRACE_GET_RSEQ_CONFIGURATION (all zero when none is registered). */
struct compel_rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};
int compel_get_rseq(pid_t tid, struct compel_rseq_conf *ret);

/*
 * Syscall restart fixup, applied at RESTORE time to the registers read at dump time
 * (dump stores regs exactly as PTRACE_GETREGSET gave them).
 *
 * A thread stopped inside an interruptible syscall has orig_rax = the syscall number and
 * rax = -ERESTARTSYS / -ERESTARTNOINTR / -ERESTARTNOHAND / -ERESTART_RESTARTBLOCK. This
 * rewrites regs so that, set on a task, they re-execute the syscall: rax = orig_rax and
 * rip -= 2 (back onto the 2-byte `syscall`). -ERESTART_RESTARTBLOCK (which needs kernel
 * state that is not restored) becomes rax = -EINTR, as CRIU does. In every case orig_rax
 * is set to -1 so that the kernel does no restart processing of its own on the new regs.
 * Returns 1 when the syscall will be restarted, 0 otherwise.
 */
int compel_fixup_syscall_restart(compel_regs_t *regs);

/* ------------------------------------------------------ remote syscalls */

/*
 * A remote-syscall context on one stopped thread. The thread executes the `syscall` of
 * `syscall; int3` at syscall_ip with the registers we set, run with PTRACE_SYSCALL from its
 * syscall-entry stop to its syscall-exit stop, where we read rax; then we put the thread's
 * registers back. Every signal is blocked during a call and the int3 is never reached, so
 * no signal is raised or dequeued: pending signals (SIGTRAP too), the blocked mask and the
 * signal actions stay as they were. Every other thread of the process must be stopped too
 * (when compel pokes the instructions into the text, another running thread could execute
 * them).
 */
/* The bytes COMPEL_RSYS_RECOVER's code takes at syscall_ip. */
#define COMPEL_RSYS_STUB_MAX 256

struct compel_rsys {
	pid_t tid;
	int mem_fd;			/* /proc/TID/mem, O_RDWR */
	unsigned long syscall_ip;	/* address of `0f 05 cc` */
	bool poked;			/* we wrote the code; orig[] is restored at the end */
	uint8_t orig[COMPEL_RSYS_STUB_MAX];	/* original bytes at syscall_ip when poked */
	size_t poke_len;		/* how many of them */
	bool recover;			/* COMPEL_RSYS_RECOVER */
	compel_regs_t saved;		/* the thread's regs at prepare, restored after every call
					   (with COMPEL_RSYS_FAST: by compel_rsys_finish()) */
	unsigned long scratch;		/* remote scratch area (compel_rsys_map_scratch), 0 if none */
	size_t scratch_size;
	uint64_t swallowed;		/* signals (bit n-1 = signal n) that stopped the thread during
					   a call (only SIGSTOP can: the others are blocked); they were
					   suppressed. compel_rsys_finish() re-queues them with tkill()
					   unless the caller clears this mask first */
	bool done;			/* compel_rsys_last() ran: regs are the caller's business */
	bool in_call;			/* the thread left its stop for a call; its regs are not back */
	/* COMPEL_RSYS_FAST (see compel_rsys_prepare_flags()) */
	bool fast;
	bool mask_set;			/* fast: the call mask is in place, saved_mask is to go back */
	uint64_t saved_mask;		/* fast or recover: the thread's blocked mask at prepare */
	/*
	 * COMPEL_RSYS_RECOVER: the recovery code last written is not written again
	 * while it is the same, when the caller sets sole_writer after the prepare:
	 * its promise that no other context writes at syscall_ip meanwhile (the
	 * threads of one process share the code: only for a one-thread process).
	 */
	bool sole_writer;
	uint8_t rec_code[COMPEL_RSYS_STUB_MAX];
	size_t rec_len;			/* 0: none written yet */
	/* compel_rsys_trap() */
	bool trap;			/* calls end at the int3: one stop each */
	bool trapped;			/* an int3 unblocked SIGTRAP: the call mask is to be set again */
};

/*
 * Flags of compel_rsys_prepare_flags().
 *
 * COMPEL_RSYS_FAST: for a batch of calls. Each call then costs 4 ptrace requests and two
 * waits (set regs, PTRACE_SYSCALL to the entry, PTRACE_SYSCALL to the exit, get regs)
 * instead of up to 10: the thread's blocked mask is saved and replaced by "all blocked"
 * once, at prepare, and its registers are left as the last call left them.
 * compel_rsys_finish() (or compel_rsys_last()) puts both back. Until then the thread's own
 * registers and mask are ctx->saved and ctx->saved_mask, not what ptrace reports. Signals
 * sent to the thread meanwhile stay pending (a SIGSTOP is swallowed and re-queued, as
 * without the flag).
 */
#define COMPEL_RSYS_FAST 0x1
/*
 * COMPEL_RSYS_POKE: syscall_ip is the start of an executable mapping of the task's
 * (the caller picked it from the task's maps: criu's proc_exec_addr()); compel saves
 * its first bytes and writes `0f 05 cc` there through /proc/TID/mem, and
 * compel_rsys_finish() writes the original bytes back.
 */
#define COMPEL_RSYS_POKE 0x2
/*
 * COMPEL_RSYS_RECOVER: make each call safe against the death of the caller. Before
 * each call compel writes, after the `syscall` at syscall_ip, code that puts the
 * thread's blocked mask and registers back (rt_sigprocmask, popfq, a mov of each
 * register, a jmp to the thread's rip; a syscall it was stopped in is restarted as
 * compel_fixup_syscall_restart() says), and runs the call with rsp 512 bytes below the
 * thread's (past the red zone). The caller being killed during a call, the thread finishes
 * the call and comes back to where it was, as it was; between calls its regs and mask are
 * its own (no COMPEL_RSYS_FAST). The code takes COMPEL_RSYS_STUB_MAX bytes at syscall_ip,
 * which must be executable memory the task never runs (criu: the tail of the last page of
 * an executable ELF segment, past its code); with COMPEL_RSYS_POKE that many bytes are
 * saved and written back by the finish.
 */
#define COMPEL_RSYS_RECOVER 0x4

/*
 * Prepare remote syscalls in thread tid (seized and stopped), with the code at
 * syscall_ip (never 0: compel reads no /proc file to find a place). Without
 * COMPEL_RSYS_POKE the caller guarantees an executable `syscall; int3` (0f 05 cc) there.
 */
int compel_rsys_prepare(struct compel_rsys *ctx, pid_t tid, unsigned long syscall_ip);
/* compel_rsys_prepare() with COMPEL_RSYS_* flags; -EINVAL for an unknown flag or syscall_ip 0. */
int compel_rsys_prepare_flags(struct compel_rsys *ctx, pid_t tid, unsigned long syscall_ip, unsigned int flags);

/*
 * Execute syscall nr with up to 6 arguments in the thread; *ret gets the raw rax (a
 * negative errno from the syscall is a result, not a failure: the function returns 0).
 * The function itself fails with -ESRCH when the thread died, -EIO on an unexpected stop.
 */
int compel_rsys(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);

/*
 * Trap mode, for a fast context only: the calls that follow run with PTRACE_CONT and end
 * at the int3 after the `syscall` (one stop per call instead of the entry and exit
 * stops: half the round trips). The trap's SIGTRAP is forced: the kernel unblocks
 * SIGTRAP and, when it was blocked or ignored, resets its action to SIG_DFL; the stop
 * then suppresses it. So it is only for a thread whose SIGTRAP action is SIG_DFL and
 * who has no SIGTRAP pending that matters (criu: a restore stub before the morph sets
 * the task's signal actions and queues its signals). Turning it off (and the finish)
 * blocks every signal again. -EINVAL on a context that is not fast or is recoverable.
 */
int compel_rsys_trap(struct compel_rsys *ctx, bool on);

/* One call of a batch: the syscall number and its 6 arguments. */
struct compel_rsys_call {
	long nr;
	unsigned long a[6];
};

/*
 * n calls in a row, rets[i] the raw rax of calls[i]. A COMPEL_RSYS_RECOVER context
 * blocks the signals, writes its recovery code and puts the thread's regs and mask back
 * once for the batch instead of once per call (the thread stays safe against the
 * caller's death throughout); others make the calls one by one. Errors as compel_rsys();
 * on one, rets[] past the failed call are not set.
 */
int compel_rsys_batch(struct compel_rsys *ctx, const struct compel_rsys_call *calls, size_t n, long *rets);

/*
 * A blob: the n calls of a COMPEL_RSYS_RECOVER context in ONE resume of the
 * thread instead of two ptrace stops each. compel writes, at syscall_ip, a loop
 * over a table of the calls (in the caller's writable remote area) that stores
 * each result in the table, then sets a mask with every signal blocked but sig
 * and makes the thread send itself sig (tgkill(tgid, tid, sig)); the thread
 * stops in that signal's delivery stop, where compel reads the results and
 * puts the thread's own mask and regs back (the signal is dropped by the next
 * resume, which passes no signal). The recovery code follows the loop: a
 * thread whose caller dies in the middle runs the remaining calls, gets sig
 * dropped by the kernel and comes back as it was. So:
 *  - only calls that are harmless for the thread to finish alone: reads, or a
 *    change that a later call of the table undoes (a dead caller's thread runs
 *    the table to its end). After another error than -EOPNOTSUPP the thread
 *    may have stopped anywhere in the table: undoing is the caller's then;
 *  - sig must be one the thread's process does not catch (SIG_DFL ignores it
 *    or SIG_IGN), the thread does not block, and that is not pending: then a
 *    sig from someone else would have been dropped as well;
 *  - tgid and tid are the thread's ids in its own pid namespace;
 *  - area holds compel_rsys_blob_size(n) bytes of the thread's writable memory
 *    that nothing uses, not within 576 bytes below the thread's rsp (where the
 *    recovery code pushes; the stack below that, past the red zone, is fine).
 * Returns -EOPNOTSUPP, having changed nothing in the thread, when the blob
 * can't be used (no recover context, the code does not fit, a failure before
 * the thread was resumed): make the calls with compel_rsys_batch() then.
 * running (optional) is called right after the thread is resumed (tests).
 */
struct compel_rsys_blob {
	unsigned long area;
	int sig;
	pid_t tgid, tid;
	void (*running)(void *arg);
	void *arg;
};

size_t compel_rsys_blob_size(size_t n);
int compel_rsys_blob(struct compel_rsys *ctx, const struct compel_rsys_blob *b, const struct compel_rsys_call *calls,
		     size_t n, long *rets);

#define compel_rsys0(c, r, nr) compel_rsys(c, r, nr, 0, 0, 0, 0, 0, 0)
#define compel_rsys1(c, r, nr, a) compel_rsys(c, r, nr, (unsigned long)(a), 0, 0, 0, 0, 0)
#define compel_rsys2(c, r, nr, a, b) compel_rsys(c, r, nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0, 0)
#define compel_rsys3(c, r, nr, a, b, d) \
	compel_rsys(c, r, nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(d), 0, 0, 0)
#define compel_rsys4(c, r, nr, a, b, d, e) \
	compel_rsys(c, r, nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(d), (unsigned long)(e), 0, 0)

/*
 * The final syscall (restore: munmap of the trampoline that holds the code itself). Runs it
 * with PTRACE_SYSCALL, stopping at syscall entry then at syscall exit, and leaves the thread
 * in the syscall-exit stop; *ret gets rax. The saved regs are NOT put back (the caller sets
 * the final regs, typically compel_fixup_syscall_restart()ed ones, then detaches). Poked
 * bytes are written back first when still mapped. The context is finished afterwards
 * (compel_rsys_finish() only closes it and re-queues swallowed signals; it does not unmap
 * the scratch area: unmap it with compel_rsys() before the last call).
 */
int compel_rsys_last(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		     unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);

/* Map a private anonymous RW scratch area of size bytes in the task (ctx->scratch). */
int compel_rsys_map_scratch(struct compel_rsys *ctx, size_t size);

/*
 * End: unmap the scratch area, write the poked bytes back, restore the saved regs,
 * re-queue swallowed signals, close mem_fd. Safe to call on a failed/partial context
 * (tid 0 / mem_fd -1). Returns the first error met, having done all it could.
 */
int compel_rsys_finish(struct compel_rsys *ctx);

/* ------------------------------------------------------- remote memory */

/*
 * Read/write len bytes at addr in task pid: process_vm_readv/writev, falling back to
 * /proc/PID/mem (which writes read-only pages too, the kernel forces it). mem_fd: an open
 * /proc/PID/mem or -1 (then opened for the call). Returns 0 when all bytes were copied,
 * -EFAULT on a partial copy, other -errno otherwise.
 */
int compel_mem_read(pid_t pid, int mem_fd, unsigned long addr, void *buf, size_t len);
int compel_mem_write(pid_t pid, int mem_fd, unsigned long addr, const void *buf, size_t len);

/* Open /proc/PID/mem O_RDWR|O_CLOEXEC. */
int compel_open_mem(pid_t pid);

/* ------------------------------------------------------- a syscall's entry */

/*
 * From any ptrace stop, let thread tid execute the `syscall` instruction at at->rip with
 * the registers *at (rax the number; orig_rax -1) and stop it at that syscall's entry
 * (PTRACE_SYSCALL); *ret_regs gets its registers there. The thread executes no other
 * instruction. The caller blocks the thread's signals first; a SIGSTOP (which can't be
 * blocked) met on the way is suppressed and its bit set in *ret_swallowed, for the caller
 * to queue again. Regs set at that stop decide the call the thread makes when it goes on.
 */
int compel_stop_at_syscall_entry(pid_t tid, const compel_regs_t *at, compel_regs_t *ret_regs,
				 uint64_t *ret_swallowed);

#endif
