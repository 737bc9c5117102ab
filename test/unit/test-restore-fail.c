// SPDX-License-Identifier: GPL-2.0
/*
 * criu restore failures leave nothing behind. A three-task tree (R, its child
 * C, its grandchild G) is dumped with criu/criu, then restored in ways that
 * must fail: while the tree still runs (the root pid is taken), with only R
 * gone (C's pid is taken after R's stub exists), with a truncated pages
 * image (nothing may start), with a fault injected after the tree was forked
 * and after the first task was morphed. Each time criu must fail with a
 * message that says why, and no process of the restore may be left (no
 * process with criu's command line for this images dir, the tree's pids
 * free). Finally a clean restore brings the tree back with its pids and
 * parent links. Needs root (clone3 set_tid); runs in the host pid namespace,
 * so it picks the tree's pids as it finds them.
 * TAP output; exit 0 when every check passed, 77 when criu/criu is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"

static char dir[256], criu[512];
static pid_t tree[3];	/* R, C, G */
static pid_t r_thread;	/* a second thread of R */
static rlim_t criu_nofile_max;	/* != 0: criu runs with this RLIMIT_NOFILE hard limit */


static void *pause_thread(void *arg)
{
	pid_t me = syscall(SYS_gettid);

	if (write((int)(long)arg, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

/*
 * The tree: R (session leader, with a second thread) -> C -> G, all pause();
 * ids reported through a pipe.
 */
static pid_t start_tree(void)
{
	int p[2];
	pid_t r;

	if (pipe(p))
		return -1;
	r = fork();
	if (r == 0) {
		pthread_t th;
		pid_t c;

		close(p[0]);
		setsid();
		if (pthread_create(&th, NULL, pause_thread, (void *)(long)p[1]))
			_exit(1);
		c = fork();
		if (c == 0) {
			pid_t g = fork();

			if (g == 0) {
				pid_t me = getpid();

				if (write(p[1], &me, sizeof(me)) != sizeof(me))
					_exit(1);
				for (;;)
					pause();
			}
			for (;;)
				pause();
		}
		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	tree[0] = r;
	pid_t ids[3];
	for (int i = 0; i < 3; i++)
		if (read(p[0], &ids[i], sizeof(pid_t)) != sizeof(pid_t))
			r = -1;
	close(p[0]);
	/* the writes come in any order: the thread is in R's task dir, C's parent is R */
	for (int i = 0, k = 1; r > 0 && i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d", r, ids[i]);
		if (!access(path, F_OK))
			r_thread = ids[i];
		else if (k < 3)
			tree[k++] = ids[i];
	}
	return r;
}

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n, ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
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

/* TracerPid of thread tid of pid: 0 once criu let it go (-1: unknown). */
static int tracer_of(pid_t pid, pid_t tid)
{
	char path[96], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/* Reap what came to us (we are a subreaper) and wait until pid is gone. */
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

/* Processes whose command line mentions our images dir: criu and its stubs. */
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

static bool have_cap_sys_resource(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 24);
}

/* Run criu with args; its stderr goes to errbuf. Returns the exit status. */
static int run_criu(char *errbuf, size_t errlen, const char *fault, const char *const *args)
{
	char *argv[32];
	int p[2], status, n = 0, k = 0;
	pid_t pid;

	argv[k++] = criu;
	while (args[n] && k < 30)
		argv[k++] = (char *)args[n++];
	argv[k] = NULL;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (criu_nofile_max) {
			struct rlimit rl = { criu_nofile_max, criu_nofile_max };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (fault)
			setenv("CRIU_FAULT", fault, 1);
		else
			unsetenv("CRIU_FAULT");
		execv(criu, argv);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t r;
	while ((r = read(p[0], errbuf + got, errlen - 1 - got)) > 0)
		got += r;
	errbuf[got] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static int restore(char *err, size_t len, const char *fault)
{
	const char *args[] = { "restore", "-d", "-D", dir, "-v2", NULL };

	return run_criu(err, len, fault, args);
}

static void expect_failure(const char *what, const char *fault, const char *needle, const pid_t *must_be_gone,
			   int nr_gone)
{
	char err[8192];
	int st = restore(err, sizeof(err), fault);

	check(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s: restore fails (status %#x)", what, st);
	check(strstr(err, needle) != NULL, "%s: the error says '%s'", what, needle);
	if (!strstr(err, needle))
		printf("# criu said: %s\n", err);
	bool ok = true;
	for (int i = 0; i < nr_gone; i++)
		if (!gone(must_be_gone[i]))
			ok = false;
	check(ok, "%s: no restored pid is alive", what);
	int left = count_criu_procs();
	check(left == 0, "%s: no criu or stub process is left (%d)", what, left);
}

int main(void)
{
	char err[8192];
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
	snprintf(dir, sizeof(dir), "/tmp/test-restore-fail-%d", getpid());
	if (mkdir(dir, 0700)) {
		printf("not ok 1 - mkdir %s\n", dir);
		return 1;
	}

	check(start_tree() > 0, "tree started");
	if (ppid_of(tree[1]) != tree[0]) {
		pid_t t = tree[1];

		tree[1] = tree[2];
		tree[2] = t;
	}
	check(ppid_of(tree[1]) == tree[0] && ppid_of(tree[2]) == tree[1], "tree R %d -> C %d -> G %d", tree[0],
	      tree[1], tree[2]);

	char rpid[16];
	snprintf(rpid, sizeof(rpid), "%d", tree[0]);
	const char *dargs[] = { "dump", "-t", rpid, "-D", dir, "-R", NULL };
	st = run_criu(err, sizeof(err), NULL, dargs);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dump --leave-running (status %#x)", st);
	if (st)
		printf("# %s\n", err);

	/* 1. the whole tree still runs: the root pid is taken, nothing may start */
	expect_failure("tree running", NULL, "is taken", NULL, 0);
	/* S, or R for a moment on a loaded machine: not stopped, traced or dead */
	check(strchr("SR", state_of(tree[0]) ?: 'x') && ppid_of(tree[1]) == tree[0],
	      "tree running: the original tree is intact");

	/* 2. only R is gone: R's stub comes up, then C's pid is taken */
	kill(tree[0], SIGKILL);
	check(gone(tree[0]), "R killed");
	expect_failure("child pid taken", NULL, "taken", &tree[0], 1);
	check(state_of(tree[1]) == 'S', "child pid taken: the original C still runs");
	kill(tree[1], SIGKILL);
	kill(tree[2], SIGKILL);
	check(gone(tree[1]) && gone(tree[2]), "the rest of the original tree killed");

	/* 3. a fault right after the tree was forked, and after the first morph */
	expect_failure("fault after fork", "restore-forked", "restore-forked", tree, 3);
	expect_failure("fault after a morph", "restore-morph", "restore-morph", tree, 3);

	/* 3b. criu gets SIGTERM while the tree exists: it undoes everything */
	{
		const char *args[] = { "restore", "-d", "-D", dir, "-v1", NULL };
		char *argv[8];
		int p[2], k = 0;
		pid_t c = -1;

		argv[k++] = criu;
		for (int i = 0; args[i]; i++)
			argv[k++] = (char *)args[i];
		argv[k] = NULL;
		if (pipe(p) == 0 && (c = fork()) == 0) {
			dup2(p[1], 2);
			close(p[0]);
			close(p[1]);
			setenv("CRIU_FAULT", "restore-stall", 1);
			execv(criu, argv);
			_exit(127);
		}
		close(p[1]);
		check(c > 0, "SIGTERM to criu: criu started");
		bool up = false;
		for (int i = 0; i < 5000 && !up; i++) {
			up = ppid_of(tree[2]) == tree[1] && ppid_of(tree[1]) == tree[0];
			if (!up)
				usleep(1000);
		}
		check(up, "SIGTERM to criu: the stub tree is up");
		if (c > 0)
			kill(c, SIGTERM);
		size_t got = 0;
		ssize_t r;
		while ((r = read(p[0], err + got, sizeof(err) - 1 - got)) > 0)
			got += r;
		err[got] = 0;
		close(p[0]);
		st = 0;
		if (c > 0)
			waitpid(c, &st, 0);
		check(c > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(err, "interrupted by signal 15"),
		      "SIGTERM to criu: restore fails saying it was interrupted (status %#x)", st);
		bool ok = true;
		for (int i = 0; i < 3; i++)
			ok = gone(tree[i]) && ok;
		check(ok, "SIGTERM to criu: no restored pid is alive");
		check(count_criu_procs() == 0, "SIGTERM to criu: no criu or stub process is left");
	}

	/* 3c. R's second thread id is taken by another process: fails once R's stub exists */
	{
		struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
				  set_tid, set_tid_size, cgroup; } ca = { .exit_signal = SIGCHLD,
				  .set_tid = (uint64_t)(uintptr_t)&r_thread, .set_tid_size = 1 };
		long occ = r_thread > 0 ? syscall(SYS_clone3, &ca, sizeof(ca)) : -1;

		if (occ == 0) {
			for (;;)
				pause();
		}
		check(occ == r_thread, "a process takes R's thread id %d", r_thread);
		if (occ == r_thread) {
			expect_failure("thread id taken", NULL, "is taken", tree, 3);
			kill(occ, SIGKILL);
			check(gone(occ), "the process with R's thread id is gone");
		}
	}

	/* 4. a truncated pages image: nothing may start */
	char pages[300];
	snprintf(pages, sizeof(pages), "%s/pages-1.img", dir);
	struct stat sb;
	if (stat(pages, &sb) == 0) {
		char keep[320];

		snprintf(keep, sizeof(keep), "%s.keep", pages);
		link(pages, keep);
		unlink(pages);
		int in = open(keep, O_RDONLY), out = open(pages, O_WRONLY | O_CREAT, 0600);
		char buf[4096];
		ssize_t n = read(in, buf, sizeof(buf));
		if (n > 0 && write(out, buf, n / 2) != n / 2)
			n = -1;
		close(in);
		close(out);
		expect_failure("truncated pages", NULL, "truncated", tree, 3);
		rename(keep, pages);
	} else {
		check(0, "pages-1.img exists");
	}

	/* 4a. criu's hard RLIMIT_NOFILE is below the tree's: root can't raise it (no CAP_SYS_RESOURCE here) */
	struct rlimit cur;
	getrlimit(RLIMIT_NOFILE, &cur);
	if (cur.rlim_max > 4096 && !have_cap_sys_resource()) {
		criu_nofile_max = 4096;
		expect_failure("hard rlimit", NULL, "can't raise the hard limit", tree, 3);
		criu_nofile_max = 0;
	}

	/* 4b. no inventory.img: an incomplete dump */
	char inv[300], inv_keep[320];
	snprintf(inv, sizeof(inv), "%s/inventory.img", dir);
	snprintf(inv_keep, sizeof(inv_keep), "%s.keep", inv);
	if (rename(inv, inv_keep) == 0) {
		expect_failure("no inventory", NULL, "not a complete dump", tree, 3);
		rename(inv_keep, inv);
	} else {
		check(0, "inventory.img exists");
	}

	/* 5. a clean restore: same pids, same parents */
	st = restore(err, sizeof(err), NULL);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "clean restore (status %#x)", st);
	if (st)
		printf("# %s\n", err);
	check(state_of(tree[0]) && ppid_of(tree[1]) == tree[0] && ppid_of(tree[2]) == tree[1],
	      "clean restore: R %d -> C %d -> G %d again", tree[0], tree[1], tree[2]);
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d", tree[0], r_thread);
		check(!access(path, F_OK), "clean restore: R has its thread %d again", r_thread);
	}
	for (int i = 2; i >= 0; i--)
		kill(tree[i], SIGKILL);
	for (int i = 0; i < 3; i++)
		gone(tree[i]);

	/* 6. foreground: criu waits for the root and exits with its status */
	pid_t fg = fork();
	if (fg == 0) {
		char *argv[] = { criu, "restore", "-D", dir, "-v1", NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		unsetenv("CRIU_FAULT");
		execv(criu, argv);
		_exit(127);
	}
	bool up = false;
	for (int i = 0; i < 5000 && !up; i++) {
		/* morphed: only criu itself still has the images dir on its command line */
		up = ppid_of(tree[0]) == fg && ppid_of(tree[2]) == tree[1] && count_criu_procs() == 1 &&
		     !tracer_of(tree[0], tree[0]) && !tracer_of(tree[0], r_thread);
		if (!up)
			usleep(1000);
	}
	check(up, "foreground: the tree is back under criu %d", fg);
	kill(tree[0], SIGTERM);
	st = 0;
	pid_t w = waitpid(fg, &st, 0);
	check(w == fg && WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM,
	      "foreground: criu exits with 128+SIGTERM when the root dies of SIGTERM (status %#x)", st);
	for (int i = 2; i >= 0; i--)
		kill(tree[i], SIGKILL);
	for (int i = 0; i < 3; i++)
		gone(tree[i]);

	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
