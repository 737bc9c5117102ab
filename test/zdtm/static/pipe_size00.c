// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_size00: pipe buffers of sizes other than the default. Three pipes and
 * a FIFO, each resized with F_SETPIPE_SZ: an empty one at the largest size an
 * unprivileged user may set (pipe-max-size, capped at 1 MiB), one holding
 * more data than a default pipe could, one shrunk to a single page with data
 * in it, and a FIFO at 128 KiB with a little data. After restore each must
 * report its size again and hand back exactly its bytes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FIFO_NAME "pipe_size00.fifo"

struct tpipe {
	const char *what;
	int rfd, wfd;
	int size;		/* what F_SETPIPE_SZ gave */
	int bytes;		/* queued before the dump */
	unsigned char seed;
};

static unsigned char pattern(int i, unsigned char seed)
{
	return (unsigned char)(i * 13 + seed + (i >> 9));
}

static int max_pipe_size(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (v <= 0 || v > (1 << 20))
		v = 1 << 20;
	return v;
}

static int setup(struct tpipe *t, int want, int bytes)
{
	unsigned char *buf;

	t->size = fcntl(t->wfd, F_SETPIPE_SZ, want);
	if (t->size < want) {
		fail("%s: F_SETPIPE_SZ(%d) gave %d", t->what, want, t->size);
		return -1;
	}
	if (bytes > t->size)
		bytes = t->size;
	buf = malloc(bytes ?: 1);
	if (!buf)
		return -1;
	for (int i = 0; i < bytes; i++)
		buf[i] = pattern(i, t->seed);
	if (bytes && write(t->wfd, buf, bytes) != bytes) {
		fail("%s: write of %d bytes", t->what, bytes);
		free(buf);
		return -1;
	}
	free(buf);
	t->bytes = bytes;
	return 0;
}

static void check(struct tpipe *t)
{
	unsigned char *buf = malloc(t->bytes + 1);
	int size, avail, got = 0;

	errno = 0;
	size = fcntl(t->wfd, F_GETPIPE_SZ);
	if (size != t->size)
		fail("%s: size %d after restore, %d before", t->what, size, t->size);
	if (ioctl(t->rfd, FIONREAD, &avail) || avail != t->bytes)
		fail("%s: %d bytes queued after restore, %d before", t->what, avail, t->bytes);
	if (!buf)
		return;
	while (got < t->bytes + 1) {
		int n = read(t->rfd, buf + got, t->bytes + 1 - got);

		if (n <= 0)
			break;
		got += n;
	}
	errno = 0;
	if (got != t->bytes) {
		fail("%s: read %d bytes back, expected %d", t->what, got, t->bytes);
	} else {
		for (int i = 0; i < got; i++) {
			if (buf[i] != pattern(i, t->seed)) {
				fail("%s: byte %d is %#x, expected %#x", t->what, i, buf[i], pattern(i, t->seed));
				break;
			}
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	struct tpipe t[4] = {
		{ .what = "empty pipe at the maximum size", .seed = 1 },
		{ .what = "pipe with 200 KiB queued", .seed = 2 },
		{ .what = "one-page pipe with data", .seed = 3 },
		{ .what = "fifo", .seed = 4 },
	};
	int p[2];

	test_init(argc, argv);
	for (int i = 0; i < 3; i++) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
			fail("pipe2");
			return 1;
		}
		t[i].rfd = p[0];
		t[i].wfd = p[1];
	}
	unlink(FIFO_NAME);
	if (mkfifo(FIFO_NAME, 0600)) {
		fail("mkfifo");
		return 1;
	}
	t[3].rfd = open(FIFO_NAME, O_RDONLY | O_NONBLOCK);
	t[3].wfd = open(FIFO_NAME, O_WRONLY | O_NONBLOCK);
	if (t[3].rfd < 0 || t[3].wfd < 0) {
		fail("open the fifo");
		return 1;
	}
	if (setup(&t[0], max_pipe_size(), 0) || setup(&t[1], 256 << 10, 200 << 10) || setup(&t[2], 4096, 3000) ||
	    setup(&t[3], 128 << 10, 5000))
		return 1;

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 4; i++)
		check(&t[i]);
	unlink(FIFO_NAME);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
