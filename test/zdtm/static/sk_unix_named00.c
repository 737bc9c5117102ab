// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_named00: stream sockets bound to paths.
 *  - a listener bound to a relative path, its socket file chmod'ed to 0640;
 *  - a client bound to a path of its own, connected to the listener, and the
 *    connection accepted from it, with data queued both ways;
 *  - a socket that is bound but neither listening nor connected.
 * After restore: names and peer names are the dumped ones, the socket files
 * keep their mode, the data is there, the listener accepts new connections.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t addr_of(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static void check_addr(int fd, bool peer, const struct sockaddr_un *sa, socklen_t len, const char *what)
{
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	int r = peer ? getpeername(fd, (struct sockaddr *)&got, &glen) : getsockname(fd, (struct sockaddr *)&got, &glen);

	errno = 0;
	if (r || glen != len || memcmp(&got, sa, len))
		fail("%s: %s is '%s', expected '%s'", what, peer ? "peer name" : "name", r ? "?" : got.sun_path,
		     sa->sun_path);
}

static void check_data(int fd, const char *want, const char *what)
{
	char buf[256];
	size_t len = strlen(want);
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	errno = 0;
	if (n != (ssize_t)len || memcmp(buf, want, len))
		fail("%s: read %zd bytes, expected '%s'", what, n, want);
	else if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("%s: more data than was queued", what);
}

int main(int argc, char **argv)
{
	char lpath[64], cpath[64], bpath[64];
	struct sockaddr_un lsa, csa, bsa;
	socklen_t llen, clen, blen;
	int lsk, cli, srv, bound, c2, s2;
	struct stat st;

	test_init(argc, argv);
	snprintf(lpath, sizeof(lpath), "listen-%d.sock", getpid());
	snprintf(cpath, sizeof(cpath), "client-%d.sock", getpid());
	snprintf(bpath, sizeof(bpath), "bound-%d.sock", getpid());
	llen = addr_of(&lsa, lpath);
	clen = addr_of(&csa, cpath);
	blen = addr_of(&bsa, bpath);
	unlink(lpath);
	unlink(cpath);
	unlink(bpath);

	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	bound = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lsk < 0 || cli < 0 || bound < 0) {
		fail("socket");
		return 1;
	}
	if (bind(lsk, (struct sockaddr *)&lsa, llen) || chmod(lpath, 0640) || listen(lsk, 7) ||
	    bind(cli, (struct sockaddr *)&csa, clen) || connect(cli, (struct sockaddr *)&lsa, llen) ||
	    bind(bound, (struct sockaddr *)&bsa, blen)) {
		fail("bind/listen/connect");
		return 1;
	}
	srv = accept(lsk, NULL, NULL);
	if (srv < 0 || write(cli, "hello server", 12) != 12 || write(srv, "hello client!", 13) != 13) {
		fail("accept/write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_addr(lsk, false, &lsa, llen, "listener");
	check_addr(srv, false, &lsa, llen, "accepted socket");
	check_addr(srv, true, &csa, clen, "accepted socket");
	check_addr(cli, false, &csa, clen, "client");
	check_addr(cli, true, &lsa, llen, "client");
	check_addr(bound, false, &bsa, blen, "bound socket");
	check_data(srv, "hello server", "client -> server");
	check_data(cli, "hello client!", "server -> client");

	errno = 0;
	if (stat(lpath, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0640)
		fail("the listener's socket file has mode %o, expected socket 0640", st.st_mode);
	if (!(fcntl(bound, F_GETFL) & O_NONBLOCK))
		fail("the bound socket lost O_NONBLOCK");

	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&lsa, llen)) {
		fail("connect to the restored listener");
	} else {
		char buf[8];

		s2 = accept(lsk, NULL, NULL);
		if (s2 < 0 || write(c2, "x", 1) != 1 || read(s2, buf, sizeof(buf)) != 1)
			fail("a new connection does not work");
	}
	unlink(lpath);
	unlink(cpath);
	unlink(bpath);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
