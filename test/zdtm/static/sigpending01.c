// SPDX-License-Identifier: GPL-2.0
/*
 * sigpending01: pending signals of every kind come back with their whole
 * siginfo, in their queue, in order.
 *
 * Two threads; the leader blocks every signal (SIGTERM is the runner's), the
 * worker every signal but SIGRTMAX-1 (nothing sends that one). Queued:
 *  - shared queue: each standard signal but SIGKILL, SIGSTOP, SIGTERM and
 *    SIGCONT (which can't be pending together with the stop signals), sent
 *    with kill() (SI_USER) or, every other one, rt_sigqueueinfo() (SI_QUEUE
 *    with a value): SIGTRAP, SIGSEGV, SIGILL, SIGBUS, SIGFPE included;
 *  - the worker's queue: the same signals again, with tgkill() (SI_TKILL)
 *    or, for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGCHLD, a siginfo
 *    the way the kernel fills it for a fault or a child (rt_tgsigqueueinfo:
 *    a positive si_code, an address, a child's pid and status), queued by
 *    the worker itself (the kernel lets only the thread itself do that);
 *  - the leader's queue: SIGTRAP, SIGSEGV, SIGUSR1, SIGRTMIN+1 with tgkill();
 *  - real-time: SIGRTMIN+1..+4 three times each in the shared queue with
 *    values, SIGRTMAX twice in the worker's;
 *  - ignored but blocked: SIGTRAP and SIGUSR2 set to SIG_IGN, SIGURG and
 *    SIGWINCH ignored by default; the kernel keeps a blocked signal pending
 *    even when it is ignored.
 * After restore: each thread's blocked mask, the actions, ShdPnd/SigPnd of
 * /proc; then every signal is taken with sigtimedwait() by the thread whose
 * queue holds it (the leader's own queue comes before the shared one) and
 * compared byte for byte with the siginfo it was sent with; then nothing is
 * pending any more.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

enum { Q_SHARED, Q_LEADER, Q_WORKER, Q_NR };
static const char *qname[Q_NR] = { "shared", "leader", "worker" };

#define MAX_SENT 160

struct sent {
	int q;
	siginfo_t si;
};

static struct sent sent[MAX_SENT];
static int nr_sent;
static pid_t me, worker_tid;
static int go_pipe[2];

static bool skip_std(int s)
{
	return s == SIGKILL || s == SIGSTOP || s == SIGTERM || s == SIGCONT;
}

static siginfo_t base_info(int sig, int code)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = me;
	si.si_uid = getuid();
	return si;
}

static int record(int q, const siginfo_t *si)
{
	if (nr_sent == MAX_SENT) {
		fail("too many signals for the table");
		return -1;
	}
	sent[nr_sent].q = q;
	sent[nr_sent++].si = *si;
	return 0;
}

/* kill(): the kernel fills signo, SI_USER, pid, uid and zeroes the rest */
static int send_kill(int sig)
{
	siginfo_t si = base_info(sig, SI_USER);

	if (kill(me, sig)) {
		fail("kill(%d)", sig);
		return -1;
	}
	return record(Q_SHARED, &si);
}

static int send_tgkill(int q, pid_t tid, int sig)
{
	siginfo_t si = base_info(sig, SI_TKILL);

	if (syscall(SYS_tgkill, me, tid, sig)) {
		fail("tgkill(%d, %d)", tid, sig);
		return -1;
	}
	return record(q, &si);
}

/* A siginfo of our own making: to the process (tid 0) or to one thread. */
static int send_info(int q, pid_t tid, siginfo_t *si)
{
	long r = tid ? syscall(SYS_rt_tgsigqueueinfo, me, tid, si->si_signo, si)
		     : syscall(SYS_rt_sigqueueinfo, me, si->si_signo, si);

	if (r) {
		fail("queue signal %d (code %d) to %d", si->si_signo, si->si_code, tid);
		return -1;
	}
	return record(q, si);
}

static int send_queue(int q, pid_t tid, int sig, long value)
{
	siginfo_t si = base_info(sig, SI_QUEUE);

	si.si_value.sival_ptr = (void *)value;
	return send_info(q, tid, &si);
}

/* What the kernel would queue for a fault or a child, with made-up values. */
static int send_kernel_like(pid_t tid, int sig)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	switch (sig) {
	case SIGSEGV:
		si.si_code = SEGV_ACCERR;
		si.si_addr = (void *)0x7f1234560000UL;
		break;
	case SIGBUS:
		si.si_code = BUS_ADRERR;
		si.si_addr = (void *)0x7f1234561008UL;
		break;
	case SIGFPE:
		si.si_code = FPE_INTDIV;
		si.si_addr = (void *)0x401234UL;
		break;
	case SIGILL:
		si.si_code = ILL_ILLOPN;
		si.si_addr = (void *)0x401238UL;
		break;
	case SIGTRAP:
		si.si_code = TRAP_BRKPT;
		si.si_addr = (void *)0x40123cUL;
		break;
	case SIGCHLD:
		si.si_code = CLD_EXITED;
		si.si_pid = 54321;
		si.si_uid = 4242;
		si.si_status = 7;
		si.si_utime = 3;
		si.si_stime = 4;
		break;
	default:
		return 1;
	}
	return send_info(Q_WORKER, tid, &si);
}

/* The worker queues its own: only a thread itself may queue a positive si_code or SI_TKILL to itself. */
static int send_worker(void)
{
	pid_t tid = gettid();
	int ret = 0;

	for (int s = 1; s < 32 && !ret; s++) {
		if (skip_std(s))
			continue;
		ret = send_kernel_like(tid, s);
		if (ret > 0)
			ret = send_tgkill(Q_WORKER, tid, s);
	}
	for (int i = 0; i < 2 && !ret; i++)
		ret = send_queue(Q_WORKER, tid, SIGRTMAX, 0x5a5a0000L + i);
	return ret;
}

static int send_leader(void)
{
	int ret = 0;

	for (int s = 1; s < 32 && !ret; s++)
		if (!skip_std(s))
			ret = s % 2 ? send_kill(s) : send_queue(Q_SHARED, 0, s, 0x1000 + s);
	ret = ret ?: send_tgkill(Q_LEADER, me, SIGTRAP);
	ret = ret ?: send_tgkill(Q_LEADER, me, SIGSEGV);
	ret = ret ?: send_tgkill(Q_LEADER, me, SIGUSR1);
	ret = ret ?: send_tgkill(Q_LEADER, me, SIGRTMIN + 1);
	for (int s = SIGRTMIN + 1; s <= SIGRTMIN + 4 && !ret; s++)
		for (int i = 0; i < 3 && !ret; i++)
			ret = send_queue(Q_SHARED, 0, s, (long)s << 8 | i);
	return ret;
}

/* The raw syscall: glibc's sigtimedwait() turns SI_TKILL into SI_USER. */
static int take_one(int sig, siginfo_t *ret)
{
	static const struct timespec zero = { 0 };
	uint64_t set = 1ULL << (sig - 1);

	return (int)syscall(SYS_rt_sigtimedwait, &set, ret, &zero, sizeof(set));
}

/* Take every signal this thread can see and compare it with what queues qa, then qb, got. */
static void take_and_compare(int qa, int qb)
{
	for (int s = 1; s <= SIGRTMAX; s++) {
		siginfo_t got;

		if (s == SIGKILL || s == SIGSTOP)
			continue;
		for (int pass = 0; pass < 2; pass++) {
			int q = pass ? qb : qa;

			if (q < 0)
				continue;
			for (int i = 0; i < nr_sent; i++) {
				if (sent[i].q != q || sent[i].si.si_signo != s)
					continue;
				memset(&got, 0, sizeof(got));
				if (take_one(s, &got) != s) {
					fail("%s queue: signal %d (code %d) is gone", qname[q], s, sent[i].si.si_code);
					continue;
				}
				errno = 0;
				if (memcmp(&got, &sent[i].si, sizeof(got)))
					fail("%s queue: signal %d came back with code %d pid %d uid %d value/addr %p "
					     "(sent: code %d pid %d uid %d value/addr %p)",
					     qname[q], s, got.si_code, got.si_pid, got.si_uid, got.si_ptr,
					     sent[i].si.si_code, sent[i].si.si_pid, sent[i].si.si_uid,
					     sent[i].si.si_ptr);
			}
		}
		errno = 0;
		if (take_one(s, &got) == s)
			fail("signal %d (code %d) pending, nobody sent it", s, got.si_code);
	}
}

/* "Key:\t<hex>" of /proc/self/task/TID/status */
static unsigned long long status_hex(pid_t tid, const char *key)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 16);
	fclose(f);
	return v;
}

static sigset_t worker_mask;

static void *worker(void *arg)
{
	sigset_t cur;
	char c;

	sigfillset(&worker_mask);
	sigdelset(&worker_mask, SIGRTMAX - 1);
	pthread_sigmask(SIG_SETMASK, &worker_mask, NULL);
	if (send_worker())
		_exit(1);
	__atomic_store_n(&worker_tid, gettid(), __ATOMIC_SEQ_CST);
	/* the dump finds this thread here; the leader writes once it has taken its own */
	if (read(go_pipe[0], &c, 1) != 1) {
		fail("worker: no go");
		return NULL;
	}
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	for (int s = 1; s <= SIGRTMAX; s++)
		if (s != SIGKILL && s != SIGSTOP && sigismember(&cur, s) != sigismember(&worker_mask, s)) {
			errno = 0;
			fail("worker: signal %d is %sblocked", s, sigismember(&cur, s) ? "" : "not ");
			break;
		}
	take_and_compare(Q_WORKER, -1);
	return NULL;
}

static int check_actions(void)
{
	struct sigaction sa;

	errno = 0;
	for (int s = 1; s <= SIGRTMAX; s++) {
		bool ign = s == SIGTRAP || s == SIGUSR2;

		if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33 || sigaction(s, NULL, &sa))
			continue;
		if ((sa.sa_handler == SIG_IGN) != ign) {
			fail("signal %d: handler %p after restore", s, (void *)sa.sa_handler);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long shd, pnd_leader, pnd_worker, blk_leader, blk_worker;
	sigset_t all, cur;
	pthread_t th;

	test_init(argc, argv);
	me = getpid();
	if (pipe2(go_pipe, O_CLOEXEC)) {
		fail("pipe");
		return 1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* every action set here: the shell may have left some ignored */
	for (int s = 1; s <= SIGRTMAX; s++)
		if (s != SIGKILL && s != SIGSTOP && sigismember(&all, s))
			signal(s, s == SIGTRAP || s == SIGUSR2 ? SIG_IGN : SIG_DFL);
	if (pthread_create(&th, NULL, worker, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	if (send_leader())
		return 1;
	shd = status_hex(me, "ShdPnd");
	pnd_leader = status_hex(me, "SigPnd");
	pnd_worker = status_hex(worker_tid, "SigPnd");
	blk_leader = status_hex(me, "SigBlk");
	blk_worker = status_hex(worker_tid, "SigBlk");
	test_msg("%d signals queued: ShdPnd %llx, leader %llx, worker %llx\n", nr_sent, shd, pnd_leader, pnd_worker);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (status_hex(me, "ShdPnd") != shd || status_hex(me, "SigPnd") != pnd_leader ||
	    status_hex(worker_tid, "SigPnd") != pnd_worker)
		fail("pending sets: shared %llx leader %llx worker %llx, were %llx %llx %llx",
		     status_hex(me, "ShdPnd"), status_hex(me, "SigPnd"), status_hex(worker_tid, "SigPnd"), shd,
		     pnd_leader, pnd_worker);
	if (status_hex(me, "SigBlk") != blk_leader || status_hex(worker_tid, "SigBlk") != blk_worker)
		fail("blocked: leader %llx worker %llx, were %llx %llx", status_hex(me, "SigBlk"),
		     status_hex(worker_tid, "SigBlk"), blk_leader, blk_worker);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (int s = 1; s <= SIGRTMAX; s++)
		if (sigismember(&cur, s) != sigismember(&all, s) && s != SIGKILL && s != SIGSTOP) {
			fail("leader: signal %d is %sblocked", s, sigismember(&cur, s) ? "" : "not ");
			break;
		}
	check_actions();

	take_and_compare(Q_LEADER, Q_SHARED);
	if (write(go_pipe[1], "g", 1) != 1)
		fail("write to the worker");
	pthread_join(th, NULL);
	errno = 0;
	if (status_hex(me, "ShdPnd") || status_hex(me, "SigPnd"))
		fail("still pending at the end: shared %llx leader %llx", status_hex(me, "ShdPnd"),
		     status_hex(me, "SigPnd"));

	if (test_failed())
		return 1;
	pass();
	return 0;
}
