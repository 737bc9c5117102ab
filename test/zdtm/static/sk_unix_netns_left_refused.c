// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_netns_left_refused: the task makes a network namespace, a unix
 * socket pair and a listener on an abstract name in it, then goes back to
 * the namespace it started in (setns), so that no task of the tree is in
 * the sockets' namespace. criu makes sockets again only in the tree's
 * namespaces: the dump must refuse them naming the namespace, and the
 * sockets must still work afterwards.
 */
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NAME "zdtm-sk-unix-netns-left"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(NAME);
	int start, sv[2], lsk, c;
	char buf[4] = "";

	test_init(argc, argv);
	strcpy(sa.sun_path + 1, NAME);
	start = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (start < 0 || unshare(CLONE_NEWNET) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    (lsk = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || bind(lsk, (struct sockaddr *)&sa, len) || listen(lsk, 4) ||
	    setns(start, CLONE_NEWNET) || close(start)) {
		fail("can't make the sockets in a namespace and leave it");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (write(sv[0], "abc", 3) != 3 || read(sv[1], buf, 3) != 3 || strcmp(buf, "abc"))
		fail("the pair does not work after the refused dump");
	/* the name is the left namespace's: from here (the starting one) no one listens on it */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || !connect(c, (struct sockaddr *)&sa, len))
		fail("the listener's name is in the starting namespace");
	if (getsockname(lsk, (struct sockaddr *)&sa, &len) || len != offsetof(struct sockaddr_un, sun_path) + 1 + strlen(NAME))
		fail("the listener lost its name");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
