/* SPDX-License-Identifier: GPL-2.0 */
/* core-TID.img: registers and per-task / per-thread kernel state of a seized task. */
#ifndef CRIU_DUMP_CORE_H
#define CRIU_DUMP_CORE_H

#include <stddef.h>

#include "compel/compel.h"
#include "pstree.h"

/*
 * Write core-TID.img for every thread of item (seized and stopped by
 * collect_and_seize_tree()) into the image directory img_dfd. The leader's image holds
 * the per-process part (tc); every thread's image holds its registers (thread_info) and
 * its thread_core. A zombie gets one image with tc.task_state TASK_DEAD and its exit
 * status (the raw wait status from stat field 52), nothing else.
 *
 * Registers are stored as PTRACE_GETREGSET gave them: restore applies
 * compel_fixup_syscall_restart(). The umask lives in fs-PID.img, not here (as in CRIU).
 * Returns 0 or a negative errno (logged once).
 */
int dump_task_core(int img_dfd, struct pstree_item *item);

/* The image form of a thread's general registers (also used by tests that build images by hand). */
struct UserX86RegsEntry;
void fill_gpregs(const compel_regs_t *r, struct UserX86RegsEntry *g);

/*
 * Where remote syscalls in task item may put their code: an executable mapping
 * found once in its maps (proc_exec_addr()) and kept in item. Logs its error.
 */
int task_rsys_code(struct pstree_item *item, unsigned long *ret);
/*
 * The same, and the COMPEL_RSYS_* flags its remote syscalls take:
 * COMPEL_RSYS_RECOVER when the code goes past the end of an executable
 * segment (proc_exec_tail()), where the task never runs; COMPEL_RSYS_FAST at
 * the start of an executable mapping (no such tail found).
 */
int task_rsys_code_flags(struct pstree_item *item, unsigned long *ret, unsigned int *ret_flags);
/*
 * rsys-code.c: an address of len bytes at the end of the last page of an
 * executable ELF segment mapped by the task, past the segment's last byte;
 * -ENOENT when no mapping has such a tail.
 */
int proc_exec_tail(int proc_dfd, size_t len, unsigned long *ret);

#endif
