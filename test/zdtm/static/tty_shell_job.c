// SPDX-License-Identifier: GPL-2.0
/*
 * A shell job on a terminal (--shell-job): fds 0-2 are the runner's pty
 * slave (one open file, shared), the test is in the runner's session (the
 * runner is the "shell": session leader, the pty is its controlling
 * terminal) and is the foreground job, in a process group of its own.
 * Before the dump the test opens the pty once more (fd 3, O_NONBLOCK, an
 * open file of its own) and changes the terminal: ECHO off, VMIN/VTIME,
 * the window size.
 *
 * After restore: fds 0-3 are still terminals, the runner's pty (st_rdev
 * against ZDTM_TTY_RDEV, set by the runner), with their file flags, 0-2 still
 * one open file and 3 another; session, group and the terminal's session are
 * as before; the pty is still the controlling terminal (/proc/self/stat
 * tty_nr, /dev/tty opens); termios and window size are what the test set.
 * Last, the test writes "zdtm-tty-mark TOKEN" (ZDTM_TTY_MARK) to fd 1: the
 * runner reads its pty master and fails the test unless the line arrives.
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NONBLOCK_FD 3
#define TEST_ROWS 33
#define TEST_COLS 101
/* the kernel's O_LARGEFILE on x86_64 (glibc defines O_LARGEFILE as 0 there) */
#define KERNEL_O_LARGEFILE 0100000

struct tty_state {
	dev_t rdev;
	pid_t sid, pgrp;
	int fl[NONBLOCK_FD + 1];
	struct termios tio;
	struct winsize ws;
};

static int same_file(int a, int b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
}

/* Field 7 of /proc/self/stat: the device number of the controlling terminal. */
static long ctty_nr(void)
{
	char buf[1024], *p;
	long nr = -1;
	FILE *f;

	f = fopen("/proc/self/stat", "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		/* ") S ppid pgrp session tty_nr" */
		if (!p || sscanf(p + 1, " %*c %*d %*d %*d %ld", &nr) != 1)
			nr = -1;
	}
	fclose(f);
	return nr;
}

/*
 * Foreground job or not: with SIGTTIN ignored, reading the terminal from a
 * background group fails with EIO; from the foreground group a non-blocking
 * read with no input fails with EAGAIN.
 */
static const char *job_place(void)
{
	char c;

	if (read(NONBLOCK_FD, &c, 1) >= 0)
		return "foreground (read a byte)";
	if (errno == EAGAIN)
		return "foreground";
	if (errno == EIO)
		return "background";
	return "unknown";
}

static void check_fds(const struct tty_state *st, const char *when)
{
	struct stat sb;

	for (int fd = 0; fd <= NONBLOCK_FD; fd++) {
		int fl;

		errno = 0;
		if (!isatty(fd)) {
			fail("%s: fd %d is not a terminal", when, fd);
			continue;
		}
		if (fstat(fd, &sb) < 0) {
			fail("%s: fstat(%d)", when, fd);
			continue;
		}
		errno = 0;
		if (sb.st_rdev != st->rdev)
			fail("%s: fd %d is terminal %u:%u, the runner's pty is %u:%u", when, fd, major(sb.st_rdev),
			     minor(sb.st_rdev), major(st->rdev), minor(st->rdev));
		/* O_LARGEFILE means nothing on 64-bit: a reopen adds it, TIOCGPTPEER doesn't */
		fl = fcntl(fd, F_GETFL) & ~KERNEL_O_LARGEFILE;
		if (fl != st->fl[fd])
			fail("%s: fd %d has file flags 0%o, had 0%o", when, fd, fl, st->fl[fd]);
	}
	errno = 0;
	if (same_file(0, 1) != 0 || same_file(0, 2) != 0)
		fail("%s: fds 0, 1, 2 are no longer one open file (kcmp %d %d)", when, same_file(0, 1),
		     same_file(0, 2));
	if (same_file(0, NONBLOCK_FD) == 0)
		fail("%s: fd %d shares the open file of fd 0", when, NONBLOCK_FD);
}

static void check_session(const struct tty_state *st, const char *when)
{
	long nr;
	int fd;

	errno = 0;
	if (getsid(0) != st->sid || getpgrp() != st->pgrp)
		fail("%s: session %d group %d, were %d %d", when, getsid(0), getpgrp(), st->sid, st->pgrp);
	if (st->sid == getpid() || st->pgrp != getpid())
		fail("%s: a shell job must lead its group and not its session (sid %d pgrp %d pid %d)", when,
		     st->sid, st->pgrp, getpid());
	if (tcgetsid(0) != st->sid)
		fail("%s: the terminal belongs to session %d, ours is %d", when, tcgetsid(0), st->sid);
	nr = ctty_nr();
	errno = 0;
	if (nr != (long)st->rdev)
		fail("%s: controlling terminal (stat tty_nr) %ld, the pty is %ld", when, nr, (long)st->rdev);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fail("%s: open(/dev/tty): no controlling terminal", when);
		return;
	}
	errno = 0;
	if (tcgetsid(fd) != st->sid)
		fail("%s: /dev/tty belongs to session %d, ours is %d", when, tcgetsid(fd), st->sid);
	close(fd);
}

static void check_terminal(const struct tty_state *st, const char *when)
{
	struct termios tio;
	struct winsize ws;

	if (tcgetattr(0, &tio) < 0) {
		fail("%s: tcgetattr", when);
		return;
	}
	errno = 0;
	if (tio.c_iflag != st->tio.c_iflag || tio.c_oflag != st->tio.c_oflag || tio.c_cflag != st->tio.c_cflag ||
	    tio.c_lflag != st->tio.c_lflag)
		fail("%s: termios flags i%o o%o c%o l%o, were i%o o%o c%o l%o", when, tio.c_iflag, tio.c_oflag,
		     tio.c_cflag, tio.c_lflag, st->tio.c_iflag, st->tio.c_oflag, st->tio.c_cflag,
		     st->tio.c_lflag);
	if (memcmp(tio.c_cc, st->tio.c_cc, sizeof(tio.c_cc)))
		fail("%s: termios c_cc differs (VMIN %d VTIME %d, were %d %d)", when, tio.c_cc[VMIN],
		     tio.c_cc[VTIME], st->tio.c_cc[VMIN], st->tio.c_cc[VTIME]);
	if (ioctl(0, TIOCGWINSZ, &ws) < 0) {
		fail("%s: TIOCGWINSZ", when);
		return;
	}
	errno = 0;
	if (ws.ws_row != st->ws.ws_row || ws.ws_col != st->ws.ws_col)
		fail("%s: window %ux%u, was %ux%u", when, ws.ws_row, ws.ws_col, st->ws.ws_row, st->ws.ws_col);
}

static int parse_rdev(dev_t *ret)
{
	const char *s = getenv("ZDTM_TTY_RDEV");
	unsigned int maj, min;

	if (!s || sscanf(s, "%u:%u", &maj, &min) != 2)
		return -1;
	*ret = makedev(maj, min);
	return 0;
}

/* Change the terminal as an interactive program would: no echo, VMIN/VTIME, a window size. */
static int set_terminal(struct tty_state *st)
{
	struct termios tio;

	if (tcgetattr(0, &tio) < 0)
		return -1;
	tio.c_lflag &= ~(ECHO | ECHOE | ECHOK);
	tio.c_cc[VMIN] = 5;
	tio.c_cc[VTIME] = 7;
	if (tcsetattr(0, TCSANOW, &tio) < 0 || tcgetattr(0, &st->tio) < 0)
		return -1;
	if ((st->tio.c_lflag & ECHO) || st->tio.c_cc[VMIN] != 5 || st->tio.c_cc[VTIME] != 7) {
		errno = 0;
		return -1;
	}
	st->ws = (struct winsize){ .ws_row = TEST_ROWS, .ws_col = TEST_COLS };
	return ioctl(0, TIOCSWINSZ, &st->ws);
}

int main(int argc, char **argv)
{
	int ctty;
	struct tty_state st = {};
	const char *mark;
	char line[256];
	int fd, len;

	test_init(argc, argv);
	mark = getenv("ZDTM_TTY_MARK");
	if (parse_rdev(&st.rdev) < 0 || !mark) {
		errno = 0;
		fail("ZDTM_TTY_RDEV and ZDTM_TTY_MARK must be set (the runner's tty = 1)");
		return 1;
	}
	/* a terminal read from the background fails (EIO) instead of stopping us */
	signal(SIGTTIN, SIG_IGN);
	fd = open("/proc/self/fd/0", O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, NONBLOCK_FD) != NONBLOCK_FD) {
		fail("reopen the terminal as fd %d", NONBLOCK_FD);
		return 1;
	}
	if (fd != NONBLOCK_FD)
		close(fd);
	for (int i = 0; i <= NONBLOCK_FD; i++)
		st.fl[i] = fcntl(i, F_GETFL) & ~KERNEL_O_LARGEFILE;
	st.sid = getsid(0);
	st.pgrp = getpgrp();
	if (set_terminal(&st) < 0) {
		fail("set termios / window size");
		return 1;
	}
	/* the setup itself must pass every check */
	check_fds(&st, "before dump");
	check_session(&st, "before dump");
	check_terminal(&st, "before dump");
	if (strcmp(job_place(), "foreground")) {
		errno = 0;
		fail("before dump: the test is not the foreground job (%s)", job_place());
	}
	/* an fd opened on /dev/tty must come back on /dev/tty, not on the pty's own name */
	ctty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (ctty < 0)
		fail("open /dev/tty");
	if (test_failed())
		return 1;

	test_daemon();
	test_waitsig();

	check_fds(&st, "after restore");
	check_session(&st, "after restore");
	check_terminal(&st, "after restore");
	errno = 0;
	if (strcmp(job_place(), "foreground"))
		fail("after restore: the test is not the foreground job (%s)", job_place());
	{
		char link[64] = "";
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", ctty);
		if (readlink(path, link, sizeof(link) - 1) < 0 || strcmp(link, "/dev/tty"))
			fail("the /dev/tty fd is now '%s'", link);
	}

	len = snprintf(line, sizeof(line), "zdtm-tty-mark %s\n", mark);
	if (write(1, line, len) != len)
		fail("write the mark to fd 1");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
