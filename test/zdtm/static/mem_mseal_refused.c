// SPDX-License-Identifier: GPL-2.0
/*
 * mem_mseal_refused: a mapping sealed with mseal() (VmFlags "sl"): the image
 * has no room for the seal, so the dump must refuse it, naming it, and leave
 * the task as it was: still sealed (munmap and mprotect fail with EPERM), its
 * data intact.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#define LEN (2 * 4096)

int main(int argc, char **argv)
{
	static const char msg[] = "sealed";
	char *p;

	test_init(argc, argv);

	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	memcpy(p, msg, sizeof(msg));
	if (syscall(__NR_mseal, p, LEN, 0)) {
		fail("mseal");
		return 1;
	}
	if (test_vmflag(p, "sl") != 1) {
		fail("no sl in VmFlags before the dump");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (test_vmflag(p, "sl") != 1)
		fail("the mapping is not sealed any more (VmFlags)");
	if (!mprotect(p, LEN, PROT_READ) || errno != EPERM)
		fail("mprotect of the sealed mapping did not fail with EPERM");
	errno = 0;
	if (memcmp(p, msg, sizeof(msg)))
		fail("the data changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
