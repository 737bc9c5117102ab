// SPDX-License-Identifier: GPL-2.0
/*
 * sk_tcp_lock_fail: a dump with --tcp-established that fails halfway (the
 * runner sets criu's CRIU_FAULT=before-inventory: every connection is
 * locked, in repair mode and saved, then the dump fails). The failed dump
 * must leave every connection as it was: out of repair mode, unlocked (no
 * DROP rule left in iptables, no CRIU table in nftables), data queued
 * before the dump still there and new data flowing both ways at once. The
 * same program runs with --network-lock nftables (sk_tcp_lock_fail_nft).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "sk_inet.h"

#define NR 2

static int make_pair(int family, int *cli, int *srv)
{
	union sk_addr a;
	socklen_t len = sk_loopback(family, false, &a);
	int l = socket(family, SOCK_STREAM, 0);

	*cli = socket(family, SOCK_STREAM, 0);
	if (l < 0 || *cli < 0 || bind(l, &a.sa, len) || listen(l, 1) || sk_name(l, &a, &len) ||
	    connect(*cli, &a.sa, len))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

/* len bytes within 10 s, or -1: a locked connection would stay silent */
static int read_in_time(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;

	while (off < len) {
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -1;
		n = read(fd, buf + off, len - off);
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

/* lines of a command's output that contain word */
static int count_lines(const char *cmd, const char *word)
{
	char line[512];
	int n = 0;
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, word))
			n++;
	pclose(f);
	return n;
}

int main(int argc, char **argv)
{
	int cli[NR], srv[NR], family[NR] = { AF_INET, AF_INET6 };
	char buf[16];

	test_init(argc, argv);
	for (int i = 0; i < NR; i++) {
		if (make_pair(family[i], &cli[i], &srv[i]) || write(cli[i], "early", 5) != 5) {
			fail("connection %d: set up", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (count_lines("iptables -S 2>/dev/null; ip6tables -S 2>/dev/null", "DROP") != 0)
		fail("iptables DROP rules are left after the failed dump");
	if (count_lines("nft list tables 2>/dev/null", "CRIU") != 0)
		fail("an nftables CRIU table is left after the failed dump");
	for (int i = 0; i < NR && !test_failed(); i++) {
		if (read_in_time(srv[i], buf, 5) || memcmp(buf, "early", 5))
			fail("connection %d: the data queued before the dump", i);
		if (write(srv[i], "back", 4) != 4 || read_in_time(cli[i], buf, 4) || memcmp(buf, "back", 4))
			fail("connection %d: no data from the server end after the failed dump", i);
		if (write(cli[i], "more", 4) != 4 || read_in_time(srv[i], buf, 4) || memcmp(buf, "more", 4))
			fail("connection %d: no data from the client end after the failed dump", i);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
