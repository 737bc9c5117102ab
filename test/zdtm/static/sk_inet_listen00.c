// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_listen00: TCP listeners on 127.0.0.1, on ::1 (IPV6_V6ONLY) and on
 * the v4-mapped ::ffff:127.0.0.1, each with the options a server sets
 * (SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT,
 * TCP_NODELAY, TCP_CORK, SO_SNDBUF/SO_RCVBUF, SO_RCVTIMEO/SO_SNDTIMEO,
 * SO_LINGER, SO_BINDTODEVICE, SO_TIMESTAMP, TCP_DEFER_ACCEPT, TCP_FASTOPEN,
 * TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT, TCP_SYNCNT, TCP_LINGER2,
 * TCP_CONGESTION, IP_FREEBIND, IP_TOS/IP_TTL or IPV6_TCLASS and
 * IPV6_UNICAST_HOPS, IP(V6)_RECVERR, IP(V6)_MTU_DISCOVER) and its own backlog, plus a bound TCP socket that does
 * not listen and an unbound one. After restore every address, port, option
 * and backlog must be the same, and each listener must accept a new
 * connection that carries data both ways.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "sk_inet.h"

#define NR 3

struct lsn {
	int fd, family;
	bool mapped;
	union sk_addr addr;
	socklen_t len;
	int backlog;
	int sndbuf, rcvbuf;
};

static int setup_opts(int fd, int family, int i)
{
	struct timeval tv = { .tv_sec = 7 + i, .tv_usec = 500000 };
	struct linger lg = { .l_onoff = 1, .l_linger = 3 + i };
	int ret = 0;

	ret |= sk_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	ret |= sk_set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	ret |= sk_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	ret |= sk_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 31 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_KEEPINTVL, 7 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_KEEPCNT, 4 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_NODELAY, 1);
	ret |= sk_set_int(fd, SOL_TCP, TCP_CORK, i == 1);
	ret |= sk_set_int(fd, SOL_SOCKET, SO_SNDBUF, 65536 + 4096 * i);
	ret |= sk_set_int(fd, SOL_SOCKET, SO_RCVBUF, 131072 + 4096 * i);
	ret |= setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret |= setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret |= setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	ret |= setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
	ret |= sk_set_int(fd, SOL_SOCKET, SO_TIMESTAMP, 1);
	ret |= sk_set_int(fd, SOL_TCP, TCP_DEFER_ACCEPT, 5 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_FASTOPEN, 16 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_USER_TIMEOUT, 12345 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 4096 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_SYNCNT, 3 + i);
	ret |= sk_set_int(fd, SOL_TCP, TCP_LINGER2, 17 + i);
	ret |= setsockopt(fd, SOL_TCP, TCP_CONGESTION, "reno", 4);
	if (family == AF_INET) {
		ret |= sk_set_int(fd, SOL_IP, IP_FREEBIND, 1);
		ret |= sk_set_int(fd, SOL_IP, IP_TOS, 0x10);
		ret |= sk_set_int(fd, SOL_IP, IP_TTL, 33);
		ret |= sk_set_int(fd, SOL_IP, IP_RECVERR, 1);
		ret |= sk_set_int(fd, SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
	} else {
		ret |= sk_set_int(fd, SOL_IPV6, IPV6_TCLASS, 0x20);
		ret |= sk_set_int(fd, SOL_IPV6, IPV6_UNICAST_HOPS, 17);
		ret |= sk_set_int(fd, SOL_IPV6, IPV6_RECVERR, 1);
		ret |= sk_set_int(fd, SOL_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
	}
	return ret;
}

struct opt_check {
	int level, opt;
	const char *name;
};

static const struct opt_check int_checks[] = {
	{ SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR" }, { SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT" },
	{ SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE" }, { SOL_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE" },
	{ SOL_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL" },   { SOL_TCP, TCP_KEEPCNT, "TCP_KEEPCNT" },
	{ SOL_TCP, TCP_NODELAY, "TCP_NODELAY" },       { SOL_TCP, TCP_CORK, "TCP_CORK" },
	{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF" },        { SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF" },
	{ SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN" },	 { SOL_SOCKET, SO_TIMESTAMP, "SO_TIMESTAMP" },
	{ SOL_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT" }, { SOL_TCP, TCP_FASTOPEN, "TCP_FASTOPEN" },
	{ SOL_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT" }, { SOL_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT" },
	{ SOL_TCP, TCP_SYNCNT, "TCP_SYNCNT" },		 { SOL_TCP, TCP_LINGER2, "TCP_LINGER2" },
};

#define NR_FAMILY_CHECKS 5

static const struct opt_check v4_checks[NR_FAMILY_CHECKS] = {
	{ SOL_IP, IP_FREEBIND, "IP_FREEBIND" },	  { SOL_IP, IP_TOS, "IP_TOS" }, { SOL_IP, IP_TTL, "IP_TTL" },
	{ SOL_IP, IP_RECVERR, "IP_RECVERR" },	  { SOL_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER" },
};

static const struct opt_check v6_checks[NR_FAMILY_CHECKS] = {
	{ SOL_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY" },	      { SOL_IPV6, IPV6_TCLASS, "IPV6_TCLASS" },
	{ SOL_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS" }, { SOL_IPV6, IPV6_RECVERR, "IPV6_RECVERR" },
	{ SOL_IPV6, IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER" },
};

/* every option value of fd, to compare before/after */
static int snap_opts(int fd, int family, int *vals)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(int_checks) / sizeof(int_checks[0]); i++)
		vals[n++] = sk_get_int(fd, int_checks[i].level, int_checks[i].opt);
	for (size_t i = 0; i < NR_FAMILY_CHECKS; i++) {
		const struct opt_check *c = family == AF_INET ? &v4_checks[i] : &v6_checks[i];

		vals[n++] = sk_get_int(fd, c->level, c->opt);
	}
	return n;
}

static const char *opt_name(int family, int k)
{
	int n = sizeof(int_checks) / sizeof(int_checks[0]);

	if (k < n)
		return int_checks[k].name;
	return family == AF_INET ? v4_checks[k - n].name : v6_checks[k - n].name;
}

static void check_misc(int fd, int i)
{
	struct timeval tv;
	struct linger lg;
	char dev[16] = "";
	socklen_t len;

	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) || tv.tv_sec != 7 + i || tv.tv_usec != 500000)
		fail("listener %d: SO_RCVTIMEO is %ld.%06ld", i, (long)tv.tv_sec, (long)tv.tv_usec);
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) || tv.tv_sec != 7 + i || tv.tv_usec != 500000)
		fail("listener %d: SO_SNDTIMEO is %ld.%06ld", i, (long)tv.tv_sec, (long)tv.tv_usec);
	len = sizeof(lg);
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) || !lg.l_onoff || lg.l_linger != 3 + i)
		fail("listener %d: SO_LINGER is %d/%d", i, lg.l_onoff, lg.l_linger);
	len = sizeof(dev);
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) || strcmp(dev, "lo"))
		fail("listener %d: SO_BINDTODEVICE is '%s'", i, dev);
	len = sizeof(dev);
	memset(dev, 0, sizeof(dev));
	if (getsockopt(fd, SOL_TCP, TCP_CONGESTION, dev, &len) || strcmp(dev, "reno"))
		fail("listener %d: TCP_CONGESTION is '%s'", i, dev);
}

static int backlog_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_sacked;	/* a listener's maximum backlog */
}

/* a new connection to l, data both ways */
static void check_accepts(struct lsn *l, int i)
{
	union sk_addr a = l->addr;
	int c, s;
	char buf[8];

	c = socket(l->family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &a.sa, l->len)) {
		fail("listener %d: can't connect to it", i);
		return;
	}
	/* data first: with TCP_DEFER_ACCEPT the connection is accepted once data came */
	if (write(c, "ping", 4) != 4) {
		fail("listener %d: can't send on the new connection", i);
		close(c);
		return;
	}
	{
		struct pollfd p = { .fd = l->fd, .events = POLLIN };

		poll(&p, 1, 10000);
	}
	s = accept(l->fd, NULL, NULL);
	if (s < 0 || sk_read_all(s, buf, 4) || memcmp(buf, "ping", 4) ||
	    write(s, "pong", 4) != 4 || sk_read_all(c, buf, 4) || memcmp(buf, "pong", 4))
		fail("listener %d: the accepted connection does not carry data", i);
	close(c);
	if (s >= 0)
		close(s);
}

int main(int argc, char **argv)
{
	struct lsn l[NR] = {
		{ .family = AF_INET, .backlog = 5 },
		{ .family = AF_INET6, .backlog = 17 },
		{ .family = AF_INET6, .mapped = true, .backlog = 129 },
	};
	int before[NR][64], after[64], n[NR];
	union sk_addr bound_addr;
	socklen_t blen;
	int bound, unbound;

	test_init(argc, argv);
	for (int i = 0; i < NR; i++) {
		l[i].fd = socket(l[i].family, SOCK_STREAM, 0);
		l[i].len = sk_loopback(l[i].family, l[i].mapped, &l[i].addr);
		if (l[i].fd < 0 || setup_opts(l[i].fd, l[i].family, i) ||
		    (l[i].family == AF_INET6 && sk_set_int(l[i].fd, SOL_IPV6, IPV6_V6ONLY, !l[i].mapped)) ||
		    bind(l[i].fd, &l[i].addr.sa, l[i].len) || listen(l[i].fd, l[i].backlog) ||
		    sk_name(l[i].fd, &l[i].addr, &l[i].len)) {
			fail("listener %d: set up", i);
			return 1;
		}
		n[i] = snap_opts(l[i].fd, l[i].family, before[i]);
	}
	if (fcntl(l[1].fd, F_SETFL, O_NONBLOCK)) {
		fail("O_NONBLOCK");
		return 1;
	}
	bound = socket(AF_INET, SOCK_STREAM, 0);
	unbound = socket(AF_INET6, SOCK_STREAM, 0);
	sk_loopback(AF_INET, false, &bound_addr);
	if (bound < 0 || unbound < 0 || bind(bound, &bound_addr.sa, sizeof(bound_addr.v4)) ||
	    sk_name(bound, &bound_addr, &blen)) {
		fail("bound socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++) {
		if (!sk_name_eq(l[i].fd, &l[i].addr))
			fail("listener %d: another address after restore", i);
		if (snap_opts(l[i].fd, l[i].family, after) != n[i])
			fail("listener %d: options", i);
		for (int k = 0; k < n[i]; k++)
			if (after[k] != before[i][k])
				fail("listener %d: %s was %d, is %d", i, opt_name(l[i].family, k), before[i][k], after[k]);
		check_misc(l[i].fd, i);
		if (backlog_of(l[i].fd) != l[i].backlog)
			fail("listener %d: backlog %d, not %d", i, backlog_of(l[i].fd), l[i].backlog);
		check_accepts(&l[i], i);
	}
	if (!(fcntl(l[1].fd, F_GETFL) & O_NONBLOCK) || (fcntl(l[0].fd, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK was not kept");
	if (!sk_name_eq(bound, &bound_addr))
		fail("the bound socket lost its address");
	if (sk_get_int(bound, SOL_SOCKET, SO_ACCEPTCONN) != 0 || sk_get_int(unbound, SOL_SOCKET, SO_DOMAIN) != AF_INET6)
		fail("the bound or the unbound socket changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
