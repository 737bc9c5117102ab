// SPDX-License-Identifier: GPL-2.0
/*
 * Remote syscalls: a stopped thread executes `syscall; int3` with registers we chose.
 *
 * Each call: save the blocked mask, block every signal but SIGTRAP (so nothing else
 * interrupts the call, and the int3's forced SIGTRAP does not have to unblock anything),
 * set rip/rax/args, PTRACE_CONT, wait for the SIGTRAP of the int3, read rax, put the saved
 * regs back. Signal-delivery stops met meanwhile (SIGKILL cannot be blocked, a signal may
 * have been dequeued already) are suppressed and remembered in ctx->swallowed.
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

int compel_rsys_prepare(struct compel_rsys *ctx, pid_t tid, unsigned long syscall_ip)
{
	uint8_t code[sizeof(syscall_code)];
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->mem_fd = -1;

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
		return 0;
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
	return 0;
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

/* Block every signal but SIGTRAP for the call; *ret_old gets the mask to put back. */
static int block_signals(struct compel_rsys *ctx, uint64_t *ret_old)
{
	int ret = compel_get_sigmask(ctx->tid, ret_old);

	if (ret)
		return ret;
	return compel_set_sigmask(ctx->tid, ~SIGBIT(SIGTRAP));
}

/* Put the old mask back, unless the syscall itself changed the mask (rt_sigprocmask). */
static int unblock_signals(struct compel_rsys *ctx, uint64_t old)
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
	return 1;
}

static int want_syscall_stop(struct compel_rsys *ctx, int status)
{
	return (status >> 16) == 0 && WSTOPSIG(status) == (SIGTRAP | 0x80);
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
	if (!err) {
		err = compel_get_regs(ctx->tid, &r);
		if (!err)
			*ret = (long)r.rax;
	}
	if (err == -ESRCH)
		return err;
	err2 = compel_set_regs(ctx->tid, &ctx->saved);
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
	return unblock_signals(ctx, old_mask);
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
						       sizeof(syscall_code)));
		ctx->poked = false;
	}
	if (!ctx->done)
		err = keep_first(err, compel_set_regs(ctx->tid, &ctx->saved));
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
