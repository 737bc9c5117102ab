// SPDX-License-Identifier: GPL-2.0
/*
 * Run-time probes of the kernel features criu relies on. Each probe performs
 * the operation itself (never a version check) and cleans up after itself.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "aio.h"
#include "common.h"
#include "exit-status.h"
#include "hugetlb.h"
#include "kerndat.h"
#include "mem-track.h"
#include "syscalls.h"

static int probe_pidfd_open(void)
{
	_cleanup_close_ int fd = sys_pidfd_open(getpid(), 0);

	return fd < 0 ? -errno : 0;
}

static int probe_pidfd_getfd(void)
{
	_cleanup_close_ int pidfd = sys_pidfd_open(getpid(), 0);
	_cleanup_close_ int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int copy = -1;
	struct stat a, b;

	if (pidfd < 0 || nfd < 0)
		return -errno;
	copy = sys_pidfd_getfd(pidfd, nfd, 0);
	if (copy < 0)
		return -errno;
	if (fstat(nfd, &a) || fstat(copy, &b))
		return -errno;
	return (a.st_ino == b.st_ino && a.st_dev == b.st_dev) ? 0 : -EINVAL;
}

static int probe_pidfs(void)
{
	_cleanup_close_ int fd = sys_pidfd_open(getpid(), 0);
	struct statfs sfs;

	if (fd < 0 || fstatfs(fd, &sfs))
		return -errno;
	return sfs.f_type == PID_FS_MAGIC ? 0 : -EOPNOTSUPP;
}

static int probe_pidfd_thread(void)
{
	_cleanup_close_ int fd = sys_pidfd_open(gettid(), PIDFD_THREAD);
	int fl;

	if (fd < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	return (fl & PIDFD_THREAD) ? 0 : -EOPNOTSUPP;
}

static int probe_pidfs_handle(void)
{
	_cleanup_close_ int fd = sys_pidfd_open(getpid(), 0);
	_cleanup_close_ int fd2 = -1;
	char buf[sizeof(struct file_handle) + 64];
	struct file_handle *fh = (struct file_handle *)buf;
	struct stat a, b;
	int mnt_id;

	if (fd < 0)
		return -errno;
	fh->handle_bytes = 64;
	if (name_to_handle_at(fd, "", fh, &mnt_id, AT_EMPTY_PATH))
		return -errno;
	fd2 = open_by_handle_at(fd, fh, O_RDWR | O_CLOEXEC);
	if (fd2 < 0)
		return -errno;
	if (fstat(fd, &a) || fstat(fd2, &b))
		return -errno;
	return a.st_ino == b.st_ino ? 0 : -EINVAL;
}

/* Fork a child that runs fn-less: it just exits with code, or waits to be killed. */
static pid_t fork_child(int exit_code)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (exit_code >= 0)
			_exit(exit_code);
		for (;;)
			pause();
	}
	return pid;
}

static int probe_pidfd_info_exit(void)
{
	struct criu_pidfd_info info = { .mask = PIDFD_INFO_EXIT };
	_cleanup_close_ int fd = -1;
	pid_t pid = fork_child(42);

	if (pid < 0)
		return -errno;
	fd = sys_pidfd_open(pid, 0);
	int err = fd < 0 ? -errno : 0;
	waitpid(pid, NULL, 0);
	if (err)
		return err;
	if (ioctl(fd, PIDFD_GET_INFO, &info))
		return -errno;
	if (!(info.mask & PIDFD_INFO_EXIT))
		return -EOPNOTSUPP;
	return info.exit_code == (42 << 8) ? 0 : -EINVAL;
}

static int probe_clone3_set_tid(void)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		pid_t pid = fork_child(0);
		uint64_t tid;
		struct criu_clone_args args = {
			.exit_signal = SIGCHLD,
			.set_tid_size = 1,
		};
		long ret;

		if (pid < 0)
			return -errno;
		waitpid(pid, NULL, 0);
		tid = pid;
		args.set_tid = (uint64_t)(unsigned long)&tid;
		ret = sys_clone3(&args, sizeof(args));
		if (ret == 0)
			_exit(0);
		if (ret > 0) {
			waitpid(ret, NULL, 0);
			return ret == pid ? 0 : -EINVAL;
		}
		if (errno != EEXIST)
			return -errno;
		/* someone else took the pid meanwhile: try another one */
	}
	return -EEXIST;
}

static int probe_rseq_ptrace(void)
{
	unsigned char conf[64];
	int status, err = 0;
	long ret;
	pid_t pid = fork_child(-1);

	if (pid < 0)
		return -errno;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0) ||
	    waitpid(pid, &status, __WALL) != pid) {
		err = -errno;
		goto out;
	}
	ret = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(conf), conf);
	if (ret < 0)
		err = -errno;
	else if (ret < 24)
		err = -EINVAL;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return err;
}

/*
 * A child under a one-instruction "allow" filter, seized: can criu read the
 * filter (PTRACE_SECCOMP_GET_FILTER) or suspend it (PTRACE_O_SUSPEND_SECCOMP)?
 * Both need CAP_SYS_ADMIN and a criu without seccomp of its own.
 */
static int probe_seccomp(bool suspend)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &allow };
	int status, err = 0, p[2];
	char c = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(1);
		c = 1;
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	/* seized once the filter is in place (0 bytes: the child failed) */
	if (read(p[0], &c, 1) != 1)
		err = -ECHILD;
	close(p[0]);
	if (err)
		goto out;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0) ||
	    waitpid(pid, &status, __WALL) != pid) {
		err = -errno;
		goto out;
	}
	if (!WIFSTOPPED(status)) {
		err = -ECHILD;
		goto out;
	}
	if (suspend) {
		if (ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)PTRACE_O_SUSPEND_SECCOMP))
			err = -errno;
	} else if (ptrace((enum __ptrace_request)0x420c /* PTRACE_SECCOMP_GET_FILTER */, pid, 0, NULL) != 1) {
		err = errno ? -errno : -EINVAL;
	}
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return err;
}

static int probe_seccomp_filters(void)
{
	return probe_seccomp(false);
}

static int probe_seccomp_suspend(void)
{
	return probe_seccomp(true);
}

static int probe_process_vm_readv(void)
{
	static const char src[] = "criu";
	char dst[sizeof(src)] = {};
	struct iovec l = { dst, sizeof(dst) }, r = { (void *)src, sizeof(src) };

	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)sizeof(src))
		return -errno;
	return memcmp(src, dst, sizeof(src)) ? -EINVAL : 0;
}

/* [vvar] (and [vvar_vclock] where present) must sit right below [vdso], so they can be moved together. */
static int probe_vdso(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	unsigned long vvar_start = 0, vvar_end = 0, vdso_start = 0;
	char line[512];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (strstr(line, "[vvar]")) {
			vvar_start = s;
			vvar_end = e;
		} else if (strstr(line, "[vvar_vclock]")) {
			if (e > vvar_end && s == vvar_end)
				vvar_end = e;
		} else if (strstr(line, "[vdso]")) {
			vdso_start = s;
		}
	}
	if (!vdso_start)
		return -ENOENT;
	if (vvar_start && vvar_end != vdso_start)
		return -EINVAL;
	return 0;
}

static int probe_pidfd(void)
{
	int ret = probe_pidfd_open();

	return ret ? ret : probe_pidfd_getfd();
}

/* Recognising an outside process again needs a stable identity: the pidfs inode. */
static int probe_pidfd_external(void)
{
	int ret = probe_pidfs();

	return ret ? ret : probe_pidfd_open();
}

/* MADV_GUARD_INSTALL, with its markers seen in pagemap (bit 58): the dump finds them there. */
static int probe_guard_pages(void)
{
	char *p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_cleanup_close_ int fd = -1;
	uint64_t pme = 0;
	int ret = 0;

	if (p == MAP_FAILED)
		return -errno;
	if (madvise(p + PAGE_SIZE, PAGE_SIZE, 102 /* MADV_GUARD_INSTALL */))
		ret = -errno;
	fd = ret ? -1 : open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!ret && (fd < 0 || pread(fd, &pme, sizeof(pme), ((uintptr_t)p / PAGE_SIZE + 1) * sizeof(pme)) != sizeof(pme)))
		ret = fd < 0 ? -errno : -EIO;
	if (!ret && !(pme & (1ULL << 58)))
		ret = -EOPNOTSUPP;
	munmap(p, 2 * PAGE_SIZE);
	return ret;
}

/*
 * A zombie or a reaped pidfd target whose wait status has the core-dump bit
 * is given it back by a real core dump into a scratch tmpfs (exit-status.c):
 * try it, as the restore would.
 */
static int probe_core_status(void)
{
	_cleanup_close_ int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int status;
	pid_t pid;

	if (proc < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exit_with_status(proc, SIGSEGV | WCOREFLAG, NULL);
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFSIGNALED(status) && WCOREDUMP(status) ? 0 : -EOPNOTSUPP;
}

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif
#ifndef KCMP_EPOLL_TFD
#define KCMP_EPOLL_TFD 7
#endif

/* Unread timerfd expirations can be put back (TFD_IOC_SET_TICKS, CONFIG_CHECKPOINT_RESTORE). */
static int probe_timerfd_ticks(void)
{
	_cleanup_close_ int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	uint64_t ticks = 3, got = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, TFD_IOC_SET_TICKS, &ticks))
		return -errno;
	if (read(fd, &got, sizeof(got)) != sizeof(got))
		return -errno;
	return got == 3 ? 0 : -EINVAL;
}

/* kcmp(KCMP_EPOLL_TFD): is this fd the file an epoll item watches? */
static int probe_kcmp_epoll(void)
{
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	_cleanup_close_ int fd = epoll_create1(EPOLL_CLOEXEC);	/* an epoll fd is pollable */
	struct epoll_event ev = { .events = EPOLLIN };
	struct {
		uint32_t efd, tfd, toff;
	} slot;
	pid_t me = getpid();

	if (ep < 0 || fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	slot.efd = ep;
	slot.tfd = fd;
	slot.toff = 0;
	if (sys_kcmp(me, me, KCMP_EPOLL_TFD, fd, (unsigned long)&slot))
		return errno ? -errno : -EINVAL;
	return 0;
}

/* /proc/PID/status has NSpid (the pids of a task in each pid namespace). */
/* time namespaces (5.6): criu's own is there to stat */
static int probe_ns_time(void)
{
	struct stat st;

	return stat("/proc/self/ns/time", &st) ? -errno : 0;
}

static int probe_ns_pid(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			return 0;
	return -ENOENT;
}

/* ---- sockets (sk-inet.c, soccr/) ---- */

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW 29
#endif

/* set an int option on a new socket and read it back */
static int probe_sockopt(int family, int type, int level, int opt, int v)
{
	_cleanup_close_ int fd = socket(family, type | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(int);
	int got = -1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, level, opt, &v, sizeof(v)) || getsockopt(fd, level, opt, &got, &len))
		return -errno;
	return got == v ? 0 : -EINVAL;
}

static int probe_tcp_repair(void)
{
	return probe_sockopt(AF_INET, SOCK_STREAM, SOL_TCP, TCP_REPAIR, 1);
}

static int probe_tcp_repair_window(void)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t w[5];
	socklen_t len = sizeof(w);
	int on = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR, &on, sizeof(on)) || getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, w, &len))
		return -errno;
	return 0;
}

static int probe_ipv6_freebind(void)
{
	return probe_sockopt(AF_INET6, SOCK_STREAM, SOL_IPV6, IPV6_FREEBIND, 1);
}

static int probe_so_buf_lock(void)
{
	return probe_sockopt(AF_INET, SOCK_STREAM, SOL_SOCKET, SO_BUF_LOCK, 3);
}

/* /proc/self/loginuid can be written (audit): restore sets the tasks' loginuid; the same value written back */
static int probe_loginuid(void)
{
	char buf[32];
	ssize_t n;
	int fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -EIO;
	fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, n) < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/* a tool of the network lock runs here and reaches the kernel: argv exits 0 */
static int probe_tool(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int probe_nft(void)
{
	char *argv[] = { "nft", "list", "tables", NULL };

	return probe_tool(argv);
}

static int probe_iptables(void)
{
	char *argv[] = { "iptables", "-w", "-L", "INPUT", "-n", NULL };

	return probe_tool(argv);
}

/*
 * Lazy pages (lazy-pages.c): a userfaultfd with the events the daemon
 * follows (fork, mremap, madvise, munmap). EVENT_FORK needs CAP_SYS_PTRACE.
 */
static int probe_uffd(unsigned long long features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api))
		ret = -errno;
	close(fd);
	return ret;
}

static int probe_uffd_basic(void)
{
	return probe_uffd(0);
}

static int probe_uffd_noncoop(void)
{
	return probe_uffd(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
			  UFFD_FEATURE_EVENT_UNMAP);
}

/* hugetlb memfds (memfd.c): memfd_create(MFD_HUGETLB) of the default size (no page is taken) */
static int probe_memfd_hugetlb(void)
{
	int fd = (int)syscall(__NR_memfd_create, "criu-probe", MFD_CLOEXEC | MFD_HUGETLB);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static const struct kerndat_feature features[] = {
	{ "pidfd_open", "pidfd_open(2)", probe_pidfd_open, true },
	{ "pidfd_getfd", "pidfd_getfd(2) (copy a task's fds)", probe_pidfd_getfd, true },
	{ "pidfs", "pidfds live on pidfs (PID_FS_MAGIC)", probe_pidfs, false },
	{ "pidfd-thread", "PIDFD_THREAD pidfds", probe_pidfd_thread, false },
	{ "pidfs-handle", "pidfs file handles (open_by_handle_at)", probe_pidfs_handle, false },
	{ "pidfd-info-exit", "PIDFD_GET_INFO with PIDFD_INFO_EXIT", probe_pidfd_info_exit, false },
	{ "clone3-set-tid", "clone3() with set_tid", probe_clone3_set_tid, true },
	{ "rseq", "PTRACE_GET_RSEQ_CONFIGURATION", probe_rseq_ptrace, false },
	{ "process_vm_readv", "process_vm_readv(2)", probe_process_vm_readv, true },
	{ "vdso", "[vvar]/[vvar_vclock]/[vdso] layout (movable together)", probe_vdso, true },
	{ "pidfd", "pidfd checkpoint/restore (pidfd_open + pidfd_getfd)", probe_pidfd, false },
	{ "pidfd-external", "pidfds to outside processes (pidfs identity)", probe_pidfd_external, false },
	{ "guard-pages", "MADV_GUARD_INSTALL guard pages, seen in pagemap", probe_guard_pages, false },
	{ "core-dump-status", "wait statuses with the core-dump bit (zombies, reaped pidfd targets; a file core_pattern)",
	  probe_core_status, false },
	{ "timerfd-ticks", "TFD_IOC_SET_TICKS (unread timerfd expirations)", probe_timerfd_ticks, false },
	{ "kcmp-epoll", "kcmp(KCMP_EPOLL_TFD) (epoll items' files)", probe_kcmp_epoll, false },
	{ "ns-pid", "NSpid in /proc/PID/status (pid namespaces)", probe_ns_pid, false },
	{ "ns-time", "time namespaces (/proc/PID/ns/time)", probe_ns_time, false },
	{ "seccomp-filters", "PTRACE_SECCOMP_GET_FILTER (reading seccomp filters)", probe_seccomp_filters, false },
	{ "seccomp-suspend", "PTRACE_O_SUSPEND_SECCOMP (calls in a task under seccomp)",
	  probe_seccomp_suspend, false },
	{ "tcp-repair", "TCP_REPAIR (established TCP connections; needs CAP_NET_ADMIN)", probe_tcp_repair, false },
	{ "tcp-repair-window", "TCP_REPAIR_WINDOW (a connection's windows)", probe_tcp_repair_window, false },
	{ "ipv6-freebind", "IPV6_FREEBIND", probe_ipv6_freebind, false },
	{ "so-buf-lock", "SO_BUF_LOCK (which buffer sizes a program set)", probe_so_buf_lock, false },
	{ "uffd", "userfaultfd(2)", probe_uffd_basic, false },
	{ "pagemap-scan", "PAGEMAP_SCAN with userfaultfd-wp (write tracking across pre-dumps)", mem_track_probe, false },
	{ "uffd-noncoop", "userfaultfd fork/remap/remove/unmap events (lazy pages)", probe_uffd_noncoop, false },
	{ "nft", "nft (Debian nftables: --network-lock nftables)", probe_nft, false },
	{ "iptables", "iptables (--network-lock iptables, the default)", probe_iptables, false },
	{ "memfd-hugetlb", "memfd_create(MFD_HUGETLB) (hugetlb memfds)", probe_memfd_hugetlb, false },
	{ "aio-remap", "an AIO ring moved with mremap() still works (AIO rings)", aio_probe_remap, false },
	{ "loginuid", "a writable /proc/self/loginuid (the tasks' audit login uid)", probe_loginuid, false },
};

static int cache[ARRAY_SIZE(features)];
static bool cached[ARRAY_SIZE(features)];

const struct kerndat_feature *kerndat_features(int *ret_nr)
{
	*ret_nr = ARRAY_SIZE(features);
	return features;
}

const struct kerndat_feature *kerndat_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (!strcmp(features[i].name, name))
			return &features[i];
	return NULL;
}

int kerndat_has(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		if (strcmp(features[i].name, name))
			continue;
		if (!cached[i]) {
			cache[i] = features[i].probe();
			cached[i] = true;
		}
		return cache[i];
	}
	return -ENOENT;
}
