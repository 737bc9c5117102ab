// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_ext_dgram: a datagram socket of the tree connected to a datagram
 * socket outside the tree, bound to a path (--ext-unix-sk): after restore
 * it is connected to that socket again, and send() reaches it.
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
	snprintf(path, sizeof(path), "%s/sk_unix_ext_dgram.sock", cwd);
	snprintf(got, sizeof(got), "%s/sk_unix_ext_dgram.got", cwd);
	unlink(got);
	out = start_ext_dgram(path, got);
	len = ext_addr(path, &sa);
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (out < 0 || sk < 0 || connect(sk, (struct sockaddr *)&sa, len) || send(sk, "a", 1, 0) != 1 ||
	    !ext_got(got, "a")) {
		fail("set up the socket outside");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (send(sk, "b", 1, 0) != 1)
		fail("send after restore");
	else if (!ext_got(got, "ab"))
		fail("the socket outside did not get the datagram sent after restore");
	kill(out, SIGKILL);
	unlink(path);
	unlink(got);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
