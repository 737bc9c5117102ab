// SPDX-License-Identifier: GPL-2.0
/*
 * criu check against the kernel: for every feature line, perform the probed
 * operation here, independently of criu's probe code, and compare the answer
 * with `criu check --feature NAME` (exit 0/1) and with the line printed by a
 * full `criu check`.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/userfaultfd.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscalls.h"

static int nr_test, nr_failed;

static void ok(int cond, const char *fmt, const char *arg)
{
	printf("%sok %d - ", cond ? "" : "not ", ++nr_test);
	printf(fmt, arg);
	printf("\n");
	if (!cond)
		nr_failed++;
}

static int own_pidfd_open(void)
{
	int fd = syscall(__NR_pidfd_open, getpid(), 0);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int own_pidfd_getfd(void)
{
	int pfd = syscall(__NR_pidfd_open, getpid(), 0), nfd = open("/dev/zero", O_RDONLY), c, good = 0;
	struct stat a, b;

	c = syscall(__NR_pidfd_getfd, pfd, nfd, 0);
	if (c >= 0 && !fstat(c, &b) && !fstat(nfd, &a))
		good = a.st_ino == b.st_ino;
	close(c);
	close(nfd);
	close(pfd);
	return good;
}

static int own_pidfs(void)
{
	int fd = syscall(__NR_pidfd_open, getpid(), 0);
	struct statfs s;
	int good = fd >= 0 && !fstatfs(fd, &s) && s.f_type == 0x50494446;

	close(fd);
	return good;
}

static int own_pidfd_thread(void)
{
	int fd = syscall(__NR_pidfd_open, getpid(), 0x80 /* O_EXCL */);
	int good = fd >= 0 && (fcntl(fd, F_GETFL) & 0x80);

	close(fd);
	return good;
}

static int own_pidfs_handle(void)
{
	int fd = syscall(__NR_pidfd_open, getpid(), 0), fd2, mnt, good = 0;
	struct {
		struct file_handle fh;
		char buf[64];
	} h = { .fh.handle_bytes = 64 };
	struct stat a, b;

	if (fd < 0 || name_to_handle_at(fd, "", &h.fh, &mnt, AT_EMPTY_PATH))
		goto out;
	fd2 = open_by_handle_at(fd, &h.fh, O_RDWR);
	if (fd2 >= 0) {
		good = !fstat(fd, &a) && !fstat(fd2, &b) && a.st_ino == b.st_ino;
		close(fd2);
	}
out:
	close(fd);
	return good;
}

static int own_info_exit(void)
{
	struct {
		uint64_t mask, cg;
		uint32_t ids[11];
		int32_t exit_code;
		uint32_t cd, spare;
	} info = { .mask = 8 };
	pid_t pid = fork();
	int fd, good;

	if (!pid)
		_exit(7);
	fd = syscall(__NR_pidfd_open, pid, 0);
	waitpid(pid, NULL, 0);
	good = fd >= 0 && !ioctl(fd, 0xc048ff0b, &info) && (info.mask & 8) && info.exit_code == 0x700;
	close(fd);
	return good;
}

static int own_clone3_set_tid(void)
{
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();
		uint64_t tid;
		uint64_t args[11] = {};
		long r;

		if (!pid)
			_exit(0);
		waitpid(pid, NULL, 0);
		tid = pid;
		args[4] = SIGCHLD;		/* exit_signal */
		args[8] = (uintptr_t)&tid;	/* set_tid */
		args[9] = 1;			/* set_tid_size */
		r = syscall(__NR_clone3, args, 88);
		if (r == 0)
			_exit(0);
		if (r > 0) {
			waitpid(r, NULL, 0);
			return r == pid;
		}
		if (errno != EEXIST)
			return 0;
	}
	return 0;
}

static int own_rseq(void)
{
	pid_t pid = fork();
	char buf[64];
	int st, good;

	if (!pid) {
		pause();
		_exit(0);
	}
	good = !ptrace(PTRACE_SEIZE, pid, 0, 0) && !ptrace(PTRACE_INTERRUPT, pid, 0, 0) &&
	       waitpid(pid, &st, __WALL) == pid && ptrace(0x420f, pid, sizeof(buf), buf) >= 24;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return good;
}

/* a child under an "allow" filter: is its filter readable (get) or its seccomp suspendable? */
static int own_seccomp(int get)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &allow };
	int p[2], st, good;
	char c;
	pid_t pid;

	if (pipe(p))
		return 0;
	pid = fork();
	if (!pid) {
		c = !prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) && !syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
		if (write(p[1], &c, 1) != 1 || !c)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	good = read(p[0], &c, 1) == 1 && c && !ptrace(PTRACE_SEIZE, pid, 0, 0) &&
	       !ptrace(PTRACE_INTERRUPT, pid, 0, 0) && waitpid(pid, &st, __WALL) == pid &&
	       (get ? ptrace(0x420c, pid, 0, NULL) == 1 : !ptrace(PTRACE_SETOPTIONS, pid, 0, 0x200000 /* SUSPEND_SECCOMP */));
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return good;
}

static int own_seccomp_filters(void)
{
	return own_seccomp(1);
}

static int own_seccomp_suspend(void)
{
	return own_seccomp(0);
}

static int own_vm_readv(void)
{
	int v = 42, w = 0;
	struct iovec l = { &w, sizeof(w) }, r = { &v, sizeof(v) };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(v) && w == 42;
}

static int own_vdso(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e, vvar_end = 0, vdso = 0, vvar = 0;
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (strstr(line, "[vvar]"))
			vvar = s, vvar_end = e;
		else if (strstr(line, "[vvar_vclock]") && s == vvar_end)
			vvar_end = e;
		else if (strstr(line, "[vdso]"))
			vdso = s;
	}
	if (f)
		fclose(f);
	return vdso && (!vvar || vvar_end == vdso);
}

/* put 5 expirations into a timerfd and read them back */
static int own_timerfd_ticks(void)
{
	int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	uint64_t five = 5, back = 0;
	int good = fd >= 0 && !ioctl(fd, _IOW('T', 0, uint64_t), &five) &&
		   read(fd, &back, sizeof(back)) == sizeof(back) && back == 5;

	close(fd);
	return good;
}

/* an epoll watching an eventfd-like target: here a second epoll */
static int own_kcmp_epoll(void)
{
	int ep = epoll_create1(0), target = epoll_create1(0), good;
	struct epoll_event ev = { .events = EPOLLOUT };
	uint32_t slot[3];

	good = ep >= 0 && target >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, target, &ev);
	slot[0] = ep;
	slot[1] = target;
	slot[2] = 0;
	good = good && syscall(__NR_kcmp, getpid(), getpid(), 7, target, (unsigned long)slot) == 0;
	close(ep);
	close(target);
	return good;
}

/* fdinfo has mnt_id (since 3.15), and criu restores files by mount (Documentation/mounts.md) */
static int own_mnt_id(void)
{
	FILE *f = fopen("/proc/self/fdinfo/0", "r");
	char line[256];
	int good = 0;

	while (f && fgets(line, sizeof(line), f))
		good |= !strncmp(line, "mnt_id:", 7);
	if (f)
		fclose(f);
	return good;
}

static int own_ns_pid(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int good = 0;

	while (f && fgets(line, sizeof(line), f))
		good |= !strncmp(line, "NSpid:", 6);
	if (f)
		fclose(f);
	return good;
}

static int own_ns_time(void)
{
	struct stat st;

	return stat("/proc/self/ns/time", &st) == 0;
}

/* a userfaultfd with the events a lazy restore follows (or with none: uffd) */
static int own_uffd_with(unsigned long long features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = !ioctl(fd, UFFDIO_API, &api);
	close(fd);
	return ok;
}

static int own_uffd(void)
{
	return own_uffd_with(0);
}

static int own_uffd_noncoop(void)
{
	return own_uffd_with(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
			     UFFD_FEATURE_EVENT_UNMAP);
}

/*
 * PAGEMAP_SCAN (6.7) on a page registered for async write-protect: one call
 * that asks for written pages (category PAGE_IS_WRITTEN, 1 << 1) must succeed.
 */
static int own_pagemap_scan(void)
{
	struct scan_arg {
		unsigned long long size, flags, start, end, walk_end, vec, vec_len, max_pages;
		unsigned long long inverted, mask, anyof, ret_mask;
	} a = { .size = sizeof(a) };
	unsigned long long region[3];
	struct uffdio_api api = { .api = UFFD_API, .features = 1ULL << 15 /* UFFD_FEATURE_WP_ASYNC */ };
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (unsigned long)p, pg }, .mode = UFFDIO_REGISTER_MODE_WP };
	int uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC), pm = open("/proc/self/pagemap", O_RDONLY), ok = 0;

	if (p != MAP_FAILED && uffd >= 0 && pm >= 0 && !ioctl(uffd, UFFDIO_API, &api) &&
	    !ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		p[0] = 1;
		a.start = (unsigned long)p;
		a.end = a.start + pg;
		a.vec = (unsigned long)region;
		a.vec_len = 1;
		a.mask = a.ret_mask = 1 << 1;
		ok = ioctl(pm, _IOWR('f', 16, struct scan_arg), &a) >= 0;
	}
	if (uffd >= 0)
		close(uffd);
	if (pm >= 0)
		close(pm);
	if (p != MAP_FAILED)
		munmap(p, pg);
	return ok;
}

/* criu's part alone (CRIU's check is no kernel probe either) */
static int own_always(void)
{
	return 1;
}

static const struct {
	const char *name;
	int (*own)(void);
} features[] = {
	{ "pidfd_open", own_pidfd_open },
	{ "pidfd_getfd", own_pidfd_getfd },
	{ "pidfs", own_pidfs },
	{ "pidfd-thread", own_pidfd_thread },
	{ "pidfs-handle", own_pidfs_handle },
	{ "pidfd-info-exit", own_info_exit },
	{ "clone3-set-tid", own_clone3_set_tid },
	{ "rseq", own_rseq },
	{ "process_vm_readv", own_vm_readv },
	{ "vdso", own_vdso },
	{ "timerfd-ticks", own_timerfd_ticks },
	{ "kcmp-epoll", own_kcmp_epoll },
	{ "ns-pid", own_ns_pid },
	{ "ns-time", own_ns_time },
	{ "uffd", own_uffd },
	{ "uffd-noncoop", own_uffd_noncoop },
	{ "pagemap-scan", own_pagemap_scan },
};

/*
 * CRIU's names: supported when criu restores the thing and the kernel has
 * it (own != NULL), never for what criu does not restore (own == NULL).
 */
static const struct {
	const char *name;
	int (*own)(void);
} criu_names[] = {
	{ "timerfd", own_timerfd_ticks },
	{ "kcmp_epoll", own_kcmp_epoll },
	{ "ns_pid", own_ns_pid },
	{ "clone3_set_tid", own_clone3_set_tid },
	{ "get_rseq_conf", own_rseq },
	{ "userns", NULL },
	{ "mem_dirty_track", own_always },	/* pre-dump: write tracking, or comparison where there is none */
	{ "mnt_id", own_mnt_id },
	{ "uffd", own_uffd },
	{ "uffd-noncoop", own_uffd_noncoop },
	{ "seccomp_filters", own_seccomp_filters },
	{ "seccomp_suspend", own_seccomp_suspend },
	{ "pidfd_store", NULL },
	{ "pagemap_scan", own_pagemap_scan },
	{ "timens", own_ns_time },
	{ "external_net_ns", own_always },
};

static int run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, size - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	static char full[16384];
	char cmd[256];
	int r;

	printf("TAP version 13\n");
	r = run("./criu/criu check 2>&1", full, sizeof(full));
	ok(r == 0, "criu check exits 0 on this kernel%s", "");
	ok(strstr(full, "Looks good") != NULL, "criu check says it looks good%s", "");

	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		int own = features[i].own(), line_ok = 0;
		char *l;

		snprintf(cmd, sizeof(cmd), "./criu/criu check --feature %s", features[i].name);
		r = run(cmd, NULL, 0);
		ok(r == (own ? 0 : 1), "--feature %s agrees with the kernel", features[i].name);
		for (l = full; (l = strstr(l, features[i].name)); l++) {
			if ((l == full || l[-1] == '\n') && l[strlen(features[i].name)] == ' ') {
				char *eol = strchr(l, '\n');
				size_t len = eol ? (size_t)(eol - l) : strlen(l);

				line_ok = own ? (len >= 3 && !strncmp(l + len - 3, "yes", 3))
					      : (len >= 2 && !strncmp(l + len - 2, "no", 2));
				break;
			}
		}
		ok(line_ok, "the criu check line of %s agrees with the kernel", features[i].name);
	}
	for (size_t i = 0; i < sizeof(criu_names) / sizeof(criu_names[0]); i++) {
		int own = criu_names[i].own ? criu_names[i].own() : 0;

		snprintf(cmd, sizeof(cmd), "./criu/criu check --no-default-config -verbosity=0 --feature %s",
			 criu_names[i].name);
		r = run(cmd, NULL, 0);
		ok(r == (own ? 0 : 1), "CRIU's --feature %s agrees with the kernel and what criu restores",
		   criu_names[i].name);
	}
	r = run("./criu/criu check --feature no-such-feature 2>/dev/null", NULL, 0);
	ok(r == 1, "an unknown feature exits 1%s", "");
	r = run("./criu/criu --no-such-option 2>/dev/null", NULL, 0);
	ok(r == 1, "an unknown option is a usage error (exit 1)%s", "");
	r = run("./criu/criu dump 2>/dev/null", NULL, 0);
	ok(r == 1, "dump without -t exits 1%s", "");
	r = run("./criu/criu dump -t 2>/dev/null", NULL, 0);
	ok(r == 1, "a missing argument exits 1%s", "");
	printf("1..%d\n", nr_test);
	return nr_failed ? 1 : 0;
}
