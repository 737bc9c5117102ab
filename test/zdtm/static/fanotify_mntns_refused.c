// SPDX-License-Identifier: GPL-2.0
/*
 * fanotify_mntns_refused (ct flavour only): a fanotify group held by a
 * task of a tree with a mount namespace of its own (the container's),
 * whose marks criu would have to find again in the mount tree it rebuilds
 * (not done): the dump must refuse it, naming it, and the group must still
 * work afterwards.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct fanotify_event_metadata m;
	char file[64];
	int g, fd;

	test_init(argc, argv);
	snprintf(file, sizeof(file), "fanotify_mntns.%d", getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || close(fd)) {
		fail("setup");
		return 1;
	}
	g = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (g < 0 || fanotify_mark(g, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, file)) {
		fail("fanotify setup");
		return 1;
	}
	test_daemon();
	test_waitsig();

	fd = open(file, O_WRONLY);
	if (fd < 0 || close(fd) || read(g, &m, sizeof(m)) < (ssize_t)sizeof(m) || m.mask != FAN_CLOSE_WRITE)
		fail("the group's mark does not work after the refused dump");
	unlink(file);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
