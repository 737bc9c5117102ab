// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_ext_refused: a datagram socket connected to one outside the tree,
 * dumped without --ext-unix-sk: the dump must refuse it, naming the peer
 * outside, and leave the test running with its socket still connected.
 */
#include "sk_unix_ext.h"

int main(int argc, char **argv)
{
	char path[256], got[256], cwd[200];
	struct sockaddr_un sa;
	socklen_t len;
	pid_t out;
	int sk;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd))) {
		fail("getcwd");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sk_unix_ext_refused.sock", cwd);
	snprintf(got, sizeof(got), "%s/sk_unix_ext_refused.got", cwd);
	unlink(got);
	out = start_ext_dgram(path, got);
	len = ext_addr(path, &sa);
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (out < 0 || sk < 0 || connect(sk, (struct sockaddr *)&sa, len)) {
		fail("set up the socket outside");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (send(sk, "b", 1, 0) != 1 || !ext_got(got, "b"))
		fail("the socket is not connected to the one outside any more");
	kill(out, SIGKILL);
	unlink(path);
	unlink(got);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
