// SPDX-License-Identifier: GPL-2.0
/*
 * Thread and task attributes kept in our own fields of the core image (numbers from
 * 100, see images/core.proto): dump and restore halves.
 *
 * Per thread:
 *  - timer slack: the current value and the default that PR_SET_TIMERSLACK(0) gives
 *    back. The kernel sets a new task's default to its creator's current slack and has
 *    no other way to set it, so the restore's stubs take the default of the task or
 *    thread they create next as their own slack right before they create it
 *    (slack_for_next()). Dump reads the default by PR_SET_TIMERSLACK(0) and puts the
 *    current value back (a task's leader at the end of its blob of reads:
 *    slack_default_calls()); for a real-time thread the kernel ignores that (its slack
 *    is 0), and the default is not dumped;
 *  - CPU affinity (sched_getaffinity/sched_setaffinity from criu): a CPU of the image
 *    that the restoring machine does not give fails the restore;
 *  - I/O priority (ioprio_get/ioprio_set from criu);
 *  - NUMA memory policy (get_mempolicy/set_mempolicy in the thread), checked by reading
 *    it back (the kernel drops missing nodes without an error);
 *  - PR_SET_TSC, PR_MCE_KILL (prctl in the thread).
 * Per mm (in the leader's image): coredump_filter (/proc, from criu) and PR_SET_MDWE
 * (prctl in the task, after the memory: it can't be undone and forbids W+X mappings).
 *
 * The stubs are copies of criu: a value absent from the image (the default) is set only
 * where criu's own differs.
 */
#define LOG_PREFIX "attrs: "
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "task-attrs.h"

#define SLACK_DEFAULT_NS 50000ULL
#define COREDUMP_FILTER_DEFAULT 0x33
#define NODE_BITS (TA_NODE_WORDS * 64)
#define IOPRIO_WHO_PROCESS 1
#ifndef PR_GET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#define MPOL_DEFAULT 0
#define MPOL_MAX_KNOWN 6		/* MPOL_WEIGHTED_INTERLEAVE */
#define MPOL_FLAGS ((1 << 15) | (1 << 14) | (1 << 13))	/* STATIC_NODES, RELATIVE_NODES, NUMA_BALANCING */

/* A remote syscall: its result, or compel's -errno. */
static long rsys(struct compel_rsys *rs, long nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
	long r;
	int err = compel_rsys(rs, &r, nr, a1, a2, a3, 0, 0, 0);

	return err ? err : r;
}

static bool is_err(long r)
{
	return r < 0 && r >= -4095;
}

/* "0-3,8" from a mask of n words (for messages). */
static const char *mask_str(const uint64_t *w, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t bit = 0; bit < n * 64 && len + 24 < size; bit++) {
		size_t end = bit;

		if (!(w[bit / 64] & (1ULL << (bit % 64))))
			continue;
		while (end + 1 < n * 64 && (w[(end + 1) / 64] & (1ULL << ((end + 1) % 64))))
			end++;
		len += snprintf(buf + len, size - len, "%s%zu", len ? "," : "", bit);
		if (end > bit)
			len += snprintf(buf + len, size - len, "-%zu", end);
		bit = end;
	}
	return buf[0] ? buf : "none";
}

/* Words up to the last non-zero one. */
static size_t mask_len(const uint64_t *w, size_t n)
{
	while (n && !w[n - 1])
		n--;
	return n;
}

/* /sys/devices/system/cpu/online ("0-3,6") as a mask. */
static int online_cpus(uint64_t *w)
{
	char buf[256], *p, *end;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	memset(w, 0, TA_CPU_WORDS * sizeof(*w));
	for (p = buf; *p && *p != '\n';) {
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long c = lo; c <= hi && c < TA_CPU_WORDS * 64; c++)
			w[c / 64] |= 1ULL << (c % 64);
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static int get_affinity(pid_t tid, uint64_t *w)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(tid, sizeof(set), &set))
		return -errno;
	memset(w, 0, TA_CPU_WORDS * sizeof(*w));
	for (int c = 0; c < CPU_SETSIZE && c < TA_CPU_WORDS * 64; c++)
		if (CPU_ISSET(c, &set))
			w[c / 64] |= 1ULL << (c % 64);
	return 0;
}

/* ------------------------------------------------------------ dump */

static int dump_affinity(pid_t tid, struct thread_attrs *a, ThreadCoreEntry *tc)
{
	uint64_t online[TA_CPU_WORDS];
	int ret = get_affinity(tid, a->cpus);

	if (ret)
		return pr_fail(ret, "thread %d: sched_getaffinity: %s\n", tid, strerror(-ret));
	ret = online_cpus(online);
	if (ret)
		return pr_fail(ret, "can't read the online CPUs: %s\n", strerror(-ret));
	if (!memcmp(online, a->cpus, sizeof(online)))
		return 0;
	tc->n_cpu_affinity = mask_len(a->cpus, TA_CPU_WORDS);
	tc->cpu_affinity = a->cpus;
	return 0;
}

static int dump_ioprio(pid_t tid, ThreadCoreEntry *tc)
{
	long r = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);

	if (r < 0)
		return pr_fail_errno("thread %d: ioprio_get", tid);
	tc->has_ioprio = r != 0;
	tc->ioprio = (uint32_t)r;
	return 0;
}

static bool rt_policy(pid_t tid)
{
	int p = sched_getscheduler(tid);

	p &= ~SCHED_RESET_ON_FORK;
	return p == SCHED_FIFO || p == SCHED_RR || p == 6 /* SCHED_DEADLINE */;
}

int slack_put_back(struct compel_rsys *rs, unsigned long cur)
{
	long r = rsys(rs, __NR_prctl, PR_SET_TIMERSLACK, cur, 0);

	return is_err(r) ? (int)r : 0;
}

/* The default: PR_SET_TIMERSLACK 0 makes it the current slack; then cur back. The default or -errno. */
static long read_default(struct compel_rsys *rs, long cur)
{
	long r = rsys(rs, __NR_prctl, PR_SET_TIMERSLACK, 0, 0), def;

	def = is_err(r) ? r : rsys(rs, __NR_prctl, PR_GET_TIMERSLACK, 0, 0);
	r = slack_put_back(rs, (unsigned long)cur);
	return is_err(def) ? def : r ? r : def;
}

int slack_default_calls(pid_t tid, int proc_dfd, struct compel_rsys_call *c, unsigned long *ret_cur)
{
	char buf[32], *end;
	unsigned long cur;

	if (rt_policy(tid) || read_file_at(proc_dfd, "timerslack_ns", buf, sizeof(buf)) < 0)
		return 0;
	errno = 0;
	cur = strtoul(buf, &end, 10);
	if (errno || end == buf || !cur)
		return 0;	/* 0 would set the default: dump_slack() refuses that slack */
	c[0] = (struct compel_rsys_call){ __NR_prctl, { PR_SET_TIMERSLACK, 0 } };
	c[1] = (struct compel_rsys_call){ __NR_prctl, { PR_GET_TIMERSLACK } };
	c[2] = (struct compel_rsys_call){ __NR_prctl, { PR_SET_TIMERSLACK, cur } };
	*ret_cur = cur;
	return SLACK_CALLS;
}

/*
 * The default as the leader's blob read it. The blob put back the slack criu
 * read before it: when the thread had another one at the blob's own read
 * (someone wrote /proc/PID/timerslack_ns in between), that one goes back.
 */
static long blob_default(struct compel_rsys *rs, long cur, const struct thread_attr_reads *pre)
{
	long r = pre->slack_set;

	if ((unsigned long)cur != pre->slack_back) {
		pr_info("thread %d: timer slack %ld, not %lu as read before the blob: put back\n", rs->tid, cur,
			pre->slack_back);
		r = slack_put_back(rs, (unsigned long)cur);
	}
	if (is_err(pre->slack_zero))
		return pre->slack_zero;
	return is_err(pre->slack_def) ? pre->slack_def : is_err(r) ? r : pre->slack_def;
}

/*
 * The current slack, and the default by setting 0 and back (not for a
 * real-time thread), or as the leader's blob read them.
 */
static int dump_slack(struct compel_rsys *rs, ThreadCoreEntry *tc, const struct thread_attr_reads *pre)
{
	pid_t tid = rs->tid;
	long cur, def = 0;

	cur = pre ? pre->slack : rsys(rs, __NR_prctl, PR_GET_TIMERSLACK, 0, 0);
	if (is_err(cur))
		return pr_fail((int)cur, "thread %d: PR_GET_TIMERSLACK: %s\n", tid, strerror((int)-cur));
	/* first, whatever follows: the blob's own put-back is checked (and its default kept) */
	if (pre && pre->slack_back)
		def = blob_default(rs, cur, pre);
	tc->has_timer_slack_ns = (uint64_t)cur != SLACK_DEFAULT_NS;
	tc->timer_slack_ns = (uint64_t)cur;
	if (rt_policy(tid)) {
		pr_info("thread %d: real-time: its default timer slack can't be read, not dumped\n", tid);
		return 0;
	}
	if (!cur)
		return pr_fail(-EOPNOTSUPP, "thread %d: timer slack 0 in a thread that is not real-time: can't be restored\n",
			       tid);
	if (!pre || !pre->slack_back)
		def = read_default(rs, cur);
	if (is_err(def))
		return pr_fail((int)def, "thread %d: can't read its default timer slack\n", tid);
	if (!def)
		return pr_fail(-EOPNOTSUPP, "thread %d: default timer slack 0: can't be restored\n", tid);
	tc->has_timer_slack_default_ns = (uint64_t)def != SLACK_DEFAULT_NS;
	tc->timer_slack_default_ns = (uint64_t)def;
	return 0;
}

static int dump_mempolicy(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a,
			  ThreadCoreEntry *tc, const struct thread_attr_reads *pre)
{
	long r = pre ? pre->mempolicy : rsys(rs, __NR_get_mempolicy, scratch, scratch + 64, NODE_BITS + 1);
	int32_t mode;
	int ret = 0;

	if (r == -ENOSYS)
		return 0;	/* a kernel without NUMA: every task has the default */
	if (r < 0)
		return pr_fail((int)r, "thread %d: get_mempolicy: %s\n", rs->tid, strerror((int)-r));
	if (pre) {
		mode = pre->mempolicy_mode;
		memcpy(a->nodes, pre->nodes, sizeof(a->nodes));
	} else {
		ret = compel_mem_read(rs->tid, rs->mem_fd, scratch, &mode, sizeof(mode));
		if (!ret)
			ret = compel_mem_read(rs->tid, rs->mem_fd, scratch + 64, a->nodes, sizeof(a->nodes));
	}
	if (ret)
		return ret;
	if (mode == MPOL_DEFAULT)
		return 0;
	tc->has_mempolicy_mode = true;
	tc->mempolicy_mode = (uint32_t)mode;
	tc->n_mempolicy_nodes = mask_len(a->nodes, TA_NODE_WORDS);
	tc->mempolicy_nodes = a->nodes;
	return 0;
}

static int dump_prctls(struct compel_rsys *rs, unsigned long scratch, ThreadCoreEntry *tc,
		       const struct thread_attr_reads *pre)
{
	int32_t tsc = PR_TSC_ENABLE;
	long r;
	int ret;

	r = pre ? pre->tsc : rsys(rs, __NR_prctl, PR_GET_TSC, scratch, 0);
	if (r < 0 && r != -EINVAL)
		return pr_fail((int)r, "thread %d: PR_GET_TSC: %s\n", rs->tid, strerror((int)-r));
	if (!r && pre)
		tsc = pre->tsc_mode;
	else if (!r) {
		ret = compel_mem_read(rs->tid, rs->mem_fd, scratch, &tsc, sizeof(tsc));
		if (ret)
			return ret;
	}
	tc->has_tsc_mode = tsc != PR_TSC_ENABLE;
	tc->tsc_mode = (uint32_t)tsc;

	r = pre ? pre->mce : rsys(rs, __NR_prctl, PR_MCE_KILL_GET, 0, 0);
	if (r < 0)
		return pr_fail((int)r, "thread %d: PR_MCE_KILL_GET: %s\n", rs->tid, strerror((int)-r));
	tc->has_mce_kill = r != PR_MCE_KILL_DEFAULT;
	tc->mce_kill = (uint32_t)r;
	return 0;
}

int dump_thread_attrs_pre(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a,
			  ThreadCoreEntry *tc, const struct thread_attr_reads *pre)
{
	int ret = dump_affinity(rs->tid, a, tc);

	if (!ret)
		ret = dump_ioprio(rs->tid, tc);
	if (!ret)
		ret = dump_slack(rs, tc, pre);
	if (!ret)
		ret = dump_mempolicy(rs, scratch, a, tc, pre);
	if (!ret)
		ret = dump_prctls(rs, scratch, tc, pre);
	return ret;
}

int dump_thread_attrs(struct compel_rsys *rs, unsigned long scratch, struct thread_attrs *a, ThreadCoreEntry *tc)
{
	return dump_thread_attrs_pre(rs, scratch, a, tc, NULL);
}

int dump_task_attrs(struct compel_rsys *rs, int proc_dfd, TaskCoreEntry *tc)
{
	return dump_task_attrs_pre(rs, proc_dfd, tc, NULL);
}

int dump_task_attrs_pre(struct compel_rsys *rs, int proc_dfd, TaskCoreEntry *tc, const long *mdwe)
{
	char buf[32], *end;
	unsigned long filter;
	long r;
	int ret;

	ret = read_file_at(proc_dfd, "coredump_filter", buf, sizeof(buf));
	if (ret < 0)
		return pr_fail(ret, "task %d: can't read coredump_filter: %s\n", rs->tid, strerror(-ret));
	filter = strtoul(buf, &end, 16);
	if (end == buf)
		return pr_fail(-EINVAL, "task %d: coredump_filter '%s'\n", rs->tid, buf);
	tc->has_coredump_filter = filter != COREDUMP_FILTER_DEFAULT;
	tc->coredump_filter = (uint32_t)filter;

	r = mdwe ? *mdwe : rsys(rs, __NR_prctl, PR_GET_MDWE, 0, 0);
	if (r == -EINVAL)
		r = 0;	/* a kernel older than 6.3 */
	if (r < 0)
		return pr_fail((int)r, "task %d: PR_GET_MDWE: %s\n", rs->tid, strerror((int)-r));
	tc->has_mdwe_flags = r != 0;
	tc->mdwe_flags = (uint32_t)r;
	return 0;
}

/* ------------------------------------------------------------ restore */

int check_thread_attrs(pid_t tid, const ThreadCoreEntry *tc)
{
	if (tc->n_cpu_affinity > TA_CPU_WORDS || tc->n_mempolicy_nodes > TA_NODE_WORDS)
		return pr_fail(-EINVAL, "core-%d.img: CPU or NUMA node mask too wide\n", tid);
	if (tc->n_cpu_affinity && !mask_len(tc->cpu_affinity, tc->n_cpu_affinity))
		return pr_fail(-EINVAL, "core-%d.img: empty CPU affinity\n", tid);
	if (tc->has_mempolicy_mode && (tc->mempolicy_mode & ~MPOL_FLAGS) > MPOL_MAX_KNOWN)
		return pr_fail(-EINVAL, "core-%d.img: unknown NUMA policy %#x\n", tid, tc->mempolicy_mode);
	if (tc->has_mce_kill && tc->mce_kill > PR_MCE_KILL_DEFAULT)
		return pr_fail(-EINVAL, "core-%d.img: unknown PR_MCE_KILL value %u\n", tid, tc->mce_kill);
	if (tc->has_tsc_mode && tc->tsc_mode != PR_TSC_ENABLE && tc->tsc_mode != PR_TSC_SIGSEGV)
		return pr_fail(-EINVAL, "core-%d.img: unknown PR_SET_TSC mode %u\n", tid, tc->tsc_mode);
	return 0;
}

static uint64_t slack_default(const ThreadCoreEntry *tc)
{
	return tc && tc->has_timer_slack_default_ns ? tc->timer_slack_default_ns : SLACK_DEFAULT_NS;
}

int slack_for_next(const CoreEntry *core)
{
	uint64_t want = slack_default(core ? core->thread_core : NULL);
	long r;

	if (prctl(PR_SET_TIMERSLACK, (unsigned long)want, 0, 0, 0))
		return -errno;
	r = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	return (uint64_t)r == want ? 0 : -EPERM;	/* ignored: criu runs real-time */
}

/* Current slack: a stub thread has its default as current (slack_for_next()). */
static int restore_slack(struct compel_rsys *rs, const ThreadCoreEntry *tc)
{
	uint64_t want = tc->has_timer_slack_ns ? tc->timer_slack_ns : SLACK_DEFAULT_NS;
	long r;

	if (!want)
		return 0;	/* a real-time thread: its policy gives 0 */
	r = rsys(rs, __NR_prctl, PR_GET_TIMERSLACK, 0, 0);
	if (!is_err(r) && (uint64_t)r != want) {
		/* set, then read back (a real-time thread ignores it); already right: no call more */
		r = rsys(rs, __NR_prctl, PR_SET_TIMERSLACK, (unsigned long)want, 0);
		if (!is_err(r))
			r = rsys(rs, __NR_prctl, PR_GET_TIMERSLACK, 0, 0);
	}
	if (is_err(r))
		return pr_fail((int)r, "thread %d: timer slack: %s\n", rs->tid, strerror((int)-r));
	if ((uint64_t)r != want)
		return pr_fail(-EIO, "thread %d: timer slack is %ld ns, not the dumped %" PRIu64 "\n", rs->tid, r, want);
	return 0;
}

static int restore_affinity(pid_t tid, const ThreadCoreEntry *tc)
{
	uint64_t want[TA_CPU_WORDS] = {}, cur[TA_CPU_WORDS];
	char s1[128], s2[128];
	cpu_set_t set;
	int ret;

	if (tc->n_cpu_affinity)
		memcpy(want, tc->cpu_affinity, tc->n_cpu_affinity * sizeof(*want));
	else if ((ret = online_cpus(want)))
		return pr_fail(ret, "can't read the online CPUs: %s\n", strerror(-ret));
	ret = get_affinity(tid, cur);
	if (ret)
		return pr_fail(ret, "thread %d: sched_getaffinity: %s\n", tid, strerror(-ret));
	if (!memcmp(want, cur, sizeof(cur)))
		return 0;
	CPU_ZERO(&set);
	for (int c = 0; c < TA_CPU_WORDS * 64 && c < CPU_SETSIZE; c++)
		if (want[c / 64] & (1ULL << (c % 64)))
			CPU_SET(c, &set);
	if (sched_setaffinity(tid, sizeof(set), &set))
		return pr_fail_errno("thread %d: can't set its CPU affinity to %s", tid,
			       mask_str(want, TA_CPU_WORDS, s1, sizeof(s1)));
	if (!tc->n_cpu_affinity)
		return 0;	/* all CPUs: a cpuset may give fewer, as to any new task */
	ret = get_affinity(tid, cur);
	if (ret)
		return pr_fail(ret, "thread %d: sched_getaffinity: %s\n", tid, strerror(-ret));
	if (memcmp(want, cur, sizeof(cur)))
		return pr_fail(-ENODEV, "thread %d: dumped with CPU affinity %s, this machine gives only %s\n", tid,
			       mask_str(want, TA_CPU_WORDS, s1, sizeof(s1)), mask_str(cur, TA_CPU_WORDS, s2, sizeof(s2)));
	return 0;
}

static int restore_ioprio(pid_t tid, const ThreadCoreEntry *tc)
{
	long want = tc->has_ioprio ? tc->ioprio : 0, cur;

	cur = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
	if (cur == want)
		return 0;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, want))
		return pr_fail_errno("thread %d: ioprio_set(class %ld, level %ld)", tid, want >> 13,
			       want & 0x1fff);
	cur = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
	if (cur != want)
		return pr_fail(-EIO, "thread %d: I/O priority is %#lx, not the dumped %#lx\n", tid, cur, want);
	return 0;
}

/*
 * criu's own mempolicy, TSC and MCE modes: what every stub starts with. File
 * scope: a property of the criu process, learned once, the same for every restore.
 */
static struct {
	bool known;
	int mpol;
	int tsc;
	int mce;
} self;

static void learn_self(void)
{
	uint64_t nodes[TA_NODE_WORDS];

	if (self.known)
		return;
	self.mpol = MPOL_DEFAULT;
	if (syscall(SYS_get_mempolicy, &self.mpol, nodes, NODE_BITS + 1, 0, 0))
		self.mpol = MPOL_DEFAULT;
	self.tsc = PR_TSC_ENABLE;
	if (prctl(PR_GET_TSC, &self.tsc, 0, 0, 0))
		self.tsc = PR_TSC_ENABLE;
	self.mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
	if (self.mce < 0)
		self.mce = PR_MCE_KILL_DEFAULT;
	self.known = true;
}

static int restore_mempolicy(struct compel_rsys *rs, unsigned long scratch, const ThreadCoreEntry *tc)
{
	uint64_t nodes[TA_NODE_WORDS] = {}, got[TA_NODE_WORDS];
	int32_t mode = tc->has_mempolicy_mode ? (int32_t)tc->mempolicy_mode : MPOL_DEFAULT, got_mode;
	char s1[128], s2[128];
	long r;
	int ret;

	if (mode == MPOL_DEFAULT && self.mpol == MPOL_DEFAULT)
		return 0;
	memcpy(nodes, tc->mempolicy_nodes, tc->n_mempolicy_nodes * sizeof(*nodes));
	ret = compel_mem_write(rs->tid, rs->mem_fd, scratch + 64, nodes, sizeof(nodes));
	if (ret)
		return ret;
	r = rsys(rs, __NR_set_mempolicy, (unsigned long)mode, mode == MPOL_DEFAULT ? 0 : scratch + 64,
		 mode == MPOL_DEFAULT ? 0 : NODE_BITS + 1);
	if (r < 0)
		return pr_fail((int)r, "thread %d: set_mempolicy(%#x, nodes %s): %s\n", rs->tid, mode,
			       mask_str(nodes, TA_NODE_WORDS, s1, sizeof(s1)), strerror((int)-r));
	r = rsys(rs, __NR_get_mempolicy, scratch, scratch + 64, NODE_BITS + 1);
	if (r < 0)
		return pr_fail((int)r, "thread %d: get_mempolicy: %s\n", rs->tid, strerror((int)-r));
	ret = compel_mem_read(rs->tid, rs->mem_fd, scratch, &got_mode, sizeof(got_mode));
	if (!ret)
		ret = compel_mem_read(rs->tid, rs->mem_fd, scratch + 64, got, sizeof(got));
	if (ret)
		return ret;
	if (got_mode != mode || memcmp(got, nodes, sizeof(got)))
		return pr_fail(-ENODEV, "thread %d: dumped with NUMA policy %#x on nodes %s, this machine gives %#x on %s\n",
			       rs->tid, mode, mask_str(nodes, TA_NODE_WORDS, s1, sizeof(s1)), got_mode,
			       mask_str(got, TA_NODE_WORDS, s2, sizeof(s2)));
	return 0;
}

static int restore_prctls(struct compel_rsys *rs, const ThreadCoreEntry *tc)
{
	int tsc = tc->has_tsc_mode ? (int)tc->tsc_mode : PR_TSC_ENABLE;
	int mce = tc->has_mce_kill ? (int)tc->mce_kill : PR_MCE_KILL_DEFAULT;
	long r;

	if (tsc != self.tsc) {
		r = rsys(rs, __NR_prctl, PR_SET_TSC, tsc, 0);
		if (r < 0)
			return pr_fail((int)r, "thread %d: PR_SET_TSC(%d): %s\n", rs->tid, tsc, strerror((int)-r));
	}
	if (mce != self.mce) {
		if (mce == PR_MCE_KILL_DEFAULT)
			r = rsys(rs, __NR_prctl, PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0);
		else
			r = rsys(rs, __NR_prctl, PR_MCE_KILL, PR_MCE_KILL_SET, mce);
		if (r < 0)
			return pr_fail((int)r, "thread %d: PR_MCE_KILL(%d): %s\n", rs->tid, mce, strerror((int)-r));
	}
	return 0;
}

/* Scheduling policy and nice, from criu; after the timer slack (a real-time policy sets it to 0). */
static int restore_sched(pid_t tid, const ThreadCoreEntry *tc)
{
	if (tc->has_sched_policy && tc->sched_policy != SCHED_OTHER) {
		struct sched_param sp = { .sched_priority = tc->has_sched_prio ? (int)tc->sched_prio : 0 };

		if (sched_setscheduler(tid, (int)tc->sched_policy, &sp))
			return pr_fail_errno("%d: sched_setscheduler(%u)", tid, tc->sched_policy);
	}
	if (tc->has_sched_nice && setpriority(PRIO_PROCESS, tid, tc->sched_nice))
		return pr_fail_errno("%d: setpriority(%d)", tid, tc->sched_nice);
	return 0;
}

int restore_thread_attrs(struct compel_rsys *rs, pid_t tid, unsigned long scratch, const ThreadCoreEntry *tc)
{
	int ret;

	learn_self();
	ret = restore_slack(rs, tc);
	if (!ret)
		ret = restore_affinity(tid, tc);
	if (!ret)
		ret = restore_ioprio(tid, tc);
	if (!ret)
		ret = restore_mempolicy(rs, scratch, tc);
	if (!ret)
		ret = restore_prctls(rs, tc);
	if (!ret)
		ret = restore_sched(tid, tc);
	return ret;
}

int restore_coredump_filter(int proc_dfd, pid_t real_pid, const TaskCoreEntry *tc)
{
	unsigned int want = tc->has_coredump_filter ? tc->coredump_filter : COREDUMP_FILTER_DEFAULT;
	char path[64], buf[32];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int len;

	snprintf(path, sizeof(path), "%d/coredump_filter", real_pid);
	fd = openat(proc_dfd, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open /proc/%s", path);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	if (n > 0 && strtoul(buf, NULL, 16) == want)
		return 0;
	len = snprintf(buf, sizeof(buf), "0x%x", want);
	if (pwrite(fd, buf, len, 0) != len)
		return pr_fail_errno("can't write %s to /proc/%s", buf, path);
	return 0;
}

int restore_mdwe(struct compel_rsys *rs, pid_t pid, const TaskCoreEntry *tc)
{
	long want = tc->has_mdwe_flags ? tc->mdwe_flags : 0, cur;

	cur = rsys(rs, __NR_prctl, PR_GET_MDWE, 0, 0);
	if (cur == -EINVAL)
		cur = 0;	/* a kernel older than 6.3 */
	if (cur < 0)
		return pr_fail((int)cur, "task %d: PR_GET_MDWE: %s\n", pid, strerror((int)-cur));
	if (cur == want)
		return 0;
	if (cur & ~want)
		return pr_fail(-EPERM, "task %d: MDWE flags %#lx (criu's own) can't be dropped to the dumped %#lx\n",
			       pid, cur, want);
	cur = rsys(rs, __NR_prctl, PR_SET_MDWE, want, 0);
	if (cur < 0)
		return pr_fail((int)cur, "task %d: PR_SET_MDWE(%#lx): %s\n", pid, want, strerror((int)-cur));
	return 0;
}
