/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel constants that glibc 2.36 / linux-libc-dev 6.1 headers lack (values from
 * /work/shared/KERNEL-FACTS.md and the kernel ABI). Every define is guarded so a
 * newer libc header wins. Usable by criu too (compel/include is on its include path).
 */
#ifndef COMPEL_KDEFS_H
#define COMPEL_KDEFS_H

#include <sys/syscall.h>

/* syscall numbers (x86_64) */
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

/* the kernel-internal restart codes a stopped task can show in rax */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif
#ifndef ERESTARTNOINTR
#define ERESTARTNOINTR 513
#endif
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND 514
#endif
#ifndef ERESTART_RESTARTBLOCK
#define ERESTART_RESTARTBLOCK 516
#endif

/* ptrace (sys/ptrace.h of glibc 2.36 has the rest) */
#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

/* prctl */
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#ifndef PR_GET_CHILD_SUBREAPER
#define PR_GET_CHILD_SUBREAPER 37
#endif

#endif
