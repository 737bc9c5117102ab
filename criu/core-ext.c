// SPDX-License-Identifier: GPL-2.0
/*
 * core-ext-TID.img: the fields of a thread's core that CRIU's core_entry
 * does not have (task_core_entry 100-101, thread_core_entry 100-109:
 * task-attrs.c, syscall-resume.c).
 *
 * Dump fills the core whole; write_core_ext() moves ours into a
 * core_ext_entry, writes CRIU's part to core-TID.img and ours, when there is
 * any, to core-ext-TID.img, then puts them back. CRIU's crit, which keeps no
 * field it does not know, gives core-TID.img back byte for byte, and CRIU's
 * restore does not open core-ext-TID.img. Restore reads the core, then
 * read_core_ext() puts the fields back before anything looks at them. An
 * older dump of ours, with the fields in core-TID.img and no core-ext image,
 * is read as it is.
 */
#include <errno.h>

#include "common.h"
#include "core-ext.h"
#include "image.h"
#include "log.h"
#include "protobuf.h"

#include "core-ext.pb-c.h"

/* Scalars of a message a and b both have, moved from a to b (has_ flag and value). */
#define MOVE(a, b, f)                          \
	do {                                   \
		(b)->has_##f = (a)->has_##f;   \
		(b)->f = (a)->f;               \
		(a)->has_##f = false;          \
	} while (0)
#define MOVE_REP(a, b, f)                      \
	do {                                   \
		(b)->n_##f = (a)->n_##f;       \
		(b)->f = (a)->f;               \
		(a)->n_##f = 0;                \
		(a)->f = NULL;                 \
	} while (0)

static void split_task(TaskCoreEntry *tc, CoreExtEntry *x)
{
	MOVE(tc, x, coredump_filter);
	MOVE(tc, x, mdwe_flags);
	MOVE_REP(tc, x, ns_pids);
	MOVE(tc, x, pid_for_children);
}

static void merge_task(CoreExtEntry *x, TaskCoreEntry *tc)
{
	if (x->has_coredump_filter)
		MOVE(x, tc, coredump_filter);
	if (x->has_mdwe_flags)
		MOVE(x, tc, mdwe_flags);
	if (x->n_ns_pids)
		MOVE_REP(x, tc, ns_pids);
	if (x->has_pid_for_children)
		MOVE(x, tc, pid_for_children);
}

/* Both ways: the thread's fields from a to b, where a has them. */
#define THREAD_FIELDS(a, b)                                    \
	do {                                                   \
		if ((a)->has_timer_slack_ns)                   \
			MOVE(a, b, timer_slack_ns);            \
		if ((a)->has_timer_slack_default_ns)           \
			MOVE(a, b, timer_slack_default_ns);    \
		if ((a)->n_cpu_affinity)                       \
			MOVE_REP(a, b, cpu_affinity);          \
		if ((a)->has_ioprio)                           \
			MOVE(a, b, ioprio);                    \
		if ((a)->has_mempolicy_mode)                   \
			MOVE(a, b, mempolicy_mode);            \
		if ((a)->n_mempolicy_nodes)                    \
			MOVE_REP(a, b, mempolicy_nodes);       \
		if ((a)->has_tsc_mode)                         \
			MOVE(a, b, tsc_mode);                  \
		if ((a)->has_mce_kill)                         \
			MOVE(a, b, mce_kill);                  \
		if ((a)->has_sc_resume)                        \
			MOVE(a, b, sc_resume);                 \
		if ((a)->has_sc_timeout_ns)                    \
			MOVE(a, b, sc_timeout_ns);             \
	} while (0)

static bool ext_empty(const CoreExtEntry *x)
{
	return !x->has_coredump_filter && !x->has_mdwe_flags && !x->n_ns_pids && !x->has_pid_for_children && !x->has_timer_slack_ns &&
	       !x->has_timer_slack_default_ns && !x->n_cpu_affinity && !x->has_ioprio && !x->has_mempolicy_mode &&
	       !x->n_mempolicy_nodes && !x->has_tsc_mode && !x->has_mce_kill && !x->has_sc_resume &&
	       !x->has_sc_timeout_ns;
}

static void split(CoreEntry *core, CoreExtEntry *x)
{
	if (core->tc)
		split_task(core->tc, x);
	if (core->thread_core)
		THREAD_FIELDS(core->thread_core, x);
}

static void merge(CoreExtEntry *x, CoreEntry *core)
{
	if (core->tc)
		merge_task(x, core->tc);
	if (core->thread_core)
		THREAD_FIELDS(x, core->thread_core);
}

static int write_one(int img_dfd, int type, pid_t tid, void *msg, int pb_type)
{
	struct cr_img *img = open_image_at(img_dfd, type, O_DUMP, tid);
	int ret;

	if (!img)
		return -errno;
	ret = pb_write_one(img, msg, pb_type);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

int write_core_ext(int img_dfd, pid_t tid, CoreEntry *core)
{
	CoreExtEntry x = CORE_EXT_ENTRY__INIT;
	int ret;

	split(core, &x);
	ret = write_one(img_dfd, CR_FD_CORE, tid, core, PB_CORE);
	if (!ret && !ext_empty(&x))
		ret = write_one(img_dfd, CR_FD_CORE_EXT, tid, &x, PB_CORE_EXT);
	merge(&x, core);
	return ret;
}

int read_core_ext(int img_dfd, pid_t tid, CoreEntry *core)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_CORE_EXT, O_RSTR, tid);
	CoreExtEntry *x;
	bool task;
	int ret;

	if (!img)
		return pr_fail_errno("can't open core-ext-%d.img", tid);
	if (img_is_empty(img)) {
		close_image(img);
		return 0;
	}
	ret = pb_read_one(img, (void **)&x, PB_CORE_EXT);
	close_image(img);
	if (ret)
		return ret;	/* pb_read_one() named the image */
	task = x->has_coredump_filter || x->has_mdwe_flags || x->n_ns_pids || x->has_pid_for_children;
	if (task && !core->tc)
		ret = pr_fail(-EINVAL, "core-ext-%d.img: task fields for a thread that is not a leader\n", tid);
	else if (!core->thread_core && !ext_empty(x) && !task)
		ret = pr_fail(-EINVAL, "core-ext-%d.img: thread fields, core-%d.img has no thread_core\n", tid, tid);
	else
		merge(x, core);
	pb_free(x, PB_CORE_EXT);
	return ret;
}
