// SPDX-License-Identifier: GPL-2.0
/*
 * test-security-fail: a restore whose creds or seccomp filters can't be
 * restored fails before the tree is let go, and leaves nothing running. A
 * tree of two processes (P under an "allow" seccomp filter and
 * no_new_privs, with a second thread; its child C, which inherits the
 * filter) is dumped; seccomp.img must hold the filter they share once. Then
 * restores that must fail: with seccomp.img edited so that the filter is one
 * the kernel rejects (a load outside struct seccomp_data: seccomp() fails
 * in the morph), by a criu whose bounding set lacks CAP_SYS_TIME, which the
 * tasks hold (their capset fails in the morph), and by a criu that runs
 * under a seccomp filter itself (every restored task would inherit it:
 * refused before anything starts). Each time criu must exit 1 naming what
 * failed, the tree's pids must be free and no criu or stub process left.
 * Then a clean restore works. Needs root.
 * TAP output; exit 0 when every check passed, 77 when criu/criu is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"

#ifndef CAP_SYS_TIME
#define CAP_SYS_TIME 25
#endif

static char dir[256], criu[512];
static pid_t tree[2];

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* P (allow filter, a second thread) -> C; both pause(). Returns P, fills tree[]. */
static pid_t start_tree(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &allow };
	int p[2];
	pid_t pid, c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		pthread_t th;

		setsid();
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ||
		    pthread_create(&th, NULL, idle_thread, NULL))
			_exit(1);
		c = fork();
		if (c == 0)
			for (;;)
				pause();
		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, sizeof(c)) != sizeof(c))
		pid = -1;
	close(p[0]);
	tree[0] = pid;
	tree[1] = c;
	return pid;
}

static bool gone(pid_t pid)
{
	for (int i = 0; i < 3000; i++) {
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		if (kill(pid, 0) && errno == ESRCH)
			return true;
		usleep(1000);
	}
	return false;
}

/* processes whose command line names our images dir: criu and its stubs */
static int count_criu_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		int fd, len;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (int i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = 0;
		if (strstr(buf, dir))
			n++;
	}
	closedir(d);
	return n;
}

#define UNDER_SECCOMP (-2)	/* run_criu()'s drop_cap: criu runs under an "allow" filter instead */

/*
 * criu with args, its stderr in err; drop_cap >= 0: dropped from criu's bounding set
 * first; UNDER_SECCOMP: criu starts under a seccomp filter.
 */
static int run_criu(char *err, size_t len, int drop_cap, const char *const *args)
{
	char *argv[16];
	int p[2], st = -1, k = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	argv[k++] = criu;
	for (int i = 0; args[i] && k < 15; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		/* root's exec then gives criu no CAP_SYS_TIME in any set */
		if (drop_cap >= 0 && prctl(PR_CAPBSET_DROP, drop_cap, 0, 0, 0))
			_exit(126);
		if (drop_cap == UNDER_SECCOMP) {
			struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			struct sock_fprog prog = { 1, &allow };

			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
				_exit(125);
		}
		execv(criu, argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], err + got, len - 1 - got)) > 0)
		got += r;
	err[got] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	return st;
}

static void expect_failure(const char *what, int drop_cap, const char *needle)
{
	/* the images are patched by hand: past the manifest's check */
	const char *args[] = { "restore", "-d", "-D", dir, "-v2", "--skip-image-check", NULL };
	char err[8192];
	int st = run_criu(err, sizeof(err), drop_cap, args);

	check(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: restore fails (status %#x)", what, st);
	check(strstr(err, needle) != NULL, "%s: the error says '%s'", what, needle);
	if (!strstr(err, needle))
		printf("# criu said: %s\n", err);
	check(gone(tree[0]) && gone(tree[1]), "%s: no restored pid is alive", what);
	check(count_criu_procs() == 0, "%s: no criu or stub process is left", what);
}

/* How many times the 8-byte instruction insn is in file path. */
static int count_insn(const char *path, const struct sock_filter *insn)
{
	char buf[65536];
	int fd = open(path, O_RDONLY), n = 0;
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i + (ssize_t)sizeof(*insn) <= len; i++)
		n += !memcmp(buf + i, insn, sizeof(*insn));
	if (fd >= 0)
		close(fd);
	return len < 0 ? -1 : n;
}

/* Replace the first 8-byte instruction `from` in file path by `to` (same size: the framing stays). */
static int patch_insn(const char *path, const struct sock_filter *from, const struct sock_filter *to)
{
	char buf[65536];
	int fd = open(path, O_RDWR);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	int ret = -1;

	for (ssize_t i = 0; n > 0 && i + (ssize_t)sizeof(*from) <= n; i++)
		if (!memcmp(buf + i, from, sizeof(*from))) {
			ret = pwrite(fd, to, sizeof(*to), i) == sizeof(*to) ? 0 : -1;
			break;
		}
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_filter bad = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0xfff0);
	char err[8192], rpid[16], img[300];
	int st;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (realpath("criu/criu", criu) == NULL || access(criu, X_OK)) {
		printf("# criu/criu is not built\n1..0\n");
		return 77;
	}
	if (geteuid()) {
		printf("# needs root\n1..0\n");
		return 77;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(dir, sizeof(dir), "/tmp/test-security-fail-%d", getpid());
	if (mkdir(dir, 0700)) {
		printf("not ok 1 - mkdir %s\n", dir);
		return 1;
	}
	st = start_tree();
	check(st > 0, "tree P %d -> C %d started", tree[0], tree[1]);
	snprintf(rpid, sizeof(rpid), "%d", tree[0]);
	{
		const char *args[] = { "dump", "-t", rpid, "-D", dir, NULL };

		st = run_criu(err, sizeof(err), -1, args);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dump of the tree under seccomp (status %#x)", st);
		if (st)
			printf("# %s\n", err);
	}
	check(gone(tree[0]) && gone(tree[1]), "the dumped tree is gone");
	snprintf(img, sizeof(img), "%s/seccomp.img", dir);
	check(count_insn(img, &allow) == 1, "seccomp.img holds the filter P and C share once (%d times)",
	      count_insn(img, &allow));

	/* 1. criu lacks a capability the tasks hold: their capset fails in the morph */
	expect_failure("criu without CAP_SYS_TIME", CAP_SYS_TIME, "capset");

	/* 2. a filter the kernel rejects: seccomp() fails in the morph */
	check(patch_insn(img, &allow, &bad) == 0, "seccomp.img: the filter's only instruction replaced");
	expect_failure("a filter the kernel rejects", -1, "can't install seccomp filter 0");
	check(patch_insn(img, &bad, &allow) == 0, "seccomp.img: the filter put back");

	/* 2b. criu itself under seccomp: the restored tasks would inherit its filter */
	expect_failure("criu under seccomp", UNDER_SECCOMP, "criu itself runs under seccomp");

	/* 3. a clean restore */
	{
		const char *args[] = { "restore", "-d", "-D", dir, NULL };
		char path[64];
		FILE *f;
		char line[128];
		int mode = -1;

		st = run_criu(err, sizeof(err), -1, args);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "clean restore (status %#x)", st);
		if (st)
			printf("# %s\n", err);
		snprintf(path, sizeof(path), "/proc/%d/status", tree[1]);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "Seccomp: %d", &mode) == 1)
				break;
		if (f)
			fclose(f);
		check(mode == 2, "clean restore: C is under its filter again (Seccomp %d)", mode);
		kill(tree[1], SIGKILL);
		kill(tree[0], SIGKILL);
		gone(tree[1]);
		gone(tree[0]);
	}
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			printf("# can't remove %s\n", dir);
	}
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
