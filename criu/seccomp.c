// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp: strict mode and filter chains (Documentation/security.md).
 *
 * The kernel keeps a thread's filters as a chain, newest first, each filter
 * pointing at the one installed before it; fork and clone share the chain,
 * and a new filter extends it for that thread alone (or for every thread of
 * the process with SECCOMP_FILTER_FLAG_TSYNC). Userspace can't tell two
 * filters apart but by their program: criu reads each thread's chain oldest
 * first (PTRACE_SECCOMP_GET_FILTER, whose index 0 is the oldest) and keeps
 * one node per (previous node, program, flags), so a child's chain that
 * extends its parent's is written as the parent's nodes plus its own, as in
 * CRIU's seccomp.img.
 *
 * Restore installs each thread's chain in it by remote seccomp() calls in the
 * morph, while criu's ptrace has the thread's seccomp suspended
 * (PTRACE_O_SUSPEND_SECCOMP), so the calls that follow are not filtered; the
 * filters take effect when the thread is let go. The filters every thread of
 * a process shares are installed once with TSYNC and are one filter again.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#define LOG_PREFIX "seccomp: "
#include "common.h"
#include "compel/compel.h"
#include "image.h"
#include "log.h"
#include "proc_parse.h"
#include "protobuf.h"
#include "restore.h"
#include "rst-ctx.h"
#include "seccomp.h"

#include "core.pb-c.h"
#include "seccomp.pb-c.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

/* linux/ptrace.h's struct seccomp_metadata (that header clashes with glibc's sys/ptrace.h) */
struct seccomp_md {
	uint64_t filter_off;
	uint64_t flags;
};

/* the flags a filter's metadata reports and seccomp() takes back */
#define SECCOMP_KEPT_FLAGS SECCOMP_FILTER_FLAG_LOG
/* CRIU 4.2 also writes TSYNC in an image's flags, as a hint: criu decides TSYNC itself (rst_seccomp_shared()) */
#define SECCOMP_IMAGE_FLAGS (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_TSYNC)

/* ------------------------------------------------------ dump */

struct seccomp_dump {
	SeccompFilter **nodes;
	size_t nr, cap;
	struct sock_filter *prog;	/* BPF_MAXINSNS: one filter read */
};

static void seccomp_dump_free(struct seccomp_dump *sd)
{
	for (size_t i = 0; i < sd->nr; i++) {
		free(sd->nodes[i]->filter.data);
		free(sd->nodes[i]);
	}
	free(sd->nodes);
	free(sd->prog);
}

/* The node for (prev, program, flags): the one seen already, or a new one. Its index, or -errno. */
static int node_get(struct seccomp_dump *sd, int prev, const void *prog, size_t len, uint32_t flags)
{
	SeccompFilter *f;

	for (size_t i = 0; i < sd->nr; i++) {
		f = sd->nodes[i];
		if ((f->has_prev ? (int)f->prev : -1) == prev && f->filter.len == len && f->flags == flags &&
		    !memcmp(f->filter.data, prog, len))
			return (int)i;
	}
	if (sd->nr == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 16;
		SeccompFilter **n = xrealloc(sd->nodes, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sd->nodes = n;
		sd->cap = cap;
	}
	f = xzalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	seccomp_filter__init(f);
	f->filter.data = malloc(len);
	if (!f->filter.data) {
		free(f);
		return -ENOMEM;
	}
	memcpy(f->filter.data, prog, len);
	f->filter.len = len;
	f->has_prev = prev >= 0;
	f->prev = prev >= 0 ? (uint32_t)prev : 0;
	f->has_flags = flags != 0;
	f->flags = flags;
	sd->nodes[sd->nr] = f;
	return (int)sd->nr++;
}

/*
 * Read the chain of a seized thread, oldest first, into nodes: chain[i] is the
 * node of its i-th filter. Returns how many, or -errno (logged).
 */
static int read_chain(struct seccomp_dump *sd, pid_t pid, pid_t tid, int expect, int *chain)
{
	struct sock_filter *prog = sd->prog;
	int n, prev = -1;

	for (n = 0;; n++) {
		struct seccomp_md md = { .filter_off = (uint64_t)n };
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)n, prog);

		if (len < 0 && errno == ENOENT)
			break;
		if (len < 0)
			return pr_fail_errno("can't read seccomp filter %d of thread %d of task %d "
					     "(criu needs CAP_SYS_ADMIN and no seccomp of its own)",
					     n, tid, pid);
		if (len == 0 || len > BPF_MAXINSNS)
			return pr_fail(-EINVAL, "thread %d of task %d: filter %d has %ld instructions\n", tid, pid, n,
				       len);
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(md), &md) < 0)
			return pr_fail_errno("can't read the flags of seccomp filter %d of thread %d", n, tid);
		if (n >= expect)
			return pr_fail(-EINVAL, "thread %d of task %d: more filters than the %d /proc counts\n", tid,
				       pid, expect);
		prev = node_get(sd, prev, prog, (size_t)len * sizeof(prog[0]),
				(uint32_t)(md.flags & SECCOMP_KEPT_FLAGS));
		if (prev < 0)
			return prev;
		chain[n] = prev;
	}
	if (n != expect)
		return pr_fail(-EINVAL, "thread %d of task %d: %d filters read, /proc counts %d\n", tid, pid, n, expect);
	return n;
}

/* A thread whose chain does not have node. */
static int lacking(int **chains, const int *lens, int nr, int node)
{
	for (int i = 0; i < nr; i++) {
		bool has = false;

		for (int j = 0; j < lens[i] && !has; j++)
			has = chains[i][j] == node;
		if (!has)
			return i;
	}
	return 0;
}

/*
 * The restore shares a filter between threads of one process only when all
 * of them have it (TSYNC). A filter that some threads have and others not
 * (one thread added it, then made the others) would come back as one copy
 * per thread, and a later TSYNC would fail where it worked: refused.
 */
static int check_thread_sharing(struct pstree_item *item, int **chains, const int *lens, int nr_nodes)
{
	_cleanup_free_ int *users = xzalloc(nr_nodes * sizeof(int));
	_cleanup_free_ int *first = xzalloc(nr_nodes * sizeof(int));

	if (!users || !first)
		return -ENOMEM;
	for (int i = 0; i < item->nr_threads; i++)
		for (int j = 0; j < lens[i]; j++) {
			int node = chains[i][j];

			if (!users[node]++)
				first[node] = i;
		}
	for (int i = 0; i < item->nr_threads; i++)
		for (int j = 0; j < lens[i]; j++) {
			int node = chains[i][j];

			if (users[node] > 1 && users[node] < item->nr_threads && first[node] != i)
				return pr_fail(-EOPNOTSUPP,
					       "task %d: threads %d and %d share seccomp filter %d, which thread %d lacks: "
					       "a filter shared by some threads only can't be restored\n",
					       item->pid, item->threads[first[node]], item->threads[i], j,
					       item->threads[lacking(chains, lens, item->nr_threads, node)]);
		}
	return 0;
}

/*
 * As CRIU: threads whose chains are all the same are written as the leader's
 * chain with TSYNC in its filters' flags and the other threads with seccomp
 * disabled (SECCOMP_BY_TSYNC), so that CRIU's restore makes the filters one
 * again (a later TSYNC works); ours reads the hint the same way.
 */
static void mark_tsync_hint(struct pstree_item *item)
{
	for (int i = 0; i < item->nr_threads; i++)
		if (item->seccomp_filter[i] < 0 || item->seccomp_filter[i] != item->seccomp_filter[0])
			return;
	for (int i = 1; i < item->nr_threads; i++)
		item->seccomp_filter[i] = SECCOMP_BY_TSYNC;
}

static int dump_task_seccomp(struct seccomp_dump *sd, struct pstree_item *item)
{
	int nt = item->nr_threads, ret = 0, any = 0;
	_cleanup_free_ int **chains = xzalloc(nt * sizeof(int *));
	_cleanup_free_ int *lens = xzalloc(nt * sizeof(int));

	if (!chains || !lens)
		return -ENOMEM;
	for (int i = 0; i < nt && !ret; i++) {
		struct proc_status st = { .seccomp = -1, .seccomp_filters = -1 };
		char dir[32];
		_cleanup_close_ int dfd = -1;

		snprintf(dir, sizeof(dir), "task/%d", item->threads[i]);
		dfd = openat(item->proc_dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ret = dfd < 0 ? -errno : parse_pid_status(dfd, &st);
		if (ret) {
			ret = pr_fail(ret, "can't read /proc/%d/task/%d/status: %s\n", item->pid, item->threads[i],
				      strerror(-ret));
			break;
		}
		proc_status_free(&st);	/* only the numbers are used */
		if (st.seccomp > 0 && item->seccomp_unsuspended) {
			ret = pr_fail(-EPERM, "thread %d of task %d runs under seccomp, and criu can't suspend it "
					      "(criu needs CAP_SYS_ADMIN and no seccomp of its own)\n",
				      item->threads[i], item->pid);
			break;
		}
		if (st.seccomp != SECCOMP_MODE_FILTER)
			continue;
		if (st.seccomp_filters <= 0) {
			ret = pr_fail(-EINVAL, "thread %d of task %d: seccomp filter mode with %d filters\n",
				      item->threads[i], item->pid, st.seccomp_filters);
			break;
		}
		chains[i] = xzalloc(st.seccomp_filters * sizeof(int));
		if (!chains[i]) {
			ret = -ENOMEM;
			break;
		}
		ret = read_chain(sd, item->pid, item->threads[i], st.seccomp_filters, chains[i]);
		if (ret > 0) {
			lens[i] = ret;
			any = 1;
			ret = 0;
		}
	}
	if (!ret && any)
		ret = check_thread_sharing(item, chains, lens, (int)sd->nr);
	if (!ret && any) {
		item->seccomp_filter = xzalloc(nt * sizeof(int));
		if (!item->seccomp_filter)
			ret = -ENOMEM;
		for (int i = 0; !ret && i < nt; i++)
			item->seccomp_filter[i] = lens[i] ? chains[i][lens[i] - 1] : -1;
		if (!ret)
			mark_tsync_hint(item);
	}
	for (int i = 0; i < nt; i++)
		free(chains[i]);
	return ret;
}

/*
 * CRIU's seccomp.img goes the other way from our nodes: each thread's chain is
 * listed newest first, a filter's prev is the one installed after it, and a
 * thread names its oldest filter (CRIU's restore installs from there along
 * prev). The nodes (prev = the older filter) are what the sharing check
 * needs; the image gets one such list per distinct chain, and the threads'
 * seccomp_filter are renumbered to it. The list's entries share the nodes'
 * programs (freed with the nodes).
 */
static int orient_as_criu(struct seccomp_dump *sd, struct pstree *tree, SeccompFilter ***ret, size_t *ret_nr)
{
	_cleanup_free_ int *oldest = xmalloc((sd->nr ?: 1) * sizeof(int));
	struct pstree_item *item;
	SeccompFilter **out = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_nr = 0;
	if (!oldest)
		return -ENOMEM;
	for (size_t i = 0; i < sd->nr; i++)
		oldest[i] = -1;
	for_each_pstree_item(tree, item) {
		bool hint = item->nr_threads > 1 && item->seccomp_filter && item->seccomp_filter[1] == SECCOMP_BY_TSYNC;

		for (int t = 0; item->seccomp_filter && t < item->nr_threads; t++) {
			int top = item->seccomp_filter[t], prev = -1;

			if (top < 0)
				continue;
			if (hint)
				oldest[top] = -1;	/* a list of its own, TSYNC marked */
			for (int nd = top; oldest[top] < 0; nd = (int)sd->nodes[nd]->prev) {
				SeccompFilter **o = xrealloc(out, (n + 1) * sizeof(*o));
				SeccompFilter *f = xmalloc(sizeof(*f));

				if (!o || !f) {
					free(f);
					free(o ?: out);
					return -ENOMEM;
				}
				out = o;
				*f = *sd->nodes[nd];
				f->has_prev = prev >= 0;
				f->prev = prev >= 0 ? (uint32_t)prev : 0;
				if (hint) {
					f->has_flags = true;
					f->flags |= SECCOMP_FILTER_FLAG_TSYNC;
				}
				out[n] = f;
				prev = (int)n++;
				if (!sd->nodes[nd]->has_prev)
					oldest[top] = prev;
			}
			item->seccomp_filter[t] = oldest[top];
		}
	}
	*ret = out;
	*ret_nr = n;
	return 0;
}

static int write_seccomp_img(int img_dfd, struct seccomp_dump *sd)
{
	SeccompEntry se = SECCOMP_ENTRY__INIT;
	struct cr_img *img;
	int ret;

	if (!sd->nr)
		return 0;	/* as CRIU: no image without filters */
	img = open_image_at(img_dfd, CR_FD_SECCOMP, O_DUMP);
	if (!img)
		return pr_fail_errno("can't create seccomp.img");
	se.n_seccomp_filters = sd->nr;
	se.seccomp_filters = sd->nodes;
	ret = pb_write_one(img, &se, PB_SECCOMP);
	close_image(img);
	if (ret)
		pr_err("can't write seccomp.img: %s\n", strerror(-ret));
	return ret;
}

int dump_seccomp(int img_dfd, struct pstree *tree)
{
	struct seccomp_dump sd = { .prog = xzalloc(BPF_MAXINSNS * sizeof(struct sock_filter)) };
	struct seccomp_dump img = {};	/* the image's filters, CRIU's way round (orient_as_criu()) */
	struct pstree_item *item;
	int ret = 0;

	if (!sd.prog)
		return -ENOMEM;

	/* parents first: a child's chain finds the nodes of its parent's */
	for_each_pstree_item(tree, item) {
		if (item->state == TASK_DEAD)
			continue;
		ret = dump_task_seccomp(&sd, item);
		if (ret)
			break;
	}
	if (!ret)
		ret = orient_as_criu(&sd, tree, &img.nodes, &img.nr);
	if (!ret)
		ret = write_seccomp_img(img_dfd, &img);
	if (!ret && img.nr)
		pr_info("%zu seccomp filters dumped\n", img.nr);
	for (size_t i = 0; i < img.nr; i++)
		free(img.nodes[i]);
	free(img.nodes);
	seccomp_dump_free(&sd);
	return ret;
}

/* ------------------------------------------------------ restore */

static int thread_mode(const ThreadCoreEntry *tc)
{
	return tc && tc->has_seccomp_mode ? (int)tc->seccomp_mode : SECCOMP_MODE_DISABLED;
}

/*
 * The thread's chain, oldest first, into *ret_chain (malloc'ed, room for every
 * filter of the image: no chain is longer): its length, 0 without filters.
 */
static int thread_chain(struct rst_ctx *ctx, const ThreadCoreEntry *tc, uint32_t **ret_chain)
{
	uint32_t idx, *chain;
	int n = 0;

	*ret_chain = NULL;
	if (thread_mode(tc) != SECCOMP_MODE_FILTER || !ctx->seccomp)
		return 0;
	chain = *ret_chain = xzalloc(ctx->seccomp->n_seccomp_filters * sizeof(uint32_t));
	if (!chain)
		return -ENOMEM;
	/* checked by rst_seccomp_read(): in range, each prev lower than its filter */
	/* CRIU's way: the thread names its oldest filter, each prev is the next one installed */
	for (idx = tc->seccomp_filter;; idx = ctx->seccomp->seccomp_filters[idx]->prev) {
		chain[n++] = idx;
		if (!ctx->seccomp->seccomp_filters[idx]->has_prev)
			break;
	}
	return n;
}

static int check_filters(const SeccompEntry *se)
{
	for (size_t i = 0; i < se->n_seccomp_filters; i++) {
		const SeccompFilter *f = se->seccomp_filters[i];
		size_t insns = f->filter.len / sizeof(struct sock_filter);

		if (f->filter.len % sizeof(struct sock_filter) || !insns || insns > BPF_MAXINSNS)
			return pr_fail(-EINVAL, "seccomp.img: filter %zu is %zu bytes, not 1 to %d instructions\n", i,
				       f->filter.len, BPF_MAXINSNS);
		if (f->has_prev && f->prev >= i)
			return pr_fail(-EINVAL, "seccomp.img: filter %zu follows filter %u, not an older one\n", i,
				       f->prev);
		if (f->has_flags && (f->flags & ~SECCOMP_IMAGE_FLAGS))
			return pr_fail(-EINVAL, "seccomp.img: filter %zu has unknown flags %#x\n", i, f->flags);
	}
	return 0;
}

static int check_thread(struct rst_ctx *ctx, const CoreEntry *core, pid_t tid)
{
	const ThreadCoreEntry *tc = core->thread_core;
	int mode = thread_mode(tc);

	if (core->tc && core->tc->has_old_seccomp_mode && core->tc->old_seccomp_mode != SECCOMP_MODE__disabled &&
	    !(tc && tc->has_seccomp_mode))
		return pr_fail(-EOPNOTSUPP, "core-%d.img: seccomp in the task core (old CRIU images) is not supported\n",
			       tid);
	if (mode == SECCOMP_MODE_DISABLED || mode == SECCOMP_MODE_STRICT)
		return 0;
	if (mode != SECCOMP_MODE_FILTER)
		return pr_fail(-EINVAL, "core-%d.img: unknown seccomp mode %d\n", tid, mode);
	if (!tc->has_seccomp_filter || !ctx->seccomp || tc->seccomp_filter >= ctx->seccomp->n_seccomp_filters)
		return pr_fail(-EINVAL, "core-%d.img: seccomp filter mode, but filter %s is not in seccomp.img\n", tid,
			       tc->has_seccomp_filter ? "" : "(none)");
	return 0;
}

/*
 * The restored tasks are forks of criu: under a filter of criu's own they
 * would keep it on top of theirs (and criu could not suspend theirs).
 */
static int check_criu_itself(void)
{
	struct proc_status st = { .seccomp = -1, .seccomp_filters = -1 };
	_cleanup_close_ int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = dfd < 0 ? -errno : parse_pid_status(dfd, &st);

	if (ret)
		return pr_fail(ret, "can't read criu's own /proc/self/status: %s\n", strerror(-ret));
	proc_status_free(&st);
	if (st.seccomp > 0)
		return pr_fail(-EPERM, "criu itself runs under seccomp (%s mode): every restored task would "
				       "inherit it; run criu without a seccomp filter\n",
			       st.seccomp == SECCOMP_MODE_STRICT ? "strict" : "filter");
	return 0;
}

int rst_seccomp_read(struct rst_ctx *ctx)
{
	struct cr_img *img;
	struct pstree_item *item;
	int ret = check_criu_itself();

	if (ret)
		return ret;
	img = open_image_at(ctx->img_dfd, CR_FD_SECCOMP, O_RSTR);

	if (!img)
		return pr_fail_errno("can't open seccomp.img");
	if (!img_is_empty(img))
		ret = pb_read_one(img, (void **)&ctx->seccomp, PB_SECCOMP);
	close_image(img);
	if (ret)
		return ret;	/* logged by pb_read_one() */
	if (ctx->seccomp)
		ret = check_filters(ctx->seccomp);
	for_each_pstree_item(&ctx->tree, item) {
		if (ret || item->state == TASK_DEAD || !rsti(item))
			continue;
		for (int i = 0; !ret && i < item->nr_threads; i++)
			ret = check_thread(ctx, rsti(item)->core[i], item->threads[i]);
	}
	return ret;
}

void rst_seccomp_free(struct rst_ctx *ctx)
{
	if (ctx->seccomp)
		pb_free(ctx->seccomp, PB_SECCOMP);
	ctx->seccomp = NULL;
}

bool rst_seccomp_task(const struct pstree_item *item)
{
	struct rst_info *ri = item->priv;

	for (int i = 0; ri && i < item->nr_threads; i++)
		if (thread_mode(ri->core[i]->thread_core) != SECCOMP_MODE_DISABLED)
			return true;
	return false;
}

/*
 * An image lists each chain whole (CRIU's way), so the filters threads share
 * are told by their place in the chain, program and flags.
 */
static bool same_filter(const SeccompEntry *se, uint32_t a, uint32_t b)
{
	const SeccompFilter *x = se->seccomp_filters[a], *y = se->seccomp_filters[b];

	return a == b || (x->filter.len == y->filter.len && (x->has_flags ? x->flags : 0) == (y->has_flags ? y->flags : 0) &&
			  !memcmp(x->filter.data, y->filter.data, x->filter.len));
}

int rst_seccomp_shared(struct rst_ctx *ctx, struct pstree_item *item)
{
	_cleanup_free_ uint32_t *c0 = NULL;
	int shared;

	if (item->nr_threads < 2)
		return 0;
	shared = thread_chain(ctx, rsti(item)->core[0]->thread_core, &c0);
	for (int i = 1; i < item->nr_threads && shared > 0; i++) {
		_cleanup_free_ uint32_t *ci = NULL;
		int n = thread_chain(ctx, rsti(item)->core[i]->thread_core, &ci), k = 0;

		if (n < 0)
			return n;
		while (k < n && k < shared && same_filter(ctx->seccomp, ci[k], c0[k]))
			k++;
		shared = k;
	}
	return shared;
}

/* One remote seccomp(SECCOMP_SET_MODE_FILTER) of filter idx in thread tid. */
static int install_one(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch, uint32_t idx,
		       bool tsync)
{
	const SeccompFilter *f = ctx->seccomp->seccomp_filters[idx];
	struct {
		uint16_t len;
		uint16_t pad[3];
		uint64_t filter;
	} prog = { (uint16_t)(f->filter.len / sizeof(struct sock_filter)), { 0 }, scratch + 16 };
	/* CRIU's TSYNC hint: every thread had the chain, and CRIU wrote the others with seccomp disabled */
	bool hint = f->has_flags && (f->flags & SECCOMP_FILTER_FLAG_TSYNC);
	unsigned long flags = (f->has_flags ? f->flags & SECCOMP_KEPT_FLAGS : 0) |
			      (tsync || hint ? SECCOMP_FILTER_FLAG_TSYNC : 0);
	long r;
	int ret;

	ret = rst_poke(rs, scratch, &prog, sizeof(prog));
	if (!ret)
		ret = rst_poke(rs, scratch + 16, f->filter.data, f->filter.len);
	if (ret)
		return pr_fail(ret, "%d: can't write seccomp filter %u into the task: %s\n", tid, idx, strerror(-ret));
	r = rst_rsys(rs, __NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, scratch, 0, 0, 0);
	if (r > 0)
		return pr_fail(-EBUSY, "%d: seccomp filter %u with TSYNC: thread %ld can't take it\n", tid, idx, r);
	if (r < 0)
		return pr_fail((int)r, "%d: can't install seccomp filter %u (flags %#lx): %s\n", tid, idx, flags,
			       strerror((int)-r));
	return 0;
}

int rst_seccomp_filters(struct rst_ctx *ctx, struct compel_rsys *rs, pid_t tid, unsigned long scratch,
			const ThreadCoreEntry *tc, int skip, int tsync)
{
	_cleanup_free_ uint32_t *chain = NULL;
	int n, ret = 0;

	n = thread_chain(ctx, tc, &chain);
	if (n < 0)
		return n;
	for (int i = skip; i < n && !ret; i++)
		ret = install_one(ctx, rs, tid, scratch, chain[i], i < tsync);
	if (!ret && n > skip)
		pr_info("%d: %d seccomp filters installed (%d of them shared)\n", tid, n, skip > tsync ? skip : tsync);
	return ret;
}

int rst_seccomp_strict(struct compel_rsys *rs, pid_t tid, const ThreadCoreEntry *tc)
{
	long r;

	if (thread_mode(tc) != SECCOMP_MODE_STRICT)
		return 0;
	r = rst_rsys(rs, __NR_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0, 0, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "%d: can't set seccomp strict mode: %s\n", tid, strerror((int)-r));
	return 0;
}
