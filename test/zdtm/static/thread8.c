// SPDX-License-Identifier: GPL-2.0
/*
 * thread8: a process with 8 threads (the main one and 7 pthreads), each with
 * its own blocked signal mask and thread-local value, keeps running after
 * restore: every thread checks its own mask and TLS and reports; new threads
 * created after restore work (glibc registers rseq in them) and see a
 * consistent rseq area (cpu_id is set).
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR 7

struct rseq_abi {
	uint32_t cpu_id_start;
	uint32_t cpu_id;
	uint64_t rseq_cs;
	uint32_t flags;
} __attribute__((aligned(32)));

extern ptrdiff_t __rseq_offset __attribute__((weak));
extern unsigned int __rseq_size __attribute__((weak));

static __thread uint64_t tls_value;
static pthread_barrier_t start;
static int results[NR + 1];
static volatile int phase;
static int wake[2];

static int sig_of(int i)
{
	return SIGRTMIN + i;	/* thread i blocks only SIGRTMIN+i, and SIGUSR2 */
}

static int check_self(int i)
{
	sigset_t cur;

	if (tls_value != 0xabc000ULL + i)
		return 1;
	if (pthread_sigmask(SIG_BLOCK, NULL, &cur))
		return 2;
	for (int s = SIGRTMIN; s < SIGRTMIN + NR + 1; s++)
		if (sigismember(&cur, s) != (s == sig_of(i)))
			return 3;
	if (!sigismember(&cur, SIGUSR2))
		return 4;
	return 0;
}

static void setup_self(int i)
{
	sigset_t set;

	tls_value = 0xabc000ULL + i;
	sigemptyset(&set);
	sigaddset(&set, sig_of(i));
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
}

static void *thread_fn(void *arg)
{
	int i = (int)(intptr_t)arg;
	char c;

	setup_self(i);
	pthread_barrier_wait(&start);
	/* sleep in a syscall across the dump */
	while (read(wake[0], &c, 1) < 0)
		;
	results[i] = check_self(i) ? -check_self(i) : 1;
	return NULL;
}

static void *new_thread_fn(void *arg)
{
	struct rseq_abi *r;

	if (!&__rseq_offset || !__rseq_size)
		return (void *)1;	/* glibc without rseq: nothing to check */
	r = (struct rseq_abi *)((char *)__builtin_thread_pointer() + __rseq_offset);
	/* the kernel fills cpu_id for a registered thread */
	return (void *)(uintptr_t)(r->cpu_id != (uint32_t)-1 && (long)r->cpu_id < sysconf(_SC_NPROCESSORS_CONF) ? 1 : 2);
}

int main(int argc, char **argv)
{
	pthread_t th[NR], nt;
	void *res;
	int r;

	test_init(argc, argv);
	if (pipe(wake) || pthread_barrier_init(&start, NULL, NR + 1)) {
		fail("setup");
		return 1;
	}
	for (int i = 1; i <= NR; i++) {
		if (pthread_create(&th[i - 1], NULL, thread_fn, (void *)(intptr_t)i)) {
			fail("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	/* the main thread: index 0 (SIGTERM stays blocked by the zdtm library as well) */
	setup_self(0);
	{
		sigset_t set;

		pthread_sigmask(SIG_BLOCK, NULL, &set);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_SETMASK, &set, NULL);
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	r = check_self(0);
	if (r)
		fail("main thread: check %d failed (TLS or mask)", r);
	if (write(wake[1], "wwwwwww", NR) != NR)
		fail("wake");
	for (int i = 0; i < NR; i++) {
		pthread_join(th[i], NULL);
		if (results[i + 1] != 1)
			fail("thread %d: check %d failed (TLS or mask)", i + 1, -results[i + 1]);
	}
	for (int i = 0; i < 4; i++) {
		if (pthread_create(&nt, NULL, new_thread_fn, NULL) || pthread_join(nt, &res)) {
			fail("a thread created after restore");
			break;
		}
		if (res != (void *)1) {
			fail("a new thread's rseq area is not filled by the kernel");
			break;
		}
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
