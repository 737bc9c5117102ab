// SPDX-License-Identifier: GPL-2.0
/*
 * Pages a parent shares copy-on-write with a forked child stay shared after
 * restore.
 *
 * The images hold such a page twice (in the parent's pagemap and in the
 * child's); the morph alone would give each task a copy. So the stubs build
 * that memory themselves, before they fork, and fork passes it on:
 *
 *  - before the first fork the controller marks (cow_plan()) each private VMA
 *    of a task that one of its live children has too (same range, kind,
 *    flags, file and offset), when both have pages in it: COW_PLAN;
 *  - a stub, before it forks its children (cow_stub_prepare()), first settles
 *    what it inherited from its parent stub: a VMA the parent kept that this
 *    task has too, with pages, gets only the pages whose dumped content
 *    differs from the inherited one written (the others stay shared), and
 *    the pages it has none of dropped (MADV_DONTNEED); every other inherited
 *    VMA is unmapped. Then it maps its own marked VMAs at their dumped place
 *    (MAP_FIXED_NOREPLACE: one that meets the stub's own memory, a copy of
 *    criu's, is skipped and restored the usual way, unshared) and reads its
 *    pages into them from the pages image;
 *  - each VMA so built is COW_KEPT in a table shared with the controller: the
 *    morph (mem-restore.c) leaves it mapped and filled, and only puts its
 *    protection and advice back.
 *
 * Sharing is found by content, as CRIU does: equal pages of a parent and a
 * child are shared after restore even if they were two copies before.
 */
#define LOG_PREFIX "cow: "
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "common.h"
#include "files.h"
#include "lazy-pages.h"
#include "rst-ctx.h"
#include "restore.h"
#include "syscalls.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "vma.pb-c.h"


/* The stub's stack (a copy of criu's) must keep room to grow: no VMA is built near it. */
#define STACK_ROOM_BELOW (64UL << 20)
#define STACK_ROOM_ABOVE (16UL << 20)
/* Pages compared per read of the pages image. */
#define CMP_CHUNK (64UL * PAGE_SIZE)

static bool cow_kind_ok(const VmaEntry *v)
{
	const uint32_t bad = VMA_AREA_VSYSCALL | VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_STACK | VMA_ANON_SHARED |
			     VMA_FILE_SHARED | VMA_AREA_SYSVIPC | VMA_AREA_SOCKET | VMA_AREA_AIORING |
			     VMA_AREA_SHSTK | VMA_AREA_GUARD | VMA_AREA_UPROBES | VMA_UNSUPP;

	if (!(v->status & VMA_AREA_REGULAR) || (v->status & bad))
		return false;
	if (!(v->status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE)))
		return false;
	if ((v->flags & MAP_TYPE) != MAP_PRIVATE || (v->flags & (MAP_GROWSDOWN | MAP_HUGETLB | MAP_LOCKED)))
		return false;
	return true;
}

static bool cow_same_vma(const VmaEntry *a, const VmaEntry *b)
{
	if (a->start != b->start || a->end != b->end || a->status != b->status || a->flags != b->flags)
		return false;
	if (a->status & VMA_FILE_PRIVATE)
		return a->shmid == b->shmid && a->pgoff == b->pgoff;
	return true;
}

/* The VMA of mm that starts at start (VMAs are sorted, validate_mem()), its index in *ret_idx. */
static const VmaEntry *vma_at(const MmEntry *mm, uint64_t start, size_t *ret_idx)
{
	size_t lo = 0, hi = mm->n_vmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid]->start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == mm->n_vmas || mm->vmas[lo]->start != start)
		return NULL;
	*ret_idx = lo;
	return mm->vmas[lo];
}

static bool task_has_mem(struct pstree_item *item)
{
	return item->state != TASK_DEAD && item->priv && rsti(item)->mem.mm;
}

static bool pages_alike(const struct rst_mem *a, const struct rst_mem *b, const VmaEntry *v);

/* Does one of item's live children have v too, with pages in it that look shared? */
static bool child_shares(struct pstree_item *item, const VmaEntry *v)
{
	struct pstree_item *c;

	list_for_each_entry(c, &item->children, sibling) {
		const struct rst_mem *cm = &rsti(c)->mem;
		const VmaEntry *cv;
		size_t idx;

		if (!task_has_mem(c))
			continue;
		cv = vma_at(cm->mm, v->start, &idx);
		if (cv && cow_same_vma(v, cv) && mem_vma_has_pages(cm, cv) && pages_alike(&rsti(item)->mem, cm, v))
			return true;
	}
	return false;
}

int cow_plan(struct rst_ctx *ctx)
{
	struct pstree *tree = &ctx->tree;
	struct pstree_item *item;
	size_t total = 0, off = 0, nr_plan = 0, nr_self = 0;
	void *p;

	for_each_pstree_item(tree, item)
		if (task_has_mem(item))
			total += rsti(item)->mem.mm->n_vmas;
	if (!total)
		return 0;
	ctx->cow_tbl_size = PAGE_ALIGN(total);
	p = mmap(NULL, ctx->cow_tbl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return pr_fail_errno("can't map the copy-on-write table");
	ctx->cow_tbl = p;

	for_each_pstree_item(tree, item) {
		struct rst_mem *mem = &rsti(item)->mem;

		if (!task_has_mem(item))
			continue;
		mem->cow = ctx->cow_tbl + off;
		off += mem->mm->n_vmas;
		for (size_t i = 0; i < mem->mm->n_vmas; i++) {
			const VmaEntry *v = mem->mm->vmas[i];

			/* pages on the source (dump --lazy-pages) can't be compared: the daemon fills them */
			if (!cow_kind_ok(v) || !mem_vma_has_pages(mem, v) || mem_vma_has_remote_pages(mem, v))
				continue;
			if (!list_empty(&item->children) && child_shares(item, v)) {
				mem->cow[i] = COW_PLAN;
				nr_plan++;
			} else if (!lazy_vma(ctx, mem, i)) {	/* a lazy one is the lazy-pages daemon's to fill */
				mem->cow[i] = COW_SELF;	/* mem-fill-stub.c */
				nr_self++;
			}
		}
	}
	pr_debug("%zu VMAs may share pages with a child, %zu are filled by their stub alone\n", nr_plan, nr_self);
	return 0;
}

void cow_reset(struct rst_ctx *ctx)
{
	if (ctx->cow_tbl)
		munmap(ctx->cow_tbl, ctx->cow_tbl_size);
	ctx->cow_tbl = NULL;
	ctx->cow_tbl_size = 0;
}

/* ------------------------------------------------------ in a stub */

/* What a stub needs while it builds its memory. */
struct cow_ctx {
	struct pstree_item *me;
	const struct rst_mem *mem;
	const struct rst_mem *parent;	/* the parent's images, when the parent kept VMAs */
	uint64_t *pme_off;		/* offset in the pages image of each of mem->pmes */
	int proc_fd;
	int pages_fd;			/* the stub's own fd of the pages image, -1 until needed */
	char *buf;			/* CMP_CHUNK bytes */
	unsigned long nr_same, nr_written;
};

/* Open a file of criu (one of its fds) in the stub, through its /proc. */
static int open_ctl_fd(struct rst_ctx *ctx, int proc_fd, int ctl_fd, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%d/fd/%d", ctx->ctl_pid, ctl_fd);
	fd = openat(proc_fd, path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int get_pages_fd(struct rst_ctx *ctx, struct cow_ctx *c)
{
	if (c->pages_fd >= 0)
		return c->pages_fd;
	if (c->mem->pages_fd < 0)
		return -EINVAL;
	c->pages_fd = open_ctl_fd(ctx, c->proc_fd, c->mem->pages_fd, O_RDONLY);
	if (c->pages_fd < 0)
		pr_err("task %d: can't open its pages image: %s\n", c->me->pid, strerror(-c->pages_fd));
	return c->pages_fd;
}

static int fill_pme_offsets(struct cow_ctx *c)
{
	uint64_t off = 0;

	c->pme_off = xmalloc((c->mem->nr_pmes ?: 1) * sizeof(*c->pme_off));
	if (!c->pme_off)
		return -ENOMEM;
	for (size_t i = 0; i < c->mem->nr_pmes; i++) {
		const PagemapEntry *pe = c->mem->pmes[i];

		c->pme_off[i] = off;
		if (!pe->has_flags || (pe->flags & PE_PRESENT))
			off += (uint64_t)pe->nr_pages * PAGE_SIZE;
	}
	return 0;
}

static bool pme_present(const PagemapEntry *pe)
{
	return !pe->has_flags || (pe->flags & PE_PRESENT);
}

/* Index of the first run of mem that ends after addr. */
static size_t first_pme_after(const struct rst_mem *mem, uint64_t addr)
{
	size_t lo = 0, hi = mem->nr_pmes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const PagemapEntry *pe = mem->pmes[mid];

		if (pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool page_present(const struct rst_mem *mem, uint64_t addr)
{
	size_t i = first_pme_after(mem, addr);

	return i < mem->nr_pmes && mem->pmes[i]->vaddr <= addr && pme_present(mem->pmes[i]);
}

/* Where the dumped page at addr is in mem's pages image; false when it has none. */
static bool page_offset(const struct rst_mem *mem, uint64_t addr, uint64_t *ret_off)
{
	uint64_t off = 0;

	for (size_t i = 0; i < mem->nr_pmes; i++) {
		const PagemapEntry *pe = mem->pmes[i];
		uint64_t end = pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE;

		if (addr < end && addr >= pe->vaddr) {
			*ret_off = off + (addr - pe->vaddr);
			return pme_present(pe);
		}
		if (pme_present(pe))
			off += end - pe->vaddr;
	}
	return false;
}

#define COW_SAMPLES 8

/*
 * Do a parent and a child share pages of v? The same VMA in both is not
 * enough: tasks that map alike after fork get the same addresses. A few pages
 * spread over v are compared in the images; none equal means the pages were
 * never shared (or no longer are): each task fills its own, without the
 * page-by-page comparison of a shared VMA.
 */
static bool pages_alike(const struct rst_mem *a, const struct rst_mem *b, const VmaEntry *v)
{
	uint64_t npages = (v->end - v->start) / PAGE_SIZE;
	char pa[PAGE_SIZE], pb[PAGE_SIZE];
	int compared = 0;

	if (a->pages_fd < 0 || b->pages_fd < 0)
		return false;
	for (int k = 0; k < COW_SAMPLES; k++) {
		uint64_t addr = v->start + npages * k / COW_SAMPLES * PAGE_SIZE, oa, ob;

		if (!page_offset(a, addr, &oa) || !page_offset(b, addr, &ob))
			continue;
		if (pread(a->pages_fd, pa, PAGE_SIZE, (off_t)oa) != PAGE_SIZE ||
		    pread(b->pages_fd, pb, PAGE_SIZE, (off_t)ob) != PAGE_SIZE)
			return true;	/* can't tell: the stubs compare every page */
		if (!memcmp(pa, pb, PAGE_SIZE))
			return true;
		compared++;
	}
	/* no sample hit pages both have: the stubs compare every page */
	return !compared;
}

/*
 * [addr, addr + len) gets its dumped pages (at off in the image) over an
 * inherited copy. A page the parent has too (its memory holds exactly its
 * dumped pages, by induction) is written only when it differs; any other is
 * written anyway: in a private file mapping that makes it the task's own
 * copy, not the file's page.
 */
static int settle_present(struct rst_ctx *ctx, struct cow_ctx *c, uint64_t addr, uint64_t len, uint64_t off)
{
	int fd = get_pages_fd(ctx, c);

	if (fd < 0)
		return fd;
	while (len) {
		size_t n = min(len, CMP_CHUNK);
		int ret = pread_exact(fd, c->buf, n, off);

		if (ret)
			return pr_fail(ret, "task %d: can't read its pages at %" PRIu64 ": %s\n", c->me->pid, off,
				       strerror(-ret));
		for (size_t k = 0; k < n; k += PAGE_SIZE) {
			char *page = (char *)(uintptr_t)(addr + k);

			if (page_present(c->parent, addr + k) && !memcmp(page, c->buf + k, PAGE_SIZE)) {
				c->nr_same++;
				continue;
			}
			memcpy(page, c->buf + k, PAGE_SIZE);
			c->nr_written++;
		}
		addr += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int drop_pages(struct cow_ctx *c, uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	if (madvise((void *)(uintptr_t)from, to - from, MADV_DONTNEED))
		return pr_fail_errno("task %d: madvise(DONTNEED) %#" PRIx64 "-%#" PRIx64 "", c->me->pid, from,
			       to);
	return 0;
}

/* An inherited VMA becomes the task's: its pages written where they differ, the others dropped. */
static int settle_vma(struct rst_ctx *ctx, struct cow_ctx *c, const VmaEntry *v)
{
	uint64_t cur = v->start;
	int ret = 0;

	for (size_t i = first_pme_after(c->mem, v->start); !ret && i < c->mem->nr_pmes; i++) {
		const PagemapEntry *pe = c->mem->pmes[i];
		uint64_t s = max(pe->vaddr, v->start);
		uint64_t e = min(pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE, v->end);

		if (s >= v->end)
			break;
		if (!pme_present(pe))
			continue;	/* a zero run: dropped with the gaps */
		ret = drop_pages(c, cur, s);
		if (!ret)
			ret = settle_present(ctx, c, s, e - s, c->pme_off[i] + (s - pe->vaddr));
		cur = e;
	}
	return ret ?: drop_pages(c, cur, v->end);
}

/* Read the dumped pages of v into a fresh mapping of it. */
static int fill_vma(struct rst_ctx *ctx, struct cow_ctx *c, const VmaEntry *v)
{
	int fd = get_pages_fd(ctx, c);

	if (fd < 0)
		return fd;
	for (size_t i = first_pme_after(c->mem, v->start); i < c->mem->nr_pmes; i++) {
		const PagemapEntry *pe = c->mem->pmes[i];
		uint64_t s = max(pe->vaddr, v->start);
		uint64_t e = min(pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE, v->end);
		int ret;

		if (s >= v->end)
			break;
		if (!pme_present(pe))
			continue;
		ret = pread_exact(fd, (void *)(uintptr_t)s, e - s, c->pme_off[i] + (s - pe->vaddr));
		if (ret)
			return pr_fail(ret, "task %d: can't read its pages for %#" PRIx64 ": %s\n", c->me->pid, s,
				       strerror(-ret));
	}
	return 0;
}

static bool near_stack(const VmaEntry *v)
{
	uint64_t sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);

	return v->start < sp + STACK_ROOM_ABOVE && v->end > sp - min(sp, STACK_ROOM_BELOW);
}

/*
 * The file of a private file VMA: criu's memfd itself when it was mapped
 * read-write (memfd_map_ctl_fd(): a reopen for writing would hold write
 * access to the inode, and execveat() of it would fail), else a reopen.
 */
static int open_vma_file(struct rst_ctx *ctx, struct cow_ctx *c, const VmaEntry *v, int ctl, int oflags)
{
	int own = oflags == O_RDWR && (v->status & VMA_AREA_MEMFD) ? memfd_map_ctl_fd(ctx, (uint32_t)v->shmid) : -1;
	int fd;

	if (own < 0)
		return open_ctl_fd(ctx, c->proc_fd, ctl, oflags);
	fd = sys_pidfd_getfd(ctx->ctl_pidfd, own, 0);
	return fd < 0 ? -errno : fd;
}

/* Map v at its dumped place in the stub; 1 when it can't go there (left to the morph). */
static int map_vma(struct rst_ctx *ctx, struct cow_ctx *c, const VmaEntry *v)
{
	return cow_map_vma(ctx, c->me, c->proc_fd, v);
}

int cow_map_vma(struct rst_ctx *ctx, struct pstree_item *me, int proc_fd, const VmaEntry *v)
{
	struct cow_ctx cc = { .me = me, .proc_fd = proc_fd }, *c = &cc;
	unsigned long len = v->end - v->start;
	unsigned long flags = (v->flags & ~(unsigned long)(MAP_FIXED | MAP_FIXED_NOREPLACE)) | MAP_FIXED_NOREPLACE;
	int fd = -1;
	void *p;

	if (near_stack(v))
		return 1;
	if (v->status & VMA_FILE_PRIVATE) {
		struct file_desc *d = find_file_desc(ctx, (uint32_t)v->shmid);
		int ctl = d ? file_desc_ctl_fd(ctx, d) : -1;
		int oflags = v->has_fdflags && (v->fdflags & O_ACCMODE) == O_RDWR ? O_RDWR : O_RDONLY;

		if (ctl < 0)
			return 1;
		fd = open_vma_file(ctx, c, v, ctl, oflags);
		if (fd < 0) {
			pr_debug("task %d: can't open the file of %#" PRIx64 ": %s\n", c->me->pid, v->start,
				 strerror(-fd));
			return 1;
		}
		flags &= ~(unsigned long)MAP_ANONYMOUS;
	} else {
		flags |= MAP_ANONYMOUS;
	}
	p = mmap((void *)(uintptr_t)v->start, len, PROT_READ | PROT_WRITE, (int)flags, fd, fd >= 0 ? (off_t)v->pgoff : 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		pr_debug("task %d: %#" PRIx64 "-%#" PRIx64 " can't be built in the stub: %s\n", c->me->pid, v->start,
			 v->end, strerror(errno));
		return 1;
	}
	if (p != (void *)(uintptr_t)v->start) {
		munmap(p, len);	/* a kernel that took MAP_FIXED_NOREPLACE as a hint */
		return 1;
	}
	return 0;
}

/* The VMAs the parent stub kept: settle those this task has, unmap the others. */
static int take_inherited(struct rst_ctx *ctx, struct cow_ctx *c, const struct rst_mem *pm)
{
	const struct rst_mem *mem = c->mem;

	for (size_t j = 0; j < pm->mm->n_vmas; j++) {
		const VmaEntry *pv = pm->mm->vmas[j], *v;
		size_t i;
		int ret;

		if (pm->cow[j] != COW_KEPT)
			continue;
		v = vma_at(mem->mm, pv->start, &i);
		if (!v || !cow_same_vma(pv, v) || !mem_vma_has_pages(mem, v)) {
			if (munmap((void *)(uintptr_t)pv->start, pv->end - pv->start))
				return pr_fail_errno("task %d: can't unmap %#" PRIx64 " of its parent",
					       c->me->pid, pv->start);
			continue;
		}
		ret = settle_vma(ctx, c, v);
		if (ret)
			return ret;
		mem->cow[i] = COW_KEPT;
	}
	return 0;
}

static int build_own(struct rst_ctx *ctx, struct cow_ctx *c)
{
	const struct rst_mem *mem = c->mem;

	for (size_t i = 0; i < mem->mm->n_vmas; i++) {
		const VmaEntry *v = mem->mm->vmas[i];
		int ret;

		if (mem->cow[i] != COW_PLAN)
			continue;
		ret = map_vma(ctx, c, v);
		if (ret > 0)
			continue;
		if (!ret)
			ret = fill_vma(ctx, c, v);
		if (ret)
			return ret;
		mem->cow[i] = COW_KEPT;
	}
	return 0;
}

int cow_stub_prepare(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct rst_info *ri = rsti(me);
	struct cow_ctx c = { .me = me, .mem = &ri->mem, .proc_fd = ctx->proc_fd, .pages_fd = -1 };
	const struct rst_mem *pm = me->parent ? &rsti(me->parent)->mem : NULL;
	int ret;

	if (!task_has_mem(me) || !ri->mem.cow)
		return 0;
	if (pm && !pm->cow)
		pm = NULL;
	c.parent = pm;
	c.buf = mmap(NULL, CMP_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.buf == MAP_FAILED)
		return pr_fail_errno("task %d: can't map a buffer", me->pid);
	ret = fill_pme_offsets(&c);
	if (!ret && pm)
		ret = take_inherited(ctx, &c, pm);
	/* the buffer goes first: it must not take the place of a VMA to build */
	munmap(c.buf, CMP_CHUNK);
	if (!ret)
		ret = build_own(ctx, &c);
	if (c.pages_fd >= 0)
		close(c.pages_fd);
	free(c.pme_off);
	if (!ret && (c.nr_same || c.nr_written))
		pr_debug("task %d: %lu inherited pages kept shared, %lu written\n", me->pid, c.nr_same, c.nr_written);
	return ret;
}
