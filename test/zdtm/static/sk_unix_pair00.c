// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_pair00: a stream socketpair with data queued in both directions,
 * one end non-blocking, plus a second pair shared with a child. After
 * restore the ends are still connected to each other (not to anything else),
 * every queued byte is there in order and no more, flags and buffer sizes are
 * kept, and new data flows both ways.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define A_TO_B 5000
#define B_TO_A 777

static unsigned char byte_at(size_t i, unsigned int seed)
{
	return (unsigned char)(i * 13 + seed + (i >> 9));
}

static int send_pattern(int fd, size_t len, unsigned int seed)
{
	unsigned char buf[8192];

	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(i, seed);
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/* Read exactly len bytes (non-blocking) and check them; then the queue must be empty. */
static void check_pattern(int fd, size_t len, unsigned int seed, const char *what)
{
	unsigned char buf[8192 + 64];
	size_t got = 0;
	int avail = -1;

	if (ioctl(fd, FIONREAD, &avail) || avail != (int)len) {
		fail("%s: %d bytes queued, expected %zu", what, avail, len);
		return;
	}
	while (got < len) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);

		if (n <= 0) {
			fail("%s: read %zu of %zu bytes", what, got, len);
			return;
		}
		got += n;
	}
	errno = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != byte_at(i, seed)) {
			fail("%s: byte %zu is %#x, expected %#x", what, i, buf[i], byte_at(i, seed));
			return;
		}
	}
	if (recv(fd, buf, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("%s: more data than was queued", what);
}

static void check_flow(int a, int b, const char *what)
{
	char buf[16];

	errno = 0;
	if (write(a, "ping", 4) != 4 || recv(b, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4))
		fail("%s: a -> b does not flow", what);
	if (write(b, "pong!", 5) != 5 || recv(a, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "pong!", 5))
		fail("%s: b -> a does not flow", what);
}

int main(int argc, char **argv)
{
	int sv[2], sh[2], flags0, flags1, sndbuf = 0, st;
	socklen_t len = sizeof(int);
	unsigned int seed;
	pid_t child;
	char c;

	test_init(argc, argv);
	seed = getpid();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sh)) {
		fail("socketpair");
		return 1;
	}
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK)) {
		fail("fcntl");
		return 1;
	}
	/* a buffer size of our own: the restored socket must keep it */
	sndbuf = 50000;
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &len)) {
		fail("SO_SNDBUF");
		return 1;
	}
	flags0 = fcntl(sv[0], F_GETFL);
	flags1 = fcntl(sv[1], F_GETFL);
	if (send_pattern(sv[0], A_TO_B, seed) || send_pattern(sv[1], B_TO_A, seed + 1)) {
		fail("write");
		return 1;
	}

	/* the child holds one end of the second pair and answers once after restore */
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(sh[0]);
		if (read(sh[1], &c, 1) != 1)
			_exit(2);
		c++;
		_exit(write(sh[1], &c, 1) == 1 ? 0 : 3);
	}
	close(sh[1]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fcntl(sv[0], F_GETFL) != flags0 || fcntl(sv[1], F_GETFL) != flags1)
		fail("flags %o/%o, expected %o/%o", fcntl(sv[0], F_GETFL), fcntl(sv[1], F_GETFL), flags0, flags1);
	if (fcntl(sv[0], F_GETFD) != 0 || fcntl(sh[0], F_GETFD) != FD_CLOEXEC)
		fail("close-on-exec flags changed");
	{
		int v = 0;

		len = sizeof(v);
		if (getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len) || v != sndbuf)
			fail("SO_SNDBUF is %d, was %d", v, sndbuf);
	}
	check_pattern(sv[1], A_TO_B, seed, "queue a -> b");
	check_pattern(sv[0], B_TO_A, seed + 1, "queue b -> a");
	check_flow(sv[0], sv[1], "pair");

	c = 'x';
	errno = 0;
	if (write(sh[0], &c, 1) != 1 || read(sh[0], &c, 1) != 1 || c != 'y')
		fail("the child did not answer through the shared pair");
	if (test_wait_child(child, 10, &st) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("child failed");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
