// SPDX-License-Identifier: GPL-2.0
/*
 * mq_removed_refused: an fd of a POSIX message queue whose name was
 * removed (mq_unlink), holding a message: criu can't open it again by
 * name, so the dump must refuse it, naming it, and the queue must still
 * hold its message through the fd afterwards.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char name[64], buf[64] = "";
	mqd_t q;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "/zdtm-mq-removed.%d", getpid());
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
	if (q == (mqd_t)-1 || mq_send(q, "kept", 4, 0) || mq_unlink(name)) {
		fail("setup");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (mq_receive(q, buf, sizeof(buf), NULL) != 4 || memcmp(buf, "kept", 4))
		fail("the removed queue lost its message after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
