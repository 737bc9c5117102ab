// SPDX-License-Identifier: GPL-2.0
/*
 * core-TID.img: what the kernel keeps per task and per thread, besides memory and files.
 *
 * From ptrace: registers, FPU/xstate, blocked mask, pending signals, rseq.
 * From ptrace at the seize's event stop: the signal that stopped a stopped task.
 * From /proc (through item->proc_dfd): creds, caps (ambient ones too), no_new_privs, LSM labels (lsm.c),
 * groups, seccomp mode (the filters: seccomp.c), rlimits, personality, comm, loginuid, oom_score_adj.
 * From remote syscalls in the stopped threads (compel, fast contexts): signal actions,
 * sigaltstack, clear_tid address, parent-death signal, securebits, child-subreaper flag,
 * itimers and POSIX timers (ids from /proc/PID/timers); the dumpable and THP-disable
 * flags, which the mm image (mem.c) takes from the pstree item; membarrier registrations.
 * From criu itself: robust futex list (get_robust_list), scheduling parameters.
 * task-attrs.c: timer slack, CPU affinity, I/O priority, NUMA policy, PR_SET_TSC,
 * PR_MCE_KILL per thread; coredump_filter and PR_SET_MDWE per mm.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "core: "
#include "common.h"
#include "userns.h"
#include "core-ext.h"
#include "cr_options.h"
#include "compel/compel.h"
#include "dump-core.h"
#include "image.h"
#include "log.h"
#include "lsm.h"
#include "membarrier.h"
#include "namespaces.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "pstree.h"
#include "task-attrs.h"
#include "seccomp.h"

#include "syscall-resume.h"

#include "core.pb-c.h"

#define NR_SIGS 64
#define NR_DUMPED_SIGACTIONS (NR_SIGS - 2) /* all but SIGKILL and SIGSTOP, as CRIU */

/* Bytes of scratch the calls' results need (SA_BATCH sigactions), and the ABI's red zone. */
#define STACK_SCRATCH	256
#define RED_ZONE	128

/* the software-reserved bytes of the FXSAVE area tell which xstate the kernel wrote */
#define FXSAVE_SW_OFF 464
#define FP_XSTATE_MAGIC1 0x46505853U
#define XSAVE_HDR_OFF 512
#define XSAVE_HDR_SIZE 64

/* Remote syscall results: -errno of the syscall, or of compel itself. */
static long rcall(struct compel_rsys *rs, long nr, unsigned long a1, unsigned long a2, unsigned long a3,
		  unsigned long a4)
{
	long r;
	int err = compel_rsys(rs, &r, nr, a1, a2, a3, a4, 0, 0);

	return err ? err : r;
}

/* ------------------------------------------------------------ FPU / xstate */

struct fpregs_storage {
	uint32_t st[32], xmm[64], pad[24];
	UserX86XsaveEntry xs;
	uint32_t ymmh[64];		/* component 2: 256 bytes */
	uint64_t bndreg[8];		/* 3: 64 */
	uint64_t bndcsr[8];		/* 4: 64 */
	uint64_t opmask[8];		/* 5: 64 */
	uint64_t zmm[64];		/* 6: 512 */
	uint64_t hi16[128];		/* 7: 1024 */
	uint32_t pkru[2];		/* 9: 8 */
};

/* Copy xsave component comp (when the area holds it) into dst; returns the number of words. */
static size_t xsave_comp(const uint8_t *area, size_t size, uint64_t xfeatures, unsigned int comp, void *dst,
			 size_t dst_bytes, size_t word)
{
	unsigned int eax, ebx, ecx, edx;
	size_t len;

	if (!(xfeatures & (1ULL << comp)))
		return 0;
	if (!__get_cpuid_count(0xd, comp, &eax, &ebx, &ecx, &edx) || !eax || (ecx & 1))
		return 0;	/* unknown, or a supervisor component (not in the user area) */
	if ((size_t)ebx + eax > size)
		return 0;
	len = min((size_t)eax, dst_bytes);
	memcpy(dst, area + ebx, len);
	return len / word;
}

static uint64_t area_xfeatures(const uint8_t *area)
{
	uint32_t magic;
	uint64_t xf;
	uint32_t lo, hi;

	memcpy(&magic, area + FXSAVE_SW_OFF, sizeof(magic));
	if (magic == FP_XSTATE_MAGIC1) {
		memcpy(&xf, area + FXSAVE_SW_OFF + 8, sizeof(xf));
		return xf;
	}
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void fill_xsave(const uint8_t *area, size_t size, struct fpregs_storage *s)
{
	UserX86XsaveEntry *x = &s->xs;
	uint64_t xf = area_xfeatures(area);

	user_x86_xsave_entry__init(x);
	memcpy(&x->xstate_bv, area + XSAVE_HDR_OFF, sizeof(x->xstate_bv));
	x->n_ymmh_space = xsave_comp(area, size, xf, 2, s->ymmh, sizeof(s->ymmh), 4);
	x->ymmh_space = s->ymmh;
	x->n_bndreg_state = xsave_comp(area, size, xf, 3, s->bndreg, sizeof(s->bndreg), 8);
	x->bndreg_state = s->bndreg;
	x->n_bndcsr_state = xsave_comp(area, size, xf, 4, s->bndcsr, sizeof(s->bndcsr), 8);
	x->bndcsr_state = s->bndcsr;
	x->n_opmask_reg = xsave_comp(area, size, xf, 5, s->opmask, sizeof(s->opmask), 8);
	x->opmask_reg = s->opmask;
	x->n_zmm_upper = xsave_comp(area, size, xf, 6, s->zmm, sizeof(s->zmm), 8);
	x->zmm_upper = s->zmm;
	x->n_hi16_zmm = xsave_comp(area, size, xf, 7, s->hi16, sizeof(s->hi16), 8);
	x->hi16_zmm = s->hi16;
	x->n_pkru = xsave_comp(area, size, xf, 9, s->pkru, sizeof(s->pkru), 4);
	x->pkru = s->pkru;
}

/* The legacy FXSAVE area (struct user_fpregs_struct), then the xsave part when there is one. */
static int fill_fpregs(const struct compel_fpregs *fp, UserX86FpregsEntry *fe, struct fpregs_storage *s)
{
	const uint8_t *a = fp->buf;
	uint16_t w16[4];

	if (fp->size < 512 || (fp->xsave && fp->size < XSAVE_HDR_OFF + XSAVE_HDR_SIZE))
		return -EINVAL;
	user_x86_fpregs_entry__init(fe);
	memcpy(w16, a, sizeof(w16));
	fe->cwd = w16[0];
	fe->swd = w16[1];
	fe->twd = w16[2];
	fe->fop = w16[3];
	memcpy(&fe->rip, a + 8, 8);
	memcpy(&fe->rdp, a + 16, 8);
	memcpy(&fe->mxcsr, a + 24, 4);
	memcpy(&fe->mxcsr_mask, a + 28, 4);
	memcpy(s->st, a + 32, sizeof(s->st));
	memcpy(s->xmm, a + 160, sizeof(s->xmm));
	memcpy(s->pad, a + 416, sizeof(s->pad));
	fe->n_st_space = ARRAY_SIZE(s->st);
	fe->st_space = s->st;
	fe->n_xmm_space = ARRAY_SIZE(s->xmm);
	fe->xmm_space = s->xmm;
	fe->n_padding = ARRAY_SIZE(s->pad);
	fe->padding = s->pad;
	if (fp->xsave) {
		fill_xsave(a, fp->size, s);
		fe->xsave = &s->xs;
	}
	return 0;
}

void fill_gpregs(const compel_regs_t *r, UserX86RegsEntry *g)
{
	user_x86_regs_entry__init(g);
	g->r15 = r->r15;
	g->r14 = r->r14;
	g->r13 = r->r13;
	g->r12 = r->r12;
	g->bp = r->rbp;
	g->bx = r->rbx;
	g->r11 = r->r11;
	g->r10 = r->r10;
	g->r9 = r->r9;
	g->r8 = r->r8;
	g->ax = r->rax;
	g->cx = r->rcx;
	g->dx = r->rdx;
	g->si = r->rsi;
	g->di = r->rdi;
	g->orig_ax = r->orig_rax;
	g->ip = r->rip;
	g->cs = r->cs;
	g->flags = r->eflags;
	g->sp = r->rsp;
	g->ss = r->ss;
	g->fs_base = r->fs_base;
	g->gs_base = r->gs_base;
	g->ds = r->ds;
	g->es = r->es;
	g->fs = r->fs;
	g->gs = r->gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
}

/* ------------------------------------------------------------ signal queues */

struct sigq {
	SignalQueueEntry q;
	SiginfoEntry *e;
	SiginfoEntry **p;
	siginfo_t *raw;
};

static void sigq_free(struct sigq *s)
{
	free(s->e);
	free(s->p);
	free(s->raw);
}

static int sigq_fill(struct sigq *s, pid_t tid, bool shared)
{
	int n = compel_get_pending(tid, shared, &s->raw);

	signal_queue_entry__init(&s->q);
	if (n <= 0)
		return n;
	s->e = calloc(n, sizeof(*s->e));
	s->p = calloc(n, sizeof(*s->p));
	if (!s->e || !s->p)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		siginfo_entry__init(&s->e[i]);
		s->e[i].siginfo.len = sizeof(siginfo_t);
		s->e[i].siginfo.data = (uint8_t *)&s->raw[i];
		s->p[i] = &s->e[i];
	}
	s->q.n_signals = n;
	s->q.signals = s->p;
	return 0;
}

/* ------------------------------------------------------------ per thread */

struct sas_val {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

/* The leader's own reads made in its blob (fill_blob()): results and what the calls wrote. */
struct thread_reads {
	long secbits, tid_addr_ret, sas_ret, pdeath_ret;
	uint64_t tid_addr;
	struct sas_val ss;
	int32_t pdeath;
	struct thread_attr_reads attrs;
};

struct thread_dump {
	pid_t tid;
	int dfd;			/* /proc/PID/task/TID */
	struct compel_rsys rs;
	CoreEntry core;
	ThreadInfoX86 ti;
	UserX86RegsEntry gp;
	UserX86FpregsEntry fpe;
	struct fpregs_storage fps;
	struct compel_fpregs fp;
	ThreadCoreEntry tc;
	ThreadSasEntry sas;
	CredsEntry creds;
	uint32_t caps[5][2];
	struct proc_status st;
	RseqEntry rseq;
	char *lsm[2];			/* the LSM labels in creds (lsm.c) */
	struct sigq sigs;
	struct thread_attrs attrs;
	char comm[64];
	int stop_sig;			/* leader: the group-stop signal, 0 when not stopped or unknown */
	bool stopped;			/* the task is in a group stop */
	const struct sc_seen *seen;	/* see pstree_item.sc_seen */
	bool blob_room;			/* leader: its [stack] holds a blob's area (blob_area()) */
	const struct thread_reads *pre;	/* leader: its reads made in the blob, or NULL */
};

static void caps_words(uint64_t v, uint32_t w[2])
{
	w[0] = (uint32_t)v;
	w[1] = (uint32_t)(v >> 32);
}

static int fill_creds(struct thread_dump *t)
{
	CredsEntry *c = &t->creds;
	long r;
	int ret;

	/* /proc shows criu's view of the ids; the image has the task's own (userns.c) */
	ret = userns_creds_inside(t->dfd, t->tid, t->st.uid, t->st.gid, t->st.groups, t->st.ngroups);
	if (ret)
		return ret;
	creds_entry__init(c);
	c->uid = t->st.uid[0];
	c->euid = t->st.uid[1];
	c->suid = t->st.uid[2];
	c->fsuid = t->st.uid[3];
	c->gid = t->st.gid[0];
	c->egid = t->st.gid[1];
	c->sgid = t->st.gid[2];
	c->fsgid = t->st.gid[3];
	caps_words(t->st.cap_inh, t->caps[0]);
	caps_words(t->st.cap_prm, t->caps[1]);
	caps_words(t->st.cap_eff, t->caps[2]);
	caps_words(t->st.cap_bnd, t->caps[3]);
	c->n_cap_inh = c->n_cap_prm = c->n_cap_eff = c->n_cap_bnd = 2;
	c->cap_inh = t->caps[0];
	c->cap_prm = t->caps[1];
	c->cap_eff = t->caps[2];
	c->cap_bnd = t->caps[3];
	caps_words(t->st.cap_amb, t->caps[4]);
	c->n_cap_amb = 2;
	c->cap_amb = t->caps[4];
	c->has_no_new_privs = true;
	c->no_new_privs = t->st.no_new_privs > 0;
	c->n_groups = t->st.ngroups;
	c->groups = t->st.groups;
	r = t->pre ? t->pre->secbits : rcall(&t->rs, __NR_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (r < 0)
		return (int)r;
	c->secbits = (uint32_t)r;
	t->tc.creds = c;
	return dump_thread_lsm(t->dfd, t->tid, c, t->lsm);
}

/*
 * A call of the thread's that writes len bytes to scratch, and those bytes;
 * or, with pre_ret, what the blob's call returned and wrote (pre_val).
 */
static int remote_read(struct thread_dump *t, unsigned long scratch, long nr, unsigned long a1, unsigned long a2,
		       const long *pre_ret, const void *pre_val, void *val, size_t len)
{
	long r = pre_ret ? *pre_ret : rcall(&t->rs, nr, a1, a2, 0, 0);

	if (r < 0)
		return (int)r;
	if (pre_ret) {
		memcpy(val, pre_val, len);
		return 0;
	}
	return compel_mem_read(t->tid, t->rs.mem_fd, scratch, val, len);
}

/* Things only the thread itself can tell: tid address, sigaltstack, pdeath signal. */
static int fill_remote_thread(struct thread_dump *t, unsigned long scratch)
{
	const struct thread_reads *pre = t->pre;
	struct sas_val ss;
	uint64_t tid_addr;
	int32_t sig;
	int ret;

	ret = remote_read(t, scratch, __NR_prctl, PR_GET_TID_ADDRESS, scratch, pre ? &pre->tid_addr_ret : NULL,
			  pre ? &pre->tid_addr : NULL, &tid_addr, sizeof(tid_addr));
	if (ret)
		return ret;
	t->ti.clear_tid_addr = tid_addr;

	ret = remote_read(t, scratch, __NR_sigaltstack, 0, scratch, pre ? &pre->sas_ret : NULL, pre ? &pre->ss : NULL,
			  &ss, sizeof(ss));
	if (ret)
		return ret;
	thread_sas_entry__init(&t->sas);
	t->sas.ss_sp = ss.sp;
	t->sas.ss_size = ss.size;
	t->sas.ss_flags = (uint32_t)ss.flags;
	t->tc.sas = &t->sas;

	ret = remote_read(t, scratch, __NR_prctl, PR_GET_PDEATHSIG, scratch, pre ? &pre->pdeath_ret : NULL,
			  pre ? &pre->pdeath : NULL, &sig, sizeof(sig));
	if (ret)
		return ret;
	if (sig) {
		t->tc.has_pdeath_sig = true;
		t->tc.pdeath_sig = sig;
	}
	return fill_creds(t);
}

static int fill_rseq(struct thread_dump *t)
{
	struct compel_rseq_conf c;
	uint64_t cs = 0;
	int ret = compel_get_rseq(t->tid, &c);

	if (ret == -EIO || ret == -EINVAL)
		return 0;	/* a kernel without PTRACE_GET_RSEQ_CONFIGURATION */
	if (ret)
		return ret;
	rseq_entry__init(&t->rseq);
	t->rseq.rseq_abi_pointer = c.rseq_abi_pointer;
	t->rseq.rseq_abi_size = c.rseq_abi_size;
	t->rseq.signature = c.signature;
	/* struct rseq: u32 cpu_id_start, u32 cpu_id, u64 rseq_cs: a critical section in progress */
	if (c.rseq_abi_pointer && !compel_mem_read(t->tid, t->rs.mem_fd, c.rseq_abi_pointer + 8, &cs, sizeof(cs)) &&
	    cs) {
		t->rseq.has_rseq_cs_pointer = true;
		t->rseq.rseq_cs_pointer = cs;
	}
	t->tc.rseq_entry = &t->rseq;
	return 0;
}

static void fill_sched(struct thread_dump *t)
{
	struct sched_param sp;
	int policy, nice;

	policy = sched_getscheduler(t->tid);
	if (policy >= 0) {
		t->tc.has_sched_policy = true;
		t->tc.sched_policy = policy;
	}
	if (!sched_getparam(t->tid, &sp)) {
		t->tc.has_sched_prio = true;
		t->tc.sched_prio = sp.sched_priority;
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, t->tid);
	if (!errno) {
		t->tc.has_sched_nice = true;
		t->tc.sched_nice = nice;
	}
}

/* Everything of one thread but the per-process part. */
static int fill_thread(struct thread_dump *t, unsigned long scratch)
{
	struct proc_pid_stat stat;
	long head_len = 0;
	unsigned long head = 0;
	int ret;

	core_entry__init(&t->core);
	t->core.mtype = CORE_ENTRY__MARCH__X86_64;
	thread_info_x86__init(&t->ti);
	thread_core_entry__init(&t->tc);
	t->core.thread_info = &t->ti;
	t->core.thread_core = &t->tc;

	/*
	 * a fast remote-syscall context: the thread's own regs and mask are the
	 * saved ones. The image holds them as CRIU writes them: those to resume
	 * with, a syscall interrupted by the dump already set to run again
	 * (CRIU's restore takes ax and ip as they are); orig_ax as it was.
	 */
	compel_regs_t resume = t->rs.saved;

	compel_fixup_syscall_restart(&resume);
	resume.orig_rax = t->rs.saved.orig_rax;
	fill_gpregs(&resume, &t->gp);
	t->ti.gpregs = &t->gp;
	ret = compel_get_fpregs(t->tid, &t->fp);
	if (ret)
		return ret;
	ret = fill_fpregs(&t->fp, &t->fpe, &t->fps);
	if (ret)
		return ret;
	t->ti.fpregs = &t->fpe;
	ret = sc_dump_thread(t->tid, t->rs.mem_fd, &t->rs.saved, t->stopped, t->seen, &t->tc);
	if (ret)
		return ret;

	t->tc.has_blk_sigset = true;
	t->tc.blk_sigset = t->rs.saved_mask;

	ret = sigq_fill(&t->sigs, t->tid, false);
	if (ret)
		return ret;
	if (t->sigs.q.n_signals)
		t->tc.signals_p = &t->sigs.q;

	if (syscall(SYS_get_robust_list, t->tid, &head, &head_len))
		return -errno;
	t->tc.futex_rla = head;
	t->tc.futex_rla_len = (uint32_t)head_len;

	ret = parse_pid_stat(t->dfd, &stat);
	if (ret)
		return ret;
	snprintf(t->comm, sizeof(t->comm), "%s", stat.comm);
	t->tc.comm = t->comm;

	fill_sched(t);
	ret = dump_thread_attrs_pre(&t->rs, scratch, &t->attrs, &t->tc, t->pre ? &t->pre->attrs : NULL);
	if (ret)
		return ret;

	ret = fill_rseq(t);
	if (ret)
		return ret;
	return fill_remote_thread(t, scratch);
}

/* The thread's seccomp mode and its newest filter in seccomp.img (dump_seccomp() found it). */
static int fill_seccomp(struct thread_dump *t, struct pstree_item *item, int idx)
{
	int mode = t->st.seccomp;

	if (mode <= 0)
		return 0;	/* disabled: not written, as CRIU */
	t->tc.has_seccomp_mode = true;
	t->tc.seccomp_mode = mode == 1 ? SECCOMP_MODE__strict : SECCOMP_MODE__filter;
	if (mode == 1)
		return 0;
	if (item->seccomp_filter && item->seccomp_filter[idx] == SECCOMP_BY_TSYNC) {
		t->tc.seccomp_mode = SECCOMP_MODE__disabled;	/* the leader's filters reach it by TSYNC (CRIU's way) */
		return 0;
	}
	if (!item->seccomp_filter || item->seccomp_filter[idx] < 0)
		return pr_fail(-EINVAL, "thread %d of task %d: seccomp filters appeared after they were read\n",
			       t->tid, item->pid);
	t->tc.has_seccomp_filter = true;
	t->tc.seccomp_filter = (uint32_t)item->seccomp_filter[idx];
	return 0;
}

static void thread_free(struct thread_dump *t)
{
	compel_fpregs_free(&t->fp);
	proc_status_free(&t->st);
	free(t->lsm[0]);
	free(t->lsm[1]);
	sigq_free(&t->sigs);
	if (t->dfd >= 0)
		close(t->dfd);
	t->dfd = -1;
}

/* ------------------------------------------------------------ per process */

struct task_dump {
	TaskCoreEntry tc;
	TaskRlimitsEntry rl;
	RlimitEntry rle[PROC_RLIM_NLIMITS];
	RlimitEntry *rlp[PROC_RLIM_NLIMITS];
	SaEntry sa[NR_DUMPED_SIGACTIONS];
	SaEntry *sap[NR_DUMPED_SIGACTIONS];
	struct sigq sigs;
	char comm[64];
	TaskTimersEntry timers;
	ItimerEntry itimers[3];
	PosixTimerEntry *posix;
	PosixTimerEntry **posixp;
	struct core_reads *reads;	/* the leader's read-only calls made in one blob, or NULL */
};

static int read_int_at(int dfd, const char *path, int base, long *ret)
{
	char buf[64], *end;
	int r = read_file_at(dfd, path, buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	*ret = strtol(buf, &end, base);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Actions read per batch of remote calls: as many as the smallest scratch area holds. */
#define SA_BATCH (STACK_SCRATCH / sizeof(struct kernel_sigaction))

static void put_sigaction(struct task_dump *d, int n, const struct kernel_sigaction *ka)
{
	sa_entry__init(&d->sa[n]);
	d->sa[n].sigaction = ka->handler;
	d->sa[n].flags = ka->flags;
	d->sa[n].restorer = ka->restorer;
	d->sa[n].mask = ka->mask;
	d->sap[n] = &d->sa[n];
}

/* ------------------------------------------------------------ the core's reads in one blob */

struct itimer_val {
	int64_t isec, iusec, vsec, vusec;
};

/*
 * What the leader's read-only calls write, as the blob's area holds it after
 * its table (compel_rsys_blob()), and their results.
 */
struct core_outs {
	struct kernel_sigaction ka[NR_DUMPED_SIGACTIONS];
	struct itimer_val it[3];
	int32_t subreaper;
	int32_t pdeath;
	uint64_t tid_addr;
	struct sas_val ss;
	int32_t tsc_mode, mempolicy_mode;
	uint64_t nodes[TA_NODE_WORDS];
};

/*
 * The calls: every action, the 3 itimers, the subreaper flag, fill_mm_flags()'s
 * three, then the leader thread's own reads (fill_creds(), fill_remote_thread(),
 * dump_thread_attrs_pre()), PR_GET_MDWE and the membarrier registrations; last,
 * when slack_default_calls() gives them, the three calls that read the leader's
 * default timer slack (set 0, get, set back: the one change of state, which
 * the table itself undoes, even for a thread a killed criu let go in the
 * blob). Without them the table is SLACK_CALLS shorter.
 */
#define BLOB_IT (NR_DUMPED_SIGACTIONS)
#define BLOB_SUB (BLOB_IT + 3)
#define BLOB_MM (BLOB_SUB + 1)
#define BLOB_THR (BLOB_MM + 3)
enum {
	THR_SECBITS, THR_TID_ADDR, THR_SAS, THR_PDEATH, THR_SLACK, THR_MPOL, THR_TSC, THR_MCE, THR_MDWE,
	THR_MEMBARRIER, THR_SLACK_ZERO, THR_SLACK_DEF, THR_SLACK_SET, THR_N
};
_Static_assert(THR_SLACK_ZERO + SLACK_CALLS == THR_N, "the slack's calls end the table");
#define BLOB_CALLS (BLOB_THR + THR_N)

#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif

struct core_reads {
	struct core_outs o;
	long rets[BLOB_CALLS];
	struct thread_reads thr;	/* the leader's, from rets and o */
	long mdwe, membarrier;
};

/* The blob's table and outputs: on the stack, 1 KiB below rsp (past what the recovery code pushes). */
static unsigned long blob_area(unsigned long rsp)
{
	return (rsp - 1024 - compel_rsys_blob_size(BLOB_CALLS) - sizeof(struct core_outs)) & ~63UL;
}

static const int itimer_which[3] = { ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF };

static void blob_calls(struct compel_rsys_call *c, unsigned long out)
{
	int n = 0;

	for (int sig = 1; sig <= NR_SIGS; sig++)
		if (sig != SIGKILL && sig != SIGSTOP) {
			c[n] = (struct compel_rsys_call){ __NR_rt_sigaction,
				{ sig, 0, out + offsetof(struct core_outs, ka[n]), 8 } };
			n++;
		}
	for (int i = 0; i < 3; i++)
		c[BLOB_IT + i] = (struct compel_rsys_call){ __NR_getitimer,
			{ itimer_which[i], out + offsetof(struct core_outs, it[i]) } };
	c[BLOB_SUB] = (struct compel_rsys_call){ __NR_prctl,
		{ PR_GET_CHILD_SUBREAPER, out + offsetof(struct core_outs, subreaper) } };
	c[BLOB_MM] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_DUMPABLE } };
	c[BLOB_MM + 1] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_THP_DISABLE } };
	c[BLOB_MM + 2] = (struct compel_rsys_call){ __NR_brk, { 0 } };
	c[BLOB_THR + THR_SECBITS] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_SECUREBITS } };
	c[BLOB_THR + THR_TID_ADDR] = (struct compel_rsys_call){ __NR_prctl,
		{ PR_GET_TID_ADDRESS, out + offsetof(struct core_outs, tid_addr) } };
	c[BLOB_THR + THR_SAS] = (struct compel_rsys_call){ __NR_sigaltstack, { 0, out + offsetof(struct core_outs, ss) } };
	c[BLOB_THR + THR_PDEATH] = (struct compel_rsys_call){ __NR_prctl,
		{ PR_GET_PDEATHSIG, out + offsetof(struct core_outs, pdeath) } };
	c[BLOB_THR + THR_SLACK] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_TIMERSLACK } };
	/* as dump_mempolicy(): the mode, then the nodes of a mask of TA_NODE_WORDS * 64 + 1 bits */
	c[BLOB_THR + THR_MPOL] = (struct compel_rsys_call){ __NR_get_mempolicy,
		{ out + offsetof(struct core_outs, mempolicy_mode), out + offsetof(struct core_outs, nodes),
		  TA_NODE_WORDS * 64 + 1 } };
	c[BLOB_THR + THR_TSC] = (struct compel_rsys_call){ __NR_prctl,
		{ PR_GET_TSC, out + offsetof(struct core_outs, tsc_mode) } };
	c[BLOB_THR + THR_MCE] = (struct compel_rsys_call){ __NR_prctl, { PR_MCE_KILL_GET } };
	c[BLOB_THR + THR_MDWE] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_MDWE } };
	membarrier_read_call(&c[BLOB_THR + THR_MEMBARRIER]);
}

/*
 * The leader thread's part of the blob's results, as its fill functions take
 * them; slack_back: the slack the table's last call put back, 0 when the
 * table had no calls for the default.
 */
static void blob_thread_reads(struct core_reads *r, unsigned long slack_back)
{
	const long *t = &r->rets[BLOB_THR];
	struct thread_reads *p = &r->thr;

	p->secbits = t[THR_SECBITS];
	p->tid_addr_ret = t[THR_TID_ADDR];
	p->tid_addr = r->o.tid_addr;
	p->sas_ret = t[THR_SAS];
	p->ss = r->o.ss;
	p->pdeath_ret = t[THR_PDEATH];
	p->pdeath = r->o.pdeath;
	p->attrs.slack = t[THR_SLACK];
	p->attrs.mempolicy = t[THR_MPOL];
	p->attrs.mempolicy_mode = r->o.mempolicy_mode;
	memcpy(p->attrs.nodes, r->o.nodes, sizeof(p->attrs.nodes));
	p->attrs.tsc = t[THR_TSC];
	p->attrs.tsc_mode = r->o.tsc_mode;
	p->attrs.mce = t[THR_MCE];
	r->mdwe = t[THR_MDWE];
	r->membarrier = t[THR_MEMBARRIER];
	if (!slack_back)
		return;
	p->attrs.slack_back = slack_back;
	p->attrs.slack_zero = t[THR_SLACK_ZERO];
	p->attrs.slack_def = t[THR_SLACK_DEF];
	p->attrs.slack_set = t[THR_SLACK_SET];
}

/*
 * The signal that ends a blob: one the task does not catch, the leader does
 * not block and that is not pending (see compel_rsys_blob()); 0 if none.
 */
static int blob_signal(const struct proc_status *st)
{
	static const int cand[] = { SIGURG, SIGWINCH, SIGCHLD };

	for (size_t i = 0; i < ARRAY_SIZE(cand); i++) {
		uint64_t bit = 1ULL << (cand[i] - 1);

		if (!((st->sigcgt | st->sigblk | st->sigpnd | st->shdpnd) & bit))
			return cand[i];
	}
	return 0;
}

/* CRIU_FAULT=dump-core-blob-kill: criu dies while the leader runs its blob */
static void blob_running(void *arg)
{
	(void)arg;
	if (fault_injected("dump-core-blob-kill"))
		kill(getpid(), SIGKILL);
}

/* CRIU_FAULT=dump-core-slack-race: someone sets the leader's slack (to slack + 1) after criu read it */
static void blob_slack_race(struct pstree_item *item, unsigned long slack)
{
	char buf[32];

	if (!slack || !fault_injected("dump-core-slack-race"))
		return;
	snprintf(buf, sizeof(buf), "%lu", slack + 1);
	if (write_file_at(item->proc_dfd, "timerslack_ns", buf))
		pr_warn("%d: can't write its timerslack_ns\n", item->pid);
}

/*
 * The leader's read-only calls (signal actions, itimers, subreaper, mm flags,
 * its thread's reads, membarrier) and the read of its default timer slack in
 * one resume of it (compel_rsys_blob()), with the table and the outputs on its
 * stack below the one the recovery code uses, when that lies in [stack].
 * 0 and d->reads set when done; 0 and d->reads NULL when the blob can't be
 * used (the calls are made one by one then); <0 on a failure, the slack put
 * back (the thread may have stopped in the table between its set to 0 and the
 * set back).
 */
static int fill_blob(struct task_dump *d, struct pstree_item *item, struct thread_dump *leader)
{
	struct compel_rsys_call calls[BLOB_CALLS];
	size_t tsize = compel_rsys_blob_size(BLOB_CALLS);
	unsigned long rsp = leader->rs.saved.rsp, area = blob_area(rsp);
	const struct proc_status *st = &leader->st;
	struct compel_rsys_blob b = {
		.area = area,
		.sig = blob_signal(st),
		.tgid = st->ns_levels ? st->nstgid[st->ns_levels - 1] : st->tgid,
		.tid = st->ns_levels ? st->nspid[st->ns_levels - 1] : st->pid,
		.running = blob_running,
	};
	struct core_reads *r;
	unsigned long slack = 0;
	size_t n = BLOB_CALLS - SLACK_CALLS;
	int ret;

	/* a seccomp filter could refuse the tgkill: the thread would run on by itself */
	if (!b.sig || !leader->blob_room || st->seccomp > 0) {
		pr_debug("%d: no blob (signal %d, stack %d, seccomp %d)\n", item->pid, b.sig, leader->blob_room,
			 st->seccomp);
		return 0;
	}
	r = xzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	blob_calls(calls, area + tsize);
	n += slack_default_calls(leader->tid, item->proc_dfd, &calls[BLOB_THR + THR_SLACK_ZERO], &slack);
	blob_slack_race(item, slack);
	ret = compel_rsys_blob(&leader->rs, &b, calls, n, r->rets);
	if (!ret)
		ret = compel_mem_read(leader->tid, leader->rs.mem_fd, area + tsize, &r->o, sizeof(r->o));
	if (ret) {
		/* -EOPNOTSUPP: the thread did not run (see compel_rsys_blob()) */
		int err = ret == -EOPNOTSUPP || ret == -ESRCH || !slack ? 0 : slack_put_back(&leader->rs, slack);

		if (err)
			pr_warn("%d: can't put its timer slack %lu back: %s\n", leader->tid, slack, strerror(-err));
		free(r);
		return ret == -EOPNOTSUPP ? 0 : ret;
	}
	blob_thread_reads(r, slack);
	d->reads = r;
	leader->pre = &r->thr;
	return 0;
}

static int sigactions_from_blob(struct task_dump *d)
{
	for (int i = 0; i < NR_DUMPED_SIGACTIONS; i++) {
		if (d->reads->rets[i] < 0)
			return (int)d->reads->rets[i];
		put_sigaction(d, i, &d->reads->o.ka[i]);
	}
	d->tc.n_sigactions = NR_DUMPED_SIGACTIONS;
	d->tc.sigactions = d->sap;
	return 0;
}

/*
 * Every action but SIGKILL's and SIGSTOP's, SA_BATCH at a time: one batch of
 * rt_sigaction() calls into consecutive slots of the scratch area, one read of it.
 */
static int fill_sigactions(struct task_dump *d, struct thread_dump *leader, unsigned long scratch)
{
	int sigs[NR_DUMPED_SIGACTIONS], n = 0;

	if (d->reads)
		return sigactions_from_blob(d);
	for (int sig = 1; sig <= NR_SIGS; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigs[n++] = sig;
	for (int first = 0; first < n; first += SA_BATCH) {
		struct kernel_sigaction ka[SA_BATCH];
		struct compel_rsys_call calls[SA_BATCH];
		long rets[SA_BATCH];
		int cnt = n - first < (int)SA_BATCH ? n - first : (int)SA_BATCH, ret;

		for (int i = 0; i < cnt; i++)
			calls[i] = (struct compel_rsys_call){ __NR_rt_sigaction,
				{ sigs[first + i], 0, scratch + i * sizeof(ka[0]), 8, 0, 0 } };
		ret = compel_rsys_batch(&leader->rs, calls, cnt, rets);
		if (ret)
			return ret;
		for (int i = 0; i < cnt; i++)
			if (rets[i] < 0)
				return (int)rets[i];
		ret = compel_mem_read(leader->tid, leader->rs.mem_fd, scratch, ka, cnt * sizeof(ka[0]));
		if (ret)
			return ret;
		for (int i = 0; i < cnt; i++)
			put_sigaction(d, first + i, &ka[i]);
	}
	d->tc.n_sigactions = n;
	d->tc.sigactions = d->sap;
	return 0;
}

/* ------------------------------------------------------------ timers */

static int fill_itimers(struct task_dump *d, struct thread_dump *leader, unsigned long scratch)
{
	for (int i = 0; i < 3; i++) {
		struct itimer_val v;
		int ret = remote_read(leader, scratch, __NR_getitimer, itimer_which[i], scratch,
				      d->reads ? &d->reads->rets[BLOB_IT + i] : NULL, d->reads ? &d->reads->o.it[i] : NULL,
				      &v, sizeof(v));

		if (ret)
			return ret;
		itimer_entry__init(&d->itimers[i]);
		d->itimers[i].isec = v.isec;
		d->itimers[i].iusec = v.iusec;
		d->itimers[i].vsec = v.vsec;
		d->itimers[i].vusec = v.vusec;
	}
	d->timers.real = &d->itimers[0];
	d->timers.virt = &d->itimers[1];
	d->timers.prof = &d->itimers[2];
	return 0;
}

/* One "ID:" block of /proc/PID/timers; returns 1 when parsed, 0 at the end, -EINVAL. */
static int parse_timer_block(char **pos, PosixTimerEntry *pt)
{
	unsigned long long ptr;
	char how[16], scope[8];
	int id, signo, clock, who, n = 0;
	char *line;

	posix_timer_entry__init(pt);
	while ((line = strsep(pos, "\n"))) {
		if (sscanf(line, "ID: %d", &id) == 1) {
			pt->it_id = id;
			n |= 1;
		} else if (sscanf(line, "signal: %d/%llx", &signo, &ptr) == 2) {
			pt->si_signo = signo;
			pt->sival_ptr = ptr;
			n |= 2;
		} else if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", how, scope, &who) == 3) {
			if (!strcmp(how, "signal"))
				pt->it_sigev_notify = SIGEV_SIGNAL;
			else if (!strcmp(how, "none"))
				pt->it_sigev_notify = SIGEV_NONE;
			else if (!strcmp(how, "thread"))
				pt->it_sigev_notify = SIGEV_THREAD;
			else
				return -EINVAL;
			if (!strcmp(scope, "tid")) {
				pt->it_sigev_notify |= SIGEV_THREAD_ID;
				pt->has_notify_thread_id = true;
				pt->notify_thread_id = who;
			}
			n |= 4;
		} else if (sscanf(line, "ClockID: %d", &clock) == 1) {
			pt->clock_id = clock;
			n |= 8;
		}
		if (n == 15)
			return 1;
	}
	return n ? -EINVAL : 0;
}

/* /proc/PID/timers shows the thread to notify by its tid in criu's pid namespace: the image wants the tree's. */
static pid_t vtid_of(const struct pstree_item *item, pid_t tid)
{
	for (int i = 0; i < item->nr_threads; i++)
		if (item->threads[i] == tid)
			return item_vtid(item, i);
	return tid;
}

static int cmp_timer_id(const void *a, const void *b)
{
	const PosixTimerEntry *x = *(PosixTimerEntry *const *)a, *y = *(PosixTimerEntry *const *)b;

	return x->it_id < y->it_id ? -1 : x->it_id > y->it_id;
}

static int fill_posix_timers(struct task_dump *d, struct pstree_item *item, struct thread_dump *leader,
			     unsigned long scratch)
{
	_cleanup_free_ char *buf = NULL;
	size_t nr = 0, cap = 0;
	ssize_t len;
	char *pos;
	int ret;

	len = read_file_alloc_at(item->proc_dfd, "timers", &buf);
	if (len == -ENOENT)
		return 0;	/* a kernel without CONFIG_CHECKPOINT_RESTORE */
	if (len < 0)
		return (int)len;
	for (pos = buf;;) {
		PosixTimerEntry pt;
		struct {
			int64_t isec, insec, vsec, vnsec;
		} v;
		long r;

		ret = parse_timer_block(&pos, &pt);
		if (ret <= 0)
			break;
		r = rcall(&leader->rs, __NR_timer_gettime, pt.it_id, scratch, 0, 0);
		if (r < 0)
			return (int)r;
		ret = compel_mem_read(leader->tid, leader->rs.mem_fd, scratch, &v, sizeof(v));
		if (ret)
			return ret;
		pt.isec = v.isec;
		pt.insec = v.insec;
		pt.vsec = v.vsec;
		pt.vnsec = v.vnsec;
		r = rcall(&leader->rs, __NR_timer_getoverrun, pt.it_id, 0, 0, 0);
		if (r < 0)
			return (int)r;
		pt.overrun = (uint32_t)r;
		if (pt.has_notify_thread_id)
			pt.notify_thread_id = vtid_of(item, pt.notify_thread_id);
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			PosixTimerEntry *n = realloc(d->posix, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			d->posix = n;
			cap = ncap;
		}
		d->posix[nr++] = pt;
	}
	if (ret < 0)
		return ret;
	if (!nr)
		return 0;
	d->posixp = calloc(nr, sizeof(*d->posixp));
	if (!d->posixp)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++)
		d->posixp[i] = &d->posix[i];
	/* as CRIU writes them: the oldest (lowest id) first; /proc lists the newest first */
	qsort(d->posixp, nr, sizeof(*d->posixp), cmp_timer_id);
	d->timers.n_posix = nr;
	d->timers.posix = d->posixp;
	return 0;
}

static int fill_timers(struct task_dump *d, struct pstree_item *item, struct thread_dump *leader,
		       unsigned long scratch)
{
	int ret;

	task_timers_entry__init(&d->timers);
	ret = fill_itimers(d, leader, scratch);
	if (!ret)
		ret = fill_posix_timers(d, item, leader, scratch);
	if (!ret)
		d->tc.timers = &d->timers;
	return ret;
}

/*
 * What of the mm only the task tells, in one batch: PR_GET_DUMPABLE,
 * PR_GET_THP_DISABLE and brk(0); the mm image takes them (mem.c). brk is asked
 * here, with the core's calls, so that the mm step puts no code of criu's into
 * the task (its pages are copied from then on), and it can't change while the
 * tree is stopped.
 */
static int fill_mm_flags(struct task_dump *d, struct pstree_item *item, struct thread_dump *leader)
{
	static const struct compel_rsys_call calls[] = {
		{ __NR_prctl, { PR_GET_DUMPABLE } },
		{ __NR_prctl, { PR_GET_THP_DISABLE } },
		{ __NR_brk, { 0 } },
	};
	long r[ARRAY_SIZE(calls)];
	int ret = 0;

	if (d->reads)
		memcpy(r, &d->reads->rets[BLOB_MM], sizeof(r));
	else
		ret = compel_rsys_batch(&leader->rs, calls, ARRAY_SIZE(calls), r);

	/* CRIU_FAULT=dump-copy-during-brk: criu's code stays in the task 300 ms (mem-copy.c copies 100 ms late) */
	if (!ret && fault_injected("dump-copy-during-brk"))
		usleep(300000);
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(calls) - 1; i++)
		if (r[i] < 0)
			return (int)r[i];
	if (r[0] != 1 && ns_task_in_own(item, NS_USER) > 0)
		/* the restored task's memory belongs to criu's user namespace, which the kernel checks then */
		return pr_fail(-EOPNOTSUPP, "task %d is not dumpable (%ld) and in a user namespace of its own: not "
					    "restored (its /proc files and ptrace would be criu's namespace's only)\n",
			       item->pid, r[0]);
	item->dumpable = (int)r[0];
	item->thp_disable = (int)r[1];
	item->brk = (unsigned long)r[2];
	item->has_mm_flags = true;
	return 0;
}

static int fill_task(struct task_dump *d, struct pstree_item *item, struct thread_dump *leader,
		     unsigned long scratch)
{
	struct proc_rlimits lim;
	struct proc_pid_stat stat;
	int32_t sub = 0;
	long v;
	int ret;

	task_core_entry__init(&d->tc);
	d->tc.task_state = item->state;
	d->tc.exit_code = 0;
	ret = parse_pid_stat(item->proc_dfd, &stat);
	if (ret)
		return ret;
	d->tc.flags = (uint32_t)stat.flags;
	snprintf(d->comm, sizeof(d->comm), "%s", stat.comm);
	d->tc.comm = d->comm;

	ret = read_int_at(item->proc_dfd, "personality", 16, &v);
	if (ret)
		return ret;
	d->tc.personality = (uint32_t)v;
	if (!read_int_at(item->proc_dfd, "loginuid", 10, &v)) {
		d->tc.has_loginuid = true;
		d->tc.loginuid = (uint32_t)v;
	}
	if (!read_int_at(item->proc_dfd, "oom_score_adj", 10, &v)) {
		d->tc.has_oom_score_adj = true;
		d->tc.oom_score_adj = (int32_t)v;
	}

	ret = parse_pid_limits(item->proc_dfd, &lim);
	if (ret)
		return ret;
	task_rlimits_entry__init(&d->rl);
	for (int i = 0; i < lim.nr && i < PROC_RLIM_NLIMITS; i++) {
		rlimit_entry__init(&d->rle[i]);
		d->rle[i].cur = lim.r[i].cur;
		d->rle[i].max = lim.r[i].max;
		d->rlp[i] = &d->rle[i];
	}
	d->rl.n_rlimits = min(lim.nr, PROC_RLIM_NLIMITS);
	d->rl.rlimits = d->rlp;
	d->tc.rlimits = &d->rl;

	/* the leader's blocked mask is the task's, as in CRIU */
	d->tc.blk_sigset = leader->tc.blk_sigset;

	ret = sigq_fill(&d->sigs, item->pid, true);
	if (ret)
		return ret;
	if (d->sigs.q.n_signals)
		d->tc.signals_s = &d->sigs.q;

	ret = fill_sigactions(d, leader, scratch);
	if (ret)
		return ret;
	ret = remote_read(leader, scratch, __NR_prctl, PR_GET_CHILD_SUBREAPER, scratch,
			  d->reads ? &d->reads->rets[BLOB_SUB] : NULL, d->reads ? &d->reads->o.subreaper : NULL, &sub,
			  sizeof(sub));
	if (ret)
		return ret;
	d->tc.has_child_subreaper = true;
	d->tc.child_subreaper = !!sub;
	if (leader->stop_sig) {
		d->tc.has_stop_signo = true;
		d->tc.stop_signo = leader->stop_sig;
	}
	ret = fill_mm_flags(d, item, leader);
	if (!ret)
		ret = dump_task_attrs_pre(&leader->rs, item->proc_dfd, &d->tc, d->reads ? &d->reads->mdwe : NULL);
	if (ret)
		return ret;
	ret = dump_membarrier(&leader->rs, item->pid, d->reads ? &d->reads->membarrier : NULL,
			      &d->tc.membarrier_registration_mask);
	if (ret)
		return ret;
	d->tc.has_membarrier_registration_mask = d->tc.membarrier_registration_mask != 0;
	return fill_timers(d, item, leader, scratch);
}

/*
 * ids-PID.img: the same TaskKobjIdsEntry as the leader's core holds. CRIU
 * reads a task's ids from this image only (its restore refuses a dump
 * without the root's); ours reads the core's.
 */
static int write_ids(int img_dfd, pid_t vpid, TaskKobjIdsEntry *ids)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_IDS, O_DUMP, vpid);
	int ret;

	if (!img)
		return -errno;
	ret = pb_write_one(img, ids, PB_IDS);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* The task's ids in pid namespaces nested below the tree's, and where it makes its children (pidns.c). */
static void fill_nested_pids(TaskCoreEntry *tc, const struct pstree_item *item)
{
	if (item->ns_depth) {
		tc->n_ns_pids = (size_t)item->nr_threads * item->ns_depth;
		tc->ns_pids = (uint32_t *)item->ns_tids;
	}
	if (item->pfc_vpid) {
		tc->has_pid_for_children = true;
		tc->pid_for_children = (uint32_t)item->pfc_vpid;
	}
}

/*
 * A zombie's ids, groups and capabilities, as criu sees them in its status
 * (a zombie can't be asked for its securebits: 0). Its stub takes them
 * before it dies (exit-status.c), and criu compares them afterwards.
 */
static int fill_zombie_creds(struct pstree_item *item, struct proc_status *st, CredsEntry *c, uint32_t caps[5][2])
{
	int ret = parse_pid_status(item->proc_dfd, st);

	if (ret)
		return pr_fail(ret, "can't read the status of zombie %d: %s\n", item->pid, strerror(-ret));
	creds_entry__init(c);
	c->uid = st->uid[0];
	c->euid = st->uid[1];
	c->suid = st->uid[2];
	c->fsuid = st->uid[3];
	c->gid = st->gid[0];
	c->egid = st->gid[1];
	c->sgid = st->gid[2];
	c->fsgid = st->gid[3];
	caps_words(st->cap_inh, caps[0]);
	caps_words(st->cap_prm, caps[1]);
	caps_words(st->cap_eff, caps[2]);
	caps_words(st->cap_bnd, caps[3]);
	caps_words(st->cap_amb, caps[4]);
	c->n_cap_inh = c->n_cap_prm = c->n_cap_eff = c->n_cap_bnd = c->n_cap_amb = 2;
	c->cap_inh = caps[0];
	c->cap_prm = caps[1];
	c->cap_eff = caps[2];
	c->cap_bnd = caps[3];
	c->cap_amb = caps[4];
	c->n_groups = st->ngroups;
	c->groups = st->groups;
	return 0;
}

static int dump_zombie_core(int img_dfd, struct pstree_item *item)
{
	CoreEntry core = CORE_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	ThreadCoreEntry thc = THREAD_CORE_ENTRY__INIT;
	struct proc_status st = {};
	struct proc_pid_stat stat;
	uint32_t caps[5][2];
	CredsEntry creds;
	int ret;

	core.mtype = CORE_ENTRY__MARCH__X86_64;
	core.tc = &tc;
	tc.task_state = TASK_DEAD;
	tc.exit_code = (uint32_t)item->exit_code;
	fill_nested_pids(&tc, item);
	tc.comm = "";
	if (item->proc_dfd >= 0 && !parse_pid_stat(item->proc_dfd, &stat))
		tc.comm = stat.comm;
	if (item->pid_ns_id || item->mnt_ns_id) {
		/* a zombie has no mm or files left: the ids matter for its namespaces */
		ids.vm_id = ids.fs_id = ids.sighand_id = ids.files_id = item_vpid(item);
		ids.has_pid_ns_id = item->pid_ns_id != 0;
		ids.pid_ns_id = item->pid_ns_id;
		ns_ids_fill(&ids, item->ns_id);
		ids.has_mnt_ns_id = item->mnt_ns_id != 0;
		ids.mnt_ns_id = item->mnt_ns_id;
		core.ids = &ids;
	}
	if (item->proc_dfd >= 0) {
		ret = fill_zombie_creds(item, &st, &creds, caps);
		if (ret)
			return ret;
		thc.creds = &creds;
		core.thread_core = &thc;
	}
	ret = write_core_ext(img_dfd, item_vpid(item), &core);
	proc_status_free(&st);
	if (ret)
		return pr_fail(ret, "can't write the core image of zombie %d: %s\n", item->pid, strerror(-ret));
	return 0;
}

static int open_thread_dir(struct pstree_item *item, pid_t tid)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "task/%d", tid);
	fd = openat(item->proc_dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int task_rsys_code(struct pstree_item *item, unsigned long *ret)
{
	unsigned int flags;

	return task_rsys_code_flags(item, ret, &flags);
}

int task_rsys_code_flags(struct pstree_item *item, unsigned long *ret, unsigned int *ret_flags)
{
	int err;

	if (!item->rsys_code && !proc_exec_tail(item->proc_dfd, COMPEL_RSYS_STUB_MAX, &item->rsys_code))
		item->rsys_flags = COMPEL_RSYS_RECOVER;
	if (!item->rsys_code) {
		pr_warn("task %d: no room past an executable segment: its remote syscalls are not safe against criu's death\n",
			item->pid);
		item->rsys_flags = COMPEL_RSYS_FAST;	/* the code is at the start of a mapping: as few calls' time as can be */
		err = proc_exec_addr(item->proc_dfd, &item->rsys_code);
		if (err)
			return pr_fail(err, "task %d has no executable mapping for remote syscalls: %s\n", item->pid,
				       strerror(-err));
	}
	*ret = item->rsys_code;
	*ret_flags = item->rsys_flags;
	return 0;
}


/* [addr, end) lies in the process's own [stack] VMA. */
static bool in_main_stack(struct pstree_item *item, unsigned long addr, unsigned long end)
{
	struct proc_maps m = {};
	bool in = false;

	if (parse_pid_maps(item->proc_dfd, &m))
		return false;
	for (int i = 0; i < m.nr; i++)
		if (m.vmas[i].kind == PVMA_STACK && m.vmas[i].start <= addr && end <= m.vmas[i].end)
			in = true;
	proc_maps_free(&m);
	return in;
}

/*
 * Where the calls write their results: below the red zone of the leader's
 * stack, which the C ABI keeps free (a signal frame would go there), when
 * the leader runs on the process's [stack] (not on a stack a runtime carved
 * out of its heap, where that memory may be another object); else a page
 * mapped for the dump. The stack leaves nothing behind if criu is killed in
 * the middle; a mapped page would stay.
 */
static int pick_scratch(struct pstree_item *item, struct thread_dump *leader, unsigned long *ret)
{
	unsigned long rsp = leader->rs.saved.rsp, addr = (rsp - RED_ZONE - STACK_SCRATCH) & ~63UL;
	int err;

	/* one look at the maps: the blob's area holds the scratch */
	leader->blob_room = blob_area(rsp) < rsp && in_main_stack(item, blob_area(rsp), rsp);
	if (addr < rsp && (leader->blob_room || in_main_stack(item, addr, rsp))) {
		*ret = addr;
		return 0;
	}
	item->core_mapped = true;	/* the VMAs read ahead meanwhile may hold it (maps-ahead.c) */
	err = compel_rsys_map_scratch(&leader->rs, PAGE_SIZE);
	if (err)
		return pr_fail(err, "can't map a scratch page in %d: %s\n", item->pid, strerror(-err));
	*ret = leader->rs.scratch;
	return 0;
}

/*
 * Prepare remote syscalls in every thread: the leader finds the code, the others reuse it.
 * With COMPEL_RSYS_RECOVER (the usual case, task_rsys_code_flags()) each call
 * puts the thread's regs and blocked mask back when it is done, and a thread
 * let go in the middle of a call by a criu killed comes back by itself, as it
 * was. Logs its own error.
 */
static int prepare_threads(struct pstree_item *item, struct thread_dump *th, unsigned long *ret_scratch)
{
	unsigned long code = 0;
	unsigned int flags = 0;
	int ret;

	for (int i = 0; i < item->nr_threads; i++) {
		th[i].tid = item->threads[i];
		th[i].stopped = item->state == TASK_STOPPED;
		th[i].seen = item->sc_seen ? &item->sc_seen[i] : NULL;
		th[i].dfd = open_thread_dir(item, th[i].tid);
		ret = th[i].dfd < 0 ? th[i].dfd : parse_pid_status(th[i].dfd, &th[i].st);
		if (ret)
			return pr_fail(ret, "can't read /proc/%d/task/%d/status: %s\n", item->pid, th[i].tid,
				       strerror(-ret));
		/* before the first remote syscall: that leaves the seize's event stop */
		if (item->state == TASK_STOPPED && i == 0) {
			ret = compel_get_stop_signal(th[i].tid);
			th[i].stop_sig = ret > 0 && ret != SIGTRAP ? ret : 0;
			if (ret < 0)
				pr_warn("can't tell the stop signal of %d: %s\n", th[i].tid, strerror(-ret));
		}
		/* the leader pokes the code into the mm its threads share */
		if (i == 0) {
			ret = task_rsys_code_flags(item, &code, &flags);
			if (ret)
				return ret;
		}
		ret = compel_rsys_prepare_flags(&th[i].rs, th[i].tid, i ? th[0].rs.syscall_ip : code,
						flags | (i ? 0 : COMPEL_RSYS_POKE));
		if (ret)
			return pr_fail(ret, "can't prepare remote syscalls in thread %d of %d: %s\n", th[i].tid,
				       item->pid, strerror(-ret));
	}
	/* one thread: its recovery code is written once, not before every call */
	th[0].rs.sole_writer = item->nr_threads == 1;
	return pick_scratch(item, &th[0], ret_scratch);
}

/* Undo the remote-syscall setup; the leader last (it unmaps the scratch and restores the code). */
static int finish_threads(struct pstree_item *item, struct thread_dump *th)
{
	int err = 0;

	for (int i = item->nr_threads - 1; i >= 0; i--) {
		int ret = compel_rsys_finish(&th[i].rs);

		if (ret && !err)
			err = ret;
		thread_free(&th[i]);
	}
	return err;
}

int dump_task_core(int img_dfd, struct pstree_item *item)
{
	_cleanup_free_ struct thread_dump *th = NULL;
	_cleanup_free_ struct task_dump *td = NULL;
	unsigned long scratch;
	int ret, fin;

	if (item->state == TASK_DEAD)
		return dump_zombie_core(img_dfd, item);
	if (item->nr_threads < 1 || item->proc_dfd < 0)
		return pr_fail(-EINVAL, "task %d has no threads or no /proc dir\n", item->pid);

	th = xzalloc(item->nr_threads * sizeof(*th));
	td = xzalloc(sizeof(*td));
	if (!th || !td)
		return -ENOMEM;
	for (int i = 0; i < item->nr_threads; i++) {
		th[i].dfd = -1;
		th[i].rs.mem_fd = -1;
	}

	/* the remote-syscall state is in place (code poked, scratch page mapped) from here to finish_threads() */
	ret = prepare_threads(item, th, &scratch) ?: fault_step("dump-core-rsys");
	if (ret)
		goto out;
	/* the leader's read-only calls in one resume, when it can (before its thread's part uses them) */
	ret = fill_blob(td, item, &th[0]);
	if (ret) {
		pr_err("can't read the state of task %d: %s\n", item->pid, strerror(-ret));
		goto out;
	}
	for (int i = 0; i < item->nr_threads && !ret; i++) {
		ret = fill_thread(&th[i], scratch);
		if (!ret)
			ret = fill_seccomp(&th[i], item, i);
		if (ret)
			pr_err("can't collect the state of thread %d of %d: %s\n", th[i].tid, item->pid,
			       strerror(-ret));
	}
	if (!ret) {
		ret = fill_task(td, item, &th[0], scratch);
		if (ret)
			pr_err("can't collect the state of task %d: %s\n", item->pid, strerror(-ret));
	}
	if (!ret) {
		/* Each task has its own mm and sighand; fd tables and fs may be shared (task-share.c). */
		TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;

		ids.vm_id = ids.sighand_id = item_vpid(item);
		ids.files_id = item->files_id;
		ids.fs_id = item->fs_id;
		if (item->pid_ns_id) {
			ids.has_pid_ns_id = true;
			ids.pid_ns_id = item->pid_ns_id;
		}
		ns_ids_fill(&ids, item->ns_id);
		if (item->mnt_ns_id) {
			ids.has_mnt_ns_id = true;
			ids.mnt_ns_id = item->mnt_ns_id;
		}
		th[0].core.ids = &ids;
		th[0].core.tc = &td->tc;
		fill_nested_pids(&td->tc, item);
		/* cgroup-ns.c: only a task in another cgroup namespace than criu's has one */
		if (item->cgns_id) {
			ids.has_cgroup_ns_id = true;
			ids.cgroup_ns_id = item->cgns_id;
		}
		/* each thread's set, as CRIU writes it: its leader's unless it is in cgroups of its own */
		if (item->cg_set) {
			td->tc.has_cg_set = true;
			td->tc.cg_set = item->cg_set;
			for (int i = 0; i < item->nr_threads; i++) {
				th[i].tc.has_cg_set = true;
				th[i].tc.cg_set = item->cg_thread_sets && item->cg_thread_sets[i] ?
							  item->cg_thread_sets[i] : item->cg_set;
			}
		}
		ret = fault_step("dump-core-write");
		for (int i = 0; i < item->nr_threads && !ret; i++) {
			ret = write_core_ext(img_dfd, item_vtid(item, i), &th[i].core);
			if (ret)
				pr_err("can't write core-%d.img: %s\n", item_vtid(item, i), strerror(-ret));
		}
		if (!ret) {
			ret = write_ids(img_dfd, item_vpid(item), th[0].core.ids);
			if (ret)
				pr_err("can't write ids-%d.img: %s\n", item_vpid(item), strerror(-ret));
		}
	}
out:
	fin = finish_threads(item, th);
	sigq_free(&td->sigs);
	free(td->reads);
	free(td->posix);
	free(td->posixp);
	if (fin && !ret)
		ret = pr_fail(fin, "can't clean up after remote syscalls in %d: %s\n", item->pid, strerror(-fin));
	return ret;
}
