// SPDX-License-Identifier: GPL-2.0
/*
 * an io_uring instance is not dumped: the dump must refuse it, naming it, and leave the task
 * running with the object still there.
 */
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char before[64] = "", after[64] = "", path[64];
	long obj;

	test_init(argc, argv);
	{ struct io_uring_params p; memset(&p, 0, sizeof(p)); obj = syscall(SYS_io_uring_setup, 4, &p); }
	if (obj < 0) {
		fail("create an io_uring instance");
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%ld", obj);
	if (readlink(path, before, sizeof(before) - 1) < 0)
		strcpy(before, "(mapping)");
	test_daemon();
	test_waitsig();

	if (readlink(path, after, sizeof(after) - 1) < 0)
		strcpy(after, "(mapping)");
	if (strcmp(before, after)) {
		fail("the object changed: %s, then %s", before, after);
		return 1;
	}
	pass();
	return 0;
}
