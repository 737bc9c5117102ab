// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_ext: an external mount, as a container runtime names one. The test's
 * own mount namespace has a ramfs (which criu can't make again) at in/ of
 * its temporary directory ($ZDTM_TMP, {tmp} in the .desc: the runner makes
 * one per run); the .desc dumps it as external with a key
 * (--external mnt[MOUNTPOINT]:KEY) and restores the key from a directory
 * (--ext-mount-map KEY:PATH, RPC ext_mnt) with --root /. After restore the
 * mount at in/ must be a bind of that directory (its marker file there, the
 * ramfs's file not), the rest of the tree as dumped; without a restore
 * (--norst) the ramfs is still there.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "mntns.h"

/* under the test's temporary directory, unique to the run ({tmp} in the .desc) */
#define T(rel) mntns_tmp(rel)
#define RAMFS_MAGIC 0x858458f6

static int put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fail("can't write %s", path);
		return -1;
	}
	close(fd);
	return 0;
}

static void expect(const char *path, const char *text)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		fail("can't read %s", path);
	else if (strcmp(buf, text))
		fail("%s holds '%s', not '%s'", path, buf, text);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	struct statfs sfs;
	char *before;

	if (!T("")) {
		fprintf(stderr, "ZDTM_TMP is not set: the test is run by zdtm.py, which makes it\n");
		return 1;
	}

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	mkdir(T(""), 0755);
	mkdir(T("/src"), 0755);
	mkdir(T("/in"), 0755);
	mkdir(T("/plain"), 0755);
	if (put(T("/src/marker"), "external") || mount("zdtm-ext", T("/in"), "ramfs", 0, NULL) ||
	    put(T("/in/data"), "ram") || mount("zdtm-plain", T("/plain"), "tmpfs", 0, "size=16k") ||
	    put(T("/plain/file"), "plain")) {
		fail("can't build the tree");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	expect(T("/plain/file"), "plain");
	if (statfs(T("/in"), &sfs)) {
		fail("statfs in");
	} else if (sfs.f_type == RAMFS_MAGIC) {
		/* not restored (--norst): the tree as it was */
		mntns_check(before);
		expect(T("/in/data"), "ram");
	} else {
		/* restored: the runtime's directory is bound there */
		expect(T("/in/marker"), "external");
		if (!access(T("/in/data"), F_OK))
			fail("the ramfs file is in the external mount");
		if (mntns_in_runners())
			fail("the task is in the runner's mount namespace");
	}
	umount2(T("/in"), MNT_DETACH);
	umount2(T("/plain"), MNT_DETACH);
	unlink(T("/src/marker"));
	rmdir(T("/src"));
	rmdir(T("/in"));
	rmdir(T("/plain"));
	rmdir(T(""));
	if (test_failed())
		return 1;
	pass();
	return 0;
}
