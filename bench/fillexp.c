// SPDX-License-Identifier: GPL-2.0
/*
 * fillexp: ways to fill the fresh memory of several processes from one file,
 * timed alone, to choose how the restore fills a tree's memory.
 *
 *   fillexp METHOD NPROC MIB_EACH WORKERS FILE
 *
 * NPROC children each map MIB_EACH of fresh private anonymous memory (never
 * touched) and wait; child i's memory is filled from FILE at i * MIB_EACH MiB
 * in chunks of 8 MiB, by at most WORKERS copies at a time (a token count in
 * shared memory, as criu's fill_tokens). Timed (CLOCK_MONOTONIC, "us N") from
 * the start signal to the last chunk in; then each child checks its first word
 * of every page against the file (not timed).
 *   pread      each child fills itself: WORKERS threads per child take its
 *              chunks, MADV_POPULATE_WRITE then pread() into the chunk (the
 *              stubs' way, mem-fill-stub.c)
 *   pread-nopop  the same without MADV_POPULATE_WRITE (a fault per page inside pread)
 *   vmwritev   the parent fills them all: WORKERS threads take the chunks of
 *              every child in turn, process_vm_writev() from a read-only
 *              MAP_SHARED mapping of FILE (the page cache, no copy) into the
 *              child (the controller's way)
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MIB (1UL << 20)
#define CHUNK (8 * MIB)
#define MAXP 256

struct shared {
	int tokens;
	int go;
	int done;
	unsigned long next[MAXP];	/* next chunk of each child (pread) */
	unsigned long next_all;		/* next chunk over all children (vmwritev) */
	void *addr[MAXP];
	int bad;
};

static struct shared *sh;
static int nproc, workers, fd, pop = 1;
static unsigned long each;
static char *filemap;
static pid_t pids[MAXP];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void token_take(void)
{
	for (;;) {
		int v = __atomic_load_n(&sh->tokens, __ATOMIC_SEQ_CST);

		if (v > 0 && __atomic_compare_exchange_n(&sh->tokens, &v, v - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
		if (v <= 0)
			syscall(SYS_futex, &sh->tokens, FUTEX_WAIT, v, NULL, NULL, 0);
	}
}

static void token_give(void)
{
	__atomic_add_fetch(&sh->tokens, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &sh->tokens, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int me;

static void *pread_worker(void *arg)
{
	char *mem = arg;

	for (;;) {
		unsigned long c = __atomic_fetch_add(&sh->next[me], 1, __ATOMIC_SEQ_CST);
		unsigned long off = c * CHUNK, done = 0;

		if (off >= each)
			return NULL;
		token_take();
		if (pop)
			madvise(mem + off, CHUNK, MADV_POPULATE_WRITE);
		while (done < CHUNK) {
			ssize_t r = pread(fd, mem + off + done, CHUNK - done, me * each + off + done);

			if (r <= 0)
				die("pread");
			done += r;
		}
		token_give();
	}
}

static void *vmw_worker(void *arg)
{
	unsigned long per = each / CHUNK;

	(void)arg;
	for (;;) {
		unsigned long c = __atomic_fetch_add(&sh->next_all, 1, __ATOMIC_SEQ_CST);
		unsigned long p = c % nproc, k = c / nproc;	/* every child's first chunk, then the second... */
		struct iovec l, r;

		if (k >= per)
			return NULL;
		l.iov_base = filemap + p * each + k * CHUNK;
		r.iov_base = (char *)sh->addr[p] + k * CHUNK;
		l.iov_len = r.iov_len = CHUNK;
		if (process_vm_writev(pids[p], &l, 1, &r, 1, 0) != (ssize_t)CHUNK)
			die("process_vm_writev");
	}
}

static void wait_word(int *w, int want)
{
	int v;

	while ((v = __atomic_load_n(w, __ATOMIC_SEQ_CST)) < want)
		syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void bump(int *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static void child(int i, int self_fill)
{
	char *mem = mmap(NULL, each, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t th[64];

	if (mem == MAP_FAILED)
		die("mmap");
	me = i;
	sh->addr[i] = mem;
	bump(&sh->done);	/* mapped */
	wait_word(&sh->go, 1);
	if (self_fill) {
		for (int t = 1; t < workers; t++)
			pthread_create(&th[t], NULL, pread_worker, mem);
		pread_worker(mem);
		for (int t = 1; t < workers; t++)
			pthread_join(th[t], NULL);
		bump(&sh->done);
	}
	wait_word(&sh->go, 2);	/* check */
	for (unsigned long o = 0; o < each; o += 4096) {
		uint64_t a, b;

		memcpy(&a, mem + o, 8);
		if (pread(fd, &b, 8, i * each + o) != 8 || a != b)
			__atomic_store_n(&sh->bad, 1, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *method;
	struct timespec t0, t1;
	int self_fill;
	pthread_t th[64];

	if (argc != 6) {
		fprintf(stderr, "usage: fillexp pread|pread-nopop|vmwritev NPROC MIB_EACH WORKERS FILE\n");
		return 2;
	}
	method = argv[1];
	nproc = atoi(argv[2]);
	each = strtoul(argv[3], NULL, 0) * MIB;
	workers = atoi(argv[4]);
	if (nproc < 1 || nproc > MAXP || workers < 1 || workers > 64 || each % CHUNK)
		return 2;
	self_fill = strncmp(method, "pread", 5) == 0;
	pop = strcmp(method, "pread-nopop") != 0;
	fd = open(argv[5], O_RDONLY);
	if (fd < 0)
		die(argv[5]);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap shared");
	sh->tokens = workers;
	if (!self_fill) {
		filemap = mmap(NULL, nproc * each, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (filemap == MAP_FAILED)
			die("mmap file");
	}
	for (int i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i])
			child(i, self_fill);
	}
	wait_word(&sh->done, nproc);
	sh->done = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bump(&sh->go);
	if (self_fill) {
		wait_word(&sh->done, nproc);
	} else {
		for (int t = 1; t < workers; t++)
			pthread_create(&th[t], NULL, vmw_worker, NULL);
		vmw_worker(NULL);
		for (int t = 1; t < workers; t++)
			pthread_join(th[t], NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	bump(&sh->go);
	for (int i = 0; i < nproc; i++)
		waitpid(pids[i], NULL, 0);
	printf("us %ld%s\n", (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000,
	       sh->bad ? " BAD" : "");
	return sh->bad;
}
