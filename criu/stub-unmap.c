// SPDX-License-Identifier: GPL-2.0
/*
 * A live stub drops the copy of criu it is (Documentation/restore.md, 2 and
 * 3): at the end of stage ready it unmaps all of itself but what the morph
 * keeps, from code in its trampoline, then reports the stage and parks there.
 * The stubs do it at the same time, each in its own address space, with no
 * ptrace round trip and without reading its maps (what it keeps is known:
 * the trampoline, criu's vdso block, the VMAs it built, mem-cow.c), where the
 * morph did it with a remote munmap per gap (bench/RESULTS.md, ninth session).
 *
 * The shared area, which the report goes through, is unmapped by the same
 * code right after the report. The stub's rseq area is unregistered first
 * (the kernel writes it while it is registered); when that fails its page is
 * kept and the morph unregisters it (step 1). The morph unmaps whatever it
 * still finds (unmap_stub() in mem-restore.c), so a stub that could not
 * unmap only costs time.
 */
#define LOG_PREFIX "restore: "
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "pstree.h"
#include "restore.h"
#include "rst-ctx.h"

/* Where the code goes in the trampoline (its first bytes are `syscall; int3`), and the list of gaps. */
#define UNMAP_CODE_OFF	64UL
#define UNMAP_LIST_OFF	RST_SCRATCH_OFF
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define UNMAP_LIST_MAX	((RST_TRAMP_SIZE - RST_SCRATCH_OFF) / (2 * sizeof(unsigned long)) - 2)

/*
 * Copied into the trampoline and run there, using no stack. In: rbx the list
 * of (start, length) pairs ended by a length of 0 and followed by one more
 * pair, the shared area, rdi &shared->nr_done, rsi &shared->futex. munmap
 * each pair; then what stub_done() does (count the stage done, bump the
 * futex, wake criu); then munmap the shared area, and pause() for good.
 */
asm(".pushsection .text\n"
    ".globl stub_unmap_code\n"
    ".hidden stub_unmap_code\n"
    "stub_unmap_code:\n\t"
    "movq %rdi, %r12\n\t"
    "movq %rsi, %r13\n"
    "1:\n\t"
    "movq 8(%rbx), %rsi\n\t"
    "testq %rsi, %rsi\n\t"
    "jz 2f\n\t"
    "movq (%rbx), %rdi\n\t"
    "movl $" STR(__NR_munmap) ", %eax\n\t"
    "syscall\n\t"
    "addq $16, %rbx\n\t"
    "jmp 1b\n"
    "2:\n\t"
    "lock addl $1, (%r12)\n\t"
    "lock addl $1, (%r13)\n\t"
    "movq %r13, %rdi\n\t"
    "movl $" STR(FUTEX_WAKE) ", %esi\n\t"
    "movl $0x7fffffff, %edx\n\t"
    "xorl %r10d, %r10d\n\t"
    "movl $" STR(__NR_futex) ", %eax\n\t"
    "syscall\n\t"
    "movq 24(%rbx), %rsi\n\t"
    "testq %rsi, %rsi\n\t"
    "jz 3f\n\t"
    "movq 16(%rbx), %rdi\n\t"
    "movl $" STR(__NR_munmap) ", %eax\n\t"
    "syscall\n"
    "3:\n\t"
    "movl $" STR(__NR_pause) ", %eax\n\t"
    "syscall\n\t"
    "jmp 3b\n"
    ".globl stub_unmap_code_end\n"
    ".hidden stub_unmap_code_end\n"
    "stub_unmap_code_end:\n"
    ".popsection\n");

extern const char stub_unmap_code[], stub_unmap_code_end[];
_Static_assert(UNMAP_CODE_OFF + 256 <= RST_SCRATCH_OFF, "the unmap code (under 100 bytes) overlaps the list");

/*
 * Unregister the stub's rseq area, which glibc registered in criu: the length
 * must be the one registered, at least 32 (the first struct rseq), more with
 * the fields glibc's __rseq_size counts. True when none is registered now.
 */
static bool drop_rseq(void)
{
	unsigned long a = (unsigned long)__builtin_thread_pointer() + __rseq_offset;
	unsigned int lens[] = { 32, __rseq_size, (__rseq_size + 31) & ~31U };

	if (__rseq_size == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++)
		if (lens[i] >= 32 && !syscall(__NR_rseq, a, lens[i], RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			return true;
	return false;
}

/* The page of the stub's rseq area, kept while it is registered (the morph unregisters it), or none. */
static int rseq_page(struct range *r)
{
	unsigned long a;

	if (drop_rseq())
		return 0;
	a = (unsigned long)__builtin_thread_pointer() + __rseq_offset;
	r->start = a & ~(PAGE_SIZE - 1);
	r->end = r->start + PAGE_SIZE;
	return 1;
}

int stub_unmap_plan(struct rst_ctx *ctx)
{
	_cleanup_free_ struct cur_vma *cur = NULL;
	int nr, ret = read_cur_maps(ctx, "self", &cur, &nr);

	if (ret)
		return pr_fail(ret, "can't read criu's own maps: %s\n", strerror(-ret));
	ctx->vdso_start = ctx->vdso_end = 0;
	for (int i = 0; i < nr; i++) {
		if (!is_vdso_name(cur[i].name))
			continue;
		if (!ctx->vdso_start)
			ctx->vdso_start = cur[i].start;
		ctx->vdso_end = cur[i].end;
	}
	return 0;
}

/* Is thread dir name (in dfd, self/task) asleep in pause()? Its syscall file starts with the number. */
static bool thread_in_pause(int dfd, const char *name)
{
	char path[300], buf[32] = "";
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/syscall", name);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	return n > 0 && !strncmp(buf, STR(__NR_pause) " ", strlen(STR(__NR_pause) " "));
}

/* How many threads of this stub but the caller (tid mine) are asleep in pause(); -errno. */
static int threads_in_pause(struct rst_ctx *ctx, const char *mine)
{
	_cleanup_close_ int dfd = openat(ctx->proc_fd, "self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0, fd;
	DIR *d;

	if (dfd < 0)
		return -errno;
	fd = dup(dfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && strcmp(e->d_name, mine) && thread_in_pause(dfd, e->d_name))
			n++;
	closedir(d);
	return n;
}

/*
 * The thread stubs loop on pause() in criu's code (restore-stub.c): a thread
 * made but not yet run would start in code this stub is about to unmap. So
 * its nr_threads - 1 thread stubs must be asleep in pause() first, where they
 * stay until the morph seizes them and gives them their own registers
 * (counted, not each thread of the dir waited for: a fill worker just joined,
 * mem-fill-stub.c, may still be there, exiting). False when they are not
 * within a second (the morph then unmaps).
 */
static bool threads_parked(struct rst_ctx *ctx, struct pstree_item *me)
{
	char self[32] = "";
	const char *mine;

	if (me->nr_threads < 2)
		return true;
	/* "PID/task/TID" */
	if (readlinkat(ctx->proc_fd, "thread-self", self, sizeof(self) - 1) < 0 || !(mine = strrchr(self, '/')))
		return false;
	for (int tries = 0; tries < 10000; tries++) {
		int n = threads_in_pause(ctx, mine + 1);

		if (n < 0)
			return false;
		if (n >= me->nr_threads - 1)
			return true;
		if (tries < 100)
			sched_yield();
		else
			usleep(100);
	}
	return false;
}

/*
 * The gaps to unmap, written into the trampoline's list: every gap between
 * what the stub keeps. Known without reading the stub's maps: it is a fork of
 * criu, its vdso block where criu's is.
 */
static void write_gap_list(struct rst_ctx *ctx, struct pstree_item *me)
{
	const struct rst_mem *mem = &rsti(me)->mem;
	unsigned long *list = (unsigned long *)(ctx->tramp + UNMAP_LIST_OFF);
	_cleanup_free_ struct range *gaps = NULL;
	struct range keep[4];
	int nk = 0, ng = -1;

	keep[nk++] = (struct range){ ctx->tramp, ctx->tramp + RST_TRAMP_SIZE };
	keep[nk++] = (struct range){ (unsigned long)ctx->shared, (unsigned long)ctx->shared + ctx->shared_size };
	if (ctx->vdso_end)
		keep[nk++] = (struct range){ ctx->vdso_start, ctx->vdso_end };
	nk += rseq_page(&keep[nk]);
	if (mem->mm && threads_parked(ctx, me))
		ng = stub_gaps(mem, ctx->tramp, NULL, 0, keep, nk, &gaps);
	/* none: the morph unmaps criu from this stub (more gaps than the list holds: the rest) */
	if (ng < 0)
		ng = 0;
	if (ng > (int)UNMAP_LIST_MAX)
		ng = UNMAP_LIST_MAX;
	for (int g = 0; g < ng; g++) {
		list[2 * g] = gaps[g].start;
		list[2 * g + 1] = gaps[g].end - gaps[g].start;
	}
	list[2 * ng] = list[2 * ng + 1] = 0;
	/* unmapped last, once criu has the report */
	list[2 * ng + 2] = (unsigned long)ctx->shared;
	list[2 * ng + 3] = ctx->shared_size;
}

void __attribute__((noreturn)) stub_unmap_and_park(struct rst_ctx *ctx, struct pstree_item *me)
{
	unsigned long code = ctx->tramp + UNMAP_CODE_OFF;

	memcpy((void *)code, stub_unmap_code, stub_unmap_code_end - stub_unmap_code);
	write_gap_list(ctx, me);
	asm volatile("jmp *%%rax"
		     :
		     : "a"(code), "b"(ctx->tramp + UNMAP_LIST_OFF), "D"(&ctx->shared->nr_done), "S"(&ctx->shared->futex)
		     : "memory");
	__builtin_unreachable();
}
