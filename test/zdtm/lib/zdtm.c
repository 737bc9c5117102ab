// SPDX-License-Identifier: GPL-2.0
/*
 * zdtm test library: start-up, readiness handshake, SIGTERM wait, verdict.
 *
 * Handshake with the runner: the runner starts the test binary (the
 * "launcher"); test_init() forks the real test, which becomes a session
 * leader. When the test calls test_daemon() it writes the pidfile and sends
 * SIGUSR1 to the launcher, which then exits 0. The runner reads the pidfile
 * once the launcher has exited. The test holds no extra fd for any of this,
 * so the dumped process tree contains only what the test itself set up.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char *pidfile;
static const char *outfile;
static bool shell_job;		/* --shell-job: a job of the shell that owns fd 0's terminal */
static pid_t launcher_pid;	/* 0 in foreground mode */
static pid_t test_root_pid;
static bool failed;

static void usage_exit(const char *prog, const char *bad)
{
	fprintf(stderr, "%s: unknown argument '%s'\n", prog, bad);
	fprintf(stderr, "usage: %s [--pidfile=FILE --outfile=FILE [--shell-job]]\n", prog);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--pidfile=", 10) && argv[i][10])
			pidfile = argv[i] + 10;
		else if (!strncmp(argv[i], "--outfile=", 10) && argv[i][10])
			outfile = argv[i] + 10;
		else if (!strcmp(argv[i], "--shell-job"))
			shell_job = true;
		else
			usage_exit(argv[0], argv[i]);
	}
	if (pidfile && !outfile) {
		fprintf(stderr, "%s: --pidfile needs --outfile\n", argv[0]);
		exit(2);
	}
}

static void write_verdict(const char *line)
{
	size_t len = strlen(line);
	int fd;

	if (!outfile) {
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	fd = open(outfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		dprintf(2, "[%d] cannot open %s: %m\n", getpid(), outfile);
		return;
	}
	/* one write with O_APPEND: lines from several processes never mix */
	if (write(fd, line, len) != (ssize_t)len)
		dprintf(2, "[%d] short write to %s\n", getpid(), outfile);
	close(fd);
}

/* The launcher: wait for SIGUSR1 from the test or for its death. */
static void __attribute__((noreturn)) launcher_wait(pid_t child)
{
	sigset_t set;
	siginfo_t si;
	char buf[64], line[160];
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0) {
			if (errno == EINTR)
				continue;
			perror("sigwaitinfo");
			_exit(1);
		}
		if (si.si_signo == SIGUSR1 && si.si_pid == child)
			_exit(0);
		if (si.si_signo != SIGCHLD)
			continue;
		if (waitpid(child, &status, WNOHANG) != child)
			continue;
		snprintf(line, sizeof(line), "FAIL: test %s before test_daemon()\n",
			 test_status_str(status, buf, sizeof(buf)));
		write_verdict(line);
		_exit(1);
	}
}

/*
 * --shell-job: stay in the session of the runner (the "shell", whose
 * controlling terminal is on fd 0) and be a job of it, as a shell starts one:
 * a process group of our own that is the terminal's foreground group. Called
 * with SIGTTOU blocked, so that tcsetpgrp() from a background group is allowed.
 * Returns 0, or -1 with errno set.
 */
static int become_foreground_job(void)
{
	if (setpgid(0, 0) < 0)
		return -1;
	if (tcsetpgrp(0, getpgrp()) < 0)
		return -1;
	return 0;
}

void test_init(int argc, char **argv)
{
	sigset_t set, daemon_set;
	pid_t pid;
	int fd;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IONBF, 0);

	/* SIGTERM is only ever consumed by test_waitsig() */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigprocmask");
		exit(1);
	}
	test_root_pid = getpid();
	if (outfile) {
		fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "cannot create %s: %m\n", outfile);
			exit(1);
		}
		close(fd);
	}
	if (!pidfile)
		return;

	if (sigprocmask(SIG_BLOCK, NULL, &daemon_set) < 0) {
		perror("sigprocmask");
		exit(1);
	}
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTTOU);	/* for tcsetpgrp() in become_foreground_job() */
	signal(SIGCHLD, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigprocmask");
		exit(1);
	}
	launcher_pid = getpid();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid > 0)
		launcher_wait(pid);

	/* the test proper: own session (or own job), only SIGTERM blocked */
	if (shell_job ? become_foreground_job() : setsid() < 0) {
		perror(shell_job ? "--shell-job" : "setsid");
		exit(1);
	}
	if (sigprocmask(SIG_SETMASK, &daemon_set, NULL) < 0) {
		perror("sigprocmask");
		exit(1);
	}
	test_root_pid = getpid();
}

static int write_pidfile(pid_t pid)
{
	char tmp[4096];
	int fd, len;

	len = snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
	if (len < 0 || len >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%d\n", pid) < 0) {
		close(fd);
		return -EIO;
	}
	if (close(fd) < 0 || rename(tmp, pidfile) < 0)
		return -errno;
	return 0;
}

void test_daemon(void)
{
	test_daemon_pid(getpid());
}

void test_set_root(void)
{
	test_root_pid = getpid();
}

void test_daemon_pid(pid_t pid)
{
	int ret;

	if (getpid() != test_root_pid) {
		fail("test_daemon() called from a child (pid %d)", getpid());
		exit(1);
	}
	if (!launcher_pid) {
		test_msg("ready: send SIGTERM to %d to finish the test\n", pid);
		return;
	}
	ret = write_pidfile(pid);
	if (ret < 0) {
		errno = -ret;
		fail("cannot write pidfile %s", pidfile);
		exit(1);
	}
	if (kill(launcher_pid, SIGUSR1) < 0) {
		fail("cannot signal the launcher %d", launcher_pid);
		exit(1);
	}
}

void test_waitsig(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	while (sigwaitinfo(&set, NULL) < 0) {
		if (errno != EINTR) {
			fail("sigwaitinfo(SIGTERM)");
			return;
		}
	}
}

void pass(void)
{
	if (getpid() != test_root_pid) {
		/* the verdict is the root's: a child reports by its exit status */
		test_msg("pass() in a child is ignored\n");
		return;
	}
	if (failed) {
		test_msg("pass() after fail(): the verdict stays FAIL\n");
		return;
	}
	test_msg("PASS\n");
	write_verdict("PASS\n");
}

void zdtm_fail(const char *file, int line, int err, const char *fmt, ...)
{
	char msg[1024], out[1300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err)
		snprintf(out, sizeof(out), "FAIL: %s:%d: %s (errno %d: %s)\n", file, line, msg, err,
			 strerror(err));
	else
		snprintf(out, sizeof(out), "FAIL: %s:%d: %s\n", file, line, msg);
	failed = true;
	dprintf(2, "[%d] %s", getpid(), out);
	write_verdict(out);
}

void test_msg(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(2, "[%d] %s", getpid(), msg);
}

bool test_failed(void)
{
	return failed;
}

int test_vmflag(const void *addr, const char *flag)
{
	char line[1024];
	FILE *f = fopen("/proc/self/smaps", "re");
	bool in = false;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char *p;

		if (strncmp(line, "VmFlags:", 8)) {
			/* a header line: "start-end perms ..." */
			if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, ':') > strchr(line, ' '))
				in = s <= (unsigned long)addr && (unsigned long)addr < e;
			continue;
		}
		if (!in)
			continue;
		ret = 0;
		for (p = line + 8; (p = strstr(p, flag)); p += 2)
			if (p[-1] == ' ' && (p[2] == ' ' || p[2] == '\n' || !p[2]))
				ret = 1;
		break;
	}
	fclose(f);
	return ret;
}

long test_smaps_kb(const void *addr, const char *key)
{
	char line[1024];
	FILE *f = fopen("/proc/self/smaps", "re");
	size_t klen = strlen(key);
	bool in = false;
	long ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, ' ') < strchr(line, ':')) {
			in = s <= (unsigned long)addr && (unsigned long)addr < e;
			continue;
		}
		if (in && !strncmp(line, key, klen) && line[klen] == ':') {
			ret = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return ret;
}

long long test_map_blocks(const void *addr)
{
	char line[512], path[96];
	FILE *f = fopen("/proc/self/maps", "re");
	long long ret = -ENOENT;
	struct stat st;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) != 2 || s > (unsigned long)addr || (unsigned long)addr >= e)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", s, e);
		ret = stat(path, &st) ? -errno : (long long)st.st_blocks;
		break;
	}
	fclose(f);
	return ret;
}

int fdinfo_get_long(int fd, const char *key, long long *ret_val)
{
	char path[64], buf[8192], *p, *end;
	size_t klen = strlen(key);
	ssize_t n, total = 0;
	int dfd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	while (total < (ssize_t)sizeof(buf) - 1) {
		n = read(dfd, buf + total, sizeof(buf) - 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(dfd);
	buf[total] = '\0';
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		errno = 0;
		*ret_val = strtoll(p + klen + 1, &end, 0);
		if (errno || end == p + klen + 1)
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

int test_wait_child(pid_t pid, int timeout_sec, int *ret_status)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	long loops = timeout_sec * 100L;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, ret_status, WNOHANG);
		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (loops-- <= 0)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

const char *test_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

int sys_pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

int pidfd_remember(int fd, pid_t pid, const char *what, struct pidfd_state *ret)
{
	ret->fd = fd;
	ret->pid = pid;
	ret->what = what;
	ret->fl = fcntl(fd, F_GETFL);
	ret->fdfl = fcntl(fd, F_GETFD);
	if (ret->fl < 0 || ret->fdfl < 0) {
		fail("%s: fcntl on fd %d", what, fd);
		return -1;
	}
	/* the state must pass its own checks before the dump */
	return pidfd_check(ret);
}

static int pidfd_ino_matches(const struct pidfd_state *st)
{
	struct stat mine, fresh;
	int fd;

	if (fstat(st->fd, &mine)) {
		fail("%s: fstat", st->what);
		return -1;
	}
	/* a thread pidfd (PIDFD_THREAD == O_EXCL) is compared with a fresh thread pidfd */
	fd = sys_pidfd_open(st->pid, st->fl & O_EXCL);
	if (fd < 0) {
		fail("%s: pidfd_open(%d)", st->what, st->pid);
		return -1;
	}
	if (fstat(fd, &fresh)) {
		fail("%s: fstat of a fresh pidfd", st->what);
		close(fd);
		return -1;
	}
	close(fd);
	if (mine.st_ino != fresh.st_ino || mine.st_dev != fresh.st_dev) {
		errno = 0;
		fail("%s: inode %llu, a fresh pidfd_open(%d) has %llu", st->what,
		     (unsigned long long)mine.st_ino, st->pid, (unsigned long long)fresh.st_ino);
		return -1;
	}
	return 0;
}

int pidfd_check(const struct pidfd_state *st)
{
	char path[64], link[64];
	long long pid = 0;
	ssize_t n;
	int ret = 0, err;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", st->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fail("%s: fd %d is not open", st->what, st->fd);
		return -1;
	}
	link[n] = '\0';
	errno = 0;
	if (strcmp(link, "anon_inode:[pidfd]")) {
		fail("%s: fd %d is '%s', not a pidfd", st->what, st->fd, link);
		return -1;
	}
	if (fcntl(st->fd, F_GETFL) != st->fl || fcntl(st->fd, F_GETFD) != st->fdfl) {
		fail("%s: flags %o/%o, expected %o/%o", st->what, fcntl(st->fd, F_GETFL),
		     fcntl(st->fd, F_GETFD), st->fl, st->fdfl);
		ret = -1;
	}
	err = fdinfo_get_long(st->fd, "Pid", &pid);
	if (err) {
		errno = -err;
		fail("%s: no Pid in fdinfo", st->what);
		ret = -1;
	} else if (pid != st->pid) {
		errno = 0;
		fail("%s: fdinfo Pid %lld, expected %d", st->what, pid, st->pid);
		ret = -1;
	}
	if (sys_pidfd_send_signal(st->fd, 0, NULL, 0)) {
		fail("%s: pidfd_send_signal(0)", st->what);
		ret = -1;
	}
	if (pidfd_ino_matches(st))
		ret = -1;
	return ret;
}

pid_t test_start_outsider(void)
{
	int p[2];
	pid_t mid, out = -1;

	if (pipe(p))
		return -1;
	mid = fork();
	if (mid == 0) {
		pid_t o = fork();

		if (o == 0) {
			setsid();
			alarm(120);	/* never outlive a broken run by much */
			for (;;)
				pause();
		}
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			_exit(1);
		_exit(0);
	}
	if (read(p[0], &out, sizeof(out)) != sizeof(out))
		out = -1;
	waitpid(mid, NULL, 0);
	close(p[0]);
	close(p[1]);
	return out;
}

static uint64_t pattern_word(size_t i, uint64_t tag)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ tag;
}

void pattern_fill(void *p, size_t len, uint64_t tag)
{
	uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = pattern_word(i, tag);
}

long pattern_check(const void *p, size_t len, uint64_t tag)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(i, tag))
			return (long)i;
	return -1;
}
