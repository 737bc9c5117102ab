// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_removed_refused: an inotify watch on a removed file that only a
 * process outside the tree holds open (the watch keeps the inode, not a
 * name of it). Restore puts such a watch on the ghost of the file, and
 * there is none (nothing of the tree holds the file), so the dump must
 * refuse it by name; after it the watch is still there: once the outsider
 * is gone, it reports IN_DELETE_SELF.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char file[64], buf[sizeof(struct inotify_event) + 256];
	struct inotify_event *ev = (struct inotify_event *)buf;
	int ifd, fd, wd;
	pid_t out;

	test_init(argc, argv);
	snprintf(file, sizeof(file), "zdtm-inotify-removed.%d", getpid());
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	fd = open(file, O_CREAT | O_RDWR, 0600);
	if (ifd < 0 || fd < 0) {
		fail("inotify_init1 or open");
		return 1;
	}
	wd = inotify_add_watch(ifd, file, IN_DELETE_SELF);
	out = test_start_outsider();	/* it inherits fd */
	if (wd < 0 || out < 0 || close(fd) || unlink(file)) {
		fail("watch, outsider or unlink");
		return 1;
	}
	while (read(ifd, buf, sizeof(buf)) > 0)
		;

	test_daemon();
	test_waitsig();

	kill(out, SIGKILL);
	for (int i = 0; i < 500 && read(ifd, buf, sizeof(buf)) < (ssize_t)sizeof(*ev); i++)
		usleep(10000);
	if (ev->wd != wd || !(ev->mask & IN_DELETE_SELF))
		fail("no IN_DELETE_SELF for wd %d", wd);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
