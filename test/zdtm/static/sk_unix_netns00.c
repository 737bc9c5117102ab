// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_netns00: unix sockets in three network namespaces. The test's
 * root stays in the namespace it started in; two children each unshare a
 * network namespace of their own. Each of the three has, under the same
 * abstract names everywhere (abstract names are per network namespace): a
 * stream listener with an accepted connection, a datagram socket with a
 * datagram queued, and a seqpacket pair with a record queued. The first
 * child also holds a datagram socket connected by path (paths reach across
 * network namespaces) to one of the root's, which has a datagram from it
 * queued. Made in one namespace, the sockets could not all have their
 * names back. After restore each task finds its sockets in its own
 * namespace, a new socket of its namespace reaches its listener and its
 * datagram socket by name, and the queued data and the path connection are
 * back.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "ns_net_lo.h"

#define NR_CHILDREN 2
#define PATH_NAME "sk_unix_netns00.sock"

struct socks {
	int lsk, cli, srv, dg, pair[2];
};

static socklen_t abstract(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path + 1, name);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static socklen_t by_path(struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, PATH_NAME);
	return offsetof(struct sockaddr_un, sun_path) + sizeof(PATH_NAME);
}

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

/* the sockets of task idx (0: the root), with its index queued in the datagram socket and the pair */
static int make(struct socks *s, char idx)
{
	struct sockaddr_un sa;
	socklen_t len;
	int tmp;

	s->lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	s->cli = socket(AF_UNIX, SOCK_STREAM, 0);
	s->dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	tmp = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s->lsk < 0 || s->cli < 0 || s->dg < 0 || tmp < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, s->pair))
		return -1;
	len = abstract(&sa, "zdtm-sk-unix-netns-listen");
	if (bind(s->lsk, (struct sockaddr *)&sa, len) || listen(s->lsk, 4) || connect(s->cli, (struct sockaddr *)&sa, len))
		return -1;
	s->srv = accept(s->lsk, NULL, NULL);
	len = abstract(&sa, "zdtm-sk-unix-netns-dgram");
	if (s->srv < 0 || bind(s->dg, (struct sockaddr *)&sa, len) ||
	    sendto(tmp, &idx, 1, 0, (struct sockaddr *)&sa, len) != 1 || write(s->pair[0], &idx, 1) != 1)
		return -1;
	close(tmp);
	return 0;
}

/* 0 when every socket is back in the caller's namespace, reachable by its names there, with its data */
static int check(struct socks *s, char idx)
{
	int sks[] = { s->lsk, s->cli, s->srv, s->dg, s->pair[0], s->pair[1] };
	struct sockaddr_un sa;
	socklen_t len;
	int c, n, bad = 0;
	char buf[8];

	for (size_t i = 0; i < sizeof(sks) / sizeof(sks[0]); i++)
		if (!in_my_netns(sks[i]))
			bad |= 1;
	if (recv(s->dg, buf, sizeof(buf), MSG_DONTWAIT) != 1 || buf[0] != idx)
		bad |= 2;
	if (read(s->pair[1], buf, sizeof(buf)) != 1 || buf[0] != idx)
		bad |= 4;
	if (write(s->cli, "ping", 4) != 4 || read(s->srv, buf, 4) != 4 || memcmp(buf, "ping", 4))
		bad |= 8;
	len = abstract(&sa, "zdtm-sk-unix-netns-listen");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, len) || (n = accept(s->lsk, NULL, NULL)) < 0)
		bad |= 16;
	else
		close(n);
	if (c >= 0)
		close(c);
	len = abstract(&sa, "zdtm-sk-unix-netns-dgram");
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || sendto(c, &idx, 1, 0, (struct sockaddr *)&sa, len) != 1 ||
	    recv(s->dg, buf, sizeof(buf), MSG_DONTWAIT) != 1 || buf[0] != idx)
		bad |= 32;
	if (c >= 0)
		close(c);
	return bad;
}

static int child(char idx, int ready, int go)
{
	struct sockaddr_un sa;
	int to_root = -1, bad;
	struct socks s;
	char c;

	if (unshare(CLONE_NEWNET) || lo_set(1, 65536) || make(&s, idx))
		return 100;
	if (idx == 1) {
		/* a path reaches the root's socket in the other namespace */
		to_root = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (to_root < 0 || connect(to_root, (struct sockaddr *)&sa, by_path(&sa)) || write(to_root, "before", 6) != 6)
			return 101;
	}
	if (write(ready, "r", 1) != 1)
		return 102;
	close(ready);
	if (read(go, &c, 1) != 1)	/* the parent, after the restore */
		return 103;
	bad = check(&s, idx);
	if (to_root >= 0 && (!in_my_netns(to_root) || write(to_root, "after", 5) != 5))
		bad |= 64;
	return bad;
}

int main(int argc, char **argv)
{
	int go[NR_CHILDREN][2], ready[2], status, bad, path_sk;
	pid_t pid[NR_CHILDREN];
	struct sockaddr_un sa;
	struct socks s;
	char c, buf[8];

	test_init(argc, argv);
	unlink(PATH_NAME);
	path_sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (path_sk < 0 || bind(path_sk, (struct sockaddr *)&sa, by_path(&sa)) || make(&s, 0)) {
		fail("can't make the sockets of the test's namespace");
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
			close(path_sk);
			_exit(child(i + 1, ready[1], go[i][0]));
		}
		close(go[i][0]);
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1 || close(ready[0])) {
			fail("child %d could not set up its namespace", i + 1);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	bad = check(&s, 0);
	if (bad)
		fail("the test's own sockets: %#x", bad);
	if (!in_my_netns(path_sk) || recv(path_sk, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "before", 6))
		fail("the datagram queued by path from the first child's namespace is not back");
	for (int i = 0; i < NR_CHILDREN; i++) {
		if (write(go[i][1], "g", 1) != 1)
			fail("can't wake child %d", i + 1);
		if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %d saw something wrong (status %#x)", i + 1, status);
	}
	if (recv(path_sk, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("the first child's socket is no longer connected to the root's by path");
	unlink(PATH_NAME);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
