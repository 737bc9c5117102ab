// SPDX-License-Identifier: GPL-2.0
/*
 * The restore morph on real children, without dump images: a stub child maps
 * a trampoline and parks; the test builds a VMA list, a pagemap and a pages
 * file by hand and morphs the stub (restore_mem(), then a whole morph_task()
 * with registers, FPU state, signal mask and comm), and checks the result
 * from outside (/proc, process_vm_readv) and from what the morphed code does.
 * TAP output; exit 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "log.h"
#include "pstree.h"
#include "dump-core.h"
#include "restore.h"
#include "rst-ctx.h"
#include "compel/compel.h"

#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "vma.pb-c.h"
#include "tap.h"

/* crtools.c (not linked into unit tests) defines these */
__attribute__((weak)) struct cr_options opts;
__attribute__((weak)) bool fault_injected(const char *step)
{
	return false;
}

/*
 * Above 0x10007fff8000: below it ASan (make test SANITIZE=1) keeps its shadow
 * and the gap it maps inaccessible, and the stub's code, a copy of this
 * program, writes to TRAMP before the morph.
 */
#define TRAMP 0x500000000000UL
#define AREA_A 0x600000000000UL	/* 4 pages rw, pages 0,1,3 from the image */
#define AREA_B 0x600000010000UL	/* 2 pages r--, from the image */
#define AREA_C 0x600000020000UL	/* 1 page r-x: code, from the image */
#define AREA_N 0x600000030000UL	/* 1 page ---, no pages */
#define VDSO_AT 0x700000000000UL
#define WFD 100			/* the pipe end the morphed code writes to */

/* A stub: the trampoline at TRAMP, then pause() forever. */
static pid_t start_stub(int wfd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		static const uint8_t code[] = { 0x0f, 0x05, 0xcc };
		void *t = mmap((void *)TRAMP, RST_TRAMP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (t == MAP_FAILED)
			_exit(1);
		memcpy(t, code, sizeof(code));
		if (wfd >= 0 && dup2(wfd, WFD) < 0)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

struct cur_area {
	unsigned long start, end;
	char perms[8];
	char name[64];
};

/* a forked copy of this program maps every library criu links (libarchive brings a dozen) */
#define MAX_AREAS 512

static int read_maps(pid_t pid, struct cur_area *a, int max)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		int pos = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &a[n].start, &a[n].end, a[n].perms, &pos) < 3)
			continue;
		char *nm = line + pos;
		while (*nm == ' ')
			nm++;
		nm[strcspn(nm, "\n")] = 0;
		snprintf(a[n].name, sizeof(a[n].name), "%s", nm);
		n++;
	}
	fclose(f);
	return n;
}

static const struct cur_area *find_area(const struct cur_area *a, int n, unsigned long start)
{
	for (int i = 0; i < n; i++)
		if (a[i].start == start)
			return &a[i];
	return NULL;
}

/* ------------------------------------------------------ building an "image" */

struct fake_mm {
	MmEntry mm;
	VmaEntry vma[8];
	VmaEntry *vmap[8];
	PagemapEntry pe[8];
	PagemapEntry *pep[8];
	uint64_t auxv[4];
	int pages_fd;
};

static void add_vma(struct fake_mm *f, unsigned long start, unsigned long end, unsigned prot, unsigned status)
{
	VmaEntry *v = &f->vma[f->mm.n_vmas];

	vma_entry__init(v);
	v->start = start;
	v->end = end;
	v->prot = prot;
	v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
	v->status = VMA_AREA_REGULAR | VMA_ANON_PRIVATE | status;
	v->fd = -1;
	f->vmap[f->mm.n_vmas++] = v;
}

static void add_pe(struct fake_mm *f, int *n, unsigned long addr, unsigned nr)
{
	PagemapEntry *p = &f->pe[*n];

	pagemap_entry__init(p);
	p->vaddr = addr;
	p->nr_pages = nr;
	p->has_flags = true;
	p->flags = PE_PRESENT;
	f->pep[(*n)++] = p;
}

/*
 * The code of area C: *(rsi) = r12; *(rsi+8) = xmm0; getitimer(ITIMER_REAL, rsi+16);
 * write(WFD, rsi, 48); exit_group(42)
 */
static void make_code(uint8_t *page)
{
	uint8_t code[] = {
		0x48, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0,	/* movabs $AREA_A, %rsi */
		0x4c, 0x89, 0x26,			/* mov %r12, (%rsi) */
		0x66, 0x48, 0x0f, 0x7e, 0x46, 0x08,	/* movq %xmm0, 8(%rsi) */
		0x48, 0x89, 0xf3,			/* mov %rsi, %rbx */
		0x48, 0x8d, 0x76, 0x10,			/* lea 16(%rsi), %rsi */
		0xb8, 0x24, 0, 0, 0,			/* mov $36 (getitimer), %eax */
		0x31, 0xff,				/* xor %edi, %edi (ITIMER_REAL) */
		0x0f, 0x05,				/* syscall */
		0x48, 0x89, 0xde,			/* mov %rbx, %rsi */
		0xb8, 0x01, 0, 0, 0,			/* mov $1 (write), %eax */
		0xbf, WFD, 0, 0, 0,			/* mov $WFD, %edi */
		0xba, 0x30, 0, 0, 0,			/* mov $48, %edx */
		0x0f, 0x05,				/* syscall */
		0xb8, 0xe7, 0, 0, 0,			/* mov $231 (exit_group), %eax */
		0xbf, 0x2a, 0, 0, 0,			/* mov $42, %edi */
		0x0f, 0x05,				/* syscall */
		0xf4,					/* hlt: never reached */
	};
	uint64_t a = AREA_A;

	memcpy(code + 2, &a, 8);
	memset(page, 0xcc, PAGE_SIZE);
	memcpy(page, code, sizeof(code));
}

/* Build the VMAs (the vdso block comes from the stub, moved to VDSO_AT) and the pages file. */
static int build_fake_mm(struct fake_mm *f, pid_t stub)
{
	struct cur_area cur[MAX_AREAS];
	int n = read_maps(stub, cur, MAX_AREAS), npe = 0;
	unsigned long vdso_lo = 0;
	uint8_t page[PAGE_SIZE];
	char tmpl[] = "/tmp/test-restore-pages-XXXXXX";

	memset(f, 0, sizeof(*f));
	mm_entry__init(&f->mm);
	f->mm.vmas = f->vmap;
	add_vma(f, AREA_A, AREA_A + 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	add_vma(f, AREA_B, AREA_B + 2 * PAGE_SIZE, PROT_READ, 0);
	add_vma(f, AREA_C, AREA_C + PAGE_SIZE, PROT_READ | PROT_EXEC, 0);
	add_vma(f, AREA_N, AREA_N + PAGE_SIZE, PROT_NONE, 0);
	for (int i = 0; i < n; i++) {
		unsigned st;

		if (!strcmp(cur[i].name, "[vvar]") || !strcmp(cur[i].name, "[vvar_vclock]"))
			st = VMA_AREA_VVAR;
		else if (!strcmp(cur[i].name, "[vdso]"))
			st = VMA_AREA_VDSO;
		else
			continue;
		if (!vdso_lo)
			vdso_lo = cur[i].start;
		add_vma(f, VDSO_AT + (cur[i].start - vdso_lo), VDSO_AT + (cur[i].end - vdso_lo),
			st == VMA_AREA_VDSO ? PROT_READ | PROT_EXEC : PROT_READ, st);
	}

	add_pe(f, &npe, AREA_A, 2);
	add_pe(f, &npe, AREA_A + 3 * PAGE_SIZE, 1);
	add_pe(f, &npe, AREA_B, 2);
	add_pe(f, &npe, AREA_C, 1);

	f->pages_fd = mkstemp(tmpl);
	if (f->pages_fd < 0)
		return -1;
	unlink(tmpl);
	/* A0 A1 A3 B0 B1 C0 */
	const char tags[] = { 'a', 'b', 'd', 'x', 'y' };
	for (size_t i = 0; i < sizeof(tags); i++) {
		memset(page, tags[i], sizeof(page));
		if (write(f->pages_fd, page, sizeof(page)) != sizeof(page))
			return -1;
	}
	make_code(page);
	if (write(f->pages_fd, page, sizeof(page)) != sizeof(page))
		return -1;

	f->mm.mm_start_code = AREA_C;
	f->mm.mm_end_code = AREA_C + PAGE_SIZE;
	f->mm.mm_start_data = AREA_A;
	f->mm.mm_end_data = AREA_A + PAGE_SIZE;
	f->mm.mm_start_brk = AREA_A + 2 * PAGE_SIZE;
	f->mm.mm_brk = AREA_A + 2 * PAGE_SIZE;
	f->mm.mm_start_stack = AREA_A + 4 * PAGE_SIZE - 8;
	f->mm.mm_arg_start = AREA_A + 3 * PAGE_SIZE;
	f->mm.mm_arg_end = AREA_A + 3 * PAGE_SIZE + 16;
	f->mm.mm_env_start = AREA_A + 3 * PAGE_SIZE + 16;
	f->mm.mm_env_end = AREA_A + 3 * PAGE_SIZE + 32;
	f->auxv[0] = 6;	/* AT_PAGESZ */
	f->auxv[1] = PAGE_SIZE;
	f->mm.n_mm_saved_auxv = 4;
	f->mm.mm_saved_auxv = f->auxv;
	return npe;
}

static bool page_is(pid_t pid, unsigned long addr, int c)
{
	uint8_t buf[PAGE_SIZE];

	if (compel_mem_read(pid, -1, addr, buf, sizeof(buf)))
		return false;
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != (uint8_t)c)
			return false;
	return true;
}

static void stat_fields(pid_t pid, unsigned long *f, int first, int nr)
{
	char path[64], buf[4096], *p;
	int fd, n, idx = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');
	for (int i = 0; i < nr; i++)
		f[i] = 0;
	if (!p)
		return;
	p += 2;
	while (*p) {
		char *e;
		unsigned long v = strtoul(p, &e, 10);

		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if (idx >= first && idx < first + nr)
				f[idx - first] = v;
		}
		idx++;
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
}

/* ------------------------------------------------------ test 1: memory */

static void test_mem(void)
{
	struct rst_ctx ctx = { .img_dfd = -1, .proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) };
	struct fake_mm f;
	struct compel_rsys rs;
	struct rst_mem mem = { .pages_fd = -1 };
	enum compel_task_state st;
	struct cur_area cur[MAX_AREAS];
	pid_t pid = start_stub(-1);
	int npe, n, ret;

	check(pid > 0, "mem: stub started");
	if (pid <= 0)
		return;
	npe = build_fake_mm(&f, pid);
	check(npe > 0, "mem: fake images built");
	mem.mm = &f.mm;
	mem.pmes = f.pep;
	mem.nr_pmes = npe;
	mem.pages_fd = f.pages_fd;
	check(validate_mem(pid, &mem) == 0, "mem: validate_mem accepts the fake image");

	/* bad images are refused: pages outside the VMAs, runs out of order, VMAs overlapping */
	uint64_t keep = f.pe[1].vaddr;
	f.pe[1].vaddr = AREA_N + 2 * PAGE_SIZE;
	check(validate_mem(pid, &mem) == -EINVAL, "mem: validate_mem refuses pages outside every VMA");
	f.pe[1].vaddr = AREA_A;
	check(validate_mem(pid, &mem) == -EINVAL, "mem: validate_mem refuses overlapping page runs");
	f.pe[1].vaddr = keep;
	uint64_t keep_end = f.vma[0].end;
	f.vma[0].end = AREA_B + PAGE_SIZE;
	check(validate_mem(pid, &mem) == -EINVAL, "mem: validate_mem refuses overlapping VMAs");
	f.vma[0].end = keep_end;
	f.vma[1].status |= VMA_AREA_AIORING;
	check(validate_mem(pid, &mem) == -EINVAL, "mem: validate_mem refuses an AIO ring VMA without its aios entry");
	f.vma[1].status &= ~VMA_AREA_AIORING;
	AioRingEntry ring = AIO_RING_ENTRY__INIT, *ringp = &ring;
	ring.id = f.vma[1].start;
	ring.ring_len = 4096;
	ring.nr_req = 62;
	f.mm.n_aios = 1;
	f.mm.aios = &ringp;
	check(validate_mem(pid, &mem) == -EINVAL, "mem: validate_mem refuses an aios entry that names no AIO ring VMA");
	f.mm.n_aios = 0;
	f.mm.aios = NULL;
	check(validate_mem(pid, &mem) == 0, "mem: validate_mem accepts the image again");
	check(!mem_range_free(&mem, AREA_B, AREA_B + 1) && mem_range_free(&mem, TRAMP, TRAMP + RST_TRAMP_RESERVE),
	      "mem: mem_range_free");

	ret = compel_seize_stop(pid, &st);
	check(ret == 0, "mem: seized the stub (%d)", ret);
	ret = compel_rsys_prepare(&rs, pid, TRAMP);
	check(ret == 0, "mem: remote syscalls through the trampoline (%d)", ret);
	/* as morph_task() does: glibc's rseq area goes away with the stub's memory */
	struct compel_rseq_conf rc;
	if (!compel_get_rseq(pid, &rc) && rc.rseq_abi_pointer)
		rst_rsys(&rs, 334 /* rseq */, rc.rseq_abi_pointer, rc.rseq_abi_size, 1 /* UNREGISTER */, rc.signature,
			 0, 0);
	ret = restore_mem(&ctx, &rs, pid, TRAMP, &mem);
	check(ret == 0, "mem: restore_mem (%d)", ret);

	n = read_maps(pid, cur, MAX_AREAS);
	const struct cur_area *a = find_area(cur, n, AREA_A), *b = find_area(cur, n, AREA_B),
			      *c = find_area(cur, n, AREA_C), *z = find_area(cur, n, AREA_N),
			      *vv = find_area(cur, n, VDSO_AT);
	check(a && a->end == AREA_A + 4 * PAGE_SIZE && !strcmp(a->perms, "rw-p"), "mem: area A rw-p, 4 pages");
	check(b && b->end == AREA_B + 2 * PAGE_SIZE && !strcmp(b->perms, "r--p"), "mem: area B r--p after fill");
	check(c && !strcmp(c->perms, "r-xp"), "mem: area C r-xp");
	check(z && !strcmp(z->perms, "---p"), "mem: area N ---p");
	check(vv && !strcmp(vv->name, "[vvar]"), "mem: [vvar] moved to %#lx", VDSO_AT);
	bool vdso_ok = false, only_ours = true;
	for (int i = 0; i < n; i++) {
		if (!strcmp(cur[i].name, "[vdso]") && cur[i].start > VDSO_AT && cur[i].start < VDSO_AT + 0x100000)
			vdso_ok = true;
		if (cur[i].start >= AREA_A && cur[i].end <= AREA_N + PAGE_SIZE)
			continue;
		if (cur[i].start >= VDSO_AT && cur[i].end <= VDSO_AT + 0x100000)
			continue;
		if (cur[i].start == TRAMP || !strcmp(cur[i].name, "[vsyscall]"))
			continue;
		only_ours = false;
		printf("# unexpected area %lx-%lx %s %s\n", cur[i].start, cur[i].end, cur[i].perms, cur[i].name);
	}
	check(vdso_ok, "mem: [vdso] moved with the same delta");
	check(only_ours, "mem: nothing of the stub is left but the trampoline");
	check(page_is(pid, AREA_A, 'a') && page_is(pid, AREA_A + PAGE_SIZE, 'b') &&
		      page_is(pid, AREA_A + 2 * PAGE_SIZE, 0) && page_is(pid, AREA_A + 3 * PAGE_SIZE, 'd'),
	      "mem: area A holds the image's pages, the hole reads zero");
	check(page_is(pid, AREA_B, 'x') && page_is(pid, AREA_B + PAGE_SIZE, 'y'), "mem: read-only area B filled");

	unsigned long sf[7];
	stat_fields(pid, sf, 45, 7);
	check(sf[0] == AREA_A && sf[1] == AREA_A + PAGE_SIZE && sf[2] == AREA_A + 2 * PAGE_SIZE &&
		      sf[3] == AREA_A + 3 * PAGE_SIZE && sf[6] == AREA_A + 3 * PAGE_SIZE + 32,
	      "mem: PR_SET_MM_MAP fields in /proc/PID/stat (start_data %#lx brk %#lx env_end %#lx)", sf[0], sf[2],
	      sf[6]);

	compel_rsys_finish(&rs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(f.pages_fd);
	restore_mem_reset(&ctx);
	if (ctx.proc_fd > 0)
		close(ctx.proc_fd);
}

/* ------------------------------------------------------ test 2: the whole morph */

static void fill_fpregs(UserX86FpregsEntry *e, const struct compel_fpregs *fp, uint64_t xmm0)
{
	static uint32_t st_space[32], xmm_space[64], padding[24];
	const uint8_t *b = fp->buf;
	uint16_t w[4];

	memcpy(w, b, 8);
	e->cwd = w[0];
	e->swd = w[1];
	e->twd = w[2];
	e->fop = w[3];
	memcpy(&e->rip, b + 8, 8);
	memcpy(&e->rdp, b + 16, 8);
	memcpy(&e->mxcsr, b + 24, 4);
	memcpy(&e->mxcsr_mask, b + 28, 4);
	memcpy(st_space, b + 32, sizeof(st_space));
	memcpy(xmm_space, b + 160, sizeof(xmm_space));
	memcpy(xmm_space, &xmm0, 8);
	e->n_st_space = 32;
	e->st_space = st_space;
	e->n_xmm_space = 64;
	e->xmm_space = xmm_space;
	e->n_padding = 24;
	e->padding = padding;
}

static bool status_line(pid_t pid, const char *key, char *val, size_t sz)
{
	char path[64], line[256];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			char *v = line + strlen(key) + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = 0;
			snprintf(val, sz, "%s", v);
			found = true;
			break;
		}
	fclose(f);
	return found;
}

static void test_morph(void)
{
	const uint64_t r12 = 0x1122334455667788ULL, xmm0 = 0x0badc0ffee0ddf00ULL, blocked = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGALRM - 1));
	struct fake_mm f;
	int p[2], npe, ret, status;
	enum compel_task_state st;
	pid_t pid;

	if (pipe(p)) {
		check(0, "morph: pipe");
		return;
	}
	pid = start_stub(p[1]);
	close(p[1]);
	check(pid > 0, "morph: stub started");
	if (pid <= 0)
		return;
	npe = build_fake_mm(&f, pid);

	/* the registers: the stub's own (segments, flags) with rip/rsp/r12 of our choice */
	compel_regs_t regs;
	struct compel_fpregs fp = {};
	ret = compel_seize_stop(pid, &st);
	ret = ret ?: compel_get_regs(pid, &regs);
	ret = ret ?: compel_get_fpregs(pid, &fp);
	ret = ret ?: compel_detach(pid, st, 0);
	check(ret == 0, "morph: read the stub's registers (%d)", ret);
	regs.rip = AREA_C;
	regs.rsp = AREA_A + 4 * PAGE_SIZE - 64;
	regs.r12 = r12;
	regs.orig_rax = (unsigned long)-1;
	regs.rax = 0;

	UserX86RegsEntry g = USER_X86_REGS_ENTRY__INIT;
	UserX86FpregsEntry fe = USER_X86_FPREGS_ENTRY__INIT;
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	ThreadCoreEntry thc = THREAD_CORE_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CoreEntry core = CORE_ENTRY__INIT;
	CoreEntry *cores[1] = { &core };

	fill_gpregs(&regs, &g);
	fill_fpregs(&fe, &fp, xmm0);
	compel_fpregs_free(&fp);
	ti.gpregs = &g;
	ti.fpregs = &fe;
	tc.task_state = TASK_ALIVE;
	tc.comm = "morphed";
	tc.blk_sigset = blocked;
	/* an ITIMER_REAL far in the future, with an interval; SIGALRM stays blocked anyway */
	ItimerEntry real = ITIMER_ENTRY__INIT, zero = ITIMER_ENTRY__INIT;
	TaskTimersEntry timers = TASK_TIMERS_ENTRY__INIT;
	real.isec = 3600;
	real.vsec = 3000;
	real.vusec = 500000;
	timers.real = &real;
	timers.virt = &zero;
	timers.prof = &zero;
	tc.timers = &timers;
	core.mtype = CORE_ENTRY__MARCH__X86_64;
	core.thread_info = &ti;
	core.tc = &tc;
	core.thread_core = &thc;

	struct rst_info ri = { .core = cores, .slot = 0 };
	ri.mem.mm = &f.mm;
	ri.mem.pmes = f.pep;
	ri.mem.nr_pmes = npe;
	ri.mem.pages_fd = f.pages_fd;
	pid_t tids[1] = { pid };
	struct pstree_item item = { .pid = pid, .nr_threads = 1, .threads = tids, .priv = &ri };
	struct morph_task mt = { .item = &item, .tramp = TRAMP };
	struct rst_ctx ctx = { .img_dfd = -1, .proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) };

	ret = morph_task(&ctx, &mt);
	check(ret == 0, "morph: morph_task (%d)", ret);
	if (ret) {
		morph_abort(&mt);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		return;
	}

	char val[256] = "", comm[32] = "";
	struct cur_area cur[MAX_AREAS];
	int n = read_maps(pid, cur, MAX_AREAS);
	check(!find_area(cur, n, TRAMP), "morph: the trampoline is gone");
	check(status_line(pid, "SigBlk", val, sizeof(val)) && strtoull(val, NULL, 16) == blocked,
	      "morph: blocked mask %s", val);
	int cfd = open("/proc/self/comm", O_RDONLY);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	close(cfd);
	cfd = open(path, O_RDONLY);
	if (cfd >= 0) {
		int k = read(cfd, comm, sizeof(comm) - 1);
		comm[k > 0 ? k : 0] = 0;
		comm[strcspn(comm, "\n")] = 0;
		close(cfd);
	}
	check(!strcmp(comm, "morphed"), "morph: comm is '%s'", comm);

	ret = morph_release(&mt);
	check(ret == 0, "morph: released (%d)", ret);
	uint64_t got[6] = {};
	ssize_t rd = read(p[0], got, sizeof(got));
	check(rd == 48 && got[0] == r12, "morph: the code ran with r12 = %#" PRIx64, got[0]);
	check(rd == 48 && got[1] == xmm0, "morph: xmm0 = %#" PRIx64 " from the image's FPU state", got[1]);
	check(rd == 48 && got[2] == 3600 && got[3] == 0 && got[4] >= 2990 && got[4] <= 3000,
	      "morph: ITIMER_REAL interval %" PRIu64 "s, value %" PRIu64 ".%06" PRIu64 "s", got[2], got[4], got[5]);
	ret = waitpid(pid, &status, 0);
	check(ret == pid && WIFEXITED(status) && WEXITSTATUS(status) == 42, "morph: exit_group(42) (status %#x)",
	      status);
	close(p[0]);
	close(f.pages_fd);
	restore_mem_reset(&ctx);
	if (ctx.proc_fd > 0)
		close(ctx.proc_fd);
}

static void compel_log(int level, const char *fmt, va_list ap)
{
	if (getenv("RST_DEBUG"))
		vfprintf(stderr, fmt, ap);
}

int main(void)
{
	compel_log_init(compel_log);
	log_init(NULL);
	log_set_loglevel(getenv("RST_DEBUG") ? LOG_DEBUG : LOG_ERROR);
	setvbuf(stdout, NULL, _IONBF, 0);
	test_mem();
	test_morph();
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
