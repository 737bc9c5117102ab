// SPDX-License-Identifier: GPL-2.0
/*
 * membarrier() registrations: per mm, set by the task with the REGISTER_* commands and
 * needed before the matching expedited command works (EPERM otherwise). Dump reads them
 * with MEMBARRIER_CMD_GET_REGISTRATIONS run in the task (in the leader's blob of reads
 * when there is one: dump-core.c); restore runs the REGISTER_* commands in the restored
 * task.
 *
 * The kernel reports a registration of PRIVATE_EXPEDITED_SYNC_CORE or _RSEQ also as one
 * of PRIVATE_EXPEDITED (they set a common state bit). Registering PRIVATE_EXPEDITED again
 * would then allow MEMBARRIER_CMD_PRIVATE_EXPEDITED where it gave EPERM, so in that case
 * dump runs that command (a barrier among the task's own threads, all stopped: harmless)
 * and keeps the bit only when it works. The image holds what to register; restore gives
 * the same GET_REGISTRATIONS answer and the same behaviour.
 */
#define LOG_PREFIX "membarrier: "
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "common.h"
#include "membarrier.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static const struct {
	uint32_t cmd;
	const char *name;
} registrations[] = {
	{ MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, "global expedited" },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, "private expedited" },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, "private expedited sync-core" },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, "private expedited rseq" },
};

static uint32_t known_mask(void)
{
	uint32_t m = 0;

	for (size_t i = 0; i < ARRAY_SIZE(registrations); i++)
		m |= registrations[i].cmd;
	return m;
}

static long remote(struct compel_rsys *rs, unsigned long cmd)
{
	long r;
	int err = compel_rsys3(rs, &r, __NR_membarrier, cmd, 0, 0);

	return err ? err : r;
}

/* Drop PRIVATE_EXPEDITED from *mask when only SYNC_CORE or RSEQ put it there (see the top). */
static int private_ready(struct compel_rsys *rs, pid_t pid, uint32_t *mask)
{
	const uint32_t more = MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE |
			      MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ;
	long r;

	if (!(*mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) || !(*mask & more))
		return 0;
	r = remote(rs, MEMBARRIER_CMD_PRIVATE_EXPEDITED);
	if (r == -EPERM) {
		pr_debug("task %d: private expedited comes only with sync-core or rseq\n", pid);
		*mask &= ~MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
		return 0;
	}
	if (r < 0)
		return pr_fail((int)r, "task %d: MEMBARRIER_CMD_PRIVATE_EXPEDITED: %s\n", pid, strerror((int)-r));
	return 0;
}

void membarrier_read_call(struct compel_rsys_call *c)
{
	*c = (struct compel_rsys_call){ __NR_membarrier, { MEMBARRIER_CMD_GET_REGISTRATIONS } };
}

int dump_membarrier(struct compel_rsys *rs, pid_t pid, const long *pre, uint32_t *ret_mask)
{
	long r = pre ? *pre : remote(rs, MEMBARRIER_CMD_GET_REGISTRATIONS);

	*ret_mask = 0;
	if (r == -ENOSYS)
		return 0;	/* no membarrier in this kernel: nothing to register */
	if (r == -EINVAL) {
		pr_warn("task %d: this kernel can't tell membarrier registrations (needs 6.3): not dumped\n", pid);
		return 0;
	}
	if (r < 0)
		return pr_fail((int)r, "task %d: MEMBARRIER_CMD_GET_REGISTRATIONS: %s\n", pid, strerror((int)-r));
	if ((uint32_t)r & ~known_mask())
		return pr_fail(-EOPNOTSUPP, "task %d: membarrier registrations %#lx: %#x can't be restored\n", pid, r,
			       (uint32_t)r & ~known_mask());
	if (r)
		pr_info("task %d: membarrier registrations %#lx\n", pid, r);
	*ret_mask = (uint32_t)r;
	return private_ready(rs, pid, ret_mask);
}

int restore_membarrier(struct compel_rsys *rs, pid_t pid, uint32_t mask)
{
	if (mask & ~known_mask())
		return pr_fail(-EINVAL, "task %d: unknown membarrier registrations %#x in the image\n", pid,
			       mask & ~known_mask());
	for (size_t i = 0; i < ARRAY_SIZE(registrations); i++) {
		long r;

		if (!(mask & registrations[i].cmd))
			continue;
		r = remote(rs, registrations[i].cmd);
		if (r < 0)
			return pr_fail((int)r, "task %d: can't register for membarrier %s: %s\n", pid,
				       registrations[i].name, strerror((int)-r));
	}
	return 0;
}
