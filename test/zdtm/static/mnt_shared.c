// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_shared: propagation between mounts of the test's own mount namespace.
 * A tmpfs made shared, a bind of it (its peer), a bind made a slave of them,
 * a slave that is also shared (with a peer of its own), and an unbindable
 * tmpfs. After restore the groups must be there again (mountinfo, peer
 * groups renamed) and must work: a mount made on the shared one shows up on
 * its peer and its slaves, one made on a slave stays there; and the
 * unbindable one can't be bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */

static dev_t dev_of(const char *rel)
{
	struct stat st;

	return stat(mntns_at(dir, rel), &st) ? 0 : st.st_dev;
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = { "a", "b", "c", "d", "e", "u", "ub" };
	char *before;
	dev_t x;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_shared")) {
		fail("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(mntns_at(dir, dirs[i]), 0755);
	if (mount("zdtm-a", mntns_at(dir, "a"), "tmpfs", 0, "size=64k") || mount(NULL, mntns_at(dir, "a"), NULL, MS_SHARED, NULL) ||
	    mkdir(mntns_at(dir, "a/x"), 0755) || mkdir(mntns_at(dir, "a/y"), 0755) || mkdir(mntns_at(dir, "a/z"), 0755)) {
		fail("the shared tmpfs");
		return 1;
	}
	/* b: a peer of a; c: a slave of a's group; d: a slave of it, shared with e */
	if (mount(mntns_at(dir, "a"), mntns_at(dir, "b"), NULL, MS_BIND, NULL) || mount(mntns_at(dir, "a"), mntns_at(dir, "c"), NULL, MS_BIND, NULL) ||
	    mount(NULL, mntns_at(dir, "c"), NULL, MS_SLAVE, NULL) || mount(mntns_at(dir, "a"), mntns_at(dir, "d"), NULL, MS_BIND, NULL) ||
	    mount(NULL, mntns_at(dir, "d"), NULL, MS_SLAVE, NULL) || mount(NULL, mntns_at(dir, "d"), NULL, MS_SHARED, NULL) ||
	    mount(mntns_at(dir, "d"), mntns_at(dir, "e"), NULL, MS_BIND, NULL)) {
		fail("the binds");
		return 1;
	}
	if (mount("zdtm-u", mntns_at(dir, "u"), "tmpfs", 0, "size=64k") || mount(NULL, mntns_at(dir, "u"), NULL, MS_UNBINDABLE, NULL)) {
		fail("the unbindable tmpfs");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	/* a mount on a: on its peer b and its slaves c, d, and d's peer e */
	if (mount("zdtm-x", mntns_at(dir, "a/x"), "tmpfs", 0, "size=16k")) {
		fail("mount on a");
	} else {
		x = dev_of("a/x");
		if (dev_of("b/x") != x || dev_of("c/x") != x || dev_of("d/x") != x || dev_of("e/x") != x)
			fail("a mount on a did not reach its peer and its slaves");
	}
	/* a mount on the slave c stays there */
	if (mount("zdtm-y", mntns_at(dir, "c/y"), "tmpfs", 0, "size=16k")) {
		fail("mount on c");
	} else if (dev_of("a/y") == dev_of("c/y") || dev_of("b/y") == dev_of("c/y")) {
		fail("a mount on the slave c reached its master");
	}
	/* a mount on d reaches its peer e, not a */
	if (mount("zdtm-z", mntns_at(dir, "d/z"), "tmpfs", 0, "size=16k")) {
		fail("mount on d");
	} else if (dev_of("e/z") != dev_of("d/z") || dev_of("a/z") == dev_of("d/z")) {
		fail("a mount on d did not reach its peer e only");
	}
	if (!mount(mntns_at(dir, "u"), mntns_at(dir, "ub"), NULL, MS_BIND, NULL) || errno != EINVAL)
		fail("the unbindable tmpfs could be bound");

	umount2(mntns_at(dir, "e"), MNT_DETACH);
	umount2(mntns_at(dir, "d"), MNT_DETACH);
	umount2(mntns_at(dir, "c"), MNT_DETACH);
	umount2(mntns_at(dir, "b"), MNT_DETACH);
	umount2(mntns_at(dir, "a"), MNT_DETACH);
	umount2(mntns_at(dir, "u"), MNT_DETACH);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rmdir(mntns_at(dir, dirs[i]));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
