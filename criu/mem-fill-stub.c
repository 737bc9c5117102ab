// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: the stubs fill their own memory, all at the same time.
 *
 * A private VMA that no child shares (COW_SELF in the table of mem-cow.c) is
 * built by its stub once every task and thread of the tree exists (so that
 * no child inherits it, and the workers below take no pid the tree needs):
 * mapped read-write at its dumped place and read from the pages image with
 * pread(), the kernel copying straight from the image into the task's pages.
 * Every stub does this at once, and a stub splits its pages into chunks that
 * up to one worker thread per CPU take in turn, so one large task is filled
 * by every CPU too. A worker holds one of the tree's tokens (one per CPU, in
 * the shared area) while it fills a chunk: as many chunks are filled at once
 * as there are CPUs, whatever the number of tasks.
 *
 * A private anonymous VMA is filled with UFFDIO_COPY rather than pread() when
 * the kernel lets the stub have a userfaultfd (fill_uffd_probe()): the stub
 * registers the VMA for missing pages, maps each chunk of the pages image
 * read-only, sums it from there and copies it in; the kernel allocates each
 * page with its bytes, without zeroing it first and without a fault per page.
 * The registration is dropped before the workers' stage ends: the VMA's flags
 * are what they were. A private file mapping can't be registered: pread().
 *
 * A VMA whose place is taken in the stub (a copy of criu) stays COW_SELF and
 * the morph restores it (mem-restore.c, mem-fill.c); one built here becomes
 * COW_KEPT, and the morph only puts its protection and advice back.
 */
#define LOG_PREFIX "mem-stub: "
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common.h"
#include "crc32c.h"
#include "pages-crc.h"
#include "rst-ctx.h"
#include "restore.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "vma.pb-c.h"

/* A worker takes this much at a time: small enough to share a task's pages among the CPUs. */
#define CHUNK_BYTES (8UL << 20)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MAX_WORKERS 64
/*
 * A chunk is read this much at a time, and the bytes summed right after, while
 * they are still in the CPU's cache (pages-crc.h): the check costs no second read.
 */
#define READ_STEP (1UL << 20)
/* A chunk of a registered VMA shorter than this is read into a buffer rather than mapped. */
#define MAP_MIN (64UL << 10)
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

/* One piece of work: len bytes at addr, from off in the pages image; uffd: copied in with UFFDIO_COPY. */
struct fill_chunk {
	uint64_t addr, len, off;
	bool uffd;
};

/* A VMA registered with the stub's userfaultfd for the fill. */
struct fill_reg {
	uint64_t start, len;
};

struct fill_job {
	struct rst_ctx *ctx;
	struct pstree_item *me;
	int pages_fd;
	struct pages_crc_log *crc_log;	/* NULL: the image's CRC was checked before the restore */
	struct stat img;		/* the pages image (its CRC is noted by dev and ino) */
	struct fill_chunk *chunks;
	size_t nr, cap;
	size_t next;		/* the next chunk to take (atomic) */
	int error;		/* the first -errno of a worker (atomic) */
	int uffd;		/* the stub's userfaultfd for the fill, -1: none (every chunk pread()) */
	struct fill_reg *regs;	/* the VMAs registered with it */
	size_t nr_regs;
};

int rst_nr_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

/* ------------------------------------------------------ the tree's tokens */

static void token_take(struct rst_ctx *ctx)
{
	int *t = &ctx->shared->fill_tokens;

	for (;;) {
		int v = __atomic_load_n(t, __ATOMIC_SEQ_CST);
		struct timespec ts = { 0, 100 * 1000000L };

		if (v > 0 && __atomic_compare_exchange_n(t, &v, v - 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
		/* a stub that died holding tokens fails the restore: don't wait for it for ever */
		if (v <= 0 && __atomic_load_n(&ctx->shared->error, __ATOMIC_SEQ_CST))
			return;
		if (v <= 0)
			syscall(SYS_futex, t, FUTEX_WAIT, v, &ts, NULL, 0);
	}
}

static void token_give(struct rst_ctx *ctx)
{
	__atomic_add_fetch(&ctx->shared->fill_tokens, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &ctx->shared->fill_tokens, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* ------------------------------------------------------ the work */

static int chunk_add(struct fill_job *j, uint64_t addr, uint64_t len, uint64_t off, bool uffd)
{
	while (len) {
		uint64_t n = min(len, CHUNK_BYTES);

		if (j->nr == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 64;
			struct fill_chunk *c = xrealloc(j->chunks, cap * sizeof(*c));

			if (!c)
				return -ENOMEM;
			j->chunks = c;
			j->cap = cap;
		}
		j->chunks[j->nr++] = (struct fill_chunk){ addr, n, off, uffd };
		addr += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* The present, restored pages of v as chunks; pme_off[i]: where run i starts in the image. */
static int chunks_of_vma(struct fill_job *j, const struct rst_mem *mem, const uint64_t *pme_off, const VmaEntry *v,
			 bool uffd)
{
	for (size_t i = 0; i < mem->nr_pmes; i++) {
		const PagemapEntry *pe = mem->pmes[i];
		uint64_t s = max(pe->vaddr, v->start);
		uint64_t e = min(pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE, v->end);
		int ret;

		if (pe->vaddr >= v->end)
			break;
		if (s >= e || (pe->has_flags && !(pe->flags & PE_PRESENT)) || (pe->flags & PE_RST_SKIP))
			continue;
		ret = chunk_add(j, s, e - s, pme_off[i] + (s - pe->vaddr), uffd);
		if (ret)
			return ret;
	}
	return 0;
}

static int fill_chunk_pread(struct fill_job *j, const struct fill_chunk *c)
{
	char *p = (char *)(uintptr_t)c->addr;
	uint64_t len = c->len, off = c->off;
	uint32_t crc = 0;

	/* one madvise faults the chunk in: cheaper than a fault per page inside pread */
	if (len >= (64UL << 10))
		madvise(p, len, MADV_POPULATE_WRITE);
	while (len) {
		uint64_t step = j->crc_log ? min(len, READ_STEP) : len;
		ssize_t r = pread(j->pages_fd, p, step, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return pr_fail(r ? -errno : -EIO, "task %d: reading its pages for %p at %" PRIu64 ": %s\n",
				       j->me->pid, p, off, r ? strerror(errno) : "short image");
		if (j->crc_log)
			crc = crc32c(crc, p, r);
		p += r;
		off += r;
		len -= r;
	}
	pages_crc_note(j->crc_log, j->img.st_dev, j->img.st_ino, c->off, c->len, crc);
	return 0;
}

/* len bytes of src into dst, a range of a registered VMA with no page yet. */
static int uffd_copy(int uffd, uint64_t dst, const char *src, uint64_t len)
{
	while (len) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)src, .len = len };

		if (ioctl(uffd, UFFDIO_COPY, &c) && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (c.copy <= 0)
			continue;	/* nothing copied yet: the kernel asked to try again */
		dst += (uint64_t)c.copy;
		src += c.copy;
		len -= (uint64_t)c.copy;
	}
	return 0;
}

/* The next step of a chunk read from the image into buf (the image could not be mapped). */
static int read_step(struct fill_job *j, char *buf, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pread(j->pages_fd, buf, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return pr_fail(r ? -errno : -EIO, "task %d: reading its pages at %" PRIu64 ": %s\n", j->me->pid,
				       off, r ? strerror(errno) : "short image");
		buf += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/*
 * The chunk of a registered VMA: its part of the image mapped read-only
 * (MAP_POPULATE: the page cache's pages, no copy), summed a step at a time
 * and each step copied in while in cache. An image that can't be mapped is
 * read into a buffer instead, as is a chunk shorter than MAP_MIN; the VMA itself
 * is never touched but by UFFDIO_COPY.
 */
static int fill_chunk_uffd(struct fill_job *j, const struct fill_chunk *c)
{
	_cleanup_free_ char *buf = NULL;
	char *map;
	uint64_t done = 0;
	uint32_t crc = 0;
	int ret = 0;

	if (c->off > (uint64_t)j->img.st_size || c->len > (uint64_t)j->img.st_size - c->off)
		return pr_fail(-EIO, "task %d: its pages image ends before %" PRIu64 "\n", j->me->pid, c->off + c->len);
	/* a short run (sparse memory) costs fewer calls read into a buffer than mapped and unmapped */
	map = c->len < MAP_MIN ? MAP_FAILED :
				 mmap(NULL, c->len, PROT_READ, MAP_SHARED | MAP_POPULATE, j->pages_fd, (off_t)c->off);
	if (map == MAP_FAILED) {
		map = NULL;
		buf = xmalloc(min(c->len, READ_STEP));
		if (!buf)
			return -ENOMEM;
	}
	while (done < c->len) {
		uint64_t step = min(c->len - done, READ_STEP);
		const char *src = map ? map + done : buf;

		if (!map) {
			ret = read_step(j, buf, step, c->off + done);
			if (ret)
				break;
		}
		if (j->crc_log)
			crc = crc32c(crc, src, step);
		ret = uffd_copy(j->uffd, c->addr + done, src, step);
		if (ret) {
			pr_fail(ret, "task %d: UFFDIO_COPY to %#" PRIx64 ": %s\n", j->me->pid, c->addr + done,
				strerror(-ret));
			break;
		}
		done += step;
	}
	if (map)
		munmap(map, c->len);
	if (!ret)
		pages_crc_note(j->crc_log, j->img.st_dev, j->img.st_ino, c->off, c->len, crc);
	return ret;
}

static int fill_chunk(struct fill_job *j, const struct fill_chunk *c)
{
	return c->uffd ? fill_chunk_uffd(j, c) : fill_chunk_pread(j, c);
}

static void *fill_worker(void *arg)
{
	struct fill_job *j = arg;

	for (;;) {
		size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_SEQ_CST);
		int ret;

		if (i >= j->nr || __atomic_load_n(&j->error, __ATOMIC_SEQ_CST))
			break;
		token_take(j->ctx);
		ret = fill_chunk(j, &j->chunks[i]);
		token_give(j->ctx);
		if (ret) {
			int zero = 0;

			__atomic_compare_exchange_n(&j->error, &zero, ret, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			break;
		}
	}
	return NULL;
}

/* Fill every chunk of j with up to one thread per CPU (this one included). */
static int run_workers(struct fill_job *j)
{
	pthread_t th[MAX_WORKERS];
	int want = (int)min((size_t)min(rst_nr_cpus(), MAX_WORKERS), j->nr), nr = 0;

	for (int i = 1; i < want; i++) {
		if (pthread_create(&th[nr], NULL, fill_worker, j))
			break;	/* fewer workers: slower, not wrong */
		nr++;
	}
	fill_worker(j);
	for (int i = 0; i < nr; i++)
		pthread_join(th[i], NULL);
	return j->error;
}

/* ------------------------------------------------------ the userfaultfd */

/* "always" in the THP switch: pread() after MADV_POPULATE_WRITE gets huge pages, UFFDIO_COPY never. */
static bool thp_always(void)
{
	char buf[64] = "";
	int fd = open(THP_ENABLED, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 && strstr(buf, "[always]");
}

/* A userfaultfd for the fill: user faults only (a kernel access to a registered page fails, never waits). */
static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY), err;

	if (fd < 0)
		return -errno;
	if (!ioctl(fd, UFFDIO_API, &api))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

bool fill_uffd_probe(void)
{
	const char *env = getenv("CRIU_FILL_UFFD");	/* a knob for the benchmarks and tests: 0 is pread() for all */
	int fd;

	if (env && !strcmp(env, "0")) {
		pr_info("CRIU_FILL_UFFD=0: the stubs pread() every VMA's pages\n");
		return false;
	}
	if (thp_always()) {
		pr_info("transparent huge pages always on: the stubs pread() every VMA's pages (huge ones come back)\n");
		return false;
	}
	fd = uffd_open();
	if (fd < 0) {
		pr_info("no userfaultfd for the fill (%s): the stubs pread() every VMA's pages\n", strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

/* Register v with the stub's userfaultfd (opened at the first): true when UFFDIO_COPY fills it. */
static bool uffd_register(struct rst_ctx *ctx, struct fill_job *j, const VmaEntry *v)
{
	struct uffdio_register r = { .range = { v->start, v->end - v->start }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_range u = r.range;
	struct fill_reg *n;

	if (!ctx->fill_uffd || !(v->status & VMA_ANON_PRIVATE) || (v->status & VMA_FILE_PRIVATE))
		return false;
	if (j->uffd == -1) {
		j->uffd = uffd_open();
		if (j->uffd < 0) {
			pr_info("task %d: no userfaultfd (%s): its pages are read with pread()\n", j->me->pid,
				strerror(-j->uffd));
			j->uffd = -2;	/* not again */
		}
	}
	if (j->uffd < 0)
		return false;
	n = xrealloc(j->regs, (j->nr_regs + 1) * sizeof(*n));
	if (!n)
		return false;	/* pread(): slower, not wrong */
	j->regs = n;
	if (ioctl(j->uffd, UFFDIO_REGISTER, &r)) {
		pr_debug("task %d: %#" PRIx64 " can't be registered (%s): pread()\n", j->me->pid, v->start,
			 strerror(errno));
		return false;
	}
	if (!(r.ioctls & (1ULL << _UFFDIO_COPY))) {
		ioctl(j->uffd, UFFDIO_UNREGISTER, &u);
		return false;
	}
	j->regs[j->nr_regs++] = (struct fill_reg){ v->start, v->end - v->start };
	return true;
}

/* Drop every registration (the VMAs' flags as they were, neighbours merged again) and the userfaultfd. */
static int uffd_close(struct fill_job *j)
{
	int ret = 0;

	for (size_t i = 0; i < j->nr_regs; i++) {
		struct uffdio_range u = { j->regs[i].start, j->regs[i].len };

		if (ioctl(j->uffd, UFFDIO_UNREGISTER, &u) && !ret)
			ret = pr_fail_errno("task %d: can't unregister %#" PRIx64 " from its userfaultfd", j->me->pid,
					    j->regs[i].start);
	}
	if (j->uffd >= 0)
		close(j->uffd);
	j->uffd = -1;
	free(j->regs);
	j->regs = NULL;
	j->nr_regs = 0;
	return ret;
}

static int open_pages(struct rst_ctx *ctx, const struct rst_mem *mem)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%d/fd/%d", ctx->ctl_pid, mem->pages_fd);
	fd = openat(ctx->proc_fd, path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Offset in the pages image of each run of mem (a run that is not present has none). */
static uint64_t *pme_offsets(const struct rst_mem *mem)
{
	uint64_t *off = xmalloc((mem->nr_pmes ?: 1) * sizeof(*off)), o = 0;

	for (size_t i = 0; off && i < mem->nr_pmes; i++) {
		const PagemapEntry *pe = mem->pmes[i];

		off[i] = o;
		if (!pe->has_flags || (pe->flags & PE_PRESENT))
			o += (uint64_t)pe->nr_pages * PAGE_SIZE;
	}
	return off;
}

int stub_fill_self(struct rst_ctx *ctx, struct pstree_item *me)
{
	const struct rst_mem *mem = rsti(me)->mem.mm ? &rsti(me)->mem : NULL;
	struct fill_job j = { .ctx = ctx, .me = me, .pages_fd = -1, .uffd = -1 };
	uint64_t *pme_off;
	size_t nr_built = 0, nr_uffd;
	int ret = 0;

	if (me->state == TASK_DEAD || !mem || !mem->cow || mem->pages_fd < 0)
		return 0;
	pme_off = pme_offsets(mem);
	if (!pme_off)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < mem->mm->n_vmas; i++) {
		const VmaEntry *v = mem->mm->vmas[i];

		if (mem->cow[i] != COW_SELF)
			continue;
		ret = cow_map_vma(ctx, me, ctx->proc_fd, v);
		if (ret > 0) {
			ret = 0;	/* its place is taken here: the morph restores it */
			continue;
		}
		if (!ret)
			ret = chunks_of_vma(&j, mem, pme_off, v, uffd_register(ctx, &j, v));
		if (!ret) {
			mem->cow[i] = COW_KEPT;
			nr_built++;
		}
	}
	free(pme_off);
	if (!ret && j.nr) {
		j.pages_fd = open_pages(ctx, mem);
		if (j.pages_fd < 0)
			ret = pr_fail(j.pages_fd, "task %d: can't open its pages image: %s\n", me->pid,
				      strerror(-j.pages_fd));
	}
	if (!ret && j.nr && fstat(j.pages_fd, &j.img))
		ret = pr_fail_errno("task %d: can't stat its pages image", me->pid);
	/* the CRCs are noted only when some pages image waits for them */
	if (!ret && j.nr && ctx->pages_crc.log)
		j.crc_log = ctx->pages_crc.log;
	if (!ret && j.nr)
		ret = run_workers(&j);
	nr_uffd = j.nr_regs;
	if (j.uffd != -1) {
		int r = uffd_close(&j);

		ret = ret ?: r;
	}
	if (j.pages_fd >= 0)
		close(j.pages_fd);
	if (!ret)
		pr_debug("task %d: %zu VMAs built in the stub (%zu with UFFDIO_COPY), %zu chunks\n", me->pid, nr_built,
			 nr_uffd, j.nr);
	free(j.chunks);
	return ret;
}
