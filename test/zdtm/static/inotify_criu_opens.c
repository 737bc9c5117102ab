// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_criu_opens: the task watches, with IN_OPEN, IN_CLOSE_NOWRITE and
 * IN_ACCESS, a directory holding a file it maps (and the file itself), and
 * has nothing queued. The dump opens the mapped file (and the exe) to dump
 * them: those opens must not queue events in the task's
 * inotify instance (criu then refused it, "events not read yet", for events
 * of its own). After restore the watches are there and the mapping holds
 * the file's bytes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MASK (IN_OPEN | IN_CLOSE_NOWRITE | IN_ACCESS)

static int nr_watches(int in)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", in);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "inotify wd:", 11);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char dir[64], file[96], buf[4096];
	const char *map;
	int fd, in;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "inotify_criu_opens.%d.d", getpid());
	snprintf(file, sizeof(file), "%s/data", dir);
	memset(buf, 'x', sizeof(buf));
	if (mkdir(dir, 0755) || (fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, buf, sizeof(buf)) != sizeof(buf)) {
		fail("setup");
		return 1;
	}
	map = mmap(NULL, sizeof(buf), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	in = inotify_init1(IN_NONBLOCK);
	if (map == MAP_FAILED || in < 0 || inotify_add_watch(in, dir, MASK) < 0 || inotify_add_watch(in, file, MASK) < 0) {
		fail("mmap or inotify");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (nr_watches(in) != 2)
		fail("%d inotify watches after restore, not 2", nr_watches(in));
	if (memcmp(map, buf, sizeof(buf)))
		fail("the mapping lost the file's bytes");
	unlink(file);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
