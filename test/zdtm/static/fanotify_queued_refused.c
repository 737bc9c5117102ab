// SPDX-License-Identifier: GPL-2.0
/*
 * fanotify_queued_refused: a fanotify group with an event queued and not
 * read yet (it holds an open file of the watched file), which a restore
 * would lose: the dump must refuse it, naming it, and the event must still
 * be there afterwards.
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
	snprintf(file, sizeof(file), "fanotify_queued.%d", getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	g = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);
	if (fd < 0 || g < 0 || fanotify_mark(g, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, file) || close(fd)) {
		fail("setup");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (read(g, &m, sizeof(m)) < (ssize_t)sizeof(m) || m.mask != FAN_CLOSE_WRITE)
		fail("the queued event is gone after the refused dump");
	unlink(file);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
