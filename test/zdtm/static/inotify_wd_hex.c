// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_wd_hex: watch descriptors above 9 (fdinfo prints them in hex).
 * 17 files are watched (wd 1..17), wd 1..15 removed: wd 16 and 17 are left
 * ("10" and "11" in fdinfo). After restore a touch of each file gives an
 * event with its own wd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR 17

static void expect_event(int ifd, const char *file, int wd)
{
	char buf[sizeof(struct inotify_event) + 256];
	struct inotify_event *ev = (struct inotify_event *)buf;
	int fd = open(file, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "x", 1) != 1) {
		fail("write %s", file);
		return;
	}
	close(fd);
	if (read(ifd, buf, sizeof(buf)) < (ssize_t)sizeof(*ev) || ev->wd != wd || !(ev->mask & IN_MODIFY))
		fail("%s: event wd %d mask %#x, expected wd %d IN_MODIFY", file, ev->wd, ev->mask, wd);
}

int main(int argc, char **argv)
{
	char dir[64], file[NR][96];
	char buf[4096];
	int ifd, wd;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "zdtm-inotify-wd.%d", getpid());
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0 || mkdir(dir, 0700)) {
		fail("inotify_init1 or mkdir");
		return 1;
	}
	for (int i = 0; i < NR; i++) {
		int fd;

		snprintf(file[i], sizeof(file[i]), "%s/f%d", dir, i + 1);
		fd = open(file[i], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		wd = inotify_add_watch(ifd, file[i], IN_MODIFY);
		if (fd < 0 || wd != i + 1) {
			fail("watch %d: wd %d", i + 1, wd);
			return 1;
		}
		close(fd);
	}
	for (int i = 1; i < NR - 1; i++)
		if (inotify_rm_watch(ifd, i)) {
			fail("inotify_rm_watch %d", i);
			return 1;
		}
	while (read(ifd, buf, sizeof(buf)) > 0)
		;	/* the IN_IGNORED events */

	test_daemon();
	test_waitsig();

	fcntl(ifd, F_SETFL, 0);
	expect_event(ifd, file[NR - 2], NR - 1);
	expect_event(ifd, file[NR - 1], NR);
	for (int i = 0; i < NR; i++)
		unlink(file[i]);
	rmdir(dir);
	pass();
	return 0;
}
