// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_tmp00: unix sockets bound to paths in /tmp, which in the ct
 * flavour is a tmpfs of the container's own, whose image can't hold a
 * socket file (the restore binds the sockets there again). A stream
 * listener (its file made 0640) with an accepted connection, and a
 * datagram socket with a datagram queued. After restore the files are sockets with their modes, a
 * new client reaches the listener by path, the connection and the datagram
 * are back, and a datagram sent to the path arrives.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static char dir[64];

static socklen_t addr(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name);
	return sizeof(*sa);
}

static void check_file(const char *name, mode_t mode)
{
	struct sockaddr_un sa;
	struct stat st;

	addr(&sa, name);
	if (stat(sa.sun_path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != mode)
		fail("%s is not a socket file of mode %o (mode %o)", sa.sun_path, mode, st.st_mode);
}

int main(int argc, char **argv)
{
	int lsk, cli, srv, dg, tmp, c, n;
	struct sockaddr_un sa;
	socklen_t len;
	char buf[16] = "";

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "/tmp/zdtm_sk_unix_tmp.%d", getpid());
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	tmp = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (mkdir(dir, 0755) || lsk < 0 || cli < 0 || dg < 0 || tmp < 0) {
		fail("can't make the directory and the sockets");
		return 1;
	}
	len = addr(&sa, "l.sock");
	if (bind(lsk, (struct sockaddr *)&sa, len) || chmod(sa.sun_path, 0640) || listen(lsk, 4) ||
	    connect(cli, (struct sockaddr *)&sa, len) || (srv = accept(lsk, NULL, NULL)) < 0) {
		fail("can't make the connection");
		return 1;
	}
	len = addr(&sa, "d.sock");
	if (bind(dg, (struct sockaddr *)&sa, len) || sendto(tmp, "queued", 6, 0, (struct sockaddr *)&sa, len) != 6) {
		fail("can't queue a datagram");
		return 1;
	}
	close(tmp);
	test_daemon();
	test_waitsig();

	check_file("l.sock", 0640);
	check_file("d.sock", 0755 & ~umask(0));
	if (write(cli, "ping", 4) != 4 || read(srv, buf, 4) != 4 || memcmp(buf, "ping", 4))
		fail("the accepted connection is broken");
	if (recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "queued", 6))
		fail("the queued datagram is gone");
	len = addr(&sa, "l.sock");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, len) || (n = accept(lsk, NULL, NULL)) < 0)
		fail("a new client can't reach the listener by its path");
	len = addr(&sa, "d.sock");
	tmp = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (tmp < 0 || sendto(tmp, "after", 5, 0, (struct sockaddr *)&sa, len) != 5 ||
	    recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "after", 5))
		fail("a datagram sent to the path does not arrive");
	addr(&sa, "l.sock");
	unlink(sa.sun_path);
	addr(&sa, "d.sock");
	unlink(sa.sun_path);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
