// SPDX-License-Identifier: GPL-2.0
/*
 * Remote syscalls: a stopped thread executes `syscall; int3` with registers we chose.
 *
 * Each call: save the blocked mask, block every signal but SIGTRAP (so nothing else
 * interrupts the call, and the int3's forced SIGTRAP does not have to unblock anything),
 * set rip/rax/args, PTRACE_CONT, wait for the SIGTRAP of the int3, read rax, put the saved
 * regs back. Signal-delivery stops met meanwhile (SIGKILL cannot be blocked, a signal may
 * have been dequeued already) are suppressed and remembered in ctx->swallowed.
 *
 * COMPEL_RSYS_FAST does the mask part once for the whole context (prepare / finish) and
 * puts the regs back only at the finish: a call is then set regs, PTRACE_CONT, wait,
 * get regs.
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

static const uint8_t syscall_code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */

#define RSYS_MAX_STOPS 256
#define SIGBIT(sig) (1ULL << ((sig)-1))

/* Pick an executable mapping for the code: file-backed r-x first, anything executable but [vsyscall] else. */
static int find_exec_vma(pid_t tid, unsigned long *ret_addr)
{
	_c_cleanup_free_ char *line = NULL;
	unsigned long fallback = 0;
	char path[64];
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long start, end;
		char perms[8];
		int name_off = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_off) < 3)
			continue;
		if (perms[2] != 'x' || end - start < sizeof(syscall_code))
			continue;
		if (strstr(line, "[vsyscall]"))
			continue;
		if (name_off && line[name_off] == '/') {
			fclose(f);
			*ret_addr = start;
			return 0;
		}
		if (!fallback)
			fallback = start;
	}
	fclose(f);
	if (!fallback)
		return -ENOENT;
	*ret_addr = fallback;
	return 0;
}

static int sigtrap_ignored(pid_t tid);
static int trap_capture(struct compel_rsys *ctx);
static int fast_mask_set(struct compel_rsys *ctx);

/*
 * Last step of prepare: the call mask of a fast context, then remember an ignored
 * SIGTRAP; on failure undo everything.
 */
static int prepare_trap(struct compel_rsys *ctx)
{
	int ret = ctx->fast ? fast_mask_set(ctx) : 0;

	if (!ret)
		ret = sigtrap_ignored(ctx->tid);
	if (ret > 0)
		ret = trap_capture(ctx);
	if (ret < 0) {
		cpr_debug("%d: can't handle an ignored SIGTRAP: %d\n", ctx->tid, ret);
		compel_rsys_finish(ctx);
		return ret;
	}
	return 0;
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
	if (flags & ~COMPEL_RSYS_FAST)
		return -EINVAL;
	ctx->fast = flags & COMPEL_RSYS_FAST;

	ret = compel_get_regs(tid, &ctx->saved);
	if (ret)
		return ret;
	ctx->mem_fd = compel_open_mem(tid);
	if (ctx->mem_fd < 0) {
		ret = ctx->mem_fd;
		ctx->mem_fd = -1;
		return ret;
	}
	ctx->tid = tid;

	if (syscall_ip) {
		ret = compel_mem_read(tid, ctx->mem_fd, syscall_ip, code, sizeof(code));
		if (ret)
			goto err;
		if (memcmp(code, syscall_code, sizeof(code))) {
			cpr_debug("%d: no `syscall; int3` at %#lx\n", tid, syscall_ip);
			ret = -EINVAL;
			goto err;
		}
		ctx->syscall_ip = syscall_ip;
		return prepare_trap(ctx);
	}

	ret = find_exec_vma(tid, &syscall_ip);
	if (ret)
		goto err;
	ret = compel_mem_read(tid, ctx->mem_fd, syscall_ip, ctx->orig, sizeof(syscall_code));
	if (ret)
		goto err;
	ret = compel_mem_write(tid, ctx->mem_fd, syscall_ip, syscall_code, sizeof(syscall_code));
	if (ret)
		goto err;
	ctx->syscall_ip = syscall_ip;
	ctx->poked = true;
	cpr_debug("%d: syscall code poked at %#lx\n", tid, syscall_ip);
	return prepare_trap(ctx);
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

/* Block every signal but SIGTRAP; *ret_old gets the mask to put back. */
static int set_call_mask(struct compel_rsys *ctx, uint64_t *ret_old)
{
	int ret = compel_get_sigmask(ctx->tid, ret_old);

	if (ret)
		return ret;
	return compel_set_sigmask(ctx->tid, ~SIGBIT(SIGTRAP));
}

/* Put the old mask back, unless a remote syscall itself changed the mask (rt_sigprocmask). */
static int put_mask_back(struct compel_rsys *ctx, uint64_t old)
{
	uint64_t cur;
	int ret = compel_get_sigmask(ctx->tid, &cur);

	if (ret)
		return ret;
	/* the kernel drops SIGKILL and SIGSTOP from any mask */
	if (cur != (~SIGBIT(SIGTRAP) & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))))
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
	ctx->mask_set = false;
	return put_mask_back(ctx, ctx->saved_mask);
}

/*
 * Resume with `how` and wait until a stop accepted by want(): 1 = done, 0 = keep going.
 * Other stops are stepped over; signals are swallowed.
 */
static int run_until(struct compel_rsys *ctx, int how, int (*want)(struct compel_rsys *, int status))
{
	for (int i = 0; i < RSYS_MAX_STOPS; i++) {
		int status, sig, ret;

		if (ptrace(how, ctx->tid, NULL, NULL))
			return -errno;
		ret = compel_wait_stop(ctx->tid, &status);
		if (ret)
			return ret;
		ret = want(ctx, status);
		if (ret)
			return ret < 0 ? ret : 0;
		sig = WSTOPSIG(status);
		if ((status >> 16) == 0 && sig != (SIGTRAP | 0x80) && sig != SIGTRAP) {
			cpr_debug("%d: signal %d during a remote syscall, suppressed\n", ctx->tid, sig);
			ctx->swallowed |= SIGBIT(sig);
		} else {
			cpr_debug("%d: stop %#x during a remote syscall, resuming\n", ctx->tid, status);
		}
	}
	return -EIO;
}

/* The int3 after the syscall: SIGTRAP with rip just past our code. */
static int want_int3(struct compel_rsys *ctx, int status)
{
	compel_regs_t r;
	int ret;

	if ((status >> 16) != 0 || WSTOPSIG(status) != SIGTRAP)
		return 0;
	ret = compel_get_regs(ctx->tid, &r);
	if (ret)
		return ret;
	if (r.rip != ctx->syscall_ip + sizeof(syscall_code)) {
		cpr_debug("%d: SIGTRAP at %#llx, not at our int3\n", ctx->tid, r.rip);
		return -EIO;
	}
	ctx->trap_rax = (long)r.rax;
	return 1;
}

static int want_syscall_stop(struct compel_rsys *ctx, int status)
{
	return (status >> 16) == 0 && WSTOPSIG(status) == (SIGTRAP | 0x80);
}

static int want_event_stop(struct compel_rsys *ctx, int status)
{
	return (status >> 16) == PTRACE_EVENT_STOP;
}

/* ---------------------------------------------------------- an ignored SIGTRAP */

/* SIGTRAP in SigIgn of /proc/TID/status */
static int sigtrap_ignored(pid_t tid)
{
	_c_cleanup_free_ char *line = NULL;
	unsigned long long ign = 0;
	char path[64];
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "SigIgn: %llx", &ign) == 1)
			break;
	fclose(f);
	return !!(ign & SIGBIT(SIGTRAP));
}

/*
 * 32 bytes of the task's memory we may borrow (and put back): in the page that holds
 * the code, clear of the code itself. That page is mapped as long as the code is usable.
 */
static unsigned long borrow_area(struct compel_rsys *ctx)
{
	unsigned long page = ctx->syscall_ip & ~4095UL;

	if (ctx->syscall_ip - page >= 32)
		return page;
	return ctx->syscall_ip + 8;
}

/* Read the current (ignored) SIGTRAP action into ctx->trap_act, through a temporary page. */
static int trap_capture(struct compel_rsys *ctx)
{
	long page, r;
	int ret, ret2;

	ret = compel_rsys(ctx, &page, __NR_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  (unsigned long)-1L, 0);
	if (ret)
		return ret;
	if (COMPEL_IS_ERR(page))
		return (int)page;
	ret = compel_rsys(ctx, &r, __NR_rt_sigaction, SIGTRAP, 0, page, 8, 0, 0);
	if (!ret && r)
		ret = (int)r;
	if (!ret)
		ret = compel_mem_read(ctx->tid, ctx->mem_fd, page, ctx->trap_act, sizeof(ctx->trap_act));
	if (!ret) {
		/*
		 * The int3 of the mmap above already reset the handler to SIG_DFL; the
		 * kernel left flags, restorer and mask alone, and /proc said it was ignored.
		 */
		ctx->trap_act[0] = (uint64_t)(uintptr_t)SIG_IGN;
		ctx->trap_ign = true;
	}
	ret2 = compel_rsys(ctx, &r, __NR_munmap, page, 4096, 0, 0, 0, 0);
	return ret ?: (ret2 ?: (int)r);
}

/* After a remote rt_sigaction(SIGTRAP, act): remember whether act ignores SIGTRAP. */
static void trap_note(struct compel_rsys *ctx, long nr, unsigned long sig, unsigned long act, long ret)
{
	uint64_t ka[4];

	if (nr != __NR_rt_sigaction || sig != SIGTRAP || !act || ret)
		return;
	if (compel_mem_read(ctx->tid, ctx->mem_fd, act, ka, sizeof(ka)))
		return;
	ctx->trap_ign = ka[0] == (uint64_t)(uintptr_t)SIG_IGN;
	if (ctx->trap_ign)
		memcpy(ctx->trap_act, ka, sizeof(ka));
}

/*
 * Put the ignored SIGTRAP action back: rt_sigaction run to its syscall-exit stop (the
 * int3 is never reached), then PTRACE_INTERRUPT so the thread stops again inside signal
 * handling, where it sat after the seize: restoring the saved regs there keeps the
 * kernel's syscall-restart processing of an interrupted syscall.
 */
static int trap_restore(struct compel_rsys *ctx)
{
	const unsigned long area = borrow_area(ctx);
	uint8_t keep[sizeof(ctx->trap_act)];
	const unsigned long a[6] = { SIGTRAP, area, 0, 8, 0, 0 };
	compel_regs_t r;
	uint64_t old_mask;
	int ret, ret2;

	ret = compel_mem_read(ctx->tid, ctx->mem_fd, area, keep, sizeof(keep));
	if (ret)
		return ret;
	ret = compel_mem_write(ctx->tid, ctx->mem_fd, area, ctx->trap_act, sizeof(ctx->trap_act));
	if (ret)
		return ret;
	set_call_regs(ctx, &r, __NR_rt_sigaction, a);
	ret = block_signals(ctx, &old_mask);
	if (!ret)
		ret = compel_set_regs(ctx->tid, &r);
	if (!ret)
		ret = run_until(ctx, PTRACE_SYSCALL, want_syscall_stop);
	if (!ret)
		ret = run_until(ctx, PTRACE_SYSCALL, want_syscall_stop);
	if (!ret)
		ret = compel_get_regs(ctx->tid, &r);
	if (!ret && r.rax)
		ret = (int)r.rax;
	if (!ret && ptrace(PTRACE_INTERRUPT, ctx->tid, NULL, NULL))
		ret = -errno;
	if (!ret)
		ret = run_until(ctx, PTRACE_CONT, want_event_stop);
	if (ret == -ESRCH)
		return ret;
	ret2 = compel_mem_write(ctx->tid, ctx->mem_fd, area, keep, sizeof(keep));
	ret = ret ?: ret2;
	ret2 = compel_set_regs(ctx->tid, &ctx->saved);
	ret = ret ?: ret2;
	ret2 = unblock_signals(ctx, old_mask);
	cpr_debug("%d: ignored SIGTRAP put back (%d)\n", ctx->tid, ret ?: ret2);
	return ret ?: ret2;
}

int compel_rsys(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	const unsigned long a[6] = { a1, a2, a3, a4, a5, a6 };
	compel_regs_t r;
	uint64_t old_mask;
	int err, err2;

	if (!ctx->tid || ctx->done)
		return -EINVAL;
	set_call_regs(ctx, &r, nr, a);
	err = block_signals(ctx, &old_mask);
	if (err)
		return err;
	err = compel_set_regs(ctx->tid, &r);
	if (!err)
		err = run_until(ctx, PTRACE_CONT, want_int3);
	if (!err)
		*ret = ctx->trap_rax;
	if (err == -ESRCH)
		return err;
	if (!err)
		trap_note(ctx, nr, a1, a2, *ret);
	/* a fast context keeps the call's regs: the next call sets its own, the finish puts ours back */
	err2 = ctx->fast ? 0 : compel_set_regs(ctx->tid, &ctx->saved);
	if (!err2)
		err2 = unblock_signals(ctx, old_mask);
	cpr_debug("%d: remote syscall %ld = %ld (%d)\n", ctx->tid, nr, err ? 0 : *ret, err ? err : err2);
	return err ? err : err2;
}

int compel_rsys_last(struct compel_rsys *ctx, long *ret, long nr, unsigned long a1, unsigned long a2,
		     unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	const unsigned long a[6] = { a1, a2, a3, a4, a5, a6 };
	compel_regs_t r;
	uint64_t old_mask;
	int err;

	if (!ctx->tid || ctx->done)
		return -EINVAL;
	if (ctx->trap_ign) {
		/* the last call never reaches an int3: put the action back now */
		err = trap_restore(ctx);
		if (err)
			return err;
	}
	set_call_regs(ctx, &r, nr, a);
	err = block_signals(ctx, &old_mask);
	if (err)
		return err;
	err = compel_set_regs(ctx->tid, &r);
	if (err)
		return err;
	ctx->done = true;
	/* entry stop, then exit stop */
	err = run_until(ctx, PTRACE_SYSCALL, want_syscall_stop);
	if (!err)
		err = run_until(ctx, PTRACE_SYSCALL, want_syscall_stop);
	if (err)
		return err;
	err = compel_get_regs(ctx->tid, &r);
	if (err)
		return err;
	*ret = (long)r.rax;
	if (ctx->poked) {
		/* the mapping may be gone (that is the point of the last call): not an error */
		if (!compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, ctx->orig, sizeof(syscall_code)))
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
	/* after the last int3 */
	if (ctx->trap_ign && !ctx->done)
		err = keep_first(err, trap_restore(ctx));
	if (ctx->poked) {
		err = keep_first(err, compel_mem_write(ctx->tid, ctx->mem_fd, ctx->syscall_ip, ctx->orig,
						       sizeof(syscall_code)));
		ctx->poked = false;
	}
	if (!ctx->done)
		err = keep_first(err, compel_set_regs(ctx->tid, &ctx->saved));
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
