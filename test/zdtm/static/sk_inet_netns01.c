// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_netns01: the same address in three network namespaces. The
 * test's root, in the runner's namespace, and two children, each in a
 * network namespace it unshared itself (so a task other than the root makes
 * it at restore), each bind a TCP listener and a UDP socket to
 * 127.0.0.1:PORT, the same port everywhere, and each child has an
 * established connection to its own listener. Made in one namespace, the
 * sockets could not all have their address back. After restore each task
 * finds its sockets in its own namespace, its listener accepts, its
 * connection carries data both ways and its UDP socket gets a datagram.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ns_net_lo.h"
#include "sk_inet.h"

#define PORT 40777
#define NR_CHILDREN 2

struct socks {
	int lsk, udp, cli, srv;
};

static int in_my_netns(int sk)
{
	struct stat a, b;
	int ns = ioctl(sk, SIOCGSKNS), ok;

	if (ns < 0)
		return 0;
	ok = !fstat(ns, &a) && !stat("/proc/self/ns/net", &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	close(ns);
	return ok;
}

static int make(struct socks *s, bool conn)
{
	union sk_addr a;
	socklen_t len = sk_loopback(AF_INET, false, &a);

	a.v4.sin_port = htons(PORT);
	s->lsk = socket(AF_INET, SOCK_STREAM, 0);
	s->udp = socket(AF_INET, SOCK_DGRAM, 0);
	s->cli = s->srv = -1;
	if (s->lsk < 0 || s->udp < 0 || bind(s->lsk, &a.sa, len) || listen(s->lsk, 4) || bind(s->udp, &a.sa, len))
		return -1;
	if (!conn)
		return 0;
	s->cli = socket(AF_INET, SOCK_STREAM, 0);
	if (s->cli < 0 || connect(s->cli, &a.sa, len))
		return -1;
	s->srv = accept(s->lsk, NULL, NULL);
	return s->srv < 0 ? -1 : 0;
}

/* 0 when every socket is back in the caller's namespace and works */
static int check(struct socks *s)
{
	union sk_addr a;
	socklen_t len = sk_loopback(AF_INET, false, &a);
	int c, n, bad = 0;
	char buf[8];

	a.v4.sin_port = htons(PORT);
	if (!in_my_netns(s->lsk) || !in_my_netns(s->udp) || (s->cli >= 0 && (!in_my_netns(s->cli) || !in_my_netns(s->srv))))
		bad |= 1;
	if (!sk_name_eq(s->lsk, &a) || !sk_name_eq(s->udp, &a))
		bad |= 2;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &a.sa, len) || (n = accept(s->lsk, NULL, NULL)) < 0)
		bad |= 4;
	else
		close(n);
	if (c >= 0)
		close(c);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	if (c < 0 || sendto(c, "dgram", 5, 0, &a.sa, len) != 5 || recv(s->udp, buf, sizeof(buf), 0) != 5)
		bad |= 8;
	if (c >= 0)
		close(c);
	if (s->cli >= 0 && (write(s->cli, "ping", 4) != 4 || sk_read_all(s->srv, buf, 4) || memcmp(buf, "ping", 4) ||
			    write(s->srv, "pong", 4) != 4 || sk_read_all(s->cli, buf, 4) || memcmp(buf, "pong", 4)))
		bad |= 16;
	return bad;
}

/* pipes, not a unix socket pair: a unix socket in the child's namespace would be refused */
static int child(int ready, int go)
{
	struct socks s;
	char c;

	if (unshare(CLONE_NEWNET) || lo_set(1, 65536) || make(&s, true))
		return 100;
	if (write(ready, "r", 1) != 1)
		return 101;
	close(ready);
	if (read(go, &c, 1) != 1)	/* the parent, after the restore */
		return 102;
	return check(&s);
}

int main(int argc, char **argv)
{
	int go[NR_CHILDREN][2], ready[2], status, bad;
	pid_t pid[NR_CHILDREN];
	struct socks s;
	char c;

	test_init(argc, argv);
	if (make(&s, false)) {
		fail("can't bind 127.0.0.1:%d in the test's namespace", PORT);
		return 1;
	}
	for (int i = 0; i < NR_CHILDREN; i++) {
		if (pipe(go[i]) || pipe(ready)) {
			fail("pipe");
			return 1;
		}
		pid[i] = fork();
		if (pid[i] < 0) {
			fail("fork");
			return 1;
		}
		if (pid[i] == 0) {
			close(go[i][1]);
			close(ready[0]);
			_exit(child(ready[1], go[i][0]));
		}
		close(go[i][0]);
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1 || close(ready[0])) {
			fail("child %d could not set up its namespace", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	bad = check(&s);
	if (bad)
		fail("the test's own sockets: %#x", bad);
	for (int i = 0; i < NR_CHILDREN; i++) {
		if (write(go[i][1], "g", 1) != 1)
			fail("can't wake child %d", i);
		if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %d saw something wrong (status %#x)", i, status);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
