// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_name_twice: sockets bound one after the other to the same path,
 * the socket file removed before each next bind: two datagram sockets,
 * each with a connected client, and two stream listeners of one name,
 * each with an accepted connection, the second also with a connection not
 * accepted yet; then the last file removed too. After restore every socket
 * has the name, each client reaches its own socket (not the other one
 * bound to the name), the pending connection is accepted from the second
 * listener, and the name is still free (nothing of criu's is left in the
 * directory).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static int sk(int type, const struct sockaddr_un *bind_to, const struct sockaddr_un *connect_to)
{
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || (bind_to && bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to))) ||
	    (connect_to && connect(fd, (const struct sockaddr *)connect_to, sizeof(*connect_to))))
		return -1;
	return fd;
}

static void check_name(int fd, const struct sockaddr_un *want, const char *what)
{
	struct sockaddr_un got = {};
	socklen_t len = sizeof(got);

	if (getsockname(fd, (struct sockaddr *)&got, &len) || strcmp(got.sun_path, want->sun_path))
		fail("%s: its name is '%s', not '%s'", what, got.sun_path, want->sun_path);
}

/* what a sends, b gets, and nothing else was queued in b */
static void check_link(int a, int b, const char *msg, const char *what)
{
	char buf[16] = {};

	if (send(a, msg, strlen(msg), 0) != (ssize_t)strlen(msg) ||
	    recv(b, buf, sizeof(buf), MSG_DONTWAIT) != (ssize_t)strlen(msg) || strcmp(buf, msg))
		fail("%s: '%s' sent, '%s' received", what, msg, buf);
	if (recv(b, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		fail("%s: more was queued", what);
}

int main(int argc, char **argv)
{
	struct sockaddr_un dg = { .sun_family = AF_UNIX }, st = { .sun_family = AF_UNIX };
	int dsrv[2], dcli[2], lsn[2], cli[2], acc[2], pend;
	struct dirent *de;
	DIR *d;

	test_init(argc, argv);
	snprintf(dg.sun_path, sizeof(dg.sun_path), "zdtm-sktwice.dg.%d", getpid());
	snprintf(st.sun_path, sizeof(st.sun_path), "zdtm-sktwice.st.%d", getpid());
	for (int i = 0; i < 2; i++) {
		dsrv[i] = sk(SOCK_DGRAM, &dg, NULL);
		dcli[i] = sk(SOCK_DGRAM, NULL, &dg);
		lsn[i] = sk(SOCK_STREAM, &st, NULL);
		if (dsrv[i] < 0 || dcli[i] < 0 || lsn[i] < 0 || listen(lsn[i], 4)) {
			fail("sockets %d", i);
			return 1;
		}
		cli[i] = sk(SOCK_STREAM, NULL, &st);
		acc[i] = cli[i] < 0 ? -1 : accept(lsn[i], NULL, NULL);
		if (acc[i] < 0) {
			fail("connection %d", i);
			return 1;
		}
		pend = i ? sk(SOCK_STREAM, NULL, &st) : -1;
		if ((i && pend < 0) || unlink(dg.sun_path) || unlink(st.sun_path)) {
			fail("unlink %d", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++) {
		check_name(dsrv[i], &dg, "datagram socket");
		check_name(lsn[i], &st, "listener");
		check_name(acc[i], &st, "accepted socket");
		check_link(dcli[i], dsrv[i], i ? "dg-one" : "dg-zero", "datagram client");
		check_link(cli[i], acc[i], i ? "st-one" : "st-zero", "stream client");
		check_link(acc[i], cli[i], i ? "back-one" : "back-zero", "accepted socket");
	}
	fcntl(lsn[0], F_SETFL, O_NONBLOCK);
	fcntl(lsn[1], F_SETFL, O_NONBLOCK);
	if (accept(lsn[0], NULL, NULL) >= 0)
		fail("the first listener has a pending connection");
	acc[0] = accept(lsn[1], NULL, NULL);
	if (acc[0] < 0)
		fail("the pending connection is not on the second listener");
	else
		check_link(pend, acc[0], "pending", "pending client");
	if (!access(dg.sun_path, F_OK) || !access(st.sun_path, F_OK))
		fail("a removed socket file is back");
	d = opendir(".");
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".criu", 5))
			fail("criu left %s behind", de->d_name);
	if (d)
		closedir(d);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
