// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of criu/proc_parse.c on /proc files recorded on the dev machine
 * (test/unit/fixtures/, made by fixtures/record.c) and on this process's own
 * /proc. TAP output; exit 0 when every check passed.
 *
 * usage: test-proc-parse [FIXTURES_DIR]
 */
#include <malloc.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "common.h"
#include "files.h"
#include "proc_parse.h"

#include "tap.h"

static int fix_dfd = -1;

static bool startswith(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* A fixture as a malloc'ed NUL-terminated string (NULL when missing: that test fails). */
static char *fixture(const char *name)
{
	char *buf = NULL;

	if (read_file_alloc_at(fix_dfd, name, &buf) < 0) {
		printf("# cannot read fixture %s\n", name);
		return NULL;
	}
	return buf;
}

static void test_stat(void)
{
	_cleanup_free_ char *buf = fixture("proc-stat");
	struct proc_pid_stat st;

	check(buf && !parse_pid_stat_buf(buf, &st), "stat: fixture parses");
	check(!strcmp(st.comm, "x) (y z)"), "stat: comm with ')' and spaces is '%s'", st.comm);
	check(st.pid == 4919 && st.ppid == 4918 && st.pgid == 4870 && st.sid == 2812, "stat: pid/ppid/pgid/sid");
	check(st.start_code == 94766354477056UL && st.end_code == 94766354479057UL, "stat: start/end code");
	check(st.start_brk == 94766645796864UL && st.arg_start == 140737037842860UL && st.env_end == 140737037844458UL,
	   "stat: start_brk, arg_start, env_end");
	check(st.start_time == 33214 && st.exit_signal == 17, "stat: start_time, exit_signal");

	char bad[] = "4919 (x) (y z)) R 4918 4870";
	check(parse_pid_stat_buf(bad, &st) == -EINVAL, "stat: truncated line gives -EINVAL");
	check(parse_pid_stat_buf("garbage", &st) == -EINVAL, "stat: garbage gives -EINVAL");
}

static const struct proc_vma *find_vma(const struct proc_maps *m, enum proc_vma_kind kind, const char *path)
{
	for (int i = 0; i < m->nr; i++)
		if (m->vmas[i].kind == kind && (!path || strstr(m->vmas[i].path, path)))
			return &m->vmas[i];
	return NULL;
}

static void test_maps(void)
{
	struct proc_maps m = {};
	const struct proc_vma *v;
	char *buf = fixture("proc-maps");
	_cleanup_free_ char *smaps = fixture("proc-smaps");
	int err = buf ? parse_maps_buf(buf, &m) : -ENOENT;

	check(!err && m.nr == 26, "maps: fixture parses into 26 vmas (got %d, err %d)", m.nr, err);
	v = find_vma(&m, PVMA_HEAP, NULL);
	check(v && v->start == 0x563094426000UL && v->end == 0x563094447000UL && v->prot == (PROT_READ | PROT_WRITE) &&
		   !v->shared,
	   "maps: [heap] found with rw-p");
	v = find_vma(&m, PVMA_STACK, NULL);
	check(v && v->start == 0x7fffe523b000UL, "maps: [stack]");
	v = find_vma(&m, PVMA_VVAR, NULL);
	check(v && v->end - v->start == 0x4000 && v->prot == PROT_READ, "maps: [vvar] 4 pages r--");
	v = find_vma(&m, PVMA_VVAR_VCLOCK, NULL);
	check(v && v->end - v->start == 0x2000, "maps: [vvar_vclock] 2 pages");
	v = find_vma(&m, PVMA_VDSO, NULL);
	check(v && v->prot == (PROT_READ | PROT_EXEC) && v->end - v->start == 0x2000, "maps: [vdso] r-x 2 pages");
	v = find_vma(&m, PVMA_VSYSCALL, NULL);
	check(v && v->start == 0xffffffffff600000UL && v->prot == PROT_EXEC, "maps: [vsyscall] --x");
	v = find_vma(&m, PVMA_SHMEM_ANON, NULL);
	check(v && v->shared && v->deleted && !strcmp(v->path, "/dev/zero") && v->ino == 1025 && v->dev_minor == 1,
	   "maps: shared anon is /dev/zero (deleted) with its inode");
	v = find_vma(&m, PVMA_FILE, "criu-fixture");
	check(v && v->shared && v->deleted && v->dev_major == 0xfe && v->end - v->start == 8192,
	   "maps: deleted shared file mapping, ' (deleted)' stripped: '%s'", v ? v->path : "");
	v = find_vma(&m, PVMA_FILE, "libc.so.6");
	check(v && v->pgoff == 0 && !v->deleted && v->prot == PROT_READ, "maps: libc first vma");
	check(m.vmas[1].pgoff == 0x2000 && m.vmas[1].prot == (PROT_READ | PROT_EXEC), "maps: pgoff and r-x of vma 1");
	v = find_vma(&m, PVMA_ANON, NULL);
	check(v && v->path[0] == '\0' && v->ino == 0, "maps: anonymous vma with no path");

	check(smaps && !parse_smaps_vmflags_buf(smaps, &m), "smaps: VmFlags parse");
	int with = 0;
	for (int i = 0; i < m.nr; i++)
		with += m.vmas[i].have_vmflags;
	check(with == m.nr, "smaps: every vma got VmFlags (%d of %d)", with, m.nr);
	v = find_vma(&m, PVMA_STACK, NULL);
	check(v && (v->vmflags & PVMF_GD), "smaps: [stack] has gd");
	v = find_vma(&m, PVMA_SHMEM_ANON, NULL);
	check(v && (v->vmflags & (PVMF_SH | PVMF_MS)) == (PVMF_SH | PVMF_MS), "smaps: shared anon has sh ms");
	v = find_vma(&m, PVMA_HEAP, NULL);
	check(v && !(v->vmflags & (PVMF_GD | PVMF_SH)), "smaps: heap has neither gd nor sh");
	check(parse_vmflags_str(" rd wr dd hg lo nr") == (PVMF_DD | PVMF_HG | PVMF_LO | PVMF_NR), "vmflags: dd hg lo nr");
	check(parse_vmflags_str(" rd wr mr mw me nr wf dd dp \n") == (PVMF_NR | PVMF_WF | PVMF_DD | PVMF_DP),
	      "vmflags: MAP_DROPPABLE's nr wf dd dp");
	check(parse_vmflags_str(" rd ht sf um uw ui lf sl ss gu") ==
		      (PVMF_HT | PVMF_SF | PVMF_UM | PVMF_UW | PVMF_UI | PVMF_LF | PVMF_SL | PVMF_SS | PVMF_GU),
	      "vmflags: ht sf um uw ui lf sl ss gu");
	proc_maps_free(&m);

	{
		/* ProtectionKey: lines (CPUs with pkeys) land in the vma of the header before them */
		char *pk = strdup("1000-2000 rw-p 00000000 00:00 0\n3000-4000 rw-p 00000000 00:00 0\n");
		static const char pk_smaps[] = "1000-2000 rw-p 00000000 00:00 0\nProtectionKey:         0\n"
					       "VmFlags: rd wr mr mw me ac \n"
					       "3000-4000 rw-p 00000000 00:00 0\nProtectionKey:         5\n"
					       "VmFlags: rd wr mr mw me ac \n";

		check(pk && !parse_maps_buf(pk, &m) && !parse_smaps_vmflags_buf(pk_smaps, &m) && m.nr == 2 &&
			      m.vmas[0].pkey == 0 && m.vmas[1].pkey == 5,
		      "smaps: ProtectionKey 0 and 5");
		proc_maps_free(&m);
	}
	{
		/* KernelPageSize: a hugetlb vma's page size (mem.c restores 2 MiB pages only) */
		char *hp = strdup("200000-600000 rw-s 00000000 00:10 42 /anon_hugepage (deleted)\n"
				  "7000000-7001000 rw-p 00000000 00:00 0\n");
		static const char hp_smaps[] = "200000-600000 rw-s 00000000 00:10 42 /anon_hugepage (deleted)\n"
					       "KernelPageSize:     2048 kB\nMMUPageSize:        2048 kB\n"
					       "VmFlags: rd wr sh mr mw me ms de ht \n"
					       "7000000-7001000 rw-p 00000000 00:00 0\nKernelPageSize:        4 kB\n"
					       "VmFlags: rd wr mr mw me ac \n";

		check(hp && !parse_maps_buf(hp, &m) && !parse_smaps_vmflags_buf(hp_smaps, &m) && m.nr == 2 &&
			      m.vmas[0].kpage_size == (2UL << 20) && (m.vmas[0].vmflags & PVMF_HT) &&
			      m.vmas[1].kpage_size == 4096 && !(m.vmas[1].vmflags & PVMF_HT),
		      "smaps: KernelPageSize 2048 kB (hugetlb) and 4 kB");
		proc_maps_free(&m);
	}

	char *bad = strdup("7f00-7e00 rw-p 00000000 00:00 0\n");
	check(parse_maps_buf(bad, &m) == -EINVAL, "maps: end before start gives -EINVAL");
	bad = strdup("7f00-8f00 rwxq 00000000 00:00 0\n");
	check(parse_maps_buf(bad, &m) == -EINVAL, "maps: bad flags column gives -EINVAL");
	bad = strdup("1000-2000 rw-p 00000000 00:00 0\n1800-3000 rw-p 00000000 00:00 0\n");
	check(parse_maps_buf(bad, &m) == -EINVAL, "maps: overlapping vmas give -EINVAL");
	bad = strdup("1000-2000 rw-p 0000");
	check(parse_maps_buf(bad, &m) == -EINVAL, "maps: truncated line gives -EINVAL");
	bad = strdup("1000-2000 rw-s 00000000 00:05 77  [anon_shmem:buf]\n3000-4000 rw-p 00000000 00:00 0   [anon:x y]\n"
		     "5000-6000 rw-p 00000000 08:01 12   /a file (deleted) x\n7000-8000 r--p 0 00:00 0  [weird]\n");
	check(!parse_maps_buf(bad, &m) && m.nr == 4 && m.vmas[0].kind == PVMA_SHMEM_ANON && m.vmas[1].kind == PVMA_ANON &&
		   m.vmas[2].kind == PVMA_FILE && !m.vmas[2].deleted && !strcmp(m.vmas[2].path, "/a file (deleted) x") &&
		   m.vmas[3].kind == PVMA_OTHER,
	   "maps: named anon, named shmem, path with spaces, unknown [name]");
	proc_maps_free(&m);
}

static void test_status(void)
{
	_cleanup_free_ char *buf = fixture("proc-status");
	_cleanup_free_ char *ns = fixture("proc-status-pidns");
	struct proc_status st = {};

	check(buf && !parse_status_buf(buf, &st), "status: fixture parses");
	check(!strcmp(st.name, "x) (y z)") && st.umask == 027, "status: name '%s', umask %o", st.name, st.umask);
	check(st.pid == 4919 && st.tgid == 4919 && st.ppid == 4918 && st.tracer_pid == 0 && st.threads == 1,
	   "status: pids");
	check(st.shdpnd == 0x200 && st.sigblk == 0x400000200ULL && st.sigpnd == 0 && st.sigign == 0,
	   "status: ShdPnd SIGUSR1, SigBlk SIGUSR1|SIGRTMIN+1");
	check(st.cap_eff == 0x1fffeffffffULL && st.cap_bnd == 0x1fffeffffffULL && st.cap_amb == 0, "status: caps");
	check(st.uid[0] == 0 && st.gid[3] == 0 && st.ngroups == 0, "status: ids and empty Groups");
	check(st.ns_levels == 1 && st.nspid[0] == 4919 && st.nspgid[0] == 4870 && st.nssid[0] == 2812, "status: NS* one level");
	check(st.seccomp == 0 && st.seccomp_filters == 0 && st.no_new_privs == 0 && st.thp_enabled == 1, "status: seccomp, THP_enabled");
	proc_status_free(&st);

	check(ns && !parse_status_buf(ns, &st), "status (pid ns): parses");
	check(st.ns_levels == 2 && st.nspid[0] == 5877 && st.nspid[1] == 1 && st.nstgid[1] == 1 && st.nssid[1] == 0,
	   "status (pid ns): NSpid 5877 1");
	proc_status_free(&st);

	const char *g = "Name:\t a\nState:\tS\nPid:\t5\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nGroups:\t10 20 30 \n"
			"SigBlk:\t0000000000000001\nCapEff:\t0\n";
	check(!parse_status_buf(g, &st) && st.ngroups == 3 && st.groups[2] == 30 && st.uid[2] == 3 && st.gid[1] == 6 &&
		   !strcmp(st.name, " a") && st.umask == -1 && st.seccomp == -1,
	   "status: groups, 4 ids, name with a leading blank, absent Umask/Seccomp");
	proc_status_free(&st);
	check(parse_status_buf("Name:\tx\nState:\tS\n", &st) == -EINVAL, "status: missing lines give -EINVAL");
	check(parse_status_buf("Name:\tx\nState:\tS\nPid:\t5\nUid:\t1\t2\nGid:\t0 0 0 0\nSigBlk:\t0\nCapEff:\t0\n", &st) ==
		   -EINVAL,
	   "status: Uid with 2 values gives -EINVAL");
	check(parse_status_buf("Name:\tx\nState:\tS\nPid:\t5\nUid:\t0 0 0 0\nGid:\t0 0 0 0\nSigBlk:\tzz\nCapEff:\t0\n", &st) ==
		   -EINVAL,
	   "status: bad hex gives -EINVAL");
	check(parse_status_buf("NSpid:\t1 2\nNStgid:\t1\n", &st) == -EINVAL, "status: NS lines of different depth give -EINVAL");
}

static void test_fdinfo(void)
{
	struct proc_fdinfo fi;
	char *buf;

	buf = fixture("proc-fdinfo-pidfd");
	check(buf && !parse_fdinfo_buf(buf, &fi), "fdinfo pidfd: parses");
	check(fi.pos == 0 && fi.flags == 02 && fi.mnt_id == 4 && fi.ino == 4919, "fdinfo pidfd: common fields");
	check(fi.nr_extra == 2 && !strcmp(fdinfo_get(&fi, "Pid"), "4918") && !strcmp(fdinfo_get(&fi, "NSpid"), "4918"),
	   "fdinfo pidfd: Pid and NSpid handed on");
	proc_fdinfo_free(&fi);

	buf = fixture("proc-fdinfo-pidfd-reaped");
	check(buf && !parse_fdinfo_buf(buf, &fi) && fi.flags == 02000002 && fi.ino == 195813 &&
		   !strcmp(fdinfo_get(&fi, "Pid"), "-1") && !strcmp(fdinfo_get(&fi, "NSpid"), "-1"),
	   "fdinfo reaped pidfd: O_CLOEXEC|O_RDWR, Pid -1");
	proc_fdinfo_free(&fi);

	buf = fixture("proc-fdinfo-eventfd");
	check(buf && !parse_fdinfo_buf(buf, &fi), "fdinfo eventfd: parses");
	check(fi.flags == 04002 && fi.ino == 1038 && fi.nr_extra == 3 &&
		   !strcmp(fdinfo_get(&fi, "eventfd-count"), "2a") && !strcmp(fdinfo_get(&fi, "eventfd-semaphore"), "0"),
	   "fdinfo eventfd: O_NONBLOCK, eventfd-count 2a");
	proc_fdinfo_free(&fi);

	buf = fixture("proc-fdinfo-timerfd");
	check(buf && !parse_fdinfo_buf(buf, &fi) && fi.nr_extra == 5 && !strcmp(fdinfo_get(&fi, "settime flags"), "00") &&
		   !strcmp(fdinfo_get(&fi, "it_interval"), "(5, 0)"),
	   "fdinfo timerfd: key with a space, it_interval");
	proc_fdinfo_free(&fi);

	buf = fixture("proc-fdinfo-epoll");
	check(buf && !parse_fdinfo_buf(buf, &fi) && fi.nr_extra == 1 && !strcmp(fi.extra[0].key, "tfd") &&
		   startswith(fi.extra[0].val, "20 events: 80000019"),
	   "fdinfo epoll: tfd line kept whole after the first ':'");
	proc_fdinfo_free(&fi);

	buf = fixture("proc-fdinfo-reg");
	check(buf && !parse_fdinfo_buf(buf, &fi) && fi.pos == 123 && fi.flags == 0100002 && fi.nr_extra == 0 &&
		   !fdinfo_get(&fi, "Pid"),
	   "fdinfo reg: pos 123, O_LARGEFILE|O_RDWR, nothing extra");
	proc_fdinfo_free(&fi);

	/* proc_fdinfo_shrink(): the kept text in a buffer of its size, every line still read (fds-ahead.c) */
	buf = fixture("proc-fdinfo-timerfd");
	if (buf) {	/* in a page, as read_record_alloc_at() reads it */
		char *page = calloc(1, 4096);

		if (page)
			snprintf(page, 4096, "%s", buf);
		free(buf);
		buf = page;
	}
	check(buf && !parse_fdinfo_buf(buf, &fi) && !proc_fdinfo_shrink(&fi) && fi.nr_extra == 5 &&
		   !strcmp(fdinfo_get(&fi, "settime flags"), "00") && !strcmp(fdinfo_get(&fi, "it_interval"), "(5, 0)") &&
		   fi.buf && fdinfo_get(&fi, "it_interval") >= fi.buf && malloc_usable_size(fi.buf) < 4096,
	   "fdinfo shrink: timerfd's lines read from the smaller buffer");
	proc_fdinfo_free(&fi);
	buf = fixture("proc-fdinfo-reg");
	check(buf && !parse_fdinfo_buf(buf, &fi) && !proc_fdinfo_shrink(&fi) && !fi.buf && fi.pos == 123,
	   "fdinfo shrink: nothing extra, no buffer kept");
	proc_fdinfo_free(&fi);

	check(parse_fdinfo_buf(strdup("flags:\t02\n"), &fi) == -EINVAL, "fdinfo: no pos gives -EINVAL");
	check(parse_fdinfo_buf(strdup("pos:\tx\nflags:\t02\n"), &fi) == -EINVAL, "fdinfo: bad pos gives -EINVAL");
	check(parse_fdinfo_buf(strdup("pos:\t1\nflags:\t09\n"), &fi) == -EINVAL, "fdinfo: non-octal flags give -EINVAL");
}

static void test_limits(void)
{
	_cleanup_free_ char *buf = fixture("proc-limits");
	struct proc_rlimits rl;

	check(buf && !parse_limits_buf(buf, &rl) && rl.nr == PROC_RLIM_NLIMITS, "limits: 16 lines");
	check(rl.r[RLIMIT_STACK].cur == 8388608 && rl.r[RLIMIT_STACK].max == RLIM_INFINITY, "limits: stack 8M/unlimited");
	check(rl.r[RLIMIT_CPU].cur == RLIM_INFINITY, "limits: cpu unlimited");
	check(parse_limits_buf("Limit  Soft Limit\nMax cpu time  abc  unlimited  seconds\n", &rl) == -EINVAL,
	   "limits: garbage value gives -EINVAL");
	check(parse_limits_buf("nothing\n", &rl) == -EINVAL, "limits: no known line gives -EINVAL");
}

static void test_auxv(void)
{
	uint64_t raw[64], words[PROC_AUXV_MAX_WORDS];
	_cleanup_close_ int fd = openat(fix_dfd, "proc-auxv", O_RDONLY | O_CLOEXEC);
	int len = fd >= 0 ? read_all(fd, raw, sizeof(raw)) : -1;
	int n = len > 0 ? parse_auxv_buf(raw, len, words, PROC_AUXV_MAX_WORDS) : -1;
	bool pagesz = false;

	check(n == 46 && words[n - 2] == 0, "auxv: 23 pairs ending in AT_NULL (got %d words)", n);
	for (int i = 0; i + 1 < n; i += 2)
		if (words[i] == AT_PAGESZ && words[i + 1] == 4096)
			pagesz = true;
	check(pagesz, "auxv: AT_PAGESZ 4096");
	check(parse_auxv_buf(raw, 32, words, PROC_AUXV_MAX_WORDS) == -EINVAL, "auxv: no AT_NULL gives -EINVAL");
	check(parse_auxv_buf(raw, len, words, 8) == -E2BIG, "auxv: too small output gives -E2BIG");
	check(parse_auxv_buf(raw, 12, words, 8) == -EINVAL, "auxv: odd length gives -EINVAL");
}

/* The same parsers on this process's own /proc. */
/* A file read in small read()s (as smaps is) comes out the same as in one go. */
static void test_chunked_read(void)
{
	static const size_t chunks[] = { 1, 7, 512, 4096, SIZE_MAX };
	_cleanup_free_ char *whole = NULL;
	ssize_t len = read_file_alloc_at(fix_dfd, "proc-smaps", &whole);

	check(len > 4096, "chunked: the smaps fixture is longer than a page (%zd bytes)", len);
	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		_cleanup_free_ char *buf = NULL;
		ssize_t n = read_file_alloc_chunked_at(fix_dfd, "proc-smaps", chunks[i], &buf);

		check(len > 0 && n == len && !memcmp(buf, whole, len) && buf[n] == '\0',
		   "chunked: %zu-byte reads give the same %zd bytes", chunks[i], n);
	}
	check(read_file_alloc_chunked_at(fix_dfd, "no-such-file", 512, &(char *){ NULL }) == -ENOENT,
	   "chunked: a missing file gives -ENOENT");
}

/*
 * parse_pid_fdinfo() reads an fdinfo file in one read when it is short, and to its end
 * when it is not: an epoll watching 300 fds has an fdinfo of about 20 KB (a tfd line each).
 */
static void test_fdinfo_long(void)
{
	_cleanup_close_ int pfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	_cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC);
	struct proc_fdinfo fi;
	int fds[300], nr = 0, tfd = 0;

	for (int i = 0; i < 300; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

		fds[i] = dup(efd);
		if (fds[i] >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev))
			nr++;
	}
	check(nr == 300 && !parse_pid_fdinfo(pfd, ep, &fi), "fdinfo: a 300-fd epoll's fdinfo parsed");
	for (int i = 0; nr == 300 && i < fi.nr_extra; i++)
		tfd += !strcmp(fi.extra[i].key, "tfd");
	check(tfd == 300, "fdinfo: all %d tfd lines read (not only the first read's)", tfd);
	if (nr == 300)
		proc_fdinfo_free(&fi);
	check(!parse_pid_fdinfo(pfd, efd, &fi) && fdinfo_get(&fi, "eventfd-count") && (fi.flags & O_CLOEXEC),
	   "fdinfo: a short fdinfo (eventfd) in one read, all of it");
	proc_fdinfo_free(&fi);
	for (int i = 0; i < 300; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void test_live(void)
{
	_cleanup_close_ int pfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	struct proc_maps m = {};
	struct proc_status st = {};
	struct proc_fdinfo fi;
	struct proc_rlimits rl;
	struct rlimit r;
	uint64_t auxv[PROC_AUXV_MAX_WORDS];
	char pid[16];
	int n;

	check(!parse_pid_maps(pfd, &m) && find_vma(&m, PVMA_STACK, NULL) && find_vma(&m, PVMA_VDSO, NULL),
	   "live: own maps with [stack] and [vdso]");
	/* a vma that surely exists: the page this function's code is on */
	unsigned long code = (unsigned long)&test_live;
	int i;
	for (i = 0; i < m.nr; i++)
		if (m.vmas[i].start <= code && code < m.vmas[i].end)
			break;
	check(i < m.nr && m.vmas[i].kind == PVMA_FILE && (m.vmas[i].prot & PROT_EXEC), "live: own code in an r-x file vma");
	if (i < m.nr) {
		_cleanup_close_ int mf = open_proc_map_file(pfd, m.vmas[i].start, m.vmas[i].end, O_RDONLY);
		struct stat a, b;

		check(mf >= 0 && !fstat(mf, &a) && !stat("/proc/self/exe", &b) && a.st_ino == b.st_ino,
		   "live: map_files opens the executable");
	}
	check(!parse_pid_smaps_vmflags(pfd, &m) && (find_vma(&m, PVMA_STACK, NULL)->vmflags & PVMF_GD),
	   "live: smaps VmFlags of own stack has gd");
	for (i = 0; i < m.nr && m.vmas[i].have_vmflags; i++)
		;
	/*
	 * Our own maps can change between the two reads: under ASan, the
	 * parsers' own mallocs grow the allocator's regions every time. A
	 * stopped child of ours (the same maps, no allocation) holds still.
	 */
	if (!(m.nr > 0 && i == m.nr)) {
		pid_t c = fork();
		char path[32];

		if (c == 0) {
			raise(SIGSTOP);
			_exit(0);
		}
		printf("# own maps changed between the reads (%#lx-%#lx had no VmFlags): a stopped child's instead\n",
		       i < m.nr ? m.vmas[i].start : 0, i < m.nr ? m.vmas[i].end : 0);
		waitpid(c, NULL, WUNTRACED);
		snprintf(path, sizeof(path), "/proc/%d", c);
		_cleanup_close_ int cfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		proc_maps_free(&m);
		memset(&m, 0, sizeof(m));
		if (cfd >= 0 && !parse_pid_maps(cfd, &m) && !parse_pid_smaps_vmflags(cfd, &m))
			for (i = 0; i < m.nr && m.vmas[i].have_vmflags; i++)
				;
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
	}
	check(m.nr > 0 && i == m.nr, "live: smaps read in small pieces gave VmFlags to all %d vmas", m.nr);
	check(open_proc_map_file(pfd, 0x1000, 0x2000, O_RDONLY) == -ENOENT, "live: map_files of no vma gives -ENOENT");
	proc_maps_free(&m);

	check(!parse_pid_status(pfd, &st) && st.pid == getpid() && st.ppid == getppid() && st.uid[1] == geteuid(),
	   "live: own status");
	proc_status_free(&st);

	check(pidfd >= 0 && !parse_pid_fdinfo(pfd, pidfd, &fi), "live: fdinfo of own pidfd");
	snprintf(pid, sizeof(pid), "%d", getpid());
	check(fdinfo_get(&fi, "Pid") && !strcmp(fdinfo_get(&fi, "Pid"), pid) && (fi.flags & O_CLOEXEC),
	   "live: pidfd Pid is own pid, O_CLOEXEC in flags");
	proc_fdinfo_free(&fi);
	check(parse_pid_fdinfo(pfd, 999999, &fi) == -ENOENT, "live: fdinfo of a closed fd gives -ENOENT");

	getrlimit(RLIMIT_NOFILE, &r);
	check(!parse_pid_limits(pfd, &rl) && rl.r[RLIMIT_NOFILE].cur == r.rlim_cur && rl.r[RLIMIT_NOFILE].max == r.rlim_max,
	   "live: limits NOFILE matches getrlimit");

	n = parse_pid_auxv(pfd, auxv, PROC_AUXV_MAX_WORDS);
	bool found = false;
	for (i = 0; i + 1 < n; i += 2)
		if (auxv[i] == AT_SYSINFO_EHDR && auxv[i + 1] == getauxval(AT_SYSINFO_EHDR))
			found = true;
	check(n > 0 && found, "live: auxv AT_SYSINFO_EHDR matches getauxval");

	check(parse_pid_stat(-1, &(struct proc_pid_stat){}) == -EBADF, "live: a bad dir fd gives -EBADF");
}

/* Lock lines as /proc/locks and fdinfo "lock:" show them (recorded on 6.18). */
static void test_lock_lines(void)
{
	struct file_lock_line l;

	check(!parse_lock_line("1: POSIX  ADVISORY  WRITE 18792 fe:00:10962287 0 9", &l) && !strcmp(l.kind, "POSIX") &&
		      !strcmp(l.access, "WRITE") && l.pid == 18792 && l.dev == makedev(0xfe, 0) && l.ino == 10962287 &&
		      !l.waiter && !strcmp(l.mode, "ADVISORY") && l.start == 0 && l.end == 9,
	      "lock line: POSIX, its range");
	check(!parse_lock_line("2: OFDLCK ADVISORY  READ -1 fe:00:10962289 0 EOF\n", &l) && !strcmp(l.kind, "OFDLCK") &&
		      l.pid == -1 && !strcmp(l.access, "READ") && l.start == 0 && l.end == -1,
	      "lock line: OFD, pid -1, EOF end");
	check(!parse_lock_line("4: LEASE  ACTIVE    READ 18792 fe:00:10962285 0 EOF", &l) && !strcmp(l.kind, "LEASE") &&
		      !strcmp(l.mode, "ACTIVE"),
	      "lock line: lease");
	check(!parse_lock_line("1: LEASE  BREAKING  UNLCK 66 00:2c:48 0 EOF", &l) && !strcmp(l.mode, "BREAKING") &&
		      !strcmp(l.access, "UNLCK"),
	      "lock line: a lease being broken");
	check(!parse_lock_line("3: POSIX  ADVISORY  READ 7 08:01:99 20 4095", &l) && l.start == 20 && l.end == 4095,
	      "lock line: a range not from 0");
	check(!parse_lock_line("1: -> FLOCK  ADVISORY  WRITE 33 00:2c:17 0 EOF", &l) && l.waiter &&
		      !strcmp(l.kind, "FLOCK") && l.pid == 33 && l.dev == makedev(0, 0x2c) && l.ino == 17,
	      "lock line: a waiter");
	check(parse_lock_line("POSIX ADVISORY WRITE 1 fe:00:1 0 9", &l) == -EINVAL, "lock line: no number: refused");
	check(parse_lock_line("1: POSIX ADVISORY WRITE", &l) == -EINVAL, "lock line: truncated: refused");
	check(parse_lock_line("", &l) == -EINVAL, "lock line: empty: refused");
}

static void test_mountinfo(void)
{
	struct proc_mounts ms = {};
	char *buf = fixture("proc-mountinfo");
	char *bad = strdup("70 69 254:0 / / rw,relatime shared:1\n");
	int ret;

	ret = buf ? parse_mountinfo_buf(buf, &ms) : -ENOENT;
	check(!ret && ms.nr == 5, "mountinfo: five mounts (%d)", ms.nr);
	if (!ret && ms.nr == 5) {
		check(ms.m[0].mnt_id == 70 && ms.m[0].parent_id == 69 && ms.m[0].major == 254 && ms.m[0].minor == 0 &&
			      !strcmp(ms.m[0].mountpoint, "/") && !strcmp(ms.m[0].fstype, "ext4") &&
			      !strcmp(ms.m[0].sb_opts, "rw,discard"),
		      "mountinfo: ids, device, mountpoint, type, superblock options");
		check(!strcmp(ms.m[2].mountpoint, "/tmp/a b") && !strcmp(ms.m[2].source, "zdtm fs") &&
			      ms.m[2].shared_id == 5 && !ms.m[2].master_id,
		      "mountinfo: escaped spaces, shared:N");
		check(!strcmp(ms.m[3].root, "/sub") && ms.m[3].shared_id == 9 && ms.m[3].master_id == 5 &&
			      !strcmp(ms.m[3].mnt_opts, "ro,relatime"),
		      "mountinfo: root, shared and master, propagate_from skipped");
		check(ms.m[4].unbindable && !ms.m[4].shared_id && !strcmp(ms.m[4].root, "/null"),
		      "mountinfo: unbindable");
	}
	proc_mounts_free(&ms);
	check(parse_mountinfo_buf(bad, &ms) == -EINVAL, "mountinfo: a line without \" - \" is refused");
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/fixtures", dirname((char[4096]){ __FILE__ }));
	fix_dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fix_dfd < 0)
		printf("# fixtures directory %s: %s\n", dir, strerror(errno));

	test_stat();
	test_maps();
	test_status();
	test_fdinfo();
	test_limits();
	test_auxv();
	test_chunked_read();
	test_fdinfo_long();
	test_live();
	test_lock_lines();
	test_mountinfo();

	printf("1..%d\n", nr_test);
	if (nr_fail)
		printf("# %d of %d failed\n", nr_fail, nr_test);
	return nr_fail ? 1 : 0;
}
