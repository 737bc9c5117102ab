// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_ext_shared_refused: in the test's own mount namespace, a mount that
 * is a peer of a shared tmpfs of the runner's (criu's) namespace: restore
 * would make it a peer group of its own, and mounts would no longer
 * propagate between the two. The dump must fail naming the mount, and the
 * sharing still work after it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"

/* under the test's temporary directory, unique to the run ({tmp} in the .desc) */
#define T(rel) mntns_tmp(rel)

int main(int argc, char **argv)
{
	char *snap;

	if (!T("")) {
		fprintf(stderr, "ZDTM_TMP is not set: the test is run by zdtm.py, which makes it\n");
		return 1;
	}

	if (!getenv("ZDTM_MNTNS_IN")) {
		mkdir(T(""), 0755);
		mkdir(T("/src"), 0755);
		if (mount("zdtm-host", T("/src"), "tmpfs", 0, "size=16k") ||
		    mount(NULL, T("/src"), NULL, MS_SHARED, NULL) || mkdir(T("/src/x"), 0755))
			return 1;
	}
	mntns_keep_slave = strdup(T("/src"));
	mntns_keep_shared = true;
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	snap = mntns_snapshot();
	if (!strstr(snap ?: "", T("/src on /: root=/ opts=rw,relatime prop=[ shared:G0]"))) {
		fail("%s is not a peer of the runner's group", T("/src"));
		test_msg("%s", snap ?: "");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* still a peer: a mount made here reaches the runner's copy, which is the same tree */
	if (mount("zdtm-x", T("/src/x"), "tmpfs", 0, "size=16k"))
		fail("mount on the shared mount");
	umount2(T("/src/x"), MNT_DETACH);
	if (strcmp(mntns_snapshot() ?: "", snap))
		fail("the tree changed after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
