// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_shutdown00: shut down and half-closed unix sockets.
 *  - a stream pair, one end shut for writing after queueing data: the other
 *    end reads the data, then end-of-file, and can still write back;
 *  - a stream pair, one end shut for reading: writing to it fails (EPIPE);
 *  - a stream pair whose other end was closed with data still queued: the
 *    data reads back, then end-of-file;
 *  - a seqpacket pair shut both ways.
 * The shutdown state is checked from both ends after restore.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static void expect_read(int fd, const char *want, const char *what)
{
	char buf[128];
	size_t len = strlen(want);
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	errno = 0;
	if (n != (ssize_t)len || memcmp(buf, want, len))
		fail("%s: read %zd bytes, expected '%s'", what, n, want);
}

static void expect_eof(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n != 0)
		fail("%s: read gives %zd, expected end-of-file", what, n);
}

static void expect_epipe(int fd, const char *what)
{
	errno = 0;
	if (send(fd, "z", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != -1 || errno != EPIPE)
		fail("%s: a write does not fail with EPIPE", what);
}

int main(int argc, char **argv)
{
	int wr[2], rd[2], orph[2], sq[2];

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, wr) || socketpair(AF_UNIX, SOCK_STREAM, 0, rd) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, orph) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq)) {
		fail("socketpair");
		return 1;
	}
	if (write(wr[0], "last words", 10) != 10 || shutdown(wr[0], SHUT_WR) ||
	    shutdown(rd[0], SHUT_RD) ||
	    write(orph[1], "from the dead", 13) != 13 || close(orph[1]) ||
	    send(sq[1], "rec", 3, 0) != 3 || shutdown(sq[0], SHUT_RDWR)) {
		fail("setting up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* wr[0] shut for writing */
	expect_read(wr[1], "last words", "write-shut pair");
	expect_eof(wr[1], "write-shut pair");
	expect_epipe(wr[0], "write-shut end");
	if (write(wr[1], "back", 4) != 4)
		fail("the write-shut end's peer can't write back");
	else
		expect_read(wr[0], "back", "write-shut end");

	/* rd[0] shut for reading: its peer can't write to it, it can still write */
	expect_epipe(rd[1], "peer of the read-shut end");
	expect_eof(rd[0], "read-shut end");
	if (write(rd[0], "still", 5) != 5)
		fail("the read-shut end can't write");
	else
		expect_read(rd[1], "still", "peer of the read-shut end");

	/* orph[1] was closed */
	expect_read(orph[0], "from the dead", "orphaned end");
	expect_eof(orph[0], "orphaned end");
	expect_epipe(orph[0], "orphaned end");

	/* seqpacket shut both ways: the queued record stays readable */
	expect_read(sq[0], "rec", "seqpacket shut both ways");
	expect_eof(sq[0], "seqpacket shut both ways");
	expect_epipe(sq[0], "seqpacket shut both ways");
	expect_epipe(sq[1], "peer of the seqpacket shut both ways");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
