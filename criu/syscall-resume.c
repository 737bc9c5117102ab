// SPDX-License-Identifier: GPL-2.0
/*
 * Syscalls the dump interrupted.
 *
 * Seizing a thread that sleeps in a syscall wakes it: the call gives up with
 * -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK and
 * the thread stops on its way out, before the kernel's restart processing; a
 * few calls (epoll_wait, rt_sigtimedwait) give up with -EINTR, which the task
 * has not seen yet. Left alone, the kernel restarts the first three, and the
 * fourth through restart_syscall() and the thread's restart_block, which holds
 * the call's deadline and is not in any image.
 *
 * The dump records, for such a thread, the syscall to make again and what was
 * left of its timeout when the timeout is only in the kernel (seize notes how
 * long the thread had slept, from the scheduler's clock, before it wakes it).
 * The restore puts the thread at the entry of that syscall, from its own
 * `syscall` instruction, with that timeout: the thread makes the call anew
 * when it is let go, and the kernel treats pending signals as for any call.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define LOG_PREFIX "syscall: "
#include "common.h"
#include "compel/compel.h"
#include "log.h"
#include "proc_parse.h"
#include "syscall-resume.h"

#include "core.pb-c.h"

#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define RED_ZONE 128

/* ------------------------------------------------------ which calls */

enum sc_timeout {
	TO_NONE,	/* no timeout, or one the kernel writes back into the task's memory */
	TO_MS,		/* an int of milliseconds, < 0 for none */
	TO_TS,		/* a pointer to a relative struct timespec, NULL for none */
};

struct sc_desc {
	long nr;
	bool restart_block;	/* -ERESTART_RESTARTBLOCK: made again with what is left */
	bool eintr;		/* -EINTR at our stop came from our wake-up */
	enum sc_timeout to;
	int arg;		/* the timeout argument */
	int rem_arg;		/* the remaining-time pointer the kernel fills, -1 none */
};

static const struct sc_desc sc_descs[] = {
	{ __NR_poll, true, false, TO_MS, 2, -1 },
	{ __NR_nanosleep, true, false, TO_TS, 0, 1 },
	{ __NR_clock_nanosleep, true, false, TO_TS, 2, 3 },
	{ __NR_futex, true, false, TO_TS, 3, -1 },
	{ __NR_epoll_wait, false, true, TO_MS, 3, -1 },
	{ __NR_epoll_pwait, false, true, TO_MS, 3, -1 },
	{ __NR_epoll_pwait2, false, true, TO_TS, 3, -1 },
	{ __NR_rt_sigtimedwait, false, true, TO_TS, 2, -1 },
};

/* any other call restarted by the kernel without help: made again with the same arguments */
static const struct sc_desc sc_plain = { -1, false, false, TO_NONE, 0, -1 };

static const struct sc_desc *sc_find(long nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(sc_descs); i++)
		if (sc_descs[i].nr == nr)
			return &sc_descs[i];
	return NULL;
}

static unsigned long sc_arg(const compel_regs_t *r, int i)
{
	const unsigned long a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };

	return a[i];
}

static void sc_set_arg(compel_regs_t *r, int i, unsigned long v)
{
	unsigned long long *a[6] = { &r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8, &r->r9 };

	*a[i] = v;
}

/* The kind of timeout this very call has (clock_nanosleep and futex have it only in some modes). */
static enum sc_timeout sc_timeout_of(const struct sc_desc *d, const compel_regs_t *r)
{
	if (d->nr == __NR_clock_nanosleep && (sc_arg(r, 1) & TIMER_ABSTIME))
		return TO_NONE;
	if (d->nr == __NR_futex && (sc_arg(r, 1) & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)) != FUTEX_WAIT)
		return TO_NONE;	/* FUTEX_WAIT_BITSET and the others: an absolute deadline, or none */
	if (d->to == TO_MS && (int)sc_arg(r, d->arg) < 0)
		return TO_NONE;
	if (d->to == TO_TS && !sc_arg(r, d->arg))
		return TO_NONE;
	return d->to;
}

/*
 * The call a thread stopped with these regs was interrupted in, when it is one to make
 * again; NULL otherwise. stopped: the task was in a group stop, whose stop signal is
 * what interrupted an -EINTR call (it sees that EINTR without criu too).
 */
static const struct sc_desc *sc_interrupted(const compel_regs_t *r, bool stopped)
{
	long nr = (long)r->orig_rax, ax = (long)r->rax;
	const struct sc_desc *d;

	if (nr < 0)
		return NULL;
	d = sc_find(nr);
	switch (ax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		return d ?: &sc_plain;
	case -ERESTART_RESTARTBLOCK:
		return d && d->restart_block ? d : NULL;
	case -EINTR:
		return d && d->eintr && !stopped ? d : NULL;
	}
	return NULL;
}

/* ------------------------------------------------------ seize: how long it slept */

/* "se.exec_start : 1554211.174246" (ms, ns precision) of a sched file, in ns. */
static int read_exec_start(int dfd, const char *path, uint64_t *ret)
{
	char buf[4096], *p;
	unsigned long long ms, frac;
	int n = read_file_at(dfd, path, buf, sizeof(buf));

	if (n < 0)
		return n;
	p = strstr(buf, "\nse.exec_start");
	if (!p)
		return -ENOENT;
	p = strchr(p, ':');
	if (!p || sscanf(p + 1, " %llu.%6llu", &ms, &frac) != 2)
		return -EINVAL;
	*ret = ms * NSEC_PER_MSEC + frac;
	return 0;
}


/*
 * A thread in restart_syscall(): the kernel restarted a call of it already (after a stop
 * signal, or after it was dumped or restored), the number is gone from its registers but
 * the arguments are there. The function it slept in (its wchan) tells the call: of those
 * criu makes again, only these three restart through restart_syscall(); -1 when it does not.
 */
static long restarted_call(const char *wchan, const compel_regs_t *r)
{
	/*
	 * The nanosleep restart sleeps in scheduler code only (do_nanosleep() is __sched),
	 * so it shows as the syscall entry itself.
	 */
	if (strstr(wchan, "nanosleep") || !strcmp(wchan, "do_syscall_64"))
		/* clock_nanosleep's first argument is a clock id, nanosleep's a pointer */
		return r->rdi < 4096 ? __NR_clock_nanosleep : __NR_nanosleep;
	if (strstr(wchan, "poll"))
		return __NR_poll;
	if (strstr(wchan, "futex"))
		return __NR_futex;
	return -1;
}

/* The registers with the number of the call the thread is in (restart_syscall() resolved). */
static compel_regs_t effective(const compel_regs_t *r, long nr)
{
	compel_regs_t e = *r;

	if ((long)r->orig_rax == __NR_restart_syscall && nr >= 0)
		e.orig_rax = (unsigned long)nr;
	return e;
}

/*
 * The scheduler's task clock of one CPU now: criu moves itself there, has its own run time
 * accounted (which sets its exec_start to that clock) and reads it. The clock runs slower
 * than the others by the time the CPU spent in interrupts and stolen by the hypervisor, so a
 * time measured with it is never longer than the real one.
 */
static int cpu_clock_read(int cpu, uint64_t *ret)
{
	cpu_set_t old, one;
	struct timespec ts;
	int ret2;

	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(old), &old))
		return -EINVAL;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;
	ret2 = sched_getcpu() == cpu ? 0 : -EAGAIN;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	if (!ret2)
		ret2 = read_exec_start(AT_FDCWD, "/proc/thread-self/sched", ret);
	if (sched_setaffinity(0, sizeof(old), &old))
		pr_warn("can't put criu's CPU affinity back: %s\n", strerror(errno));
	return ret2;
}

/*
 * One reading of each CPU's clock serves every thread noted while it is fresh (CLOCK_NOW_AGE_NS
 * of criu's monotonic clock): moving criu onto a CPU waits for that CPU, 2-5 ms when another
 * process runs there, and the seize used to pay it for each sleeping thread.
 *
 * Why a shared reading never makes a sleep longer than the real one: the thread is noted
 * before seize wakes it, so the reading (taken before the note, or during it) is earlier than
 * the wake-up, and reading - since <= wake-up - since, on the one clock of that CPU. A reading
 * older than the thread's last run on the CPU (since > reading) can't be used (it would be a
 * negative time): the CPU is read again, which is still before the wake-up. What is lost: the
 * time from the reading to the wake-up is not counted as slept, at most CLOCK_NOW_AGE_NS plus
 * the seize of that thread; the call gets that much more of its timeout back, never less.
 */
#define CLOCK_NOW_AGE_NS (2 * NSEC_PER_MSEC)

struct cpu_clock_cache {
	int cpu;		/* -1: empty */
	uint64_t clock;		/* the CPU's task clock, ns */
	int64_t taken;		/* criu's CLOCK_MONOTONIC when read, ns */
};

/* a few slots, the last CPUs read: a tree's threads sleep on every CPU of a small machine */
#define CLOCK_CACHE_SLOTS 8
static struct cpu_clock_cache clock_cache[CLOCK_CACHE_SLOTS] = { [0 ... CLOCK_CACHE_SLOTS - 1] = { .cpu = -1 } };
static unsigned int clock_cache_next;
static unsigned int clock_reads;	/* CPU clock readings (moves of criu), for the log */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The clock of cpu at a moment after since and before now, from the cache or read. */
static int cpu_clock_since(int cpu, uint64_t since, uint64_t *ret)
{
	struct cpu_clock_cache *c = NULL;
	int64_t now = mono_ns();
	int ret2;

	for (int i = 0; i < CLOCK_CACHE_SLOTS; i++)
		if (clock_cache[i].cpu == cpu)
			c = &clock_cache[i];
	if (c && c->clock >= since && now - c->taken <= CLOCK_NOW_AGE_NS) {
		*ret = c->clock;
		return 0;
	}
	if (!c) {
		c = &clock_cache[clock_cache_next++ % CLOCK_CACHE_SLOTS];
		c->cpu = -1;
	}
	ret2 = cpu_clock_read(cpu, &c->clock);
	if (ret2)
		return ret2;
	c->cpu = cpu;
	c->taken = mono_ns();
	clock_reads++;
	pr_debug("clock of CPU %d read (%u readings)\n", cpu, clock_reads);
	*ret = c->clock;
	return 0;
}

void sc_note_sleep(int proc_dfd, pid_t tid, struct sc_sleep *s)
{
	struct proc_pid_stat st;
	char path[64];
	_cleanup_close_ int dfd = -1;

	s->ok = false;
	snprintf(path, sizeof(path), "task/%d", tid);
	dfd = openat(proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || parse_pid_stat(dfd, &st) || st.state != 'S')
		return;
	if (read_exec_start(dfd, "sched", &s->since))
		return;
	if (read_file_at(dfd, "wchan", s->wchan, sizeof(s->wchan)) < 0)
		s->wchan[0] = '\0';
	s->cpu = st.processor;
	s->ok = true;
	/* the CPU's clock now, before seize wakes the thread: see cpu_clock_since() */
	s->now_ok = !cpu_clock_since(s->cpu, s->since, &s->now);
}

struct sc_seen sc_seen(pid_t tid, const struct sc_sleep *s, bool stopped)
{
	struct sc_seen seen = { .slept_ns = -1, .nr = -1, .eintr_nr = -1 };
	const struct sc_desc *d;
	compel_regs_t r;

	if (compel_get_regs(tid, &r))
		return seen;
	if ((long)r.orig_rax == __NR_restart_syscall && (long)r.rax == -ERESTART_RESTARTBLOCK) {
		seen.nr = s->ok ? restarted_call(s->wchan, &r) : -1;
		pr_debug("%d: in restart_syscall(), asleep in %s: syscall %ld\n", tid, s->ok ? s->wchan : "?", seen.nr);
		r = effective(&r, seen.nr);
	}
	d = sc_interrupted(&r, stopped);
	if (d && (long)r.rax == -EINTR)
		seen.eintr_nr = (long)r.orig_rax;
	if (!d || sc_timeout_of(d, &r) == TO_NONE)
		return seen;
	if (!s->ok) {
		pr_warn("%d: can't tell since when it sleeps in syscall %lld\n", tid, (long long)r.orig_rax);
		return seen;
	}
	if (!s->now_ok || s->now < s->since) {
		pr_warn("%d: could not read the clock of CPU %d before it was woken\n", tid, s->cpu);
		return seen;
	}
	pr_debug("%d: asleep in syscall %lld for %llu ns\n", tid, (long long)r.orig_rax,
		 (unsigned long long)(s->now - s->since));
	seen.slept_ns = (int64_t)(s->now - s->since);
	return seen;
}

/* ------------------------------------------------------ dump */

static int read_ts(int mem_fd, unsigned long addr, struct timespec *ts)
{
	ssize_t n = pread(mem_fd, ts, sizeof(*ts), (off_t)addr);

	if (n != (ssize_t)sizeof(*ts))
		return n < 0 ? -errno : -EFAULT;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	return 0;
}

static bool at_syscall_insn(int mem_fd, unsigned long ip)
{
	uint8_t b[2];

	return ip >= 2 && pread(mem_fd, b, 2, (off_t)(ip - 2)) == 2 && b[0] == 0x0f && b[1] == 0x05;
}

/* What is left of the call's timeout, in ns; -errno when its arguments can't be read. */
static int64_t timeout_left(const struct sc_desc *d, const compel_regs_t *r, int mem_fd, int64_t slept_ns)
{
	struct timespec ts;
	int64_t full;
	int ret;

	if (sc_timeout_of(d, r) == TO_MS) {
		full = (int64_t)(int)sc_arg(r, d->arg) * NSEC_PER_MSEC;
	} else {
		ret = read_ts(mem_fd, sc_arg(r, d->arg), &ts);
		if (ret)
			return ret;
		full = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	}
	/* nanosleep with a remaining-time pointer: the kernel wrote what is left there */
	if (d->rem_arg >= 0 && sc_arg(r, d->rem_arg) && (long)r->rax == -ERESTART_RESTARTBLOCK &&
	    !read_ts(mem_fd, sc_arg(r, d->rem_arg), &ts))
		return min(full, (int64_t)(ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec));
	if (slept_ns < 0) {
		pr_warn("syscall %lld: how long it slept is unknown, it gets its whole timeout again\n",
			(long long)r->orig_rax);
		return full;
	}
	return full > slept_ns ? full - slept_ns : 0;
}

int sc_dump_thread(pid_t tid, int mem_fd, const compel_regs_t *regs, bool stopped, const struct sc_seen *seen,
		   ThreadCoreEntry *tc)
{
	compel_regs_t e = effective(regs, seen ? seen->nr : -1), *r = &e;
	const struct sc_desc *d = sc_interrupted(r, stopped);
	long nr = (long)r->orig_rax, ax = (long)r->rax;
	int64_t slept_ns = seen ? seen->slept_ns : -1;
	int64_t left;

	if (!d) {
		if (nr >= 0 && (ax == -ERESTART_RESTARTBLOCK))
			pr_warn("%d: in syscall %ld, which criu can't make again: it will return EINTR\n", tid, nr);
		return 0;
	}
	if (!at_syscall_insn(mem_fd, r->rip)) {
		pr_warn("%d: in syscall %ld, not made by a `syscall` instruction: not made again\n", tid, nr);
		return 0;
	}
	tc->has_sc_resume = true;
	tc->sc_resume = (uint32_t)nr;
	if (sc_timeout_of(d, r) == TO_NONE) {
		pr_info("%d: interrupted in syscall %ld (%ld), made again\n", tid, nr, ax);
		return 0;
	}
	left = timeout_left(d, r, mem_fd, slept_ns);
	if (left < 0)
		return pr_fail((int)left, "%d: can't read the timeout of syscall %ld: %s\n", tid, nr,
			       strerror((int)-left));
	tc->has_sc_timeout_ns = true;
	tc->sc_timeout_ns = (uint64_t)left;
	pr_info("%d: interrupted in syscall %ld (%ld), made again with %lld ns left\n", tid, nr, ax,
		(long long)left);
	return 0;
}

/* ------------------------------------------------------ restore */

/*
 * Room for what the call made again reads at its entry: below the red zone of the
 * thread's stack, which is free (a signal frame would go there). The kernel reads it
 * before the thread runs any instruction.
 */
struct sc_scratch {
	struct timespec ts;
};

static unsigned long scratch_addr(const compel_regs_t *r)
{
	return ((unsigned long)r->rsp - RED_ZONE - sizeof(struct sc_scratch)) & ~15UL;
}

/* The timeout argument of the call made again: what was left of it, in the call's unit. True when in *sc. */
static bool set_timeout(const struct sc_desc *d, compel_regs_t *call, uint64_t left, struct sc_scratch *sc)
{
	if (sc_timeout_of(d, call) == TO_MS) {
		uint64_t ms = (left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;

		sc_set_arg(call, d->arg, ms > INT_MAX ? INT_MAX : ms);
		return false;
	}
	sc->ts.tv_sec = (time_t)(left / NSEC_PER_SEC);
	sc->ts.tv_nsec = (long)(left % NSEC_PER_SEC);
	sc_set_arg(call, d->arg, scratch_addr(call) + offsetof(struct sc_scratch, ts));
	return true;
}

/*
 * epoll_wait, epoll_pwait, epoll_pwait2: made again from user mode, i.e. the thread is let
 * go on its `syscall` instruction with the call's registers, the timeout in ms (epoll_pwait2
 * becomes epoll_pwait, whose arguments are the same but for the timeout's unit). A thread
 * let go from a ptrace stop has TIF_SIGPENDING set (the detach wakes it as a signal would),
 * which these calls, unlike the others, would take for a signal and return -EINTR: on its
 * way to user mode the kernel looks for a signal and clears it.
 */
static int restore_epoll(pid_t tid, const struct sc_desc *d, const compel_regs_t *dumped, const ThreadCoreEntry *tc)
{
	compel_regs_t call = *dumped;
	bool timed = sc_timeout_of(d, dumped) != TO_NONE;
	long ms = -1;
	int ret;

	call.rip -= 2;
	call.orig_rax = (unsigned long)-1L;
	call.rax = d->nr;
	if (timed && !tc->has_sc_timeout_ns) {
		pr_warn("%d: no timeout left in the image: syscall %ld gets its whole timeout again\n", tid, d->nr);
	} else if (timed || d->nr == __NR_epoll_pwait2) {
		if (timed) {
			uint64_t up = (tc->sc_timeout_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;

			ms = up > INT_MAX ? INT_MAX : (long)up;
		}
		call.rax = d->nr == __NR_epoll_pwait2 ? __NR_epoll_pwait : d->nr;
		call.r10 = (unsigned long)ms;
	}
	ret = compel_set_regs(tid, &call);
	if (ret)
		return pr_fail(ret, "%d: can't set its registers: %s\n", tid, strerror(-ret));
	pr_info("%d: makes syscall %lld again from user mode (as %lld, %ld ms)\n", tid, (long long)dumped->orig_rax,
		(long long)call.rax, ms);
	return 0;
}

/*
 * The image holds the registers as CRIU writes them (the dump ran
 * compel_fixup_syscall_restart() on them, images.md): a call the kernel
 * would restart is set to run again (ax its number, ip back on its `syscall`
 * instruction), and one it would restart through its restart_block returns
 * -EINTR. The dump found the thread inside call nr (sc_resume): put back the
 * registers it had there, so that the call is made again from its entry.
 */
static compel_regs_t inside_call(const compel_regs_t *r, long nr)
{
	compel_regs_t e = effective(r, nr);
	const struct sc_desc *d = sc_find(nr);

	if (nr < 0 || (long)e.orig_rax != nr)
		return e;
	if ((long)e.rax == nr) {
		e.rax = (unsigned long)-ERESTARTNOINTR;
		e.rip += 2;
	} else if ((long)e.rax == -EINTR && d && d->restart_block) {
		e.rax = (unsigned long)-ERESTART_RESTARTBLOCK;
	}
	return e;
}

int sc_restore_thread(pid_t tid, const compel_regs_t *regs, const ThreadCoreEntry *tc)
{
	long nr = (long)tc->sc_resume;
	compel_regs_t e = inside_call(regs, nr), *dumped = &e;
	const struct sc_desc *d = sc_interrupted(dumped, false);
	compel_regs_t at = *dumped, call;
	_cleanup_close_ int mem_fd = -1;
	struct sc_scratch sc = {};
	bool scratch = false;
	uint64_t swallowed;
	int ret;

	if (!d || (long)dumped->orig_rax != nr)
		return pr_fail(-EINVAL, "%d: the image makes syscall %ld again, but its registers (%lld, %lld) are not inside it\n",
			       tid, nr, (long long)dumped->orig_rax, (long long)dumped->rax);
	mem_fd = compel_open_mem(tid);
	if (mem_fd < 0)
		return pr_fail(mem_fd, "%d: can't open its memory: %s\n", tid, strerror(-mem_fd));
	if (!at_syscall_insn(mem_fd, dumped->rip))
		return pr_fail(-EINVAL, "%d: no `syscall` instruction before %#llx\n", tid,
			       (unsigned long long)dumped->rip);
	if (d->eintr && d->nr != __NR_rt_sigtimedwait)
		return restore_epoll(tid, d, dumped, tc);

	/* every signal blocked on the way (the caller sets the thread's mask at the entry) */
	ret = compel_set_sigmask(tid, ~0ULL);
	if (ret)
		return pr_fail(ret, "%d: can't block its signals: %s\n", tid, strerror(-ret));
	at.rip -= 2;
	at.rax = (unsigned long)nr;
	at.orig_rax = (unsigned long)-1L;
	ret = compel_stop_at_syscall_entry(tid, &at, &call, &swallowed);
	if (ret)
		return pr_fail(ret, "%d: can't stop it at the entry of syscall %ld: %s\n", tid, nr, strerror(-ret));

	/* at the entry: the dumped registers, the call's number and its timeout */
	call = *dumped;
	call.orig_rax = (unsigned long)nr;
	call.rax = (unsigned long)-ENOSYS;
	if (tc->has_sc_timeout_ns && sc_timeout_of(d, &call) != TO_NONE)
		scratch = set_timeout(d, &call, tc->sc_timeout_ns, &sc);
	if (scratch) {
		/* process_vm_writev() first: it waits for a lazy page (lazy-pages.c), /proc/PID/mem gets EFAULT */
		if (compel_mem_write(tid, mem_fd, scratch_addr(&call), &sc, sizeof(sc))) {
			/* no room below the stack: the call's own timeout, whole */
			pr_warn("%d: can't write below its stack at %#lx: syscall %ld gets its whole timeout again\n",
				tid, scratch_addr(&call), nr);
			sc_set_arg(&call, d->arg, sc_arg(dumped, d->arg));
		}
	}
	ret = compel_set_regs(tid, &call);
	if (ret)
		return pr_fail(ret, "%d: can't set its registers: %s\n", tid, strerror(-ret));
	for (int sig = 1; sig <= 64; sig++)
		if ((swallowed & (1ULL << (sig - 1))) && syscall(SYS_tkill, tid, sig))
			return pr_fail_errno("%d: can't queue signal %d again", tid, sig);
	pr_info("%d: makes syscall %ld again\n", tid, nr);
	return 0;
}

/* ------------------------------------------------------ a dumped tree that goes on */

void sc_resume_live(pid_t tid, bool stopped, const struct sc_seen *seen)
{
	ThreadCoreEntry tc = THREAD_CORE_ENTRY__INIT;
	_cleanup_close_ int mem_fd = -1;
	compel_regs_t r;
	uint64_t mask;
	int ret;

	/* the kernel restarts the -ERESTART* ones itself: only -EINTR needs us */
	if (compel_get_regs(tid, &r) || (long)r.rax != -EINTR)
		return;
	/* remote syscalls (COMPEL_RSYS_RECOVER) put the registers back without orig_rax */
	if ((long)r.orig_rax < 0 && seen && seen->eintr_nr >= 0)
		r.orig_rax = (unsigned long)seen->eintr_nr;
	if (!sc_interrupted(&r, stopped))
		return;
	mem_fd = compel_open_mem(tid);
	if (mem_fd < 0 || compel_get_sigmask(tid, &mask))
		return;
	if (sc_dump_thread(tid, mem_fd, &r, stopped, seen, &tc) || !tc.has_sc_resume)
		return;
	ret = sc_restore_thread(tid, &r, &tc);
	if (ret)
		pr_warn("%d: can't make syscall %lld again: %s\n", tid, (long long)r.orig_rax, strerror(-ret));
	ret = compel_set_sigmask(tid, mask);
	if (ret)
		pr_warn("%d: can't put its blocked signals back: %s\n", tid, strerror(-ret));
}
