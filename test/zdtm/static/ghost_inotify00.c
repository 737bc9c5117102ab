// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_inotify00: an inotify watch on a file whose name was removed while
 * an fd of it stays open, next to a watch on its directory. After restore
 * nothing is queued (making the file again at restore must not show), and
 * the watch is on that very file: a write through the fd gives IN_MODIFY
 * on its wd, closing the fd IN_CLOSE_WRITE, then IN_DELETE_SELF and
 * IN_IGNORED (nothing else holds the removed file); a file created in the
 * directory gives IN_CREATE on the directory's wd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

/* The events queued now, as "wd:mask" words, into buf. */
static int events(int ifd, char *buf, size_t size)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while ((n = read(ifd, ev, sizeof(ev))) > 0) {
		for (char *p = ev; p < ev + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			len += snprintf(buf + len, size - len, "%d:%x ", e->wd, e->mask);
			if (len >= size)
				return -1;
			p += sizeof(*e) + e->len;
		}
	}
	return n < 0 && errno != EAGAIN ? -1 : 0;
}

int main(int argc, char **argv)
{
	char dirname[64], file[128], other[128], got[512], want[128];
	int ifd, fd, wdir, wfile;

	test_init(argc, argv);
	snprintf(dirname, sizeof(dirname), "ghost_inotify.%d", getpid());
	snprintf(file, sizeof(file), "%s/watched", dirname);
	snprintf(other, sizeof(other), "%s/created", dirname);
	ifd = inotify_init1(IN_NONBLOCK);
	if (mkdir(dirname, 0700) || ifd < 0 || (fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0) {
		fail("set up");
		return 1;
	}
	wdir = inotify_add_watch(ifd, dirname, IN_CREATE | IN_DELETE);
	wfile = inotify_add_watch(ifd, file, IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF);
	if (wdir < 0 || wfile < 0 || unlink(file) || events(ifd, got, sizeof(got))) {
		fail("watch and unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (events(ifd, got, sizeof(got)) || got[0])
		fail("events queued after restore: '%s'", got);
	if (write(fd, "x", 1) != 1 || close(fd)) {
		fail("write and close");
		return 1;
	}
	snprintf(want, sizeof(want), "%d:%x %d:%x %d:%x %d:%x ", wfile, IN_MODIFY, wfile, IN_CLOSE_WRITE, wfile,
		 IN_DELETE_SELF, wfile, IN_IGNORED);
	if (events(ifd, got, sizeof(got)) || strcmp(got, want))
		fail("events of the removed file: '%s', expected '%s'", got, want);
	fd = open(other, O_RDWR | O_CREAT | O_EXCL, 0600);
	snprintf(want, sizeof(want), "%d:%x ", wdir, IN_CREATE);
	if (fd < 0 || events(ifd, got, sizeof(got)) || strcmp(got, want))
		fail("events of the directory: '%s', expected '%s'", got, want);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
