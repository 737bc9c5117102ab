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

static char *at(const char *rel)
{
	static char buf[4][256];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, rel);
	return buf[n];
}

static dev_t dev_of(const char *rel)
{
	struct stat st;

	return stat(at(rel), &st) ? 0 : st.st_dev;
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
		mkdir(at(dirs[i]), 0755);
	if (mount("zdtm-a", at("a"), "tmpfs", 0, "size=64k") || mount(NULL, at("a"), NULL, MS_SHARED, NULL) ||
	    mkdir(at("a/x"), 0755) || mkdir(at("a/y"), 0755) || mkdir(at("a/z"), 0755)) {
		fail("the shared tmpfs");
		return 1;
	}
	/* b: a peer of a; c: a slave of a's group; d: a slave of it, shared with e */
	if (mount(at("a"), at("b"), NULL, MS_BIND, NULL) || mount(at("a"), at("c"), NULL, MS_BIND, NULL) ||
	    mount(NULL, at("c"), NULL, MS_SLAVE, NULL) || mount(at("a"), at("d"), NULL, MS_BIND, NULL) ||
	    mount(NULL, at("d"), NULL, MS_SLAVE, NULL) || mount(NULL, at("d"), NULL, MS_SHARED, NULL) ||
	    mount(at("d"), at("e"), NULL, MS_BIND, NULL)) {
		fail("the binds");
		return 1;
	}
	if (mount("zdtm-u", at("u"), "tmpfs", 0, "size=64k") || mount(NULL, at("u"), NULL, MS_UNBINDABLE, NULL)) {
		fail("the unbindable tmpfs");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	/* a mount on a: on its peer b and its slaves c, d, and d's peer e */
	if (mount("zdtm-x", at("a/x"), "tmpfs", 0, "size=16k")) {
		fail("mount on a");
	} else {
		x = dev_of("a/x");
		if (dev_of("b/x") != x || dev_of("c/x") != x || dev_of("d/x") != x || dev_of("e/x") != x)
			fail("a mount on a did not reach its peer and its slaves");
	}
	/* a mount on the slave c stays there */
	if (mount("zdtm-y", at("c/y"), "tmpfs", 0, "size=16k")) {
		fail("mount on c");
	} else if (dev_of("a/y") == dev_of("c/y") || dev_of("b/y") == dev_of("c/y")) {
		fail("a mount on the slave c reached its master");
	}
	/* a mount on d reaches its peer e, not a */
	if (mount("zdtm-z", at("d/z"), "tmpfs", 0, "size=16k")) {
		fail("mount on d");
	} else if (dev_of("e/z") != dev_of("d/z") || dev_of("a/z") == dev_of("d/z")) {
		fail("a mount on d did not reach its peer e only");
	}
	if (!mount(at("u"), at("ub"), NULL, MS_BIND, NULL) || errno != EINVAL)
		fail("the unbindable tmpfs could be bound");

	umount2(at("e"), MNT_DETACH);
	umount2(at("d"), MNT_DETACH);
	umount2(at("c"), MNT_DETACH);
	umount2(at("b"), MNT_DETACH);
	umount2(at("a"), MNT_DETACH);
	umount2(at("u"), MNT_DETACH);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rmdir(at(dirs[i]));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
