// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_netns00: inet sockets of a network namespace of the tree. The
 * test's root unshares a network namespace, brings its lo up, and makes
 * there a TCP listener on 127.0.0.1 and one on ::1, an established TCP
 * connection (the accepted end given to a child, which inherits the
 * namespace), a bound UDP socket and a UDP socket connected to it, each
 * with a datagram or bytes sent before the dump and read after it.
 * After restore: every socket is in its task's network namespace (not
 * criu's), with its address and port, the connection carries the bytes
 * queued before the dump and new ones both ways, both listeners accept a
 * new connection, and the UDP pair exchanges datagrams.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ns_net_lo.h"
#include "sk_inet.h"

#define EARLY "queued before the dump"

/* the socket is in the caller's network namespace */
static int in_my_netns(const char *what, int sk)
{
	struct stat a, b;
	int ns = ioctl(sk, SIOCGSKNS);

	if (ns < 0 || fstat(ns, &a) || stat("/proc/self/ns/net", &b)) {
		fail("%s: SIOCGSKNS", what);
		if (ns >= 0)
			close(ns);
		return 0;
	}
	close(ns);
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		fail("%s: in net:[%lu], its task in net:[%lu]", what, (unsigned long)a.st_ino, (unsigned long)b.st_ino);
		return 0;
	}
	return 1;
}

static int listener(int family, union sk_addr *a)
{
	socklen_t len = sk_loopback(family, false, a);
	int sk = socket(family, SOCK_STREAM, 0);

	if (sk < 0 || bind(sk, &a->sa, len) || listen(sk, 8) || sk_name(sk, a, &len))
		return -1;
	return sk;
}

/* a new connection to the listener, accepted */
static int accepts(const char *what, int lsk, union sk_addr *a)
{
	int c = socket(a->sa.sa_family, SOCK_STREAM, 0), s = -1, ok = 0;
	char buf[4];

	if (c >= 0 && !connect(c, &a->sa, a->sa.sa_family == AF_INET ? sizeof(a->v4) : sizeof(a->v6)))
		s = accept(lsk, NULL, NULL);
	if (s >= 0 && write(c, "new", 3) == 3 && !sk_read_all(s, buf, 3))
		ok = !memcmp(buf, "new", 3);
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	if (!ok)
		fail("%s: no new connection after the restore", what);
	return ok;
}

/* the child: the server end of the connection */
static int child(int srv, union sk_addr *srv_name, int go)
{
	char buf[64];
	int bad = 0;

	if (write(srv, EARLY, sizeof(EARLY)) != sizeof(EARLY))
		return 1;
	if (read(go, buf, 1) != 1)	/* the parent, after the restore */
		return 1;
	if (!in_my_netns("the accepted end", srv))
		bad |= 2;
	if (!sk_name_eq(srv, srv_name))
		bad |= 4;
	if (sk_read_all(srv, buf, sizeof(EARLY)) || memcmp(buf, EARLY, sizeof(EARLY)))
		bad |= 8;
	if (sk_read_all(srv, buf, 6) || memcmp(buf, "after!", 6) || write(srv, "AFTER!", 6) != 6)
		bad |= 16;
	return bad;
}

int main(int argc, char **argv)
{
	union sk_addr l4a, l6a, cli_name, srv_name, ua, ca;
	int l4, l6, cli, srv, ub, uc, go[2], status;
	socklen_t len;
	char buf[64];
	pid_t pid;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_set(1, 65536)) {
		fail("can't make a network namespace with lo up");
		return 1;
	}
	l4 = listener(AF_INET, &l4a);
	l6 = listener(AF_INET6, &l6a);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	if (l4 < 0 || l6 < 0 || cli < 0 || connect(cli, &l4a.sa, sizeof(l4a.v4))) {
		fail("can't set up the TCP sockets");
		return 1;
	}
	srv = accept(l4, NULL, NULL);
	if (srv < 0 || sk_name(cli, &cli_name, &len) || sk_name(srv, &srv_name, &len)) {
		fail("accept");
		return 1;
	}
	len = sk_loopback(AF_INET, false, &ua);
	ub = socket(AF_INET, SOCK_DGRAM, 0);
	uc = socket(AF_INET, SOCK_DGRAM, 0);
	if (ub < 0 || uc < 0 || bind(ub, &ua.sa, len) || sk_name(ub, &ua, &len) || connect(uc, &ua.sa, len) ||
	    sk_name(uc, &ca, &len)) {
		fail("can't set up the UDP sockets");
		return 1;
	}
	if (pipe(go)) {
		fail("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		close(go[1]);
		close(cli);
		_exit(child(srv, &srv_name, go[0]));
	}
	close(go[0]);
	close(srv);
	if (write(cli, EARLY, sizeof(EARLY)) != sizeof(EARLY)) {
		fail("early data");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1)
		fail("can't wake the child");
	if (in_my_netns("the IPv4 listener", l4) && in_my_netns("the IPv6 listener", l6) &&
	    in_my_netns("the client", cli) && in_my_netns("the bound UDP socket", ub) &&
	    in_my_netns("the connected UDP socket", uc)) {
		if (!sk_name_eq(l4, &l4a) || !sk_name_eq(l6, &l6a) || !sk_name_eq(cli, &cli_name) ||
		    !sk_name_eq(ub, &ua) || !sk_name_eq(uc, &ca))
			fail("an address changed");
		if (sk_read_all(cli, buf, sizeof(EARLY)) || memcmp(buf, EARLY, sizeof(EARLY)))
			fail("the data queued to the client before the dump");
		if (write(cli, "after!", 6) != 6 || sk_read_all(cli, buf, 6) || memcmp(buf, "AFTER!", 6))
			fail("no new data on the connection after the restore");
		accepts("the IPv4 listener", l4, &l4a);
		accepts("the IPv6 listener", l6, &l6a);
		if (send(uc, "dgram", 5, 0) != 5 || recv(ub, buf, sizeof(buf), 0) != 5 || memcmp(buf, "dgram", 5))
			fail("no datagram from the connected UDP socket to the bound one");
		if (sendto(ub, "back", 4, 0, &ca.sa, sizeof(ca.v4)) != 4 || recv(uc, buf, sizeof(buf), 0) != 4 ||
		    memcmp(buf, "back", 4))
			fail("no datagram back to the connected UDP socket");
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child saw something wrong (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
