// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_dgram00: datagram unix sockets with messages queued.
 *  - a datagram socketpair: messages both ways, of different sizes (an empty
 *    one, and one bigger than criu's first peek buffer), boundaries kept;
 *  - a socket bound to a relative path in the cwd, receiving from an
 *    unconnected sender (sendto) and from a sender connect()ed to it;
 *  - a socket with an abstract name;
 *  - datagrams to the path-bound socket from unconnected senders bound to
 *    abstract names, one of them closed since.
 * After restore every message is there, in order, with its own size and
 * sender address (recvfrom); names and connections are kept and new
 * datagrams flow.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BIG 300000
static const size_t pair_sizes[] = { 1, 100, 0, 4096, BIG, 7 };
#define NR_PAIR (sizeof(pair_sizes) / sizeof(pair_sizes[0]))

static unsigned char *buf;

static void fill(unsigned char *b, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 31 + seed);
}

static int send_msg(int fd, size_t len, unsigned int seed, const struct sockaddr_un *to, socklen_t tolen)
{
	fill(buf, len, seed);
	return sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, to ? tolen : 0) == (ssize_t)len ? 0 : -1;
}

/* The next datagram must be exactly len bytes of the pattern for seed. */
static void expect_msg(int fd, size_t len, unsigned int seed, const char *what)
{
	static unsigned char want[BIG];
	ssize_t n;

	n = recv(fd, buf, BIG + 100, MSG_DONTWAIT | MSG_TRUNC);
	if (n != (ssize_t)len) {
		fail("%s: a datagram of %zd bytes, expected %zu", what, n, len);
		return;
	}
	fill(want, len, seed);
	errno = 0;
	if (memcmp(buf, want, len))
		fail("%s: the %zu-byte datagram has other contents", what, len);
}

/* The next datagram must come from the abstract name `from` (NULL: from an unbound socket). */
static void expect_from(int fd, size_t len, unsigned int seed, const char *from, const char *what)
{
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	ssize_t n = recvfrom(fd, buf, BIG + 100, MSG_DONTWAIT, (struct sockaddr *)&sa, &salen);
	unsigned char want[128];

	fill(want, len, seed);
	errno = 0;
	if (n != (ssize_t)len || memcmp(buf, want, len)) {
		fail("%s: a datagram of %zd bytes, expected %zu", what, n, len);
		return;
	}
	if (!from && salen > offsetof(struct sockaddr_un, sun_path))
		fail("%s: from an address (%u bytes), expected none", what, salen);
	if (from && (salen != offsetof(struct sockaddr_un, sun_path) + 1 + strlen(from) || sa.sun_path[0] ||
		     memcmp(sa.sun_path + 1, from, strlen(from))))
		fail("%s: not from @%s", what, from);
}

static void expect_empty(int fd, const char *what)
{
	errno = 0;
	if (recv(fd, buf, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("%s: more datagrams than were queued", what);
}

static socklen_t addr_of(struct sockaddr_un *sa, const char *name, bool abstract)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path + abstract, name);
	return offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) + !abstract;
}

static void check_name(int fd, const struct sockaddr_un *sa, socklen_t len, bool peer, const char *what)
{
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	int r = peer ? getpeername(fd, (struct sockaddr *)&got, &glen) : getsockname(fd, (struct sockaddr *)&got, &glen);

	errno = 0;
	if (r || glen != len || memcmp(&got, sa, len))
		fail("%s: %s is not the dumped one", what, peer ? "peer name" : "name");
}

int main(int argc, char **argv)
{
	char path[64], abs_name[64], snd_name[64], gone_name[64];
	struct sockaddr_un snd_sa, gone_sa;
	int nsnd, gone;
	struct sockaddr_un named_sa, abs_sa;
	socklen_t named_len, abs_len;
	int pr[2], named, sender, conn, abs_sk, big = 1 << 20;
	unsigned int seed;

	test_init(argc, argv);
	seed = getpid();
	buf = malloc(BIG + 100);
	if (!buf) {
		fail("malloc");
		return 1;
	}
	snprintf(path, sizeof(path), "dgram-%d.sock", getpid());
	snprintf(abs_name, sizeof(abs_name), "zdtm-dgram-%d", getpid());
	snprintf(snd_name, sizeof(snd_name), "zdtm-dgram-snd-%d", getpid());
	snprintf(gone_name, sizeof(gone_name), "zdtm-dgram-gone-%d", getpid());
	named_len = addr_of(&named_sa, path, false);
	abs_len = addr_of(&abs_sa, abs_name, true);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pr)) {
		fail("socketpair");
		return 1;
	}
	/* room for the big datagram */
	setsockopt(pr[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (size_t i = 0; i < NR_PAIR; i++) {
		if (send_msg(pr[0], pair_sizes[i], seed + i, NULL, 0) ||
		    send_msg(pr[1], pair_sizes[NR_PAIR - 1 - i] % 5000, seed + 100 + i, NULL, 0)) {
			fail("send on the pair (message %zu)", i);
			return 1;
		}
	}

	named = socket(AF_UNIX, SOCK_DGRAM, 0);
	sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	conn = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	abs_sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (named < 0 || sender < 0 || conn < 0 || abs_sk < 0) {
		fail("socket");
		return 1;
	}
	unlink(path);
	if (bind(named, (struct sockaddr *)&named_sa, named_len) ||
	    bind(abs_sk, (struct sockaddr *)&abs_sa, abs_len) ||
	    connect(conn, (struct sockaddr *)&named_sa, named_len)) {
		fail("bind/connect");
		return 1;
	}
	if (send_msg(sender, 50, seed + 200, &named_sa, named_len) || send_msg(conn, 60, seed + 201, NULL, 0) ||
	    send_msg(sender, 70, seed + 202, &named_sa, named_len) ||
	    send_msg(sender, 80, seed + 203, &abs_sa, abs_len)) {
		fail("send to the named sockets");
		return 1;
	}
	nsnd = socket(AF_UNIX, SOCK_DGRAM, 0);
	gone = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (nsnd < 0 || gone < 0) {
		fail("socket");
		return 1;
	}
	if (bind(nsnd, (struct sockaddr *)&snd_sa, addr_of(&snd_sa, snd_name, true)) ||
	    bind(gone, (struct sockaddr *)&gone_sa, addr_of(&gone_sa, gone_name, true)) ||
	    send_msg(nsnd, 90, seed + 204, &named_sa, named_len) || send_msg(gone, 95, seed + 205, &named_sa, named_len) ||
	    close(gone)) {
		fail("named senders");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (size_t i = 0; i < NR_PAIR; i++) {
		expect_msg(pr[1], pair_sizes[i], seed + i, "pair 0 -> 1");
		expect_msg(pr[0], pair_sizes[NR_PAIR - 1 - i] % 5000, seed + 100 + i, "pair 1 -> 0");
	}
	expect_empty(pr[0], "pair 1 -> 0");
	expect_empty(pr[1], "pair 0 -> 1");

	expect_from(named, 50, seed + 200, NULL, "named socket");
	expect_from(named, 60, seed + 201, NULL, "named socket");
	expect_from(named, 70, seed + 202, NULL, "named socket");
	expect_from(named, 90, seed + 204, snd_name, "named socket, from a bound sender");
	expect_from(named, 95, seed + 205, gone_name, "named socket, from a bound sender closed since");
	expect_empty(named, "named socket");
	expect_msg(abs_sk, 80, seed + 203, "abstract socket");
	expect_empty(abs_sk, "abstract socket");

	check_name(named, &named_sa, named_len, false, "named socket");
	check_name(abs_sk, &abs_sa, abs_len, false, "abstract socket");
	check_name(conn, &named_sa, named_len, true, "connected sender");
	errno = 0;
	if (fcntl(sender, F_GETFL) != (O_RDWR | O_NONBLOCK) || fcntl(conn, F_GETFD) != FD_CLOEXEC)
		fail("flags changed");

	/* everything still works */
	if (send_msg(pr[0], 10, seed + 300, NULL, 0) || send_msg(conn, 11, seed + 301, NULL, 0) ||
	    send_msg(sender, 12, seed + 302, &abs_sa, abs_len)) {
		fail("send after restore");
	} else {
		expect_msg(pr[1], 10, seed + 300, "pair after restore");
		expect_msg(named, 11, seed + 301, "connected sender after restore");
		expect_msg(abs_sk, 12, seed + 302, "abstract socket after restore");
	}
	unlink(path);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
