// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_named01: named unix sockets whose file or listener is gone.
 *  - a datagram socket bound to a path whose file was then removed, with
 *    datagrams queued;
 *  - a listener whose file was removed, and a new listener bound to the same
 *    path since, with a connection accepted from it;
 *  - connections accepted from listeners that were closed afterwards, one on
 *    a path (the file stays), one on an abstract name.
 * After restore the names are the dumped ones, removed files are still
 * removed, files that were there are there, queued data is there, and the
 * connections work.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t addr_of(struct sockaddr_un *sa, const char *name, bool abstract)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + abstract, sizeof(sa->sun_path) - 1, "%s", name);
	return offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) + !abstract;
}

static void check_addr(int fd, bool peer, const struct sockaddr_un *sa, socklen_t len, const char *what)
{
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	int r = peer ? getpeername(fd, (struct sockaddr *)&got, &glen) : getsockname(fd, (struct sockaddr *)&got, &glen);

	errno = 0;
	if (r || glen != len || memcmp(&got, sa, len))
		fail("%s: the %s is not the dumped one", what, peer ? "peer name" : "name");
}

static void check_link(int a, int b, const char *what)
{
	char buf[8];

	errno = 0;
	if (write(a, "12", 2) != 2 || recv(b, buf, sizeof(buf), MSG_DONTWAIT) != 2 || memcmp(buf, "12", 2) ||
	    write(b, "345", 3) != 3 || recv(a, buf, sizeof(buf), MSG_DONTWAIT) != 3 || memcmp(buf, "345", 3))
		fail("%s: the connection does not work", what);
}

static int connect_accept(int lsk, const struct sockaddr_un *sa, socklen_t len, int *ret_srv)
{
	int cli = socket(AF_UNIX, SOCK_STREAM, 0);

	if (cli < 0 || connect(cli, (const struct sockaddr *)sa, len))
		return -1;
	*ret_srv = accept(lsk, NULL, NULL);
	return *ret_srv < 0 ? -1 : cli;
}

int main(int argc, char **argv)
{
	char dpath[64], lpath[64], cpath[64], abs_name[64], buf[16];
	struct sockaddr_un dsa, lsa, csa, asa;
	socklen_t dlen, llen, clen, alen;
	int dg, snd, old_l, new_l, cli, srv, l2, cli2, srv2, l3, cli3, srv3;
	struct stat st;

	test_init(argc, argv);
	snprintf(dpath, sizeof(dpath), "gone-dgram-%d.sock", getpid());
	snprintf(lpath, sizeof(lpath), "relisten-%d.sock", getpid());
	snprintf(cpath, sizeof(cpath), "closed-%d.sock", getpid());
	snprintf(abs_name, sizeof(abs_name), "zdtm-closed-%d", getpid());
	dlen = addr_of(&dsa, dpath, false);
	llen = addr_of(&lsa, lpath, false);
	clen = addr_of(&csa, cpath, false);
	alen = addr_of(&asa, abs_name, true);
	unlink(dpath);
	unlink(lpath);
	unlink(cpath);

	/* a datagram socket whose file is removed, with data queued */
	dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	snd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (dg < 0 || snd < 0 || bind(dg, (struct sockaddr *)&dsa, dlen) ||
	    sendto(snd, "d1", 2, 0, (struct sockaddr *)&dsa, dlen) != 2 ||
	    sendto(snd, "d22", 3, 0, (struct sockaddr *)&dsa, dlen) != 3 || unlink(dpath)) {
		fail("datagram socket");
		return 1;
	}
	/* a listener whose file is removed, and a new one on the same path */
	old_l = socket(AF_UNIX, SOCK_STREAM, 0);
	new_l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (old_l < 0 || new_l < 0 || bind(old_l, (struct sockaddr *)&lsa, llen) || listen(old_l, 3) ||
	    unlink(lpath) || bind(new_l, (struct sockaddr *)&lsa, llen) || listen(new_l, 3)) {
		fail("listeners");
		return 1;
	}
	cli = connect_accept(new_l, &lsa, llen, &srv);
	/* connections whose listeners are closed */
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	l3 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cli < 0 || l2 < 0 || l3 < 0 || bind(l2, (struct sockaddr *)&csa, clen) || listen(l2, 1) ||
	    bind(l3, (struct sockaddr *)&asa, alen) || listen(l3, 1)) {
		fail("connect/listen");
		return 1;
	}
	cli2 = connect_accept(l2, &csa, clen, &srv2);
	cli3 = connect_accept(l3, &asa, alen, &srv3);
	if (cli2 < 0 || cli3 < 0 || close(l2) || close(l3) || write(cli2, "q", 1) != 1) {
		fail("accept");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_addr(dg, false, &dsa, dlen, "datagram socket with a removed file");
	errno = 0;
	if (recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 2 || memcmp(buf, "d1", 2) ||
	    recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 3 || memcmp(buf, "d22", 3))
		fail("the datagrams queued in the socket with a removed file are gone");
	if (!lstat(dpath, &st))
		fail("%s is back", dpath);

	check_addr(old_l, false, &lsa, llen, "listener with a removed file");
	check_addr(new_l, false, &lsa, llen, "new listener");
	check_addr(srv, false, &lsa, llen, "accepted from the new listener");
	check_addr(cli, true, &lsa, llen, "client of the new listener");
	check_link(cli, srv, "connection to the new listener");
	if (lstat(lpath, &st) || !S_ISSOCK(st.st_mode))
		fail("the new listener's file %s is gone", lpath);
	else {
		int c4 = socket(AF_UNIX, SOCK_STREAM, 0), s4;

		/* the path leads to the new listener, not to the old one */
		if (c4 < 0 || connect(c4, (struct sockaddr *)&lsa, llen) || (s4 = accept(new_l, NULL, NULL)) < 0)
			fail("the path does not lead to the new listener");
	}

	check_addr(srv2, false, &csa, clen, "accepted, listener closed (path)");
	check_addr(cli2, true, &csa, clen, "client, listener closed (path)");
	if (recv(srv2, buf, sizeof(buf), MSG_DONTWAIT) != 1 || buf[0] != 'q')
		fail("the data queued on the accepted socket is gone");
	check_link(cli2, srv2, "accepted, listener closed (path)");
	if (lstat(cpath, &st) || !S_ISSOCK(st.st_mode))
		fail("the closed listener's file %s is gone", cpath);
	check_addr(srv3, false, &asa, alen, "accepted, listener closed (abstract)");
	check_addr(cli3, true, &asa, alen, "client, listener closed (abstract)");
	check_link(cli3, srv3, "accepted, listener closed (abstract)");

	unlink(lpath);
	unlink(cpath);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
