// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_external_gone: a pidfd of a process outside the dumped tree that ends
 * when the dumped tree is killed (it waits on a pidfd of the test). After
 * restore that process is gone, so the pidfd must be a pidfd of an exited
 * process: Pid -1, poll POLLIN|POLLHUP, signals give ESRCH — never a process
 * that got its pid. Without a restore (--nocr, --norst) the process is alive
 * and the pidfd must still reach it. The test tells the two apart by its own
 * pidfs inode, which a restore always changes.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static pid_t start_outsider(void)
{
	int p[2];
	pid_t mid, out = -1, me = getpid();

	if (pipe(p))
		return -1;
	mid = fork();
	if (mid == 0) {
		pid_t o = fork();

		if (o == 0) {
			/* end when the test process ends */
			struct pollfd pf = { .fd = sys_pidfd_open(me, 0), .events = POLLIN };

			alarm(120);
			poll(&pf, 1, -1);
			_exit(0);
		}
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			_exit(1);
		_exit(0);
	}
	if (read(p[0], &out, sizeof(out)) != sizeof(out))
		out = -1;
	waitpid(mid, NULL, 0);
	close(p[0]);
	close(p[1]);
	return out;
}

static ino_t self_ino(void)
{
	struct stat st;
	int fd = sys_pidfd_open(getpid(), 0);
	ino_t ino = (fd >= 0 && !fstat(fd, &st)) ? st.st_ino : 0;

	close(fd);
	return ino;
}

int main(int argc, char **argv)
{
	struct pidfd_state st;
	struct pollfd p;
	long long pid = 0;
	ino_t before;
	pid_t out;
	int fd;

	test_init(argc, argv);
	out = start_outsider();
	fd = out > 0 ? sys_pidfd_open(out, 0) : -1;
	before = self_ino();
	if (fd < 0 || !before) {
		fail("can't start the outside process");
		return 1;
	}
	if (pidfd_remember(fd, out, "pidfd of an outside process", &st))
		return 1;

	test_daemon();
	test_waitsig();

	if (self_ino() == before) {
		test_msg("not restored: the outside process must still be there\n");
		pidfd_check(&st);
		sys_pidfd_send_signal(fd, SIGKILL, NULL, 0);
	} else {
		errno = 0;
		if (fdinfo_get_long(fd, "Pid", &pid) || pid != -1)
			fail("fdinfo Pid %lld, expected -1 (the outside process is gone)", pid);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) != 1 || p.revents != (POLLIN | POLLHUP))
			fail("poll revents 0x%x, expected POLLIN|POLLHUP", p.revents);
		if (sys_pidfd_send_signal(fd, 0, NULL, 0) == 0 || errno != ESRCH)
			fail("a signal through the pidfd of a gone process did not give ESRCH");
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
