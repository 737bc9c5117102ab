/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the mnt_* tests: a mount namespace of the test's own, as a
 * container has one.
 *
 * mntns_enter() unshares it with private propagation and detaches what the
 * test inherited but "/", "/proc" and "/dev" (so the tree is the test's:
 * criu has to build every mount of it again; in the ct flavour it keeps them
 * all, a second mount namespace in the container), then reopens fds 0, 1 and 2
 * inside it (an fd opened before is on a mount of the runner's namespace,
 * which a dump refuses).
 *
 * mntns_snapshot() is /proc/self/mountinfo without the ids: one sorted line
 * per mount with its parent's mountpoint, and peer groups renamed in order
 * of appearance; mntns_check() compares it after restore, and checks that
 * the task is not in the mount namespace the test started in (the zdtm
 * runner's, which criu shares; its inode kept in ZDTM_MNTNS_RUNNER).
 * /proc is mounted again, from the test's pid namespace (the one inherited
 * may be of another).
 */
#ifndef ZDTM_MNTNS_H
#define ZDTM_MNTNS_H

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MNTNS_MAX 128

/* an fd mntns_enter() leaves open across its exec (a test of a file from outside), -1 */
static int mntns_keep_fd = -1;
/*
 * a mountpoint mntns_enter() keeps, as a slave of its group outside (a test
 * of external masters), or a peer of it with mntns_keep_shared
 */
static const char *mntns_keep_slave;
static bool mntns_keep_shared;

struct mntns_line {
	int id, parent;
	char mp[512], rest[1024];
};

static inline int mntns_read(struct mntns_line *l, int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char buf[2048];
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(buf, sizeof(buf), f)) {
		char root[256], opts[128], tail[400], *dash;
		unsigned int maj, min;

		if (sscanf(buf, "%d %d %u:%u %255s %511s %127s", &l[n].id, &l[n].parent, &maj, &min, root, l[n].mp,
			   opts) != 7)
			continue;
		dash = strstr(buf, " - ");
		if (!dash)
			continue;
		snprintf(tail, sizeof(tail), "%s", dash + 3);
		tail[strcspn(tail, "\n")] = '\0';
		/* the optional fields between the options and " - " */
		{
			char *p = strstr(buf, opts) + strlen(opts), prop[128] = "";

			*dash = '\0';
			snprintf(prop, sizeof(prop), "%s", p);
			snprintf(l[n].rest, sizeof(l[n].rest), "root=%s opts=%s prop=[%s] %s", root, opts, prop, tail);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* "shared:N" and "master:N" renamed to the order each N first appears in. */
static inline void mntns_rename_groups(struct mntns_line *l, int n)
{
	int seen[MNTNS_MAX], nr = 0;

	for (int i = 0; i < n; i++) {
		char out[1024] = "", *p = l[i].rest, *s;

		while ((s = strpbrk(p, "sm"))) {
			int id, k;
			const char *kind = !strncmp(s, "shared:", 7) ? "shared:" : !strncmp(s, "master:", 7) ? "master:" : NULL;

			if (!kind || sscanf(s + 7, "%d", &id) != 1) {
				strncat(out, p, s - p + 1);
				p = s + 1;
				continue;
			}
			strncat(out, p, s - p);
			for (k = 0; k < nr && seen[k] != id; k++)
				;
			if (k == nr && nr < MNTNS_MAX)
				seen[nr++] = id;
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%sG%d", kind, k);
			p = s + 7;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		strncat(out, p, sizeof(out) - strlen(out) - 1);
		snprintf(l[i].rest, sizeof(l[i].rest), "%s", out);
	}
}

static int mntns_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* malloc'ed, one line per mount, sorted */
static inline char *mntns_snapshot(void)
{
	static struct mntns_line l[MNTNS_MAX];
	char *lines[MNTNS_MAX], *out;
	int n = mntns_read(l, MNTNS_MAX);
	size_t size = 1;

	if (n < 0)
		return NULL;
	mntns_rename_groups(l, n);
	for (int i = 0; i < n; i++) {
		const char *pmp = "-";

		for (int j = 0; j < n; j++)
			if (l[j].id == l[i].parent)
				pmp = l[j].mp;
		if (asprintf(&lines[i], "%s on %s: %s\n", l[i].mp, pmp, l[i].rest) < 0)
			return NULL;
		size += strlen(lines[i]);
	}
	qsort(lines, n, sizeof(lines[0]), mntns_cmp);
	out = calloc(1, size);
	for (int i = 0; i < n; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	return out;
}

/* A new directory NAME.XXXXXX in the cwd (the test's run directory, on "/"), its absolute path in buf. */
static inline char *mntns_mkdtemp(char *buf, size_t size, const char *name)
{
	char cwd[PATH_MAX];

	if (!getcwd(cwd, sizeof(cwd)) || snprintf(buf, size, "%s/%s.XXXXXX", cwd, name) >= (int)size)
		return NULL;
	return mkdtemp(buf);
}

/*
 * rel under the test's own temporary directory, which the runner makes for
 * each run ($ZDTM_TMP; the .desc names it {tmp}): never a fixed path that two
 * runs at once would share. NULL when the test was not started by the runner.
 */
static inline const char *mntns_tmp(const char *rel)
{
	static char buf[8][256];
	static int n;
	const char *base = getenv("ZDTM_TMP");

	if (!base || !*base)
		return NULL;
	n = (n + 1) % 8;
	snprintf(buf[n], sizeof(buf[n]), "%s%s", base, rel);
	return buf[n];
}

/* dir/rel, in one of four buffers used in turn (a call can take up to four). */
static inline char *mntns_at(const char *dir, const char *rel)
{
	static char buf[4][256];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, rel);
	return buf[n];
}

static inline unsigned long mntns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static inline int mntns_reopen_stdio(void)
{
	char path[512];
	ssize_t n = readlink("/proc/self/fd/2", path, sizeof(path) - 1);
	int fd;

	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		return -1;
	close(fd);
	if (n <= 0 || path[0] != '/')
		snprintf(path, sizeof(path), "/dev/null");
	else
		path[n] = '\0';
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Called first in main(), before test_init(): the test execs itself again
 * inside the namespace, so that its exe and libraries are mapped from the
 * namespace's own mounts (a file opened before unshare() stays on the mount
 * of the namespace it was opened in, which is not the tree's).
 */
static inline int mntns_enter(char **argv)
{
	static struct mntns_line l[MNTNS_MAX];
	char exe[512];
	int n, root = -1;

	if (getenv("ZDTM_MNTNS_IN"))
		return 0;
	snprintf(exe, sizeof(exe), "%lu", mntns_ino("/proc/self/ns/mnt"));
	setenv("ZDTM_MNTNS_RUNNER", exe, 1);
	if (unshare(CLONE_NEWNS)) {
		fail("can't make a mount namespace");
		return -1;
	}
	/*
	 * With a mount kept, the others are made slaves first (one by one when
	 * the kept one stays a peer): nothing unmounted here reaches the
	 * runner's namespace.
	 */
	n = mntns_keep_shared ? mntns_read(l, MNTNS_MAX) : 0;
	for (int i = 0; i < n; i++)
		if (strcmp(l[i].mp, mntns_keep_slave))
			mount(NULL, l[i].mp, NULL, MS_SLAVE, NULL);
	if (!mntns_keep_shared &&
	    mount(NULL, "/", NULL, MS_REC | (mntns_keep_slave ? MS_SLAVE : MS_PRIVATE), NULL)) {
		fail("can't make a private mount namespace");
		return -1;
	}
	/*
	 * In the ct flavour the namespace is a second one of the tree, unshared
	 * from the container's (ns-root's): the test keeps its mounts, which it
	 * runs from (binds of the runner's, external there), and its /proc,
	 * of the container's pid namespace, which is the test's.
	 */
	if (getenv("ZDTM_CT"))
		goto reopen;
	/* detach every mount on "/" but /proc and /dev, and every mount on /dev */
	for (int pass = 0; pass < 8; pass++) {
		int left = 0;

		n = mntns_read(l, MNTNS_MAX);
		for (int i = 0; i < n; i++)
			if (!strcmp(l[i].mp, "/"))
				root = l[i].id;
		for (int i = n - 1; i >= 0; i--) {
			bool keep = !strcmp(l[i].mp, "/") || ((!strcmp(l[i].mp, "/proc") || !strcmp(l[i].mp, "/dev")) &&
							      l[i].parent == root) ||
				    (mntns_keep_slave && !strcmp(l[i].mp, mntns_keep_slave));

			if (keep)
				continue;
			left++;
			umount2(l[i].mp, MNT_DETACH);
		}
		if (!left)
			break;
	}
	if (mntns_keep_slave &&
	    (mount(NULL, "/", NULL, MS_PRIVATE, NULL) || mount(NULL, "/dev", NULL, MS_PRIVATE, NULL))) {
		fail("can't make / and /dev private");
		return -1;
	}
	/* a proc of the test's pid namespace (the inherited one may be another's) */
	if (umount2("/proc", MNT_DETACH) || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		fail("can't mount a proc of the test's own");
		return -1;
	}
reopen:
	if (mntns_reopen_stdio()) {
		fail("can't reopen stdio in the new mount namespace");
		return -1;
	}
	/* what the test inherited besides stdio is on the runner's mounts (but the one it keeps) */
	if (mntns_keep_fd > 3)
		syscall(SYS_close_range, 3, mntns_keep_fd - 1, 0);
	syscall(SYS_close_range, mntns_keep_fd >= 3 ? mntns_keep_fd + 1 : 3, ~0U, 0);
	setenv("ZDTM_MNTNS_IN", "1", 1);
	/* by name: /proc/self/exe would give the file on the old namespace's mount again */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		execv(exe, argv);
	}
	fail("can't exec the test again in its mount namespace");
	return -1;
}


static inline bool mntns_in_runners(void)
{
	const char *r = getenv("ZDTM_MNTNS_RUNNER");

	/*
	 * ct: the namespace the test started in is the container's, restored
	 * as a new one (whose inode may be the old one's number again): the
	 * test must not be in its init's
	 */
	if (getenv("ZDTM_CT"))
		return mntns_ino("/proc/self/ns/mnt") == mntns_ino("/proc/1/ns/mnt");
	return !r || strtoul(r, NULL, 10) == mntns_ino("/proc/self/ns/mnt");
}

/* After restore: the same tree (but ids), in a mount namespace that is not criu's. */
static inline void mntns_check(const char *before)
{
	char *after = mntns_snapshot();

	if (!after || !before) {
		fail("can't read the mount tree");
		return;
	}
	if (strcmp(before, after)) {
		fail("the mount tree changed");
		test_msg("before:\n%s", before);
		test_msg("after:\n%s", after);
	}
	if (mntns_in_runners())
		fail("the task is in the mount namespace of the runner (criu's)");
	free(after);
}


/*
 * A child in a mount namespace unshared from the test's (as a nested runtime
 * or systemd's PrivateTmp makes one): mntns_fork_child() forks it; it
 * unshares, reopens its stdio there and execs the test again (so that its
 * exe and libraries are mapped from its own namespace's mounts) with
 * ZDTM_MNTNS_CHILD set to the write end of a pipe; the test's main() then
 * runs its child part, which calls mntns_child_ready() once set up. The
 * parent returns from mntns_fork_child() when the child is ready.
 */
static inline pid_t mntns_fork_child(char **argv)
{
	char exe[512], c;
	int p[2];
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0 || unshare(CLONE_NEWNS) || mntns_reopen_stdio())
			_exit(2);
		exe[n] = '\0';
		if (p[1] != 3 && (dup2(p[1], 3) < 0 || close(p[1])))
			_exit(2);
		syscall(SYS_close_range, 4, ~0U, 0);
		setenv("ZDTM_MNTNS_CHILD", "3", 1);
		execv(exe, argv);
		_exit(2);
	}
	close(p[1]);
	n = read(p[0], &c, 1);
	close(p[0]);
	return n == 1 ? pid : -1;
}

static volatile sig_atomic_t mntns_child_term;

static void mntns_child_on_term(int sig)
{
	(void)sig;
	mntns_child_term = 1;
}

/* In the child: set up; tell the parent; wait for its SIGTERM (after restore). */
static inline int mntns_child_ready(void)
{
	sigset_t mask, old;
	char c = 1;

	signal(SIGTERM, mntns_child_on_term);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sigdelset(&old, SIGTERM);	/* the test's mask, inherited, may block it */
	if (write(3, &c, 1) != 1)
		return -1;
	close(3);
	while (!mntns_child_term)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* The mount id of path (statx), -1. */
static inline long long mntns_mnt_id(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID))
		return -1;
	return (long long)stx.stx_mnt_id;
}

/* The mount namespace inode of the task pid (0: self). */
static inline unsigned long mntns_ino_of(pid_t pid)
{
	char path[64];

	if (!pid)
		return mntns_ino("/proc/self/ns/mnt");
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	return mntns_ino(path);
}

#endif
