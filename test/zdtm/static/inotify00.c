// SPDX-License-Identifier: GPL-2.0
/*
 * inotify00: inotify watches survive with their wds, inodes and masks.
 * Watches: a directory (IN_CREATE|IN_DELETE, wd 1), a file in it (IN_MODIFY,
 * wd 2), a second directory watched then removed (wd 3 is gone), and a file
 * (IN_ATTRIB, wd 4). After restore: the fdinfo watch list (wd, ino, mask) is
 * the same; nothing is queued (no IN_IGNORED left over from restore); creating
 * a file in the directory, writing the file and chmod'ing the other give
 * IN_CREATE (wd 1, with the name), IN_MODIFY (wd 2), IN_ATTRIB (wd 4); a new
 * watch gets wd 5, as it would have without the dump.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define DIR_NAME "inotify00.d"

static int watches(int fd, char *out, size_t size)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned int wd, mask;
		unsigned long long ino;
		char item[96];

		if (sscanf(line, "inotify wd:%u ino:%llx sdev:%*x mask:%x", &wd, &ino, &mask) != 3)
			continue;
		snprintf(item, sizeof(item), "%u:%llx:%x;", wd, ino, mask);
		strncat(out, item, size - strlen(out) - 1);
		n++;
	}
	fclose(f);
	return n;
}

/* Read one event; 0, or -1 when nothing is queued. */
static int next_event(int fd, struct inotify_event *ev, size_t size)
{
	return read(fd, ev, size) > 0 ? 0 : -1;
}

static void expect(int fd, int wd, uint32_t mask, const char *name)
{
	char buf[sizeof(struct inotify_event) + NAME_MAX + 1] __attribute__((aligned(8)));
	struct inotify_event *ev = (struct inotify_event *)buf;

	if (next_event(fd, ev, sizeof(buf))) {
		fail("no event for wd %d (mask %#x)", wd, mask);
		return;
	}
	if (ev->wd != wd || ev->mask != mask || (name && (!ev->len || strcmp(ev->name, name))))
		fail("event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", ev->wd, ev->mask,
		     ev->len ? ev->name : "", wd, mask, name ?: "");
}

int main(int argc, char **argv)
{
	char before[1024], after[1024], buf[4096];
	int ifd, fd, w1, w2, w3, w4, w5;

	test_init(argc, argv);
	system("rm -rf " DIR_NAME);
	if (mkdir(DIR_NAME, 0755) || mkdir(DIR_NAME "/sub", 0755)) {
		fail("mkdir");
		return 1;
	}
	fd = open(DIR_NAME "/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) || (fd = open(DIR_NAME "/other", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0 ||
	    close(fd)) {
		fail("create files");
		return 1;
	}
	ifd = inotify_init1(IN_NONBLOCK);
	w1 = inotify_add_watch(ifd, DIR_NAME, IN_CREATE | IN_DELETE);
	w2 = inotify_add_watch(ifd, DIR_NAME "/file", IN_MODIFY);
	w3 = inotify_add_watch(ifd, DIR_NAME "/sub", IN_CREATE);
	if (ifd < 0 || w1 != 1 || w2 != 2 || w3 != 3 || inotify_rm_watch(ifd, w3)) {
		fail("inotify setup: wds %d %d %d", w1, w2, w3);
		return 1;
	}
	w4 = inotify_add_watch(ifd, DIR_NAME "/other", IN_ATTRIB);
	if (w4 != 4) {
		fail("wd %d, expected 4", w4);
		return 1;
	}
	while (read(ifd, buf, sizeof(buf)) > 0)	/* the IN_IGNORED of wd 3 */
		;
	if (watches(ifd, before, sizeof(before)) != 3) {
		fail("expected 3 watches: %s", before);
		return 1;
	}
	test_msg("watches: %s\n", before);

	test_daemon();
	test_waitsig();

	watches(ifd, after, sizeof(after));
	if (strcmp(before, after))
		fail("watches changed:\n  before %s\n  after  %s", before, after);
	if (fcntl(ifd, F_GETFL) != (O_RDONLY | O_NONBLOCK) || fcntl(ifd, F_GETFD) != 0)
		fail("flags: F_GETFL %o F_GETFD %d", fcntl(ifd, F_GETFL), fcntl(ifd, F_GETFD));
	errno = 0;
	if (read(ifd, buf, sizeof(buf)) > 0)
		fail("events queued after restore (wd %d mask %#x)", ((struct inotify_event *)buf)->wd,
		     ((struct inotify_event *)buf)->mask);

	fd = open(DIR_NAME "/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("create");
	else
		close(fd);
	expect(ifd, 1, IN_CREATE, "new");
	fd = open(DIR_NAME "/file", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		fail("write");
	if (fd >= 0)
		close(fd);
	expect(ifd, 2, IN_MODIFY, NULL);
	if (chmod(DIR_NAME "/other", 0600))
		fail("chmod");
	expect(ifd, 4, IN_ATTRIB, NULL);
	w5 = inotify_add_watch(ifd, DIR_NAME "/sub", IN_CREATE);
	if (w5 != 5)
		fail("a new watch got wd %d, expected 5", w5);

	system("rm -rf " DIR_NAME);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
