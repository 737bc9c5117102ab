// SPDX-License-Identifier: GPL-2.0
/*
 * soccr (soccr/soccr.h) on its own, in a network namespace of the test's
 * own (loopback up), as root: a connection over 127.0.0.1 and one over ::1
 * with unread data both ways and a send queue with bytes never sent are
 * saved, their sockets closed in repair mode (silently), and a fresh pair of
 * sockets made into the same connections; the data arrives, in order, and
 * new data flows both ways; a half-closed connection (FIN_WAIT2 and
 * CLOSE_WAIT) comes back with its end of file. Also: what soccr refuses (a
 * listener, a UDP socket, saving an unconnected socket), and that
 * SO_REUSEADDR survives repair mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soccr.h"
#include "tap.h"

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	ret = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ? -1 : 0;
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	return ret;
}

static socklen_t loopback(int family, union soccr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->sa.sa_family = family;
	if (family == AF_INET) {
		a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(a->v4);
	}
	a->v6.sin6_addr = in6addr_loopback;
	return sizeof(a->v6);
}

/* a connected pair: *cli, *srv */
static int make_pair(int family, int *cli, int *srv)
{
	union soccr_addr a;
	socklen_t len = loopback(family, &a);
	int l = socket(family, SOCK_STREAM, 0);

	*cli = socket(family, SOCK_STREAM, 0);
	if (l < 0 || *cli < 0 || bind(l, &a.sa, len) || listen(l, 1) || getsockname(l, &a.sa, &len) ||
	    connect(*cli, &a.sa, len))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

struct saved {
	struct soccr_data d;
	char *inq, *outq;
	union soccr_addr self, peer;
};

static int save_one(int fd, struct saved *s)
{
	struct soccr_sk *sk;
	socklen_t len;
	int ret;

	len = sizeof(s->self);
	getsockname(fd, &s->self.sa, &len);
	len = sizeof(s->peer);
	getpeername(fd, &s->peer.sa, &len);
	ret = soccr_pause(fd, &sk);
	if (ret)
		return ret;
	ret = soccr_save(sk, &s->d);
	ret = ret ?: soccr_queue(sk, &s->d, SOCCR_RECV_QUEUE, &s->inq);
	ret = ret ?: soccr_queue(sk, &s->d, SOCCR_SEND_QUEUE, &s->outq);
	soccr_release(sk);	/* stays in repair mode: closing it sends nothing */
	return ret;
}

static int restore_one(int family, const struct saved *s, struct soccr_sk **ret_sk)
{
	int fd = socket(family, SOCK_STREAM, 0), v = 1 << 20, ret;
	struct soccr_sk *sk;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	ret = soccr_pause(fd, &sk);
	if (ret)
		return ret;
	ret = soccr_set_addr(sk, 1, &s->self);
	ret = ret ?: soccr_set_addr(sk, 0, &s->peer);
	ret = ret ?: soccr_set_queue(sk, SOCCR_RECV_QUEUE, s->inq, s->d.inq_len);
	ret = ret ?: soccr_set_queue(sk, SOCCR_SEND_QUEUE, s->outq, s->d.outq_len);
	ret = ret ?: soccr_restore(sk, &s->d);
	if (ret) {
		soccr_release(sk);
		return ret;
	}
	*ret_sk = sk;
	return 0;
}

static int read_exact(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, 0);

		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

static void one_family(int family)
{
	const char *name = family == AF_INET ? "IPv4" : "IPv6";
	struct saved sc = {}, ss = {};
	struct soccr_sk *kc = NULL, *ks = NULL;
	int cli, srv, v = 65536, ret;
	static char big[200000];
	char buf[64];
	size_t off = 0;

	if (!check(!make_pair(family, &cli, &srv), "%s: a connection", name))
		return;
	setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	for (size_t k = 0; k < sizeof(big); k++)
		big[k] = (char)(k % 253);
	fcntl(cli, F_SETFL, O_NONBLOCK);
	while (off < sizeof(big)) {
		ssize_t n = send(cli, big + off, sizeof(big) - off, 0);

		if (n <= 0)
			break;
		off += n;
	}
	check(send(srv, "to client", 9, 0) == 9, "%s: data queued for the client", name);
	usleep(100000);
	ret = save_one(cli, &sc);
	check(!ret, "%s: the client end saved (%s)", name, strerror(-ret));
	ret = save_one(srv, &ss);
	check(!ret, "%s: the server end saved (%s)", name, strerror(-ret));
	check(sc.d.state == TCP_ESTABLISHED && sc.d.inq_len == 9 && !memcmp(sc.inq, "to client", 9),
	      "%s: the client's receive queue is saved (%u bytes)", name, sc.d.inq_len);
	check(sc.d.outq_len + ss.d.inq_len == off, "%s: every byte sent is in the client's send queue or the server's "
	      "receive queue (%u + %u of %zu)", name, sc.d.outq_len, ss.d.inq_len, off);
	check(sc.d.outq_seq - sc.d.outq_len == ss.d.inq_seq, "%s: the sequence numbers meet", name);
	check(sc.d.mss_clamp > 0 && (sc.d.opt_mask & SOCCR_OPT_WSCALE), "%s: MSS %u, window scaling", name,
	      sc.d.mss_clamp);
	close(cli);
	close(srv);

	ret = restore_one(family, &sc, &kc);
	check(!ret, "%s: the client end restored (%s)", name, strerror(-ret));
	ret = restore_one(family, &ss, &ks);
	check(!ret, "%s: the server end restored (%s)", name, strerror(-ret));
	if (!kc || !ks)
		return;
	cli = soccr_fd(kc);
	srv = soccr_fd(ks);
	check(!soccr_resume(kc) && !soccr_resume(ks), "%s: both ends leave repair mode", name);
	check(!read_exact(cli, buf, 9) && !memcmp(buf, "to client", 9), "%s: the client reads its queued data", name);
	{
		static char got[sizeof(big)];

		check(!read_exact(srv, got, off) && !memcmp(got, big, off),
		      "%s: the server reads every byte the client sent, in order (%zu)", name, off);
	}
	check(send(srv, "new", 3, 0) == 3 && !read_exact(cli, buf, 3) && !memcmp(buf, "new", 3),
	      "%s: new data flows after the restore", name);
	close(cli);
	close(srv);
	free(sc.inq);
	free(sc.outq);
	free(ss.inq);
	free(ss.outq);
}

/* FIN_WAIT2 and CLOSE_WAIT: the client shut its writing side after sending "x" */
static void half_closed(void)
{
	struct saved sc = {}, ss = {};
	struct soccr_sk *kc = NULL, *ks = NULL;
	int cli, srv, ret;
	char buf[4];

	if (!check(!make_pair(AF_INET, &cli, &srv), "half-closed: a connection"))
		return;
	check(send(cli, "x", 1, 0) == 1 && !shutdown(cli, SHUT_WR), "half-closed: the client shuts its writing side");
	usleep(100000);
	ret = save_one(cli, &sc);
	ret = ret ?: save_one(srv, &ss);
	check(!ret && sc.d.state == TCP_FIN_WAIT2 && ss.d.state == TCP_CLOSE_WAIT,
	      "half-closed: FIN_WAIT2 and CLOSE_WAIT saved (%d, %u, %u)", ret, sc.d.state, ss.d.state);
	check(ss.d.inq_len == 1 && sc.d.outq_len == 0, "half-closed: the FIN is not counted as data (%u, %u)",
	      ss.d.inq_len, sc.d.outq_len);
	close(cli);
	close(srv);
	ret = restore_one(AF_INET, &ss, &ks);
	ret = ret ?: restore_one(AF_INET, &sc, &kc);
	check(!ret, "half-closed: both ends restored (%s)", strerror(-ret));
	if (!kc || !ks)
		return;
	cli = soccr_fd(kc);
	srv = soccr_fd(ks);
	check(!soccr_resume(ks) && !soccr_resume(kc), "half-closed: both ends leave repair mode");
	check(!read_exact(srv, buf, 1) && buf[0] == 'x' && recv(srv, buf, 1, 0) == 0,
	      "half-closed: the server reads the data, then the end of file (the client's FIN sent again)");
	check(send(srv, "yz", 2, 0) == 2 && !read_exact(cli, buf, 2) && !memcmp(buf, "yz", 2),
	      "half-closed: the server still sends to the client");
	close(cli);
	close(srv);
	free(ss.inq);
	free(ss.outq);
	free(sc.inq);
	free(sc.outq);
}

static void refusals(void)
{
	struct soccr_sk *sk;
	struct soccr_data d;
	union soccr_addr a;
	socklen_t len = loopback(AF_INET, &a), olen;
	int l = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), v = 1, cli, srv;

	bind(l, &a.sa, len);
	listen(l, 1);
	check(soccr_pause(l, &sk) < 0, "a listener can't be paused (the kernel repairs only connections)");
	check(soccr_pause(u, &sk) < 0, "a UDP socket can't be paused");
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		/* a socket that is not connected yet can be paused (restore), but not saved */
		check(!soccr_pause(fd, &sk) && soccr_save(sk, &d) == -EOPNOTSUPP,
		      "an unconnected socket: soccr_save() gives -EOPNOTSUPP");
		soccr_release(sk);
		close(fd);
	}
	close(l);
	close(u);
	if (make_pair(AF_INET, &cli, &srv))
		return;
	setsockopt(cli, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	check(!soccr_pause(cli, &sk) && !soccr_resume(sk), "pause and resume a live connection");
	olen = sizeof(v);
	v = 0;
	getsockopt(cli, SOL_SOCKET, SO_REUSEADDR, &v, &olen);
	check(v == 1, "SO_REUSEADDR survives repair mode");
	check(send(cli, "x", 1, 0) == 1 && recv(srv, &v, 1, 0) == 1, "the connection still works");
	close(cli);
	close(srv);
}

int main(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) || lo_up()) {
		printf("# SKIP: needs root and a network namespace of its own\n1..0\n");
		return 77;
	}
	one_family(AF_INET);
	one_family(AF_INET6);
	half_closed();
	refusals();
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
