// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_mq00: POSIX message queues of the task's own IPC namespace. Queue
 * A (mode 0640, owner 1234:5678, maxmsg 5, msgsize 64) holds three messages
 * (priorities 1, 5, 1) and is held open read-write and non-blocking; queue
 * B (maxmsg 7, msgsize 100) is empty and held by nobody. After restore the
 * task is in a namespace other than criu's, A gives its messages in the
 * same order (5 first, then the two of priority 1 oldest first) through the
 * fd, which is A (a message sent by name comes out of it), with its flags,
 * sizes, owner and mode; B is there with its sizes.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_refused.h"	/* ns_ino() */

#define A "/zdtm-mq00-a"
#define B "/zdtm-mq00-b"

static void expect(mqd_t q, const char *text, unsigned int prio)
{
	char buf[64] = "";
	unsigned int got = 0;
	ssize_t n = mq_receive(q, buf, sizeof(buf), &got);

	if (n != (ssize_t)strlen(text) || memcmp(buf, text, n) || got != prio)
		fail("received '%.*s' (prio %u), expected '%s' (prio %u)", n < 0 ? 0 : (int)n, buf, got, text, prio);
}

int main(int argc, char **argv)
{
	struct mq_attr aa = { .mq_maxmsg = 5, .mq_msgsize = 64 }, ab = { .mq_maxmsg = 7, .mq_msgsize = 100 }, got;
	unsigned long ino, criu_ipc;
	struct stat st;
	mqd_t a, b, by_name;

	test_init(argc, argv);
	criu_ipc = ns_ino("self", "ipc");
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	a = mq_open(A, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0640, &aa);
	b = mq_open(B, O_CREAT | O_EXCL | O_RDWR, 0600, &ab);
	if (a == (mqd_t)-1 || b == (mqd_t)-1 || fchown(a, 1234, 5678) || fchmod(a, 0640) ||
	    mq_send(a, "first one", 9, 1) || mq_send(a, "urgent", 6, 5) || mq_send(a, "second one", 10, 1)) {
		fail("can't make the queues");
		return 1;
	}
	mq_close(b);	/* B lives in the namespace alone */
	ino = ns_ino("self", "ipc");
	test_daemon();
	test_waitsig();

	if (ns_ino("self", "ipc") == criu_ipc || ino == criu_ipc)
		fail("the task is in the IPC namespace it started in");
	if (mq_getattr(a, &got) || got.mq_maxmsg != 5 || got.mq_msgsize != 64 || got.mq_curmsgs != 3 ||
	    !(got.mq_flags & O_NONBLOCK))
		fail("A's fd: maxmsg %ld msgsize %ld curmsgs %ld flags 0%lo", got.mq_maxmsg, got.mq_msgsize,
		     got.mq_curmsgs, got.mq_flags);
	if (fstat(a, &st) || (st.st_mode & 07777) != 0640 || st.st_uid != 1234 || st.st_gid != 5678)
		fail("A: mode 0%o owner %u:%u", st.st_mode & 07777, st.st_uid, st.st_gid);
	expect(a, "urgent", 5);
	expect(a, "first one", 1);
	expect(a, "second one", 1);
	by_name = mq_open(A, O_WRONLY);
	if (by_name == (mqd_t)-1 || mq_send(by_name, "by name", 7, 2))
		fail("can't send to A by its name");
	else
		expect(a, "by name", 2);
	b = mq_open(B, O_RDONLY);
	if (b == (mqd_t)-1 || mq_getattr(b, &got) || got.mq_maxmsg != 7 || got.mq_msgsize != 100 || got.mq_curmsgs)
		fail("B is not there as it was");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
