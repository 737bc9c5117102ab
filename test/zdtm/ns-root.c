// SPDX-License-Identifier: GPL-2.0
/*
 * ns-root: the launcher of zdtm's "ct" flavour (test/zdtm/zdtm.py --flavor ct).
 * It starts one test the way a container runtime starts a container:
 *
 *   ns-root -r ROOTDIR -p PIDFILE -l LOG -c CWD [-b PATH]... [-w PATH]... -- TEST OUTFILE
 *
 * The launcher unshares mount, pid, network, IPC and UTS namespaces and forks
 * I, pid 1 of the new pid namespace. I makes the root: ROOTDIR bound on itself
 * (read-only at the end), each -b PATH bound read-only and each -w PATH bound
 * read-write at the same path below it (a symlink such as Debian's /bin is
 * copied as a symlink), /dev bound with a tmpfs on /dev/shm and /dev/pts bound,
 * a tmpfs on /tmp, a proc of the new pid namespace on /proc, a tmpfs on
 * /sys/fs/cgroup with the runner's cgroup hierarchies mounted again on it (as
 * runtimes give containers their cgroups); brings lo up, sets
 * the host name, pivots into the root and executes itself again there (so its
 * exe and fds are on the new namespace's mounts). Then, as "--inner", it
 * starts TEST --pidfile=/tmp/zdtm-test.pid --outfile=OUTFILE with its stdio on
 * LOG, waits for the test's launcher to report it ready and tells the outer
 * launcher, which writes I's pid (as the runner sees it) to PIDFILE and exits
 * 0. I is the root task criu dumps. A SIGTERM to I goes on to the test; I
 * exits when the test does, with its exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
#define TEST_PIDFILE "/tmp/zdtm-test.pid"
#define HOSTNAME "zdtm-ct"
#define MAX_BINDS 32

struct opts {
	const char *root, *pidfile, *log, *cwd, *test, *outfile;
	const char *bind[MAX_BINDS];
	int ro[MAX_BINDS];
	int nr_binds;
};

static int die(const char *what)
{
	fprintf(stderr, "ns-root: %s: %m\n", what);
	return -1;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return die(buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return die(buf);
	return 0;
}

static int bind_one(const char *root, const char *src, int ro)
{
	char dst[PATH_MAX], link[PATH_MAX];
	struct stat st;
	ssize_t len;

	snprintf(dst, sizeof(dst), "%s%s", root, src);
	if (lstat(src, &st))
		return errno == ENOENT ? 0 : die(src);
	if (S_ISLNK(st.st_mode)) {
		len = readlink(src, link, sizeof(link) - 1);
		if (len < 0)
			return die(src);
		link[len] = '\0';
		if (symlink(link, dst) && errno != EEXIST)
			return die(dst);
		return 0;
	}
	if (mkdir_p(dst))
		return -1;
	if (mount(src, dst, NULL, MS_BIND, NULL))
		return die(dst);
	if (ro && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL))
		return die(dst);
	return 0;
}

static int mount_fs(const char *root, const char *where, const char *type, unsigned long flags)
{
	char dst[PATH_MAX];

	snprintf(dst, sizeof(dst), "%s%s", root, where);
	if (mkdir_p(dst))
		return -1;
	if (mount(type, dst, type, flags, NULL))
		return die(dst);
	return 0;
}

/*
 * /sys/fs/cgroup as a runtime gives a container one: a tmpfs with the
 * runner's cgroup hierarchies mounted again on it at the same places (a v1
 * mount with the same options is the same hierarchy, so the test's cgroups
 * are the runner's, and criu's) and its symlinks copied.
 */
static int mount_cgroups(const char *root)
{
	char line[4096], mp[PATH_MAX], type[64], opts[1024], dst[PATH_MAX], link[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	const char *base = "/sys/fs/cgroup";
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (!f)
		return die("/proc/self/mountinfo");
	while (!ret && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - "), *o;

		if (!dash || sscanf(line, "%*d %*d %*s %*s %4095s", mp) != 1 ||
		    sscanf(dash + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		if (!strcmp(mp, base) && !strcmp(type, "tmpfs")) {
			ret = mount_fs(root, base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
			continue;
		}
		if (strncmp(mp, base, strlen(base)) || mp[strlen(base)] != '/' ||
		    (strcmp(type, "cgroup") && strcmp(type, "cgroup2")))
			continue;
		/* the superblock's options but rw/ro */
		o = !strncmp(opts, "rw", 2) || !strncmp(opts, "ro", 2) ? opts + 2 + (opts[2] == ',') : opts;
		snprintf(dst, sizeof(dst), "%s%s", root, mp);
		if (mkdir_p(dst) || mount(type, dst, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, *o ? o : NULL))
			ret = die(dst);
	}
	fclose(f);
	d = ret ? NULL : opendir(base);
	while (d && (de = readdir(d))) {
		char src[PATH_MAX];
		ssize_t n;

		snprintf(src, sizeof(src), "%s/%s", base, de->d_name);
		n = de->d_type == DT_LNK ? readlink(src, link, sizeof(link) - 1) : -1;
		if (n < 0)
			continue;
		link[n] = '\0';
		snprintf(dst, sizeof(dst), "%s%s", root, src);
		if (symlink(link, dst) && errno != EEXIST)
			ret = die(dst);
	}
	if (d)
		closedir(d);
	return ret;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (sk < 0)
		return die("socket");
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(sk, SIOCSIFFLAGS, &ifr);
	}
	if (ret)
		die("lo up");
	close(sk);
	return ret;
}

static int make_root(struct opts *o)
{
	int i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return die("make / private");
	if (mount(o->root, o->root, NULL, MS_BIND, NULL))
		return die(o->root);
	/* /tmp first: a bound tree that lives under /tmp (a clone there) goes on top of it, not under it */
	if (mount_fs(o->root, "/tmp", "tmpfs", MS_NOSUID | MS_NODEV))
		return -1;
	for (i = 0; i < o->nr_binds; i++)
		if (bind_one(o->root, o->bind[i], o->ro[i]))
			return -1;
	if (bind_one(o->root, "/dev", 0) || mount_fs(o->root, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV) ||
	    bind_one(o->root, "/dev/pts", 0) || mount_fs(o->root, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC) ||
	    mount_cgroups(o->root))
		return -1;
	if (mount(NULL, o->root, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL))
		return die("read-only root");
	if (chdir(o->root) || syscall(SYS_pivot_root, ".", "."))
		return die("pivot_root");
	if (umount2(".", MNT_DETACH) || chdir("/"))
		return die("detach the old root");
	return 0;
}

static int stdio_on(const char *log)
{
	int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (in < 0 || out < 0)
		return die("open stdio");
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return die("dup2");
	close(in);
	close(out);
	return 0;
}

static pid_t start_test(struct opts *o, sigset_t *old)
{
	char pidarg[64], outarg[PATH_MAX + 16];
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return die("fork");
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		/* the test is in a container: mntns.h keeps the mounts it runs from */
		setenv("ZDTM_CT", "1", 1);
		snprintf(pidarg, sizeof(pidarg), "--pidfile=%s", TEST_PIDFILE);
		snprintf(outarg, sizeof(outarg), "--outfile=%s", o->outfile);
		execl(o->test, o->test, pidarg, outarg, (char *)NULL);
		die(o->test);
		_exit(127);
	}
	/* the test's launcher exits 0 once the test called test_daemon() */
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ns-root: the test's launcher failed (status %#x)\n", status);
		return -1;
	}
	FILE *f = fopen(TEST_PIDFILE, "r");
	if (!f || fscanf(f, "%d", &pid) != 1) {
		die(TEST_PIDFILE);
		return -1;
	}
	fclose(f);
	return pid;
}

static void noop(int sig)
{
}

/* pid 1 inside: start the test, say ready, pass SIGTERM on, exit as the test does */
static int inner(struct opts *o, int ready)
{
	sigset_t set, old;
	siginfo_t si;
	pid_t test, p;
	int status;

	signal(SIGTERM, noop);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &old))
		return die("sigprocmask");
	if (stdio_on(o->log) || chdir(o->cwd))
		return die("stdio/cwd");
	/* nothing opened outside may stay: fds of another mount namespace are refused at dump */
	if ((ready > 3 && syscall(SYS_close_range, 3, ready - 1, 0)) || syscall(SYS_close_range, ready + 1, ~0U, 0) ||
	    fcntl(ready, F_SETFD, FD_CLOEXEC))
		return die("close_range");
	test = start_test(o, &old);
	if (test < 0)
		return 1;
	if (write(ready, "R", 1) != 1)
		return die("ready");
	close(ready);
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0) {
			if (errno == EINTR)
				continue;
			return die("sigwaitinfo");
		}
		if (si.si_signo == SIGTERM) {
			kill(test, SIGTERM);
			continue;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p == test)
				return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "r:p:l:c:b:w:")) != -1) {
		switch (c) {
		case 'r': o->root = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'l': o->log = optarg; break;
		case 'c': o->cwd = optarg; break;
		case 'b':
		case 'w':
			if (o->nr_binds == MAX_BINDS)
				return -1;
			o->ro[o->nr_binds] = c == 'b';
			o->bind[o->nr_binds++] = optarg;
			break;
		default: return -1;
		}
	}
	if (argc - optind != 2 || !o->root || !o->pidfile || !o->log || !o->cwd)
		return -1;
	o->test = argv[optind];
	o->outfile = argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {};
	char self[PATH_MAX], fdarg[16], buf;
	int pfd[2], status;
	ssize_t len;
	pid_t pid;
	FILE *f;

	if (argc > 2 && !strcmp(argv[1], "--inner")) {
		int ready = atoi(argv[2]);

		argv[2] = argv[0];
		if (parse(argc - 2, argv + 2, &o))
			return 2;
		return inner(&o, ready);
	}
	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: ns-root -r ROOT -p PIDFILE -l LOG -c CWD [-b RO_PATH]... [-w RW_PATH]... -- TEST OUTFILE\n");
		return 2;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return die("/proc/self/exe"), 1;
	self[len] = '\0';
	if (pipe(pfd) || unshare(NS_FLAGS))
		return die("unshare"), 1;
	pid = fork();
	if (pid < 0)
		return die("fork"), 1;
	if (pid == 0) {
		close(pfd[0]);
		if (sethostname(HOSTNAME, strlen(HOSTNAME)) || lo_up() || make_root(&o))
			_exit(1);
		snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
		char **nargv = calloc(argc + 3, sizeof(char *));
		if (!nargv)
			_exit(1);
		nargv[0] = self;
		nargv[1] = "--inner";
		nargv[2] = fdarg;
		memcpy(nargv + 3, argv + 1, (argc - 1) * sizeof(char *));
		execv(self, nargv);
		die(self);
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &buf, 1) != 1) {
		waitpid(pid, &status, 0);
		fprintf(stderr, "ns-root: the namespace's init failed (status %#x)\n", status);
		return 1;
	}
	f = fopen(o.pidfile, "w");
	if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f))
		return die(o.pidfile), 1;
	return 0;
}
