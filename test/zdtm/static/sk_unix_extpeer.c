// SPDX-License-Identifier: GPL-2.0
/*
 * sk_unix_extpeer: one end of a stream socketpair is held by a process
 * outside the dumped tree (a grandchild whose parent exited, reparented to
 * the runner). criu can't restore a connection to a process it does not
 * restore, so the dump must refuse (crfail) and leave both ends working:
 * the outsider still echoes what the test sends, and data queued before the
 * dump is still there.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

/* An outside process holding end: echoes every byte it reads, one at a time. */
static pid_t start_outsider(int end, int mine)
{
	int p[2];
	pid_t mid, out = -1;

	if (pipe(p))
		return -1;
	mid = fork();
	if (mid == 0) {
		pid_t o = fork();

		if (o == 0) {
			char c;

			close(mine);
			setsid();	/* leave the test's session */
			alarm(120);	/* never outlive a broken run by much */
			while (read(end, &c, 1) == 1)
				if (write(end, &c, 1) != 1)
					break;
			_exit(0);
		}
		_exit(write(p[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	if (read(p[0], &out, sizeof(out)) != sizeof(out))
		out = -1;
	waitpid(mid, NULL, 0);
	close(p[0]);
	close(p[1]);
	return out;
}

int main(int argc, char **argv)
{
	char buf[16];
	int sv[2];
	pid_t out;

	test_init(argc, argv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		fail("socketpair");
		return 1;
	}
	out = start_outsider(sv[1], sv[0]);
	if (out <= 0) {
		fail("can't start the outside process");
		return 1;
	}
	close(sv[1]);
	/* the echo of "cd" stays queued on our side over the dump */
	if (write(sv[0], "ab", 2) != 2 || recv(sv[0], buf, 2, MSG_WAITALL) != 2 || write(sv[0], "cd", 2) != 2) {
		fail("the outsider does not echo");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (recv(sv[0], buf, 2, MSG_WAITALL) != 2 || memcmp(buf, "cd", 2))
		fail("the data queued before the dump is gone");
	if (write(sv[0], "xyz", 3) != 3 || recv(sv[0], buf, 3, MSG_WAITALL) != 3 || memcmp(buf, "xyz", 3))
		fail("the connection to the outsider is broken");
	kill(out, SIGKILL);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
