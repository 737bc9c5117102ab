// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_mq_notify_refused: the task has an IPC namespace of its own
 * holding a POSIX message queue with a message in it and an mq_notify()
 * registration (a signal when a message comes to the empty queue), which
 * criu does not restore: the dump must fail naming the queue, and the queue
 * and its message must still be there in the task's namespace, with no
 * signal sent by the dump.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "ns_refused.h"

#define NAME "/zdtm-mq-notify-refused"
#define TEXT "kept in the task's own mqueue"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char buf[64] = "";
	unsigned long ino;
	mqd_t q;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	q = mq_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (q == (mqd_t)-1 || sigprocmask(SIG_BLOCK, &usr2, NULL) || mq_notify(q, &ev) ||
	    mq_send(q, TEXT, strlen(TEXT), 1)) {
		fail("can't make a POSIX message queue with a registration");
		return 1;
	}
	/* the send above used the registration up: register again, on the non-empty queue */
	{
		struct timespec zero = { 0, 0 };
		siginfo_t si;

		if (sigtimedwait(&usr2, &si, &zero) != SIGUSR2 || mq_notify(q, &ev)) {
			fail("no notification, or can't register again");
			return 1;
		}
	}
	ino = ns_ino("self", "ipc");
	test_daemon();
	test_waitsig();

	ns_same("self", "ipc", ino);
	q = mq_open(NAME, O_RDONLY | O_NONBLOCK);
	if (q == (mqd_t)-1)
		fail("the queue is gone after the refused dump");
	else if (mq_receive(q, buf, sizeof(buf), NULL) != (ssize_t)strlen(TEXT) || strcmp(buf, TEXT))
		fail("the queue holds '%s' after the refused dump", buf);
	{
		sigset_t pend;

		if (sigpending(&pend) || sigismember(&pend, SIGUSR2))
			fail("the dump sent the notification signal");
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
