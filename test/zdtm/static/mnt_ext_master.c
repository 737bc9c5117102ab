// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_ext_master: an external mount that is a slave of a peer group outside
 * the tree's mount namespace, as a container's mounts are slaves of the
 * host's (rslave). Before making its namespace the test mounts a shared
 * tmpfs in the runner's (criu's) namespace; its copy in the test's
 * namespace is made a slave of that group and dumped as external. Restore
 * binds it from the runner's tmpfs again and makes it a slave of the same
 * group (criu checks the group). After restore the tree (with the slave's
 * master renamed) and the tmpfs's file are back. The runner's tmpfs stays
 * until the runner exits.
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
	char *before;

	if (!T("")) {
		fprintf(stderr, "ZDTM_TMP is not set: the test is run by zdtm.py, which makes it\n");
		return 1;
	}

	if (!getenv("ZDTM_MNTNS_IN")) {
		int fd;

		/* in the runner's namespace: the group outside */
		mkdir(T(""), 0755);
		mkdir(T("/src"), 0755);
		if (mount("zdtm-host", T("/src"), "tmpfs", 0, "size=16k") ||
		    mount(NULL, T("/src"), NULL, MS_SHARED, NULL))
			return 1;
		fd = open(T("/src/marker"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, "host", 4) != 4)
			return 1;
		close(fd);
	}
	mntns_keep_slave = strdup(T("/src"));
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!strstr((before = mntns_snapshot()) ?: "", T("/src on /: root=/ opts=rw,relatime prop=[ master:G0]"))) {
		fail("%s is not a slave of the runner's group", T("/src"));
		test_msg("%s", before ?: "");
		return 1;
	}

	test_daemon();
	test_waitsig();

	mntns_check(before);
	expect(T("/src/marker"), "host");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
