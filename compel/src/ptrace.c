// SPDX-License-Identifier: GPL-2.0
/* Seize, stop and detach threads; registers and signal state through ptrace. */
#include <cpuid.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/compel.h"
#include "compel-internal.h"

/* How many unrelated stops we step over while waiting for the one we want. */
#define COMPEL_MAX_STOPS 64

int compel_seize(pid_t tid)
{
	return compel_seize_opts(tid, 0);
}

int compel_seize_opts(pid_t tid, unsigned long opts)
{
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(PTRACE_O_TRACESYSGOOD | opts))) {
		int e = errno;

		cpr_debug("PTRACE_SEIZE %d: %s\n", tid, strerror(e));
		return -e;
	}
	return 0;
}

int compel_keep_on_exit(pid_t tid)
{
	if (ptrace(PTRACE_SETOPTIONS, tid, NULL, (void *)(unsigned long)PTRACE_O_TRACESYSGOOD))
		return -errno;
	return 0;
}

int compel_suspend_seccomp(pid_t tid)
{
	unsigned long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP;	/* dump only: no EXITKILL */

	if (ptrace(PTRACE_SETOPTIONS, tid, NULL, (void *)opts))
		return -errno;
	return 0;
}

int compel_wait_stop(pid_t tid, int *ret_status)
{
	int status;
	pid_t r;

	do
		r = waitpid(tid, &status, __WALL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		cpr_debug("%d is gone while waiting for a stop (status %#x)\n", tid, status);
		return -ESRCH;
	}
	*ret_status = status;
	return 0;
}

static unsigned int stop_timeout_ms = 10000;

void compel_set_stop_timeout(unsigned int ms)
{
	stop_timeout_ms = ms;
}

/* compel_wait_stop() giving up after stop_timeout_ms: poll, sleeping a little longer each time. */
static int wait_stop_timeout(pid_t tid, int *ret_status)
{
	struct timespec start, now;
	long nap_us = 20;
	int status;

	if (!stop_timeout_ms)
		return compel_wait_stop(tid, ret_status);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			if (WIFEXITED(status) || WIFSIGNALED(status))
				return -ESRCH;
			*ret_status = status;
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    (long)stop_timeout_ms) {
			cpr_debug("%d did not stop within %u ms\n", tid, stop_timeout_ms);
			return -ETIMEDOUT;
		}
		usleep(nap_us);
		if (nap_us < 10000)
			nap_us *= 2;
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int compel_interrupt(pid_t tid, enum compel_task_state *ret_state)
{
	int status, ret;

	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL))
		return -errno;

	for (int i = 0; i < COMPEL_MAX_STOPS; i++) {
		int sig, event;

		ret = wait_stop_timeout(tid, &status);
		if (ret)
			return ret;
		if (!WIFSTOPPED(status))
			return -EIO;
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			/* SIGTRAP: our interrupt; a stop signal: the thread is in a group stop */
			*ret_state = is_stop_signal(sig) ? COMPEL_TASK_STOPPED : COMPEL_TASK_ALIVE;
			cpr_debug("%d stopped (status %#x, %s)\n", tid, status,
				  *ret_state == COMPEL_TASK_STOPPED ? "group stop" : "interrupted");
			return 0;
		}
		/*
		 * A signal-delivery stop (event 0): hand the signal back so it is delivered
		 * as it would have been; the pending interrupt stops the thread right after.
		 * Anything else (a syscall stop left by someone) is resumed as is.
		 */
		if (event || sig == (SIGTRAP | 0x80))
			sig = 0;
		cpr_debug("%d: stop %#x on the way to the interrupt, resuming with signal %d\n", tid, status, sig);
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(unsigned long)sig))
			return -errno;
	}
	return -EIO;
}

int compel_get_stop_signal(pid_t tid)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si))
		return -errno;
	/* an event stop reports si_code = signal | PTRACE_EVENT_STOP << 8 */
	if ((si.si_code >> 8) != PTRACE_EVENT_STOP || (si.si_code & 0xff) != si.si_signo)
		return -EINVAL;
	return si.si_signo;
}

int compel_seize_stop(pid_t tid, enum compel_task_state *ret_state)
{
	return compel_seize_stop_opts(tid, 0, ret_state);
}

int compel_seize_stop_opts(pid_t tid, unsigned long opts, enum compel_task_state *ret_state)
{
	int ret = compel_seize_opts(tid, opts);

	if (ret)
		return ret;
	ret = compel_interrupt(tid, ret_state);
	if (ret && ret != -ESRCH)
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
	return ret;
}

int compel_detach(pid_t tid, enum compel_task_state state, int sig)
{
	enum compel_task_state st;

	/* queued before the detach, so the thread re-enters its group stop when let go */
	if (state == COMPEL_TASK_STOPPED && syscall(SYS_tkill, tid, SIGSTOP))
		cpr_debug("tkill(%d, SIGSTOP): %s\n", tid, strerror(errno));

	if (!ptrace(PTRACE_DETACH, tid, NULL, (void *)(unsigned long)sig))
		return 0;
	if (errno != ESRCH)
		return -errno;
	/* ESRCH also means "not in a ptrace stop": stop it, then detach. */
	if (compel_interrupt(tid, &st))
		return -ESRCH;
	if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(unsigned long)sig))
		return -errno;
	return 0;
}

/* ---------------------------------------------------------------- registers */

int compel_get_regs(pid_t tid, compel_regs_t *ret)
{
	struct iovec iov = { .iov_base = ret, .iov_len = sizeof(*ret) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov))
		return -errno;
	if (iov.iov_len != sizeof(*ret))
		return -EIO;
	return 0;
}

int compel_set_regs(pid_t tid, const compel_regs_t *regs)
{
	struct iovec iov = { .iov_base = (void *)regs, .iov_len = sizeof(*regs) };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov))
		return -errno;
	return 0;
}

size_t compel_xsave_size(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_XSAVE))
		return 0;
	if (__get_cpuid_max(0, NULL) < 0xd)
		return 0;
	__cpuid_count(0xd, 0, a, b, c, d);
	return b;
}

/* The largest XSAVE area the CPU can need (CPUID 0xd/0 ecx), the buffer we offer the kernel. */
static size_t xsave_max_size(void)
{
	unsigned int a, b, c, d;

	if (!compel_xsave_size())
		return 0;
	__cpuid_count(0xd, 0, a, b, c, d);
	/* the regset is counted in u64s: keep the length a multiple of 8 */
	return ((b > c ? b : c) + 7) & ~7UL;
}

void compel_fpregs_free(struct compel_fpregs *fp)
{
	free(fp->buf);
	fp->buf = NULL;
	fp->size = 0;
}

static int get_regset(pid_t tid, int type, size_t size, struct compel_fpregs *ret)
{
	struct iovec iov;
	void *buf = calloc(1, size);

	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = size;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)(unsigned long)type, &iov)) {
		int e = errno;

		free(buf);
		return -e;
	}
	ret->buf = buf;
	ret->size = iov.iov_len;	/* the kernel's answer */
	ret->xsave = type == NT_X86_XSTATE;
	return 0;
}

int compel_get_fpregs(pid_t tid, struct compel_fpregs *ret)
{
	size_t size = xsave_max_size();
	int r;

	if (size) {
		/* a page more than CPUID says, in case the kernel's layout is larger */
		r = get_regset(tid, NT_X86_XSTATE, size + 4096, ret);
		if (r != -ENODEV && r != -EINVAL && r != -EIO)
			return r;
		cpr_debug("NT_X86_XSTATE of %d: %d, falling back to NT_PRFPREG\n", tid, r);
	}
	return get_regset(tid, NT_PRFPREG, sizeof(struct user_fpregs_struct), ret);
}

int compel_set_fpregs(pid_t tid, const struct compel_fpregs *fp)
{
	struct compel_fpregs cur = {};
	struct iovec iov;
	void *buf = fp->buf;
	int r;

	if (!fp->buf || !fp->size)
		return -EINVAL;
	if (!fp->xsave) {
		if (fp->size != sizeof(struct user_fpregs_struct))
			return -EINVAL;
		iov.iov_base = fp->buf;
		iov.iov_len = fp->size;
		return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRFPREG, &iov) ? -errno : 0;
	}

	/* The kernel takes exactly its own XSAVE size: learn it from the target. */
	r = compel_get_fpregs(tid, &cur);
	if (r)
		return r;
	if (!cur.xsave) {
		compel_fpregs_free(&cur);
		return -EOPNOTSUPP;
	}
	if (fp->size > cur.size) {
		cpr_debug("xsave area of %zu bytes does not fit this kernel's %zu\n", fp->size, cur.size);
		compel_fpregs_free(&cur);
		return -EINVAL;
	}
	if (fp->size < cur.size) {
		/* components missing from the image stay in their init state (zeroed) */
		memset(cur.buf, 0, cur.size);
		memcpy(cur.buf, fp->buf, fp->size);
		buf = cur.buf;
	}
	iov.iov_base = buf;
	iov.iov_len = cur.size;
	r = ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) ? -errno : 0;
	compel_fpregs_free(&cur);
	return r;
}

/* ---------------------------------------------------------------- signals */

int compel_get_sigmask(pid_t tid, uint64_t *ret_mask)
{
	uint64_t mask;

	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask))
		return -errno;
	*ret_mask = mask;
	return 0;
}

int compel_set_sigmask(pid_t tid, uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask))
		return -errno;
	return 0;
}

int compel_get_pending(pid_t tid, bool shared, siginfo_t **ret_si)
{
	struct __ptrace_peeksiginfo_args args = {
		.off = 0,
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		.nr = 32,
	};
	siginfo_t *all = NULL;
	int nr = 0;

	for (;;) {
		siginfo_t *n = realloc(all, (nr + args.nr) * sizeof(siginfo_t));
		long got;

		if (!n) {
			free(all);
			return -ENOMEM;
		}
		all = n;
		got = ptrace(PTRACE_PEEKSIGINFO, tid, &args, all + nr);
		if (got < 0) {
			int e = errno;

			free(all);
			return -e;
		}
		if (got == 0)
			break;
		nr += got;
		args.off += got;
	}
	if (!nr) {
		free(all);
		all = NULL;
	}
	*ret_si = all;
	return nr;
}

int compel_get_rseq(pid_t tid, struct compel_rseq_conf *ret)
{
	struct compel_rseq_conf c = {};
	long r;

	_Static_assert(sizeof(c) == 24, "struct ptrace_rseq_configuration is 24 bytes");
	r = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(c), &c);
	if (r < 0)
		return -errno;
	if (r != sizeof(c))
		return -EIO;
	*ret = c;
	return 0;
}

/* ---------------------------------------------------------------- syscall restart */

int compel_fixup_syscall_restart(compel_regs_t *regs)
{
	long rax = (long)regs->rax;
	long orig = (long)regs->orig_rax;
	int restarted = 0;

	if (orig >= 0) {
		switch (rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
			regs->rax = regs->orig_rax;
			regs->rip -= 2;
			restarted = 1;
			break;
		case -ERESTART_RESTARTBLOCK:
			regs->rax = (unsigned long)-EINTR;
			break;
		}
	}
	regs->orig_rax = (unsigned long)-1L;
	return restarted;
}
