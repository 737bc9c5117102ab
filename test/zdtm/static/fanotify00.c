// SPDX-License-Identifier: GPL-2.0
/*
 * fanotify00: a fanotify group (non-blocking, events with read-only fds)
 * with an inode mark (FAN_OPEN | FAN_CLOSE_WRITE on a file), a mark on a
 * directory that only ignores FAN_MODIFY and survives modification, and a
 * mount mark (FAN_ACCESS on a tmpfs the test mounts, where the file is: a
 * mount mark on a busy mount would queue everybody's events, criu's reads
 * too, and a dump with queued events is refused). After restore the
 * group's fdinfo shows the same flags and marks, and the marks work: an
 * open of the file gives a FAN_OPEN event whose fd is that file, a close
 * after a write a FAN_CLOSE_WRITE, and nothing else is queued. In the ct
 * flavour the tmpfs is in the container's mount namespace: restore makes it
 * again and marks the new mount and inodes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

/*
 * The fanotify lines of fd's fdinfo, each cut to its kind of object and its
 * flags and masks: in the ct flavour the tmpfs is made again at restore (a
 * new device, new inode numbers and mount id), elsewhere it stays.
 */
static int marks_of(int fd, char *buf, size_t size)
{
	static const char *const keep[] = { "flags:", "event-flags:", "mflags:", "mask:", "ignored_mask:" };
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "fanotify ", 9))
			continue;
		n += snprintf(buf + n, size > n ? size - n : 0, "%s", strstr(line, "mnt_id:") ? "mount" :
							       strstr(line, "ino:") ? "inode" : "group");
		for (char *t = strtok(line + 9, " \n"); t; t = strtok(NULL, " \n"))
			for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
				if (!strncmp(t, keep[k], strlen(keep[k])))
					n += snprintf(buf + n, size > n ? size - n : 0, " %s", t);
		n += snprintf(buf + n, size > n ? size - n : 0, "\n");
	}
	fclose(f);
	return n < size ? 0 : -1;
}

/* The next event: its mask, and that its fd is the file (st). -1 on none. */
static long long next_event(int g, const struct stat *st)
{
	char buf[4096];
	struct fanotify_event_metadata *m = (void *)buf;
	struct stat est;
	ssize_t n = read(g, buf, sizeof(buf));
	long long mask;

	if (n < (ssize_t)sizeof(*m))
		return -1;
	mask = m->mask;
	if (m->fd >= 0) {
		if (fstat(m->fd, &est) || est.st_ino != st->st_ino || est.st_dev != st->st_dev)
			mask = -2;
		close(m->fd);
	}
	return mask;
}

int main(int argc, char **argv)
{
	char mnt[64], file[96], dir[96], before[2048], after[2048];
	struct stat st;
	long long ev;
	int g, fd;

	test_init(argc, argv);
	snprintf(mnt, sizeof(mnt), "fanotify00.%d.mnt", getpid());
	snprintf(file, sizeof(file), "%s/file", mnt);
	snprintf(dir, sizeof(dir), "%s/dir", mnt);
	umount2(mnt, MNT_DETACH);	/* a leftover of a failed run: pids repeat in a fresh pid namespace */
	mkdir(mnt, 0755);
	if (mount("fanotify00", mnt, "tmpfs", 0, "size=1m")) {
		fail("can't mount a tmpfs");
		return 1;
	}
	mkdir(dir, 0755);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	g = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
	if (fd < 0 || g < 0 || fstat(fd, &st) ||
	    fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_CLOSE_WRITE, AT_FDCWD, file) ||
	    fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_MODIFY,
			  AT_FDCWD, dir) ||
	    fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_ACCESS, AT_FDCWD, mnt) ||
	    marks_of(g, before, sizeof(before))) {
		fail("setup");
		return 1;
	}
	close(fd);
	/* the setup's own events: read them all, so that none is queued at dump */
	while (next_event(g, &st) != -1)
		;

	test_daemon();
	test_waitsig();

	if (marks_of(g, after, sizeof(after)) || strcmp(before, after))
		fail("the group's fdinfo changed:\n%s\nwas:\n%s", after, before);
	if (stat(file, &st))	/* (another inode of another device in ct: the tmpfs was made again) */
		fail("the file is gone");
	fd = open(file, O_WRONLY);
	ev = next_event(g, &st);
	if (ev != FAN_OPEN)
		fail("opening the file gave event mask %lld, not FAN_OPEN (%d)", ev, FAN_OPEN);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
		fail("write");
	ev = next_event(g, &st);
	if (ev != FAN_MODIFY && ev != FAN_CLOSE_WRITE)
		fail("closing the written file gave event mask %lld", ev);
	while (ev == FAN_MODIFY)	/* a mount mark with FAN_ACCESS does not ask for it: not expected */
		ev = next_event(g, &st);
	if (ev != FAN_CLOSE_WRITE)
		fail("no FAN_CLOSE_WRITE (mask %lld)", ev);
	errno = 0;
	if (next_event(g, &st) != -1 || errno != EAGAIN)
		fail("more events queued, or the group is not non-blocking");
	close(g);
	unlink(file);
	rmdir(dir);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
