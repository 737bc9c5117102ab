// SPDX-License-Identifier: GPL-2.0
/*
 * mem_onfault_refused: memory locked with mlock2(MLOCK_ONFAULT) (VmFlags
 * "lo lf"): the image can say "locked" but not "locked on fault", so the dump
 * must refuse it, naming it, and leave the task as it was: the mapping still
 * locked on fault, its data intact.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

#define LEN (4 * 4096)

int main(int argc, char **argv)
{
	static const char msg[] = "locked on fault";
	char *p;

	test_init(argc, argv);

	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || syscall(__NR_mlock2, p, LEN, MLOCK_ONFAULT)) {
		fail("mmap or mlock2(MLOCK_ONFAULT)");
		return 1;
	}
	memcpy(p, msg, sizeof(msg));
	if (test_vmflag(p, "lf") != 1 || test_vmflag(p, "lo") != 1) {
		fail("no lo/lf in VmFlags before the dump");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (test_vmflag(p, "lf") != 1 || test_vmflag(p, "lo") != 1)
		fail("the mapping is not locked on fault any more");
	if (memcmp(p, msg, sizeof(msg)))
		fail("the data changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
