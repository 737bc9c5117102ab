// SPDX-License-Identifier: GPL-2.0
/*
 * compel on real children: seize, registers, remote syscalls, memory, detach.
 * The children report what they see through a pipe; the test compares.
 * TAP output; exit 0 when every check passed, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel/compel.h"
#include "proc_parse.h"
#include "dump-core.h"
#include "image.h"
#include "log.h"
#include "cr_options.h"
#include "protobuf.h"
#include "pstree.h"
#include "seize.h"

#include "core.pb-c.h"
#include "tap.h"


/* Where compel may poke its code in task pid: the start of an executable mapping (criu's proc_exec_addr()). */
static unsigned long code_addr(pid_t pid)
{
	char path[64];
	unsigned long a = 0;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (proc_exec_addr(dfd, &a))
			a = 0;
		close(dfd);
	}
	return a;
}

static pid_t kids[16];
static int nr_kids;


#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void kill_kids(void)
{
	for (int i = 0; i < nr_kids; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
}

static void log_to_stderr(int level, const char *fmt, va_list ap)
{
	if (getenv("COMPEL_DEBUG"))
		vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------ the children */

#define NR_WORKERS 3

struct child_info {
	pid_t pid;
	pid_t tids[NR_WORKERS + 1];
	unsigned long usr1_handler, usr2_handler;
	uint64_t blocked;
};

struct child_status {
	int usr1_count;
	unsigned long usr2_handler;
	pid_t pid;
	int workers_alive;	/* every worker's counter moved */
	uint8_t peek[3];
	unsigned long trap_handler, trap_flags;
	int trap_mask_usr1;
};

static volatile int usr1_count;
static volatile unsigned long counters[NR_WORKERS];
static pid_t worker_tids[NR_WORKERS];

static void usr1_handler(int sig)
{
	usr1_count++;
}

static void usr2_handler(int sig)
{
}

static void *worker(void *arg)
{
	long i = (long)arg;
	struct timespec ts = { 0, 1000000 };

	worker_tids[i] = gettid();
	for (;;) {
		counters[i]++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int workers_moving(int nr)
{
	unsigned long before[NR_WORKERS];
	struct timespec ts = { 0, 50000000 };

	for (int i = 0; i < nr; i++)
		before[i] = counters[i];
	nanosleep(&ts, NULL);
	for (int i = 0; i < nr; i++)
		if (counters[i] == before[i])
			return 0;
	return 1;
}

/*
 * Serve commands on ctl until 'q': 'i' = status, 'p' + address = status with 3 bytes
 * peeked there. first: a command already read by the caller, or 0.
 */
static void child_loop(int ctl, int resp, int nr_workers, char first)
{
	for (;;) {
		struct child_status st = {};
		struct sigaction sa;
		unsigned long addr;
		char cmd = first;

		first = 0;
		/* blocking read: the parent seizes us here, inside the syscall */
		if (!cmd && read(ctl, &cmd, 1) != 1)
			_exit(3);
		if (cmd == 'q')
			_exit(0);
		if (cmd == 'p') {
			if (read(ctl, &addr, sizeof(addr)) != sizeof(addr))
				_exit(4);
			memcpy(st.peek, (void *)addr, sizeof(st.peek));
		}
		sigaction(SIGTRAP, NULL, &sa);
		st.trap_handler = (unsigned long)sa.sa_handler;
		st.trap_flags = sa.sa_flags;
		st.trap_mask_usr1 = sigismember(&sa.sa_mask, SIGUSR1);
		sigaction(SIGUSR2, NULL, &sa);
		st.usr1_count = usr1_count;
		st.usr2_handler = (unsigned long)sa.sa_handler;
		st.pid = getpid();
		st.workers_alive = workers_moving(nr_workers);
		if (write(resp, &st, sizeof(st)) != sizeof(st))
			_exit(5);
	}
}

static void child_main(int ctl, int resp, int nr_workers)
{
	struct sigaction sa = { .sa_handler = usr1_handler, .sa_flags = SA_RESTART };
	struct child_info info = {};
	union sigval v = { .sival_int = 42 };
	sigset_t set;

	sigaction(SIGUSR1, &sa, NULL);
	/* two blocked signals left pending: one in the shared queue, one for the thread */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigqueue(getpid(), SIGRTMIN, v);
	syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 1);

	for (long i = 0; i < nr_workers; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, (void *)i))
			_exit(2);
	}
	for (int i = 0; i < nr_workers; i++)
		while (!__atomic_load_n(&worker_tids[i], __ATOMIC_SEQ_CST))
			usleep(1000);

	info.pid = getpid();
	info.tids[0] = gettid();
	for (int i = 0; i < nr_workers; i++)
		info.tids[i + 1] = worker_tids[i];
	info.usr1_handler = (unsigned long)usr1_handler;
	info.usr2_handler = (unsigned long)usr2_handler;
	sigprocmask(SIG_BLOCK, NULL, &set);
	memcpy(&info.blocked, &set, sizeof(info.blocked));
	if (write(resp, &info, sizeof(info)) != sizeof(info))
		_exit(1);
	child_loop(ctl, resp, nr_workers, 0);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p ? p[2] : 0;
}

/* wait until the child's main thread sleeps in read() (/proc/PID/syscall starts with "0 ") */
static int wait_in_read(pid_t pid)
{
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (int i = 0; i < 500; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC), n;

		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 2 && !strncmp(buf, "0 ", 2) && proc_state(pid) == 'S')
			return 0;
		usleep(2000);
	}
	return -1;
}

struct kid {
	pid_t pid;
	int ctl, resp;
	struct child_info info;
};

static int start_kid(struct kid *k, int nr_workers)
{
	int c[2], r[2];

	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		return -1;
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (k->pid == 0) {
		close(c[1]);
		close(r[0]);
		child_main(c[0], r[1], nr_workers);
		_exit(0);
	}
	kids[nr_kids++] = k->pid;
	close(c[0]);
	close(r[1]);
	k->ctl = c[1];
	k->resp = r[0];
	if (read(k->resp, &k->info, sizeof(k->info)) != sizeof(k->info))
		return -1;
	/* let the child reach its blocking read() */
	return wait_in_read(k->pid);
}

static int ask(struct kid *k, char cmd, unsigned long addr, struct child_status *st)
{
	if (write(k->ctl, &cmd, 1) != 1)
		return -1;
	if (cmd == 'p' && write(k->ctl, &addr, sizeof(addr)) != sizeof(addr))
		return -1;
	return read(k->resp, st, sizeof(*st)) == sizeof(*st) ? 0 : -1;
}

static int stop_kid(struct kid *k)
{
	int status;
	char q = 'q';

	if (write(k->ctl, &q, 1) != 1)
		return -1;
	if (waitpid(k->pid, &status, 0) != k->pid)
		return -1;
	for (int i = 0; i < nr_kids; i++)
		if (kids[i] == k->pid)
			kids[i] = 0;
	close(k->ctl);
	close(k->resp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int maps_has(pid_t pid, unsigned long addr)
{
	char path[64], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && addr >= s && addr < e)
			found = 1;
	}
	fclose(f);
	return found;
}

/* read bytes of the child directly through /proc/PID/mem, independently of compel */
static int peek_mem(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* ------------------------------------------------------------ tests */

/* kernel's struct sigaction for rt_sigaction */
struct ksigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	uint64_t mask;
};

static void test_restart_fixup(void)
{
	compel_regs_t r = {};

	r.orig_rax = __NR_read;
	r.rax = (unsigned long)-ERESTARTSYS;
	r.rip = 0x1002;
	check(compel_fixup_syscall_restart(&r) == 1 && r.rax == __NR_read && r.rip == 0x1000 &&
		      (long)r.orig_rax == -1,
	      "fixup -ERESTARTSYS: rax=nr, rip-=2, orig_rax=-1");
	r.orig_rax = __NR_nanosleep;
	r.rax = (unsigned long)-ERESTART_RESTARTBLOCK;
	r.rip = 0x2002;
	check(compel_fixup_syscall_restart(&r) == 0 && (long)r.rax == -EINTR && r.rip == 0x2002 &&
		      (long)r.orig_rax == -1,
	      "fixup -ERESTART_RESTARTBLOCK: rax=-EINTR, rip kept");
	r.orig_rax = (unsigned long)-1L;
	r.rax = (unsigned long)-ERESTARTNOINTR;
	r.rip = 0x3000;
	check(compel_fixup_syscall_restart(&r) == 0 && r.rip == 0x3000 && (long)r.rax == -ERESTARTNOINTR,
	      "fixup: not in a syscall (orig_rax -1): nothing changed");
	r.orig_rax = __NR_write;
	r.rax = 5;
	r.rip = 0x4000;
	check(compel_fixup_syscall_restart(&r) == 0 && r.rax == 5 && r.rip == 0x4000,
	      "fixup: a finished syscall (rax=5) is left alone");
}

static void test_errors(void)
{
	pid_t z;
	int ret;

	ret = compel_seize(0x3fffffff);
	check(ret == -ESRCH, "seize of a pid that does not exist: -ESRCH (got %d)", ret);

	z = fork();
	if (z == 0)
		_exit(7);
	kids[nr_kids++] = z;
	for (int i = 0; i < 200 && proc_state(z) != 'Z'; i++)
		usleep(5000);
	ret = compel_seize(z);
	check(proc_state(z) == 'Z' && ret == -EPERM, "seize of a zombie: -EPERM (got %d)", ret);
	waitpid(z, NULL, 0);
	kids[nr_kids - 1] = 0;
}

static void test_single(void)
{
	struct compel_rsys ctx;
	struct child_status st;
	struct compel_fpregs fp = {};
	struct compel_rseq_conf rseq = {};
	enum compel_task_state state;
	struct ksigaction ksa;
	compel_regs_t regs, fixed;
	siginfo_t *si = NULL;
	uint8_t orig[3], code[3];
	uint64_t mask;
	long r;
	int ret, n, found;
	struct kid k;

	if (start_kid(&k, 0)) {
		check(0, "start a single-threaded child");
		return;
	}
	ret = compel_seize_stop(k.pid, &state);
	check(ret == 0 && state == COMPEL_TASK_ALIVE, "seize+interrupt a running child (ret %d, state %d)", ret, state);
	if (ret)
		return;
	check(proc_state(k.pid) == 't', "child is in a ptrace stop (state %c)", proc_state(k.pid));

	ret = compel_get_regs(k.pid, &regs);
	check(ret == 0 && regs.orig_rax == __NR_read && (long)regs.rax == -ERESTARTSYS,
	      "regs: stopped in read(): orig_rax %lld rax %lld", (long long)regs.orig_rax, (long long)regs.rax);

	ret = compel_get_fpregs(k.pid, &fp);
	check(ret == 0 && fp.size >= 512 && (fp.xsave ? fp.size >= 576 : fp.size == 512),
	      "fpregs: %s, %zu bytes (CPUID xsave size %zu)", fp.xsave ? "xstate" : "fxsave", fp.size,
	      compel_xsave_size());
	if (!ret) {
		ret = compel_set_fpregs(k.pid, &fp);
		check(ret == 0, "fpregs: set back the same area (%d)", ret);
		compel_fpregs_free(&fp);
	}

	ret = compel_get_sigmask(k.pid, &mask);
	check(ret == 0 && mask == k.info.blocked, "sigmask %#llx matches the child's %#llx", (unsigned long long)mask,
	      (unsigned long long)k.info.blocked);

	n = compel_get_pending(k.pid, true, &si);
	found = 0;
	for (int i = 0; i < n; i++)
		if (si[i].si_signo == SIGRTMIN && si[i].si_value.sival_int == 42 && si[i].si_pid == k.pid)
			found = 1;
	free(si);
	check(n == 1 && found, "shared pending: SIGRTMIN with value 42 (%d entries)", n);
	n = compel_get_pending(k.pid, false, &si);
	check(n == 1 && si[0].si_signo == SIGRTMIN + 1, "per-thread pending: SIGRTMIN+1 (%d entries)", n);
	free(si);

	ret = compel_get_rseq(k.pid, &rseq);
	check(ret == 0 && rseq.rseq_abi_pointer && rseq.signature == 0x53053053 && rseq.rseq_abi_size >= 20,
	      "rseq: ptr %#llx size %u sig %#x", (unsigned long long)rseq.rseq_abi_pointer, rseq.rseq_abi_size,
	      rseq.signature);

	/* a signal arriving while seized must survive the remote syscalls */
	kill(k.pid, SIGUSR1);

	ret = compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_POKE);
	check(ret == 0 && ctx.poked, "rsys prepare: found an executable VMA at %#lx", ctx.syscall_ip);
	if (ret)
		goto detach;
	memcpy(orig, ctx.orig, sizeof(orig));
	check(!peek_mem(k.pid, ctx.syscall_ip, code, 3) && code[0] == 0x0f && code[1] == 0x05 && code[2] == 0xcc,
	      "the code 0f 05 cc is in place");

	ret = compel_rsys0(&ctx, &r, __NR_getpid);
	check(ret == 0 && r == k.pid, "remote getpid = %ld (child %d)", r, k.pid);
	ret = compel_rsys0(&ctx, &r, __NR_gettid);
	check(ret == 0 && r == k.info.tids[0], "remote gettid = %ld", r);
	ret = compel_rsys1(&ctx, &r, __NR_close, -1);
	check(ret == 0 && r == -EBADF, "remote close(-1) = %ld (-EBADF is a result)", r);

	ret = compel_rsys_map_scratch(&ctx, 100);
	check(ret == 0 && ctx.scratch && ctx.scratch_size == 4096 && maps_has(k.pid, ctx.scratch) == 1,
	      "scratch mapped at %#lx", ctx.scratch);
	if (ret)
		goto finish;

	memset(&ksa, 0xaa, sizeof(ksa));
	compel_mem_write(k.pid, ctx.mem_fd, ctx.scratch, &ksa, sizeof(ksa));
	ret = compel_rsys4(&ctx, &r, __NR_rt_sigaction, SIGUSR1, 0, ctx.scratch, 8);
	memset(&ksa, 0, sizeof(ksa));
	ret = ret ?: compel_mem_read(k.pid, -1, ctx.scratch, &ksa, sizeof(ksa));
	check(ret == 0 && r == 0 && ksa.handler == k.info.usr1_handler && (ksa.flags & SA_RESTART),
	      "remote rt_sigaction(SIGUSR1) old handler %#lx = child's %#lx", ksa.handler, k.info.usr1_handler);

	/* install a handler for SIGUSR2 remotely; the child checks it later */
	ksa.handler = k.info.usr2_handler;
	ret = compel_mem_write(k.pid, ctx.mem_fd, ctx.scratch + 64, &ksa, sizeof(ksa));
	ret = ret ?: compel_rsys4(&ctx, &r, __NR_rt_sigaction, SIGUSR2, ctx.scratch + 64, 0, 8);
	check(ret == 0 && r == 0, "remote rt_sigaction(SIGUSR2, new) = %ld", r);

	/* an ignored SIGTRAP set remotely must survive every later call (no trap resets it) */
	ksa.handler = (unsigned long)SIG_IGN;
	ksa.flags = SA_RESTART;
	ksa.restorer = 0;
	ksa.mask = 1ULL << (SIGUSR1 - 1);
	ret = compel_mem_write(k.pid, ctx.mem_fd, ctx.scratch + 128, &ksa, sizeof(ksa));
	ret = ret ?: compel_rsys4(&ctx, &r, __NR_rt_sigaction, SIGTRAP, ctx.scratch + 128, 0, 8);
	check(ret == 0 && r == 0, "remote rt_sigaction(SIGTRAP, SIG_IGN) = %ld", r);

	ret = compel_rsys(&ctx, &r, __NR_mmap, 0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(ret == 0 && r > 0 && maps_has(k.pid, r) == 1, "remote mmap = %#lx, in the child's maps", r);
	if (ret == 0 && r > 0) {
		unsigned long a = r;

		ret = compel_rsys2(&ctx, &r, __NR_munmap, a, 8192);
		check(ret == 0 && r == 0 && maps_has(k.pid, a) == 0, "remote munmap: gone from the maps");
	}

	/* writing a read-only page goes through /proc/PID/mem */
	ret = compel_rsys3(&ctx, &r, __NR_mprotect, ctx.scratch, 4096, PROT_READ);
	{
		char msg[] = "read-only";
		char back[sizeof(msg)] = "";

		ret = ret ?: compel_mem_write(k.pid, ctx.mem_fd, ctx.scratch + 256, msg, sizeof(msg));
		check(ret == 0 && !peek_mem(k.pid, ctx.scratch + 256, back, sizeof(back)) && !strcmp(back, msg),
		      "mem write to a read-only page (%d)", ret);
	}

finish:
	ret = compel_rsys_finish(&ctx);
	check(ret == 0, "rsys finish (%d)", ret);
	{
		compel_regs_t after;

		ret = compel_get_regs(k.pid, &after);
		check(ret == 0 && !memcmp(&after, &regs, sizeof(regs)), "regs are back as before the remote syscalls");
	}
	n = compel_get_pending(k.pid, true, &si);
	found = 0;
	for (int i = 0; i < n; i++)
		found |= si[i].si_signo == SIGUSR1;
	free(si);
	check(found, "SIGUSR1 sent while seized is still pending");
	ret = compel_get_sigmask(k.pid, &mask);
	check(ret == 0 && mask == k.info.blocked, "sigmask is back to the child's");

detach:
	ret = compel_detach(k.pid, state, 0);
	check(ret == 0, "detach (%d)", ret);
	ret = ask(&k, 'p', ctx.syscall_ip, &st);
	check(ret == 0 && st.pid == k.pid, "child runs after detach (restarted read() got the command)");
	check(ret == 0 && !memcmp(st.peek, orig, 3) && memcmp(st.peek, code, 3), "text bytes restored: %02x %02x %02x", st.peek[0], st.peek[1],
	      st.peek[2]);
	check(ret == 0 && st.usr1_count == 1, "SIGUSR1 delivered once after detach (%d)", st.usr1_count);
	check(ret == 0 && st.usr2_handler == k.info.usr2_handler, "SIGUSR2 handler set remotely: %#lx",
	      st.usr2_handler);
	check(ret == 0 && st.trap_handler == (unsigned long)SIG_IGN && (st.trap_flags & SA_RESTART) &&
		      st.trap_mask_usr1 == 1,
	      "SIGTRAP still ignored after more calls (handler %#lx flags %#lx)", st.trap_handler, st.trap_flags);

	/* restore-style: the last syscall stops at syscall exit, then final regs are set */
	ret = wait_in_read(k.pid);
	ret = ret ?: compel_seize_stop(k.pid, &state);
	ret = ret ?: compel_get_regs(k.pid, &regs);
	ret = ret ?: compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_POKE);
	check(ret == 0, "seize again and prepare (%d)", ret);
	if (ret)
		goto out;
	ret = compel_rsys_last(&ctx, &r, __NR_getppid, 0, 0, 0, 0, 0, 0);
	check(ret == 0 && r == getpid(), "last remote syscall getppid = %ld", r);
	{
		compel_regs_t cur;

		compel_get_regs(k.pid, &cur);
		check(cur.rip == ctx.syscall_ip + 2 && cur.orig_rax == __NR_getppid,
		      "left at the syscall-exit stop (rip %#llx)", cur.rip);
	}
	compel_rsys_finish(&ctx);
	fixed = regs;
	check(compel_fixup_syscall_restart(&fixed) == 1, "dumped regs need a read() restart");
	ret = compel_set_regs(k.pid, &fixed);
	ret = ret ?: compel_detach(k.pid, state, 0);
	check(ret == 0, "set fixed-up regs and detach (%d)", ret);
	ret = ask(&k, 'p', ctx.syscall_ip, &st);
	check(ret == 0 && st.pid == k.pid && !memcmp(st.peek, orig, 3),
	      "child's read() restarted from the fixed-up regs; text restored");
	check(ret == 0 && st.trap_handler == (unsigned long)SIG_IGN && (st.trap_flags & SA_RESTART) &&
		      st.trap_mask_usr1 == 1,
	      "ignored SIGTRAP (found at prepare) kept through the last syscall");

	/* ignored before prepare; the interrupted read() must still restart */
	ret = wait_in_read(k.pid);
	ret = ret ?: compel_seize_stop(k.pid, &state);
	ret = ret ?: compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_POKE);
	check(ret == 0, "prepare with SIGTRAP ignored (%d)", ret);
	ret = ret ?: compel_rsys0(&ctx, &r, __NR_getpid);
	ret = compel_rsys_finish(&ctx) ?: ret;
	ret = ret ?: compel_detach(k.pid, state, 0);
	check(ret == 0, "remote getpid, finish, detach (%d)", ret);
	ret = ask(&k, 'i', 0, &st);
	check(ret == 0 && st.pid == k.pid && st.trap_handler == (unsigned long)SIG_IGN &&
		      (st.trap_flags & SA_RESTART) && st.trap_mask_usr1 == 1,
	      "read() restarted and SIGTRAP still ignored after finish");
out:
	check(stop_kid(&k) == 0, "child exits cleanly");
}

static void test_threads(void)
{
	enum compel_task_state state[NR_WORKERS + 1];
	struct compel_rsys ctx;
	struct child_status st;
	int ret, ok = 1, seized = 0;
	struct kid k;
	long r;

	if (start_kid(&k, NR_WORKERS)) {
		check(0, "start a child with %d threads", NR_WORKERS + 1);
		return;
	}
	for (int i = 0; i <= NR_WORKERS; i++) {
		ret = compel_seize_stop(k.info.tids[i], &state[i]);
		if (ret) {
			ok = 0;
			break;
		}
		seized++;
	}
	check(ok, "seized all %d threads", NR_WORKERS + 1);

	for (int i = 0; ok && i <= NR_WORKERS; i++) {
		pid_t tid = k.info.tids[i];
		int good;

		ret = compel_rsys_prepare_flags(&ctx, tid, code_addr(tid), COMPEL_RSYS_POKE);
		good = ret == 0;
		ret = ret ?: compel_rsys0(&ctx, &r, __NR_gettid);
		good = good && ret == 0 && r == tid;
		ret = compel_rsys0(&ctx, &r, __NR_getpid);
		good = good && ret == 0 && r == k.pid;
		ret = compel_rsys_finish(&ctx);
		check(good && ret == 0, "thread %d: remote gettid/getpid = %d/%d", tid, tid, k.pid);
	}
	for (int i = 0; i < seized; i++)
		if (compel_detach(k.info.tids[i], state[i], 0))
			ok = 0;
	check(ok, "detached every thread");
	ret = ask(&k, 'i', 0, &st);
	check(ret == 0 && st.workers_alive, "all worker threads run after detach");
	check(stop_kid(&k) == 0, "threaded child exits cleanly");
}

static void test_stopped(void)
{
	enum compel_task_state state;
	struct compel_rsys ctx;
	struct child_status st;
	int ret, status;
	struct kid k;
	long r = 0;

	if (start_kid(&k, 0)) {
		check(0, "start a child to stop");
		return;
	}
	kill(k.pid, SIGSTOP);
	waitpid(k.pid, &status, WUNTRACED);
	ret = compel_seize_stop(k.pid, &state);
	check(ret == 0 && state == COMPEL_TASK_STOPPED, "seize of a SIGSTOPped child reports it stopped (%d)", state);
	if (ret)
		goto out;
	ret = compel_get_stop_signal(k.pid);
	check(ret == SIGSTOP, "the stop signal is SIGSTOP (%d)", ret);
	ret = compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_POKE);
	ret = ret ?: compel_rsys0(&ctx, &r, __NR_getpid);
	{
		int sig = compel_get_stop_signal(k.pid);

		/* read() is to restart: compel parked the thread in an event stop again */
		check(sig == SIGSTOP, "after a remote syscall, parked in the group stop's event stop (%d)", sig);
	}
	ret = compel_rsys_finish(&ctx) ?: ret;
	check(ret == 0 && r == k.pid, "remote getpid in a stopped child = %ld", r);
	ret = compel_detach(k.pid, state, 0);
	usleep(100000);
	check(ret == 0 && proc_state(k.pid) == 'T', "still stopped after detach (state %c)", proc_state(k.pid));
	kill(k.pid, SIGCONT);
	ret = ask(&k, 'i', 0, &st);
	check(ret == 0 && st.pid == k.pid, "runs after SIGCONT");
out:
	check(stop_kid(&k) == 0, "stopped child exits cleanly");
}


#define ALL_BLOCKED (~0ULL & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1))))

/* A remote rt_sigaction(sig) through the scratch area; *old gets the previous action. */
static int fast_sigaction(struct compel_rsys *ctx, int sig, const struct ksigaction *act, struct ksigaction *old)
{
	long r;
	int ret = 0;

	if (act)
		ret = compel_mem_write(ctx->tid, ctx->mem_fd, ctx->scratch, act, sizeof(*act));
	ret = ret ?: compel_rsys4(ctx, &r, __NR_rt_sigaction, sig, act ? ctx->scratch : 0, ctx->scratch + 64, 8);
	ret = ret ?: (int)r;
	if (!ret && old)
		ret = compel_mem_read(ctx->tid, ctx->mem_fd, ctx->scratch + 64, old, sizeof(*old));
	return ret;
}

/* COMPEL_RSYS_FAST: same results, mask and regs put back at the finish, no signal lost. */
static void test_fast(void)
{
	enum compel_task_state state;
	struct ksigaction ksa, old;
	compel_regs_t regs, cur, fixed;
	struct compel_rsys ctx;
	struct child_status st;
	uint8_t orig[3];
	uint64_t mask;
	int ret, good = 1;
	struct kid k;
	long r;

	if (start_kid(&k, 0)) {
		check(0, "fast: start a child");
		return;
	}
	ret = compel_seize_stop(k.pid, &state);
	ret = ret ?: compel_get_regs(k.pid, &regs);
	check(ret == 0, "fast: seized (%d)", ret);
	if (ret)
		goto out;
	ret = compel_get_stop_signal(k.pid);
	check(ret == SIGTRAP, "a running child's interrupt stop reports SIGTRAP (%d)", ret);
	check(compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), 0x80) == -EINVAL && ctx.mem_fd == -1,
	      "fast: an unknown flag is refused");
	check(compel_rsys_prepare_flags(&ctx, k.pid, 0, COMPEL_RSYS_POKE) == -EINVAL && ctx.mem_fd == -1,
	      "no code address: refused (compel reads no /proc file to find one)");
	/* a SIGTRAP handler, set beforehand, must survive the calls: nothing raises a SIGTRAP */
	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = k.info.usr2_handler;
	ksa.flags = SA_RESTART;
	ret = compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_POKE);
	ret = ret ?: compel_rsys_map_scratch(&ctx, 4096);
	ret = ret ?: fast_sigaction(&ctx, SIGTRAP, &ksa, NULL);
	ret = compel_rsys_finish(&ctx) ?: ret;
	check(ret == 0, "fast: a SIGTRAP handler set (%d)", ret);
	ret = compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_FAST | COMPEL_RSYS_POKE);
	check(ret == 0 && ctx.fast && ctx.mask_set && ctx.saved_mask == k.info.blocked,
	      "fast: prepare saved the mask %#llx", (unsigned long long)ctx.saved_mask);
	if (ret)
		goto out;
	memcpy(orig, ctx.orig, sizeof(orig));
	ret = compel_get_sigmask(k.pid, &mask);
	check(ret == 0 && mask == ALL_BLOCKED, "fast: every signal blocked during the calls (%#llx)",
	      (unsigned long long)mask);

	for (int i = 0; i < 200 && good; i++) {
		ret = compel_rsys0(&ctx, &r, i % 2 ? __NR_gettid : __NR_getpid);
		good = ret == 0 && r == k.pid;
		if (i == 100)
			kill(k.pid, SIGUSR1);	/* arrives between two calls */
	}
	check(good, "fast: 200 remote getpid/gettid right");
	ret = compel_rsys1(&ctx, &r, __NR_close, -1);
	check(ret == 0 && r == -EBADF, "fast: remote close(-1) = %ld", r);
	ret = compel_get_regs(k.pid, &cur);
	check(ret == 0 && cur.rip == ctx.syscall_ip + 2 && cur.rip != regs.rip,
	      "fast: regs are not put back between calls (rip %#llx at the syscall exit)", cur.rip);

	ret = compel_rsys_map_scratch(&ctx, 4096);
	memset(&ksa, 0, sizeof(ksa));	/* back to SIG_DFL */
	ret = ret ?: fast_sigaction(&ctx, SIGTRAP, &ksa, &old);
	check(ret == 0 && old.handler == k.info.usr2_handler, "fast: a SIGTRAP handler survives the calls (%#lx)",
	      old.handler);

	ret = compel_rsys_finish(&ctx);
	check(ret == 0, "fast: finish (%d)", ret);
	ret = compel_get_regs(k.pid, &cur);
	check(ret == 0 && !memcmp(&cur, &regs, sizeof(regs)), "fast: regs back after finish");
	ret = compel_get_sigmask(k.pid, &mask);
	check(ret == 0 && mask == k.info.blocked, "fast: mask back after finish (%#llx)", (unsigned long long)mask);
	ret = compel_detach(k.pid, state, 0);
	ret = ret ?: ask(&k, 'p', ctx.syscall_ip, &st);
	check(ret == 0 && st.pid == k.pid && !memcmp(st.peek, orig, 3), "fast: child runs after detach, text restored");
	check(ret == 0 && st.usr1_count == 1, "fast: SIGUSR1 sent during the calls delivered once (%d)", st.usr1_count);

	/* restore-style: every signal blocked by the caller, then the last call */
	ret = wait_in_read(k.pid);
	ret = ret ?: compel_seize_stop(k.pid, &state);
	ret = ret ?: compel_get_regs(k.pid, &regs);
	ret = ret ?: compel_set_sigmask(k.pid, ~0ULL);
	ret = ret ?: compel_rsys_prepare_flags(&ctx, k.pid, code_addr(k.pid), COMPEL_RSYS_FAST | COMPEL_RSYS_POKE);
	check(ret == 0, "fast: seize again, block all, prepare (%d)", ret);
	if (ret)
		goto out;
	good = 1;
	for (int i = 0; i < 20 && good; i++) {
		ret = compel_rsys0(&ctx, &r, __NR_getppid);
		good = ret == 0 && r == getpid();
		if (i == 10)
			kill(k.pid, SIGUSR1);
	}
	check(good, "fast: 20 remote getppid right");
	ret = compel_rsys_last(&ctx, &r, __NR_getpid, 0, 0, 0, 0, 0, 0);
	check(ret == 0 && r == k.pid, "fast: last remote syscall getpid = %ld", r);
	ret = compel_get_sigmask(k.pid, &mask);
	check(ret == 0 && mask == (~0ULL & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))),
	      "fast: the caller's all-blocked mask is back after the last call (%#llx)", (unsigned long long)mask);
	compel_rsys_finish(&ctx);
	fixed = regs;
	compel_fixup_syscall_restart(&fixed);
	ret = compel_set_regs(k.pid, &fixed);
	ret = ret ?: compel_set_sigmask(k.pid, k.info.blocked);
	ret = ret ?: compel_detach(k.pid, state, 0);
	ret = ret ?: ask(&k, 'i', 0, &st);
	check(ret == 0 && st.pid == k.pid && st.usr1_count == 2,
	      "fast: read() restarted after the last call; the second SIGUSR1 delivered (%d)", st.usr1_count);
out:
	check(stop_kid(&k) == 0, "fast: child exits cleanly");
}


/* ------------------------------------------------------------ tree seize */

enum { T_ROOT, T_C1, T_C1THR, T_C2, T_G, T_TRACED, T_NR };

struct tree_shm {
	pid_t pid[T_NR];
	pid_t zombie;
	volatile unsigned long cnt[T_NR];
};

static struct tree_shm *shm;

static void spin(int idx)
{
	struct timespec ts = { 0, 1000000 };

	for (;;) {
		shm->cnt[idx]++;
		nanosleep(&ts, NULL);
	}
}

static void *c1_thread(void *arg)
{
	shm->pid[T_C1THR] = gettid();
	spin(T_C1THR);
	return NULL;
}

/* root -> c1 (2 threads, a zombie child exited with 5), c2 -> g; optionally a PTRACE_TRACEME child */
static void tree_root(bool traced)
{
	pid_t p;

	shm->pid[T_ROOT] = getpid();
	p = fork();
	if (p == 0) {
		pthread_t t;

		shm->pid[T_C1] = getpid();
		pthread_create(&t, NULL, c1_thread, NULL);
		p = fork();
		if (p == 0)
			_exit(5);
		shm->zombie = p;
		spin(T_C1);
	}
	p = fork();
	if (p == 0) {
		shm->pid[T_C2] = getpid();
		if (fork() == 0) {
			shm->pid[T_G] = getpid();
			spin(T_G);
		}
		spin(T_C2);
	}
	if (traced && fork() == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		shm->pid[T_TRACED] = getpid();
		spin(T_TRACED);
	}
	spin(T_ROOT);
}

static pid_t start_tree(bool traced)
{
	pid_t root;

	memset(shm, 0, sizeof(*shm));
	root = fork();
	if (root == 0)
		tree_root(traced);
	kids[nr_kids++] = root;
	for (int i = 0; i < 400; i++) {
		bool all = shm->zombie && proc_state(shm->zombie) == 'Z';

		for (int j = 0; j < T_NR; j++)
			if (!shm->pid[j] && (j != T_TRACED || traced))
				all = false;
		if (all)
			return root;
		usleep(5000);
	}
	return -1;
}

/* 1 when every listed counter moves within 100ms, 0 when none does, -1 mixed */
static int counters_move(const int *idx, int n)
{
	unsigned long before[T_NR];
	int moved = 0;

	for (int i = 0; i < n; i++)
		before[i] = shm->cnt[idx[i]];
	usleep(100000);
	for (int i = 0; i < n; i++)
		moved += shm->cnt[idx[i]] != before[i];
	return moved == n ? 1 : moved == 0 ? 0 : -1;
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
		;
}

static bool gone_or_zombie(pid_t pid)
{
	char st = proc_state(pid);

	return st == 0 || st == 'Z';
}

static void test_tree(void)
{
	static const int running[] = { T_ROOT, T_C1, T_C1THR, T_G };
	struct pstree t = {};
	struct pstree_item *item, *c1 = NULL, *c2 = NULL, *z = NULL, *g = NULL;
	bool order_ok = true, fds_ok = true;
	int ret, status, idx = 0;
	pid_t root;

	root = start_tree(false);
	if (root < 0) {
		check(0, "start a process tree");
		return;
	}
	kill(shm->pid[T_C2], SIGSTOP);
	for (int i = 0; i < 200 && proc_state(shm->pid[T_C2]) != 'T'; i++)
		usleep(5000);

	ret = collect_and_seize_tree(root, &t);
	check(ret == 0 && t.nr_items == 5 && t.root && t.root->pid == root, "collected the tree: %d tasks (ret %d)",
	      t.nr_items, ret);
	if (ret)
		goto out;
	for_each_pstree_item(&t, item) {
		if (idx++ == 0 && item != t.root)
			order_ok = false;
		if (item->parent) {
			struct pstree_item *p;
			bool before = false;

			for_each_pstree_item(&t, p) {
				if (p == item)
					break;
				if (p == item->parent)
					before = true;
			}
			if (!before || item->ppid != item->parent->pid)
				order_ok = false;
		}
		if (item->proc_dfd < 0 || item->pidfd < 0)
			fds_ok = false;
		if (item->pid == shm->pid[T_C1])
			c1 = item;
		if (item->pid == shm->pid[T_C2])
			c2 = item;
		if (item->pid == shm->pid[T_G])
			g = item;
		if (item->pid == shm->zombie)
			z = item;
	}
	check(order_ok, "items in tree order, root first, ppid = parent's pid");
	check(fds_ok, "every task has proc_dfd and pidfd");
	check(c1 && c1->nr_threads == 2 && c1->threads[0] == c1->pid &&
		      (c1->threads[1] == shm->pid[T_C1THR]) && c1->state == TASK_ALIVE,
	      "c1: 2 threads, alive");
	check(c2 && c2->state == TASK_STOPPED && g && g->parent == c2, "c2: stopped, with its child g");
	check(z && z->state == TASK_DEAD && z->parent == c1 && WIFEXITED(z->exit_code) &&
		      WEXITSTATUS(z->exit_code) == 5,
	      "zombie: TASK_DEAD, exit status %#x", z ? z->exit_code : -1);
	check(t.root->pgid == getpgid(root) && t.root->sid == getsid(root), "root pgid/sid from stat");
	check(counters_move(running, ARRAY_SIZE(running)) == 0, "every thread is frozen");
	check(proc_state(root) == 't' && proc_state(shm->pid[T_C1THR]) == 't', "tasks are in ptrace stops");

	resume_tree(&t);
	pstree_free(&t);
	check(counters_move(running, ARRAY_SIZE(running)) == 1, "every thread runs after resume_tree");
	usleep(50000);
	check(proc_state(shm->pid[T_C2]) == 'T', "c2 is still stopped after resume (state %c)",
	      proc_state(shm->pid[T_C2]));
	kill(shm->pid[T_C2], SIGCONT);

	ret = collect_and_seize_tree(root, &t);
	check(ret == 0 && t.nr_items == 5, "collect again (%d tasks)", t.nr_items);
	if (ret)
		goto out;
	kill_tree(&t);
	pstree_free(&t);
	/* we are the root's parent and its tracer: kill_tree's wait for the tracer reaped it */
	ret = waitpid(root, &status, WNOHANG) < 0 && errno == ECHILD;
	kids[nr_kids - 1] = 0;
	usleep(50000);
	check(ret && !proc_state(root) && gone_or_zombie(shm->pid[T_C1]) && gone_or_zombie(shm->pid[T_C2]) &&
		      gone_or_zombie(shm->pid[T_G]),
	      "kill_tree: every task is dead");
	reap_all();
	return;
out:
	kill_kids();
	reap_all();
}

static void test_tree_errors(void)
{
	static const int running[] = { T_ROOT, T_C1, T_C1THR, T_C2, T_G };
	struct pstree t = {};
	pid_t root;
	int ret;

	ret = collect_and_seize_tree(0x3fffffff, &t);
	check(ret == -ESRCH && t.nr_items == 0, "collect of a missing root: -ESRCH (%d)", ret);

	/* a task traced by someone else can't be seized: collect fails and lets everything go */
	root = start_tree(true);
	if (root < 0) {
		check(0, "start a tree with a traced task");
		return;
	}
	ret = collect_and_seize_tree(root, &t);
	check(ret == -EBUSY && t.nr_items == 0, "collect fails on a task traced by another: -EBUSY, already traced (%d)",
	      ret);
	check(counters_move(running, ARRAY_SIZE(running)) == 1, "after the failure every task runs");
	check(proc_state(root) != 't' && proc_state(shm->pid[T_G]) != 't', "no task left in a ptrace stop");
	kill_kids();
	kill(shm->pid[T_C1], SIGKILL);
	kill(shm->pid[T_C2], SIGKILL);
	kill(shm->pid[T_G], SIGKILL);
	kill(shm->pid[T_TRACED], SIGKILL);
	usleep(50000);
	reap_all();
}

/* ------------------------------------------------------------ core dump */

struct core_info {
	pid_t pid;
	unsigned long usr1_handler;
	unsigned long after_syscall;	/* rip of the thread stopped in our read() */
	unsigned long sas_sp, sas_size;
	unsigned long tid_addr;
	unsigned long robust_head, robust_len;
	unsigned long nofile_cur;
	unsigned int pers;
	int avx;
};

static const uint8_t ymm_pattern[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
					 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0 };
extern char core_test_after_syscall[];

/* read(fd, buf, 1) with ymm15 (or xmm15) holding the pattern, in one asm block */
static long read_with_pattern(int fd, void *buf, int avx)
{
	long ret;

	if (avx)
		__asm__ volatile("vmovdqu (%[p]), %%ymm15\n\t"
				 "syscall\n\t"
				 ".globl core_test_after_syscall\n"
				 "core_test_after_syscall:\n\t"
				 : "=a"(ret)
				 : "a"((long)__NR_read), "D"((long)fd), "S"(buf), "d"(1L), [p] "r"(ymm_pattern)
				 : "rcx", "r11", "memory", "xmm15");
	else
		__asm__ volatile("movdqu (%[p]), %%xmm15\n\t"
				 "syscall\n\t"
				 : "=a"(ret)
				 : "a"((long)__NR_read), "D"((long)fd), "S"(buf), "d"(1L), [p] "r"(ymm_pattern)
				 : "rcx", "r11", "memory", "xmm15");
	return ret;
}

static void core_child(int ctl, int resp)
{
	struct sigaction sa = { .sa_handler = usr1_handler, .sa_flags = SA_RESTART | SA_ONSTACK };
	static char altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct core_info ci = {};
	struct rlimit rl;
	union sigval v = { .sival_int = 77 };
	sigset_t set;
	char cmd;

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	sigaltstack(&ss, NULL);
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_NAME, "core-kid");
	personality(ADDR_NO_RANDOMIZE);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 123;
	setrlimit(RLIMIT_NOFILE, &rl);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigqueue(getpid(), SIGRTMIN + 2, v);
	{
		struct itimerval it = { .it_interval = { 7, 5 }, .it_value = { 100, 0 } };
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
		struct itimerspec its = { .it_interval = { 3, 9 }, .it_value = { 50, 0 } };
		timer_t tid;

		setitimer(ITIMER_REAL, &it, NULL);
		sev.sigev_value.sival_ptr = (void *)0x1234;
		if (timer_create(CLOCK_MONOTONIC, &sev, &tid) || timer_settime(tid, 0, &its, NULL))
			_exit(7);
	}

	ci.pid = getpid();
	ci.usr1_handler = (unsigned long)usr1_handler;
	ci.sas_sp = (unsigned long)altstack;
	ci.sas_size = sizeof(altstack);
	prctl(PR_GET_TID_ADDRESS, &ci.tid_addr);
	syscall(SYS_get_robust_list, 0, &ci.robust_head, &ci.robust_len);
	ci.nofile_cur = 123;
	ci.pers = personality(0xffffffff);
	ci.avx = __builtin_cpu_supports("avx");
	ci.after_syscall = ci.avx ? (unsigned long)core_test_after_syscall : 0;
	if (write(resp, &ci, sizeof(ci)) != sizeof(ci))
		_exit(1);
	if (read_with_pattern(ctl, &cmd, ci.avx) != 1 || cmd != 'i')
		_exit(2);
	child_loop(ctl, resp, 0, cmd);
}

static CoreEntry *read_core(int dfd, pid_t tid)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, tid);
	CoreEntry *core = NULL;

	if (!img)
		return NULL;
	if (pb_read_one(img, (void **)&core, PB_CORE))
		core = NULL;
	close_image(img);
	return core;
}

static int make_img_dir(char *path)
{
	strcpy(path, "/tmp/test-compel-XXXXXX");
	if (!mkdtemp(path))
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void rm_img_dir(const char *path, int dfd)
{
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dfd, de->d_name, 0);
	if (d)
		closedir(d);
	close(dfd);
	rmdir(path);
}

static uint64_t siginfo_value(const SignalQueueEntry *q, int signo)
{
	for (size_t i = 0; q && i < q->n_signals; i++) {
		siginfo_t si;

		if (q->signals[i]->siginfo.len != sizeof(si))
			continue;
		memcpy(&si, q->signals[i]->siginfo.data, sizeof(si));
		if (si.si_signo == signo)
			return si.si_value.sival_int;
	}
	return 0;
}

static void check_core_single(CoreEntry *c, const struct core_info *ci)
{
	UserX86RegsEntry *g;
	TaskCoreEntry *tc;
	ThreadCoreEntry *th;
	SaEntry *sa_usr1 = NULL, *sa_usr2 = NULL;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2] = {};
	int idx = 0;

	syscall(SYS_capget, &hdr, caps);

	check(c && c->mtype == CORE_ENTRY__MARCH__X86_64 && c->thread_info && c->thread_info->gpregs &&
		      c->thread_info->fpregs && c->tc && c->thread_core,
	      "core image read back: x86_64, thread_info, tc, thread_core");
	if (!c || !c->thread_info || !c->tc || !c->thread_core)
		return;
	g = c->thread_info->gpregs;
	tc = c->tc;
	th = c->thread_core;
	/* as CRIU writes them: the interrupted read() set to run again (ip on the syscall insn, ax its number) */
	check(!ci->avx || g->ip == ci->after_syscall - 2,
	      "gpregs ip %#llx = the child's syscall instruction (after-syscall label %#lx - 2)", (unsigned long long)g->ip,
	      ci->after_syscall);
	check(g->orig_ax == __NR_read && g->ax == __NR_read, "gpregs: orig_ax read, ax read (the syscall restarted)");
	check(!memcmp(c->thread_info->fpregs->xmm_space + 15 * 4, ymm_pattern, 16) &&
		      c->thread_info->fpregs->n_xmm_space == 64,
	      "fpregs: xmm15 holds the pattern");
	if (ci->avx) {
		UserX86XsaveEntry *x = c->thread_info->fpregs->xsave;

		check(x && x->n_ymmh_space == 64 && !memcmp(x->ymmh_space + 15 * 4, ymm_pattern + 16, 16) &&
			      (x->xstate_bv & 4),
		      "xsave: upper half of ymm15 in ymmh_space, xstate_bv %#llx",
		      x ? (unsigned long long)x->xstate_bv : 0ULL);
	}
	check(c->thread_info->clear_tid_addr == ci->tid_addr, "clear_tid_addr %#llx = %#lx",
	      (unsigned long long)c->thread_info->clear_tid_addr, ci->tid_addr);

	check(tc->task_state == TASK_ALIVE && tc->exit_code == 0, "tc: alive");
	check(!strcmp(tc->comm, "core-kid") && th->comm && !strcmp(th->comm, "core-kid"), "comm '%s'", tc->comm);
	check(tc->personality == ci->pers, "personality %#x = %#x", tc->personality, ci->pers);
	check(tc->n_sigactions == 62, "62 sigactions (%zu)", tc->n_sigactions);
	for (int sig = 1; sig <= 64 && idx < (int)tc->n_sigactions; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sig == SIGUSR1)
			sa_usr1 = tc->sigactions[idx];
		if (sig == SIGUSR2)
			sa_usr2 = tc->sigactions[idx];
		idx++;
	}
	check(sa_usr1 && sa_usr1->sigaction == ci->usr1_handler && (sa_usr1->flags & SA_RESTART) &&
		      (sa_usr1->flags & SA_ONSTACK) && sa_usr1->restorer,
	      "SIGUSR1 action: handler %#llx = child's %#lx, SA_RESTART|SA_ONSTACK, restorer set",
	      sa_usr1 ? (unsigned long long)sa_usr1->sigaction : 0ULL, ci->usr1_handler);
	check(sa_usr2 && sa_usr2->sigaction == (uint64_t)(uintptr_t)SIG_IGN, "SIGUSR2 action: SIG_IGN");
	check(tc->rlimits && tc->rlimits->n_rlimits == 16 && tc->rlimits->rlimits[RLIMIT_NOFILE]->cur == 123,
	      "rlimits: 16, RLIMIT_NOFILE cur 123");
	check(tc->has_child_subreaper && tc->child_subreaper, "child_subreaper set");
	check(siginfo_value(tc->signals_s, SIGRTMIN + 2) == 77, "shared pending SIGRTMIN+2 with value 77");
	check(!!(tc->blk_sigset & (1ULL << (SIGRTMIN + 2 - 1))), "blk_sigset %#llx has SIGRTMIN+2",
	      (unsigned long long)tc->blk_sigset);
	check(tc->has_oom_score_adj && tc->has_loginuid, "oom_score_adj %d, loginuid %u", tc->oom_score_adj,
	      tc->loginuid);

	check(tc->timers && tc->timers->real->isec == 7 && tc->timers->real->iusec == 5 &&
		      tc->timers->real->vsec >= 90 && tc->timers->real->vsec < 100 && !tc->timers->virt->vsec &&
		      !tc->timers->prof->vsec,
	      "itimers: real interval 7s 5us, value %llus", tc->timers ? (unsigned long long)tc->timers->real->vsec : 0ULL);
	check(tc->timers && tc->timers->n_posix == 1 && tc->timers->posix[0]->si_signo == SIGUSR2 &&
		      tc->timers->posix[0]->sival_ptr == 0x1234 && tc->timers->posix[0]->clock_id == CLOCK_MONOTONIC &&
		      tc->timers->posix[0]->it_sigev_notify == SIGEV_SIGNAL && tc->timers->posix[0]->isec == 3 &&
		      tc->timers->posix[0]->insec == 9 && tc->timers->posix[0]->vsec >= 40 &&
		      tc->timers->posix[0]->vsec < 50,
	      "posix timer: SIGUSR2, value 0x1234, CLOCK_MONOTONIC, interval 3s 9ns, %llus left",
	      tc->timers && tc->timers->n_posix ? (unsigned long long)tc->timers->posix[0]->vsec : 0ULL);
	check(th->sas && th->sas->ss_sp == ci->sas_sp && th->sas->ss_size == ci->sas_size,
	      "sigaltstack %#llx/%llu", th->sas ? (unsigned long long)th->sas->ss_sp : 0ULL,
	      th->sas ? (unsigned long long)th->sas->ss_size : 0ULL);
	check(th->futex_rla == ci->robust_head && th->futex_rla_len == ci->robust_len, "robust list %#llx/%u",
	      (unsigned long long)th->futex_rla, th->futex_rla_len);
	check(th->has_pdeath_sig && th->pdeath_sig == SIGHUP, "pdeath_sig SIGHUP");
	check(th->has_blk_sigset && th->blk_sigset == tc->blk_sigset, "thread blk_sigset");
	check(th->creds && th->creds->uid == getuid() && th->creds->n_cap_eff == 2 &&
		      th->creds->cap_eff[0] == caps[0].effective && th->creds->cap_eff[1] == caps[1].effective &&
		      th->creds->n_groups == (size_t)getgroups(0, NULL),
	      "creds: uid %u, %zu cap words, %zu groups (getgroups %d)", th->creds ? th->creds->uid : 0,
	      th->creds ? th->creds->n_cap_eff : 0, th->creds ? th->creds->n_groups : 0, getgroups(0, NULL));
	check(th->rseq_entry && th->rseq_entry->rseq_abi_pointer && th->rseq_entry->signature == 0x53053053,
	      "rseq registration");
}

static void test_core(void)
{
	char dir[64];
	struct core_info ci;
	struct child_status st;
	struct pstree t = {};
	struct kid k = {};
	int c[2], r[2], dfd, ret;
	CoreEntry *core;

	dfd = make_img_dir(dir);
	if (dfd < 0 || pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC)) {
		check(0, "image dir and pipes");
		return;
	}
	k.pid = fork();
	if (k.pid == 0) {
		close(c[1]);
		close(r[0]);
		core_child(c[0], r[1]);
		_exit(0);
	}
	kids[nr_kids++] = k.pid;
	close(c[0]);
	close(r[1]);
	k.ctl = c[1];
	k.resp = r[0];
	if (read(k.resp, &ci, sizeof(ci)) != sizeof(ci) || wait_in_read(k.pid)) {
		check(0, "core child started");
		return;
	}
	ret = collect_and_seize_tree(k.pid, &t);
	check(ret == 0 && t.nr_items == 1, "seize the core child (%d)", ret);
	if (ret)
		return;
	ret = dump_task_core(dfd, t.root);
	check(ret == 0, "dump_task_core (%d)", ret);
	resume_tree(&t);
	pstree_free(&t);

	core = read_core(dfd, k.pid);
	check_core_single(core, &ci);
	if (core)
		pb_free(core, PB_CORE);

	ret = ask(&k, 'i', 0, &st);
	check(ret == 0 && st.pid == k.pid && st.usr1_count == 0, "core child runs on after the dump");
	kill(k.pid, SIGUSR1);
	ret = ask(&k, 'i', 0, &st);
	check(ret == 0 && st.usr1_count == 1, "its SIGUSR1 handler still works (on the altstack)");
	check(stop_kid(&k) == 0, "core child exits cleanly");
	rm_img_dir(dir, dfd);
}

/* every task of a tree: one core per thread, tc only in the leader's, zombie and stopped states */
static void test_core_tree(void)
{
	struct pstree t = {};
	struct pstree_item *item;
	char dir[64];
	int dfd, ret, bad = 0, nr_cores = 0;
	pid_t root;

	dfd = make_img_dir(dir);
	root = start_tree(false);
	if (dfd < 0 || root < 0) {
		check(0, "image dir and a tree");
		return;
	}
	kill(shm->pid[T_C2], SIGSTOP);
	for (int i = 0; i < 200 && proc_state(shm->pid[T_C2]) != 'T'; i++)
		usleep(5000);
	ret = collect_and_seize_tree(root, &t);
	check(ret == 0, "seize the tree for a core dump (%d)", ret);
	if (ret)
		goto out;
	for_each_pstree_item(&t, item)
		if (dump_task_core(dfd, item))
			bad++;
	check(!bad, "dump_task_core of every task");
	for_each_pstree_item(&t, item) {
		for (int i = 0; i < item->nr_threads; i++) {
			CoreEntry *c = read_core(dfd, item->threads[i]);
			bool ok;

			if (!c) {
				bad++;
				continue;
			}
			nr_cores++;
			if (item->state == TASK_DEAD)
				ok = c->tc && c->tc->task_state == TASK_DEAD && c->tc->exit_code == 0x500 &&
				     !c->thread_info;
			else if (i == 0)
				ok = c->tc && c->tc->task_state == item->state && c->thread_info && c->thread_core;
			else
				ok = !c->tc && c->thread_info && c->thread_info->gpregs && c->thread_core &&
				     c->thread_core->comm && c->thread_core->has_blk_sigset;
			if (!ok) {
				printf("# bad core for %d/%d\n", item->pid, item->threads[i]);
				bad++;
			}
			pb_free(c, PB_CORE);
		}
	}
	check(!bad && nr_cores == 6, "6 cores read back: zombie DEAD/0x500, c2 STOPPED, thread without tc (%d bad)",
	      bad);
	kill_tree(&t);
	pstree_free(&t);
	kids[nr_kids - 1] = 0;
	reap_all();
out:
	rm_img_dir(dir, dfd);
}

/* ------------------------------------------------------------ a changing tree */

static void *short_thread(void *arg)
{
	return NULL;
}

/* threads that keep creating threads, and children that come and go (auto-reaped) */
static void *spawner(void *arg)
{
	for (;;) {
		pthread_t t;

		if (!pthread_create(&t, NULL, short_thread, NULL))
			pthread_detach(t);
	}
	return NULL;
}

static void churn_main(void)
{
	pthread_t t;

	signal(SIGCHLD, SIG_IGN);
	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, spawner, NULL);
	for (;;) {
		pid_t p = fork();

		if (p == 0) {
			usleep(2000);
			_exit(0);
		}
		usleep(500);
	}
}

static int task_tids(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max)
		if (de->d_name[0] != '.')
			tids[n++] = atoi(de->d_name);
	closedir(d);
	return n;
}

static void test_tree_churn(void)
{
	struct pstree t = {};
	struct pstree_item *item;
	int ok_all = 0, runs = 5;
	pid_t root;

	root = fork();
	if (root == 0)
		churn_main();
	kids[nr_kids++] = root;
	usleep(100000);
	for (int run = 0; run < runs; run++) {
		int ret = collect_and_seize_tree(root, &t);
		bool ok = ret == 0;
		int nr_tasks = t.nr_items;

		for_each_pstree_item(&t, item) {
			static pid_t tids[8192];
			int n;

			if (!ok || item->state == TASK_DEAD)
				continue;
			/* frozen: every thread /proc lists now must be one we hold, in a ptrace stop */
			n = task_tids(item->pid, tids, 8192);
			if (n != item->nr_threads) {
				printf("# churn run %d: task %d: /proc lists %d threads, %d held\n", run, item->pid, n,
				       item->nr_threads);
				ok = false;
			}
			for (int i = 0; i < n; i++) {
				bool have = false;

				for (int j = 0; j < item->nr_threads; j++)
					have |= item->threads[j] == tids[i];
				if (!have || proc_state(tids[i]) != 't') {
					printf("# churn run %d: thread %d: %s, state %c\n", run, tids[i],
					       have ? "held" : "not held", proc_state(tids[i]) ?: '-');
					ok = false;
				}
			}
		}
		if (ok) {
			ok_all++;
			printf("# churn run %d: %d tasks, root %d threads\n", run, nr_tasks, t.root->nr_threads);
		} else {
			printf("# churn run %d: ret %d\n", run, ret);
		}
		resume_tree(&t);
		pstree_free(&t);
		usleep(20000);
	}
	check(ok_all == runs, "seize a tree that keeps creating threads and children: %d/%d runs complete",
	      ok_all, runs);
	check(proc_state(root) != 't' && proc_state(root) != 0, "the churning root runs on (state %c)",
	      proc_state(root));
	kill_kids();
	reap_all();
}

/*
 * a thread in seccomp strict mode: the dump (remote syscalls, which strict mode would
 * kill it for, run with its seccomp suspended) records the mode and leaves it working
 */
static void strict_child(int ctl, int resp)
{
	char c;

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		_exit(5);
	for (;;) {
		if (syscall(SYS_read, ctl, &c, 1) != 1)
			syscall(SYS_exit, 3);
		if (c == 'q')
			syscall(SYS_exit, 0);
		syscall(SYS_write, resp, &c, 1);
	}
}

static void test_core_seccomp(void)
{
	struct pstree t = {};
	int c[2], r[2], dfd, ret, status;
	char dir[64], x = 'x', back = 0;
	CoreEntry *core;
	pid_t pid;

	dfd = make_img_dir(dir);
	if (dfd < 0 || pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC)) {
		check(0, "image dir and pipes");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(c[1]);
		close(r[0]);
		strict_child(c[0], r[1]);
	}
	kids[nr_kids++] = pid;
	close(c[0]);
	close(r[1]);
	ret = wait_in_read(pid);
	ret = ret ?: collect_and_seize_tree(pid, &t);
	check(ret == 0, "seize a child in seccomp strict mode (%d)", ret);
	if (ret)
		goto out;
	ret = dump_task_core(dfd, t.root);
	check(ret == 0, "dump_task_core of a strict-mode task (%d)", ret);
	resume_tree(&t);
	pstree_free(&t);
	core = read_core(dfd, pid);
	check(core && core->thread_core && core->thread_core->has_seccomp_mode &&
		      core->thread_core->seccomp_mode == SECCOMP_MODE__strict && !core->thread_core->has_seccomp_filter,
	      "the core says strict mode, no filter");
	if (core)
		pb_free(core, PB_CORE);
	ret = write(c[1], &x, 1) == 1 && read(r[0], &back, 1) == 1 && back == 'x';
	check(ret, "the strict-mode child survived and still answers");
	x = 'q';
	ret = write(c[1], &x, 1) == 1 && waitpid(pid, &status, 0) == pid;
	check(ret && WIFEXITED(status) && WEXITSTATUS(status) == 0, "it exits cleanly (status %#x)", status);
	kids[nr_kids - 1] = 0;
out:
	close(c[1]);
	close(r[0]);
	rm_img_dir(dir, dfd);
}

/* a vfork parent can't be stopped until its child execs or exits: collect must not hang */
static void test_vfork_timeout(void)
{
	struct timespec a, b;
	struct pstree t = {};
	int *vchild = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t root;
	long ms;
	int ret;

	root = fork();
	if (root == 0) {
		pid_t v = vfork();

		if (v == 0) {
			*vchild = getpid();
			sleep(30);
			_exit(0);
		}
		_exit(0);
	}
	kids[nr_kids++] = root;
	for (int i = 0; i < 200 && !*vchild; i++)
		usleep(5000);
	usleep(50000);
	int saved_timeout = opts.timeout;

	opts.timeout = 1;	/* --timeout: the seize sets compel's stop timeout from what is left of it */
	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = collect_and_seize_tree(root, &t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	opts.timeout = saved_timeout;
	compel_set_stop_timeout(10000);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	check(ret == -ETIMEDOUT && t.nr_items == 0 && ms < 3000,
	      "collect of a vfork parent gives -ETIMEDOUT after %ld ms (%d)", ms, ret);
	check(*vchild > 0 && proc_state(*vchild) == 'S', "the vfork child was not touched (state %c)",
	      proc_state(*vchild));
	kill(*vchild, SIGKILL);
	kill_kids();
	reap_all();
	munmap(vchild, 4096);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	compel_log_init(log_to_stderr);
	atexit(kill_kids);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	test_restart_fixup();
	test_errors();
	test_single();
	test_threads();
	test_stopped();
	test_fast();

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return 1;
	test_tree();
	test_tree_errors();
	test_tree_churn();
	test_vfork_timeout();
	test_core();
	test_core_tree();
	test_core_seccomp();

	printf("1..%d\n", nr_test);
	printf("# %d of %d failed\n", nr_fail, nr_test);
	return nr_fail ? 1 : 0;
}
