// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the memory dump (criu/mem.c, pagemap.c, shmem.c) on real tasks.
 *
 * A child sets up known mappings: 16 MiB of patterned anonymous memory with
 * holes and read-only-faulted (zero) pages, a private file mapping with some
 * pages written, a shared file mapping, a PROT_NONE area holding data, and a
 * shared anonymous area that its own child (the grandchild) writes to as well.
 * Both are seized with compel, dumped into a temporary directory, detached;
 * the images are read back and every page is compared with what the tasks
 * wrote; untouched pages must be absent. The child then checks that its memory
 * and page residency did not change. TAP output; exit 0 when all passed.
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "compel/compel.h"
#include "files.h"
#include "image.h"
#include "image-check.h"
#include "mem.h"
#include "pagemap.h"
#include "protobuf.h"
#include "pstree.h"
#include "mm.pb-c.h"

#include "tap.h"

#define ANON_PAGES 4096		/* 16 MiB */
#define FILE_PAGES 16
#define SHM_PAGES 256
#define PNONE_PAGES 4

/* Where the child put things; filled before fork, so both sides agree. */
#define HUGE_SIZE (2UL << 20)

struct layout {
	char *anon, *fpriv, *fshared, *shm, *pnone;
	char *huge;			/* 2 MiB aligned, MADV_HUGEPAGE, only read: the huge zero page */
	unsigned long shm_ino;
} L;

/* anon page i: written unless it is a hole; a read-faulted (zero) page when i % 13 == 5 */
static bool anon_hole(unsigned long i)
{
	return (i % 7 == 3) || (i >= 1000 && i < 1300) || i == ANON_PAGES - 1;
}
static bool anon_read_only(unsigned long i)
{
	return anon_hole(i) && i % 13 == 5;
}
static bool anon_written(unsigned long i)
{
	return !anon_hole(i);
}
static bool fpriv_written(unsigned long i)
{
	return i == 2 || i == 5 || i == 6;
}
static bool shm_written_by_child(unsigned long i)
{
	return i < 4;
}
static bool shm_written_by_grandchild(unsigned long i)
{
	return i == 10 || i == 200;
}

static void fill_page(void *page, unsigned long tag)
{
	uint64_t *w = page;

	for (size_t k = 0; k < PAGE_SIZE / 8; k++)
		w[k] = tag * 0x9e3779b97f4a7c15ULL + k;
}

static bool page_matches(const void *page, unsigned long tag)
{
	const uint64_t *w = page;

	for (size_t k = 0; k < PAGE_SIZE / 8; k++)
		if (w[k] != tag * 0x9e3779b97f4a7c15ULL + k)
			return false;
	return true;
}

static void write_task_memory(void)
{
	volatile char sink = 0;

	for (unsigned long i = 0; i < ANON_PAGES; i++) {
		if (anon_written(i))
			fill_page(L.anon + i * PAGE_SIZE, 1000000 + i);
		else if (anon_read_only(i))
			sink += L.anon[i * PAGE_SIZE];
	}
	for (unsigned long i = 0; i < FILE_PAGES; i++) {
		if (fpriv_written(i))
			fill_page(L.fpriv + i * PAGE_SIZE, 2000000 + i);
		else if (i % 2)
			sink += L.fpriv[i * PAGE_SIZE];	/* page cache, clean */
	}
	fill_page(L.fshared + PAGE_SIZE, 3000001);
	for (unsigned long i = 0; i < SHM_PAGES; i++)
		if (shm_written_by_child(i))
			fill_page(L.shm + i * PAGE_SIZE, 4000000 + i);
	fill_page(L.pnone + PAGE_SIZE, 5000001);
	mprotect(L.pnone, PNONE_PAGES * PAGE_SIZE, PROT_NONE);
	sink += L.huge[0] + L.huge[HUGE_SIZE - 1];
	(void)sink;
}

/* Which pages of [addr, addr + n pages) are present, as a bitmap in out. */
static int residency(const void *addr, unsigned long n, bool *out)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ uint64_t *pm = malloc(n * 8);

	if (fd < 0 || !pm || pread(fd, pm, n * 8, (unsigned long)addr / PAGE_SIZE * 8) != (ssize_t)(n * 8))
		return -1;
	for (unsigned long i = 0; i < n; i++)
		out[i] = pm[i] & (PME_PRESENT | PME_SWAP);
	return 0;
}

/* After the dump: memory and residency are as they were. Exit code 0 when so. */
static int child_check(const bool *before)
{
	bool after[ANON_PAGES];

	for (unsigned long i = 0; i < ANON_PAGES; i++)
		if (anon_written(i) && !page_matches(L.anon + i * PAGE_SIZE, 1000000 + i))
			return 10;
	if (residency(L.anon, ANON_PAGES, after))
		return 11;
	for (unsigned long i = 0; i < ANON_PAGES; i++)
		if (after[i] != before[i])
			return 12;
	if (!page_matches(L.shm + 10 * PAGE_SIZE, 4000010))
		return 13;
	return 0;
}

static void grandchild(int ready)
{
	fill_page(L.shm + 10 * PAGE_SIZE, 4000010);
	fill_page(L.shm + 200 * PAGE_SIZE, 4000200);
	if (write(ready, "g", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void child(int ready, int go)
{
	bool before[ANON_PAGES];
	int gp[2], gpid;
	char c;

	write_task_memory();
	if (pipe(gp))
		_exit(2);
	gpid = fork();
	if (gpid == 0) {
		close(gp[0]);
		grandchild(gp[1]);
	}
	if (read(gp[0], &c, 1) != 1)
		_exit(3);
	if (residency(L.anon, ANON_PAGES, before))
		_exit(4);
	if (write(ready, &gpid, sizeof(gpid)) != sizeof(gpid))
		_exit(5);
	/* the dump happens while we sit in read() */
	if (read(go, &c, 1) != 1)
		_exit(6);
	int r = child_check(before);
	kill(gpid, SIGKILL);
	waitpid(gpid, NULL, 0);
	_exit(r);
}

static int setup_layout(const char *file)
{
	_cleanup_close_ int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char page[PAGE_SIZE];

	if (fd < 0)
		return -1;
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(page, 'a' + i, sizeof(page));
		if (write(fd, page, sizeof(page)) != sizeof(page))
			return -1;
	}
	L.anon = mmap(NULL, ANON_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	L.fpriv = mmap(NULL, FILE_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	L.fshared = mmap(NULL, FILE_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	L.shm = mmap(NULL, SHM_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	L.pnone = mmap(NULL, PNONE_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *h = mmap(NULL, 2 * HUGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return -1;
	L.huge = (char *)(((unsigned long)h + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	madvise(L.huge, HUGE_SIZE, MADV_HUGEPAGE);
	if (L.anon == MAP_FAILED || L.fpriv == MAP_FAILED || L.fshared == MAP_FAILED || L.shm == MAP_FAILED ||
	    L.pnone == MAP_FAILED)
		return -1;
	/* keep THP out of the way: a huge page would make "untouched" pages present */
	madvise(L.anon, ANON_PAGES * PAGE_SIZE, MADV_NOHUGEPAGE);
	madvise(L.pnone, PNONE_PAGES * PAGE_SIZE, MADV_NOHUGEPAGE);
	return 0;
}

static const VmaEntry *find_vma(const MmEntry *mm, const void *addr)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->start <= (unsigned long)addr && (unsigned long)addr < mm->vmas[i]->end)
			return mm->vmas[i];
	return NULL;
}

/* The dumped bytes of the page at vaddr, or NULL when the page is not in the image. */
static bool dumped_page(const struct pagemap_read *r, unsigned long vaddr, void *page)
{
	for (size_t i = 0; i < r->nr; i++) {
		const PagemapEntry *pe = r->pmes[i];

		if (vaddr >= pe->vaddr && vaddr < pe->vaddr + (uint64_t)pe->nr_pages * PAGE_SIZE)
			return pread(r->pages_fd, page, PAGE_SIZE, r->offset[i] + (vaddr - pe->vaddr)) == PAGE_SIZE;
	}
	return false;
}

static void check_mm(int dfd, pid_t pid, const struct zero_pfns *zero)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_MM, O_RSTR, pid);
	MmEntry *mm = NULL;
	const VmaEntry *v;
	bool stack = false, vdso = false, vvar = false, vsys = false, heap = false;

	check(img && !img_is_empty(img) && pb_read_one(img, (void **)&mm, PB_MM) == 0, "mm-%d.img reads back", pid);
	if (img)
		close_image(img);
	if (!mm)
		return;
	v = find_vma(mm, L.anon);
	check(v && v->start == (unsigned long)L.anon && v->end == (unsigned long)L.anon + ANON_PAGES * PAGE_SIZE &&
		   v->status == (VMA_AREA_REGULAR | VMA_ANON_PRIVATE) && (v->flags & MAP_ANONYMOUS) &&
		   (v->flags & MAP_PRIVATE) && (v->flags & MAP_NORESERVE) && v->prot == (PROT_READ | PROT_WRITE) &&
		   v->has_madv && (v->madv & (1ULL << MADV_NOHUGEPAGE)),
	   "anon vma: status, flags (NORESERVE), prot, madv NOHUGEPAGE");
	v = find_vma(mm, L.fpriv);
	check(v && v->status == (VMA_AREA_REGULAR | VMA_FILE_PRIVATE) && v->shmid > 0 && v->fd == -1 &&
		   v->pgoff == 0 && !(v->flags & MAP_ANONYMOUS),
	   "private file vma: FILE_PRIVATE with a file id in shmid, fd -1 (as CRIU)");
	const VmaEntry *vs = find_vma(mm, L.fshared);
	check(vs && v && vs->status == (VMA_AREA_REGULAR | VMA_FILE_SHARED) && vs->shmid == v->shmid &&
		   (vs->flags & MAP_SHARED) && vs->has_fdflags && (vs->fdflags & O_ACCMODE) == O_RDWR,
	   "shared file vma: FILE_SHARED, same file id, opened O_RDWR");
	v = find_vma(mm, L.shm);
	check(v && v->status == (VMA_AREA_REGULAR | VMA_ANON_SHARED) && v->shmid == L.shm_ino &&
		   v->flags == (MAP_SHARED | MAP_ANONYMOUS),
	   "shared anon vma: ANON_SHARED, shmid = inode %lu", L.shm_ino);
	v = find_vma(mm, L.pnone);
	check(v && v->prot == PROT_NONE, "PROT_NONE vma recorded");
	for (size_t i = 0; i < mm->n_vmas; i++) {
		v = mm->vmas[i];
		if (v->status & VMA_AREA_STACK)
			stack = (v->flags & MAP_GROWSDOWN) && (v->status & VMA_ANON_PRIVATE);
		if (v->status & VMA_AREA_VDSO)
			vdso = v->prot == (PROT_READ | PROT_EXEC);
		if (v->status & VMA_AREA_VVAR)
			vvar = true;
		if (v->status & VMA_AREA_HEAP)
			heap = true;
		if (v->start >= 0xffffffffff600000UL)
			vsys = true;
	}
	check(stack && vdso && vvar && !vsys, "stack (GROWSDOWN), vdso, vvar recorded; vsyscall skipped");
	(void)heap;
	/* as CRIU keeps it: at most 44 words, the closing AT_NULL dropped when that makes it fit */
	check(mm->exe_file_id > 0 && mm->n_mm_saved_auxv >= 4 && mm->n_mm_saved_auxv % 2 == 0 &&
		   mm->n_mm_saved_auxv <= 44 &&
		   (mm->mm_saved_auxv[mm->n_mm_saved_auxv - 2] == 0 || mm->n_mm_saved_auxv == 44),
	   "exe file id %u, auxv of %zu words (at most 44), ending in AT_NULL unless 44", mm->exe_file_id,
	   mm->n_mm_saved_auxv);
	check(mm->mm_start_code && mm->mm_end_code > mm->mm_start_code && mm->mm_arg_end > mm->mm_arg_start &&
		   mm->mm_env_end > mm->mm_env_start && mm->mm_brk >= mm->mm_start_brk,
	   "mm fields from stat are sane");

	_cleanup_free_ char *page = malloc(PAGE_SIZE);
	struct pagemap_read r;
	int err = read_pagemap_image(dfd, CR_FD_PAGEMAP, pid, &r);
	unsigned long bad_present = 0, bad_absent = 0, bad_data = 0, zero_dumped = 0;

	check(!err, "pagemap-%d.img reads back (%d)", pid, err);
	if (err)
		goto out;
	for (unsigned long i = 0; i < ANON_PAGES; i++) {
		bool in = dumped_page(&r, (unsigned long)L.anon + i * PAGE_SIZE, page);

		if (anon_written(i)) {
			if (!in)
				bad_absent++;
			else if (!page_matches(page, 1000000 + i))
				bad_data++;
		} else if (in) {
			if (anon_read_only(i))
				zero_dumped++;
			else
				bad_present++;
		}
	}
	check(!bad_absent && !bad_data, "anon: every written page dumped with its data (%lu missing, %lu wrong)",
	   bad_absent, bad_data);
	check(!bad_present, "anon: untouched pages absent (%lu present)", bad_present);
	if (zero->pfn)
		check(!zero_dumped, "anon: read-faulted zero pages skipped (%lu dumped)", zero_dumped);
	else
		printf("# PFNs hidden: zero pages are dumped (%lu)\n", zero_dumped);
	unsigned long huge_dumped = 0;
	for (unsigned long a = 0; a < HUGE_SIZE; a += PAGE_SIZE)
		huge_dumped += dumped_page(&r, (unsigned long)L.huge + a, page);
	if (zero->huge)
		check(!huge_dumped, "anon: a read-faulted THP area (huge zero page) is not dumped (%lu pages)", huge_dumped);
	else
		printf("# no huge zero page known: %lu pages of a read-only THP area dumped\n", huge_dumped);

	bad_absent = bad_present = bad_data = 0;
	for (unsigned long i = 0; i < FILE_PAGES; i++) {
		bool in = dumped_page(&r, (unsigned long)L.fpriv + i * PAGE_SIZE, page);

		if (fpriv_written(i) && (!in || !page_matches(page, 2000000 + i)))
			bad_data++;
		if (!fpriv_written(i) && in)
			bad_present++;
	}
	check(!bad_data && !bad_present, "private file: only the written (anonymous) pages dumped (%lu bad, %lu extra)",
	   bad_data, bad_present);
	for (unsigned long i = 0; i < FILE_PAGES; i++)
		bad_present += dumped_page(&r, (unsigned long)L.fshared + i * PAGE_SIZE, page);
	for (unsigned long i = 0; i < SHM_PAGES; i++)
		bad_present += dumped_page(&r, (unsigned long)L.shm + i * PAGE_SIZE, page);
	check(!bad_present, "shared file and shared anon pages are not in the task's pagemap");
	check(dumped_page(&r, (unsigned long)L.pnone + PAGE_SIZE, page) && page_matches(page, 5000001) &&
		   !dumped_page(&r, (unsigned long)L.pnone, page),
	   "PROT_NONE area: the written page dumped (through /proc/PID/mem)");
	/* as CRIU: every page of the vdso (its restore compares them), none of the vvar */
	bool vvar_pages = false, vdso_all = true, have_vdso = false;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		v = mm->vmas[i];
		for (unsigned long a = v->start; a < v->end; a += PAGE_SIZE) {
			if (v->status & VMA_AREA_VVAR)
				vvar_pages |= dumped_page(&r, a, page);
			if (v->status & VMA_AREA_VDSO) {
				have_vdso = true;
				vdso_all &= dumped_page(&r, a, page);
			}
		}
	}
	check(!vvar_pages && (!have_vdso || vdso_all), "the vdso's pages dumped, no vvar page");
	check(r.nr_pages >= 3000 && r.nr < 1200, "%llu pages in %zu entries (runs merged)",
	   (unsigned long long)r.nr_pages, r.nr);
	pagemap_read_free(&r);
out:
	pb_free(mm, PB_MM);
}

static void check_shmem(int dfd)
{
	_cleanup_free_ char *page = malloc(PAGE_SIZE);
	struct pagemap_read r;
	unsigned long bad = 0, extra = 0;
	int err = read_pagemap_image(dfd, CR_FD_SHMEM_PAGEMAP, L.shm_ino, &r);

	check(!err, "pagemap-shmem-%lu.img reads back (%d)", L.shm_ino, err);
	if (err)
		return;
	for (unsigned long i = 0; i < SHM_PAGES; i++) {
		bool in = dumped_page(&r, i * PAGE_SIZE, page);

		if (shm_written_by_child(i) || shm_written_by_grandchild(i)) {
			if (!in || !page_matches(page, 4000000 + i))
				bad++;
		} else if (in) {
			extra++;
		}
	}
	check(!bad, "shmem: pages written by child and grandchild dumped at their offsets (%lu bad)", bad);
	check(!extra, "shmem: untouched pages absent (%lu extra)", extra);
	pagemap_read_free(&r);
}

/* Two image files of the same name in two directories are byte-equal (and not empty). */
static bool same_file(int dfd1, int dfd2, const char *fmt, ...)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	char name[128];
	ssize_t na, nb;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	na = read_file_alloc_at(dfd1, name, &a);
	nb = read_file_alloc_at(dfd2, name, &b);
	if (na <= 0 || na != nb || memcmp(a, b, na)) {
		printf("# %s differs (%zd vs %zd bytes)\n", name, na, nb);
		return false;
	}
	return true;
}

static int seize(pid_t pid, enum compel_task_state *st)
{
	int ret = compel_seize_stop(pid, st);

	if (ret)
		printf("# compel_seize_stop(%d): %s\n", pid, strerror(-ret));
	return ret;
}

int main(void)
{
	char dir[] = "/tmp/criu-test-mem-XXXXXX", file[4200];
	enum compel_task_state st_c, st_g;
	struct dump_files_ctx fctx;
	struct dump_mem_ctx ctx;
	struct pstree_item c = {}, g = {};
	int ready[2], go[2], status, dfd, ret;
	pid_t pid, gpid;
	struct stat sst;
	char name[128];

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(file, sizeof(file), "%s/mapped-file", dir);
	if (setup_layout(file) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	snprintf(name, sizeof(name), "/proc/self/map_files/%lx-%lx", (unsigned long)L.shm,
		 (unsigned long)L.shm + SHM_PAGES * PAGE_SIZE);
	if (stat(name, &sst)) {
		printf("Bail out! stat %s: %s\n", name, strerror(errno));
		return 1;
	}
	L.shm_ino = sst.st_ino;

	pid = fork();
	if (pid == 0)
		child(ready[1], go[0]);
	if (read(ready[0], &gpid, sizeof(gpid)) != sizeof(gpid)) {
		printf("Bail out! child setup failed\n");
		return 1;
	}

	check(!seize(pid, &st_c) && !seize(gpid, &st_g), "child %d and grandchild %d seized", pid, gpid);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(name, sizeof(name), "/proc/%d", pid);
	c.pid = pid;
	c.state = TASK_ALIVE;
	c.proc_dfd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(name, sizeof(name), "/proc/%d", gpid);
	g.pid = gpid;
	g.state = TASK_ALIVE;
	g.proc_dfd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ret = dump_files_init(&fctx, dfd, NULL);
	if (!ret)
		ret = dump_mem_ctx_init(&ctx);
	check(!ret, "contexts ready (zero pfn %#llx, huge zero pfn %#llx)", (unsigned long long)ctx.zero.pfn,
	   (unsigned long long)ctx.zero.huge);
	ret = dump_task_mm(dfd, &c, &ctx, &fctx);
	check(!ret, "dump_task_mm(child) = %d", ret);
	ret = dump_task_mm(dfd, &g, &ctx, &fctx);
	check(!ret, "dump_task_mm(grandchild) = %d", ret);
	check(ctx.shmems.nr == 1 && ctx.next_pages_id == 4,
	   "shared anon dumped once: %d object(s), pages ids 1..%u", ctx.shmems.nr, ctx.next_pages_id - 1);
	check(ctx.nr_memread > 0 && ctx.nr_readv && ctx.nr_readv * 64 <= ctx.nr_pages_dumped,
	   "batched copies: %lu process_vm_readv for %lu pages, %lu mem reads", ctx.nr_readv, ctx.nr_pages_dumped,
	   ctx.nr_memread);
	/* the sums taken while the pages were copied are the files' own: the manifest need not read them back */
	for (int i = 1; i <= 2; i++) {
		uint64_t ksize = 0, fsize = 0;
		uint32_t kcrc = 0, fcrc = 1;
		char pname[32];
		bool known;
		int fret;

		snprintf(pname, sizeof(pname), "pages-%d.img", i);
		known = image_crc_from_dump(dfd, pname, &ksize, &kcrc);
		fret = image_file_crc(dfd, pname, &fsize, &fcrc);
		check(known && !fret && ksize == fsize && kcrc == fcrc,
		   "%s summed while written: known %d, %llu bytes crc %#x; file %llu bytes crc %#x", pname, known,
		   (unsigned long long)ksize, kcrc, (unsigned long long)fsize, fcrc);
	}
	/* the same dump without the writer thread gives the same bytes */
	char dir2[4200];
	snprintf(dir2, sizeof(dir2), "%s/sync", dir);
	mkdir(dir2, 0700);
	int dfd2 = open(dir2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dump_mem_ctx ctx2;
	ret = dump_mem_ctx_init(&ctx2);
	ctx2.sync_writes = true;
	if (!ret)
		ret = dump_task_mm(dfd2, &c, &ctx2, &fctx);
	dump_mem_ctx_fini(&ctx2);
	check(!ret && same_file(dfd, dfd2, "pages-1.img") && same_file(dfd, dfd2, "pagemap-%d.img", pid) &&
		   same_file(dfd, dfd2, "pagemap-shmem-%lu.img", L.shm_ino) && same_file(dfd, dfd2, "pages-2.img"),
	   "synchronous writes give the same pagemap and pages images");
	close(dfd2);

	/* crit (ours, ./crit) reads them and encodes them back byte for byte */
	char cmd[9000];
	snprintf(cmd, sizeof(cmd), "sh %s/crit-check.sh -s '%s' >/dev/null 2>&1", dirname((char[4096]){ __FILE__ }), dir2);
	int rc = system(cmd);
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
		printf("# crit-check.sh skipped: images not checked with crit\n");
	else
		check(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "crit decodes mm, pagemap, pagemap-shmem and re-encodes them identically");

	struct pstree_item z = { .pid = pid, .state = TASK_DEAD, .proc_dfd = c.proc_dfd };
	check(dump_task_mm(dfd, &z, &ctx, &fctx) == -EINVAL, "a zombie item is refused with -EINVAL");
	dump_mem_ctx_fini(&ctx);
	dump_files_fini(&fctx);

	compel_detach(gpid, st_g, 0);
	compel_detach(pid, st_c, 0);

	check_mm(dfd, pid, &ctx.zero);
	check_shmem(dfd);

	/* a corrupt pagemap is refused, not crashed on */
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
	uint32_t junk[2] = { 64, 0xffffffff };
	struct pagemap_read r;
	check(fd >= 0 && pwrite(fd, junk, sizeof(junk), 14) == sizeof(junk) &&
		   read_pagemap_image(dfd, CR_FD_PAGEMAP, pid, &r) < 0,
	   "a corrupted pagemap image gives an error");
	close(fd);
	check(read_pagemap_image(dfd, CR_FD_PAGEMAP, 999999, &r) == -ENOENT, "a missing pagemap image gives -ENOENT");

	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid)
		status = -1;
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "child's memory and page residency unchanged by the dump (status %#x)", status);

	close(c.proc_dfd);
	close(g.proc_dfd);
	if (!getenv("KEEP_IMAGES")) {
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			printf("# could not remove %s\n", dir);
	} else {
		printf("# images kept in %s\n", dir);
	}
	close(dfd);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
