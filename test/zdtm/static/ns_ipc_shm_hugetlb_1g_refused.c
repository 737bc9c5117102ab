// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_shm_hugetlb_1g_refused: in an IPC namespace of its own, a SysV shm
 * segment on 1 GiB huge pages (SHM_HUGETLB | SHM_HUGE_1GB, SHM_NORESERVE so
 * that no page is needed), attached by nobody. Only 2 MiB pages are
 * restored: the dump must refuse it, naming it, and the segment stays.
 */
#include <sched.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#ifndef SHM_HUGE_1GB
#define SHM_HUGE_1GB (30 << 26)
#endif

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	int id;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	id = shmget(IPC_PRIVATE, 1UL << 30, IPC_CREAT | SHM_HUGETLB | SHM_HUGE_1GB | SHM_NORESERVE | 0600);
	if (id < 0) {
		fail("can't make a SHM_HUGETLB segment of 1 GiB pages");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &ds) || ds.shm_segsz != 1UL << 30)
		fail("the segment changed after the refused dump");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
