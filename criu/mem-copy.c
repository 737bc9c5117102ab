// SPDX-License-Identifier: GPL-2.0
/*
 * Tasks' private pages copied into their pages images by several threads at
 * once (mem-copy.h). Each piece of a job is copied in chunks: one
 * process_vm_readv() of up to COPY_CHUNK bytes from the task into the
 * thread's buffer, the chunk's CRC-32C while it is in the core's cache,
 * one pwrite() at its offset in the pages image.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#include "common.h"
#include "cr_options.h"
#include "crc32c.h"
#include "image.h"
#include "image-check.h"
#include "mem-copy.h"

#undef LOG_PREFIX
#define LOG_PREFIX "mem-copy: "

#define COPY_CHUNK (512UL << 10)	/* one process_vm_readv(): summed while still in a core's L2 */
#define COPY_IOV 256
#define PIECE_SIZE (8UL << 20)	/* what a thread takes at a time: 128 pieces for 1 GiB */

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int mem_copy_job_new(struct mem_copy_job **ret, pid_t pid)
{
	struct mem_copy_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->pid = pid;
	j->mem_fd = -1;
	j->fd = -1;
	j->x.pages_fd = -1;
	*ret = j;
	return 0;
}

int mem_copy_plan(struct mem_copy_job *j, unsigned long addr, unsigned long len, bool force)
{
	struct mem_run *last = j->nr_runs ? &j->runs[j->nr_runs - 1] : NULL;

	if (last && last->addr + last->len == addr && last->force == force) {
		last->len += len;
		j->bytes += len;
		return 0;
	}
	if (j->nr_runs == j->runs_cap) {
		size_t cap = j->runs_cap ? j->runs_cap * 2 : 64;
		struct mem_run *n = realloc(j->runs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		j->runs = n;
		j->runs_cap = cap;
	}
	j->runs[j->nr_runs++] = (struct mem_run){ .addr = addr, .len = len, .off = j->bytes, .force = force };
	j->bytes += len;
	return 0;
}

void mem_copy_job_free(struct mem_copy_job *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->mem_fd >= 0)
		close(j->mem_fd);
	free(j->runs);
	free(j->pieces);
	free(j);
}

/* The first run that ends after off. */
static size_t find_run(const struct mem_copy_job *j, uint64_t off)
{
	size_t lo = 0, hi = j->nr_runs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (j->runs[mid].off + j->runs[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* len bytes of the ranges riov into dst through /proc/PID/mem (reads what process_vm_readv() can't). */
static int read_mem(struct mem_copy_job *j, char *dst, const struct iovec *riov, int nr)
{
	unsigned long reads = 0;
	int ret = proc_mem_readv(j->mem_fd, dst, riov, nr, &reads);

	__atomic_add_fetch(&j->nr_memread, reads, __ATOMIC_RELAXED);
	return ret;
}

/* One chunk: bytes at off of the image, from the nr ranges riov (all forced or none), through buf. */
static int copy_chunk(struct mem_copy_job *j, char *buf, uint64_t off, size_t bytes, const struct iovec *riov, int nr,
		      bool force, uint32_t *crc)
{
	struct iovec local = { .iov_base = buf, .iov_len = bytes };
	int ret = 0;

	if (!force) {
		ssize_t n = process_vm_readv(j->pid, &local, 1, riov, nr, 0);

		__atomic_add_fetch(&j->nr_readv, 1, __ATOMIC_RELAXED);
		if (n != (ssize_t)bytes)
			force = true;	/* a page went unreadable (a PROT_NONE part, ...): the slow way */
	}
	if (force)
		ret = read_mem(j, buf, riov, nr);
	if (ret)
		return ret;
	*crc = crc32c(*crc, buf, bytes);
	return pwrite_exact(j->fd, buf, bytes, (off_t)off);
}

/* The piece's bytes; on failure *ret_addr is where in the task. */
static int copy_piece(struct mem_copy_job *j, struct mem_piece *pc, char *buf, uint64_t *ret_addr)
{
	uint64_t off = pc->off, end = pc->off + pc->len;
	size_t r = find_run(j, off);
	uint32_t crc = 0;

	while (off < end) {
		struct iovec riov[COPY_IOV];
		bool force = j->runs[r].force;
		size_t bytes = 0;
		int nr = 0, ret;

		while (off + bytes < end && nr < COPY_IOV && bytes < COPY_CHUNK && j->runs[r].force == force) {
			const struct mem_run *run = &j->runs[r];
			uint64_t in = off + bytes - run->off;
			size_t take = min(min(run->len - in, COPY_CHUNK - bytes), end - off - bytes);

			riov[nr++] = (struct iovec){ .iov_base = (void *)(run->addr + in), .iov_len = take };
			bytes += take;
			if (in + take < run->len)
				break;	/* the chunk or the piece is full */
			r++;
		}
		ret = copy_chunk(j, buf, off, bytes, riov, nr, force, &crc);
		if (ret) {
			*ret_addr = (unsigned long)riov[0].iov_base;
			return ret;
		}
		off += bytes;
	}
	pc->crc = crc;
	return 0;
}

/*
 * Take the next piece (the lock held): its job and index, or NULL. A job no
 * other thread is copying comes first: threads writing the same image
 * would wait for each other on its inode's lock.
 */
static struct mem_copy_job *take_piece(struct mem_copy_pool *p, int *ret_idx)
{
	struct mem_copy_job *j, *any = NULL;

	while (p->pending && p->pending->next_piece == p->pending->nr_pieces)
		p->pending = p->pending->next;
	for (j = p->pending; j; j = j->next) {
		if (j->next_piece == j->nr_pieces)
			continue;
		if (!j->busy)
			break;
		any = any ?: j;
	}
	j = j ?: any;
	if (!j)
		return NULL;
	*ret_idx = j->next_piece++;
	j->busy++;
	p->busy++;
	return j;
}

/* Copy one piece (the lock held, dropped meanwhile). */
static void run_piece(struct mem_copy_pool *p, struct mem_copy_job *j, int idx, char *buf)
{
	bool skip = j->err != 0;
	uint64_t cpu = 0, addr = 0;
	int ret = 0;

	pthread_mutex_unlock(&p->lock);
	if (!skip) {
		/* CRIU_FAULT=dump-copy-during-brk: copied late, while the main thread works on the next task (dump-core.c) */
		if (fault_injected("dump-copy-during-brk"))
			usleep(100000);
		cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		ret = buf ? copy_piece(j, &j->pieces[idx], buf, &addr) : -ENOMEM;
		cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	}
	pthread_mutex_lock(&p->lock);
	if (ret && !j->err) {
		j->err = ret;
		j->err_addr = addr;
	}
	j->cpu_ns += cpu;
	j->busy--;
	p->busy--;
	pthread_cond_broadcast(&p->done);
}

static void *copy_thread(void *arg)
{
	struct mem_copy_thread *t = arg;
	struct mem_copy_pool *p = t->pool;
	_cleanup_free_ char *own = t->buf ? NULL : malloc(COPY_CHUNK);
	char *buf = t->buf ?: own;

	if (!buf)
		return NULL;	/* the others, or the collecting thread, copy */
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct mem_copy_job *j = NULL;
		int idx;

		while (!p->stop && !(j = take_piece(p, &idx)))
			pthread_cond_wait(&p->work, &p->lock);
		if (!j)
			break;
		run_piece(p, j, idx, buf);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int cpus_allowed(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set) ?: 1;
}

size_t mem_copy_chunk(void)
{
	return COPY_CHUNK;
}

int mem_copy_bufs_prepare(struct mem_copy_bufs *b)
{
	int nr = min(cpus_allowed(), MEM_COPY_MAX_THREADS) + 1;
	void *m = mmap(NULL, nr * COPY_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	b->base = NULL;
	b->nr = 0;
	if (m == MAP_FAILED)
		return -ENOMEM;
	b->base = m;
	b->nr = nr;
	return 0;
}

void mem_copy_bufs_fini(struct mem_copy_bufs *b)
{
	if (b->base)
		munmap(b->base, b->nr * COPY_CHUNK);
	b->base = NULL;
	b->nr = 0;
}

/* Buffer i of b, or NULL: the last one is the collecting thread's. */
static char *prepared_buf(const struct mem_copy_bufs *b, int i)
{
	return b && i < b->nr - 1 ? b->base + i * COPY_CHUNK : NULL;
}

int mem_copy_pool_init(struct mem_copy_pool *p, int nr_threads, const struct mem_copy_bufs *bufs)
{
	sigset_t all, old;

	memset(p, 0, sizeof(*p));
	if (pthread_mutex_init(&p->lock, NULL) || pthread_cond_init(&p->work, NULL) || pthread_cond_init(&p->done, NULL))
		return -ENOMEM;
	if (!nr_threads)
		nr_threads = cpus_allowed();
	nr_threads = min(nr_threads, MEM_COPY_MAX_THREADS);
	if (bufs && bufs->nr)
		p->collect_buf = bufs->base + (bufs->nr - 1) * COPY_CHUNK;
	/* the threads inherit a full mask: criu's signals stay with its main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < nr_threads; i++) {
		p->args[i] = (struct mem_copy_thread){ .pool = p, .buf = prepared_buf(bufs, i) };
		if (pthread_create(&p->threads[i], NULL, copy_thread, &p->args[i]))
			break;
		p->nr_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pr_debug("%d copying threads (%d wanted)\n", p->nr_threads, nr_threads);
	return 0;
}

void mem_copy_pool_fini(struct mem_copy_pool *p)
{
	struct mem_copy_job *j, *n;

	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->nr_threads = 0;
	for (j = p->head; j; j = n) {
		n = j->next;
		page_xfer_abort(&j->x);
		mem_copy_job_free(j);
	}
	p->head = p->tail = p->pending = NULL;
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
}

/*
 * The pages image, its space taken at once: pieces are written at their
 * offsets, from any thread. A full disk fails here, naming the pages image,
 * rather than in whichever image the main thread writes while the copies
 * fill it. Where fallocate() is not supported the file is only sized.
 */
static int open_image(struct mem_copy_job *j)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", j->x.pages_fd);
	j->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (j->fd < 0)
		return -errno;
	if (!fallocate(j->fd, 0, 0, (off_t)j->bytes))
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	if (ftruncate(j->fd, (off_t)j->bytes) < 0)
		return -errno;
	return 0;
}

static int cut_pieces(struct mem_copy_job *j)
{
	int nr = (int)((j->bytes + PIECE_SIZE - 1) / PIECE_SIZE);

	j->pieces = calloc(nr ?: 1, sizeof(*j->pieces));
	if (!j->pieces)
		return -ENOMEM;
	for (int i = 0; i < nr; i++) {
		j->pieces[i].off = (uint64_t)i * PIECE_SIZE;
		j->pieces[i].len = min((uint64_t)PIECE_SIZE, j->bytes - j->pieces[i].off);
	}
	j->nr_pieces = nr;
	return 0;
}

static int prepare_job(struct mem_copy_job *j, int proc_dfd)
{
	int ret;

	if (!j->bytes)
		return 0;
	j->mem_fd = openat(proc_dfd, "mem", O_RDONLY | O_CLOEXEC);
	if (j->mem_fd < 0)
		return -errno;
	ret = open_image(j);
	return ret ?: cut_pieces(j);
}

int mem_copy_submit(struct mem_copy_pool *p, struct mem_copy_job *j, int proc_dfd, const struct page_xfer *x)
{
	int ret;

	j->x = *x;
	ret = prepare_job(j, proc_dfd);
	if (ret) {
		pr_err("task %d: can't make room for its pages in %s: %s\n", j->pid, img_name(j->x.pi), strerror(-ret));
		page_xfer_abort(&j->x);
		mem_copy_job_free(j);
		return ret;
	}
	j->start_ns = clock_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	if (!p->pending)
		p->pending = j;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Close one job's images: the sums of its pieces are the pages image's. */
static int close_job(struct mem_copy_pool *p, struct mem_copy_job *j)
{
	uint32_t crc = 0;
	int ret = j->err;

	p->nr_readv += j->nr_readv;
	p->nr_memread += j->nr_memread;
	if (ret) {
		pr_err("task %d: can't copy its pages (at %#llx) into %s: %s\n", j->pid, (unsigned long long)j->err_addr,
		       img_name(j->x.pi), strerror(-ret));
		page_xfer_abort(&j->x);
		return ret;
	}
	for (int i = 0; i < j->nr_pieces; i++)
		crc = i ? crc32c_combine(crc, j->pieces[i].crc, j->pieces[i].len) : j->pieces[i].crc;
	j->x.crc = crc;
	j->x.crc_len = j->bytes;
	pr_debug("task %d: %llu bytes copied in %d pieces, %lu readv + %lu mem reads, %llu ms cpu, %llu ms since submitted\n",
		 j->pid, (unsigned long long)j->bytes, j->nr_pieces, j->nr_readv, j->nr_memread,
		 (unsigned long long)(j->cpu_ns / 1000000),
		 (unsigned long long)((clock_ns(CLOCK_MONOTONIC) - j->start_ns) / 1000000));
	ret = page_xfer_close(&j->x);
	if (ret < 0)
		pr_err("task %d: can't write the page images: %s\n", j->pid, strerror(-ret));
	return ret;
}

int mem_copy_collect(struct mem_copy_pool *p)
{
	_cleanup_free_ char *own = p->collect_buf ? NULL : malloc(COPY_CHUNK);
	char *buf = p->collect_buf ?: own;	/* NULL: what is left fails with -ENOMEM */
	struct mem_copy_job *j, *n;
	int ret = 0, r;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		int idx;

		j = take_piece(p, &idx);
		if (j) {
			run_piece(p, j, idx, buf);
			continue;
		}
		if (!p->busy)
			break;
		pthread_cond_wait(&p->done, &p->lock);
	}
	j = p->head;
	p->head = p->tail = p->pending = NULL;
	pthread_mutex_unlock(&p->lock);
	for (; j; j = n) {
		n = j->next;
		r = close_job(p, j);
		ret = ret ?: r;
		mem_copy_job_free(j);
	}
	return ret;
}
