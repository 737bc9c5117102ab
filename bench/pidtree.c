// SPDX-License-Identifier: GPL-2.0
/*
 * pidtree: the process tree that the pidfd benchmark dumps and restores.
 *
 *   pidtree NPROC NFDS MODE REPORT_FILE
 *
 * The root forks NPROC-1 children; every process of the tree (root included)
 * then opens NFDS pidfds with pidfd_open(), each a file of its own:
 *   MODE root    every pidfd points at the root (NPROC*NFDS pidfds to one process)
 *   MODE spread  child k points at the root, the children before it and itself in
 *                turn (the root at every member), so the targets are spread out
 * SIGUSR1 is blocked in the whole tree and taken with sigtimedwait().
 * When all are ready the root writes "ready PID" to REPORT_FILE. On SIGUSR1 each
 * process (the root first, then the children, to whom the root passes SIGUSR1 on)
 * checks that each of its pidfds is still a pidfd (PID_FS_MAGIC or an anon inode)
 * whose fdinfo "Pid:" is the pid it was opened for. A child sends its number of
 * wrong pidfds to the root (SIGRTMIN with a value) and stays alive, as the others may
 * still be checking pidfds to it; when all have answered the root kills and reaps
 * the children and appends "verify ok ..." or "verify bad ..." to REPORT_FILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define PID_FS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934
#define MAX_PROC 1000
#define MAX_FDS 1000

static int pidfd_open(pid_t pid)
{
	return syscall(434, pid, 0);
}

static int fdinfo_pid(int fd)
{
	char path[64], buf[512];
	int dfd, n, pid;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	n = read(dfd, buf, sizeof(buf) - 1);
	close(dfd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nPid:");
	if (!p || sscanf(p + 5, "%d", &pid) != 1)
		return -1;
	return pid;
}

static const char *report_path;

static int report(const char *path, const char *fmt, int a, int b, int c);

/* Number of pidfds that are wrong; the first few are described in the report. */
static int check_fds(const int *fds, const pid_t *want, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct statfs sf;
		int got = -2;

		if (!fstatfs(fds[i], &sf) && (sf.f_type == PID_FS_MAGIC || sf.f_type == ANON_INODE_FS_MAGIC))
			got = fdinfo_pid(fds[i]);
		if (got == want[i])
			continue;
		if (bad++ < 3)
			report(report_path, "wrong fd %d: pid %d wanted (-2: not a pidfd), fdinfo says %d\n", fds[i],
			       want[i], got);
	}
	return bad;
}

static int open_fds(int *fds, pid_t *want, int n, const pid_t *targets, int nr_targets)
{
	for (int i = 0; i < n; i++) {
		want[i] = targets[i % nr_targets];
		fds[i] = pidfd_open(want[i]);
		if (fds[i] < 0)
			return -errno;
	}
	return 0;
}

/*
 * SIGUSR1 stays blocked from the start and is taken with sigtimedwait(): a signal
 * that comes before the wait (a restored task sits at its syscall instruction until
 * it runs again) stays pending instead of being lost to a handler.
 */
static void wait_usr1(void)
{
	struct timespec ts = { 1, 0 };
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	while (sigtimedwait(&usr1, NULL, &ts) != SIGUSR1)
		;
}

static int report(const char *path, const char *fmt, int a, int b, int c)
{
	FILE *f = fopen(path, "ae");

	if (!f)
		return -errno;
	fprintf(f, fmt, a, b, c);
	return fclose(f) ? -errno : 0;
}

/* Children answer with SIGRTMIN carrying their number of wrong pidfds. */
static int collect_verdicts(int n)
{
	struct timespec ts = { 30, 0 };
	int bad = 0, got = 0;
	siginfo_t si;
	sigset_t rt;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	while (got < n) {
		if (sigtimedwait(&rt, &si, &ts) != SIGRTMIN)
			return bad + n - got;
		got++;
		if (si.si_value.sival_int)
			bad++;
	}
	return bad;
}

static int parse_int(const char *s, int lo, int hi, int *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || *end || end == s || x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

static void child(int k, const pid_t *tree, int nfds, int spread, int ready_fd)
{
	int *fds = calloc(nfds + 1, sizeof(int));
	pid_t *want = calloc(nfds + 1, sizeof(pid_t));
	pid_t self_tree[MAX_PROC];
	char c = 1;

	if (!fds || !want)
		_exit(3);
	if (spread) {
		memcpy(self_tree, tree, k * sizeof(pid_t));
		self_tree[k] = getpid();
	}
	if (open_fds(fds, want, nfds, spread ? self_tree : tree, spread ? k + 1 : 1))
		_exit(3);
	if (write(ready_fd, &c, 1) != 1)
		_exit(3);
	close(ready_fd);
	wait_usr1();
	/* stay alive: the others still check their pidfds to this process */
	sigqueue(getppid(), SIGRTMIN, (union sigval){ .sival_int = check_fds(fds, want, nfds) });
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	sigset_t usr1;
	int nproc, nfds, spread, p[2], bad_fds, bad_children = 0;
	static pid_t tree[MAX_PROC];
	struct rlimit rl;
	int *fds;
	pid_t *want;

	if (argc != 5 || parse_int(argv[1], 1, MAX_PROC, &nproc) || parse_int(argv[2], 0, MAX_FDS, &nfds) ||
	    (strcmp(argv[3], "root") && strcmp(argv[3], "spread"))) {
		fprintf(stderr, "usage: pidtree NPROC(1..%d) NFDS(0..%d) root|spread REPORT_FILE\n", MAX_PROC,
			MAX_FDS);
		return 2;
	}
	spread = !strcmp(argv[3], "spread");
	report_path = argv[4];
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)nfds + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &usr1, NULL) || pipe2(p, O_CLOEXEC)) {
		perror("pidtree");
		return 2;
	}
	tree[0] = getpid();
	for (int k = 1; k < nproc; k++) {
		tree[k] = fork();
		if (tree[k] < 0) {
			perror("pidtree: fork");
			kill(0, SIGKILL);
			return 2;
		}
		if (!tree[k]) {
			close(p[0]);
			child(k, tree, nfds, spread, p[1]);
		}
	}
	close(p[1]);
	fds = calloc(nfds + 1, sizeof(int));
	want = calloc(nfds + 1, sizeof(pid_t));
	if (!fds || !want || open_fds(fds, want, nfds, tree, spread ? nproc : 1)) {
		perror("pidtree: pidfd_open");
		return 2;
	}
	for (int k = 1; k < nproc; k++) {
		char c;

		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr, "pidtree: a child failed to start\n");
			return 2;
		}
	}
	close(p[0]);
	if (report(argv[4], "ready %d\n", getpid(), 0, 0))
		return 2;

	wait_usr1();
	bad_fds = check_fds(fds, want, nfds);
	for (int k = 1; k < nproc; k++)
		kill(tree[k], SIGUSR1);
	bad_children = collect_verdicts(nproc - 1);
	for (int k = 1; k < nproc; k++) {
		kill(tree[k], SIGKILL);
		waitpid(tree[k], NULL, 0);
	}
	if (bad_fds || bad_children) {
		report(argv[4], "verify bad: %d wrong pidfds in the root, %d children failed of %d\n", bad_fds,
		       bad_children, nproc - 1);
		return 1;
	}
	report(argv[4], "verify ok %d processes, %d pidfds each\n", nproc, nfds, 0);
	return 0;
}
