// SPDX-License-Identifier: GPL-2.0
/*
 * A restore that can't give a thread its dumped CPU affinity or NUMA memory policy
 * fails, saying so, and leaves nothing behind (the kernel would silently give fewer
 * CPUs or nodes). A one-task tree pinned to one CPU is dumped with criu/criu, then its
 * core image is rewritten (with the tool's image code) to ask for:
 *  - CPU 0 and a CPU this machine does not have (1000): restored, the kernel would
 *    give only CPU 0;
 *  - only CPU 1000: sched_setaffinity() refuses;
 *  - a NUMA policy MPOL_BIND on node 0 and a node that does not exist (when the
 *    kernel has NUMA): set_mempolicy() would keep node 0 only;
 * and finally the untouched image restores with the dumped affinity.
 * Needs root; TAP output; exit 0 when every check passed, 77 when criu/criu (or $CRIU) is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "image.h"
#include "protobuf.h"

#include "core.pb-c.h"

#include "tap.h"

#define MPOL_BIND 2

static char dir[] = "/tmp/test-restore-attrs.XXXXXX";
static char criu[PATH_MAX];
static int cpu0;

static int run_criu(char *err, size_t len, const char *const *args)
{
	char *argv[16];
	int p[2], status = -1, k = 0;
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
		execv(criu, argv);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < len && (r = read(p[0], err + got, len - 1 - got)) > 0)
		got += r;
	err[got] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static bool gone(pid_t pid)
{
	for (int i = 0; i < 2000; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(pid, 0) && errno == ESRCH)
			return true;
		usleep(1000);
	}
	return false;
}

static pid_t start_task(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		cpu_set_t s;

		setsid();
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		if (null > 2)
			close(null);
		CPU_ZERO(&s);
		CPU_SET(cpu0, &s);
		if (sched_setaffinity(0, sizeof(s), &s))
			_exit(1);
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/* Rewrite core-<pid>.img: edit() changes the thread's entry. 0 or -errno. */
static int rewrite_core(int dfd, pid_t pid, void (*edit)(ThreadCoreEntry *tc))
{
	struct cr_img *img = open_image_at(dfd, CR_FD_CORE, O_RSTR, pid);
	CoreEntry *ce = NULL;
	char name[64];
	int ret;

	if (!img)
		return -errno;
	ret = pb_read_one(img, (void **)&ce, PB_CORE);
	close_image(img);
	if (ret)
		return ret;
	edit(ce->thread_core);
	snprintf(name, sizeof(name), "core-%d.img", pid);
	unlinkat(dfd, name, 0);
	img = open_image_at(dfd, CR_FD_CORE, O_DUMP, pid);
	ret = img ? pb_write_one(img, ce, PB_CORE) : -errno;
	if (img)
		ret = ret ? (close_image(img), ret) : close_image_checked(img);
	/* the fields point to our static arrays: unhook them before the free */
	ce->thread_core->n_cpu_affinity = 0;
	ce->thread_core->cpu_affinity = NULL;
	ce->thread_core->n_mempolicy_nodes = 0;
	ce->thread_core->mempolicy_nodes = NULL;
	core_entry__free_unpacked(ce, NULL);
	return ret;
}

static uint64_t mask_cpu0_1000[16], mask_1000[16], nodes_0_5[1];

static void edit_cpu0_1000(ThreadCoreEntry *tc)
{
	free(tc->cpu_affinity);
	mask_cpu0_1000[cpu0 / 64] |= 1ULL << (cpu0 % 64);
	mask_cpu0_1000[1000 / 64] |= 1ULL << (1000 % 64);
	tc->cpu_affinity = mask_cpu0_1000;
	tc->n_cpu_affinity = 16;
}

static void edit_cpu1000(ThreadCoreEntry *tc)
{
	free(tc->cpu_affinity);
	mask_1000[1000 / 64] |= 1ULL << (1000 % 64);
	tc->cpu_affinity = mask_1000;
	tc->n_cpu_affinity = 16;
}

static void edit_nodes(ThreadCoreEntry *tc)
{
	free(tc->cpu_affinity);
	tc->cpu_affinity = NULL;
	tc->n_cpu_affinity = 0;
	free(tc->mempolicy_nodes);
	nodes_0_5[0] = 1 | (1 << 5);
	tc->has_mempolicy_mode = true;
	tc->mempolicy_mode = MPOL_BIND;
	tc->mempolicy_nodes = nodes_0_5;
	tc->n_mempolicy_nodes = 1;
}

static int copy_file(int dfd, const char *from, const char *to)
{
	char buf[65536];
	int in = openat(dfd, from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = openat(dfd, to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	n = out < 0 ? -1 : read(in, buf, sizeof(buf));
	if (n <= 0 || write(out, buf, n) != n)
		n = -1;
	close(in);
	if (out >= 0)
		close(out);
	return n < 0 ? -EIO : 0;
}

static void expect_refused(int dfd, pid_t pid, const char *what, void (*edit)(ThreadCoreEntry *tc),
			   const char *needle)
{
	/* the core image is edited by hand: the manifest would refuse it first */
	const char *args[] = { "restore", "-d", "-D", dir, "-v2", "--skip-image-check", NULL };
	char err[8192], core[64];
	int st;

	snprintf(core, sizeof(core), "core-%d.img", pid);
	check(copy_file(dfd, "core.keep", core) == 0 && rewrite_core(dfd, pid, edit) == 0, "%s: image rewritten",
	      what);
	/* the edited fields in the core, as older dumps had them: no core-ext image to override them */
	snprintf(core, sizeof(core), "core-ext-%d.img", pid);
	unlinkat(dfd, core, 0);
	st = run_criu(err, sizeof(err), args);
	check(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s: restore fails (status %#x)", what, st);
	if (!check(strstr(err, needle) != NULL, "%s: the error says '%s'", what, needle) || getenv("V"))
		printf("# criu said: %s\n", err);
	if (!check(gone(pid), "%s: the restored task is gone", what)) {
		kill(pid, SIGKILL);	/* restored after all: don't leave it behind */
		gone(pid);
	}
}

int main(void)
{
	const char *dargs[6] = { "dump", "-t", NULL, "-D", dir, NULL };
	const char *rargs[] = { "restore", "-d", "-D", dir, "-v2", NULL };
	char err[8192], spid[16], core[64];
	cpu_set_t s;
	pid_t pid;
	int st, dfd;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!realpath(getenv("CRIU") ? getenv("CRIU") : "criu/criu", criu) || access(criu, X_OK)) {
		printf("# criu/criu is not built\n1..0\n");
		return 77;
	}
	if (geteuid()) {
		printf("# needs root\n1..0\n");
		return 77;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sched_getaffinity(0, sizeof(s), &s);
	for (cpu0 = 0; cpu0 < 64 && !CPU_ISSET(cpu0, &s); cpu0++)
		;
	if (!mkdtemp(dir) || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		printf("not ok 1 - temporary directory\n");
		return 1;
	}
	pid = start_task();
	check(pid > 0, "task %d pinned to CPU %d", pid, cpu0);
	snprintf(spid, sizeof(spid), "%d", pid);
	dargs[2] = spid;
	st = run_criu(err, sizeof(err), dargs);
	if (!check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dump (status %#x)", st))
		printf("# %s\n", err);
	check(gone(pid), "the dumped task is gone");
	snprintf(core, sizeof(core), "core-ext-%d.img", pid);
	check(copy_file(dfd, core, "ext.keep") == 0, "core-ext image kept (the affinity is ours: it is there)");
	snprintf(core, sizeof(core), "core-%d.img", pid);
	check(copy_file(dfd, core, "core.keep") == 0, "core image kept");

	expect_refused(dfd, pid, "CPUs 0 and 1000", edit_cpu0_1000, "this machine gives only");
	expect_refused(dfd, pid, "CPU 1000", edit_cpu1000, "can't set its CPU affinity to 1000");
	if (syscall(SYS_get_mempolicy, NULL, NULL, 0, 0, 0) == 0)
		expect_refused(dfd, pid, "nodes 0 and 5", edit_nodes, "NUMA policy 0x2 on nodes 0,5");
	else
		printf("# no NUMA in this kernel: node check skipped\n");

	snprintf(core, sizeof(core), "core-ext-%d.img", pid);
	check(copy_file(dfd, "ext.keep", core) == 0, "original core-ext image back");
	snprintf(core, sizeof(core), "core-%d.img", pid);
	check(copy_file(dfd, "core.keep", core) == 0, "original image back");
	st = run_criu(err, sizeof(err), rargs);
	if (!check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the original image restores (status %#x)", st))
		printf("# %s\n", err);
	CPU_ZERO(&s);
	st = sched_getaffinity(pid, sizeof(s), &s);
	check(!st && CPU_COUNT(&s) == 1 && CPU_ISSET(cpu0, &s), "restored pinned to CPU %d (%d CPUs)", cpu0,
	      CPU_COUNT(&s));
	kill(pid, SIGKILL);
	check(gone(pid), "restored task killed");

	if (!getenv("KEEP")) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			printf("# can't remove %s\n", dir);
	}
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
