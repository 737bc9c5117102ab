/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The copy of tasks' private pages into their pages images, apart from the
 * walk that decides which pages go (Documentation/architecture.md, "Memory
 * dump"). The walk (mem.c, pagemap.c) writes the pagemap entries and plans
 * the copy: runs of the task's memory, each at its offset in the pages image.
 * A job is one task's plan; its pages image is sized, and the runs are cut
 * into pieces that the pool's threads copy at once, each through a buffer of
 * its own that stays in the core's cache: process_vm_readv() into it, its
 * CRC-32C, pwrite() at the piece's offset in the image.
 *
 * Threads never log: a job's result is logged by the thread that collects it
 * (mem_copy_collect()), the dump's main thread. Returns are 0 or -errno.
 */
#ifndef CRIU_MEM_COPY_H
#define CRIU_MEM_COPY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagemap.h"

#define MEM_COPY_MAX_THREADS 8

struct mem_run {
	unsigned long addr;		/* in the task */
	unsigned long len;
	uint64_t off;			/* in the pages image */
	bool force;			/* through /proc/PID/mem: no PROT_READ, or pages shared copy-on-write */
};

struct mem_piece {
	uint64_t off, len;		/* a part of the pages image */
	uint32_t crc;			/* CRC-32C of its bytes, once copied */
};

struct mem_copy_job {
	pid_t pid;
	int mem_fd;			/* /proc/PID/mem (forced runs, and what process_vm_readv() refuses) */
	int fd;				/* the pages image (a second open of x.pages_fd's file) */
	struct page_xfer x;		/* the pagemap (entries written) and pages images: closed on collection */
	struct mem_run *runs;		/* in image order */
	size_t nr_runs, runs_cap;
	uint64_t bytes;
	struct mem_piece *pieces;
	int nr_pieces;
	int next_piece;			/* the next one a thread takes (under the pool's lock) */
	int busy;			/* its pieces being copied */
	int err;			/* the first error of its pieces; the others are skipped */
	uint64_t err_addr;		/* where it happened, for the log */
	unsigned long nr_readv, nr_memread;
	uint64_t start_ns, cpu_ns;	/* submission time; CPU time its pieces took */
	struct mem_copy_job *next;
};

/*
 * The buffers of the copies: one for each thread, one for the thread that
 * collects. Made and touched before the seize (mem_copy_bufs_prepare()):
 * on a VM that hands idle memory back to its host, a page touched for the
 * first time costs a fault in the host too (about 10 us here), and a
 * thread's 512 KiB touched in the freeze took 0.3-1 ms of it.
 */
struct mem_copy_bufs {
	char *base;			/* nr buffers of mem_copy_chunk() bytes */
	int nr;
};
/* As many buffers as a pool started now would have threads, plus one; 0 or -ENOMEM. */
int mem_copy_bufs_prepare(struct mem_copy_bufs *b);
void mem_copy_bufs_fini(struct mem_copy_bufs *b);
/* The bytes of one buffer: what a thread copies in one process_vm_readv() and one pwrite(). */
size_t mem_copy_chunk(void);

struct mem_copy_pool;
struct mem_copy_thread {
	struct mem_copy_pool *pool;
	char *buf;			/* a prepared buffer, or NULL: the thread allocates its own */
};

struct mem_copy_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job was submitted, or stop */
	pthread_cond_t done;		/* a piece was done */
	struct mem_copy_job *head, *tail;	/* submitted and not collected, in order */
	struct mem_copy_job *pending;	/* the first job with pieces not taken */
	pthread_t threads[MEM_COPY_MAX_THREADS];
	struct mem_copy_thread args[MEM_COPY_MAX_THREADS];
	char *collect_buf;		/* a prepared buffer for mem_copy_collect(), or NULL */
	int nr_threads;
	int busy;			/* pieces being copied */
	bool stop;
	unsigned long nr_readv, nr_memread;	/* totals of the collected jobs */
};

/*
 * Start nr_threads copying threads (0: as many as the CPUs criu may run on, < 0: none;
 * at most MEM_COPY_MAX_THREADS). Fewer may start; with none the collecting
 * thread copies everything itself. 0 or -errno (the pool's lock).
 */
int mem_copy_pool_init(struct mem_copy_pool *p, int nr_threads, const struct mem_copy_bufs *bufs);
/* A job for the pages of pid, to plan (mem_copy_plan()) then submit. */
int mem_copy_job_new(struct mem_copy_job **ret, pid_t pid);
/* Free a job that was not submitted. */
void mem_copy_job_free(struct mem_copy_job *j);
/* Plan len bytes at addr of the task as the next bytes of its pages image. */
int mem_copy_plan(struct mem_copy_job *j, unsigned long addr, unsigned long len, bool force);
/*
 * Size the pages image, cut the plan into pieces and queue them. x
 * holds the task's pagemap (entries written) and pages images, open; the job
 * takes it over and closes it when collected. proc_dfd is the task's /proc
 * dir. The job belongs to the pool from here; on failure (no room for the
 * pages image: a full disk fails here, naming it) the error is logged and
 * the job and x are released.
 */
int mem_copy_submit(struct mem_copy_pool *p, struct mem_copy_job *j, int proc_dfd, const struct page_xfer *x);
/*
 * Copy pieces on this thread too until all are done, then close every job's
 * images in submission order (logging each) and free the jobs. The first
 * error (every job is closed, the failed ones discarded).
 */
int mem_copy_collect(struct mem_copy_pool *p);
/* Stop and join the threads; pending jobs are discarded. Safe on a pool that failed to init. */
void mem_copy_pool_fini(struct mem_copy_pool *p);

#endif
