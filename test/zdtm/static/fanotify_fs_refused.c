// SPDX-License-Identifier: GPL-2.0
/*
 * fanotify_fs_refused: a fanotify group with a mark on a whole filesystem
 * (FAN_MARK_FILESYSTEM), which CRIU's image has no kind for: the dump must
 * refuse it, naming it, and the mark must still work afterwards.
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
	snprintf(file, sizeof(file), "fanotify_fs.%d", getpid());
	g = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (g < 0 || fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD, ".")) {
		fail("setup");
		return 1;
	}
	test_daemon();
	test_waitsig();

	while (read(g, &m, sizeof(m)) > 0)	/* whatever others wrote on this filesystem meanwhile */
		if (m.fd >= 0)
			close(m.fd);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || close(fd) || read(g, &m, sizeof(m)) < (ssize_t)sizeof(m) || !(m.mask & FAN_CLOSE_WRITE))
		fail("the filesystem mark does not work after the refused dump");
	unlink(file);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
