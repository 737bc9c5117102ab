// SPDX-License-Identifier: GPL-2.0
/*
 * thread_state00: per-thread state survives restore. Four threads (the main
 * one and three pthreads), each with its own:
 *  - tid (gettid) and name (comm), scheduling policy and nice value;
 *  - blocked signal mask;
 *  - sigaltstack (two threads), robust list and clear-tid address as glibc set
 *    them, rseq registration (glibc's);
 *  - a value held only in a vector register (xmm8) across the dump, in a
 *    thread looping on nanosleep in assembly;
 *  - with AVX: ymm8 in another thread; with AVX-512 also zmm20 and k2;
 *  - a thread blocked in read() on a pipe at dump time gets the data written
 *    after restore (the syscall is restarted).
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR_THREADS 5	/* 2: xmm8, 3: read(), 4: ymm8 (+ zmm20, k2 with AVX-512) */

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

struct tstate {
	pid_t tid;
	char comm[16];
	uint64_t blocked;
	stack_t ss;
	void *robust_head;
	size_t robust_len;
	unsigned long tid_addr;
	int rseq_busy;		/* 1: a second rseq() with glibc's values says EBUSY (registered) */
	int policy;		/* sched_getscheduler() of the thread */
	int nice;
};

struct thread {
	pthread_t th;
	int idx;
	struct tstate before, after;
	volatile int ready, go, done;
	uint64_t xmm_in, xmm_out;
	char *altstack;
};

static struct thread threads[NR_THREADS];
static int pipefd[2];
static volatile int xmm_go;
static char got_after_read[32];

extern ptrdiff_t __rseq_offset __attribute__((weak));
extern unsigned int __rseq_size __attribute__((weak));

static uint64_t sigmask_word(void)
{
	sigset_t s;
	uint64_t w = 0;

	pthread_sigmask(SIG_BLOCK, NULL, &s);
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&s, sig) == 1)
			w |= 1ULL << (sig - 1);
	return w;
}

static void snapshot(struct tstate *s)
{
	memset(s, 0, sizeof(*s));
	s->tid = syscall(SYS_gettid);
	prctl(PR_GET_NAME, s->comm);
	s->blocked = sigmask_word();
	sigaltstack(NULL, &s->ss);
	syscall(SYS_get_robust_list, 0, &s->robust_head, &s->robust_len);
	prctl(PR_GET_TID_ADDRESS, &s->tid_addr);
	s->policy = sched_getscheduler(0);
	errno = 0;
	s->nice = getpriority(PRIO_PROCESS, 0);
	if (&__rseq_offset && &__rseq_size && __rseq_size) {
		void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
		long r = syscall(334 /* rseq */, area, 32, 0, 0x53053053);

		s->rseq_busy = r < 0 && errno == EBUSY;
	}
}

/* Hold v in xmm8 while sleeping in a syscall loop until xmm_go; return xmm8. */
static uint64_t hold_xmm8(uint64_t v)
{
	struct timespec ts = { 0, 2000000 };
	uint64_t out;

	asm volatile("movq %[v], %%xmm8\n\t"
		     "1:\n\t"
		     "movl $35, %%eax\n\t"	/* nanosleep */
		     "movq %[ts], %%rdi\n\t"
		     "xorl %%esi, %%esi\n\t"
		     "syscall\n\t"
		     "cmpl $0, (%[go])\n\t"
		     "je 1b\n\t"
		     "movq %%xmm8, %[out]\n\t"
		     : [out] "=r"(out)
		     : [v] "r"(v), [ts] "r"(&ts), [go] "r"(&xmm_go)
		     : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "xmm8", "memory");
	return out;
}

struct vec_state {
	uint8_t ymm8[32];
	uint8_t zmm20[64];
	uint64_t k2;
};
static struct vec_state vec_in, vec_out;
static int vec_level;	/* 0: no AVX, 1: AVX, 2: AVX-512F */

/* Hold ymm8 (and zmm20, k2) while sleeping in a syscall loop until xmm_go. */
static void hold_vec(void)
{
	struct timespec ts = { 0, 2000000 };

	if (vec_level == 2)
		asm volatile("vmovdqu (%[in]), %%ymm8\n\t"
			     "vmovdqu64 32(%[in]), %%zmm20\n\t"
			     "kmovq 96(%[in]), %%k2\n\t"
			     "1:\n\t"
			     "movl $35, %%eax\n\t"
			     "movq %[ts], %%rdi\n\t"
			     "xorl %%esi, %%esi\n\t"
			     "syscall\n\t"
			     "cmpl $0, (%[go])\n\t"
			     "je 1b\n\t"
			     "vmovdqu %%ymm8, (%[out])\n\t"
			     "vmovdqu64 %%zmm20, 32(%[out])\n\t"
			     "kmovq %%k2, 96(%[out])\n\t"
			     "vzeroupper\n\t"
			     :
			     : [in] "r"(&vec_in), [out] "r"(&vec_out), [ts] "r"(&ts), [go] "r"(&xmm_go)
			     : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "xmm8", "memory");
	else
		asm volatile("vmovdqu (%[in]), %%ymm8\n\t"
			     "1:\n\t"
			     "movl $35, %%eax\n\t"
			     "movq %[ts], %%rdi\n\t"
			     "xorl %%esi, %%esi\n\t"
			     "syscall\n\t"
			     "cmpl $0, (%[go])\n\t"
			     "je 1b\n\t"
			     "vmovdqu %%ymm8, (%[out])\n\t"
			     "vzeroupper\n\t"
			     :
			     : [in] "r"(&vec_in), [out] "r"(&vec_out), [ts] "r"(&ts), [go] "r"(&xmm_go)
			     : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "xmm8", "memory");
}

static void setup(struct thread *t)
{
	char name[16];
	sigset_t s;

	snprintf(name, sizeof(name), "thst-%d", t->idx);
	prctl(PR_SET_NAME, name);
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);	/* test_init() blocked it; every thread keeps it blocked */
	sigaddset(&s, SIGRTMIN + t->idx);
	if (t->idx & 1)
		sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, &s, NULL);
	/* thread 1 SCHED_BATCH, thread 2 SCHED_IDLE, thread 3 nice 5 (per thread on Linux) */
	if (t->idx == 1 || t->idx == 2) {
		struct sched_param sp = { 0 };

		sched_setscheduler(0, t->idx == 1 ? SCHED_BATCH : SCHED_IDLE, &sp);
	}
	if (t->idx == 3)
		setpriority(PRIO_PROCESS, 0, 5);
	if (t->idx == 1 || t->idx == 2) {
		stack_t ss = { .ss_sp = t->altstack, .ss_size = 64 * 1024, .ss_flags = 0 };

		sigaltstack(&ss, NULL);
	}
}

static void *thread_fn(void *arg)
{
	struct thread *t = arg;

	setup(t);
	snapshot(&t->before);
	t->ready = 1;
	if (t->idx == 2) {
		t->xmm_out = hold_xmm8(t->xmm_in);
	} else if (t->idx == 4) {
		if (vec_level)
			hold_vec();
		else
			while (!xmm_go)
				usleep(1000);
	} else if (t->idx == 3) {
		/* blocked in read() across the dump */
		ssize_t n = read(pipefd[0], got_after_read, sizeof(got_after_read) - 1);

		if (n < 0)
			got_after_read[0] = 0;
	} else {
		while (!t->go)
			usleep(1000);
	}
	snapshot(&t->after);
	t->done = 1;
	return NULL;
}

static void compare(struct thread *t)
{
	const struct tstate *b = &t->before, *a = &t->after;

	errno = 0;
	if (a->tid != b->tid)
		fail("thread %d: tid %d, was %d", t->idx, a->tid, b->tid);
	if (strcmp(a->comm, b->comm))
		fail("thread %d: comm '%s', was '%s'", t->idx, a->comm, b->comm);
	if (a->blocked != b->blocked)
		fail("thread %d: blocked %#llx, was %#llx", t->idx, (unsigned long long)a->blocked,
		     (unsigned long long)b->blocked);
	if (a->ss.ss_sp != b->ss.ss_sp || a->ss.ss_size != b->ss.ss_size || a->ss.ss_flags != b->ss.ss_flags)
		fail("thread %d: sigaltstack %p/%zu/%d, was %p/%zu/%d", t->idx, a->ss.ss_sp, a->ss.ss_size,
		     a->ss.ss_flags, b->ss.ss_sp, b->ss.ss_size, b->ss.ss_flags);
	if (a->robust_head != b->robust_head || a->robust_len != b->robust_len)
		fail("thread %d: robust list %p/%zu, was %p/%zu", t->idx, a->robust_head, a->robust_len,
		     b->robust_head, b->robust_len);
	if (a->tid_addr != b->tid_addr)
		fail("thread %d: clear-tid address %#lx, was %#lx", t->idx, a->tid_addr, b->tid_addr);
	if (a->policy != b->policy || a->nice != b->nice)
		fail("thread %d: policy %d nice %d, was %d %d", t->idx, a->policy, a->nice, b->policy, b->nice);
	if (a->rseq_busy != b->rseq_busy)
		fail("thread %d: rseq registered %d, was %d", t->idx, a->rseq_busy, b->rseq_busy);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (pipe(pipefd)) {
		fail("pipe");
		return 1;
	}
	__builtin_cpu_init();
	vec_level = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx") ? 1 : 0;
	for (size_t i = 0; i < sizeof(vec_in); i++)
		((uint8_t *)&vec_in)[i] = (uint8_t)(0x31 * i + 7);
	test_msg("vector registers checked: %s\n", vec_level == 2 ? "ymm8 zmm20 k2" : vec_level ? "ymm8" : "none");
	threads[0].idx = 0;
	threads[0].th = pthread_self();
	for (int i = 1; i < NR_THREADS; i++) {
		threads[i].idx = i;
		threads[i].altstack = malloc(64 * 1024);
		threads[i].xmm_in = 0x5ca1ab1e00000000ULL | (unsigned)i * 0x1111;
		if (pthread_create(&threads[i].th, NULL, thread_fn, &threads[i])) {
			fail("pthread_create");
			return 1;
		}
	}
	setup(&threads[0]);
	snapshot(&threads[0].before);
	for (int i = 1; i < NR_THREADS; i++)
		while (!threads[i].ready)
			usleep(1000);
	usleep(20000);	/* thread 3 sits in read(), thread 2 in its nanosleep loop */

	test_daemon();
	test_waitsig();

	snapshot(&threads[0].after);
	xmm_go = 1;
	threads[1].go = 1;
	if (write(pipefd[1], "after-restore", 13) != 13)
		fail("write to the pipe");
	for (int i = 1; i < NR_THREADS; i++)
		pthread_join(threads[i].th, NULL);
	for (int i = 0; i < NR_THREADS; i++)
		compare(&threads[i]);
	errno = 0;
	if (threads[2].xmm_out != threads[2].xmm_in)
		fail("xmm8 holds %#llx, was %#llx", (unsigned long long)threads[2].xmm_out,
		     (unsigned long long)threads[2].xmm_in);
	if (vec_level && memcmp(vec_out.ymm8, vec_in.ymm8, 32))
		fail("ymm8 changed across the dump");
	if (vec_level == 2 && memcmp(vec_out.zmm20, vec_in.zmm20, 64))
		fail("zmm20 changed across the dump");
	if (vec_level == 2 && vec_out.k2 != vec_in.k2)
		fail("k2 is %#llx, was %#llx", (unsigned long long)vec_out.k2, (unsigned long long)vec_in.k2);
	if (strcmp(got_after_read, "after-restore"))
		fail("the blocked read() got '%s'", got_after_read);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
