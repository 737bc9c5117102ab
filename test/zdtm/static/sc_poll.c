// SPDX-License-Identifier: GPL-2.0
/*
 * sc_poll: threads asleep across the dump in poll, ppoll, select, pselect6,
 * epoll_wait, epoll_pwait and epoll_pwait2, each on its own pipe, without a
 * timeout and with one (60 s, and 10 s on a pipe nobody writes), the p* ones
 * with a signal mask of their own; and in read() on a pipe, read() on an
 * inotify fd and wait4() for a child. After restore no call has returned (no
 * EINTR); a byte written to each pipe makes the untimed and 60 s ones return
 * 1, the 10 s ones return 0 after their 10 s plus about the time they were
 * frozen (sc_wait.h), and each thread has its own blocked mask back; the
 * read()s return the byte and the inotify event of a file created, wait4()
 * the child, which exits when its pipe is written.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sc_wait.h"

#define LONG_MS 60000
#define SHORT_MS 10000

#define DIR_NAME "sc_poll.d"

enum call { POLL, PPOLL, SELECT, PSELECT, EPOLL_WAIT, EPOLL_PWAIT, EPOLL_PWAIT2, READ, READ_INOTIFY, WAIT4 };

struct spec {
	enum call call;
	int ms;			/* -1: no timeout */
};

static const struct spec specs[] = {
	{ POLL, -1 },	      { POLL, LONG_MS },	 { POLL, SHORT_MS },
	{ PPOLL, -1 },	      { PPOLL, LONG_MS },	 { PPOLL, SHORT_MS },
	{ SELECT, -1 },	      { SELECT, LONG_MS },	 { SELECT, SHORT_MS },
	{ PSELECT, -1 },      { PSELECT, LONG_MS },	 { PSELECT, SHORT_MS },
	{ EPOLL_WAIT, -1 },   { EPOLL_WAIT, LONG_MS },	 { EPOLL_WAIT, SHORT_MS },
	{ EPOLL_PWAIT, -1 },  { EPOLL_PWAIT, LONG_MS },	 { EPOLL_PWAIT, SHORT_MS },
	{ EPOLL_PWAIT2, -1 }, { EPOLL_PWAIT2, LONG_MS }, { EPOLL_PWAIT2, SHORT_MS },
	{ READ, -1 },	      { READ_INOTIFY, -1 },	 { WAIT4, -1 },
};
#define NR (int)(sizeof(specs) / sizeof(specs[0]))

static const char *names[] = { "poll",	 "ppoll",	 "select", "pselect6",	   "epoll_wait",
			       "epoll_pwait", "epoll_pwait2", "read",	"read(inotify)", "wait4" };

static struct sc_waiter w[NR];
static char wname[NR][48];
static int pipes[NR][2], epfd[NR], inotify_fd;
static pid_t kid;
static int mask_bad[NR];

static long raw(long r)
{
	return r < 0 ? -errno : r;
}

static long wait_one(const struct spec *s, int i)
{
	int fd = pipes[i][0];
	struct timespec ts = { s->ms / 1000, 0 }, *tsp = s->ms < 0 ? NULL : &ts;
	struct timeval tv = { s->ms / 1000, 0 }, *tvp = s->ms < 0 ? NULL : &tv;
	struct pollfd p = { fd, POLLIN, 0 };
	struct epoll_event ev;
	uint64_t call_mask = 1ULL << (SIGUSR1 - 1);
	struct {
		const uint64_t *mask;
		size_t size;
	} psel = { &call_mask, 8 };
	char buf[512];
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	switch (s->call) {
	case POLL:
		return raw(syscall(SYS_poll, &p, 1, s->ms));
	case PPOLL:
		return raw(syscall(SYS_ppoll, &p, 1, tsp, &call_mask, 8));
	case SELECT:
		return raw(syscall(SYS_select, fd + 1, &set, NULL, NULL, tvp));
	case PSELECT:
		return raw(syscall(SYS_pselect6, fd + 1, &set, NULL, NULL, tsp, &psel));
	case EPOLL_WAIT:
		return raw(syscall(SYS_epoll_wait, epfd[i], &ev, 1, s->ms));
	case EPOLL_PWAIT:
		return raw(syscall(SYS_epoll_pwait, epfd[i], &ev, 1, s->ms, &call_mask, 8));
	case EPOLL_PWAIT2:
		return raw(syscall(SYS_epoll_pwait2, epfd[i], &ev, 1, tsp, &call_mask, 8));
	case READ:
		return raw(syscall(SYS_read, fd, buf, sizeof(buf)));
	case READ_INOTIFY:
		return raw(syscall(SYS_read, inotify_fd, buf, sizeof(buf)));
	case WAIT4:
		return raw(syscall(SYS_wait4, kid, NULL, 0, NULL));
	}
	return -EINVAL;
}

static long do_wait(struct sc_waiter *wt)
{
	int i = (int)wt->arg;
	sigset_t own, after;
	long r;

	/* each thread blocks SIGUSR2; the p* calls block SIGUSR1 instead while they wait */
	sigemptyset(&own);
	sigaddset(&own, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &own, NULL);
	r = wait_one(&specs[i], i);
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	mask_bad[i] = !sigismember(&after, SIGUSR2) || sigismember(&after, SIGUSR1);
	return r;
}

int main(int argc, char **argv)
{
	int64_t gap;

	test_init(argc, argv);
	if (mkdir(DIR_NAME, 0755) && errno != EEXIST) {
		fail("mkdir");
		return 1;
	}
	unlink(DIR_NAME "/new");
	inotify_fd = inotify_init1(0);
	if (inotify_fd < 0 || inotify_add_watch(inotify_fd, DIR_NAME, IN_CREATE) < 0) {
		fail("inotify");
		return 1;
	}
	if (sc_ticker_start()) {
		fail("pthread_create");
		return 1;
	}
	for (int i = 0; i < NR; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		snprintf(wname[i], sizeof(wname[i]), "%s(%d ms)", names[specs[i].call], specs[i].ms);
		w[i].name = wname[i];
		w[i].call = do_wait;
		w[i].arg = i;
		epfd[i] = epoll_create1(0);
		if (pipe(pipes[i]) || epfd[i] < 0 || epoll_ctl(epfd[i], EPOLL_CTL_ADD, pipes[i][0], &ev)) {
			fail("pipe/epoll");
			return 1;
		}
		if (specs[i].call == WAIT4) {
			/* the child exits when its pipe is written */
			kid = fork();
			if (kid < 0) {
				fail("fork");
				return 1;
			}
			if (kid == 0) {
				char c;

				_exit(read(pipes[i][0], &c, 1) == 1 ? 0 : 1);
			}
		}
		if (sc_start(&w[i])) {
			fail("pthread_create");
			return 1;
		}
	}
	if (sc_settle(w, NR))
		return 1;
	test_daemon();
	test_waitsig();

	for (int i = 0; i < NR; i++)
		if (w[i].done)
			fail("%s: returned %ld after restore, before anything happened", w[i].name, w[i].ret);
	for (int i = 0; i < NR; i++)
		if (specs[i].ms != SHORT_MS && specs[i].call != READ_INOTIFY && write(pipes[i][1], "x", 1) != 1)
			fail("write");
	{
		int fd = open(DIR_NAME "/new", O_CREAT | O_WRONLY, 0644);

		if (fd < 0)
			fail("create a file in " DIR_NAME);
		close(fd);
	}
	for (int i = 0; i < NR; i++)
		if (sc_join(&w[i]))
			return 1;
	gap = sc_ticker_stop();
	for (int i = 0; i < NR; i++) {
		if (specs[i].ms == SHORT_MS)
			sc_check_timed(&w[i], 0, specs[i].ms * 1000000LL, gap);
		else if (specs[i].call == READ_INOTIFY) {
			if (w[i].ret < (long)sizeof(struct inotify_event))
				fail("%s: returned %ld, not an event", w[i].name, w[i].ret);
		} else if (specs[i].call == WAIT4) {
			if (w[i].ret != kid)
				fail("%s: returned %ld, not the child %d", w[i].name, w[i].ret, kid);
		} else if (w[i].ret != 1)
			fail("%s: returned %ld, not 1", w[i].name, w[i].ret);
		if (mask_bad[i])
			fail("%s: the thread's blocked mask is not its own after the call", w[i].name);
	}
	if (!test_failed())
		pass();
	return 0;
}
