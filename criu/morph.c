// SPDX-License-Identifier: GPL-2.0
/*
 * The morph: turn a stopped stub (a copy of criu, all threads seized) into
 * the dumped task, from the criu process, with compel remote syscalls run on
 * the trampoline page the stub mapped for us. Order:
 *   seize, block every signal, drop the stub's rseq, close service fds,
 *   personality, memory (mem-restore.c), membarrier registrations, signal
 *   actions (pending ones flushed), pending signals (a thread's own from that
 *   thread), rlimits/oom/coredump_filter (from criu), per-thread state
 *   (task-attrs.c: timer slack, affinity, ioprio, NUMA policy, TSC, MCE, sched),
 *   itimers, creds (last privileged step), MDWE, registers + FPU, the final munmap
 *   of the trampoline (stopped at syscall exit), then the dumped blocked masks.
 * morph_release() detaches every thread.
 */
#define LOG_PREFIX "morph: "
#include <cpuid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/securebits.h>

#include "common.h"
#include "lazy-pages.h"
#include "lsm.h"
#include "membarrier.h"
#include "proc_parse.h"
#include "restore.h"
#include "rst-ctx.h"
#include "task-share.h"
#include "seccomp.h"
#include "task-attrs.h"
#include "userns.h"
#include "compel/compel.h"

#include "core.pb-c.h"
#include "mm.pb-c.h"

#define SCRATCH(tramp) ((tramp) + RST_SCRATCH_OFF)

#ifndef RSEQ_FLAG_UNREGISTER
#define RSEQ_FLAG_UNREGISTER 1
#endif
#ifndef __NR_rseq
#define __NR_rseq 334
#endif
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define SUID_DUMP_DISABLE 0
#define SUID_DUMP_USER 1

struct morph_thread {
	pid_t tid;
	CoreEntry *core;
	bool seized;
	enum compel_task_state state;
	struct compel_rsys rs;
	bool rs_open;
	int lsm_fds[2];			/* the thread's own attr/current and attr/sockcreate, -1 (lsm.c) */
};

/*
 * The task's pid as the task itself sees it (remote syscalls take it): the
 * images' one, or its pid in its own namespace when that is nested below
 * the tree's (pidns.c).
 */
static pid_t task_pid(struct morph_task *mt)
{
	return item_pid_at(mt->item, 0, mt->item->ns_depth);
}

/* A thread of the tree named by its id in the images, as this task sees it; 0: not visible. */
static pid_t tid_seen_by(struct morph_task *mt, pid_t img_tid)
{
	int idx;
	struct pstree_item *x = pstree_find_tid(&mt->ctx->tree, img_tid, &idx);

	return x ? item_pid_seen_by(mt->item, x, idx) : 0;
}

/* The pid criu sees (differs when the tree has its own pid namespace): for ptrace, /proc, prlimit. */
static pid_t task_real_pid(struct morph_task *mt)
{
	return rst_real_pid(mt->ctx, mt->item->pid);
}

static TaskCoreEntry *task_core(struct morph_task *mt)
{
	return mt->th[0].core->tc;
}

/* ------------------------------------------------------ seize */

static int seize_all(struct morph_task *mt)
{
	struct pstree_item *item = mt->item;
	bool suspend = rst_seccomp_task(item);

	mt->th = xzalloc(item->nr_threads * sizeof(*mt->th));
	if (!mt->th)
		return -ENOMEM;
	for (int i = 0; i < item->nr_threads; i++) {
		struct morph_thread *t = &mt->th[i];
		int ret;

		t->tid = rst_real_pid(mt->ctx, item->threads[i]);
		t->core = rsti(item)->core[i];
		t->rs.mem_fd = -1;
		t->lsm_fds[0] = t->lsm_fds[1] = -1;
		if (t->tid <= 0)
			return pr_fail(-ESRCH, "thread %d of task %d: criu does not know its pid\n", item->threads[i],
				       item->pid);
		/* criu killed from here on: the kernel kills the half-made task (PTRACE_O_EXITKILL) */
		ret = compel_seize_stop_opts(t->tid, PTRACE_O_EXITKILL, &t->state);
		if (ret)
			return pr_fail(ret, "can't seize %d (task %d): %s\n", t->tid, item->pid, strerror(-ret));
		t->seized = true;
		/* the filters are installed before the morph's last calls, which they must not see */
		ret = suspend ? compel_suspend_seccomp(t->tid) : 0;
		if (ret)
			return pr_fail(ret, "task %d ran under seccomp, and criu can't suspend seccomp of %d "
					    "(criu needs CAP_SYS_ADMIN and no seccomp of its own): %s\n",
				       item->pid, t->tid, strerror(-ret));
		ret = compel_set_sigmask(t->tid, ~0ULL);
		if (ret)
			return pr_fail(ret, "can't block signals of %d\n", t->tid);
	}
	return 0;
}

static int open_rs(struct morph_task *mt, struct morph_thread *t)
{
	int ret;

	if (t->rs_open)
		return 0;
	/* every signal is blocked (seize_all): the mask and regs go back once, at the finish */
	ret = compel_rsys_prepare_flags(&t->rs, t->tid, mt->tramp, COMPEL_RSYS_FAST);
	if (ret)
		return pr_fail(ret, "%d: no trampoline at %#lx: %s\n", t->tid, mt->tramp, strerror(-ret));
	t->rs_open = true;
	/*
	 * Until the task's signal actions and queued signals are set (trap_mode_off()),
	 * a stub has every action at SIG_DFL and no SIGTRAP pending: its calls end at
	 * the trampoline's int3, one ptrace stop each instead of two.
	 */
	ret = compel_rsys_trap(&t->rs, true);
	if (ret)
		return pr_fail(ret, "%d: can't make remote syscalls end at a trap\n", t->tid);
	return 0;
}

/* Every call from the signal actions on has its entry and exit stops (compel_rsys_trap()). */
static int trap_mode_off(struct morph_task *mt)
{
	for (int i = 0; i < mt->item->nr_threads; i++) {
		int ret = compel_rsys_trap(&mt->th[i].rs, false);

		if (ret)
			return pr_fail(ret, "%d: can't block its signals again after the traps\n", mt->th[i].tid);
	}
	return 0;
}

/* ------------------------------------------------------ per-thread steps */

static int drop_stub_rseq(struct morph_thread *t)
{
	struct compel_rseq_conf c;
	long r;
	int ret = compel_get_rseq(t->tid, &c);

	if (ret)
		return pr_fail(ret, "%d: can't read the rseq configuration\n", t->tid);
	if (!c.rseq_abi_pointer)
		return 0;
	r = rst_rsys(&t->rs, __NR_rseq, c.rseq_abi_pointer, c.rseq_abi_size, RSEQ_FLAG_UNREGISTER, c.signature, 0,
		     0);
	if (r < 0)
		return pr_fail((int)r, "%d: can't unregister the stub's rseq: %s\n", t->tid, strerror((int)-r));
	return 0;
}

static int set_comm(struct morph_task *mt, struct morph_thread *t, const char *comm)
{
	char buf[16] = {};
	long r;
	int ret;

	if (!comm)
		return 0;
	strncpy(buf, comm, sizeof(buf) - 1);
	ret = rst_poke(&t->rs, SCRATCH(mt->tramp), buf, sizeof(buf));
	if (ret)
		return ret;
	r = rst_rsys(&t->rs, __NR_prctl, PR_SET_NAME, SCRATCH(mt->tramp), 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: PR_SET_NAME: %s\n", t->tid, strerror((int)-r));
	return 0;
}

static int restore_thread_state(struct morph_task *mt, struct morph_thread *t)
{
	ThreadCoreEntry *tc = t->core->thread_core;
	ThreadInfoX86 *ti = t->core->thread_info;
	long r;
	int ret;

	if (tc->sas) {
		struct {
			uint64_t sp;
			int32_t flags;
			int32_t pad;
			uint64_t size;
		} ss = { tc->sas->ss_sp, (int32_t)tc->sas->ss_flags, 0, tc->sas->ss_size };

		if (ss.flags & SS_DISABLE)
			ss = (typeof(ss)){ 0, SS_DISABLE, 0, 0 };
		else
			ss.flags &= (int32_t)SS_AUTODISARM;
		ret = rst_poke(&t->rs, SCRATCH(mt->tramp), &ss, sizeof(ss));
		if (ret)
			return ret;
		r = rst_rsys(&t->rs, __NR_sigaltstack, SCRATCH(mt->tramp), 0, 0, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: sigaltstack: %s\n", t->tid, strerror((int)-r));
	}
	if (tc->futex_rla_len) {
		r = rst_rsys(&t->rs, __NR_set_robust_list, tc->futex_rla, tc->futex_rla_len, 0, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: set_robust_list: %s\n", t->tid, strerror((int)-r));
	}
	r = rst_rsys(&t->rs, __NR_set_tid_address, ti->clear_tid_addr, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: set_tid_address: %s\n", t->tid, strerror((int)-r));
	if (tc->rseq_entry && tc->rseq_entry->rseq_abi_pointer) {
		RseqEntry *re = tc->rseq_entry;

		r = rst_rsys(&t->rs, __NR_rseq, re->rseq_abi_pointer, re->rseq_abi_size, 0, re->signature, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: rseq(%#" PRIx64 ", %u): %s\n", t->tid, re->rseq_abi_pointer,
				       re->rseq_abi_size, strerror((int)-r));
	}
	ret = set_comm(mt, t, t == &mt->th[0] ? task_core(mt)->comm : (tc->comm ? tc->comm : NULL));
	if (ret)
		return ret;
	r = rst_rsys(&t->rs, __NR_prctl, PR_SET_PDEATHSIG, tc->has_pdeath_sig ? tc->pdeath_sig : 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: PR_SET_PDEATHSIG: %s\n", t->tid, strerror((int)-r));
	/* timer slack, affinity, I/O priority, NUMA policy, TSC, MCE, then the scheduling policy */
	return restore_thread_attrs(&t->rs, t->tid, SCRATCH(mt->tramp), tc);
}

static uint64_t cap_word(const uint32_t *w, size_t n)
{
	return (n > 0 ? w[0] : 0) | (n > 1 ? (uint64_t)w[1] << 32 : 0);
}

static int last_cap(void)
{
	char buf[16];
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 40;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 40;
	buf[n] = 0;
	return atoi(buf);
}

#define RSYS_OR_FAIL(t, what, nr, ...)                                                                   \
	({                                                                                               \
		long __r = rst_rsys(&(t)->rs, nr, ##__VA_ARGS__);                                        \
		if (__r < 0)                                                                             \
			return pr_fail((int)__r, "%d: %s: %s\n", (t)->tid, what, strerror((int)-__r));   \
		__r;                                                                                     \
	})

/* Ambient capabilities: raised one by one, once the permitted and inheritable sets are in place. */
static int restore_ambient(struct morph_thread *t, uint64_t amb, int lc)
{
	for (int cap = 0; cap <= lc && cap < 64; cap++) {
		long r;

		if (!(amb & (1ULL << cap)))
			continue;
		r = rst_rsys(&t->rs, __NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0);
		if (r < 0)
			return pr_fail((int)r, "%d: can't raise the ambient capability %d: %s\n", t->tid, cap,
				       strerror((int)-r));
	}
	return 0;
}

/* capset() in the thread: the header and the two data words go through the scratch page. */
static int remote_capset(struct morph_task *mt, struct morph_thread *t, uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	int ret;

	ret = rst_poke(&t->rs, SCRATCH(mt->tramp), &hdr, sizeof(hdr));
	if (!ret)
		ret = rst_poke(&t->rs, SCRATCH(mt->tramp) + 16, data, sizeof(data));
	if (ret)
		return ret;
	RSYS_OR_FAIL(t, "capset (the dumped capabilities exceed criu's?)", __NR_capset, SCRATCH(mt->tramp),
		     SCRATCH(mt->tramp) + 16, 0, 0, 0, 0);
	return 0;
}

/* The thread's own effective and permitted sets now (the stub's: criu's), by a remote capget(). */
static int remote_capget(struct morph_task *mt, struct morph_thread *t, uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int ret;

	ret = rst_poke(&t->rs, SCRATCH(mt->tramp), &hdr, sizeof(hdr));
	if (ret)
		return ret;
	RSYS_OR_FAIL(t, "capget", __NR_capget, SCRATCH(mt->tramp), SCRATCH(mt->tramp) + 16, 0, 0, 0, 0);
	ret = compel_mem_read(t->tid, t->rs.mem_fd, SCRATCH(mt->tramp) + 16, data, sizeof(data));
	if (ret)
		return ret;
	*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	*prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	return 0;
}

/* A capability set of criu's own, one bit per capability up to lc, read with prctl op (a read op per capability). */
static uint64_t own_cap_bits(int op, int arg2_is_op, int lc)
{
	uint64_t m = 0;

	for (int cap = 0; cap <= lc && cap < 64; cap++) {
		long r = arg2_is_op ? prctl(op, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) : prctl(op, cap, 0, 0, 0);

		if (r > 0)
			m |= 1ULL << cap;
	}
	return m;
}

static uint64_t lc_mask(int lc)
{
	return lc >= 63 ? ~0ULL : (1ULL << (lc + 1)) - 1;
}

/*
 * Whether the dumped creds are criu's own, which a stub has (a fork of criu,
 * no cred changed since): uids, gids, groups, every capability set, the
 * securebits and no_new_privs. Then setting them changes nothing and their
 * remote calls (about a dozen a thread) are left out.
 */
static bool creds_are_criu(const CredsEntry *c, int lc)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uid_t r, e, su;
	gid_t rg, eg, sg;
	gid_t groups[64];
	int ng;

	if (getresuid(&r, &e, &su) || getresgid(&rg, &eg, &sg))
		return false;
	if (c->uid != r || c->euid != e || c->suid != su || c->fsuid != (uint32_t)setfsuid(-1) ||
	    c->gid != rg || c->egid != eg || c->sgid != sg || c->fsgid != (uint32_t)setfsgid(-1))
		return false;
	ng = getgroups(ARRAY_SIZE(groups), groups);
	if (ng < 0 || (size_t)ng != c->n_groups)
		return false;
	for (int i = 0; i < ng; i++)
		if (c->groups[i] != groups[i])
			return false;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	if (cap_word(c->cap_eff, c->n_cap_eff) != (data[0].effective | (uint64_t)data[1].effective << 32) ||
	    cap_word(c->cap_prm, c->n_cap_prm) != (data[0].permitted | (uint64_t)data[1].permitted << 32) ||
	    cap_word(c->cap_inh, c->n_cap_inh) != (data[0].inheritable | (uint64_t)data[1].inheritable << 32))
		return false;
	if ((cap_word(c->cap_bnd, c->n_cap_bnd) & lc_mask(lc)) != own_cap_bits(PR_CAPBSET_READ, 0, lc) ||
	    (cap_word(c->cap_amb, c->n_cap_amb) & lc_mask(lc)) != own_cap_bits(PR_CAP_AMBIENT, 1, lc))
		return false;
	if ((long)c->secbits != prctl(PR_GET_SECUREBITS, 0, 0, 0, 0))
		return false;
	return (c->has_no_new_privs && c->no_new_privs) == (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
}

/*
 * Creds, per thread (Documentation/security.md). The thread is a stub with
 * criu's creds (root, every capability) and must end with the dumped ones,
 * which may forbid the very calls that set them. So: the inheritable set
 * while the bounding set is still full, then the bounding set, the groups,
 * the uids and gids under SECBIT_NO_SETUID_FIXUP (the capabilities stay as
 * they are), the ambient set (while SECBIT_NO_CAP_AMBIENT_RAISE is not set),
 * the seccomp filters (CAP_SYS_ADMIN still there), and with CAP_SETPCAP still
 * effective the dumped securebits with their locks; then the dumped
 * capability sets, the LSM label (lsm.c: before no_new_privs, which limits
 * label changes), no_new_privs, and seccomp strict mode.
 */
static int restore_creds(struct morph_task *mt, struct morph_thread *t, int idx, int seccomp_shared)
{
	ThreadCoreEntry *tc = t->core->thread_core;
	CredsEntry *c = tc->creds;
	unsigned long groups = SCRATCH(mt->tramp) + 64;
	uint64_t eff, prm, inh, bnd, cur_eff = 0, cur_prm = 0;
	int lc = last_cap(), ret;

	if (!c)
		return rst_seccomp_strict(&t->rs, t->tid, tc);
	/* a task that entered the tree's user namespace no longer has criu's creds (setns() reset them) */
	if (!userns_task_enters(mt->ctx, mt->item) && creds_are_criu(c, lc)) {
		/* the order of the full path, less what changes nothing (CAP_SYS_ADMIN is criu's) */
		ret = rst_seccomp_filters(mt->ctx, &t->rs, t->tid, SCRATCH(mt->tramp), tc, idx ? seccomp_shared : 0,
					  idx ? 0 : seccomp_shared);
		if (!ret && rst_lsm_needed(mt->ctx, tc))
			ret = rst_lsm_apply(mt->ctx, &t->rs, t->tid, SCRATCH(mt->tramp), tc, t->lsm_fds);
		return ret ?: rst_seccomp_strict(&t->rs, t->tid, tc);
	}
	eff = cap_word(c->cap_eff, c->n_cap_eff);
	prm = cap_word(c->cap_prm, c->n_cap_prm);
	inh = cap_word(c->cap_inh, c->n_cap_inh);
	bnd = cap_word(c->cap_bnd, c->n_cap_bnd);

	ret = remote_capget(mt, t, &cur_eff, &cur_prm);
	if (!ret)
		ret = remote_capset(mt, t, cur_eff, cur_prm, inh);
	if (ret)
		return ret;
	for (int cap = 0; cap <= lc && cap < 64; cap++)
		if (!(bnd & (1ULL << cap)))
			RSYS_OR_FAIL(t, "PR_CAPBSET_DROP", __NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0, 0);

	if (c->n_groups > 4096)
		return pr_fail(-EINVAL, "%d: too many groups\n", t->tid);
	/* a task entering a user namespace got its groups before (userns_enter_prepare()) */
	if (!userns_task_enters(mt->ctx, mt->item)) {
		ret = rst_poke(&t->rs, groups, c->groups, c->n_groups * sizeof(uint32_t));
		if (ret)
			return ret;
		RSYS_OR_FAIL(t, "setgroups", __NR_setgroups, c->n_groups, groups, 0, 0, 0, 0);
	}
	RSYS_OR_FAIL(t, "PR_SET_SECUREBITS (no setuid fixup)", __NR_prctl, PR_SET_SECUREBITS,
		     SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS, 0, 0, 0, 0);
	RSYS_OR_FAIL(t, "setresgid", __NR_setresgid, c->gid, c->egid, c->sgid, 0, 0, 0);
	RSYS_OR_FAIL(t, "setfsgid", __NR_setfsgid, c->fsgid, 0, 0, 0, 0, 0);
	RSYS_OR_FAIL(t, "setresuid", __NR_setresuid, c->uid, c->euid, c->suid, 0, 0, 0);
	RSYS_OR_FAIL(t, "setfsuid", __NR_setfsuid, c->fsuid, 0, 0, 0, 0, 0);

	/* criu's own ambient set, should it have one, is not the task's */
	RSYS_OR_FAIL(t, "PR_CAP_AMBIENT_CLEAR_ALL", __NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0);
	ret = restore_ambient(t, cap_word(c->cap_amb, c->n_cap_amb) & prm & inh, lc);
	if (ret)
		return ret;

	ret = rst_seccomp_filters(mt->ctx, &t->rs, t->tid, SCRATCH(mt->tramp), tc, idx ? seccomp_shared : 0,
				  idx ? 0 : seccomp_shared);
	if (ret)
		return ret;

	RSYS_OR_FAIL(t, "PR_SET_SECUREBITS", __NR_prctl, PR_SET_SECUREBITS, c->secbits, 0, 0, 0, 0);
	ret = remote_capset(mt, t, eff, prm, inh);
	if (!ret && rst_lsm_needed(mt->ctx, tc))
		ret = rst_lsm_apply(mt->ctx, &t->rs, t->tid, SCRATCH(mt->tramp), tc, t->lsm_fds);
	if (ret)
		return ret;
	/* one way: set last (the flag is the thread's) */
	if (c->has_no_new_privs && c->no_new_privs)
		RSYS_OR_FAIL(t, "PR_SET_NO_NEW_PRIVS", __NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
	return rst_seccomp_strict(&t->rs, t->tid, tc);
}

/* ------------------------------------------------------ the user namespace */

/*
 * A task of the tree's user namespace (userns.c), still in criu's: its
 * groups now, as criu's namespace names them (a "deny" namespace refuses
 * setgroups() inside, and the task keeps them across setns()), and an fd of
 * the namespace taken from criu, while the task still holds its pidfd of
 * criu (a service fd).
 */
static int userns_enter_prepare(struct morph_task *mt)
{
	struct morph_thread *t = &mt->th[0];
	CredsEntry *c = t->core->thread_core ? t->core->thread_core->creds : NULL;
	int ctl = rsti(mt->item)->mem.remote_ctl_pidfd;
	uint32_t out[4096];
	int ret;
	long r;

	mt->remote_userns_fd = -1;
	if (!userns_task_enters(mt->ctx, mt->item))
		return 0;
	if (!c)
		return pr_fail(-EINVAL, "task %d: no creds in its image, it can't enter its user namespace\n",
			       task_pid(mt));
	if (c->n_groups > ARRAY_SIZE(out))
		return pr_fail(-EINVAL, "%d: too many groups\n", t->tid);
	ret = userns_groups_outside(mt->ctx, c->groups, out, (int)c->n_groups);
	if (!ret)
		ret = rst_poke(&t->rs, SCRATCH(mt->tramp) + 64, out, c->n_groups * sizeof(uint32_t));
	if (ret)
		return ret;
	RSYS_OR_FAIL(t, "setgroups (before entering the user namespace)", __NR_setgroups, c->n_groups,
		     SCRATCH(mt->tramp) + 64, 0, 0, 0, 0);
	if (ctl <= 0)
		return pr_fail(-EBADF, "task %d: no pidfd of criu to take the user namespace from\n", task_pid(mt));
	r = rst_rsys(&t->rs, __NR_pidfd_getfd, ctl, userns_fd(mt->ctx), 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "task %d: can't take criu's fd of its user namespace: %s\n", task_pid(mt),
			       strerror((int)-r));
	mt->remote_userns_fd = (int)r;
	return 0;
}

/* The step before the credentials: the namespace's capabilities, then the task's ids inside it. */
static int userns_enter(struct morph_task *mt)
{
	struct morph_thread *t = &mt->th[0];
	long r;

	if (mt->remote_userns_fd < 0)
		return 0;
	r = rst_rsys(&t->rs, __NR_setns, mt->remote_userns_fd, CLONE_NEWUSER, 0, 0, 0, 0);
	rst_rsys(&t->rs, __NR_close, mt->remote_userns_fd, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "task %d: can't enter its user namespace: %s\n", task_pid(mt), strerror((int)-r));
	pr_info("task %d entered its user namespace\n", task_pid(mt));
	return 0;
}

/* ------------------------------------------------------ per-process steps */

/* In an fd table shared by processes, the last of them to get here closes them (task-share.c). */
static int close_service_fds(struct morph_task *mt)
{
	int lo = mt->nr_service_fds ? mt->service_fds[0] : -1;

	if (!share_last_of_fdt(mt->item))
		return 0;

	/* all of them, as usual, in a row: one close_range() */
	if (mt->nr_service_fds == SFD_NR && lo >= 0 && mt->service_fds[SFD_NR - 1] == lo + SFD_NR - 1) {
		RSYS_OR_FAIL(&mt->th[0], "close the service fds", __NR_close_range, lo, lo + SFD_NR - 1, 0, 0, 0, 0);
		return 0;
	}
	for (int i = 0; i < mt->nr_service_fds; i++)
		if (mt->service_fds[i] >= 0)
			RSYS_OR_FAIL(&mt->th[0], "close a service fd", __NR_close, mt->service_fds[i], 0, 0, 0, 0, 0);
	return 0;
}

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The signal masks of /proc/<tid>/status (dfd: criu's /proc) through a dirfd, parsed by proc_parse.c. */
static int status_masks(int dfd, const char *dir, struct proc_status *st)
{
	_cleanup_close_ int fd = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return parse_pid_status(fd, st);
}

/*
 * What the stub has now: signals with a handler or ignored (from criu), and
 * signals pending in any of its threads. Only those need work besides the
 * dumped non-default actions.
 */
static int stub_signal_state(struct morph_task *mt, uint64_t *ret_set, uint64_t *ret_pending)
{
	struct proc_status st;
	char dir[64];
	int ret;

	snprintf(dir, sizeof(dir), "%d", mt->th[0].tid);
	ret = status_masks(mt->ctx->proc_fd, dir, &st);
	if (!ret) {
		*ret_set = st.sigign | st.sigcgt;
		*ret_pending = st.shdpnd;
		proc_status_free(&st);
	}
	for (int i = 0; !ret && i < mt->item->nr_threads; i++) {
		snprintf(dir, sizeof(dir), "%d/task/%d", mt->th[0].tid, mt->th[i].tid);
		ret = status_masks(mt->ctx->proc_fd, dir, &st);
		if (!ret) {
			*ret_pending |= st.sigpnd;
			proc_status_free(&st);
		}
	}
	if (ret)
		return pr_fail(ret, "task %d: can't read its signal state: %s\n", task_pid(mt), strerror(-ret));
	return 0;
}

static int set_one_sigaction(struct morph_task *mt, int sig, const struct k_sigaction *ka, const char *what)
{
	struct morph_thread *t = &mt->th[0];
	int ret = rst_poke(&t->rs, SCRATCH(mt->tramp), ka, sizeof(*ka));

	if (ret)
		return ret;
	RSYS_OR_FAIL(t, what, __NR_rt_sigaction, sig, SCRATCH(mt->tramp), 0, 8, 0, 0);
	return 0;
}

static int restore_sigactions(struct morph_task *mt)
{
	TaskCoreEntry *tc = task_core(mt);
	const struct k_sigaction ign = { (uint64_t)(uintptr_t)SIG_IGN, 0, 0, 0 };
	size_t n = tc->n_sigactions, idx = 0;
	uint64_t stub_set, stub_pending;
	int ret;

	if (n && n != 64 && n != 62)
		return pr_fail(-EINVAL, "task %d: %zu signal actions in the image (want 62 or 64)\n", task_pid(mt), n);
	ret = stub_signal_state(mt, &stub_set, &stub_pending);
	if (ret)
		return ret;
	for (int sig = 1; sig <= 64; sig++) {
		uint64_t bit = 1ULL << (sig - 1);
		struct k_sigaction ka = {};

		if (sig == SIGKILL || sig == SIGSTOP) {
			if (n == 64)
				idx++;
			continue;
		}
		if (n) {
			SaEntry *sa = tc->sigactions[idx++];

			ka = (struct k_sigaction){ sa->sigaction, sa->flags, sa->restorer, sa->mask };
		}
		/* SIG_IGN discards what the stub had pending; the dumped queue comes later */
		if (stub_pending & bit) {
			ret = set_one_sigaction(mt, sig, &ign, "rt_sigaction(SIG_IGN)");
			if (ret)
				return ret;
		}
		/* a default action in the dump and in the stub: nothing to do */
		if (!(stub_pending & bit) && !(stub_set & bit) && !ka.handler && !ka.flags && !ka.restorer && !ka.mask)
			continue;
		ret = set_one_sigaction(mt, sig, &ka, "rt_sigaction");
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The dumped queue, in order: the shared one (tid 0) from the leader, a thread's own
 * from that thread. The kernel lets a thread queue a siginfo as the kernel, kill() or
 * tgkill() would have made it (si_code >= 0 or SI_TKILL) only to itself.
 */
static int queue_signals(struct morph_task *mt, struct morph_thread *t, SignalQueueEntry *q, pid_t tid)
{
	if (!q)
		return 0;
	for (size_t i = 0; i < q->n_signals; i++) {
		ProtobufCBinaryData *b = &q->signals[i]->siginfo;
		siginfo_t si;
		int ret;

		if (b->len != sizeof(si))
			return pr_fail(-EINVAL, "task %d: a queued siginfo of %zu bytes\n", task_pid(mt), b->len);
		memcpy(&si, b->data, sizeof(si));
		ret = rst_poke(&t->rs, SCRATCH(mt->tramp), &si, sizeof(si));
		if (ret)
			return ret;
		if (tid)
			RSYS_OR_FAIL(t, "rt_tgsigqueueinfo", __NR_rt_tgsigqueueinfo, task_pid(mt), tid, si.si_signo,
				     SCRATCH(mt->tramp), 0, 0);
		else
			RSYS_OR_FAIL(t, "rt_sigqueueinfo", __NR_rt_sigqueueinfo, task_pid(mt), si.si_signo,
				     SCRATCH(mt->tramp), 0, 0, 0);
	}
	return 0;
}

static int restore_rlimits(struct morph_task *mt)
{
	TaskRlimitsEntry *rl = task_core(mt)->rlimits;

	if (!rl)
		return 0;
	for (size_t i = 0; i < rl->n_rlimits && i < RLIM_NLIMITS; i++) {
		struct rlimit64 { uint64_t cur, max; } nl = { rl->rlimits[i]->cur, rl->rlimits[i]->max }, old;

		if (syscall(SYS_prlimit64, task_real_pid(mt), i, NULL, &old))
			return pr_fail_errno("task %d: prlimit", task_pid(mt));
		if (old.cur == nl.cur && old.max == nl.max)
			continue;
		if (syscall(SYS_prlimit64, task_real_pid(mt), i, &nl, NULL)) {
			int e = errno;

			if (e == EPERM && nl.max > old.max)
				return pr_fail(-EPERM,
					       "task %d: can't raise the hard limit of resource %zu from %" PRIu64
					       " to %" PRIu64 " (needs CAP_SYS_RESOURCE)\n",
					       task_pid(mt), i, old.max, nl.max);
			return pr_fail(-e, "task %d: prlimit resource %zu: %s\n", task_pid(mt), i, strerror(e));
		}
	}
	return 0;
}

static int restore_oom_score_adj(struct morph_task *mt)
{
	TaskCoreEntry *tc = task_core(mt);
	char path[64], buf[16];
	int fd, len;

	if (!tc->has_oom_score_adj)
		return 0;
	snprintf(path, sizeof(path), "%d/oom_score_adj", task_real_pid(mt));
	fd = openat(mt->ctx->proc_fd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open /proc/%s", path);
	len = snprintf(buf, sizeof(buf), "%d", tc->oom_score_adj);
	if (write(fd, buf, len) != len)
		pr_warn("task %d: can't set oom_score_adj %d: %s\n", task_pid(mt), tc->oom_score_adj, strerror(errno));
	close(fd);
	return 0;
}

static int restore_itimers(struct morph_task *mt)
{
	TaskTimersEntry *tm = task_core(mt)->timers;
	ItimerEntry *it[3];
	int which[3] = { ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF };

	if (!tm)
		return 0;
	it[0] = tm->real;
	it[1] = tm->virt;
	it[2] = tm->prof;
	for (int i = 0; i < 3; i++) {
		struct {
			int64_t isec, iusec, vsec, vusec;
		} v;
		int ret;

		if (!it[i] || (!it[i]->vsec && !it[i]->vusec))
			continue;
		v.isec = it[i]->isec;
		v.iusec = it[i]->iusec;
		v.vsec = it[i]->vsec;
		v.vusec = it[i]->vusec;
		ret = rst_poke(&mt->th[0].rs, SCRATCH(mt->tramp), &v, sizeof(v));
		if (ret)
			return ret;
		RSYS_OR_FAIL(&mt->th[0], "setitimer", __NR_setitimer, which[i], SCRATCH(mt->tramp), 0, 0, 0, 0);
	}
	return 0;
}

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/* struct sigevent as the kernel reads it (64 bytes) */
struct k_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

static int restore_one_posix_timer(struct morph_task *mt, const PosixTimerEntry *pt)
{
	struct morph_thread *t = &mt->th[0];
	unsigned long sev_at = SCRATCH(mt->tramp), id_at = sev_at + sizeof(struct k_sigevent);
	unsigned long its_at = id_at + 64;
	struct k_sigevent sev = {
		.value = pt->sival_ptr,
		.signo = (int32_t)pt->si_signo,
		.notify = (int32_t)pt->it_sigev_notify,
		.tid = pt->has_notify_thread_id ? tid_seen_by(mt, (pid_t)pt->notify_thread_id) : 0,
	};
	int32_t id = (int32_t)pt->it_id, got = -1;
	int64_t its[4] = { (int64_t)pt->isec, (int64_t)pt->insec, (int64_t)pt->vsec, (int64_t)pt->vnsec };
	int ret;

	ret = rst_poke(&t->rs, sev_at, &sev, sizeof(sev));
	if (!ret)
		ret = rst_poke(&t->rs, id_at, &id, sizeof(id));
	if (ret)
		return ret;
	RSYS_OR_FAIL(t, "timer_create", __NR_timer_create, pt->clock_id, sev_at, id_at, 0, 0, 0);
	ret = compel_mem_read(t->tid, t->rs.mem_fd, id_at, &got, sizeof(got));
	if (ret)
		return ret;
	if (got != id)
		return pr_fail(-EINVAL, "task %d: posix timer %d came back as %d\n", task_pid(mt), id, got);
	if (!pt->vsec && !pt->vnsec)
		return 0;	/* disarmed */
	ret = rst_poke(&t->rs, its_at, its, sizeof(its));
	if (ret)
		return ret;
	RSYS_OR_FAIL(t, "timer_settime", __NR_timer_settime, id, 0, its_at, 0, 0, 0);
	return 0;
}

/*
 * POSIX timers with their dumped ids (PR_TIMER_CREATE_RESTORE_IDS makes
 * timer_create take the id it is given), clock, notification and the time
 * left. The overrun count is not restored.
 */
static int cmp_timer_id(const void *a, const void *b)
{
	const PosixTimerEntry *x = *(PosixTimerEntry *const *)a, *y = *(PosixTimerEntry *const *)b;

	return x->it_id < y->it_id ? -1 : x->it_id > y->it_id;
}

static int restore_posix_timers(struct morph_task *mt)
{
	TaskTimersEntry *tm = task_core(mt)->timers;
	struct morph_thread *t = &mt->th[0];
	long r;
	int ret = 0;

	if (!tm || !tm->n_posix)
		return 0;
	r = rst_rsys(&t->rs, __NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "task %d: this kernel can't create posix timers with given ids: %s\n",
			       task_pid(mt), strerror((int)-r));
	/*
	 * Created by ascending id whatever the image's order (ours and CRIU's
	 * list the oldest first, older images the newest): /proc/PID/timers
	 * then lists them as at dump, the newest first.
	 */
	qsort(tm->posix, tm->n_posix, sizeof(*tm->posix), cmp_timer_id);
	for (size_t i = 0; !ret && i < tm->n_posix; i++)
		ret = restore_one_posix_timer(mt, tm->posix[i]);
	r = rst_rsys(&t->rs, __NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0);
	if (!ret && r < 0)
		ret = pr_fail((int)r, "task %d: PR_TIMER_CREATE_RESTORE_IDS off: %s\n", task_pid(mt), strerror((int)-r));
	return ret;
}

/*
 * The audit login uid: only the task itself may write its
 * /proc/self/loginuid, so the write is a remote one (before the creds: a set
 * one takes CAP_AUDIT_CONTROL to change). Runs while the /proc service fd is
 * still open.
 */
static int restore_loginuid(struct morph_task *mt)
{
	TaskCoreEntry *tc = task_core(mt);
	struct morph_thread *t = &mt->th[0];
	int proc_fd = rsti(mt->item)->mem.remote_proc_fd;
	const char *path = proc_fd > 0 ? "self/loginuid" : "/proc/self/loginuid";
	char cur[16] = "", want[16], p[64];
	int fd, len;
	long r;

	if (!tc->has_loginuid)
		return 0;
	snprintf(p, sizeof(p), "%d/loginuid", t->tid);
	fd = openat(mt->ctx->proc_fd, p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, cur, sizeof(cur) - 1);
		cur[len > 0 ? len : 0] = 0;
		close(fd);
	}
	len = snprintf(want, sizeof(want), "%u", tc->loginuid);
	if (!strcmp(cur, want))
		return 0;
	r = rst_poke(&t->rs, SCRATCH(mt->tramp), path, strlen(path) + 1);
	if (!r)
		r = rst_poke(&t->rs, SCRATCH(mt->tramp) + 64, want, len);
	if (r)
		return (int)r;
	fd = (int)RSYS_OR_FAIL(t, "open /proc/self/loginuid", __NR_openat, proc_fd > 0 ? proc_fd : AT_FDCWD,
			       SCRATCH(mt->tramp), O_WRONLY | O_CLOEXEC, 0, 0, 0);
	r = rst_rsys(&t->rs, __NR_write, fd, SCRATCH(mt->tramp) + 64, len, 0, 0, 0);
	rst_rsys(&t->rs, __NR_close, fd, 0, 0, 0, 0, 0);
	if (r != len)
		return pr_fail(r < 0 ? (int)r : -EIO, "task %d: can't set the login uid to %s: %s\n", task_pid(mt), want,
			       r < 0 ? strerror((int)-r) : "short write");
	return 0;
}

/* After the creds: changing uids resets the flag to fs.suid_dumpable. */
static int restore_dumpable(struct morph_task *mt)
{
	MmEntry *mm = rsti(mt->item)->mem.mm;

	if (!mm || !mm->has_dumpable)
		return 0;
	if (mm->dumpable != SUID_DUMP_DISABLE && mm->dumpable != SUID_DUMP_USER) {
		/* 2 (root-only core dumps) comes from a uid change with fs.suid_dumpable = 2; prctl can't set it */
		long cur = RSYS_OR_FAIL(&mt->th[0], "PR_GET_DUMPABLE", __NR_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0, 0);

		if (cur != mm->dumpable)
			pr_warn("task %d: dumpable is %ld, the image says %d (not settable)\n", task_pid(mt), cur,
				mm->dumpable);
		return 0;
	}
	RSYS_OR_FAIL(&mt->th[0], "PR_SET_DUMPABLE", __NR_prctl, PR_SET_DUMPABLE, mm->dumpable, 0, 0, 0, 0);
	return 0;
}

static uint64_t thread_blocked(struct morph_task *mt, struct morph_thread *t)
{
	ThreadCoreEntry *tc = t->core->thread_core;

	if (tc && tc->has_blk_sigset)
		return tc->blk_sigset;
	return task_core(mt)->blk_sigset;
}

/* ------------------------------------------------------ the morph */

int morph_task(struct rst_ctx *ctx, struct morph_task *mt)
{
	struct pstree_item *item = mt->item;
	TaskCoreEntry *tc;
	int ret, seccomp_shared;
	long r;

	mt->ctx = ctx;
	ret = seize_all(mt);
	if (ret)
		return ret;
	tc = task_core(mt);
	for (int i = 0; i < item->nr_threads; i++) {
		ret = open_rs(mt, &mt->th[i]);
		if (!ret)
			ret = drop_stub_rseq(&mt->th[i]);
		if (ret)
			return ret;
	}
	r = rst_rsys(&mt->th[0].rs, __NR_personality, tc->personality, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "task %d: personality(%#x): %s\n", item->pid, tc->personality, strerror((int)-r));

	ret = restore_mem(ctx, &mt->th[0].rs, task_real_pid(mt), mt->tramp, &rsti(item)->mem);
	/* from here on a fault in its lazy memory waits for the lazy-pages daemon, which serves it */
	if (!ret)
		ret = lazy_restore_task(ctx, &mt->th[0].rs, task_real_pid(mt), item->pid, &rsti(item)->mem);
	if (!ret && tc->has_membarrier_registration_mask)
		ret = restore_membarrier(&mt->th[0].rs, item->pid, tc->membarrier_registration_mask);
	if (!ret)
		ret = restore_loginuid(mt);
	for (int i = 0; !ret && i < item->nr_threads; i++)
		if (rst_lsm_needed(ctx, mt->th[i].core->thread_core))
			ret = rst_lsm_open(ctx, &mt->th[i].rs, mt->th[i].tid, SCRATCH(mt->tramp),
					   rsti(item)->mem.remote_proc_fd, mt->th[i].core->thread_core, mt->th[i].lsm_fds);
	if (!ret)
		ret = userns_enter_prepare(mt);
	if (!ret)
		ret = close_service_fds(mt);	/* after the memory: it opens /proc through one */
	if (ret)
		return ret;
	ret = trap_mode_off(mt) ?: restore_sigactions(mt);
	if (!ret)
		ret = queue_signals(mt, &mt->th[0], tc->signals_s, 0);
	for (int i = 0; !ret && i < item->nr_threads; i++)
		ret = queue_signals(mt, &mt->th[i], mt->th[i].core->thread_core->signals_p, item_pid_at(item, i, item->ns_depth));
	if (!ret)
		ret = restore_rlimits(mt);
	if (!ret)
		ret = restore_oom_score_adj(mt);
	if (!ret)
		ret = restore_coredump_filter(mt->ctx->proc_fd, task_real_pid(mt), tc);
	if (!ret && tc->has_child_subreaper && tc->child_subreaper) {
		r = rst_rsys(&mt->th[0].rs, __NR_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0);
		if (r < 0)
			ret = pr_fail((int)r, "task %d: PR_SET_CHILD_SUBREAPER: %s\n", item->pid, strerror((int)-r));
	}
	for (int i = 0; !ret && i < item->nr_threads; i++)
		ret = restore_thread_state(mt, &mt->th[i]);
	if (!ret)
		ret = restore_itimers(mt);
	if (!ret)
		ret = restore_posix_timers(mt);
	seccomp_shared = ret ? 0 : rst_seccomp_shared(ctx, item);
	if (seccomp_shared < 0)
		ret = seccomp_shared;
	if (!ret)
		ret = userns_enter(mt);
	for (int i = 0; !ret && i < item->nr_threads; i++)
		ret = restore_creds(mt, &mt->th[i], i, seccomp_shared);
	if (!ret)
		ret = restore_dumpable(mt);
	if (!ret)
		ret = restore_mdwe(&mt->th[0].rs, item->pid, tc);	/* can't be undone: last */
	if (ret)
		return ret;

	/* the other threads first: the leader's last call unmaps the trampoline */
	for (int i = 1; i < item->nr_threads; i++) {
		struct morph_thread *t = &mt->th[i];

		ret = compel_rsys_finish(&t->rs);
		t->rs_open = false;
		if (!ret)
			ret = morph_set_regs(t->tid, t->core->thread_info, t->core->thread_core);
		if (!ret)
			ret = compel_set_sigmask(t->tid, thread_blocked(mt, t));
		if (ret)
			return ret;
	}
	ret = compel_rsys_last(&mt->th[0].rs, &r, __NR_munmap, mt->tramp, RST_TRAMP_SIZE, 0, 0, 0, 0);
	if (!ret && r < 0)
		ret = (int)r;
	if (ret)
		return pr_fail(ret, "task %d: the final munmap of the trampoline: %s\n", item->pid, strerror(-ret));
	compel_rsys_finish(&mt->th[0].rs);
	mt->th[0].rs_open = false;
	ret = morph_set_regs(mt->th[0].tid, mt->th[0].core->thread_info, mt->th[0].core->thread_core);
	if (!ret)
		ret = compel_set_sigmask(mt->th[0].tid, thread_blocked(mt, &mt->th[0]));
	return ret;
}

/* ------------------------------------------------------ a stopped task */

/* ppid, pgrp and session of a process, from its stat (parse_pid_stat()) under the /proc dirfd. */
static int proc_stat_ids(int proc_dfd, pid_t pid, pid_t *ppid, pid_t *pgrp, pid_t *sid)
{
	struct proc_pid_stat st;
	char dir[16];
	_cleanup_close_ int fd = -1;
	int ret;

	snprintf(dir, sizeof(dir), "%d", pid);
	fd = openat(proc_dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = parse_pid_stat(fd, &st);
	if (ret)
		return ret;
	*ppid = st.ppid;
	*pgrp = st.pgid;
	*sid = st.sid;
	return 0;
}

/*
 * An orphaned process group (no member has its parent in another group of
 * the same session): the kernel discards SIGTSTP, SIGTTIN and SIGTTOU there.
 */
static bool pgrp_orphaned(pid_t pid)
{
	pid_t ppid, pgrp, sid, mppid, mpgrp, msid, qppid, qpgrp, qsid;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	d = opendir("/proc");
	if (!d || proc_stat_ids(dirfd(d), pid, &ppid, &pgrp, &sid))
		return true;
	while ((de = readdir(d))) {
		pid_t m = atoi(de->d_name);

		if (m <= 0 || proc_stat_ids(dirfd(d), m, &mppid, &mpgrp, &msid) || mpgrp != pgrp || mppid <= 0)
			continue;
		if (!proc_stat_ids(dirfd(d), mppid, &qppid, &qpgrp, &qsid) && qpgrp != pgrp && qsid == sid)
			return false;
	}
	return true;
}

/*
 * The signal that stopped the task at dump: its own, when the kernel will
 * stop the task for it again (default action, not blocked in every thread,
 * a group that is not orphaned), else SIGSTOP.
 */
static int stop_signal(struct morph_task *mt)
{
	TaskCoreEntry *tc = task_core(mt);
	int sig = tc->has_stop_signo ? (int)tc->stop_signo : SIGSTOP;
	size_t idx = tc->n_sigactions == 64 ? sig - 1 : sig - 3;	/* 62: no SIGKILL, SIGSTOP */
	bool open = false;

	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return SIGSTOP;
	if (tc->n_sigactions && (idx >= tc->n_sigactions || tc->sigactions[idx]->sigaction))
		return SIGSTOP;
	for (int i = 0; i < mt->item->nr_threads; i++)
		open |= !(thread_blocked(mt, &mt->th[i]) & (1ULL << (sig - 1)));
	if (!open || pgrp_orphaned(task_real_pid(mt))) {
		pr_info("task %d: stopped by signal %d, stopped again by SIGSTOP\n", task_pid(mt), sig);
		return SIGSTOP;
	}
	return sig;
}

int morph_commit(struct morph_task *mt)
{
	for (int i = 0; mt->th && i < mt->item->nr_threads; i++) {
		int ret = mt->th[i].seized ? compel_keep_on_exit(mt->th[i].tid) : 0;

		if (ret && ret != -ESRCH)
			return pr_fail(ret, "can't clear PTRACE_O_EXITKILL of %d: %s\n", mt->th[i].tid, strerror(-ret));
	}
	return 0;
}

int morph_release(struct morph_task *mt)
{
	bool stopped = mt->th && mt->th[0].core->tc->task_state == TASK_STOPPED;
	int err = 0;

	if (!mt->th)
		return 0;
	if (stopped) {
		int sig = stop_signal(mt);

		/*
		 * Queued to the process once, before any thread runs: the first
		 * thread let go takes it and stops the whole group. (A SIGSTOP
		 * queued to each thread, as compel_detach() would, stays pending
		 * in the threads that join a group stop already under way.)
		 */
		if (!kill(task_real_pid(mt), sig))
			stopped = false;
		else
			pr_warn("task %d: can't send it its stop signal %d (SIGSTOP to each thread instead): %s\n",
				task_pid(mt), sig, strerror(errno));
	}
	for (int i = 0; i < mt->item->nr_threads; i++) {
		struct morph_thread *t = &mt->th[i];
		int ret;

		if (!t->seized)
			continue;
		ret = compel_detach(t->tid, stopped ? COMPEL_TASK_STOPPED : COMPEL_TASK_ALIVE, 0);
		/*
		 * Gone: once the first threads and tasks run, the tree itself may kill
		 * it (a fatal signal, exit_group()). Not a failure of the restore.
		 */
		if (ret == -ESRCH) {
			pr_debug("%d is gone before its detach\n", t->tid);
			ret = 0;
		}
		if (ret && !err)
			err = pr_fail(ret, "can't detach %d: %s\n", t->tid, strerror(-ret));
		t->seized = false;
	}
	free(mt->th);
	mt->th = NULL;
	return err;
}

void morph_abort(struct morph_task *mt)
{
	if (!mt->th)
		return;
	for (int i = 0; i < mt->item->nr_threads; i++) {
		struct morph_thread *t = &mt->th[i];

		if (t->rs_open) {
			/* don't put the stub's regs back: the task is killed anyway */
			t->rs.done = true;
			t->rs.poked = false;
			t->rs.swallowed = 0;
			t->rs.scratch = 0;
			compel_rsys_finish(&t->rs);
		}
	}
	free(mt->th);
	mt->th = NULL;
}
