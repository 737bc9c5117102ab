// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_nested_peers: one peer group across two mount namespaces of the tree.
 * The test makes a shared tmpfs in its own mount namespace and forks a child
 * that unshares another: the child's copy of the tmpfs is a peer of the
 * test's. A second shared tmpfs of the test's has its copy made a slave in
 * the child's. After restore both must be in one group again (the child's
 * shared:N is the test's), and propagation must go both ways: a mount the
 * test makes on its tmpfs shows up in the child's namespace, one the child
 * makes on its copy shows up in the test's; the slave's master is the
 * test's second tmpfs's group again: a mount the test makes there reaches
 * the child's copy, one the child makes on its copy stays there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];

static dev_t dev_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_dev;
}

/*
 * The peer group (kind " shared:") or the master (" master:") of the mount at
 * path in pid's mountinfo (0: none, -1: not found).
 */
static int prop_of(pid_t pid, const char *path, const char *kind)
{
	char file[64], line[2048], mp[512];
	int group = -1;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/mountinfo", pid);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *s;

		if (sscanf(line, "%*d %*d %*u:%*u %*s %511s", mp) != 1 || strcmp(mp, path))
			continue;
		s = strstr(line, kind);
		group = s && s < strstr(line, " - ") ? atoi(s + strlen(kind)) : 0;
	}
	if (f)
		fclose(f);
	return group;
}

static int group_of(pid_t pid, const char *path)
{
	return prop_of(pid, path, " shared:");
}

/* Whether a mount shows up on path (another device than parent's) within 10 s. */
static bool wait_mount(const char *path, const char *parent)
{
	for (int i = 0; i < 1000; i++) {
		if (dev_of(path) != dev_of(parent))
			return true;
		usleep(10000);
	}
	return false;
}

static int child_main(void)
{
	char *before, *after;
	int bad = 0;

	if (mount(NULL, mntns_at(dir, "sl"), NULL, MS_SLAVE, NULL)) {
		fprintf(stderr, "child: can't make its copy of sl a slave: %m\n");
		return 1;
	}
	before = mntns_snapshot();
	if (!before || mntns_child_ready())
		return 1;

	after = mntns_snapshot();
	if (!after || strcmp(before, after)) {
		fprintf(stderr, "child: its mount tree changed\nbefore:\n%s\nafter:\n%s\n", before, after ?: "");
		bad = 1;
	}
	if (mntns_ino_of(0) == mntns_ino_of(getppid()) || mntns_in_runners()) {
		fprintf(stderr, "child: not in a mount namespace of its own\n");
		bad = 1;
	}
	if (group_of(getpid(), mntns_at(dir, "sh")) <= 0 || group_of(getpid(), mntns_at(dir, "sh")) != group_of(getppid(), mntns_at(dir, "sh"))) {
		fprintf(stderr, "child: its tmpfs is in group %d, the test's in %d\n", group_of(getpid(), mntns_at(dir, "sh")),
			group_of(getppid(), mntns_at(dir, "sh")));
		bad = 1;
	}
	/* the test waits for this one to reach its tmpfs, then mounts on sh/x */
	if (mount("zdtm-peer-y", mntns_at(dir, "sh/y"), "tmpfs", 0, "size=16k")) {
		fprintf(stderr, "child: can't mount on its copy: %m\n");
		return 1;
	}
	if (!wait_mount(mntns_at(dir, "sh/x"), mntns_at(dir, "sh"))) {
		fprintf(stderr, "child: the test's mount on its tmpfs did not reach the child's copy\n");
		bad = 1;
	}
	/* the slave: its master is the test's group; what the test mounts there comes here */
	if (prop_of(getpid(), mntns_at(dir, "sl"), " master:") <= 0 ||
	    prop_of(getpid(), mntns_at(dir, "sl"), " master:") != group_of(getppid(), mntns_at(dir, "sl"))) {
		fprintf(stderr, "child: its slave's master is %d, the test's group %d\n",
			prop_of(getpid(), mntns_at(dir, "sl"), " master:"), group_of(getppid(), mntns_at(dir, "sl")));
		bad = 1;
	}
	if (!wait_mount(mntns_at(dir, "sl/x"), mntns_at(dir, "sl"))) {
		fprintf(stderr, "child: the test's mount on its second tmpfs did not reach the child's slave\n");
		bad = 1;
	}
	if (mount("zdtm-slave-y", mntns_at(dir, "sl/y"), "tmpfs", 0, "size=16k")) {
		fprintf(stderr, "child: can't mount on its slave: %m\n");
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	char *before, sdir[64];
	pid_t child;
	int status = 0;

	if (getenv("ZDTM_MNTNS_CHILD")) {
		snprintf(dir, sizeof(dir), "%s", getenv("ZDTM_NESTED_DIR") ?: "");
		return child_main();
	}
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_nested_peers") || mkdir(mntns_at(dir, "sh"), 0755) ||
	    mount("zdtm-peers", mntns_at(dir, "sh"), "tmpfs", 0, "size=64k") || mount(NULL, mntns_at(dir, "sh"), NULL, MS_SHARED, NULL) ||
	    mkdir(mntns_at(dir, "sh/x"), 0755) || mkdir(mntns_at(dir, "sh/y"), 0755) || mkdir(mntns_at(dir, "sl"), 0755) ||
	    mount("zdtm-peers-sl", mntns_at(dir, "sl"), "tmpfs", 0, "size=64k") || mount(NULL, mntns_at(dir, "sl"), NULL, MS_SHARED, NULL) ||
	    mkdir(mntns_at(dir, "sl/x"), 0755) || mkdir(mntns_at(dir, "sl/y"), 0755)) {
		fail("can't make the shared tmpfs");
		return 1;
	}
	setenv("ZDTM_NESTED_DIR", dir, 1);
	child = mntns_fork_child(argv);
	if (child < 0) {
		fail("the child in its own mount namespace did not start");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	/* the child checks its tree, mounts on sh/y; then the test mounts on sh/x */
	kill(child, SIGTERM);
	if (!wait_mount(mntns_at(dir, "sh/y"), mntns_at(dir, "sh")))
		fail("the child's mount on its copy did not reach the test's tmpfs");
	if (mount("zdtm-peer-x", mntns_at(dir, "sh/x"), "tmpfs", 0, "size=16k") ||
	    mount("zdtm-slave-x", mntns_at(dir, "sl/x"), "tmpfs", 0, "size=16k"))
		fail("can't mount on the shared tmpfs");
	if (test_wait_child(child, 15, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its peer group broken (%s: see the log)",
		     test_status_str(status, sdir, sizeof(sdir)));
	if (dev_of(mntns_at(dir, "sl/y")) != dev_of(mntns_at(dir, "sl")))
		fail("the child's mount on its slave reached the test's tmpfs, its master");
	umount2(mntns_at(dir, "sl/x"), MNT_DETACH);
	umount2(mntns_at(dir, "sl"), MNT_DETACH);
	rmdir(mntns_at(dir, "sl"));
	umount2(mntns_at(dir, "sh/y"), MNT_DETACH);
	umount2(mntns_at(dir, "sh/x"), MNT_DETACH);
	umount2(mntns_at(dir, "sh"), MNT_DETACH);
	rmdir(mntns_at(dir, "sh"));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
