/* SPDX-License-Identifier: GPL-2.0 */
/* Syscall wrappers and constants glibc 2.36 and the 6.1 uapi headers lack (values: KERNEL-FACTS.md). */
#ifndef CRIU_SYSCALLS_H
#define CRIU_SYSCALLS_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* syscall numbers and ptrace constants: one copy, compel's (criu may include compel, not the reverse) */
#include "compel/kdefs.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC 0x50494446
#endif
#ifndef ANON_INODE_FS_MAGIC
#define ANON_INODE_FS_MAGIC 0x09041934
#endif
#ifndef FD_PIDFS_ROOT
#define FD_PIDFS_ROOT -10002
#endif
#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

#define PIDFD_INFO_PID 0x1UL
#define PIDFD_INFO_CREDS 0x2UL
#define PIDFD_INFO_CGROUPID 0x4UL
#define PIDFD_INFO_EXIT 0x8UL

/* struct pidfd_info as of Linux 6.18 (72 bytes); the kernel accepts any size >= 64. */
struct criu_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask;
	uint32_t __spare1;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct criu_pidfd_info)

struct criu_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(__NR_pidfd_open, pid, flags);
}
static inline int sys_pidfd_getfd(int pidfd, int fd, unsigned int flags)
{
	return syscall(__NR_pidfd_getfd, pidfd, fd, flags);
}
static inline int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return syscall(__NR_pidfd_send_signal, pidfd, sig, info, flags);
}
static inline long sys_clone3(struct criu_clone_args *args, size_t size)
{
	return syscall(__NR_clone3, args, size);
}
static inline int sys_kcmp(pid_t pid1, pid_t pid2, int type, unsigned long idx1, unsigned long idx2)
{
	return syscall(SYS_kcmp, pid1, pid2, type, idx1, idx2);
}

#endif
