// SPDX-License-Identifier: GPL-2.0
/*
 * aio_mprotect_refused: an AIO ring made read-only with mprotect() is not
 * restored (a new ring is read-write): the dump must refuse it, naming it,
 * and leave the task running with its ring intact.
 */
#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	aio_context_t ctx = 0;
	unsigned nr;

	test_init(argc, argv);
	if (syscall(SYS_io_setup, 16, &ctx)) {
		fail("io_setup");
		return 1;
	}
	nr = ((unsigned *)ctx)[1];
	if (mprotect((void *)ctx, 4096, PROT_READ)) {
		fail("mprotect of the ring");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (((unsigned *)ctx)[1] != nr || test_vmflag((void *)ctx, "wr") != 0)
		fail("the ring changed: %u events (were %u), writable %d", ((unsigned *)ctx)[1], nr,
		     test_vmflag((void *)ctx, "wr"));
	else if (syscall(SYS_io_getevents, ctx, 0, 1, NULL, NULL) != 0)
		fail("io_getevents on the ring after the dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
