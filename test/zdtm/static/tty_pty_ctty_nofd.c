// SPDX-License-Identifier: GPL-2.0
/*
 * Ptys that are a session's controlling terminal with no fd of their slave
 * left in the tree, only their master:
 * - the test (a session leader) made pty A its controlling terminal and
 *   closed its slave: after restore /dev/tty opens, and reads what is written
 *   on A's master;
 * - a child made a session of its own, with pty B as its controlling
 *   terminal, and closed B's slave; the test holds B's master: after
 *   restore the child's controlling terminal is B again, and when the test
 *   closes B's master the child gets SIGHUP (and not before).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t hups;

static void on_hup(int sig)
{
	hups++;
}

/* The device of the task's controlling terminal, from its /proc stat (tty_nr), 0 if none. */
static unsigned int ctty_nr(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned int nr = 0;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* ") S ppid pgrp session tty_nr" */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %u", &nr) != 1)
		return 0;
	return nr;
}

static unsigned int pts_nr(int master)
{
	int index;

	if (ioctl(master, TIOCGPTN, &index))
		return 0;
	/* the kernel's encoding of tty_nr: major 136 + index / 256, minor index % 256 */
	return (136 + index / 256) << 8 | (index % 256);
}

/* A new pty made the test's controlling terminal, its slave closed again; its master. */
static int ctty_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;

	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	s = open(ptsname(m), O_RDWR | O_CLOEXEC);
	if (s < 0 || ioctl(s, TIOCSCTTY, 0) || close(s))
		return -1;
	return m;
}

int main(int argc, char **argv)
{
	static const char ping[] = "ping\n";
	int ma, mb, tty, status, p[2];
	char buf[16], c;
	pid_t pid;

	test_init(argc, argv);

	ma = ctty_pty();
	if (ma < 0) {
		fail("make pty A the test's controlling terminal");
		return 1;
	}
	/* pty B: made in the child, its master passed up */
	mb = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (mb < 0 || grantpt(mb) || unlockpt(mb) || pipe(p)) {
		fail("open pty B");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (!pid) {
		int s;

		sigset_t hup, none;

		close(p[0]);
		signal(SIGHUP, on_hup);
		sigemptyset(&none);
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		if (setsid() < 0)
			_exit(10);
		s = open(ptsname(mb), O_RDWR | O_CLOEXEC);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0) || close(s))
			_exit(11);
		close(mb);
		if (write(p[1], "r", 1) != 1)
			_exit(12);
		close(p[1]);
		/* until the test closes the master, after restore */
		while (!hups)
			sigsuspend(&none);
		_exit(hups == 1 ? 0 : 13);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fail("the child did not get pty B");
		return 1;
	}
	close(p[0]);

	test_daemon();
	test_waitsig();

	if (ctty_nr(getpid()) != pts_nr(ma) || ctty_nr(pid) != pts_nr(mb)) {
		fail("controlling terminals: test %x (pty A %x), child %x (pty B %x)", ctty_nr(getpid()), pts_nr(ma),
		     ctty_nr(pid), pts_nr(mb));
		return 1;
	}
	signal(SIGHUP, SIG_IGN);
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0) {
		fail("open /dev/tty");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (write(ma, ping, 5) != 5 || read(tty, buf, sizeof(buf) - 1) != 5 || strcmp(buf, ping)) {
		fail("pty A: '%s' read on /dev/tty", buf);
		return 1;
	}
	if (waitpid(pid, &status, WNOHANG) != 0) {
		fail("the child ended before pty B's master was closed");
		return 1;
	}
	close(mb);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child did not get one SIGHUP when pty B's master was closed (status %x)", status);
		return 1;
	}
	pass();
	return 0;
}
