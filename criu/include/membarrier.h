/* SPDX-License-Identifier: GPL-2.0 */
/*
 * membarrier() registrations of a task's mm (TaskCoreEntry.membarrier_registration_mask,
 * the MEMBARRIER_CMD_REGISTER_* bits that MEMBARRIER_CMD_GET_REGISTRATIONS reports).
 */
#ifndef CRIU_MEMBARRIER_H
#define CRIU_MEMBARRIER_H

#include <stdint.h>
#include <sys/types.h>

#include "compel/compel.h"

/*
 * Ask the task (remote syscall in a stopped thread) which registrations its mm has.
 * *ret_mask is 0 when none, or when the kernel can't tell (older than 6.3: warned).
 * A registration this criu does not know how to make again is refused: -EOPNOTSUPP,
 * logged, naming the bits. pre: the result of that call made already (the leader's
 * blob), or NULL. 0 or -errno.
 */
int dump_membarrier(struct compel_rsys *rs, pid_t pid, const long *pre, uint32_t *ret_mask);
/* The read-only call dump_membarrier() makes, for a table of calls run beforehand (a blob). */
void membarrier_read_call(struct compel_rsys_call *c);

/* Register mask again, from the restored task itself. 0 or -errno (logged). */
int restore_membarrier(struct compel_rsys *rs, pid_t pid, uint32_t mask);

#endif
