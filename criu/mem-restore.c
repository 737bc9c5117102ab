// SPDX-License-Identifier: GPL-2.0
/*
 * Restore the address space of a stopped stub with remote syscalls: unmap the
 * stub's memory (all but the trampoline and the vdso), move the vdso block to
 * its dumped place, map every dumped VMA, fill the pages straight from the
 * pages image with a remote preadv (mem-fill.c), put the dumped protections
 * back and set the mm fields with PR_SET_MM_MAP.
 */
#define LOG_PREFIX "mem-rst: "
#include <fcntl.h>
#include <inttypes.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/prctl.h>

#include "aio.h"
#include "common.h"
#include "hugetlb.h"
#include "lazy-pages.h"
#include "proc_parse.h"
#include "restore.h"
#include "rst-ctx.h"
#include "compel/compel.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "vma.pb-c.h"


#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif
#define SCRATCH(tramp) ((tramp) + RST_SCRATCH_OFF)
#define SCRATCH_SIZE (RST_TRAMP_SIZE - RST_SCRATCH_OFF)

/* ------------------------------------------------------ remote helpers */

long rst_rsys(struct compel_rsys *rs, long nr, unsigned long a1, unsigned long a2, unsigned long a3,
	      unsigned long a4, unsigned long a5, unsigned long a6)
{
	long r;
	int err = compel_rsys(rs, &r, nr, a1, a2, a3, a4, a5, a6);

	if (err)
		return err;
	return r;
}

int rst_poke(struct compel_rsys *rs, unsigned long addr, const void *buf, size_t len)
{
	return compel_mem_write(rs->tid, rs->mem_fd, addr, buf, len);
}

/* ------------------------------------------------------ the stub's maps */

/* A stub's maps as they are now, read with proc_parse.c through its dir ("PID" or "self") in criu's /proc. */
int read_cur_maps(struct rst_ctx *ctx, const char *dir, struct cur_vma **ret, int *ret_nr)
{
	_cleanup_close_ int dfd = -1;
	struct proc_maps m = {};
	struct cur_vma *v;
	int err;

	dfd = openat(ctx->proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	err = parse_pid_maps(dfd, &m);
	if (err) {
		proc_maps_free(&m);
		return err;
	}
	v = xzalloc((m.nr ?: 1) * sizeof(*v));
	if (!v) {
		proc_maps_free(&m);
		return -ENOMEM;
	}
	for (int i = 0; i < m.nr; i++) {
		v[i].start = m.vmas[i].start;
		v[i].end = m.vmas[i].end;
		snprintf(v[i].name, sizeof(v[i].name), "%s", m.vmas[i].path);
	}
	*ret = v;
	*ret_nr = m.nr;
	proc_maps_free(&m);
	return 0;
}

bool is_vdso_name(const char *n)
{
	return !strcmp(n, "[vvar]") || !strcmp(n, "[vvar_vclock]") || !strcmp(n, "[vdso]");
}

/* ------------------------------------------------------ checks */

/* madvise() bits we put back (MADV_* numbers as bit positions, as in the image): all that dump records. */
static const int madv_ok[] = { MADV_SEQUENTIAL, MADV_RANDOM,	 MADV_DONTFORK,	  MADV_DONTDUMP,
			       MADV_MERGEABLE,	MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_WIPEONFORK };

static uint64_t madv_known_bits(void)
{
	uint64_t bits = 0;

	for (size_t k = 0; k < ARRAY_SIZE(madv_ok); k++)
		bits |= 1ULL << madv_ok[k];
	return bits;
}

static bool vma_is_vdso(const VmaEntry *v)
{
	return v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR);
}

static bool vma_skipped(const VmaEntry *v)
{
	/* an AIO ring has VMA_AREA_AIORING alone in CRIU's images */
	return (v->status & VMA_AREA_VSYSCALL) || !(v->status & (VMA_AREA_REGULAR | VMA_AREA_AIORING));
}

bool mem_range_free(const struct rst_mem *mem, unsigned long start, unsigned long end)
{
	if (!mem->mm)
		return true;
	for (size_t i = 0; i < mem->mm->n_vmas; i++) {
		const VmaEntry *v = mem->mm->vmas[i];

		if (v->status & VMA_AREA_VSYSCALL)
			continue;
		if (v->start < end && start < v->end)
			return false;
	}
	return true;
}

static const VmaEntry *find_vma(const MmEntry *mm, unsigned long addr)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->start <= addr && addr < mm->vmas[i]->end)
			return mm->vmas[i];
	return NULL;
}

int mem_skip_vdso_pages(pid_t pid, const struct rst_mem *mem)
{
	for (size_t i = 0; i < mem->nr_pmes; i++) {
		PagemapEntry *pe = mem->pmes[i];
		uint64_t end = pe->vaddr + pe->nr_pages * PAGE_SIZE;
		const VmaEntry *v = find_vma(mem->mm, pe->vaddr);

		if (!v || !vma_is_vdso(v))
			continue;
		if (end > v->end)
			return pr_fail(-EINVAL, "task %d: the pagemap entry at %#" PRIx64 " runs past the vdso\n", pid,
				       pe->vaddr);
		pe->flags |= PE_RST_SKIP;
	}
	return 0;
}

int validate_mem(pid_t pid, const struct rst_mem *mem)
{
	const MmEntry *mm = mem->mm;
	unsigned long prev_end = 0;
	int ret;

	if (!mm)
		return pr_fail(-EINVAL, "task %d: no mm image\n", pid);
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->start >= v->end || (v->start | v->end) & ~PAGE_MASK)
			return pr_fail(-EINVAL, "task %d: bad VMA %#" PRIx64 "-%#" PRIx64 "\n", pid, v->start, v->end);
		if (v->start < prev_end)
			return pr_fail(-EINVAL, "task %d: VMAs not sorted or overlapping at %#" PRIx64 "\n", pid,
				       v->start);
		prev_end = v->end;
		if (vma_skipped(v))
			continue;
		if (v->status & VMA_AREA_AIORING) {
			ret = aio_check_image(pid, mm, v);
			if (ret)
				return ret;
		}
		if (v->status & (VMA_AREA_SOCKET | VMA_UNSUPP))
			return pr_fail(-EOPNOTSUPP, "task %d: VMA %#" PRIx64 " of an unsupported kind (status %#x)\n",
				       pid, v->start, v->status);
		if ((v->flags & HUGETLB_MAP_MASK) && (v->flags & HUGETLB_MAP_MASK) != HUGETLB_MAP_FLAGS &&
		    (v->flags & HUGETLB_MAP_MASK) != MAP_HUGETLB)
			return pr_fail(-EOPNOTSUPP, "task %d: VMA %#" PRIx64 " has hugetlb pages of 2^%" PRIu64
				       " bytes, only 2 MiB ones are restored\n", pid, v->start,
				       (uint64_t)(v->flags >> MAP_HUGE_SHIFT) & 0x3f);
		if ((v->flags & MAP_HUGETLB) && ((v->start | v->end) & (HUGETLB_PAGE_SIZE - 1)))
			return pr_fail(-EINVAL, "task %d: hugetlb VMA %#" PRIx64 "-%#" PRIx64 " is not 2 MiB aligned\n",
				       pid, v->start, v->end);
		if (v->has_madv && (v->madv & ~madv_known_bits()))
			return pr_fail(-EOPNOTSUPP, "task %d: VMA %#" PRIx64 " has madvise bits %#" PRIx64 " we can't restore\n",
				       pid, v->start, v->madv & ~madv_known_bits());
	}
	ret = aio_check_entries(pid, mm);
	if (ret)
		return ret;
	prev_end = 0;
	for (size_t i = 0; i < mem->nr_pmes; i++) {
		const PagemapEntry *pe = mem->pmes[i];
		unsigned long end = pe->vaddr + (unsigned long)pe->nr_pages * PAGE_SIZE;
		const VmaEntry *v;

		if (pe->vaddr & ~PAGE_MASK || !pe->nr_pages || end < pe->vaddr)
			return pr_fail(-EINVAL, "task %d: bad pagemap entry %#" PRIx64 "\n", pid, pe->vaddr);
		if (pe->vaddr < prev_end)
			return pr_fail(-EINVAL, "task %d: pagemap entries not sorted or overlapping at %#" PRIx64 "\n",
				       pid, pe->vaddr);
		prev_end = end;
		if (pe->flags & PE_RST_SKIP)
			continue;
		/* a run of pages may span several adjacent VMAs */
		for (unsigned long a = pe->vaddr; a < end; a = v->end) {
			v = find_vma(mm, a);
			if (!v || vma_skipped(v) || vma_is_vdso(v))
				return pr_fail(-EINVAL, "task %d: pages at %#lx lie outside the dumped VMAs\n", pid, a);
		}
	}
	if (mem->nr_pmes && mem->pages_fd < 0)
		return pr_fail(-EINVAL, "task %d: pagemap without a pages image\n", pid);
	return 0;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/*
 * CRIU keeps the runs of MADV_GUARD_INSTALL markers as VMA entries of
 * status VMA_AREA_GUARD, after the real ones: no mapping stands behind
 * them. They are moved to the end of mm->vmas (in place: the MmEntry still
 * owns them) and counted out of n_vmas, so that everything else sees the
 * real VMAs only; each run must lie inside one real VMA.
 */
int mem_split_guards(pid_t pid, struct rst_mem *mem)
{
	MmEntry *mm = mem->mm;
	size_t n = 0, g = 0;
	VmaEntry **guards;

	guards = malloc((mm->n_vmas + 1) * sizeof(*guards));
	if (!guards)
		return -ENOMEM;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		if (mm->vmas[i]->status == VMA_AREA_GUARD)
			guards[g++] = mm->vmas[i];
		else
			mm->vmas[n++] = mm->vmas[i];
	}
	memcpy(&mm->vmas[n], guards, g * sizeof(*guards));
	free(guards);
	mm->n_vmas = n;
	mem->guards = &mm->vmas[n];
	mem->nr_guards = g;
	for (size_t i = 0; i < g; i++) {
		const VmaEntry *r = mem->guards[i];
		const VmaEntry *v = find_vma(mm, r->start);

		if (r->start >= r->end || (r->start | r->end) & ~PAGE_MASK || !v || r->end > v->end ||
		    vma_skipped(v) || vma_is_vdso(v) || (v->flags & MAP_HUGETLB))
			return pr_fail(-EINVAL, "task %d: guard pages %#" PRIx64 "-%#" PRIx64 " lie outside a VMA that can have them\n",
				       pid, r->start, r->end);
	}
	return 0;
}

void mem_join_guards(struct rst_mem *mem)
{
	if (mem->mm)
		mem->mm->n_vmas += mem->nr_guards;
	mem->guards = NULL;
	mem->nr_guards = 0;
}

/* After the pages are in (installing a guard would drop what is under it): each run again. */
static int install_guards(struct compel_rsys *rs, pid_t pid, const struct rst_mem *mem)
{
	for (size_t i = 0; i < mem->nr_guards; i++) {
		const VmaEntry *r = mem->guards[i];
		long ret = rst_rsys(rs, __NR_madvise, r->start, r->end - r->start, MADV_GUARD_INSTALL, 0, 0, 0);

		if (ret < 0)
			return pr_fail((int)ret, "%d: guard pages (MADV_GUARD_INSTALL) at %#" PRIx64 "-%#" PRIx64 ": %s\n",
				       pid, r->start, r->end, strerror((int)-ret));
	}
	return 0;
}

/* ------------------------------------------------------ steps */

#define USER_SPACE_END 0x7ffffffff000UL

/*
 * A VMA the stub built itself (mem-cow.c): mapped and filled already. It was
 * mapped read-write, as the morph maps every VMA that gets pages (such VMAs
 * always have some), so its accounting flag is the one the morph would give.
 */
static bool vma_kept(const struct rst_mem *mem, size_t i)
{
	return mem->cow && mem->cow[i] == COW_KEPT;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether anything of the stub is mapped in [from, to). */
static bool maps_overlap(const struct cur_vma *cur, int nr, unsigned long from, unsigned long to)
{
	for (int i = 0; i < nr; i++)
		if (cur[i].start < to && cur[i].end > from)
			return true;
	return false;
}

int stub_gaps(const struct rst_mem *mem, unsigned long tramp, const struct cur_vma *cur, int nr,
	      const struct range *extra, int n_extra, struct range **gaps)
{
	_cleanup_free_ struct range *keep = NULL;
	struct range *out;
	unsigned long from = 0;
	int nk = 0, ng = 0;

	keep = xmalloc((nr + mem->mm->n_vmas + n_extra + 1) * sizeof(*keep));
	out = xmalloc((nr + mem->mm->n_vmas + n_extra + 2) * sizeof(*out));
	if (!keep || !out) {
		free(out);
		return -ENOMEM;
	}
	for (int i = 0; i < nr; i++) {
		bool tr = cur[i].start >= tramp && cur[i].end <= tramp + RST_TRAMP_SIZE;

		if (tr || is_vdso_name(cur[i].name))
			keep[nk++] = (struct range){ cur[i].start, cur[i].end };
	}
	for (size_t i = 0; i < mem->mm->n_vmas; i++)
		if (vma_kept(mem, i))
			keep[nk++] = (struct range){ mem->mm->vmas[i]->start, mem->mm->vmas[i]->end };
	for (int i = 0; i < n_extra; i++)
		keep[nk++] = extra[i];
	qsort(keep, nk, sizeof(*keep), cmp_range);
	for (int k = 0; k <= nk; k++) {
		unsigned long to = k < nk ? keep[k].start : USER_SPACE_END;

		if (to > from && (!cur || maps_overlap(cur, nr, from, to)))
			out[ng++] = (struct range){ from, to };
		if (k < nk)
			from = max(from, keep[k].end);
	}
	*gaps = out;
	return ng;
}

/*
 * Unmap what is left of the stub: it unmapped criu's memory itself before it
 * parked (stub-unmap.c), so usually nothing (its rseq page when it could not
 * unregister it; all of criu when it could not unmap): a remote call per gap.
 */
static int unmap_stub(struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem,
		      const struct cur_vma *cur, int nr)
{
	_cleanup_free_ struct range *gaps = NULL;
	int ng = stub_gaps(mem, tramp, cur, nr, NULL, 0, &gaps);

	if (ng < 0)
		return ng;
	for (int g = 0; g < ng; g++) {
		long r = rst_rsys(rs, __NR_munmap, gaps[g].start, gaps[g].end - gaps[g].start, 0, 0, 0, 0);

		if (r < 0)
			return pr_fail((int)r, "%d: munmap %#lx-%#lx: %s\n", pid, gaps[g].start, gaps[g].end,
				       strerror((int)-r));
	}
	return 0;
}

static int mremap_remote(struct compel_rsys *rs, unsigned long from, unsigned long len, unsigned long to)
{
	long r = rst_rsys(rs, __NR_mremap, from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to, 0);

	if (r < 0)
		return (int)r;
	return r == (long)to ? 0 : -EFAULT;
}

/*
 * [vvar], [vvar_vclock] and [vdso] reach each other by fixed offsets: they
 * move together, by one delta, to where the dump had them.
 */
static int move_vdso(struct compel_rsys *rs, pid_t pid, unsigned long tramp, const MmEntry *mm,
		     struct cur_vma *cur, int nr)
{
	const VmaEntry *dumped[4];
	struct cur_vma *mine[4];
	int nd = 0, nm = 0, ret;
	long delta;

	for (int i = 0; i < nr; i++)
		if (is_vdso_name(cur[i].name)) {
			if (nm == 4)
				return pr_fail(-EINVAL, "%d: too many vdso areas\n", pid);
			mine[nm++] = &cur[i];
		}
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (vma_is_vdso(mm->vmas[i])) {
			if (nd == 4)
				return pr_fail(-EINVAL, "too many vdso/vvar VMAs in the image\n");
			dumped[nd++] = mm->vmas[i];
		}

	if (!nd) {
		/* the dumped task had no vdso: drop ours */
		for (int i = 0; i < nm; i++) {
			long r = rst_rsys(rs, __NR_munmap, mine[i]->start, mine[i]->end - mine[i]->start, 0, 0, 0, 0);

			if (r < 0)
				return pr_fail((int)r, "%d: can't unmap %s\n", pid, mine[i]->name);
		}
		return 0;
	}
	if (!nm)
		goto mismatch;
	delta = (long)(dumped[0]->start - mine[0]->start);
	/*
	 * Each dumped area is tiled by ours, moved by delta: CRIU dumps
	 * [vvar] and [vvar_vclock] as one VVAR area, and so do we.
	 */
	for (int i = 0, j = 0; i < nd; i++) {
		unsigned long pos = dumped[i]->start - delta, end = dumped[i]->end - delta;

		while (j < nm && mine[j]->start == pos && mine[j]->end <= end)
			pos = mine[j++]->end;
		if (pos != end || (i == nd - 1 && j != nm))
			goto mismatch;
	}
	if (!delta)
		return 0;

	unsigned long lo = mine[0]->start, hi = mine[nm - 1]->end;
	unsigned long dlo = dumped[0]->start, dhi = dumped[nd - 1]->end;

	unsigned long base = lo;	/* where our block starts now */

	if (dlo < hi && lo < dlo + (hi - lo)) {
		/* the two places overlap: go through the hole next to the trampoline */
		unsigned long tmp = tramp + RST_TRAMP_SIZE;

		base = tmp;

		if (hi - lo > RST_TRAMP_RESERVE - RST_TRAMP_SIZE)
			return pr_fail(-E2BIG, "%d: the vdso block is too large to move\n", pid);
		for (int i = 0; i < nm; i++) {
			ret = mremap_remote(rs, mine[i]->start, mine[i]->end - mine[i]->start, tmp + (mine[i]->start - lo));
			if (ret)
				return pr_fail(ret, "%d: can't move %s aside\n", pid, mine[i]->name);
			mine[i]->end = tmp + (mine[i]->end - lo);
			mine[i]->start = tmp + (mine[i]->start - lo);
		}
	}
	for (int i = 0; i < nm; i++) {
		unsigned long to = dlo + (mine[i]->start - base);

		ret = mremap_remote(rs, mine[i]->start, mine[i]->end - mine[i]->start, to);
		if (ret)
			return pr_fail(ret, "%d: can't move %s to %#lx\n", pid, mine[i]->name, to);
	}
	pr_debug("%d: vdso block moved to %#lx-%#lx\n", pid, dlo, dhi);
	return 0;
mismatch:
	return pr_fail(-EINVAL, "%d: the dumped vdso/vvar layout does not match this kernel's\n", pid);
}


/*
 * Open a file in the task (its root, its cwd); returns the remote fd. /proc
 * paths go through the task's fd of /proc when it has one: a chroot()ed task
 * may have no /proc of its own.
 */
int rst_remote_open(struct rst_ctx *ctx, struct compel_rsys *rs, unsigned long tramp, const char *path, int flags)
{
	long dfd = AT_FDCWD;
	size_t len;
	long r;
	int ret;

	if (ctx->morph_proc_fd > 0 && !strncmp(path, "/proc/", 6)) {
		dfd = ctx->morph_proc_fd;
		path += 6;
	}
	len = strlen(path) + 1;

	if (len > SCRATCH_SIZE)
		return -ENAMETOOLONG;
	ret = rst_poke(rs, SCRATCH(tramp), path, len);
	if (ret)
		return ret;
	r = rst_rsys(rs, __NR_openat, dfd, SCRATCH(tramp), flags | O_CLOEXEC, 0, 0, 0);
	return (int)r;
}

static bool vma_fillable(const VmaEntry *v)
{
	/* a shared file mapping keeps its data in the file (a memfd too: criu/memfd.c refills it) */
	return !(v->status & VMA_FILE_SHARED);
}

static bool is_anon_shared(const VmaEntry *v)
{
	return (v->status & VMA_ANON_SHARED) && !(v->status & (VMA_FILE_SHARED | VMA_FILE_PRIVATE));
}

/* pmes are sorted (validate_mem()) */
/* The first run of mem that ends after addr. */
static size_t pme_after(const struct rst_mem *mem, uint64_t addr)
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

bool mem_vma_has_pages(const struct rst_mem *mem, const VmaEntry *v)
{
	size_t lo = pme_after(mem, v->start);

	for (; lo < mem->nr_pmes && mem->pmes[lo]->vaddr < v->end; lo++)
		if (!mem->pmes[lo]->has_flags || (mem->pmes[lo]->flags & PE_PRESENT) ||
		    pagemap_entry_remote(mem->pmes[lo]))
			return true;
	return false;
}

bool mem_vma_has_remote_pages(const struct rst_mem *mem, const VmaEntry *v)
{
	for (size_t i = pme_after(mem, v->start); i < mem->nr_pmes && mem->pmes[i]->vaddr < v->end; i++)
		if (pagemap_entry_remote(mem->pmes[i]))
			return true;
	return false;
}

/*
 * Mapped writable for the fill, then protected as dumped. Only VMAs that get
 * pages: an extra write permission changes the accounting flag of a private
 * mapping (VM_ACCOUNT), and with it which neighbours the kernel merges.
 */
static bool vma_needs_write(struct rst_ctx *ctx, const struct rst_mem *mem, const VmaEntry *v)
{
	if (v->prot & PROT_WRITE)
		return false;
	if (is_anon_shared(v))
		return true;	/* map_anon_shared(ctx) maps it writable */
	return vma_fillable(v) && mem_vma_has_pages(mem, v);
}

/*
 * The protection a VMA is mapped with, before the fill: shared anonymous
 * memory always gets read and write (the owner fills the object through it),
 * VMAs that get pages get write. protect_vmas(ctx) puts the dumped one back
 * wherever this differs from it.
 */
static unsigned int vma_map_prot(struct rst_ctx *ctx, const struct rst_mem *mem, const VmaEntry *v)
{
	if (is_anon_shared(v))
		return v->prot | PROT_READ | PROT_WRITE;
	if (vma_needs_write(ctx, mem, v))
		return v->prot | PROT_WRITE;
	return v->prot;
}

/* mmap() flags of a VMA: MAP_LOCKED comes after the fill (mlock_vmas()), it would fault everything in first. */
static unsigned long vma_map_flags(const VmaEntry *v)
{
	return (v->flags & ~(unsigned long)(MAP_FIXED_NOREPLACE | MAP_LOCKED)) | MAP_FIXED;
}

/*
 * The file of the last file VMA stays open in the task: the VMAs of one file
 * (text, data, bss of a library) usually follow each other.
 */
struct open_file_cache {
	int fd;			/* in the task, -1: none */
	uint64_t id;
	int oflags;
};

static void cache_drop(struct compel_rsys *rs, struct open_file_cache *c)
{
	if (c->fd >= 0)
		rst_rsys(rs, __NR_close, c->fd, 0, 0, 0, 0, 0);
	c->fd = -1;
}

/*
 * A read-write mapping of a file whose open file criu holds itself (a memfd's:
 * a reopen for writing would hold write access to the inode) gets that open
 * file, with pidfd_getfd() in the task; -ENOENT: any other file, opened by path.
 */
static int take_own_file(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, const struct rst_mem *mem, const VmaEntry *v,
			 int oflags)
{
	int cfd;
	long r;

	if (oflags != O_RDWR || !(v->status & VMA_AREA_MEMFD) || !mem->file_own_fd)
		return -ENOENT;
	cfd = mem->file_own_fd(ctx, (uint32_t)v->shmid);
	if (cfd < 0)
		return -ENOENT;
	if (mem->remote_ctl_pidfd <= 0)
		return pr_fail(-EBADF, "%d: no pidfd of criu to map the memfd of VMA %#" PRIx64 "\n", pid, v->start);
	r = rst_rsys(rs, __NR_pidfd_getfd, mem->remote_ctl_pidfd, cfd, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: can't take criu's memfd for VMA %#" PRIx64 ": %s\n", pid, v->start,
			       strerror((int)-r));
	return (int)r;
}

static int vma_file_fd(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem,
		       const VmaEntry *v, struct open_file_cache *c)
{
	char path[4096];
	int oflags = O_RDONLY, ret, fd;

	if ((v->status & VMA_FILE_SHARED) && (v->prot & PROT_WRITE))
		oflags = O_RDWR;
	if (v->has_fdflags && (v->fdflags & O_ACCMODE) == O_RDWR)
		oflags = O_RDWR;
	if (c->fd >= 0 && c->id == v->shmid && c->oflags == oflags)
		return c->fd;
	cache_drop(rs, c);
	fd = take_own_file(ctx, rs, pid, mem, v, oflags);
	if (fd != -ENOENT) {
		if (fd >= 0)
			*c = (struct open_file_cache){ fd, v->shmid, oflags };
		return fd;
	}
	if (!mem->file_path)
		return pr_fail(-EOPNOTSUPP, "%d: no way to find the file of VMA %#" PRIx64 "\n", pid, v->start);
	/* CRIU's convention: a file VMA names its file (files.img id) in shmid */
	ret = mem->file_path(ctx, (uint32_t)v->shmid, path, sizeof(path));
	if (ret)
		return pr_fail(ret, "%d: no file %" PRIu64 " for VMA %#" PRIx64 "\n", pid, v->shmid, v->start);
	fd = rst_remote_open(ctx, rs, tramp, path, oflags);
	if (fd < 0)
		return pr_fail(fd, "%d: can't open %s for VMA %#" PRIx64 ": %s\n", pid, path, v->start, strerror(-fd));
	*c = (struct open_file_cache){ fd, v->shmid, oflags };
	return fd;
}

static int map_one_vma(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem,
		       const VmaEntry *v, struct open_file_cache *c)
{
	unsigned long len = v->end - v->start;
	unsigned int prot = vma_map_prot(ctx, mem, v);	/* pages go in first, the dumped prot comes later */
	unsigned long flags = vma_map_flags(v);
	int fd = -1;
	long r;

	if (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) {
		fd = vma_file_fd(ctx, rs, pid, tramp, mem, v, c);
		if (fd < 0)
			return fd;
		flags &= ~(unsigned long)MAP_ANONYMOUS;
	} else {
		flags |= MAP_ANONYMOUS;
	}

	r = rst_rsys(rs, __NR_mmap, v->start, len, prot, flags, (unsigned long)fd, fd >= 0 ? v->pgoff : 0);
	if (r < 0)
		return pr_fail((int)r, "%d: mmap %#" PRIx64 "-%#" PRIx64 " prot %#x flags %#lx: %s\n", pid, v->start,
			       v->end, prot, flags, strerror((int)-r));
	if ((unsigned long)r != v->start)
		return pr_fail(-EFAULT, "%d: VMA %#" PRIx64 " mapped at %#lx\n", pid, v->start, r);
	return 0;
}

/*
 * Shared anonymous memory: one shmem object per dumped shmid. The first task
 * that maps it creates it at its full size at a free address, fills it from
 * pagemap-shmem-<shmid>.img, moves its own window to the dumped place and drops
 * the rest; every later mapping of that object (in any task) opens the
 * owner's /proc/PID/map_files entry, which is the same object, and maps it
 * MAP_SHARED at its offset. The table lives in criu for one restore.
 */
struct shmem_obj {
	uint64_t shmid;
	uint64_t size;			/* bytes: the largest pgoff + length seen */
	struct PagemapEntry **pmes;	/* offsets in the object */
	size_t nr_pmes;
	int pages_fd;			/* criu's fd of the pages image, -1 when no pages */
	pid_t owner;			/* 0 until created */
	unsigned long owner_start, owner_end;
};

static struct shmem_obj *shmem_find_obj(struct rst_ctx *ctx, uint64_t shmid)
{
	for (size_t i = 0; i < ctx->nr_shmems; i++)
		if (ctx->shmems[i].shmid == shmid)
			return &ctx->shmems[i];
	return NULL;
}

int restore_shmem_add(struct rst_ctx *ctx, uint64_t shmid, uint64_t size, struct PagemapEntry **pmes, size_t nr_pmes, int pages_fd)
{
	struct shmem_obj *o = shmem_find_obj(ctx, shmid), *n;

	if (o) {
		o->size = max(o->size, size);
		return 0;
	}
	n = xrealloc(ctx->shmems, (ctx->nr_shmems + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->shmems = n;
	ctx->shmems[ctx->nr_shmems++] = (struct shmem_obj){ shmid, size, pmes, nr_pmes, pages_fd, 0, 0, 0 };
	for (size_t i = 0; i < nr_pmes; i++) {
		uint64_t end = pmes[i]->vaddr + (uint64_t)pmes[i]->nr_pages * PAGE_SIZE;

		if (pmes[i]->vaddr & ~PAGE_MASK || end < pmes[i]->vaddr)
			return pr_fail(-EINVAL, "pagemap-shmem-%" PRIu64 ".img: bad entry at %#" PRIx64 "\n", shmid,
				       pmes[i]->vaddr);
		ctx->shmems[ctx->nr_shmems - 1].size = max(ctx->shmems[ctx->nr_shmems - 1].size, end);
	}
	return 0;
}

/*
 * An address range for a temporary mapping: free of every dumped VMA of the
 * task (so of everything mapped in it now but the trampoline) and of the
 * trampoline's reservation.
 */
static unsigned long temp_area(const struct rst_mem *mem, unsigned long tramp, unsigned long size)
{
	/* 2 MiB aligned: hugetlb memory is built there too */
	for (unsigned long a = ALIGN_UP(tramp + RST_TRAMP_RESERVE + (1UL << 20), HUGETLB_PAGE_SIZE); a < (1UL << 47) - size;
	     a += 1UL << 30)
		if (mem_range_free(mem, a, a + size))
			return a;
	return 0;
}

static int create_shmem(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem,
			struct shmem_obj *o, const VmaEntry *v)
{
	/* hugetlb memory (MAP_HUGETLB): an object of whole huge pages */
	unsigned long huge = v->flags & MAP_HUGETLB ? HUGETLB_MAP_FLAGS : 0;
	unsigned long len = v->end - v->start, size = ALIGN_UP(o->size, huge ? HUGETLB_PAGE_SIZE : PAGE_SIZE);
	unsigned long hint = temp_area(mem, tramp, size);
	long a0, r;
	int ret;

	/* at a place no dumped VMA uses, so that the window can move anywhere */
	if (!hint)
		return pr_fail(-ENOMEM, "%d: no room to build shared memory %" PRIu64 "\n", pid, o->shmid);
	a0 = rst_rsys(rs, __NR_mmap, hint, size, vma_map_prot(ctx, mem, v),
		      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | huge, (unsigned long)-1, 0);
	if (a0 < 0)
		return pr_fail((int)a0, "%d: can't create shared memory %" PRIu64 " (%lu bytes): %s\n", pid, o->shmid,
			       size, strerror((int)-a0));
	ret = rst_fill_from_image(ctx, rs, pid, tramp, o->pmes, o->nr_pmes, o->pages_fd, (unsigned long)a0, NULL, 0);
	if (ret)
		return ret;
	r = rst_rsys(rs, __NR_mremap, a0 + v->pgoff, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0);
	if (r != (long)v->start)
		return pr_fail(r < 0 ? (int)r : -EFAULT, "%d: can't move shared memory to %#" PRIx64 "\n", pid,
			       v->start);
	/* drop what is left of the temporary mapping: the object keeps its size */
	if (v->pgoff)
		rst_rsys(rs, __NR_munmap, a0, v->pgoff, 0, 0, 0, 0);
	if (v->pgoff + len < size)
		rst_rsys(rs, __NR_munmap, a0 + v->pgoff + len, size - v->pgoff - len, 0, 0, 0, 0);
	o->owner = pid;
	o->owner_start = v->start;
	o->owner_end = v->end;
	return 0;
}

static int map_anon_shared(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem,
			   const VmaEntry *v)
{
	struct shmem_obj *o = shmem_find_obj(ctx, v->shmid);
	unsigned long len = v->end - v->start;
	char path[96];
	int fd;
	long r;

	if (!o)
		return pr_fail(-EINVAL, "%d: shared memory %" PRIu64 " has no image\n", pid, v->shmid);
	if (v->pgoff + len > PAGE_ALIGN(o->size))
		return pr_fail(-EINVAL, "%d: shared VMA %#" PRIx64 " lies past the end of its object\n", pid,
			       v->start);
	if (!o->owner)
		return create_shmem(ctx, rs, pid, tramp, mem, o, v);

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", o->owner, o->owner_start, o->owner_end);
	fd = rst_remote_open(ctx, rs, tramp, path, O_RDWR);
	if (fd < 0)
		return pr_fail(fd, "%d: can't open the shared memory of %d at %#lx: %s\n", pid, o->owner,
			       o->owner_start, strerror(-fd));
	r = rst_rsys(rs, __NR_mmap, v->start, len, vma_map_prot(ctx, mem, v), MAP_SHARED | MAP_FIXED, fd, v->pgoff);
	rst_rsys(rs, __NR_close, fd, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: mmap shared %#" PRIx64 ": %s\n", pid, v->start, strerror((int)-r));
	return 0;
}

/* Where the mapping at start ends in the task now (criu's /proc), or -errno. */
static long mapping_end(struct rst_ctx *ctx, pid_t pid, unsigned long start)
{
	struct proc_maps maps = {};
	char name[16];
	long end = -ENOENT;
	int dfd, ret;

	snprintf(name, sizeof(name), "%d", pid);
	dfd = openat(ctx->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	ret = parse_pid_maps(dfd, &maps);
	close(dfd);
	for (int i = 0; !ret && i < maps.nr; i++)
		if (maps.vmas[i].start == start)
			end = maps.vmas[i].end;
	proc_maps_free(&maps);
	return ret ?: end;
}

/*
 * A SysV shm attachment: shmat() in the task, which is in the restored IPC
 * namespace where the segment is back with its id (ipc_ns.c). shmat() maps
 * the whole segment: what lies past the dumped VMA (a tail the task
 * unmapped) is unmapped again.
 */
static int map_sysv(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, const VmaEntry *v)
{
	unsigned long flags = (v->prot & PROT_WRITE ? 0 : SHM_RDONLY) | (v->prot & PROT_EXEC ? SHM_EXEC : 0);
	long r, end;

	r = rst_rsys(rs, __NR_shmat, v->shmid, v->start, flags, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: can't attach SysV shm segment %" PRIu64 " at %#" PRIx64 ": %s\n", pid,
			       v->shmid, v->start, strerror((int)-r));
	if ((unsigned long)r != v->start)
		return pr_fail(-EFAULT, "%d: SysV shm segment %" PRIu64 " attached at %#lx\n", pid, v->shmid, r);
	end = mapping_end(ctx, pid, v->start);
	if (end < 0)
		return pr_fail((int)end, "%d: can't find SysV shm segment %" PRIu64 " in its maps: %s\n", pid,
			       v->shmid, strerror((int)-end));
	if ((unsigned long)end < v->end)
		return pr_fail(-EINVAL, "%d: SysV shm segment %" PRIu64 " ends at %#lx, its VMA at %#" PRIx64 "\n", pid,
			       v->shmid, end, v->end);
	if ((unsigned long)end > v->end) {
		r = rst_rsys(rs, __NR_munmap, v->end, end - v->end, 0, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: can't unmap the tail of SysV shm segment %" PRIu64 ": %s\n", pid,
				       v->shmid, strerror((int)-r));
	}
	return 0;
}

static int fill_pages(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem)
{
	_cleanup_free_ struct range *skip = NULL;
	int nr = 0;

	for (size_t i = 0; i < mem->mm->n_vmas; i++) {
		/* built by the stub, or left to the lazy-pages daemon (lazy-restore.c) */
		if (!vma_kept(mem, i) && !lazy_vma(ctx, mem, i))
			continue;
		if (!skip) {
			skip = xmalloc(mem->mm->n_vmas * sizeof(*skip));
			if (!skip)
				return -ENOMEM;
		}
		skip[nr++] = (struct range){ mem->mm->vmas[i]->start, mem->mm->vmas[i]->end };
	}
	return rst_fill_from_image(ctx, rs, pid, tramp, mem->pmes, mem->nr_pmes, mem->pages_fd, 0, skip, nr);
}

/*
 * A lazy VMA that protect_vmas() makes read-only: mprotect() drops the
 * accounting (VM_ACCOUNT, `ac` in VmFlags) of a private anonymous VMA that
 * was never faulted in (no anon_vma yet), and its pages only come later from
 * the lazy-pages daemon. The dumped VMA had them, so it had an anon_vma: one
 * byte written here and the whole VMA dropped again (MADV_DONTNEED: the write
 * may have faulted in a huge page, not just a page) gives it one, with no page
 * left in it; the daemon fills every page as before.
 */
static int keep_lazy_accounting(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, const struct rst_mem *mem)
{
	static const char zero;

	for (size_t i = 0; i < mem->mm->n_vmas; i++) {
		const VmaEntry *v = mem->mm->vmas[i];
		long r;
		int ret;

		if (!lazy_vma(ctx, mem, i) || (v->prot & PROT_WRITE) || !vma_needs_write(ctx, mem, v))
			continue;
		ret = rst_poke(rs, v->start, &zero, 1);
		if (ret)
			return pr_fail(ret, "%d: can't touch lazy VMA %#" PRIx64 ": %s\n", pid, v->start, strerror(-ret));
		r = rst_rsys(rs, __NR_madvise, v->start, v->end - v->start, MADV_DONTNEED, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: madvise(MADV_DONTNEED) of lazy VMA %#" PRIx64 ": %s\n", pid, v->start,
				       strerror((int)-r));
	}
	return 0;
}

static int protect_vmas(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, const struct rst_mem *mem)
{
	const MmEntry *mm = mem->mm;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		long r;

		if (vma_skipped(v) || vma_is_vdso(v))
			continue;
		/* a VMA the stub built is mapped read-write */
		if ((vma_kept(mem, i) ? (unsigned int)(PROT_READ | PROT_WRITE) : vma_map_prot(ctx, mem, v)) == v->prot)
			continue;
		r = rst_rsys(rs, __NR_mprotect, v->start, v->end - v->start, v->prot, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: mprotect %#" PRIx64 " to %#x: %s\n", pid, v->start, v->prot,
				       strerror((int)-r));
	}
	return 0;
}

/* mlock() what was locked, now that its pages are in and its prot is the dumped one. */
static int mlock_vmas(struct compel_rsys *rs, pid_t pid, const MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		long r;

		if (!(v->flags & MAP_LOCKED) || vma_skipped(v) || vma_is_vdso(v))
			continue;
		r = rst_rsys(rs, __NR_mlock, v->start, v->end - v->start, 0, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: mlock %#" PRIx64 "-%#" PRIx64 ": %s\n", pid, v->start, v->end,
				       strerror((int)-r));
	}
	return 0;
}

static int advise_vmas(struct compel_rsys *rs, pid_t pid, const MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (!v->has_madv || !v->madv || vma_skipped(v) || vma_is_vdso(v))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(madv_ok); k++) {
			long r;

			if (!(v->madv & (1ULL << madv_ok[k])))
				continue;
			r = rst_rsys(rs, __NR_madvise, v->start, v->end - v->start, madv_ok[k], 0, 0, 0);
			if (r < 0)
				return pr_fail((int)r, "%d: madvise(%d) at %#" PRIx64 ": %s\n", pid, madv_ok[k],
					       v->start, strerror((int)-r));
		}
	}
	return 0;
}

static int set_mm_fields(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem)
{
	const MmEntry *mm = mem->mm;
	struct prctl_mm_map map = {
		.start_code = mm->mm_start_code,
		.end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data,
		.end_data = mm->mm_end_data,
		.start_stack = mm->mm_start_stack,
		.start_brk = mm->mm_start_brk,
		.brk = mm->mm_brk,
		.arg_start = mm->mm_arg_start,
		.arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start,
		.env_end = mm->mm_env_end,
		.exe_fd = (uint32_t)-1,
	};
	unsigned long auxv_addr = SCRATCH(tramp) + 512;
	int exe_fd = -1, ret;
	long r;

	if (mm->n_mm_saved_auxv) {
		size_t sz = mm->n_mm_saved_auxv * sizeof(uint64_t);

		if (sz > 2048)
			return pr_fail(-EINVAL, "%d: saved auxv too long (%zu entries)\n", pid, mm->n_mm_saved_auxv);
		ret = rst_poke(rs, auxv_addr, mm->mm_saved_auxv, sz);
		if (ret)
			return ret;
		map.auxv = (__u64 *)auxv_addr;
		map.auxv_size = sz;
	}
	if (mem->file_path) {
		char path[4096];

		ret = mem->file_path(ctx, mm->exe_file_id, path, sizeof(path));
		if (!ret) {
			exe_fd = rst_remote_open(ctx, rs, tramp, path, O_RDONLY);
			if (exe_fd < 0)
				pr_warn("%d: can't open the exe %s: %s; /proc/PID/exe keeps criu's\n", pid, path,
					strerror(-exe_fd));
			else
				map.exe_fd = exe_fd;
		} else {
			pr_warn("%d: no exe file %u in the image\n", pid, mm->exe_file_id);
		}
	}
	ret = rst_poke(rs, SCRATCH(tramp), &map, sizeof(map));
	if (ret)
		return ret;
	r = rst_rsys(rs, __NR_prctl, PR_SET_MM, PR_SET_MM_MAP, SCRATCH(tramp), sizeof(map), 0, 0);
	if (exe_fd >= 0)
		rst_rsys(rs, __NR_close, exe_fd, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: prctl(PR_SET_MM_MAP): %s\n", pid, strerror((int)-r));

	/* the dumpable flag comes after the creds (morph.c): a uid change resets it */
	if (mm->has_thp_disabled && mm->thp_disabled) {
		unsigned long how = mm->has_thp_except_advised && mm->thp_except_advised ? PR_THP_DISABLE_EXCEPT_ADVISED : 0;

		r = rst_rsys(rs, __NR_prctl, PR_SET_THP_DISABLE, 1, how, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: PR_SET_THP_DISABLE: %s\n", pid, strerror((int)-r));
	}
	return 0;
}

int restore_mem(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t pid, unsigned long tramp, const struct rst_mem *mem)
{
	const MmEntry *mm = mem->mm;
	struct open_file_cache cache = { .fd = -1 };
	_cleanup_free_ struct cur_vma *cur = NULL;
	char dir[16];
	int nr, ret;

	ctx->morph_proc_fd = mem->remote_proc_fd;
	/*
	 * The stub's maps, read once: the unmap keeps its vdso block where it
	 * is, so the same list tells move_vdso() where that block is after it.
	 */
	snprintf(dir, sizeof(dir), "%d", pid);
	ret = read_cur_maps(ctx, dir, &cur, &nr);
	if (ret)
		ret = pr_fail(ret, "can't read the maps of %d\n", pid);
	if (!ret)
		ret = unmap_stub(rs, pid, tramp, mem, cur, nr);
	if (!ret)
		ret = move_vdso(rs, pid, tramp, mm, cur, nr);
	for (size_t i = 0; !ret && i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (vma_skipped(v) || vma_is_vdso(v) || vma_kept(mem, i))
			continue;
		if (v->status & VMA_AREA_SYSVIPC)
			ret = map_sysv(ctx, rs, pid, v);
		else if (is_anon_shared(v))
			ret = map_anon_shared(ctx, rs, pid, tramp, mem, v);
		else
			ret = map_one_vma(ctx, rs, pid, tramp, mem, v, &cache);
	}
	cache_drop(rs, &cache);
	if (!ret)
		ret = fill_pages(ctx, rs, pid, tramp, mem);
	/* each ring was mapped as plain memory and filled with the dumped one: made a ring again */
	if (!ret && mm->n_aios)
		ret = aio_restore_rings(rs, pid, SCRATCH(tramp), SCRATCH_SIZE, mm);
	if (!ret)
		ret = install_guards(rs, pid, mem);
	if (!ret)
		ret = keep_lazy_accounting(ctx, rs, pid, mem);
	if (!ret)
		ret = protect_vmas(ctx, rs, pid, mem);
	if (!ret)
		ret = mlock_vmas(rs, pid, mm);
	if (!ret)
		ret = advise_vmas(rs, pid, mm);
	if (!ret)
		ret = set_mm_fields(ctx, rs, pid, tramp, mem);
	ctx->morph_proc_fd = -1;
	return ret;
}

void restore_mem_reset(struct rst_ctx *ctx)
{
	free(ctx->shmems);
	ctx->shmems = NULL;
	ctx->nr_shmems = 0;
}
