// SPDX-License-Identifier: GPL-2.0
/*
 * Remote syscalls: a stopped thread executes the `syscall` of `syscall; int3` with
 * registers we chose.
 *
 * Each call: save the blocked mask and block every signal, set rip/rax/args, then
 * PTRACE_SYSCALL to the syscall-entry stop and again to the syscall-exit stop, where rax is
 * the result. The int3 is never reached. A trap there would raise a forced SIGTRAP, which
 * the kernel delivers even when SIGTRAP is blocked or ignored by unblocking it and resetting
 * its action to SIG_DFL; and leaving SIGTRAP unblocked for it would let a SIGTRAP queued to
 * the task be dequeued by the call. This way the thread's pending signals, blocked mask and
 * actions are never touched. Only SIGKILL and SIGSTOP can't be blocked: a SIGSTOP met
 * during a call is suppressed, remembered in ctx->swallowed and queued again by the finish;
 * a call it interrupted (-ERESTART* at syscall exit) is issued again.
 *
 * COMPEL_RSYS_FAST does the mask part once for the whole context (prepare / finish) and
 * puts the regs back only at the finish.
 *
 * Putting the regs back: a thread is seized in an event stop inside signal handling, and
 * when it was in an interruptible syscall the kernel's restart processing of that syscall
 * comes after this stop. A syscall-exit stop returns to user mode without it, so a thread
 * whose saved regs need a restart is parked in an event stop again (park()) first.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compel/compel.h"
#include "compel-internal.h"

/* the int3 is only a guard: a thread that ever ran past the syscall traps instead of running on */
static const uint8_t syscall_code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */

#define RSYS_MAX_STOPS 256
#define SIGBIT(sig) (1ULL << ((sig)-1))

/*
 * Last step of prepare: the call mask of a fast context (every signal blocked until the
 * finish); on failure undo everything.
 */
static int fast_mask_set(struct compel_rsys *ctx);

static int prepare_done(struct compel_rsys *ctx)
{
	int ret = ctx->fast ? fast_mask_set(ctx) : 0;

	if (ret < 0) {
		cpr_debug("%d: can't block its signals: %d\n", ctx->tid, ret);
		compel_rsys_finish(ctx);
	}
	return ret;
}

int compel_rsys_prepare(struct compel_rsys *ctx, pid_t tid, unsigned long syscall_ip)
{
	return compel_rsys_prepare_flags(ctx, tid, syscall_ip, 0);
}

int compel_rsys_prepare_flags(struct compel_rsys *ctx, pid_t tid, unsigned long syscall_ip, unsigned int flags)
{
	uint8_t code[sizeof(syscall_code)];
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->mem_fd = -1;
	if ((flags & ~(COMPEL_RSYS_FAST | COMPEL_RSYS_POKE | COMPEL_RSYS_RECOVER)) || !syscall_ip)
		return -EINVAL;
	if ((flags & COMPEL_RSYS_FAST) && (flags & COMPEL_RSYS_RECOVER))
		return -EINVAL;	/* a fast context keeps the call's regs between calls */
	ctx->fast = flags & COMPEL_RSYS_FAST;
	ctx->recover = flags & COMPEL_RSYS_RECOVER;
	ctx->poke_len = ctx->recover ? COMPEL_RSYS_STUB_MAX : sizeof(syscall_code);

	ret = compel_get_regs(tid, &ctx->saved);
	if (ret)
		return ret;
	/* a recoverable context reports the thread's mask in saved_mask too (a fast one sets it below) */
	if (ctx->recover) {
		ret = compel_get_sigmask(tid, &ctx->saved_mask);
		if (ret)
			return ret;
	}
	ctx->mem_fd = compel_open_mem(tid);
	if (ctx->mem_fd < 0) {
		ret = ctx->mem_fd;
		ctx->mem_fd = -1;
		return ret;
	}
	ctx->tid = tid;

	if (!(flags & COMPEL_RSYS_POKE)) {
		ret = compel_mem_read(tid, ctx->mem_fd, syscall_ip, code, sizeof(code));
		if (ret)
			goto err;
		if (memcmp(code, syscall_code, sizeof(code))) {
			cpr_debug("%d: no `syscall; int3` at %#lx\n", tid, syscall_ip);
			ret = -EINVAL;
			goto err;
		}
		ctx->syscall_ip = syscall_ip;
		return prepare_done(ctx);
	}

	ret = compel_mem_read(tid, ctx->mem_fd, syscall_ip, ctx->orig, ctx->poke_len);
	if (ret)
		goto err;
	ret = compel_mem_write(tid, ctx->mem_fd, syscall_ip, syscall_code, sizeof(syscall_code));
	if (ret)
		goto err;
	ctx->syscall_ip = syscall_ip;
	ctx->poked = true;
	cpr_debug("%d: syscall code poked at %#lx\n", tid, syscall_ip);
	return prepare_done(ctx);
err:
	close(ctx->mem_fd);
	ctx->mem_fd = -1;
	ctx->tid = 0;
	return ret;
}

static void set_call_regs(struct compel_rsys *ctx, compel_regs_t *r, long nr, const unsigned long a[6])
{
	*r = ctx->saved;
	r->rip = ctx->syscall_ip;
	r->rax = nr;
	r->orig_rax = (unsigned long)-1L;	/* no syscall-restart processing on resume */
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
}

/* ---------------------------------------------------------- recovery code */

static size_t put_bytes(uint8_t *p, size_t off, const void *b, size_t len)
{
	memcpy(p + off, b, len);
	return off + len;
}

/* mov $imm64, reg: REX.W (+B for r8-r15), B8+reg, imm64 */
static size_t put_movabs(uint8_t *p, size_t off, int reg, uint64_t imm)
{
	uint8_t op[2] = { (uint8_t)(reg >= 8 ? 0x49 : 0x48), (uint8_t)(0xb8 + (reg & 7)) };

	off = put_bytes(p, off, op, 2);
	return put_bytes(p, off, &imm, 8);
}

/*
 * COMPEL_RSYS_RECOVER: `syscall`, then what a thread that goes on by itself (the
 * caller is gone) runs to become itself again: its blocked mask, its flags (pushed
 * below the red zone: the call's rsp), every general register, a jmp to its rip.
 * Returns the length (<= COMPEL_RSYS_STUB_MAX).
 */
static size_t build_recovery(uint8_t *p, const compel_regs_t *r, uint64_t mask)
{
	static const uint8_t sigmask_head[] = {
		0x0f, 0x05,				/* syscall: the remote call */
		0xb8, 0x0e, 0x00, 0x00, 0x00,		/* mov $__NR_rt_sigprocmask, %eax */
		0xbf, 0x02, 0x00, 0x00, 0x00,		/* mov $SIG_SETMASK, %edi */
		0x48, 0x8d, 0x35,			/* lea rel32(%rip), %rsi: the mask, at the end */
	};
	static const uint8_t sigmask_tail[] = {
		0x31, 0xd2,				/* xor %edx, %edx */
		0x41, 0xba, 0x08, 0x00, 0x00, 0x00,	/* mov $8, %r10d */
		0x0f, 0x05,				/* syscall */
	};
	static const uint8_t jmp_rip[] = { 0xff, 0x25, 0x00, 0x00, 0x00, 0x00 };	/* jmp *0(%rip) */
	const uint64_t regs[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				    r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	size_t off = put_bytes(p, 0, sigmask_head, sizeof(sigmask_head)), rel_at = off, mask_at;
	uint8_t push = 0x68, popf = 0x9d;
	uint32_t flags = (uint32_t)(r->eflags & 0x7fffffffu);
	int32_t rel;

	off += 4;
	off = put_bytes(p, off, sigmask_tail, sizeof(sigmask_tail));
	off = put_bytes(p, off, &push, 1);
	off = put_bytes(p, off, &flags, 4);
	off = put_bytes(p, off, &popf, 1);
	for (int reg = 0; reg < 16; reg++)
		off = put_movabs(p, off, reg, regs[reg]);
	off = put_bytes(p, off, jmp_rip, sizeof(jmp_rip));
	off = put_bytes(p, off, &r->rip, 8);
	mask_at = off;
	off = put_bytes(p, off, &mask, 8);
	rel = (int32_t)(mask_at - (rel_at + 4));
	memcpy(p + rel_at, &rel, 4);
	return off;
}

/*
 * The thread's regs as the kernel would return them to user mode from its
 * stop when no signal handler runs: a syscall it was stopped in is issued
 * again (its number back in rax, rip on the `syscall`; restart_syscall for
 * -ERESTART_RESTARTBLOCK, whose state is still the thread's). Set at a
 * syscall-exit stop they need no park(): no restart processing is left to do.
 */
static void regs_to_resume(const compel_regs_t *saved, compel_regs_t *r)
{
	*r = *saved;
	if ((long)r->orig_rax >= 0) {
		switch ((long)r->rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
			r->rax = r->orig_rax;
			r->rip -= 2;
			break;
		case -ERESTART_RESTARTBLOCK:
			r->rax = __NR_restart_syscall;
			r->rip -= 2;
			break;
		}
	}
	r->orig_rax = (unsigned long)-1L;
}

/* Write the recovery code for this call; the call's rsp goes below the thread's red zone. */
static int write_recovery(struct compel_rsys *ctx, compel_regs_t *call, uint64_t mask)
{
	uint8_t code[COMPEL_RSYS_STUB_MAX];
	compel_regs_t back;
	size_t len;

	int ret;

	regs_to_resume(&ctx->saved, &back);
	len = build_recovery(code, &back, mask);
	call->rsp = ctx->saved.rsp - 512;
	/* the thread's regs and mask, so the code, rarely change between calls: the bytes are there already */
	if (ctx->sole_writer && len == ctx->rec_len && !memcmp(code, ctx->rec_code, len))
		return 0;
	ctx->rec_len = 0;
	ret = compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, code, len);
	if (!ret) {
		memcpy(ctx->rec_code, code, len);
		ctx->rec_len = len;
	}
	return ret;
}

/*
 * A COMPEL_RSYS_RECOVER call. Each step leaves the thread so that, let go by
 * a dead caller, it comes back as it was: the recovery code first, then the
 * call's regs (at the `syscall`), then the call mask; after the call its mask
 * first (its regs still run the recovery code), then its regs.
 */
static int run_call(struct compel_rsys *ctx, const compel_regs_t *call, compel_regs_t *ret_regs);
static int put_mask_back(struct compel_rsys *ctx, uint64_t old);

static int recover_call(struct compel_rsys *ctx, long *ret, const compel_regs_t *call_in)
{
	compel_regs_t call = *call_in, r, back;
	uint64_t old;
	int err, err2;

	err = compel_get_sigmask(ctx->tid, &old);
	if (!err)
		err = write_recovery(ctx, &call, old);
	if (!err)
		err = compel_set_regs(ctx->tid, &call);
	if (!err)
		err = compel_set_sigmask(ctx->tid, ~0ULL);
	if (err)
		return err;
	err = run_call(ctx, &call, &r);
	if (!err)
		*ret = (long)r.rax;
	if (err == -ESRCH)
		return err;
	err2 = put_mask_back(ctx, old);
	regs_to_resume(&ctx->saved, &back);
	if (!err2)
		err2 = compel_set_regs(ctx->tid, &back);
	if (!err2)
		ctx->in_call = false;
	cpr_debug("%d: remote syscall %lld = %ld (%d, recoverable)\n", ctx->tid, call.rax, err ? 0 : *ret,
		  err ? err : err2);
	return err ? err : err2;
}

/* ---------------------------------------------------------- the blocked mask */

/* What PTRACE_GETSIGMASK shows after we block everything: the kernel drops SIGKILL and SIGSTOP. */
#define CALL_MASK (~0ULL & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)))

/* Block every signal; *ret_old gets the mask to put back. */
static int set_call_mask(struct compel_rsys *ctx, uint64_t *ret_old)
{
	int ret = compel_get_sigmask(ctx->tid, ret_old);

	if (ret)
		return ret;
	return compel_set_sigmask(ctx->tid, ~0ULL);
}

/* Put the old mask back, unless a remote syscall itself changed the mask (rt_sigprocmask). */
static int put_mask_back(struct compel_rsys *ctx, uint64_t old)
{
	uint64_t cur;
	int ret = compel_get_sigmask(ctx->tid, &cur);

	if (ret)
		return ret;
	if (cur != CALL_MASK)
		return 0;
	return compel_set_sigmask(ctx->tid, old);
}

/* Per call: the call mask (a fast context has it in place from prepare to finish). */
static int block_signals(struct compel_rsys *ctx, uint64_t *ret_old)
{
	if (ctx->fast)
		return 0;
	return set_call_mask(ctx, ret_old);
}

static int unblock_signals(struct compel_rsys *ctx, uint64_t old)
{
	if (ctx->fast)
		return 0;
	return put_mask_back(ctx, old);
}

static int fast_mask_set(struct compel_rsys *ctx)
{
	int ret = set_call_mask(ctx, &ctx->saved_mask);

	if (!ret)
		ctx->mask_set = true;
	return ret;
}

static int fast_mask_restore(struct compel_rsys *ctx)
{
	if (!ctx->mask_set)
		return 0;
	ctx->trap = false;
	if (ctx->trapped) {
		/* SIGTRAP unblocked by a trap: back to the call mask, which put_mask_back() expects */
		int ret = compel_set_sigmask(ctx->tid, ~0ULL);

		if (ret)
			return ret;
		ctx->trapped = false;
	}
	ctx->mask_set = false;
	return put_mask_back(ctx, ctx->saved_mask);
}

/* ---------------------------------------------------------- running a call */

static bool is_restart(long rax)
{
	return rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND ||
	       rax == -ERESTART_RESTARTBLOCK;
}

/* Regs of a thread stopped inside an interrupted syscall that the kernel is still to restart. */
static bool needs_restart(const compel_regs_t *r)
{
	return (long)r->orig_rax >= 0 && is_restart((long)r->rax);
}

static bool is_syscall_stop(int status)
{
	return (status >> 16) == 0 && WSTOPSIG(status) == (SIGTRAP | 0x80);
}

/*
 * A stop that is not the one we wait for. A signal-delivery stop (event 0: only SIGSTOP
 * gets one, every other signal is blocked) is suppressed by the next resume, which passes
 * no signal, and remembered for compel_rsys_finish().
 */
static void other_stop(struct compel_rsys *ctx, int status)
{
	int sig = WSTOPSIG(status);

	if ((status >> 16) == 0 && !is_syscall_stop(status)) {
		cpr_debug("%d: signal %d during a remote syscall, suppressed\n", ctx->tid, sig);
		ctx->swallowed |= SIGBIT(sig);
		return;
	}
	cpr_debug("%d: stop %#x during a remote syscall, resuming\n", ctx->tid, status);
}

static bool is_trap_stop(int status)
{
	return (status >> 16) == 0 && WSTOPSIG(status) == SIGTRAP;
}

/*
 * Trap mode (compel_rsys_trap()): PTRACE_CONT to the SIGTRAP of the int3 after the
 * `syscall`, which the next resume suppresses. A call a SIGSTOP interrupted is made
 * again by the kernel itself (the stop's signal is suppressed, so the restart
 * processing puts rip back on the `syscall`).
 */
static int run_call_trap(struct compel_rsys *ctx, const compel_regs_t *call, compel_regs_t *ret_regs)
{
	int ret = compel_set_regs(ctx->tid, call);

	ctx->in_call = true;
	for (int i = 0; !ret && i < RSYS_MAX_STOPS; i++) {
		int status;

		if (ptrace(PTRACE_CONT, ctx->tid, NULL, NULL))
			return -errno;
		ret = compel_wait_stop(ctx->tid, &status);
		if (ret)
			return ret;
		if (!is_trap_stop(status)) {
			other_stop(ctx, status);
			continue;
		}
		ctx->trapped = true;
		ret = compel_get_regs(ctx->tid, ret_regs);
		if (ret)
			return ret;
		if (ret_regs->rip != ctx->syscall_ip + sizeof(syscall_code)) {
			cpr_debug("%d: SIGTRAP at %#llx, not at our code\n", ctx->tid, ret_regs->rip);
			return -EIO;
		}
		return 0;
	}
	return ret ?: -EIO;
}

/* After traps: every signal blocked again (the forced SIGTRAPs unblocked SIGTRAP). */
static int trap_mask_fix(struct compel_rsys *ctx)
{
	if (!ctx->trapped)
		return 0;
	ctx->trapped = false;
	return compel_set_sigmask(ctx->tid, ~0ULL);
}

int compel_rsys_trap(struct compel_rsys *ctx, bool on)
{
	if (!ctx->tid || !ctx->fast || ctx->recover || ctx->done)
		return -EINVAL;
	ctx->trap = on;
	return on ? 0 : trap_mask_fix(ctx);
}

/*
 * Run the call set up in *call: PTRACE_SYSCALL to its entry stop, then to its exit stop,
 * where *ret_regs gets the registers. A call interrupted by a SIGSTOP (it exits with
 * -ERESTART*) is issued again.
 */
static int run_call(struct compel_rsys *ctx, const compel_regs_t *call, compel_regs_t *ret_regs)
{
	bool entered = false;
	int ret;

	if (ctx->trap && !ctx->done)
		return run_call_trap(ctx, call, ret_regs);
	ret = trap_mask_fix(ctx) ?: compel_set_regs(ctx->tid, call);

	ctx->in_call = true;
	for (int i = 0; !ret && i < RSYS_MAX_STOPS; i++) {
		int status;

		if (ptrace(PTRACE_SYSCALL, ctx->tid, NULL, NULL))
			return -errno;
		ret = compel_wait_stop(ctx->tid, &status);
		if (ret)
			return ret;
		if (!is_syscall_stop(status)) {
			other_stop(ctx, status);
			continue;
		}
		if (!entered) {
			entered = true;
			continue;
		}
		ret = compel_get_regs(ctx->tid, ret_regs);
		if (ret)
			return ret;
		if (ret_regs->rip != ctx->syscall_ip + 2) {
			cpr_debug("%d: syscall stop at %#llx, not at our code\n", ctx->tid, ret_regs->rip);
			return -EIO;
		}
		if (!is_restart((long)ret_regs->rax))
			return 0;
		cpr_debug("%d: remote syscall %lld interrupted, again\n", ctx->tid, call->rax);
		entered = false;
		ret = compel_set_regs(ctx->tid, call);
	}
	return ret ?: -EIO;
}

/*
 * From a syscall-exit stop, resume the thread into an event stop inside signal handling
 * (PTRACE_INTERRUPT), where it was when seized: regs set there get the kernel's
 * syscall-restart processing when the thread goes on.
 */
static int park(struct compel_rsys *ctx)
{
	if (ptrace(PTRACE_INTERRUPT, ctx->tid, NULL, NULL))
		return -errno;
	for (int i = 0; i < RSYS_MAX_STOPS; i++) {
		int status, ret;

		if (ptrace(PTRACE_CONT, ctx->tid, NULL, NULL))
			return -errno;
		ret = compel_wait_stop(ctx->tid, &status);
		if (ret)
			return ret;
		if ((status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		other_stop(ctx, status);
	}
	return -EIO;
}

/* The thread's own registers back; parked first when they wait for a syscall restart. */
static int put_regs_back(struct compel_rsys *ctx)
{
	compel_regs_t back;
	int ret;

	/*
	 * As recover_call() leaves them: no park needed, unless the thread was
	 * seized inside a syscall the kernel is still to restart. Then its own
	 * regs go back and it is parked, so that the kernel's restart processing
	 * sees a signal that came meanwhile (a handler without SA_RESTART: EINTR),
	 * as without criu; a criu killed from here on leaves the same regs.
	 */
	if (ctx->recover && !needs_restart(&ctx->saved)) {
		regs_to_resume(&ctx->saved, &back);
		ret = compel_set_regs(ctx->tid, &back);
		if (!ret)
			ctx->in_call = false;
		return ret;
	}
	ret = compel_set_regs(ctx->tid, &ctx->saved);

	if (!ret && (ctx->in_call || ctx->recover) && needs_restart(&ctx->saved))
		ret = park(ctx);
	if (!ret)
		ctx->in_call = false;
	return ret;
}

int compel_rsys(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	const unsigned long a[6] = { a1, a2, a3, a4, a5, a6 };
	compel_regs_t call, r;
	uint64_t old_mask;
	int err, err2;

	if (!ctx->tid || ctx->done)
		return -EINVAL;
	set_call_regs(ctx, &call, nr, a);
	if (ctx->recover)
		return recover_call(ctx, ret, &call);
	err = block_signals(ctx, &old_mask);
	if (err)
		return err;
	err = run_call(ctx, &call, &r);
	if (!err)
		*ret = (long)r.rax;
	if (err == -ESRCH)
		return err;
	/* a fast context keeps the call's regs: the next call sets its own, the finish puts ours back */
	err2 = ctx->fast ? 0 : put_regs_back(ctx);
	if (!err2)
		err2 = unblock_signals(ctx, old_mask);
	cpr_debug("%d: remote syscall %ld = %ld (%d)\n", ctx->tid, nr, err ? 0 : *ret, err ? err : err2);
	return err ? err : err2;
}

/*
 * A recoverable batch: the recovery code written and the call mask set once, then
 * each call from the syscall-exit stop of the one before. Between two calls the
 * thread sits after a `syscall` with the recovery code next, so a caller killed at
 * any point still lets it finish one call and come back as it was.
 */
static int recover_batch(struct compel_rsys *ctx, const struct compel_rsys_call *calls, size_t n, long *rets)
{
	compel_regs_t call, r, back;
	unsigned long rsp;
	uint64_t old;
	int err, err2;

	set_call_regs(ctx, &call, calls[0].nr, calls[0].a);
	err = compel_get_sigmask(ctx->tid, &old);
	if (!err)
		err = write_recovery(ctx, &call, old);
	if (!err)
		err = compel_set_regs(ctx->tid, &call);
	if (!err)
		err = compel_set_sigmask(ctx->tid, ~0ULL);
	if (err)
		return err;
	rsp = call.rsp;
	for (size_t i = 0; !err && i < n; i++) {
		if (i) {
			set_call_regs(ctx, &call, calls[i].nr, calls[i].a);
			call.rsp = rsp;
		}
		err = run_call(ctx, &call, &r);
		if (!err)
			rets[i] = (long)r.rax;
	}
	if (err == -ESRCH)
		return err;
	err2 = put_mask_back(ctx, old);
	regs_to_resume(&ctx->saved, &back);
	if (!err2)
		err2 = compel_set_regs(ctx->tid, &back);
	if (!err2)
		ctx->in_call = false;
	cpr_debug("%d: %zu remote syscalls from %ld (%d, recoverable)\n", ctx->tid, n, calls[0].nr, err ? err : err2);
	return err ? err : err2;
}

int compel_rsys_batch(struct compel_rsys *ctx, const struct compel_rsys_call *calls, size_t n, long *rets)
{
	int err = 0;

	if (!ctx->tid || ctx->done || !n)
		return -EINVAL;
	if (ctx->recover)
		return recover_batch(ctx, calls, n, rets);
	for (size_t i = 0; !err && i < n; i++) {
		const unsigned long *a = calls[i].a;

		err = compel_rsys(ctx, &rets[i], calls[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	return err;
}

int compel_rsys_last(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		     unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	const unsigned long a[6] = { a1, a2, a3, a4, a5, a6 };
	compel_regs_t call, r;
	uint64_t old_mask;
	int err;

	if (!ctx->tid || ctx->done)
		return -EINVAL;
	set_call_regs(ctx, &call, nr, a);
	err = block_signals(ctx, &old_mask);
	if (err)
		return err;
	if (ctx->recover) {
		err = write_recovery(ctx, &call, old_mask);
		if (err)
			return err;
	}
	ctx->done = true;
	err = run_call(ctx, &call, &r);
	if (err)
		return err;
	*ret = (long)r.rax;
	if (ctx->poked) {
		/* the mapping may be gone (that is the point of the last call): not an error */
		ctx->rec_len = 0;
		if (!compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, ctx->orig, ctx->poke_len))
			ctx->poked = false;
	}
	cpr_debug("%d: last remote syscall %ld = %ld\n", ctx->tid, nr, *ret);
	err = unblock_signals(ctx, old_mask);
	return err ?: fast_mask_restore(ctx);
}

int compel_rsys_map_scratch(struct compel_rsys *ctx, size_t size)
{
	long addr;
	int err;

	if (ctx->scratch)
		return -EBUSY;
	size = (size + 4095) & ~4095UL;
	err = compel_rsys(ctx, &addr, __NR_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  (unsigned long)-1L, 0);
	if (err)
		return err;
	if (COMPEL_IS_ERR(addr))
		return (int)addr;
	ctx->scratch = addr;
	ctx->scratch_size = size;
	return 0;
}

static int keep_first(int err, int e)
{
	return err ? err : e;
}

int compel_rsys_finish(struct compel_rsys *ctx)
{
	int err = 0;

	if (!ctx->tid)
		goto out;
	if (ctx->scratch && !ctx->done) {
		long r;
		int e = compel_rsys(ctx, &r, __NR_munmap, ctx->scratch, ctx->scratch_size, 0, 0, 0, 0);

		err = keep_first(err, e ? e : (COMPEL_IS_ERR(r) ? (int)r : 0));
		ctx->scratch = 0;
	}
	if (ctx->poked) {
		err = keep_first(err, compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, ctx->orig,
						       ctx->poke_len));
		ctx->poked = false;
	}
	/* regs before the mask: a park must not let a signal in (nor a SIGTRAP a trap unblocked) */
	err = keep_first(err, trap_mask_fix(ctx));
	if (!ctx->done)
		err = keep_first(err, put_regs_back(ctx));
	err = keep_first(err, fast_mask_restore(ctx));
	for (int sig = 1; sig <= 64; sig++) {
		if (!(ctx->swallowed & SIGBIT(sig)))
			continue;
		if (syscall(SYS_tkill, ctx->tid, sig))
			err = keep_first(err, -errno);
	}
	ctx->swallowed = 0;
out:
	if (ctx->mem_fd >= 0)
		close(ctx->mem_fd);
	ctx->mem_fd = -1;
	ctx->tid = 0;
	return err;
}

/* ---------------------------------------------------------- the blob: many calls, one resume */

/*
 * compel_rsys_blob(): the calls' table lies in the caller's remote area, one
 * entry per call (nr, then a[0..5]; the loop writes the result over nr), two
 * of ours after them (the mask that lets SIG in, then the tgkill that stops the
 * thread), then that mask. The code at syscall_ip loops over the table with rbx
 * on the entry and ebp counting down, then runs the recovery code without its
 * leading `syscall`.
 */
#define BLOB_ENTRY 56
#define BLOB_SYSCALL_AT 27	/* offset of the loop's `syscall` */

static const uint8_t blob_loop[] = {
	0x48, 0x8b, 0x03,		/* mov (%rbx), %rax */
	0x48, 0x8b, 0x7b, 0x08,		/* mov 8(%rbx), %rdi */
	0x48, 0x8b, 0x73, 0x10,		/* mov 16(%rbx), %rsi */
	0x48, 0x8b, 0x53, 0x18,		/* mov 24(%rbx), %rdx */
	0x4c, 0x8b, 0x53, 0x20,		/* mov 32(%rbx), %r10 */
	0x4c, 0x8b, 0x43, 0x28,		/* mov 40(%rbx), %r8 */
	0x4c, 0x8b, 0x4b, 0x30,		/* mov 48(%rbx), %r9 */
	0x0f, 0x05,			/* syscall */
	0x48, 0x89, 0x03,		/* mov %rax, (%rbx): the result */
	0x48, 0x83, 0xc3, BLOB_ENTRY,	/* add $56, %rbx */
	0xff, 0xcd,			/* dec %ebp */
	0x75, 0xd8,			/* jnz back to the first mov (-40) */
};

size_t compel_rsys_blob_size(size_t n)
{
	return (n + 2) * BLOB_ENTRY + 8;
}

/* The code: the loop, then the recovery code without the `syscall` it starts with. */
static int blob_code(const struct compel_rsys *ctx, uint64_t mask, uint8_t *code, size_t *ret_len)
{
	uint8_t rec[COMPEL_RSYS_STUB_MAX];
	compel_regs_t back;
	size_t len;

	regs_to_resume(&ctx->saved, &back);
	len = build_recovery(rec, &back, mask) - 2;
	if (sizeof(blob_loop) + len > COMPEL_RSYS_STUB_MAX)
		return -E2BIG;
	memcpy(code, blob_loop, sizeof(blob_loop));
	memcpy(code + sizeof(blob_loop), rec + 2, len);
	*ret_len = sizeof(blob_loop) + len;
	return 0;
}

static void blob_table(const struct compel_rsys_blob *b, const struct compel_rsys_call *calls, size_t n,
		       uint64_t *t)
{
	size_t last = (n + 2) * (BLOB_ENTRY / 8);
	const uint64_t tail[2][7] = {
		{ __NR_rt_sigprocmask, SIG_SETMASK, b->area + last * 8, 0, 8, 0, 0 },
		{ __NR_tgkill, (uint64_t)b->tgid, (uint64_t)b->tid, (uint64_t)b->sig, 0, 0, 0 },
	};

	for (size_t i = 0; i < n; i++) {
		t[i * 7] = (uint64_t)calls[i].nr;
		memcpy(&t[i * 7 + 1], calls[i].a, sizeof(calls[i].a));
	}
	memcpy(&t[n * 7], tail, sizeof(tail));
	t[last] = ~SIGBIT(b->sig);
}

/*
 * The stop that ends the blob: SIG's signal-delivery stop right after the
 * tgkill (ebp still 1), sent by the thread itself. 1: ours; 0: another stop,
 * handled as run_call() does (a SIG from someone else, which the kernel would
 * have dropped, as nobody catches or blocks it, is suppressed too); <0: error.
 */
static int blob_stop(struct compel_rsys *ctx, const struct compel_rsys_blob *b, int status)
{
	compel_regs_t r;
	siginfo_t si;
	int ret;

	if ((status >> 16) || WSTOPSIG(status) != b->sig) {
		other_stop(ctx, status);
		return 0;
	}
	ret = compel_get_regs(ctx->tid, &r);
	if (ret)
		return ret;
	if (r.rip != ctx->syscall_ip + BLOB_SYSCALL_AT + 2) {
		cpr_debug("%d: signal %d at %#llx, not at our code\n", ctx->tid, b->sig, r.rip);
		return -EIO;
	}
	if (ptrace(PTRACE_GETSIGINFO, ctx->tid, NULL, &si))
		return -errno;
	if ((uint32_t)r.rbp == 1 && si.si_code == SI_TKILL && si.si_pid == b->tgid)
		return 1;
	cpr_debug("%d: signal %d from %d (code %d) in the blob, dropped as the kernel would\n", ctx->tid, b->sig,
		  si.si_pid, si.si_code);
	return 0;
}

static int blob_run(struct compel_rsys *ctx, const struct compel_rsys_blob *b)
{
	ctx->in_call = true;
	for (int i = 0; i < RSYS_MAX_STOPS; i++) {
		int status, ret;

		if (ptrace(PTRACE_CONT, ctx->tid, NULL, NULL))
			return -errno;
		if (b->running && !i)
			b->running(b->arg);
		ret = compel_wait_stop(ctx->tid, &status);
		if (!ret)
			ret = blob_stop(ctx, b, status);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return -EIO;
}

/* The area must not meet what the recovery code pushes (the call's rsp is 512 below the thread's). */
static bool blob_area_ok(const struct compel_rsys *ctx, const struct compel_rsys_blob *b, size_t n)
{
	unsigned long end = b->area + compel_rsys_blob_size(n), low = ctx->saved.rsp - 512 - 64;

	return b->area && (end <= low || b->area >= ctx->saved.rsp);
}

static int blob_prepare(struct compel_rsys *ctx, const struct compel_rsys_blob *b,
			const struct compel_rsys_call *calls, size_t n, uint64_t *ret_old, compel_regs_t *call)
{
	_c_cleanup_free_ uint64_t *t = NULL;
	uint8_t code[COMPEL_RSYS_STUB_MAX];
	size_t len;
	int ret;

	if (!ctx->recover || ctx->fast || ctx->trap || b->sig < 1 || b->sig > 64 || n > 4096 ||
	    !blob_area_ok(ctx, b, n))
		return -EOPNOTSUPP;
	t = malloc(compel_rsys_blob_size(n));
	if (!t)
		return -ENOMEM;
	blob_table(b, calls, n, t);
	ret = compel_get_sigmask(ctx->tid, ret_old) ?: blob_code(ctx, *ret_old, code, &len);
	if (ret)
		return ret;
	ret = compel_mem_write(ctx->tid, ctx->mem_fd, b->area, t, compel_rsys_blob_size(n));
	if (ret)
		return ret;
	ctx->rec_len = 0;	/* the recovery code is overwritten: written again by the next call */
	ret = compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, code, len);
	if (ret)
		return ret;
	*call = ctx->saved;
	call->rip = ctx->syscall_ip;
	call->orig_rax = (unsigned long)-1L;
	call->rsp = ctx->saved.rsp - 512;
	call->rbx = b->area;
	call->rbp = n + 2;
	return 0;
}

int compel_rsys_blob(struct compel_rsys *ctx, const struct compel_rsys_blob *b, const struct compel_rsys_call *calls,
		     size_t n, long *rets)
{
	_c_cleanup_free_ uint64_t *res = NULL;
	compel_regs_t call, back;
	uint64_t old;
	int err, err2;

	if (!ctx->tid || ctx->done || !n)
		return -EINVAL;
	/* until the regs are set the thread is as it was: any failure is a plain "not done" */
	err = blob_prepare(ctx, b, calls, n, &old, &call);
	if (err)
		return err == -ENOMEM || err == -ESRCH ? err : -EOPNOTSUPP;
	res = malloc(n * BLOB_ENTRY);
	if (!res)
		return -ENOMEM;
	err = compel_set_regs(ctx->tid, &call) ?: compel_set_sigmask(ctx->tid, ~0ULL);
	if (!err)
		err = blob_run(ctx, b);
	if (err == -ESRCH)
		return err;
	if (!err)
		err = compel_mem_read(ctx->tid, ctx->mem_fd, b->area, res, n * BLOB_ENTRY);
	for (size_t i = 0; !err && i < n; i++)
		rets[i] = (long)res[i * 7];
	/* the thread's mask, then its regs (its mask now is the blob's, not CALL_MASK) */
	err2 = compel_set_sigmask(ctx->tid, old);
	regs_to_resume(&ctx->saved, &back);
	if (!err2)
		err2 = compel_set_regs(ctx->tid, &back);
	if (!err2)
		ctx->in_call = false;
	cpr_debug("%d: %zu remote syscalls in one run (SIG %d): %d\n", ctx->tid, n, b->sig, err ?: err2);
	return err ?: err2;
}
