// SPDX-License-Identifier: GPL-2.0
/*
 * Dump of a task's address space: the VMA list and mm fields (mm-PID.img),
 * private pages (pagemap-PID.img + pages-N.img) and shared anonymous objects
 * (shmem.c). Everything is read from outside the task: /proc/PID/{stat,maps,
 * smaps,auxv,pagemap,map_files,exe} and process_vm_readv().
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "aio.h"
#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "hugetlb.h"
#include "image.h"
#include "lazy-pages.h"
#include "mem.h"
#include "mem-copy.h"
#include "maps-ahead.h"
#include "mem-track.h"
#include "namespaces.h"
#include "pagemap.h"
#include "page-pipe.h"
#include "page-xfer.h"
#include "page-chain.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "page-digest.h"
#include "shmem.h"
#include "stats.h"
#include "mm.pb-c.h"
#include "vma.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "mem: "

#define COPY_BUF_SIZE (4UL << 20)	/* staging buffer: big batches, still cache friendly */
#define PAGE_PIPE_SIZE (1UL << 20)	/* each page pipe: /proc/sys/fs/pipe-max-size's default */
/*
 * pagemap words per read: 32 MiB of address space. The pages are read and queued between
 * two pagemap reads while the writer thread drains the staging buffer; a read of densely
 * mapped memory costs 12 ms per GiB, so 32 MiB of it (0.4 ms) ends before the writer runs
 * out of queued pages (4 MiB, about 1.5 ms of writing), and the writer never waits for it.
 */
#define PAGEMAP_BUF_NR (8UL << 10)

int dump_mem_ctx_init(struct dump_mem_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->next_pages_id = 1;
	ctx->buf_size = COPY_BUF_SIZE;
	ctx->buf = mmap(NULL, ctx->buf_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctx->buf == MAP_FAILED) {
		ctx->buf = NULL;
		return -ENOMEM;
	}
	ctx->pmbuf_nr = PAGEMAP_BUF_NR;
	ctx->pmbuf = malloc(ctx->pmbuf_nr * sizeof(uint64_t));
	if (!ctx->pmbuf) {
		dump_mem_ctx_fini(ctx);
		return -ENOMEM;
	}
	ctx->zero.pfn = find_zero_page_pfn();
	ctx->zero.huge = find_huge_zero_page_pfn();
	pr_debug("zero page pfn %#llx, huge zero page pfn %#llx\n", (unsigned long long)ctx->zero.pfn,
		 (unsigned long long)ctx->zero.huge);
	return 0;
}

void dump_mem_ctx_fini(struct dump_mem_ctx *ctx)
{
	if (ctx->pool) {
		mem_copy_pool_fini(ctx->pool);
		free(ctx->pool);
		ctx->pool = NULL;
	}
	if (ctx->buf)
		munmap(ctx->buf, ctx->buf_size);
	ctx->buf = NULL;
	free(ctx->pmbuf);
	ctx->pmbuf = NULL;
	shmem_set_fini(&ctx->shmems);
}

int dump_mem_threads_start(struct dump_mem_ctx *ctx, const struct mem_copy_bufs *bufs)
{
	struct mem_copy_pool *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return pr_fail(-ENOMEM, "no memory for the page copying threads\n");
	ret = mem_copy_pool_init(p, 0, bufs);
	if (ret) {
		free(p);
		return pr_fail(ret, "can't start the page copying threads: %s\n", strerror(-ret));
	}
	ctx->pool = p;
	return 0;
}

int dump_mem_collect(struct dump_mem_ctx *ctx)
{
	uint64_t t0 = stats_now_us();
	int ret;

	if (!ctx->pool)
		return 0;
	ret = mem_copy_collect(ctx->pool);
	ctx->nr_readv += ctx->pool->nr_readv;
	ctx->nr_memread += ctx->pool->nr_memread;
	ctx->pool->nr_readv = ctx->pool->nr_memread = 0;
	ctx->dump_us += stats_now_us() - t0;
	pr_info("the pages of every task copied (%llu ms waited for them)\n",
		(unsigned long long)(stats_now_us() - t0) / 1000);
	return ret;
}

uint64_t vma_madv_from_vmflags(unsigned int vmflags)
{
	static const struct {
		unsigned int vmf;
		int madv;
	} map[] = {
		{ PVMF_SR, MADV_SEQUENTIAL }, { PVMF_RR, MADV_RANDOM },	  { PVMF_DC, MADV_DONTFORK },
		{ PVMF_DD, MADV_DONTDUMP },   { PVMF_MG, MADV_MERGEABLE }, { PVMF_HG, MADV_HUGEPAGE },
		{ PVMF_NH, MADV_NOHUGEPAGE }, { PVMF_WF, MADV_WIPEONFORK },
	};
	uint64_t madv = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (vmflags & map[i].vmf)
			madv |= 1ULL << map[i].madv;
	return madv;
}

/* Per-task state while its mm is dumped. */
struct mm_dump {
	int img_dfd;
	int proc_dfd;
	pid_t pid;
	pid_t img_id;			/* names mm-/pagemap- images: the pid in the tree's pid namespace */
	struct dump_mem_ctx *ctx;
	struct dump_files_ctx *files;	/* the exe and the mapped files go there */
	struct pstree_item *item;	/* the task (its mount namespace: the files' mounts) */
	struct proc_maps maps;
	VmaEntry *vmas;			/* one per dumped vma */
	VmaEntry **vma_ptrs;
	int nr_vmas;
	AioRingEntry *aios;		/* one per AIO ring (aio.c) */
	AioRingEntry **aio_ptrs;
	int nr_aios;
	/* the file of the previous file vma, to call dump_file_lfd() once per run of vmas */
	dev_t last_dev;
	ino_t last_ino;
	uint32_t last_id;
	bool have_last;
	int pagemap_fd;			/* opened when a vma needs a look at its guard markers, else -1 */
	VmaEntry *guards;		/* runs of guard markers (VMA_AREA_GUARD entries) */
	size_t nr_guards, guards_cap;
	int own_ipc;			/* 1: the task is in an IPC namespace of the tree (its segments are dumped) */
	unsigned long brk;		/* the task's brk(0), asked before its pages are copied */
	bool have_brk;
};

static void mm_dump_fini(struct mm_dump *d)
{
	if (d->pagemap_fd >= 0)
		close(d->pagemap_fd);
	d->pagemap_fd = -1;
	proc_maps_free(&d->maps);
	free(d->vmas);
	free(d->vma_ptrs);
	free(d->guards);
	free(d->aios);
	free(d->aio_ptrs);
}

/* Open flags of the mapping's file: map_files links carry its f_mode in their permission bits. */
static uint32_t map_file_fdflags(int proc_dfd, const struct proc_vma *v)
{
	char name[64];
	struct stat st;

	snprintf(name, sizeof(name), "map_files/%lx-%lx", v->start, v->end);
	if (fstatat(proc_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return O_RDONLY;
	if ((st.st_mode & S_IRUSR) && (st.st_mode & S_IWUSR))
		return O_RDWR;
	if (st.st_mode & S_IWUSR)
		return O_WRONLY;
	return O_RDONLY;
}

/* Whether the task's exe is a removed file (a memfd too): its data is read, so it needs a real open. */
static bool exe_removed(int proc_dfd)
{
	static const char suffix[] = " (deleted)";
	char link[PATH_MAX];
	ssize_t n = readlinkat(proc_dfd, "exe", link, sizeof(link) - 1);

	if (n < 0)
		return true;
	link[n] = '\0';
	return (size_t)n >= sizeof(suffix) - 1 && !strcmp(link + n - (sizeof(suffix) - 1), suffix);
}

static int dump_vma_file(struct mm_dump *d, const struct proc_vma *v, VmaEntry *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	if (d->ctx->pre_dump)
		return 0;	/* only private pages are pre-dumped */
	/*
	 * O_PATH: a real open is an IN_OPEN/IN_CLOSE_NOWRITE event for the
	 * tree's inotify watches, queued by criu (fsnotify.c refuses queued
	 * events). A removed file (a memfd too) is opened for reading: its data
	 * is dumped. The exe likewise (write_mm_image()).
	 */
	fd = open_proc_map_file(d->proc_dfd, v->start, v->end, v->deleted ? O_RDONLY : O_PATH);

	if (fd < 0) {
		pr_debug("can't open map_files of %lx-%lx (%s): %s\n", v->start, v->end, v->path, strerror(-fd));
		return fd;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	e->has_fdflags = true;
	e->fdflags = map_file_fdflags(d->proc_dfd, v);
	if (d->have_last && st.st_dev == d->last_dev && st.st_ino == d->last_ino) {
		e->shmid = d->last_id;
		return 0;
	}
	ret = dump_file_lfd(d->files, d->item, fd, &d->last_id);
	if (ret < 0)
		return ret;
	d->have_last = true;
	d->last_dev = st.st_dev;
	d->last_ino = st.st_ino;
	e->shmid = d->last_id;
	return 0;
}

static int dump_vma_shmem(struct mm_dump *d, const struct proc_vma *v, VmaEntry *e)
{
	_cleanup_close_ int fd = -1;
	unsigned long shmid;
	int ret;

	if (d->ctx->pre_dump)
		return 0;	/* shared memory is dumped whole by the final dump */
	/*
	 * O_PATH: a real open is an IN_OPEN/IN_CLOSE_NOWRITE event for the
	 * tree's inotify watches, queued by criu (fsnotify.c refuses queued
	 * events). A removed file (a memfd too) is opened for reading: its data
	 * is dumped. The exe likewise (write_mm_image()).
	 */
	fd = open_proc_map_file(d->proc_dfd, v->start, v->end, v->deleted ? O_RDONLY : O_PATH);

	if (fd < 0)
		return fd;
	ret = dump_shmem_object(d->img_dfd, d->ctx, fd, v->pgoff + (v->end - v->start), &shmid);
	if (ret < 0)
		return ret;
	e->shmid = shmid;
	return 0;
}

/* Shared anonymous memory that the tree holds as a file too (memfd.c): its mappings are the memfd's. */
static bool is_shmem_file(struct mm_dump *d, const struct proc_vma *v)
{
	return v->deleted && !strcmp(v->path, "/dev/zero") &&
	       memfd_shmem_is_file(d->files, makedev(v->dev_major, v->dev_minor), v->ino);
}

/* VmFlags bits of state that the image has no room for, or that restore does not put back. */
static const struct {
	unsigned int vmf;
	const char *what;
} unrestorable_vmflags[] = {
	{ PVMF_LF, "lock-on-fault locking, mlock2(MLOCK_ONFAULT) (VmFlags lf)" },
	{ PVMF_SF, "MAP_SYNC (VmFlags sf)" },
	{ PVMF_UM | PVMF_UW | PVMF_UI, "a userfaultfd registration (VmFlags um/uw/ui)" },
	{ PVMF_SS, "a shadow stack (VmFlags ss)" },
	{ PVMF_SL, "an mseal() seal (VmFlags sl)" },
};

static bool is_hugetlb_anon(const struct proc_vma *v)
{
	return v->kind == PVMA_FILE && v->have_vmflags && (v->vmflags & PVMF_HT) && v->deleted &&
	       !strcmp(v->path, HUGETLB_ANON_NAME);
}

/*
 * hugetlb memory restored: 2 MiB pages of anonymous memory (MAP_HUGETLB),
 * of a memfd (memfd.c says whether it restores the memfd) or of a SysV
 * segment (ipc_ns.c says it for the segment).
 */
static int check_hugetlb_vma(struct mm_dump *d, const struct proc_vma *v, const char *name)
{
	if (v->kpage_size != HUGETLB_PAGE_SIZE)
		return pr_fail(-EOPNOTSUPP,
			       "task %d: VMA %#lx-%#lx %s has hugetlb pages of %lu KiB, not supported (only 2 MiB pages)\n",
			       d->pid, v->start, v->end, name, v->kpage_size >> 10);
	if (is_hugetlb_anon(v) || v->kind == PVMA_SYSV_SHM)
		return 0;
	if (v->kind == PVMA_FILE && v->deleted && !strncmp(v->path, "/memfd:", 7))
		return 0;
	return pr_fail(-EOPNOTSUPP, "task %d: VMA %#lx-%#lx %s maps a file of a hugetlbfs mount, not supported\n", d->pid,
		       v->start, v->end, name);
}

static int add_guard(unsigned long start, unsigned long end, void *arg)
{
	struct mm_dump *d = arg;
	VmaEntry *g;

	if (d->nr_guards == d->guards_cap) {
		size_t cap = d->guards_cap ? d->guards_cap * 2 : 8;
		VmaEntry *n = realloc(d->guards, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->guards = n;
		d->guards_cap = cap;
	}
	g = &d->guards[d->nr_guards++];
	vma_entry__init(g);
	g->start = start;
	g->end = end;
	g->status = VMA_AREA_GUARD;
	g->fd = -1;
	return 0;
}

/*
 * The runs of MADV_GUARD_INSTALL markers of a vma (VmFlags gu): CRIU keeps
 * each as a VMA entry of status VMA_AREA_GUARD, after the real ones.
 */
static int collect_guards(struct mm_dump *d, const struct proc_vma *v)
{
	int ret;

	if (d->pagemap_fd < 0) {
		d->pagemap_fd = openat(d->proc_dfd, "pagemap", O_RDONLY | O_CLOEXEC);
		if (d->pagemap_fd < 0)
			return pr_fail_errno("task %d: can't open its pagemap", d->pid);
	}
	ret = for_each_guard_run(d->pagemap_fd, v->start, v->end, d->ctx->pmbuf, d->ctx->pmbuf_nr, add_guard, d);
	if (ret)
		return pr_fail(ret, "task %d: can't read the guard pages of %#lx-%#lx: %s\n", d->pid, v->start,
			       v->end, strerror(-ret));
	return 0;
}

/*
 * On x86 with protection keys the kernel gives execute-only memory
 * (mprotect(PROT_EXEC) alone) a key of its own, allocated on first use; a
 * restore that maps the vma PROT_EXEC gets one again. A key is taken for that
 * one when every vma that carries it is execute-only; any other use of a key
 * came from pkey_mprotect() and is refused.
 */
static bool is_exec_only_pkey(const struct proc_maps *maps, int pkey)
{
	for (int i = 0; i < maps->nr; i++)
		if (maps->vmas[i].pkey == pkey && maps->vmas[i].prot != PROT_EXEC)
			return false;
	return true;
}

/*
 * Refuse a vma whose state would come back different: logs what it is and
 * returns -EOPNOTSUPP, 0 when everything about it is restored.
 */
/*
 * VmFlags uw of our own write tracking (mem-track.h), in a pre-dump or the
 * final dump of the session: not the task's registration. Nothing of it
 * reaches the images (no VmaEntry field says uw).
 */
static bool tracked_by_us(struct mm_dump *d, const struct proc_vma *v, unsigned int vmf)
{
	return (vmf & PVMF_UW) && (v->vmflags & (PVMF_UM | PVMF_UW | PVMF_UI)) == PVMF_UW &&
	       mem_track_owns(d->pid, v->start, v->end);
}

static int check_vma_state(struct mm_dump *d, const struct proc_vma *v)
{
	const char *name = v->path[0] ? v->path : "(anonymous)";

	if (v->kind == PVMA_VSYSCALL)
		return 0;	/* not dumped: the kernel's */
	if (!strncmp(v->path, "[anon:", 6) || !strncmp(v->path, "[anon_shmem:", 12))
		return pr_fail(-EOPNOTSUPP,
			       "task %d: VMA %#lx-%#lx %s has a name set with prctl(PR_SET_VMA_ANON_NAME), not supported\n",
			       d->pid, v->start, v->end, name);
	if (v->pkey && !is_exec_only_pkey(&d->maps, v->pkey))
		return pr_fail(-EOPNOTSUPP, "task %d: VMA %#lx-%#lx %s has protection key %d (pkey_mprotect), not supported\n",
			       d->pid, v->start, v->end, name, v->pkey);
	if (!v->have_vmflags)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(unrestorable_vmflags); i++)
		if ((v->vmflags & unrestorable_vmflags[i].vmf) && !tracked_by_us(d, v, unrestorable_vmflags[i].vmf))
			return pr_fail(-EOPNOTSUPP, "task %d: VMA %#lx-%#lx %s has %s, not supported\n", d->pid, v->start,
				       v->end, name, unrestorable_vmflags[i].what);
	if (v->vmflags & PVMF_HT)
		return check_hugetlb_vma(d, v, name);
	return 0;
}

/* status, flags and shmid of one vma; 1 when the vma is not recorded ([vsyscall]). */
static int fill_vma(struct mm_dump *d, const struct proc_vma *v, VmaEntry *e)
{
	uint32_t status = VMA_AREA_REGULAR;
	uint32_t flags = v->shared ? MAP_SHARED : MAP_PRIVATE;

	vma_entry__init(e);
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->prot = v->prot;
	e->fd = -1;

	/* device memory (VM_IO / VM_PFNMAP); [vvar] has these bits too, but is the kernel's */
	if (v->have_vmflags && (v->vmflags & (PVMF_IO | PVMF_PF)) &&
	    (v->kind == PVMA_ANON || v->kind == PVMA_FILE || v->kind == PVMA_SHMEM_ANON))
		return -EOPNOTSUPP;

	switch (v->kind) {
	case PVMA_VSYSCALL:
		return 1;
	case PVMA_ANON:
	case PVMA_HEAP:
	case PVMA_STACK:
	case PVMA_VDSO:
	case PVMA_VVAR:
	case PVMA_VVAR_VCLOCK:
		if (v->shared)
			return -EOPNOTSUPP;	/* shared memory without a shmem file: not a thing we know */
		flags |= MAP_ANONYMOUS;
		status |= VMA_ANON_PRIVATE;
		if (v->kind == PVMA_HEAP)
			status |= VMA_AREA_HEAP;
		else if (v->kind == PVMA_STACK)
			status |= VMA_AREA_STACK;
		else if (v->kind == PVMA_VDSO)
			status |= VMA_AREA_VDSO;
		else if (v->kind == PVMA_VVAR || v->kind == PVMA_VVAR_VCLOCK)
			status |= VMA_AREA_VVAR;
		break;
	case PVMA_SHMEM_ANON:
		if (is_shmem_file(d, v)) {
			/* as CRIU dumps it: a shared mapping of the memfd, restored from the one object */
			status |= VMA_FILE_SHARED | VMA_AREA_MEMFD;
			break;
		}
		flags |= MAP_ANONYMOUS;
		status |= VMA_ANON_SHARED;
		break;
	case PVMA_FILE:
		if (v->deleted && !strcmp(v->path, AIO_RING_NAME)) {
			/* CRIU's form: the ring's status alone, its pages in the pagemap, an entry in mm's aios */
			status = VMA_AREA_AIORING;
			break;
		}
		if (is_hugetlb_anon(v)) {
			/* CRIU's form: anonymous memory with the hugetlb bits in flags, shared memory by its inode */
			flags |= MAP_ANONYMOUS | HUGETLB_MAP_FLAGS;
			status |= v->shared ? VMA_ANON_SHARED : VMA_ANON_PRIVATE;
			break;
		}
		status |= v->shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE;
		if (v->deleted && (!strncmp(v->path, "/memfd:", 7) || is_shmem_file(d, v)))
			status |= VMA_AREA_MEMFD;
		if (v->have_vmflags && (v->vmflags & PVMF_HT))
			flags |= HUGETLB_MAP_FLAGS;	/* a hugetlb memfd's, as CRIU marks it */
		break;
	case PVMA_SYSV_SHM:
		/* the segment's contents are in the IPC namespace's images (ipc_ns.c), the attachment is made again */
		if (d->own_ipc != 1) {
			pr_err("task %d: SysV shm segment %lu attached at %lx is in criu's IPC namespace, which is not "
			       "dumped\n", d->pid, v->ino, v->start);
			return -EOPNOTSUPP;
		}
		if (v->pgoff) {
			pr_err("task %d: SysV shm segment %lu attached at %lx from offset %lu: an attachment whose head "
			       "was unmapped is not restored\n", d->pid, v->ino, v->start, v->pgoff);
			return -EOPNOTSUPP;
		}
		/* as CRIU records it: shared anonymous memory, SYSVIPC, the segment's id in shmid */
		status |= VMA_ANON_SHARED | VMA_AREA_SYSVIPC;
		flags |= MAP_ANONYMOUS;
		e->shmid = v->ino;
		break;
	case PVMA_UPROBES:
	case PVMA_OTHER:
	default:
		return -EOPNOTSUPP;
	}
	if (v->have_vmflags) {
		if (v->vmflags & PVMF_GD)
			flags |= MAP_GROWSDOWN;
		if (v->vmflags & PVMF_NR)
			flags |= MAP_NORESERVE;
		if (v->vmflags & PVMF_LO)
			flags |= MAP_LOCKED;
		if ((v->vmflags & PVMF_DP) && (status & VMA_ANON_PRIVATE))
			flags = (flags & ~VMA_MAP_TYPE) | MAP_DROPPABLE;
		e->madv = vma_madv_from_vmflags(v->vmflags);
		e->has_madv = e->madv != 0;
	} else if (v->kind == PVMA_STACK) {
		flags |= MAP_GROWSDOWN;
	}
	e->status = status;
	e->flags = flags;

	if (status & VMA_AREA_AIORING)
		return aio_dump_ring(d->proc_dfd, d->pid, v, &d->aios[d->nr_aios]);
	if (status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) {
		/* the file's id goes in shmid, as CRIU keeps it; fd stays -1 (unused in images) */
		return dump_vma_file(d, v, e);
	}
	if ((status & VMA_ANON_SHARED) && !(status & VMA_AREA_SYSVIPC))
		return dump_vma_shmem(d, v, e);
	return 0;
}

/*
 * [vvar] and [vvar_vclock] (kernels from 6.13) are one VVAR area in the
 * image, as CRIU writes them (its restore compares the area with the running
 * kernel's, whole). True when e was merged into the area before it.
 */
static bool merge_vvar(struct mm_dump *d, const VmaEntry *e)
{
	VmaEntry *prev = d->nr_vmas ? d->vma_ptrs[d->nr_vmas - 1] : NULL;

	if (!prev || !(prev->status & VMA_AREA_VVAR) || !(e->status & VMA_AREA_VVAR) || prev->end != e->start)
		return false;
	prev->end = e->end;
	if (e->has_madv) {
		prev->has_madv = true;
		prev->madv |= e->madv;
	}
	return true;
}

static int collect_vmas(struct mm_dump *d)
{
	int ret;

	d->vmas = calloc(d->maps.nr ? d->maps.nr : 1, sizeof(*d->vmas));
	d->vma_ptrs = calloc(d->maps.nr ? d->maps.nr : 1, sizeof(*d->vma_ptrs));
	d->aios = calloc(d->maps.nr ? d->maps.nr : 1, sizeof(*d->aios));
	d->aio_ptrs = calloc(d->maps.nr ? d->maps.nr : 1, sizeof(*d->aio_ptrs));
	if (!d->vmas || !d->vma_ptrs || !d->aios || !d->aio_ptrs)
		return -ENOMEM;
	for (int i = 0; i < d->maps.nr; i++) {
		const struct proc_vma *v = &d->maps.vmas[i];
		VmaEntry *e = &d->vmas[d->nr_vmas];

		ret = check_vma_state(d, v);
		if (ret < 0)
			return ret;
		ret = fill_vma(d, v, e);
		if (ret == 1)
			continue;
		if (ret < 0) {
			pr_err("task %d: can't dump the mapping %lx-%lx %s: %s\n", d->pid, v->start, v->end,
			       v->path[0] ? v->path : "(anonymous)",
			       ret == -EOPNOTSUPP ? "this kind of mapping is not supported" : strerror(-ret));
			return ret;
		}
		if (merge_vvar(d, e))
			continue;
		if (e->status & VMA_AREA_AIORING) {
			d->aio_ptrs[d->nr_aios] = &d->aios[d->nr_aios];
			d->nr_aios++;
		}
		d->vma_ptrs[d->nr_vmas++] = e;
		/* gu stays on a vma once a guard was installed in it, even after the markers are gone */
		if (v->have_vmflags && (v->vmflags & PVMF_GU)) {
			ret = collect_guards(d, v);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * PE_LAZY, as CRIU 4.2 marks pages: those of private anonymous memory that
 * is neither locked nor hugetlb (nor the vdso's), which a lazy restore may
 * bring in on first touch. The pages are in the image all the same.
 */
static bool vma_pages_lazy(const VmaEntry *e)
{
	return (e->flags & MAP_ANONYMOUS) && (e->flags & MAP_PRIVATE) && !(e->flags & (MAP_LOCKED | MAP_HUGETLB)) &&
	       !(e->status & (VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL));
}

static int dump_pages_to(struct mm_dump *d, int pm_fd, struct page_xfer *x, const struct page_parent *parent);

/*
 * A page server over plain TCP takes the task's pages without their copy in
 * criu: through a pipe the task vmsplice()s them into (page-pipe.h). Not
 * with TLS (the bytes are encrypted here) nor digests (hashed here); when
 * the pipe can't be made the pages are copied as for a local dump.
 */
static bool use_page_pipe(struct mm_dump *d, const struct page_xfer *x, struct page_pipe *pp, size_t size)
{
	int ret;

	if (!x->ps || x->ps->tls || x->digests || d->ctx->lazy_remote)
		return false;
	ret = page_pipe_open(pp, d->item, PC_SLOTS, size);
	if (ret) {
		pr_info("task %d: no page pipe (%s): its pages are copied\n", d->pid, strerror(-ret));
		return false;
	}
	/* CRIU_FAULT=page-pipe-no-socket: as when the socket can't be handed over (tests the pipe) */
	ret = fault_injected("page-pipe-no-socket") ? -EPERM : page_pipe_give_socket(pp, d->item, x->ps->sk);
	if (ret)
		pr_info("task %d: can't hand it the page server's socket (%s): its pages go through the pipe\n",
			d->pid, strerror(-ret));
	return true;
}

/* The pages go to a page server: its pagemap is open; compare with the last pass's digests when it has a parent. */
static int dump_pages_remote(struct mm_dump *d, int pm_fd, struct page_xfer *x)
{
	struct page_digests mine = {}, theirs = {};
	struct page_parent parent = { .digests = &theirs };
	bool with_parent = false;
	int ret;

	if (d->ctx->with_parent && x->ps_has_parent) {
		ret = page_digests_read_parent(d->img_dfd, d->img_id, &theirs);
		if (ret && ret != -ENOENT) {
			page_xfer_abort(x);
			return pr_fail(ret, "task %d: the parent's page-digests-%d.img can't be read: %s\n", d->pid,
				       d->img_id, strerror(-ret));
		}
		with_parent = !ret;
		if (ret)
			pr_info("task %d: no page digests in the parent images: all its pages are sent\n", d->pid);
	} else if (d->ctx->with_parent) {
		pr_info("task %d: the page server has no parent images of it: all its pages are sent\n", d->pid);
	}
	/* what the next pass compares with: a pre-dump's, or a dump's with --track-mem (CRIU's "track for next") */
	x->digests = d->ctx->pre_dump || opts.track_mem ? &mine : NULL;
	x->parent_digests = with_parent ? &theirs : NULL;
	ret = dump_pages_to(d, pm_fd, x, with_parent ? &parent : NULL);
	if (!ret && x->digests) {
		ret = page_digests_write(d->img_dfd, d->img_id, &mine);
		if (ret)
			pr_err("task %d: can't write page-digests-%d.img: %s\n", d->pid, d->img_id, strerror(-ret));
	}
	page_digests_free(&mine);
	page_digests_free(&theirs);
	return ret;
}

/* Private pages of every vma that has them, into pagemap-PID.img + pages-N.img (here or on the page server). */
static int dump_private_pages(struct mm_dump *d)
{
	struct dump_mem_ctx *ctx = d->ctx;
	_cleanup_close_ int pm_fd = openat(d->proc_dfd, "pagemap", O_RDONLY | O_CLOEXEC);
	struct page_chain chain;
	struct page_parent parent = { .chain = &chain, .track = mem_track_find(d->pid) };
	struct page_xfer x;
	char why[256] = "";
	bool with_parent = false;
	int ret;

	if (pm_fd < 0) {
		ret = -errno;
		pr_err("task %d: can't open pagemap: %s\n", d->pid, strerror(-ret));
		return ret;
	}
	ret = page_xfer_open(&x, d->img_dfd, CR_FD_PAGEMAP, d->img_id, ctx->next_pages_id);
	if (ret < 0) {
		pr_err("task %d: can't create the page images: %s (%s)\n", d->pid, strerror(-ret), img_last_error());
		return ret;
	}
	ctx->next_pages_id++;
	if (x.ps)
		return dump_pages_remote(d, pm_fd, &x);
	if (ctx->with_parent) {
		ret = page_chain_open(&chain, d->img_dfd, d->img_id, false, why, sizeof(why));
		if (ret < 0 && ret != -ENOENT) {
			page_xfer_abort(&x);
			return pr_fail(ret, "task %d: the parent images can't be read: %s\n", d->pid, why);
		}
		with_parent = !ret;
		if (ret)
			pr_info("task %d: not in the parent images (%s): all its pages are written\n", d->pid, why);
	}
	ret = dump_pages_to(d, pm_fd, &x, with_parent ? &parent : NULL);
	if (with_parent)
		page_chain_close(&chain);
	return ret;
}

/*
 * A local dump's pages are planned while the pagemap is walked and copied
 * apart (mem-copy.h): by the dump's pool of threads, or here at once. Not
 * to a page server, nor for --lazy-pages (the copier streams those), nor
 * with sync_writes (the copier's one-thread path, for tests).
 */
static bool pages_planned(const struct dump_mem_ctx *ctx, const struct page_xfer *x)
{
	return !x->ps && !ctx->lazy_remote && !ctx->sync_writes;
}

/* Hand the planned copy over (it takes x): to the dump's pool, or copied and closed here. */
static int submit_pages(struct mm_dump *d, struct mem_copy_job *job, struct page_xfer *x)
{
	struct dump_mem_ctx *ctx = d->ctx;
	struct mem_copy_pool local;
	int ret;

	if (ctx->pool)
		return mem_copy_submit(ctx->pool, job, d->proc_dfd, x);
	ret = mem_copy_pool_init(&local, -1, NULL);
	if (ret) {
		page_xfer_abort(x);
		mem_copy_job_free(job);
		return ret;
	}
	ret = mem_copy_submit(&local, job, d->proc_dfd, x) ?: mem_copy_collect(&local);	/* both log a failure */
	ctx->nr_readv += local.nr_readv;
	ctx->nr_memread += local.nr_memread;
	mem_copy_pool_fini(&local);
	return ret;
}

/* The walk of a task whose copy was planned is over: count its pages, hand the copy over. */
static int planned_pages_done(struct mm_dump *d, struct mem_copy_job *job, struct page_xfer *x, bool parent)
{
	struct dump_mem_ctx *ctx = d->ctx;

	pr_debug("task %d: %lu pages in %lu entries, %zu runs to copy\n", d->pid, x->nr_pages, x->nr_entries,
		 job->nr_runs);
	if (parent)
		pr_info("task %d: %lu pages written, %lu left in the parent images\n", d->pid, x->nr_pages,
			x->nr_parent_pages);
	ctx->nr_pages_dumped += x->nr_pages;
	ctx->nr_parent_pages += x->nr_parent_pages;
	return submit_pages(d, job, x);
}

/* The pages of every vma into x (open); closes x in every case. */
static int dump_pages_to(struct mm_dump *d, int pm_fd, struct page_xfer *xp, const struct page_parent *parent)
{
	struct dump_mem_ctx *ctx = d->ctx;
	struct page_xfer x = *xp;	/* the copier and its writer hold &x */
	struct page_pipe pp;
	struct page_copier pc;
	struct mem_copy_job *job = NULL;
	int ret;

	if (pages_planned(ctx, &x)) {
		ret = mem_copy_job_new(&job, d->pid);
		if (ret < 0) {
			page_xfer_abort(&x);
			return pr_fail(ret, "task %d: no memory to plan its copy\n", d->pid);
		}
	}
	ret = page_copier_init(&pc, d->pid, d->proc_dfd, ctx->buf, ctx->buf_size, &x, !ctx->sync_writes && !job);
	if (ret < 0) {
		page_xfer_abort(&x);
		mem_copy_job_free(job);
		return pr_fail(ret, "task %d: bad page copy buffer\n", d->pid);
	}
	pc.plan = job;
	if (!job && use_page_pipe(d, &x, &pp, PAGE_PIPE_SIZE))
		page_copier_use_pipe(&pc, &pp);

	for (int i = 0; i < d->nr_vmas && !ret; i++) {
		const VmaEntry *e = d->vma_ptrs[i];
		enum page_filter filter;

		if (e->status & VMA_AREA_VVAR)
			continue;	/* the kernel's data, not the task's */
		if (e->status & VMA_AREA_VDSO) {
			/*
			 * The kernel's code, restored as the running kernel
			 * gives it; dumped whole all the same, as CRIU does:
			 * its restore compares it with the running vdso.
			 */
			x.flags = PE_PRESENT;
			ret = page_copier_add(&pc, e->start, e->end - e->start, false);
			continue;
		}
		if (e->status & VMA_AREA_AIORING) {
			/* the whole ring, as CRIU dumps it; not in a pre-dump: the kernel's writes leave no dirty bit */
			if (ctx->pre_dump)
				continue;
			x.flags = PE_PRESENT;
			ret = page_copier_add(&pc, e->start, e->end - e->start, false);
			continue;
		}
		if ((e->flags & VMA_MAP_TYPE) == MAP_DROPPABLE)
			continue;	/* the kernel may drop them any time: they come back empty */
		if (e->status & VMA_ANON_PRIVATE)
			filter = PF_ANON;
		else if (e->status & VMA_FILE_PRIVATE)
			filter = PF_PRIVATE_FILE;
		else
			continue;	/* shared: the file or the shmem object holds the data */
		/* --lazy-pages: what a lazy restore takes stays in the task, served from it after the dump */
		pc.entries_only = ctx->lazy_remote && vma_can_be_lazy(e);
		if (pc.entries_only) {
			/*
			 * but a VMA with pages shared copy-on-write with another
			 * task goes into the images: the restore shares them again
			 * only by comparing their bytes (mem-cow.c)
			 */
			ret = range_has_shared_pages(pm_fd, e->start, e->end, &ctx->zero, ctx->pmbuf, ctx->pmbuf_nr);
			if (ret < 0)
				break;
			pc.entries_only = !ret;
			ret = 0;
		}
		if (pc.entries_only)
			x.flags = PE_LAZY;
		else
			x.flags = vma_pages_lazy(e) ? PE_PRESENT | PE_LAZY : PE_PRESENT;
		ret = dump_vma_pages(&pc, pm_fd, e->start, e->end, filter, e->prot & PROT_READ, &ctx->zero,
				     ctx->pmbuf, ctx->pmbuf_nr, parent);
	}
	if (!ret)
		ret = page_copier_flush(&pc);
	page_copier_fini(&pc);
	if (pc.pp) {
		int r = page_pipe_close(&pp);

		if (r < 0)
			pr_err("task %d: can't close its page pipe: %s\n", d->pid, strerror(-r));
		ret = ret ?: r;
	}
	if (ret < 0) {
		page_xfer_abort(&x);
		mem_copy_job_free(job);
		pr_err("task %d: can't dump pages: %s\n", d->pid, strerror(-ret));
		return ret;
	}
	if (job)
		return planned_pages_done(d, job, &x, parent != NULL);
	pr_debug("task %d: %lu pages in %lu entries, %lu readv + %lu mem reads, %lu pages in %lu vmsplice + %lu sendmsg\n",
		 d->pid, x.nr_pages, x.nr_entries, pc.nr_readv, pc.nr_memread, pc.nr_spliced / PAGE_SIZE,
		 pc.pp ? pp.nr_vmsplice : 0, pc.pp ? pp.nr_send : 0);
	pr_debug("task %d: copy: reader %lu ms cpu, %lu ms waiting for a slot; writer %lu ms cpu, %lu ms waiting for data\n",
		 d->pid, (unsigned long)(pc.reader_cpu_ns / 1000000), (unsigned long)(pc.reader_wait_ns / 1000000),
		 (unsigned long)(pc.writer_cpu_ns / 1000000), (unsigned long)(pc.writer_wait_ns / 1000000));
	ctx->nr_pages_dumped += x.nr_pages;
	ctx->nr_parent_pages += x.nr_parent_pages;
	ctx->nr_lazy_pages += x.nr_lazy_pages;
	if (x.nr_lazy_pages)
		pr_info("task %d: %lu pages written, %lu left in the task for lazy-pages\n", d->pid, x.nr_pages,
			x.nr_lazy_pages);
	if (parent)
		pr_info("task %d: %lu pages written, %lu left in the parent images\n", d->pid, x.nr_pages,
			x.nr_parent_pages);
	ctx->nr_readv += pc.nr_readv;
	ctx->nr_memread += pc.nr_memread;
	ret = page_xfer_close(&x);
	if (ret < 0)
		pr_err("task %d: can't write the page images: %s\n", d->pid, strerror(-ret));
	return ret;
}

static unsigned long find_brk(const struct mm_dump *d, const struct proc_pid_stat *st)
{
	if (d->have_brk)
		return d->brk;
	for (int i = 0; i < d->maps.nr; i++)
		if (d->maps.vmas[i].kind == PVMA_HEAP)
			return d->maps.vmas[i].end;
	return st->start_brk;
}

#define CRIU_AUXV_WORDS 44	/* CRIU's AT_VECTOR_SIZE on x86_64 */

static int write_mm_image(struct mm_dump *d, struct pstree_item *item)
{
	uint64_t auxv[PROC_AUXV_MAX_WORDS];
	struct proc_pid_stat st;
	struct proc_status status;
	MmEntry mm = MM_ENTRY__INIT;
	_cleanup_free_ VmaEntry **all = NULL;
	_cleanup_close_ int exe = -1;
	struct cr_img *img;
	int ret, n;

	ret = parse_pid_stat(d->proc_dfd, &st);
	if (ret < 0) {
		pr_err("task %d: can't parse stat: %s\n", d->pid, strerror(-ret));
		return ret;
	}
	n = parse_pid_auxv(d->proc_dfd, auxv, PROC_AUXV_MAX_WORDS);
	if (n < 0) {
		pr_err("task %d: can't parse auxv: %s\n", d->pid, strerror(-n));
		return n;
	}
	exe = openat(d->proc_dfd, "exe", (exe_removed(d->proc_dfd) ? O_RDONLY : O_PATH) | O_CLOEXEC);
	if (exe < 0) {
		ret = -errno;
		pr_err("task %d: can't open its exe: %s\n", d->pid, strerror(-ret));
		return ret;
	}
	/*
	 * The restore makes such memory with a read-write open file of it
	 * (memfd.c), and the kernel sets no exe that a file can write
	 * (PR_SET_MM_MAP: EACCES).
	 */
	if (memfd_is_anon_shmem(exe))
		return pr_fail(-EOPNOTSUPP, "task %d: its exe is shared anonymous memory opened as a file (/dev/zero "
				  "(deleted), through /proc/PID/map_files): not supported\n", d->pid);
	ret = dump_file_lfd(d->files, d->item, exe, &mm.exe_file_id);
	if (ret < 0) {
		pr_err("task %d: can't dump its exe: %s\n", d->pid, strerror(-ret));
		return ret;
	}

	mm.mm_start_code = st.start_code;
	mm.mm_end_code = st.end_code;
	mm.mm_start_data = st.start_data;
	mm.mm_end_data = st.end_data;
	mm.mm_start_stack = st.start_stack;
	mm.mm_start_brk = st.start_brk;
	mm.mm_brk = find_brk(d, &st);
	mm.mm_arg_start = st.arg_start;
	mm.mm_arg_end = st.arg_end;
	mm.mm_env_start = st.env_start;
	mm.mm_env_end = st.env_end;
	/*
	 * CRIU 4.2 keeps at most CRIU_AUXV_WORDS words and its restore refuses
	 * more: the closing AT_NULL pair goes when that makes the vector fit
	 * (the kernel zero-fills the rest of a vector given with PR_SET_MM_MAP).
	 */
	if (n > CRIU_AUXV_WORDS && n - 2 <= CRIU_AUXV_WORDS)
		n -= 2;
	mm.n_mm_saved_auxv = n;
	mm.mm_saved_auxv = auxv;
	/* the guard runs after the real vmas, as CRIU writes them */
	all = calloc(d->nr_vmas + d->nr_guards + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all, d->vma_ptrs, d->nr_vmas * sizeof(*all));
	for (size_t i = 0; i < d->nr_guards; i++)
		all[d->nr_vmas + i] = &d->guards[i];
	mm.n_vmas = d->nr_vmas + d->nr_guards;
	mm.vmas = all;
	mm.n_aios = d->nr_aios;
	mm.aios = d->aio_ptrs;
	if (item->has_mm_flags) {
		mm.has_dumpable = true;
		mm.dumpable = item->dumpable;
		mm.has_thp_disabled = true;
		mm.thp_disabled = item->thp_disable & 1;
		/* PR_GET_THP_DISABLE: 1, or 1 | PR_THP_DISABLE_EXCEPT_ADVISED (2) */
		if (item->thp_disable & 2) {
			mm.has_thp_except_advised = true;
			mm.thp_except_advised = true;
		}
	} else if (!parse_pid_status(d->proc_dfd, &status)) {
		if (status.thp_enabled >= 0) {
			mm.has_thp_disabled = true;
			mm.thp_disabled = !status.thp_enabled;
		}
		proc_status_free(&status);
	}

	img = open_image_at(d->img_dfd, CR_FD_MM, O_DUMP, d->img_id);
	if (!img) {
		ret = -errno;
		pr_err("task %d: can't create the mm image: %s\n", d->pid, img_last_error());
		return ret;
	}
	ret = pb_write_one(img, &mm, PB_MM);
	n = close_image_checked(img);
	return ret < 0 ? ret : n;
}

/* prctl(PR_SET_MEMORY_MERGE): every vma, also those mapped later, is mergeable; no image field holds it. */
static int check_ksm_merge_any(struct mm_dump *d)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_alloc_at(d->proc_dfd, "ksm_stat", &buf);

	if (n == -ENOENT)
		return 0;	/* a kernel without KSM */
	if (n < 0)
		return pr_fail((int)n, "task %d: can't read ksm_stat: %s\n", d->pid, strerror((int)-n));
	if (strstr(buf, "ksm_merge_any: yes"))
		return pr_fail(-EOPNOTSUPP, "task %d: KSM merging of the whole process, prctl(PR_SET_MEMORY_MERGE), not supported\n",
			       d->pid);
	return 0;
}

/* maps and smaps of the task: read ahead by the dump (maps-ahead.h), or here. */
static int read_vmas(struct mm_dump *d)
{
	int ret;

	if (maps_ahead_take(d->pid, &d->maps)) {
		if (!d->item->core_mapped)
			return 0;
		/* read while the core had a scratch page mapped in the task, perhaps: read again */
		proc_maps_free(&d->maps);
		d->maps = (struct proc_maps){};
	}
	ret = parse_pid_maps(d->proc_dfd, &d->maps);
	if (ret < 0)
		return pr_fail(ret, "task %d: can't parse maps: %s\n", d->pid, strerror(-ret));
	ret = parse_pid_smaps_vmflags(d->proc_dfd, &d->maps);
	if (ret < 0)
		return pr_fail(ret, "task %d: can't parse smaps: %s\n", d->pid, strerror(-ret));
	return 0;
}

/*
 * A pass of a write-tracked chain (mem-track.h): the tracking registers and
 * scans the task on the VMAs just read; when its tracking fails there (its
 * uffd closed, the uw of our earlier registrations gone), the VMAs are read
 * again.
 */
static int track_maps(struct mm_dump *d, struct pstree_item *item)
{
	int ret;

	if (!mem_track_dump_task(item, &d->maps))
		return 0;
	proc_maps_free(&d->maps);
	ret = parse_pid_maps(d->proc_dfd, &d->maps) ?: parse_pid_smaps_vmflags(d->proc_dfd, &d->maps);
	if (ret < 0)
		pr_err("task %d: can't parse its maps again: %s\n", d->pid, strerror(-ret));
	return ret;
}

int dump_task_mm(int img_dfd, struct pstree_item *item, struct dump_mem_ctx *ctx, struct dump_files_ctx *fctx)
{
	struct mm_dump d = {
		.img_dfd = img_dfd, .proc_dfd = item->proc_dfd, .pid = item->pid, .img_id = item_vpid(item), .ctx = ctx,
		.files = fctx, .item = item, .pagemap_fd = -1,
	};
	int ret;

	if (item->state == TASK_DEAD) {
		pr_err("task %d is a zombie: it has no memory to dump\n", item->pid);
		return -EINVAL;
	}
	if (item->proc_dfd < 0 || !ctx->buf) {
		pr_err("task %d: dump_task_mm() called without /proc dir or context\n", item->pid);
		return -EINVAL;
	}

	ret = read_vmas(&d);
	if (ret < 0)
		goto out;
	ret = track_maps(&d, item);
	if (ret < 0)
		goto out;
	ret = check_ksm_merge_any(&d);
	if (ret < 0)
		goto out;
	d.own_ipc = ctx->pre_dump ? 1 : ns_task_in_own(item, NS_IPC);	/* pre-dump: no segment is dumped */
	ret = collect_vmas(&d);
	if (ret < 0)
		goto out;
	/*
	 * brk(0) was asked with the core's remote calls (dump-core.c), before
	 * the pages are handed to the copying threads: a remote call puts
	 * criu's code into the task's memory for a while (compel), and a page
	 * copied meanwhile would hold it in the image.
	 */
	if (!ctx->pre_dump && ctx->get_brk && !ctx->get_brk(item, &d.brk, ctx->get_brk_arg))
		d.have_brk = true;
	ret = dump_private_pages(&d);
	if (ret < 0 || ctx->pre_dump)
		goto out;
	ret = write_mm_image(&d, item);
	if (!ret) {
		ctx->nr_vmas += d.nr_vmas;
		pr_info("task %d: %d vmas dumped\n", d.pid, d.nr_vmas);
	}
out:
	mm_dump_fini(&d);
	return ret;
}
