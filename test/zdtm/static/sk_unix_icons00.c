// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_icons00: connections not accepted yet. A stream listener on a
 * path has one connection accepted and, behind it in its queue, two
 * connections nobody accepted: one from an unbound client, one from a client
 * bound to a path of its own; a seqpacket listener on an abstract name has
 * one pending connection. No client sent anything yet. After restore the
 * clients are still connected and accept() on the listeners gives their
 * connections (as many as were pending, no more); data flows both ways on
 * them and on the accepted one.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

static void check_link(int a, int b, const char *what)
{
	char buf[8];

	errno = 0;
	if (write(a, "ab", 2) != 2 || recv(b, buf, sizeof(buf), MSG_DONTWAIT) != 2 || memcmp(buf, "ab", 2) ||
	    write(b, "cde", 3) != 3 || recv(a, buf, sizeof(buf), MSG_DONTWAIT) != 3 || memcmp(buf, "cde", 3))
		fail("%s: the connection does not work", what);
}

/* The client whose peer the accepted socket srv is: by a byte sent through it. */
static int client_of(int srv, const int *clients, int nr)
{
	char c = 0;

	if (write(srv, "?", 1) != 1)
		return -1;
	for (int i = 0; i < nr; i++)
		if (recv(clients[i], &c, 1, MSG_DONTWAIT) == 1)
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	char lpath[64], bpath[64], abs_name[64];
	struct sockaddr_un lsa, bsa, asa, got;
	socklen_t llen, blen, alen, glen;
	int lsk, c0, srv0, pend[2], sq_l, sq_c, s, seen[2] = { 0, 0 };

	test_init(argc, argv);
	snprintf(lpath, sizeof(lpath), "icons-%d.sock", getpid());
	snprintf(bpath, sizeof(bpath), "icons-client-%d.sock", getpid());
	snprintf(abs_name, sizeof(abs_name), "zdtm-icons-%d", getpid());
	llen = addr_of(&lsa, lpath, false);
	blen = addr_of(&bsa, bpath, false);
	alen = addr_of(&asa, abs_name, true);
	unlink(lpath);
	unlink(bpath);

	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	c0 = socket(AF_UNIX, SOCK_STREAM, 0);
	pend[0] = socket(AF_UNIX, SOCK_STREAM, 0);
	pend[1] = socket(AF_UNIX, SOCK_STREAM, 0);
	sq_l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	sq_c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lsk < 0 || c0 < 0 || pend[0] < 0 || pend[1] < 0 || sq_l < 0 || sq_c < 0) {
		fail("socket");
		return 1;
	}
	if (bind(lsk, (struct sockaddr *)&lsa, llen) || listen(lsk, 8) || connect(c0, (struct sockaddr *)&lsa, llen)) {
		fail("listen/connect");
		return 1;
	}
	srv0 = accept(lsk, NULL, NULL);
	if (srv0 < 0 || connect(pend[0], (struct sockaddr *)&lsa, llen) ||
	    bind(pend[1], (struct sockaddr *)&bsa, blen) || connect(pend[1], (struct sockaddr *)&lsa, llen) ||
	    bind(sq_l, (struct sockaddr *)&asa, alen) || listen(sq_l, 2) ||
	    connect(sq_c, (struct sockaddr *)&asa, alen)) {
		fail("accept/pending connects");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_link(c0, srv0, "accepted before the dump");
	if (fcntl(lsk, F_SETFL, O_NONBLOCK) || fcntl(sq_l, F_SETFL, O_NONBLOCK)) {
		fail("fcntl");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		int k;

		s = accept(lsk, NULL, NULL);
		if (s < 0) {
			fail("pending connection %d can't be accepted", i);
			continue;
		}
		k = client_of(s, pend, 2);
		if (k < 0 || seen[k]++) {
			fail("an accepted connection leads to no pending client, or to one twice");
			continue;
		}
		check_link(pend[k], s, k ? "pending connection of the bound client" : "pending connection");
		glen = sizeof(got);
		errno = 0;
		if (k == 1 && (getpeername(s, (struct sockaddr *)&got, &glen) || glen != blen || memcmp(&got, &bsa, blen)))
			fail("the bound client's connection lost its name");
	}
	errno = 0;
	if (accept(lsk, NULL, NULL) >= 0 || errno != EAGAIN)
		fail("more connections pending than before the dump");
	s = accept(sq_l, NULL, NULL);
	if (s < 0)
		fail("the pending seqpacket connection can't be accepted");
	else
		check_link(sq_c, s, "pending seqpacket connection");
	unlink(lpath);
	unlink(bpath);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
