// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_ext_queued: a datagram socket of the tree, bound and connected to
 * a socket outside the tree, with a datagram from that socket (its echo)
 * queued in it. Restore could not send it again from outside: even with
 * --ext-unix-sk the dump must refuse it, and leave the datagram queued.
 */
#include "sk_unix_ext.h"

int main(int argc, char **argv)
{
	char path[256], mine[256], got[256], cwd[200], buf[8];
	struct sockaddr_un sa, me;
	socklen_t len, mlen;
	pid_t out;
	int sk;

	test_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd))) {
		fail("getcwd");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sk_unix_ext_queued.sock", cwd);
	snprintf(mine, sizeof(mine), "%s/sk_unix_ext_queued.me", cwd);
	snprintf(got, sizeof(got), "%s/sk_unix_ext_queued.got", cwd);
	unlink(got);
	unlink(mine);
	out = start_ext_dgram(path, got);
	len = ext_addr(path, &sa);
	mlen = ext_addr(mine, &me);
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (out < 0 || sk < 0 || bind(sk, (struct sockaddr *)&me, mlen) || connect(sk, (struct sockaddr *)&sa, len) ||
	    send(sk, "q", 1, 0) != 1 || !ext_got(got, "q")) {
		fail("set up the sockets");
		return 1;
	}
	/* the echo is queued in sk by now (sent before the outside process wrote the file... or right after) */
	for (int i = 0; i < 500 && recv(sk, buf, 1, MSG_PEEK | MSG_DONTWAIT) != 1; i++)
		usleep(10000);

	test_daemon();
	test_waitsig();

	if (recv(sk, buf, sizeof(buf), MSG_DONTWAIT) != 1 || buf[0] != 'q')
		fail("the datagram from outside is not queued any more");
	kill(out, SIGKILL);
	unlink(path);
	unlink(mine);
	unlink(got);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
