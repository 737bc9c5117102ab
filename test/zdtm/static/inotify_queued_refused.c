// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_queued_refused: an inotify instance with an IN_CLOSE_WRITE event
 * queued and not read yet, which a restore would lose: the dump must refuse
 * it, naming it, and the event must still be there afterwards.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char file[64], buf[sizeof(struct inotify_event) + 64];
	const struct inotify_event *ev = (const void *)buf;
	int in, wd, fd;

	test_init(argc, argv);
	snprintf(file, sizeof(file), "inotify_queued.%d", getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	in = inotify_init1(IN_NONBLOCK);
	if (fd < 0 || in < 0 || (wd = inotify_add_watch(in, file, IN_CLOSE_WRITE)) < 0 || close(fd)) {
		fail("setup");
		return 1;
	}
	test_daemon();
	test_waitsig();

	memset(buf, 0, sizeof(buf));
	errno = 0;
	if (read(in, buf, sizeof(buf)) < (ssize_t)sizeof(*ev) || ev->wd != wd || ev->mask != IN_CLOSE_WRITE)
		fail("the queued event is gone after the refused dump (wd %d mask %#x)", ev->wd, ev->mask);
	unlink(file);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
