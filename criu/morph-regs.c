// SPDX-License-Identifier: GPL-2.0
/*
 * The morph's last step for each thread: the dumped registers and FPU/xstate,
 * converted from core-TID.img's ThreadInfoX86 into what ptrace takes, with the
 * syscall-restart fixup (a thread dumped inside an interrupted syscall gets it
 * again).
 */
#define LOG_PREFIX "morph: "
#include <cpuid.h>
#include <string.h>

#include "common.h"
#include "compel/compel.h"
#include "restore.h"
#include "syscall-resume.h"

#include "core.pb-c.h"

static void regs_from_image(const UserX86RegsEntry *g, compel_regs_t *r)
{
	r->r15 = g->r15;
	r->r14 = g->r14;
	r->r13 = g->r13;
	r->r12 = g->r12;
	r->rbp = g->bp;
	r->rbx = g->bx;
	r->r11 = g->r11;
	r->r10 = g->r10;
	r->r9 = g->r9;
	r->r8 = g->r8;
	r->rax = g->ax;
	r->rcx = g->cx;
	r->rdx = g->dx;
	r->rsi = g->si;
	r->rdi = g->di;
	r->orig_rax = g->orig_ax;
	r->rip = g->ip;
	r->cs = g->cs;
	r->eflags = g->flags;
	r->rsp = g->sp;
	r->ss = g->ss;
	r->fs_base = g->fs_base;
	r->gs_base = g->gs_base;
	r->ds = g->ds;
	r->es = g->es;
	r->fs = g->fs;
	r->gs = g->gs;
}

/* Copy n 32/64-bit image words into buf[off..off+max) (xsave component). */
static void put_words(void *buf, size_t bufsz, size_t off, size_t max, const void *w, size_t wsz)
{
	size_t len = min(wsz, max);

	if (!w || !len || off >= bufsz)
		return;
	len = min(len, bufsz - off);
	memcpy((char *)buf + off, w, len);
}

static size_t xsave_comp_off(unsigned int comp, size_t *ret_size)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(0xd, comp, &eax, &ebx, &ecx, &edx) || !eax) {
		*ret_size = 0;
		return 0;
	}
	*ret_size = eax;
	return ebx;
}

static int fpregs_from_image(pid_t tid, const UserX86FpregsEntry *f, struct compel_fpregs *fp)
{
	uint8_t *b = fp->buf;
	uint16_t w16[4] = { (uint16_t)f->cwd, (uint16_t)f->swd, (uint16_t)f->twd, (uint16_t)f->fop };

	if (fp->size < 512)
		return -EINVAL;
	memset(b, 0, 512);
	memcpy(b, w16, sizeof(w16));
	memcpy(b + 8, &f->rip, 8);
	memcpy(b + 16, &f->rdp, 8);
	memcpy(b + 24, &f->mxcsr, 4);
	memcpy(b + 28, &f->mxcsr_mask, 4);
	put_words(b, 512, 32, 128, f->st_space, f->n_st_space * 4);
	put_words(b, 512, 160, 256, f->xmm_space, f->n_xmm_space * 4);
	if (!fp->xsave)
		return 0;

	UserX86XsaveEntry *x = f->xsave;
	uint64_t bv = 3;	/* x87 + SSE from the legacy area */
	struct {
		unsigned int comp;
		const void *w;
		size_t len;
	} comps[] = {
		{ 2, x ? x->ymmh_space : NULL, x ? x->n_ymmh_space * 4 : 0 },
		{ 3, x ? x->bndreg_state : NULL, x ? x->n_bndreg_state * 8 : 0 },
		{ 4, x ? x->bndcsr_state : NULL, x ? x->n_bndcsr_state * 8 : 0 },
		{ 5, x ? x->opmask_reg : NULL, x ? x->n_opmask_reg * 8 : 0 },
		{ 6, x ? x->zmm_upper : NULL, x ? x->n_zmm_upper * 8 : 0 },
		{ 7, x ? x->hi16_zmm : NULL, x ? x->n_hi16_zmm * 8 : 0 },
		{ 9, x ? x->pkru : NULL, x ? x->n_pkru * 4 : 0 },
	};

	if (fp->size < 576)
		return -EINVAL;
	if (x)
		bv = x->xstate_bv;
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++) {
		size_t sz, off = xsave_comp_off(comps[i].comp, &sz);

		if (!sz)
			continue;
		if (off + sz <= fp->size)
			memset(b + off, 0, sz);
		put_words(b, fp->size, off, sz, comps[i].w, comps[i].len);
	}
	/* the xsave header: xstate_bv, xcomp_bv = 0 (standard format), reserved */
	memset(b + 512, 0, 64);
	memcpy(b + 512, &bv, 8);
	(void)tid;
	return 0;
}

int morph_set_regs(pid_t tid, const ThreadInfoX86 *ti, const ThreadCoreEntry *tc)
{
	struct compel_fpregs fp = {};
	compel_regs_t r;
	int ret;

	ret = compel_get_regs(tid, &r);
	if (ret)
		return ret;
	regs_from_image(ti->gpregs, &r);
	if (tc && tc->has_sc_resume) {
		/* dumped inside a syscall it makes again (syscall-resume.c) */
		ret = sc_restore_thread(tid, &r, tc);
		if (ret)
			return ret;
	} else {
		/* an image without it (CRIU's): the kernel's restart, EINTR for a restart block */
		compel_fixup_syscall_restart(&r);
		ret = compel_set_regs(tid, &r);
		if (ret)
			return pr_fail(ret, "%d: can't set registers: %s\n", tid, strerror(-ret));
	}
	if (!ti->fpregs)
		return 0;
	ret = compel_get_fpregs(tid, &fp);
	if (ret)
		return pr_fail(ret, "%d: can't read the FPU state\n", tid);
	ret = fpregs_from_image(tid, ti->fpregs, &fp);
	if (!ret)
		ret = compel_set_fpregs(tid, &fp);
	compel_fpregs_free(&fp);
	if (ret)
		return pr_fail(ret, "%d: can't set the FPU state: %s\n", tid, strerror(-ret));
	return 0;
}

