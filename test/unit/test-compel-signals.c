// SPDX-License-Identifier: GPL-2.0
/*
 * compel's remote syscalls leave a task's signal state alone: a child with
 * SIGTRAP blocked and pending (shared queue: kill(); its own: tgkill()), a
 * queued real-time signal with a value and a SIGTRAP handler runs remote
 * syscalls, plain and COMPEL_RSYS_FAST ones; the queues (PTRACE_PEEKSIGINFO,
 * byte for byte), the blocked mask and the handler must be what they were,
 * and the child must still take every signal afterwards. A SIGSTOP sent
 * while a remote nanosleep() runs is swallowed, the call is issued again and
 * completes, and the SIGSTOP is queued again by the finish.
 * TAP output; exit 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/compel.h"
#include "proc_parse.h"

#include "tap.h"

#define BIT(sig) (1ULL << ((sig)-1))


/* Where compel may poke its code in task pid: the start of an executable mapping (criu's proc_exec_addr()). */
static unsigned long code_addr(pid_t pid)
{
	char path[64];
	unsigned long a = 0;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (proc_exec_addr(dfd, &a))
			a = 0;
		close(dfd);
	}
	return a;
}

static pid_t kid;

static void kill_kid(void)
{
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
}

static void on_trap(int sig)
{
}

/* what the child reports after the parent let it go */
struct report {
	int codes[3];		/* si_code of SIGTRAP (own queue), SIGTRAP (shared), the rt signal */
	long value;
	int handler_ok;
	uint64_t blocked;
};

static int take(int sig, siginfo_t *si)
{
	static const struct timespec zero = { 0 };
	uint64_t set = BIT(sig);

	/* raw: glibc's sigtimedwait() turns SI_TKILL into SI_USER */
	return (int)syscall(SYS_rt_sigtimedwait, &set, si, &zero, sizeof(set));
}

static void child(int ctl, int resp)
{
	struct sigaction sa = { .sa_handler = on_trap };
	union sigval v = { .sival_ptr = (void *)0x5eed };
	struct report r = {};
	siginfo_t si;
	sigset_t set;
	char c;

	sigaction(SIGTRAP, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTRAP);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	syscall(SYS_tgkill, getpid(), gettid(), SIGTRAP);
	kill(getpid(), SIGTRAP);
	sigqueue(getpid(), SIGRTMIN + 2, v);
	if (write(resp, "r", 1) != 1 || read(ctl, &c, 1) != 1)
		_exit(2);
	for (int i = 0; i < 3; i++) {
		memset(&si, 0, sizeof(si));
		r.codes[i] = take(i < 2 ? SIGTRAP : SIGRTMIN + 2, &si) > 0 ? si.si_code : 999;
		if (i == 2)
			r.value = (long)si.si_value.sival_ptr;
	}
	sigaction(SIGTRAP, NULL, &sa);
	r.handler_ok = sa.sa_handler == on_trap;
	sigprocmask(SIG_BLOCK, NULL, &set);
	memcpy(&r.blocked, &set, sizeof(r.blocked));
	if (write(resp, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

struct snap {
	uint64_t mask;
	int nr_shared, nr_own;
	siginfo_t *shared, *own;
};

static int take_snap(struct snap *s)
{
	memset(s, 0, sizeof(*s));
	if (compel_get_sigmask(kid, &s->mask))
		return -1;
	s->nr_shared = compel_get_pending(kid, true, &s->shared);
	s->nr_own = compel_get_pending(kid, false, &s->own);
	return s->nr_shared < 0 || s->nr_own < 0 ? -1 : 0;
}

static bool same_snap(const struct snap *a, const struct snap *b)
{
	return a->mask == b->mask && a->nr_shared == b->nr_shared && a->nr_own == b->nr_own &&
	       !memcmp(a->shared, b->shared, a->nr_shared * sizeof(siginfo_t)) &&
	       !memcmp(a->own, b->own, a->nr_own * sizeof(siginfo_t));
}

static void free_snap(struct snap *s)
{
	free(s->shared);
	free(s->own);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p ? p[2] : 0;
}

/* A process that sends SIGSTOP to the child after ms milliseconds. */
static pid_t stop_later(int ms)
{
	pid_t p = fork();

	if (p == 0) {
		usleep(ms * 1000);
		kill(kid, SIGSTOP);
		_exit(0);
	}
	return p;
}

static void run_calls(struct snap *before, unsigned int flags, const char *what)
{
	struct compel_rsys ctx;
	struct snap after;
	bool good = true;
	long r;
	int ret;

	ret = compel_rsys_prepare_flags(&ctx, kid, code_addr(kid), flags | COMPEL_RSYS_POKE);
	check(ret == 0, "%s: prepare (%d)", what, ret);
	if (ret)
		return;
	for (int i = 0; i < 50 && good; i++) {
		ret = compel_rsys0(&ctx, &r, __NR_getpid);
		good = ret == 0 && r == kid;
	}
	check(good, "%s: 50 remote getpid with SIGTRAP pending (%d, %ld)", what, ret, r);
	ret = compel_rsys_map_scratch(&ctx, 4096);
	check(ret == 0, "%s: a scratch page (%d)", what, ret);
	ret = compel_rsys_finish(&ctx);
	check(ret == 0, "%s: finish (%d)", what, ret);
	ret = take_snap(&after);
	check(ret == 0 && same_snap(before, &after),
	      "%s: queues (%d shared, %d own) and mask %#llx byte for byte as before", what, after.nr_shared,
	      after.nr_own, (unsigned long long)after.mask);
	free_snap(&after);
}

static void test_sigstop_during_call(struct snap *before)
{
	struct timespec ts = { 0, 150 * 1000 * 1000 };
	struct compel_rsys ctx;
	struct snap after;
	pid_t helper;
	long r = -1;
	int ret;

	ret = compel_rsys_prepare_flags(&ctx, kid, code_addr(kid), COMPEL_RSYS_FAST | COMPEL_RSYS_POKE);
	ret = ret ?: compel_rsys_map_scratch(&ctx, 4096);
	ret = ret ?: compel_mem_write(kid, ctx.mem_fd, ctx.scratch, &ts, sizeof(ts));
	check(ret == 0, "sigstop: prepare (%d)", ret);
	if (ret)
		return;
	helper = stop_later(40);
	ret = compel_rsys2(&ctx, &r, __NR_nanosleep, ctx.scratch, 0);
	waitpid(helper, NULL, 0);
	check(ret == 0 && r == 0 && (ctx.swallowed & BIT(SIGSTOP)),
	      "sigstop: a remote nanosleep interrupted by SIGSTOP is issued again and ends (%d, %ld, swallowed %#llx)",
	      ret, r, (unsigned long long)ctx.swallowed);
	ret = compel_rsys_finish(&ctx);
	check(ret == 0, "sigstop: finish (%d)", ret);
	ret = take_snap(&after);
	/* the finish queued the SIGSTOP again, to the thread */
	check(ret == 0 && after.nr_own == before->nr_own + 1 && after.own[after.nr_own - 1].si_signo == SIGSTOP &&
		      after.mask == before->mask,
	      "sigstop: SIGSTOP queued again by the finish (%d own)", after.nr_own);
	free_snap(&after);
}

int main(void)
{
	enum compel_task_state state;
	struct report rep;
	struct snap before;
	int ctl[2], resp[2], ret;
	char c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(kill_kid);
	if (pipe(ctl) || pipe(resp))
		return 1;
	kid = fork();
	if (kid == 0)
		child(ctl[0], resp[1]);
	if (read(resp[0], &c, 1) != 1)
		return 1;
	usleep(50000);		/* into its read() */

	ret = compel_seize_stop(kid, &state);
	check(ret == 0, "seize the child (%d)", ret);
	if (ret)
		return 1;
	ret = take_snap(&before);
	check(ret == 0 && before.nr_shared == 2 && before.nr_own == 1 && (before.mask & BIT(SIGTRAP)),
	      "before: SIGTRAP and the rt signal shared, SIGTRAP own, SIGTRAP blocked (%d/%d)", before.nr_shared,
	      before.nr_own);
	run_calls(&before, 0, "plain");
	run_calls(&before, COMPEL_RSYS_FAST, "fast");
	test_sigstop_during_call(&before);
	free_snap(&before);

	ret = compel_detach(kid, state, 0);
	check(ret == 0, "detach (%d)", ret);
	for (int i = 0; i < 100 && proc_state(kid) != 'T'; i++)
		usleep(10000);
	check(proc_state(kid) == 'T', "the child stops for the re-queued SIGSTOP (state %c)", proc_state(kid));
	kill(kid, SIGCONT);
	ret = write(ctl[1], "g", 1) == 1 && read(resp[0], &rep, sizeof(rep)) == sizeof(rep) ? 0 : -1;
	check(ret == 0 && rep.codes[0] == SI_TKILL && rep.codes[1] == SI_USER && rep.codes[2] == SI_QUEUE &&
		      rep.value == 0x5eed,
	      "the child takes its SIGTRAPs (codes %d, %d) and the rt signal (code %d, value %#lx)", rep.codes[0],
	      rep.codes[1], rep.codes[2], rep.value);
	check(ret == 0 && rep.handler_ok && (rep.blocked & BIT(SIGTRAP)) && (rep.blocked & BIT(SIGRTMIN + 2)),
	      "the SIGTRAP handler and the blocked mask are the child's (%#llx)", (unsigned long long)rep.blocked);
	waitpid(kid, NULL, 0);
	kid = 0;

	printf("1..%d\n", nr_test);
	printf("# %d of %d failed\n", nr_fail, nr_test);
	return nr_fail ? 1 : 0;
}
