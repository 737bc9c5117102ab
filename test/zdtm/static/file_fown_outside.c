// SPDX-License-Identifier: GPL-2.0
/*
 * file_fown_outside: a pipe whose owner (F_SETOWN) is a process outside the
 * dumped tree. Restore could not make that process the owner again, so the
 * dump must refuse, naming the fd and the owner, and leave the test running
 * with its owner and signal as they were.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct f_owner_ex o = {}, now = {};
	pid_t out;
	int p[2];

	test_init(argc, argv);
	out = test_start_outsider();
	if (out < 0) {
		fail("can't start a process outside the tree");
		return 1;
	}
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	o.type = F_OWNER_PID;
	o.pid = out;
	if (fcntl(p[0], F_SETOWN_EX, &o) || fcntl(p[0], F_SETSIG, SIGRTMIN + 1)) {
		fail("F_SETOWN_EX");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fcntl(p[0], F_GETOWN_EX, &now) || now.type != o.type || now.pid != o.pid)
		fail("owner type %d pid %d, was type %d pid %d", now.type, now.pid, o.type, o.pid);
	if (fcntl(p[0], F_GETSIG) != SIGRTMIN + 1)
		fail("F_GETSIG %d, was %d", fcntl(p[0], F_GETSIG), SIGRTMIN + 1);
	kill(out, SIGKILL);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
