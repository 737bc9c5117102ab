// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_dgram_self: datagram sockets restore used to refuse.
 *  - self: bound to a path and connect()ed to its own name, with two
 *    datagrams it sent itself queued; after restore its peer is still its
 *    own name, the datagrams come back in order with their sender (itself),
 *    and a new one goes round again;
 *  - aself: the same with an abstract name;
 *  - orphan: one end of a datagram socketpair whose other end sent three
 *    datagrams (one empty, one passing a pipe's write end) and was closed;
 *    after restore the datagrams come back with their boundaries, and the
 *    passed pipe end still writes into the pipe the test kept.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t name_of(struct sockaddr_un *sa, const char *name, bool abstract)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path + abstract, name);
	return offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) + !abstract;
}

static int self_connected(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)sa, len) || connect(fd, (const struct sockaddr *)sa, len) ||
	    send(fd, "one", 3, 0) != 3 || send(fd, "two!", 4, 0) != 4)
		return -1;
	return fd;
}

/* the next datagram of fd: len bytes equal to want, from the address sa (or from no address) */
static void expect(int fd, const char *want, const struct sockaddr_un *sa, socklen_t salen, const char *what)
{
	struct sockaddr_un from;
	socklen_t flen = sizeof(from);
	char buf[64];
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n)) {
		fail("%s: got %zd bytes, expected '%s'", what, n, want);
		return;
	}
	if (sa ? flen != salen || memcmp(&from, sa, salen) : flen > sizeof(sa_family_t)) {
		errno = 0;
		fail("%s: the sender address (%u bytes) is not the expected one", what, flen);
	}
}

static void check_self(int fd, const struct sockaddr_un *sa, socklen_t len, const char *what)
{
	struct sockaddr_un peer;
	socklen_t plen = sizeof(peer);

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) || plen != len || memcmp(&peer, sa, len)) {
		fail("%s: not connected to its own name", what);
		return;
	}
	expect(fd, "one", sa, len, what);
	expect(fd, "two!", sa, len, what);
	if (send(fd, "three", 5, 0) != 5)
		fail("%s: send", what);
	expect(fd, "three", sa, len, what);
}

static int send_fd(int sk, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = "fd", .iov_len = 2 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sk, &mh, 0) == 2 ? 0 : -1;
}

static void check_orphan(int fd, int pipe_rd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int passed;

	expect(fd, "first", NULL, 0, "orphan 1");
	expect(fd, "", NULL, 0, "orphan 2 (empty)");
	if (recvmsg(fd, &mh, MSG_DONTWAIT) != 2 || memcmp(buf, "fd", 2) || !(c = CMSG_FIRSTHDR(&mh)) ||
	    c->cmsg_type != SCM_RIGHTS) {
		fail("orphan 3: no datagram with a passed fd");
		return;
	}
	memcpy(&passed, CMSG_DATA(c), sizeof(int));
	if (write(passed, "p", 1) != 1 || read(pipe_rd, buf, 1) != 1 || buf[0] != 'p')
		fail("orphan 3: the passed fd is not the pipe's write end");
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("orphan: more datagrams than sent");
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa_self, sa_aself;
	socklen_t l_self, l_aself;
	int self, aself, sv[2], p[2];
	char name[64];

	test_init(argc, argv);
	snprintf(name, sizeof(name), "zdtm-dgram-self.%d", getpid());
	l_self = name_of(&sa_self, name, false);
	l_aself = name_of(&sa_aself, name, true);
	unlink(name);
	self = self_connected(&sa_self, l_self);
	aself = self_connected(&sa_aself, l_aself);
	if (self < 0 || aself < 0) {
		fail("self-connected sockets");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || pipe(p) || send(sv[1], "first", 5, 0) != 5 ||
	    send(sv[1], "", 0, 0) != 0 || send_fd(sv[1], p[1])) {
		fail("socketpair");
		return 1;
	}
	close(sv[1]);
	close(p[1]);

	test_daemon();
	test_waitsig();

	check_self(self, &sa_self, l_self, "self");
	check_self(aself, &sa_aself, l_aself, "aself");
	check_orphan(sv[0], p[0]);
	unlink(name);
	pass();
	return 0;
}
