// SPDX-License-Identifier: GPL-2.0
/*
 * mq_fd00: fds of a POSIX message queue of the IPC namespace the test
 * started in (criu's, in the ns and h flavours: the machine's queues are
 * not the tree's, like files; in the ct flavour the container's, which
 * the dump takes with its messages). A read-only non-blocking fd and a
 * write-only one; two messages wait in the queue. After restore both fds
 * are that queue (a message sent through the write fd, or by name, comes
 * out of the read fd), with their access modes and flags, and the waiting
 * messages are there.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

static void expect(mqd_t q, const char *text)
{
	char buf[128] = "";
	ssize_t n = mq_receive(q, buf, sizeof(buf), NULL);

	if (n != (ssize_t)strlen(text) || memcmp(buf, text, n))
		fail("received '%.*s', expected '%s'", n < 0 ? 0 : (int)n, buf, text);
}

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 128 }, got;
	char name[64];
	mqd_t r, w, by_name;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "/zdtm-mq-fd00.%d", getpid());
	mq_unlink(name);	/* a leftover of a failed run: pids repeat in a fresh pid namespace */
	w = mq_open(name, O_CREAT | O_EXCL | O_WRONLY, 0600, &attr);
	r = mq_open(name, O_RDONLY | O_NONBLOCK);
	if (w == (mqd_t)-1 || r == (mqd_t)-1 || mq_send(w, "one", 3, 0) || mq_send(w, "two", 3, 0)) {
		fail("can't make the queue");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if ((fcntl(r, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK) ||
	    (fcntl(w, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != O_WRONLY)
		fail("the fds' flags changed: 0%o 0%o", fcntl(r, F_GETFL), fcntl(w, F_GETFL));
	if (mq_getattr(r, &got) || got.mq_maxmsg != 4 || got.mq_msgsize != 128 || got.mq_curmsgs != 2)
		fail("maxmsg %ld msgsize %ld curmsgs %ld", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
	expect(r, "one");
	expect(r, "two");
	if (mq_send(w, "three", 5, 0))
		fail("can't send through the write fd");
	expect(r, "three");
	by_name = mq_open(name, O_WRONLY);
	if (by_name == (mqd_t)-1 || mq_send(by_name, "four", 4, 0))
		fail("can't send by name");
	expect(r, "four");
	errno = 0;
	if (mq_receive(r, (char[128]){ 0 }, 128, NULL) != -1 || errno != EAGAIN)
		fail("the read fd is not non-blocking, or the queue has more");
	mq_unlink(name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
