// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_netns_moved_refused: a UDP socket made in the runner's network
 * namespace, then its task unshares a namespace of its own. criu makes a
 * socket again only in its task's namespace: the dump must refuse it, naming
 * both namespaces, and the socket must still be bound and in the first one.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "ns_net_lo.h"
#include "sk_inet.h"

static unsigned long sock_ns(int sk)
{
	struct stat st;
	int ns = ioctl(sk, SIOCGSKNS);
	unsigned long ino = 0;

	if (ns >= 0 && !fstat(ns, &st))
		ino = st.st_ino;
	if (ns >= 0)
		close(ns);
	return ino;
}

int main(int argc, char **argv)
{
	union sk_addr a;
	socklen_t len;
	unsigned long ino;
	int sk;

	test_init(argc, argv);
	len = sk_loopback(AF_INET, false, &a);
	sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk < 0 || bind(sk, &a.sa, len) || sk_name(sk, &a, &len)) {
		fail("can't bind a UDP socket");
		return 1;
	}
	ino = sock_ns(sk);
	if (!ino || unshare(CLONE_NEWNET) || lo_set(1, 65536)) {
		fail("can't make a network namespace");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (sock_ns(sk) != ino)
		fail("the socket is not in the namespace it was made in");
	if (!sk_name_eq(sk, &a))
		fail("the socket lost its address");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
