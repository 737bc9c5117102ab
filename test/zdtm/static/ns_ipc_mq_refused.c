// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_mq_refused: the task has an IPC namespace of its own holding a
 * POSIX message queue with a message in it. criu does not dump POSIX
 * message queues yet: the dump must fail naming the queue, and the queue
 * and its message must still be there in the task's namespace.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <string.h>

#include "ns_refused.h"

#define NAME "/zdtm-mq-refused"
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
	if (q == (mqd_t)-1 || mq_send(q, TEXT, strlen(TEXT), 1)) {
		fail("can't make a POSIX message queue");
		return 1;
	}
	/* no fd of the queue in the tree: it lives in the namespace alone */
	mq_close(q);
	ino = ns_ino("self", "ipc");
	test_daemon();
	test_waitsig();

	ns_same("self", "ipc", ino);
	q = mq_open(NAME, O_RDONLY | O_NONBLOCK);
	if (q == (mqd_t)-1)
		fail("the queue is gone after the refused dump");
	else if (mq_receive(q, buf, sizeof(buf), NULL) != (ssize_t)strlen(TEXT) || strcmp(buf, TEXT))
		fail("the queue holds '%s' after the refused dump", buf);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
