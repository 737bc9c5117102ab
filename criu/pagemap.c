// SPDX-License-Identifier: GPL-2.0
/*
 * Page images and the page copier.
 *
 * A pagemap image holds a PagemapHead naming its pages-N.img, then one
 * PagemapEntry per run of pages; the pages image holds the bytes of those
 * runs, back to back, in entry order. The copier gathers runs of remote pages
 * into an iovec and moves them with one process_vm_readv() per batch into a
 * staging buffer, then one write() per batch into the pages image.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "common.h"
#include "image.h"
#include "pagemap.h"
#include "cr_options.h"
#include "crc32c.h"
#include "mem-copy.h"
#include "mem-track.h"
#include "image-check.h"
#include "page-chain.h"
#include "page-digest.h"
#include "page-pipe.h"
#include "page-xfer.h"
#include "protobuf.h"
#include "pagemap.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "pagemap: "

int page_xfer_open(struct page_xfer *x, int img_dfd, int pagemap_type, unsigned long id, unsigned int pages_id)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	int ret;

	if (page_server_conn)
		return ps_xfer_open(x, page_server_conn, pagemap_type, id);
	memset(x, 0, sizeof(*x));
	x->pages_fd = -1;
	x->flags = PE_PRESENT;
	x->pages_id = pages_id;
	/* the name templates differ: pagemap-%d (a pid) and pagemap-shmem-%lu (a shmid) */
	if (pagemap_type == CR_FD_PAGEMAP)
		x->pmi = open_image_at(img_dfd, pagemap_type, O_DUMP, (int)id);
	else
		x->pmi = open_image_at(img_dfd, pagemap_type, O_DUMP, id);
	if (!x->pmi)
		return -errno;
	x->pi = open_image_at(img_dfd, CR_FD_PAGES, O_DUMP, pages_id);
	if (!x->pi) {
		ret = -errno;
		goto err;
	}
	x->pages_fd = img_raw_fd(x->pi);
	if (x->pages_fd < 0) {
		ret = x->pages_fd;
		goto err;
	}
	head.pages_id = pages_id;
	ret = pb_write_one(x->pmi, &head, PB_PAGEMAP_HEAD);
	if (ret < 0)
		goto err;
	return 0;
err:
	page_xfer_abort(x);
	return ret;
}

static int page_xfer_put_entry(struct page_xfer *x)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;

	if (!x->run_pages)
		return 0;
	pe.vaddr = x->run_vaddr;
	pe.compat_nr_pages = 0;	/* as CRIU 4.2: the count is in nr_pages */
	pe.has_nr_pages = true;
	pe.nr_pages = x->run_pages;
	pe.has_flags = true;
	pe.flags = x->run_flags;
	if (pe.flags & PE_PARENT) {	/* as CRIU writes it, for readers of the older field */
		pe.has_in_parent = true;
		pe.in_parent = true;
	}
	x->nr_entries++;
	x->run_pages = 0;
	return pb_write_one(x->pmi, &pe, PB_PAGEMAP);
}

int page_xfer_add(struct page_xfer *x, uint64_t vaddr, unsigned long nr_pages)
{
	int ret;

	if (!nr_pages)
		return 0;
	if (x->ps)
		return ps_xfer_add(x, vaddr, nr_pages);
	/* one entry per run of touching pages with the same flags (kept below 2^31 pages) */
	if (x->run_pages && x->run_vaddr + x->run_pages * PAGE_SIZE == vaddr && x->run_flags == x->flags &&
	    x->run_pages + nr_pages < (1UL << 31)) {
		x->run_pages += nr_pages;
	} else {
		ret = page_xfer_put_entry(x);
		if (ret < 0)
			return ret;
		x->run_vaddr = vaddr;
		x->run_pages = nr_pages;
		x->run_flags = x->flags;
	}
	x->nr_pages += nr_pages;
	return 0;
}

/* Sum bytes about to go to the pages image, in file order: the manifest needs no read-back. */
static void page_xfer_sum(struct page_xfer *x, const void *buf, size_t len)
{
	x->crc = crc32c(x->crc, buf, len);
	x->crc_len += len;
}

int page_xfer_write(struct page_xfer *x, const void *buf, size_t len)
{
	if (x->ps)
		return ps_xfer_write(x, buf, len);
	page_xfer_sum(x, buf, len);
	return write_all(x->pages_fd, buf, len);
}

/* The same for bytes the caller already summed (the copier's reader sums a slot before its writer writes it). */
static int page_xfer_write_summed(struct page_xfer *x, const void *buf, size_t len)
{
	if (x->ps)
		return ps_xfer_write(x, buf, len);
	return write_all(x->pages_fd, buf, len);
}

int page_xfer_close(struct page_xfer *x)
{
	int ret, r;

	if (x->ps)
		return ps_xfer_close(x);
	ret = page_xfer_put_entry(x);

	/* only an optimisation: a file not registered is read back for the manifest */
	if (!ret && x->pages_fd >= 0)
		image_crc_known(x->pages_fd, x->crc_len, x->crc);

	r = close_image_checked(x->pmi);
	if (!ret)
		ret = r;
	r = close_image_checked(x->pi);
	if (!ret)
		ret = r;
	x->pmi = x->pi = NULL;
	x->pages_fd = -1;
	return ret;
}

void page_xfer_abort(struct page_xfer *x)
{
	if (x->ps) {
		ps_xfer_abort(x);
		return;
	}
	/* nothing more is written: a disk that filled up is not blamed on the pagemap */
	discard_image(x->pmi);
	discard_image(x->pi);
	x->pmi = x->pi = NULL;
	x->pages_fd = -1;
}

/* The writer thread's side of the slot ring. */
struct pc_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t len[PC_SLOTS];		/* bytes to write from each slot; 0: the slot is free */
	int pipe_fd[PC_SLOTS];		/* the slot's bytes wait in this pipe (page-pipe.h), or -1: in buf */
	int head;			/* the next slot to write */
	int nr_full;
	bool stop;
	int err;			/* first write error; later slots are dropped */
	struct page_xfer *x;		/* where the slots go */
	char *buf;
	size_t slot_size;
	uint64_t cpu_ns, wait_ns;	/* the thread's CPU time and time waiting for data, at its end */
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *pc_writer_main(void *arg)
{
	struct pc_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int slot, err = 0;
		size_t len;

		if (!w->nr_full && !w->stop) {
			uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

			while (!w->nr_full && !w->stop)
				pthread_cond_wait(&w->cond, &w->lock);
			w->wait_ns += clock_ns(CLOCK_MONOTONIC) - t0;
		}
		if (!w->nr_full)
			break;
		slot = w->head;
		len = w->len[slot];
		pthread_mutex_unlock(&w->lock);
		if (!w->err && w->pipe_fd[slot] >= 0)
			err = ps_xfer_splice(w->x, w->pipe_fd[slot], len);
		else if (!w->err)
			err = page_xfer_write_summed(w->x, w->buf + slot * w->slot_size, len);
		pthread_mutex_lock(&w->lock);
		if (err && !w->err)
			w->err = err;
		w->len[slot] = 0;
		w->head = (slot + 1) % PC_SLOTS;
		w->nr_full--;
		pthread_cond_broadcast(&w->cond);
	}
	w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct pc_writer *pc_writer_start(struct page_xfer *x, char *buf, size_t slot_size)
{
	struct pc_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	if (!w)
		return NULL;
	w->x = x;
	w->buf = buf;
	w->slot_size = slot_size;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	/* the thread inherits a full mask: criu's signals stay with its main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, pc_writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

/* Wait until slot is free (adding the time to *wait_ns); returns the writer's error so far. */
static int pc_writer_wait_slot(struct pc_writer *w, int slot, uint64_t *wait_ns)
{
	int err;

	pthread_mutex_lock(&w->lock);
	if (w->len[slot]) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		while (w->len[slot])
			pthread_cond_wait(&w->cond, &w->lock);
		*wait_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	}
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

/* Slot's len bytes are ready: in the buffer (pipe_fd -1) or in a pipe. */
static void pc_writer_submit(struct pc_writer *w, int slot, size_t len, int pipe_fd)
{
	pthread_mutex_lock(&w->lock);
	w->len[slot] = len;
	w->pipe_fd[slot] = pipe_fd;
	w->nr_full++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Wait for every submitted slot to be written; the writer's error. */
static int pc_writer_drain(struct pc_writer *w)
{
	int err;

	pthread_mutex_lock(&w->lock);
	while (w->nr_full)
		pthread_cond_wait(&w->cond, &w->lock);
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

/* Stop and join the thread; the caller frees w. */
static void pc_writer_stop(struct pc_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

int page_copier_init(struct page_copier *pc, pid_t pid, int proc_dfd, void *buf, size_t buf_size,
		     struct page_xfer *x, bool async)
{
	pc->pid = pid;
	pc->proc_dfd = proc_dfd;
	pc->mem_fd = -1;
	pc->own_mem_fd = true;
	pc->buf = buf;
	pc->slot_size = buf_size / PC_SLOTS & ~(PAGE_SIZE - 1);
	pc->cur = 0;
	pc->nr_iov = 0;
	pc->queued = 0;
	pc->force = false;
	pc->write_failed = false;
	pc->entries_only = false;
	pc->plan = NULL;
	pc->x = x;
	pc->w = NULL;
	pc->pp = NULL;
	pc->nr_spliced = 0;
	pc->nr_readv = pc->nr_memread = 0;
	pc->reader_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	pc->reader_wait_ns = pc->writer_cpu_ns = pc->writer_wait_ns = 0;
	if (!pc->slot_size)
		return -EINVAL;
	if (async) {
		pc->w = pc_writer_start(x, pc->buf, pc->slot_size);
		if (!pc->w)
			pr_debug("no writer thread, writing synchronously\n");
	}
	return 0;
}

int page_copier_init_file(struct page_copier *pc, int fd, void *buf, size_t buf_size, struct page_xfer *x,
			  bool async)
{
	int ret = page_copier_init(pc, 0, -1, buf, buf_size, x, async);

	pc->mem_fd = fd;
	pc->own_mem_fd = false;
	return ret;
}

void page_copier_fini(struct page_copier *pc)
{
	pc->reader_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - pc->reader_cpu_ns;
	if (pc->w) {
		struct pc_writer *w = pc->w;

		pc_writer_stop(w);	/* joins: cpu_ns and wait_ns are final */
		pc->writer_cpu_ns = w->cpu_ns;
		pc->writer_wait_ns = w->wait_ns;
		free(w);
	}
	pc->w = NULL;
	if (pc->mem_fd >= 0 && pc->own_mem_fd)
		close(pc->mem_fd);
	pc->mem_fd = -1;
}

static int open_mem_fd(struct page_copier *pc);
static int read_task_pages(struct page_copier *pc, unsigned long addr, unsigned long nr, char *buf);

/* /proc/PID/mem reads pages process_vm_readv() refuses (no PROT_READ: the kernel forces it). */
static int copy_with_mem(struct page_copier *pc, char *dst)
{
	int fd = open_mem_fd(pc);

	if (fd < 0)
		return fd;
	return proc_mem_readv(fd, dst, pc->riov, pc->nr_iov, &pc->nr_memread);
}

/* A write to the pages image failed (ENOSPC, EIO): say which file, once. */
static int pages_write_failed(struct page_copier *pc, int err)
{
	if (pc->write_failed)
		return err;
	pc->write_failed = true;
	return pr_fail(err, "%s: can't write the pages: %s\n", pc->x && pc->x->pi ? img_name(pc->x->pi) : "pages image",
		       strerror(-err));
}

_Static_assert(PAGE_PIPES_MAX >= PC_SLOTS, "a pipe for each slot");

void page_copier_use_pipe(struct page_copier *pc, struct page_pipe *pp)
{
	pc->pp = pp->nr == PC_SLOTS ? pp : NULL;
}

/* Drop the first n bytes of the queued ranges. */
static void riov_advance(struct page_copier *pc, size_t n)
{
	int i = 0;

	pc->queued -= n;
	while (n && n >= pc->riov[i].iov_len)
		n -= pc->riov[i++].iov_len;
	if (n) {
		pc->riov[i].iov_base = (char *)pc->riov[i].iov_base + n;
		pc->riov[i].iov_len -= n;
	}
	memmove(pc->riov, pc->riov + i, (pc->nr_iov - i) * sizeof(pc->riov[0]));
	pc->nr_iov -= i;
}

/*
 * What the task could not vmsplice(): read through /proc/PID/mem (it reads
 * what process_vm_readv() can't) a slot at a time and sent from here; the
 * writer is idle (drained), so any slot is free.
 */
static int copy_rest(struct page_copier *pc)
{
	char *slot = pc->buf + pc->cur * pc->slot_size;
	int fd = open_mem_fd(pc);

	if (fd < 0)
		return fd;
	for (int i = 0; i < pc->nr_iov; i++) {
		unsigned long addr = (unsigned long)pc->riov[i].iov_base;
		size_t left = pc->riov[i].iov_len;

		while (left) {
			size_t chunk = min(left, pc->slot_size);
			int ret = read_task_pages(pc, addr, chunk / PAGE_SIZE, slot);

			pc->nr_memread++;
			if (ret < 0)
				return ret;
			ret = page_xfer_write(pc->x, slot, chunk);
			if (ret < 0)
				return pages_write_failed(pc, ret);
			addr += chunk;
			left -= chunk;
		}
	}
	pc->nr_iov = 0;
	pc->queued = 0;
	return 0;
}

static bool in_blob(const struct page_pipe *pp, const struct iovec *el)
{
	unsigned long a = (unsigned long)el->iov_base, blob = page_pipe_blob_addr(pp);

	return a >= blob && a < blob + PP_SEND_BLOB;
}

/*
 * The task's send stopped off bytes into el: criu sends the rest of it (a
 * header from its own copy, pages read through /proc/PID/mem a slot at a
 * time; the writer is idle, so any slot is free), so that the stream stays
 * whole.
 */
static int send_rest(struct page_copier *pc, const struct iovec *el, size_t off, const struct ps_iov *hdr)
{
	char *slot = pc->buf + pc->cur * pc->slot_size;
	unsigned long addr = (unsigned long)el->iov_base + off;
	size_t left = el->iov_len - off;

	if (in_blob(pc->pp, el))
		return ps_send(pc->x->ps, (const char *)hdr + (addr - page_pipe_blob_addr(pc->pp)), left);
	while (left) {
		unsigned long page = addr & ~(PAGE_SIZE - 1);
		size_t skip = addr - page;
		size_t nr = min((left + skip + PAGE_SIZE - 1) / PAGE_SIZE, pc->slot_size / PAGE_SIZE);
		size_t len = min(left, nr * PAGE_SIZE - skip);
		int ret = read_task_pages(pc, page, nr, slot);

		pc->nr_memread++;
		if (ret < 0)
			return ret;
		ret = ps_send(pc->x->ps, slot + skip, len);
		if (ret < 0)
			return ret;
		addr += len;
		left -= len;
	}
	return 0;
}

/*
 * CRIU_FAULT=page-send-short: the task's first send stops in the middle of
 * a page (its first two iovecs, the second cut to half and 100 bytes), as a
 * send cut short would: tests send_rest().
 */
static ssize_t task_send(struct page_copier *pc, const struct iovec *iov, int n, const struct ps_iov *hdr,
			 int nr_hdr)
{
	static bool cut;
	struct iovec part[2];

	if (cut || n < 2 || in_blob(pc->pp, &iov[1]) || !fault_injected("page-send-short"))
		return page_pipe_send(pc->pp, iov, n, hdr, nr_hdr * sizeof(*hdr));
	cut = true;
	part[0] = iov[0];
	part[1] = (struct iovec){ iov[1].iov_base, iov[1].iov_len / 2 + 100 };
	return page_pipe_send(pc->pp, part, 2, hdr, nr_hdr * sizeof(*hdr));
}

/* The task sends iov[0..n) (headers in hdr, nr_hdr of them): whatever its send leaves, criu sends. */
static int send_from_task(struct page_copier *pc, struct iovec *iov, int n, const struct ps_iov *hdr, int nr_hdr)
{
	while (n) {
		ssize_t sent = task_send(pc, iov, n, hdr, nr_hdr);
		int i = 0, ret;

		if (sent < 0 && sent != -EFAULT)
			return (int)sent;	/* the connection: nothing to send it on */
		sent = max(sent, (ssize_t)0);
		pc->x->ps->bytes_sent += sent;
		while (i < n && (size_t)sent >= iov[i].iov_len)
			sent -= iov[i++].iov_len;
		if (i == n)
			return 0;
		pr_debug("the send of task %d stopped %zd bytes into an iovec of %zu: sending the rest\n", pc->pid,
			 sent, iov[i].iov_len);
		ret = send_rest(pc, &iov[i], sent, hdr);
		if (ret < 0)
			return ret;
		iov += i + 1;
		n -= i + 1;
	}
	return 0;
}

/* The queued ranges (and the entries without pages before and after them) sent by the task itself. */
static int push_from_task(struct page_copier *pc)
{
	struct ps_iov hdr[PP_SEND_BLOB / sizeof(struct ps_iov)];
	struct iovec iov[PP_SEND_IOV];
	size_t left = pc->queued;
	int ret;

	if (pc->w) {
		ret = pc_writer_drain(pc->w);	/* what the writer has goes out first */
		if (ret < 0)
			return pages_write_failed(pc, ret);
	}
	for (;;) {
		size_t bytes;
		int nr_hdr, n = ps_xfer_task_iov(pc->x, left, page_pipe_blob_addr(pc->pp), iov, PP_SEND_IOV, hdr,
						 ARRAY_SIZE(hdr), &nr_hdr, &bytes);

		if (n < 0)
			return pages_write_failed(pc, n);
		if (!n)
			break;	/* every byte queued, and the entries without pages after them */
		ret = send_from_task(pc, iov, n, hdr, nr_hdr);
		if (ret < 0)
			return pages_write_failed(pc, ret);
		left -= bytes;
	}
	if (left)
		return pages_write_failed(pc, -EIO);
	pc->nr_spliced += pc->queued;
	pc->nr_iov = 0;
	pc->queued = 0;
	return 0;
}

/*
 * The queued ranges through the page pipe: the task vmsplice()s them, they
 * are spliced to the page server. What the task could not splice (a range
 * vmsplice() refuses) stays queued for the copy.
 */
static int push_through_pipe(struct page_copier *pc)
{
	ssize_t n;
	int ret;

	if (pc->pp->task_sk >= 0)
		return push_from_task(pc);
	if (pc->w) {
		/* the slot's pipe is empty once the writer is done with the slot */
		ret = pc_writer_wait_slot(pc->w, pc->cur, &pc->reader_wait_ns);
		if (ret < 0)
			return pages_write_failed(pc, ret);
	}
	n = page_pipe_fill(pc->pp, pc->cur, pc->riov, pc->nr_iov);
	if (n > 0 && n % PAGE_SIZE)
		return -EIO;	/* a part of a page in the pipe: the stream can't go on */
	if (n > 0) {
		if (pc->w) {
			pc_writer_submit(pc->w, pc->cur, n, pc->pp->rfd[pc->cur]);
			pc->cur = (pc->cur + 1) % PC_SLOTS;
		} else {
			ret = ps_xfer_splice(pc->x, pc->pp->rfd[pc->cur], n);
			if (ret < 0)
				return pages_write_failed(pc, ret);
		}
		pc->nr_spliced += n;
		riov_advance(pc, n);
	}
	if (!pc->queued)
		return 0;
	pr_debug("vmsplice of %zu bytes in %d gave %zd (%s): copying the rest\n", pc->queued, pc->pid, n,
		 n < 0 ? strerror((int)-n) : "short");
	if (pc->w) {
		ret = pc_writer_drain(pc->w);	/* the copy goes out after what is in the pipes */
		if (ret < 0)
			return pages_write_failed(pc, ret);
	}
	return copy_rest(pc);
}

/*
 * The pages that hold criu's remote-syscall code while the page pipe's calls
 * run (the tail of the task's executable segment, rsys-code.c): [*start,
 * *end), or false. A page there that is dumped must not go out through the
 * task's own vmsplice() or sendmsg(), which would take criu's code with it:
 * criu copies it and puts the task's bytes back (put_code_back()).
 */
static bool code_pages(const struct page_copier *pc, unsigned long *start, unsigned long *end)
{
	if (!pc->pp || !pc->pp->rs.poked)
		return false;
	*start = pc->pp->rs.syscall_ip & ~(PAGE_SIZE - 1);
	*end = (pc->pp->rs.syscall_ip + pc->pp->rs.poke_len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	return true;
}

/* In a slot just copied from the queued ranges: the task's own bytes where criu's code is. */
static void put_code_back(const struct page_copier *pc, char *slot)
{
	unsigned long code, code_end;
	size_t at = 0;

	if (!pc->pp || !pc->pp->rs.poked)
		return;
	code = pc->pp->rs.syscall_ip;
	code_end = code + pc->pp->rs.poke_len;
	for (int i = 0; i < pc->nr_iov; i++) {
		unsigned long s = (unsigned long)pc->riov[i].iov_base, e = s + pc->riov[i].iov_len;
		unsigned long a = max(s, code), b = min(e, code_end);

		if (a < b)
			memcpy(slot + at + (a - s), pc->pp->rs.orig + (a - code), b - a);
		at += pc->riov[i].iov_len;
	}
}

/* Copy the queued ranges into the current slot and hand it to the writer. */
static int page_copier_push(struct page_copier *pc)
{
	char *slot = pc->buf + pc->cur * pc->slot_size;
	struct iovec local;
	int ret = 0;

	if (!pc->queued)
		return 0;
	if (pc->pp && !pc->force)
		return push_through_pipe(pc);
	local = (struct iovec){ .iov_base = slot, .iov_len = pc->queued };
	if (pc->w) {
		ret = pc_writer_wait_slot(pc->w, pc->cur, &pc->reader_wait_ns);
		if (ret < 0)
			return pages_write_failed(pc, ret);
	}
	if (!pc->force) {
		ssize_t n = process_vm_readv(pc->pid, &local, 1, pc->riov, pc->nr_iov, 0);

		pc->nr_readv++;
		if (n != (ssize_t)pc->queued) {
			/* a page went unreadable under us (PROT_NONE part, ...): the slow way */
			pr_debug("process_vm_readv of %zu bytes from %d gave %zd (%s), using mem\n", pc->queued,
				 pc->pid, n, n < 0 ? strerror(errno) : "short");
			ret = copy_with_mem(pc, slot);
		}
	} else {
		ret = copy_with_mem(pc, slot);
	}
	if (ret < 0)
		return ret;
	put_code_back(pc, slot);
	if (pc->w) {
		if (!pc->x->ps)
			page_xfer_sum(pc->x, slot, pc->queued);	/* here, while the reader would wait for a slot */
		pc_writer_submit(pc->w, pc->cur, pc->queued, -1);
		pc->cur = (pc->cur + 1) % PC_SLOTS;
	} else {
		ret = page_xfer_write(pc->x, slot, pc->queued);
		if (ret < 0)
			ret = pages_write_failed(pc, ret);
	}
	pc->nr_iov = 0;
	pc->queued = 0;
	pc->force = false;
	return ret;
}

int page_copier_flush(struct page_copier *pc)
{
	int ret = page_copier_push(pc);

	if (ret < 0 || !pc->w)
		return ret;
	ret = pc_writer_drain(pc->w);
	return ret < 0 ? pages_write_failed(pc, ret) : 0;
}

/* Queue len bytes at addr of the task for the next slot or pipe batch (force: through /proc/PID/mem). */
static int queue_range(struct page_copier *pc, unsigned long addr, size_t len, bool force)
{
	int ret;

	while (len) {
		/* a batch for the page pipe is as big as the pipe (or a task's send): fewer remote calls */
		size_t batch = pc->pp && !force ? (pc->pp->task_sk >= 0 ? PP_SEND_BATCH : pc->pp->size) : pc->slot_size;
		size_t room, chunk;

		if (pc->queued >= batch || pc->nr_iov == PC_MAX_IOV || (pc->queued && pc->force != force)) {
			ret = page_copier_push(pc);
			if (ret < 0)
				return ret;
		}
		pc->force = force;
		room = batch - pc->queued;
		chunk = min(room, len);
		if (pc->nr_iov && (unsigned long)pc->riov[pc->nr_iov - 1].iov_base + pc->riov[pc->nr_iov - 1].iov_len == addr)
			pc->riov[pc->nr_iov - 1].iov_len += chunk;
		else
			pc->riov[pc->nr_iov++] = (struct iovec){ .iov_base = (void *)addr, .iov_len = chunk };
		pc->queued += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

int page_copier_add(struct page_copier *pc, unsigned long addr, size_t len, bool force)
{
	unsigned long cs, ce, a, e;
	int ret;

	ret = page_xfer_add(pc->x, addr, len / PAGE_SIZE);
	if (ret < 0)
		return ret;
	if (pc->plan)
		return mem_copy_plan(pc->plan, addr, len, force);
	if (!code_pages(pc, &cs, &ce) || addr >= ce || addr + len <= cs)
		return queue_range(pc, addr, len, force);
	/* the pages of criu's code: copied by criu (forced), its code replaced by the task's bytes */
	a = max(addr, cs);
	e = min(addr + len, ce);
	return queue_range(pc, addr, a - addr, force) ?: queue_range(pc, a, e - a, true) ?:
	       queue_range(pc, e, addr + len - e, force);
}

#define HPAGE_PAGES 512UL	/* 4 KiB pages in a 2 MiB huge page */

static bool want_page(uint64_t pme, enum page_filter filter, const struct zero_pfns *zero)
{
	uint64_t pfn = pme & PME_PFN_MASK;

	if (pme & PME_GUARD)
		return false;	/* a guard marker reads as swapped, and has no page (mem.c keeps the runs) */
	if (pme & PME_SWAP)
		return true;	/* a swapped page of a private mapping is always an anonymous copy */
	if (!(pme & PME_PRESENT))
		return false;
	if (filter == PF_PRIVATE_FILE)
		return !(pme & PME_FILE);
	if (zero->pfn && pfn == zero->pfn)
		return false;
	return !zero->huge || pfn < zero->huge || pfn >= zero->huge + HPAGE_PAGES;
}

/*
 * A present page mapped more than once: shared copy-on-write with another
 * task. process_vm_readv() pins the pages it reads, and pinning a shared
 * anonymous page gives the task a copy of its own first (the kernel's
 * unsharing on read-only pins), so such pages go through /proc/PID/mem,
 * which reads without pinning: `dump --leave-running` leaves the sharing
 * as it was, and the dump copies no page twice in memory.
 */
static bool shared_page(uint64_t pme)
{
	return (pme & PME_PRESENT) && !(pme & PME_EXCLUSIVE);
}

/* The pagemap entries of [addr, end), at most max of them: how many were read, or -errno. */
static ssize_t read_pagemap_at(int pagemap_fd, unsigned long addr, unsigned long end, uint64_t *buf, size_t max)
{
	size_t nr = min((end - addr) / PAGE_SIZE, max);
	ssize_t n;

	do
		n = pread(pagemap_fd, buf, nr * sizeof(uint64_t), (off_t)(addr / PAGE_SIZE * sizeof(uint64_t)));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0 || n % sizeof(uint64_t))
		return -EIO;
	return n / sizeof(uint64_t);
}

/*
 * PAGEMAP_SCAN (Linux 6.7, linux/fs.h; defined here for older headers): the
 * kernel finds the pages of a range that are present or swapped, skipping
 * the empty page tables at once. Reading pagemap word by word costs time in
 * the size of the range: a task with a huge sparse reservation (ASan's
 * 16 TiB shadow, a runtime's heap arena) took a minute per dump.
 */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#endif

/*
 * The first page of [addr, end) that is present or swapped: its address,
 * end when there is none, or addr itself when the kernel has no
 * PAGEMAP_SCAN (the caller then reads every pagemap word).
 */
static unsigned long next_populated(int pagemap_fd, unsigned long addr, unsigned long end)
{
	static bool no_scan;
	struct page_region r;
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = addr, .end = end, .vec = (uintptr_t)&r, .vec_len = 1,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	int n;

	if (no_scan)
		return addr;
	do
		n = ioctl(pagemap_fd, PAGEMAP_SCAN, &a);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ENOTTY || errno == EINVAL) {
			pr_debug("no PAGEMAP_SCAN (%s): pagemap is read word by word\n", strerror(errno));
			no_scan = true;
		}
		return addr;
	}
	if (n == 0)
		return a.walk_end >= end ? end : (unsigned long)a.walk_end;
	return r.start > addr ? (unsigned long)r.start : addr;
}

#define CMP_BATCH 64	/* pages of the task read at once for the comparison */

static int open_mem_fd(struct page_copier *pc)
{
	if (pc->mem_fd < 0) {
		pc->mem_fd = openat(pc->proc_dfd, "mem", O_RDONLY | O_CLOEXEC);
		if (pc->mem_fd < 0)
			return -errno;
	}
	return pc->mem_fd;
}

/*
 * Read nr pages of the task at addr into buf through /proc/PID/mem: it
 * reads without pinning (a page shared copy-on-write stays shared, see
 * shared_page()) and reads pages without PROT_READ too.
 */
static int read_task_pages(struct page_copier *pc, unsigned long addr, unsigned long nr, char *buf)
{
	int fd = open_mem_fd(pc);

	if (fd < 0)
		return fd;
	return pread_exact(fd, buf, nr * PAGE_SIZE, (off_t)addr);
}

/* 1 when mine (the task's page at addr) is what the parent images hold for addr, 0 when not or none. */
static int page_same_as_parent(const struct page_parent *parent, unsigned long addr, const char *mine)
{
	static char theirs[PAGE_SIZE];
	off_t off;
	int fd;

	if (parent->digests) {
		const uint8_t *sha = page_digests_find(parent->digests, addr);
		uint8_t my_sha[PAGE_DIGEST_LEN];

		if (!sha)
			return 0;
		page_digest_of(mine, my_sha);
		return !memcmp(sha, my_sha, PAGE_DIGEST_LEN);
	}
	if (page_chain_find(parent->chain, addr, &fd, &off) < 0)
		return 0;
	if (pread(fd, theirs, PAGE_SIZE, off) != PAGE_SIZE)
		return -(errno ?: EIO);
	return !memcmp(mine, theirs, PAGE_SIZE);
}

/* Pages the parent images hold unchanged: a PE_PARENT entry, no bytes. */
static int add_parent_run(struct page_copier *pc, unsigned long addr, unsigned long nr)
{
	uint32_t flags = pc->x->flags;
	int ret;

	if (!nr)
		return 0;
	pc->x->flags = PE_PARENT | (flags & PE_LAZY);
	ret = page_xfer_add(pc->x, addr, nr);
	pc->x->flags = flags;
	pc->x->nr_parent_pages += nr;
	pc->x->nr_pages -= nr;	/* counted by page_xfer_add, but not written here */
	return ret;
}

/* dump --lazy-pages: the run's entry (x->flags: PE_LAZY), its pages stay in the task. */
static int add_entries_run(struct page_copier *pc, unsigned long addr, unsigned long nr)
{
	int ret = page_xfer_add(pc->x, addr, nr);

	if (ret < 0)
		return ret;
	pc->x->nr_pages -= nr;	/* counted by page_xfer_add, but not written */
	pc->x->nr_lazy_pages += nr;
	return 0;
}

/* true when the page at addr is known unchanged from the write tracking: the last pass's images hold it. */
static bool page_known(const struct page_parent *parent, unsigned long addr)
{
	int fd;
	off_t off;

	return parent->track && parent->chain && mem_track_unwritten(parent->track, addr) &&
	       page_chain_find(parent->chain, addr, &fd, &off) == 0;
}

/* Which of the n pages at addr are known (known[i]); the others are read into buf, runs at a time. */
static int read_unknown_pages(struct page_copier *pc, const struct page_parent *parent, unsigned long addr,
			      unsigned long n, char *buf, bool *known)
{
	unsigned long i = 0;

	for (i = 0; i < n; i++)
		known[i] = page_known(parent, addr + i * PAGE_SIZE);
	for (i = 0; i < n;) {
		unsigned long j = i;
		int ret;

		if (known[i]) {
			i++;
			continue;
		}
		while (j < n && !known[j])
			j++;
		ret = read_task_pages(pc, addr + i * PAGE_SIZE, j - i, buf + i * PAGE_SIZE);
		if (ret < 0)
			return ret;
		i = j;
	}
	return 0;
}

/*
 * An incremental dump: each page of the run is compared with its copy up the
 * parent chain; equal runs become PE_PARENT entries, the others are copied
 * (force: through /proc/PID/mem, as without a parent).
 */
static int add_run_vs_parent(struct page_copier *pc, const struct page_parent *parent, unsigned long addr,
			     unsigned long nr, bool force)
{
	static char mine[CMP_BATCH * PAGE_SIZE];
	unsigned long start = addr, end = addr + nr * PAGE_SIZE;
	static bool known[CMP_BATCH];
	int cur = -1, ret;

	for (unsigned long a = addr; a <= end; a += PAGE_SIZE) {
		unsigned long k = (a - addr) / PAGE_SIZE % CMP_BATCH;
		int same = -2;

		if (a < end && !k) {
			unsigned long n = min((end - a) / PAGE_SIZE, CMP_BATCH);

			ret = read_unknown_pages(pc, parent, a, n, mine, known);
			if (ret < 0)
				return ret;
		}
		if (a < end && known[k]) {
			same = 1;
			mem_track_count_skipped(parent->track, 1);
		} else if (a < end) {
			same = page_same_as_parent(parent, a, mine + k * PAGE_SIZE);
			if (same < 0)
				return same;
		}
		if (same == cur)
			continue;
		if (cur == 1)
			ret = add_parent_run(pc, start, (a - start) / PAGE_SIZE);
		else if (cur == 0)
			ret = page_copier_add(pc, start, a - start, force);
		else
			ret = 0;
		if (ret < 0)
			return ret;
		cur = same;
		start = a;
	}
	return 0;
}

/* What dump_vma_pages() walks with. */
struct vma_walk {
	struct page_copier *pc;
	int pagemap_fd;
	enum page_filter filter;
	bool readable;
	const struct zero_pfns *zero;
	uint64_t *pmbuf;
	size_t pmbuf_nr;
	const struct page_parent *parent;
};

/* [start, end) through the pagemap words: each page's want_page(), runs of them queued or compared. */
static int walk_words(const struct vma_walk *w, unsigned long start, unsigned long end)
{
	struct page_copier *pc = w->pc;
	uint64_t *pmbuf = w->pmbuf;
	unsigned long addr = start;
	int ret;

	while (addr < end) {
		ssize_t nr, i = 0;

		addr = next_populated(w->pagemap_fd, addr, end);
		if (addr >= end)
			break;
		nr = read_pagemap_at(w->pagemap_fd, addr, end, pmbuf, w->pmbuf_nr);
		if (nr < 0)
			return nr;

		while (i < nr) {
			ssize_t j;

			while (i < nr && !want_page(pmbuf[i], w->filter, w->zero))
				i++;
			if (i == nr)
				break;
			for (j = i + 1; j < nr && want_page(pmbuf[j], w->filter, w->zero) &&
					shared_page(pmbuf[j]) == shared_page(pmbuf[i]);
			     j++)
				;
			if (pc->entries_only)
				ret = add_entries_run(pc, addr + i * PAGE_SIZE, j - i);
			else if (w->parent)
				ret = add_run_vs_parent(pc, w->parent, addr + i * PAGE_SIZE, j - i,
							!w->readable || shared_page(pmbuf[i]));
			else
				ret = page_copier_add(pc, addr + i * PAGE_SIZE, (j - i) * PAGE_SIZE,
						      !w->readable || shared_page(pmbuf[i]));
			if (ret < 0)
				return ret;
			i = j;
		}
		addr += nr * PAGE_SIZE;
	}
	return 0;
}

#ifndef PAGE_IS_WRITTEN
#define PAGE_IS_WRITTEN (1 << 1)
#endif
#ifndef PAGE_IS_PFNZERO
#define PAGE_IS_PFNZERO (1 << 5)
#endif

#define TRACK_SCAN_VEC 64	/* runs the kernel hands back per PAGEMAP_SCAN call */

/*
 * Pages of [addr, end) unwritten in a tracked range: the runs the parent
 * chain holds become PE_PARENT entries (the chain looked up per run); the
 * pages it lacks go through the words, as without tracking.
 */
static int add_known_runs(const struct vma_walk *w, unsigned long addr, unsigned long end)
{
	const struct page_parent *parent = w->parent;

	while (addr < end) {
		unsigned long n = page_chain_run(parent->chain, addr, (end - addr) / PAGE_SIZE), b;
		int ret;

		if (n) {
			ret = add_parent_run(w->pc, addr, n);
			if (ret < 0)
				return ret;
			mem_track_count_skipped(parent->track, n);
			addr += n * PAGE_SIZE;
			continue;
		}
		for (b = addr + PAGE_SIZE; b < end && !page_chain_run(parent->chain, b, 1); b += PAGE_SIZE)
			;
		ret = walk_words(w, addr, b);
		if (ret < 0)
			return ret;
		addr = b;
	}
	return 0;
}

/*
 * Pages written since the last pass: through the words, but not compared
 * with the parent images (reading them twice to find them changed, as they
 * nearly always are, costs more than writing the few that are not).
 */
static int walk_written(const struct vma_walk *w, unsigned long start, unsigned long end)
{
	struct vma_walk plain = *w;

	plain.parent = NULL;
	return walk_words(&plain, start, end);
}

/*
 * One run PAGEMAP_SCAN gave (every page of it in the same categories): the
 * zero page is a hole (want_page() says the same); written pages are
 * dumped; those outside the tracked ranges or written per the pass's scan
 * go through the words and the comparison; the others are known.
 */
static int dump_scanned_run(const struct vma_walk *w, unsigned long start, unsigned long end, uint64_t categories)
{
	unsigned long addr, next;
	int ret = 0;

	if (categories & PAGE_IS_PFNZERO)
		return 0;
	if (categories & PAGE_IS_WRITTEN)
		return walk_written(w, start, end);
	for (addr = start; addr < end && !ret; addr = next)
		ret = mem_track_unwritten_run(w->parent->track, addr, end, &next) ? add_known_runs(w, addr, next) :
										    walk_words(w, addr, next);
	return ret;
}

/*
 * A tracked VMA: PAGEMAP_SCAN hands back runs of pages (present or swapped,
 * with whether they are the zero page and whether they were written since
 * the protection), so the unwritten pages cost no pagemap word each.
 * -ENOTTY when the kernel can't (nothing done: the caller walks the words).
 */
static int walk_tracked(const struct vma_walk *w, unsigned long start, unsigned long end)
{
	static bool no_scan;
	struct page_region r[TRACK_SCAN_VEC];
	unsigned long addr = start;

	while (!no_scan && addr < end) {
		struct pm_scan_arg a = {
			.size = sizeof(a), .start = addr, .end = end, .vec = (uintptr_t)r, .vec_len = TRACK_SCAN_VEC,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_WRITTEN,
		};
		int n;

		do
			n = ioctl(w->pagemap_fd, PAGEMAP_SCAN, &a);
		while (n < 0 && errno == EINTR);
		if (n < 0 && addr == start && (errno == ENOTTY || errno == EINVAL)) {
			pr_debug("no PAGEMAP_SCAN of written pages (%s): pagemap is read word by word\n", strerror(errno));
			no_scan = true;
			break;
		}
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			int ret = dump_scanned_run(w, r[i].start, r[i].end, r[i].categories);

			if (ret < 0)
				return ret;
		}
		if (a.walk_end <= addr)
			return -EIO;
		addr = a.walk_end;
	}
	return no_scan ? -ENOTTY : 0;
}

/* The runs are worth it: a chain to find the pages in, a tracking that trusts some of [start, end). */
static bool tracked_walk(const struct vma_walk *w, unsigned long start, unsigned long end)
{
	unsigned long next;

	if (!w->parent || !w->parent->chain || !w->parent->track || w->pc->entries_only || w->filter != PF_ANON)
		return false;
	return mem_track_unwritten_run(w->parent->track, start, end, &next) || next < end;
}

int dump_vma_pages(struct page_copier *pc, int pagemap_fd, unsigned long start, unsigned long end,
		   enum page_filter filter, bool readable, const struct zero_pfns *zero, uint64_t *pmbuf,
		   size_t pmbuf_nr, const struct page_parent *parent)
{
	struct vma_walk w = { .pc = pc, .pagemap_fd = pagemap_fd, .filter = filter, .readable = readable,
			      .zero = zero, .pmbuf = pmbuf, .pmbuf_nr = pmbuf_nr, .parent = parent };

	if (tracked_walk(&w, start, end)) {
		int ret = walk_tracked(&w, start, end);

		if (ret != -ENOTTY)
			return ret;
	}
	return walk_words(&w, start, end);
}

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8)	/* Linux 6.14 */
#endif

#define GUARD_SCAN_VEC 32	/* runs the kernel hands back per PAGEMAP_SCAN call */

/*
 * The guard runs through PAGEMAP_SCAN: the kernel walks the page tables and
 * hands back runs, where the pagemap read costs a word per page of the vma
 * (a 1 TiB reservation with one guard page: 2 GiB of pagemap). *scanned
 * false when the kernel can't (no PAGEMAP_SCAN, or one without
 * PAGE_IS_GUARD: EINVAL) and fn was not called.
 */
static int scan_guard_runs(int pagemap_fd, unsigned long start, unsigned long end,
			   int (*fn)(unsigned long start, unsigned long end, void *arg), void *arg, bool *scanned)
{
	static bool no_scan;
	struct page_region r[GUARD_SCAN_VEC];
	unsigned long addr = start, run_start = 0, run_end = 0;
	int ret;

	*scanned = !no_scan;
	while (!no_scan && addr < end) {
		struct pm_scan_arg a = {
			.size = sizeof(a), .start = addr, .end = end, .vec = (uintptr_t)r, .vec_len = GUARD_SCAN_VEC,
			.category_anyof_mask = PAGE_IS_GUARD, .return_mask = PAGE_IS_GUARD,
		};
		int n;

		do
			n = ioctl(pagemap_fd, PAGEMAP_SCAN, &a);
		while (n < 0 && errno == EINTR);
		if (n < 0 && addr == start && (errno == ENOTTY || errno == EINVAL)) {
			pr_debug("no PAGEMAP_SCAN of guard markers (%s): pagemap is read word by word\n", strerror(errno));
			no_scan = true;
			*scanned = false;
			return 0;
		}
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			if (run_end && r[i].start == run_end) {	/* the kernel may split a run: join it */
				run_end = r[i].end;
				continue;
			}
			if (run_end && (ret = fn(run_start, run_end, arg)))
				return ret;
			run_start = r[i].start;
			run_end = r[i].end;
		}
		if (a.walk_end <= addr)
			return -EIO;
		addr = a.walk_end;
	}
	return run_end ? fn(run_start, run_end, arg) : 0;
}

int for_each_guard_run(int pagemap_fd, unsigned long start, unsigned long end, uint64_t *pmbuf, size_t pmbuf_nr,
		       int (*fn)(unsigned long start, unsigned long end, void *arg), void *arg)
{
	unsigned long addr = start, run = 0;
	bool in_run = false, scanned;
	int ret = scan_guard_runs(pagemap_fd, start, end, fn, arg, &scanned);

	if (scanned || ret)
		return ret;

	while (addr < end) {
		ssize_t nr = read_pagemap_at(pagemap_fd, addr, end, pmbuf, pmbuf_nr);

		if (nr < 0)
			return nr;
		for (ssize_t i = 0; i < nr; i++) {
			unsigned long a = addr + i * PAGE_SIZE;
			bool guard = pmbuf[i] & PME_GUARD;

			if (guard && !in_run) {
				run = a;
				in_run = true;
			} else if (!guard && in_run) {
				in_run = false;
				ret = fn(run, a, arg);
				if (ret)
					return ret;
			}
		}
		addr += nr * PAGE_SIZE;
	}
	return in_run ? fn(run, end, arg) : 0;
}

int range_has_shared_pages(int pagemap_fd, unsigned long start, unsigned long end, const struct zero_pfns *zero,
			   uint64_t *pmbuf, size_t pmbuf_nr)
{
	unsigned long addr = start;

	while (addr < end) {
		ssize_t nr;

		addr = next_populated(pagemap_fd, addr, end);
		if (addr >= end)
			break;
		nr = read_pagemap_at(pagemap_fd, addr, end, pmbuf, pmbuf_nr);
		if (nr < 0)
			return nr;
		for (ssize_t i = 0; i < nr; i++)
			if (want_page(pmbuf[i], PF_ANON, zero) && shared_page(pmbuf[i]))
				return 1;
		addr += nr * PAGE_SIZE;
	}
	return 0;
}

/* The pagemap entry of addr in this process, 0 on failure. */
static uint64_t self_pme(unsigned long addr)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t pme;

	if (fd < 0 || pread(fd, &pme, sizeof(pme), addr / PAGE_SIZE * sizeof(pme)) != sizeof(pme))
		return 0;
	return pme;
}

uint64_t find_zero_page_pfn(void)
{
	volatile char *p = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pme;

	if (p == MAP_FAILED)
		return 0;
	(void)p[0];	/* a read fault maps the zero page */
	pme = self_pme((unsigned long)p);
	munmap((void *)p, PAGE_SIZE);
	if (!(pme & PME_PRESENT))
		return 0;
	return pme & PME_PFN_MASK;
}

/* Read-fault a fresh 2 MiB aligned THP region and return the PFN of its first page (0: none). */
static uint64_t probe_huge_read_fault(uint64_t *ret_pme)
{
	size_t hsize = HPAGE_PAGES * PAGE_SIZE;
	char *area = mmap(NULL, 2 * hsize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *p;
	uint64_t pme;

	if (area == MAP_FAILED)
		return 0;
	p = (char *)(((unsigned long)area + hsize - 1) & ~(hsize - 1));
	madvise((void *)p, hsize, MADV_HUGEPAGE);
	(void)p[0];
	pme = self_pme((unsigned long)p);
	/* the huge zero page is PMD mapped: the next 4 KiB has the next PFN */
	if (!(pme & PME_PRESENT) || (self_pme((unsigned long)p + PAGE_SIZE) & PME_PFN_MASK) != (pme & PME_PFN_MASK) + 1)
		pme = 0;
	munmap(area, 2 * hsize);
	*ret_pme = pme;
	return pme & PME_PFN_MASK;
}

uint64_t find_huge_zero_page_pfn(void)
{
	uint64_t a, b, pme_a = 0, pme_b = 0, zero = find_zero_page_pfn();
	char buf[8] = "";
	int n = read_file_at(AT_FDCWD, "/sys/kernel/mm/transparent_hugepage/use_zero_page", buf, sizeof(buf));

	if (n <= 0 || buf[0] != '1' || !zero)
		return 0;
	/*
	 * Only the huge zero page is shared by two fresh areas, and it is never
	 * mapped exclusively; a freshly allocated huge page (whose PFN could later
	 * hold anything) fails both tests.
	 */
	a = probe_huge_read_fault(&pme_a);
	b = probe_huge_read_fault(&pme_b);
	if (!a || a != b || a == zero || (pme_a & PME_EXCLUSIVE) || (pme_b & PME_EXCLUSIVE))
		return 0;
	return a;
}

void pagemap_read_free(struct pagemap_read *r)
{
	for (size_t i = 0; i < r->nr; i++)
		pb_free(r->pmes[i], PB_PAGEMAP);
	free(r->pmes);
	free(r->offset);
	if (r->pages_fd >= 0)
		close(r->pages_fd);
	memset(r, 0, sizeof(*r));
	r->pages_fd = -1;
}

static int pagemap_read_entries(struct cr_img *img, struct pagemap_read *r)
{
	size_t cap = 0;
	uint64_t prev_end = 0;

	for (;;) {
		PagemapEntry *pe;
		const char *why;
		int ret = pb_read_one_eof(img, (void **)&pe, PB_PAGEMAP);

		if (ret <= 0)
			return ret;
		if (r->nr == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			PagemapEntry **np = realloc(r->pmes, ncap * sizeof(*np));
			uint64_t *no = np ? realloc(r->offset, ncap * sizeof(*no)) : NULL;

			if (np)
				r->pmes = np;
			if (!no) {
				pb_free(pe, PB_PAGEMAP);
				return -ENOMEM;
			}
			r->offset = no;
			cap = ncap;
		}
		r->pmes[r->nr] = pe;
		r->offset[r->nr] = r->nr_pages * PAGE_SIZE;
		r->nr++;
		why = pagemap_entry_fixup(pe);
		if (!why && pagemap_entry_remote(pe))
			why = "flags PE_LAZY without PE_PRESENT: the pages were left on the source (dump --lazy-pages)";
		if (why) {
			pr_debug("%s: entry %#llx: %s\n", img_name(img), (unsigned long long)pe->vaddr, why);
			return -EOPNOTSUPP;
		}
		if ((pe->vaddr & (PAGE_SIZE - 1)) || !pe->nr_pages || pe->vaddr < prev_end ||
		    pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE < pe->vaddr) {
			pr_debug("%s: bad entry %#llx+%llu pages\n", img_name(img), (unsigned long long)pe->vaddr,
				 (unsigned long long)pe->nr_pages);
			return -EINVAL;
		}
		prev_end = pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE;
		if (pe->flags & PE_PARENT)
			r->nr_parent++;		/* no bytes here: they are in the parent images */
		else
			r->nr_pages += pe->nr_pages;
	}
}

const char *pagemap_entry_fixup(PagemapEntry *pe)
{
	if (pe->has_in_parent && pe->in_parent) {
		pe->has_flags = true;
		pe->flags |= PE_PARENT;
	} else if (!pe->has_flags) {
		pe->has_flags = true;
		pe->flags = PE_PRESENT;
	}
	if (!pe->has_nr_pages) {
		pe->has_nr_pages = true;
		pe->nr_pages = pe->compat_nr_pages;
	}
	if (pe->flags & PE_PARENT)
		return pe->flags & ~(PE_PARENT | PE_LAZY) ? "flags: PE_PARENT with other bits" : NULL;
	if (pe->flags & ~(PE_PRESENT | PE_LAZY))
		return "flags: unknown bits";
	if (!(pe->flags & PE_PRESENT))
		return pe->flags & PE_LAZY ? NULL	/* left on the source: pagemap_entry_remote() */
					   : "flags without PE_PRESENT: no pages for the entry";
	return NULL;
}

int read_pagemap_image(int img_dfd, int pagemap_type, unsigned long id, struct pagemap_read *ret)
{
	struct pagemap_read r = { .pages_fd = -1 };
	PagemapHead *head = NULL;
	struct cr_img *img, *pi;
	struct stat st;
	int err;

	if (pagemap_type == CR_FD_PAGEMAP)
		img = open_image_at(img_dfd, pagemap_type, O_RSTR, (int)id);
	else
		img = open_image_at(img_dfd, pagemap_type, O_RSTR, id);
	if (!img)
		return -errno;
	if (img_is_empty(img)) {
		close_image(img);
		return -ENOENT;
	}
	err = pb_read_one(img, (void **)&head, PB_PAGEMAP_HEAD);
	if (err < 0)
		goto out;
	r.pages_id = head->pages_id;
	pb_free(head, PB_PAGEMAP_HEAD);
	err = pagemap_read_entries(img, &r);
	if (err < 0)
		goto out;

	pi = open_image_at(img_dfd, CR_FD_PAGES, O_RSTR, r.pages_id);
	if (!pi) {
		err = -errno;
		goto out;
	}
	if (!img_is_empty(pi)) {
		r.pages_fd = fcntl(img_raw_fd(pi), F_DUPFD_CLOEXEC, 0);
		if (r.pages_fd < 0)
			err = -errno;
	}
	close_image(pi);
	if (err < 0)
		goto out;
	if (r.nr_pages && (r.pages_fd < 0 || fstat(r.pages_fd, &st) < 0 ||
			   (uint64_t)st.st_size < r.nr_pages * PAGE_SIZE)) {
		pr_debug("pages-%u.img is missing or shorter than its %llu pages\n", r.pages_id,
			 (unsigned long long)r.nr_pages);
		err = -EINVAL;
		goto out;
	}
	*ret = r;
	close_image(img);
	return 0;
out:
	close_image(img);
	pagemap_read_free(&r);
	return err;
}
