// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_shm_hugetlb_refused: in an IPC namespace of its own, the task
 * attached a SysV shm segment on huge pages (SHM_HUGETLB). Such segments
 * are not dumped (reading one whole would allocate its untouched pages):
 * the dump must refuse it, naming it, and the segment must keep its data.
 */
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define HPAGE (2UL << 20)

int main(int argc, char **argv)
{
	int id;
	char *p;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	id = shmget(IPC_PRIVATE, HPAGE, IPC_CREAT | SHM_HUGETLB | 0600);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (p == (char *)-1) {
		fail("can't make a SHM_HUGETLB segment (are 2 MiB huge pages free? the .desc asks for them)");
		return 1;
	}
	pattern_fill(p, HPAGE, 0x7001);
	test_daemon();
	test_waitsig();

	if (test_vmflag(p, "ht") != 1 || pattern_check(p, HPAGE, 0x7001) != -1)
		fail("the segment changed after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
