// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_removed_refused: an inotify watch on a file that was removed (the
 * watch keeps its inode alive). Restore can't watch a file that no longer
 * exists, so the dump must refuse; after it the watch is still there and
 * reports a write through an fd of the file the test kept.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char file[64], buf[sizeof(struct inotify_event) + 256];
	struct inotify_event *ev = (struct inotify_event *)buf;
	int ifd, fd, wd;

	test_init(argc, argv);
	snprintf(file, sizeof(file), "zdtm-inotify-removed.%d", getpid());
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (ifd < 0 || fd < 0) {
		fail("inotify_init1 or open");
		return 1;
	}
	wd = inotify_add_watch(ifd, file, IN_MODIFY);
	if (wd < 0 || unlink(file)) {
		fail("watch or unlink");
		return 1;
	}
	while (read(ifd, buf, sizeof(buf)) > 0)
		;	/* IN_ATTRIB of the unlink, if asked */

	test_daemon();
	test_waitsig();

	if (write(fd, "x", 1) != 1) {
		fail("write");
		return 1;
	}
	if (read(ifd, buf, sizeof(buf)) < (ssize_t)sizeof(*ev) || ev->wd != wd || !(ev->mask & IN_MODIFY))
		fail("no IN_MODIFY for wd %d", wd);
	pass();
	return 0;
}
