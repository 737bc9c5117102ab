// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_shmat_head_refused: in an IPC namespace of its own, the task
 * attached a two-page SysV shm segment and unmapped its first page. The
 * attachment could only be made again whole: the dump must refuse it, and
 * the second page must still be there with its contents.
 */
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define TEXT "the second page"

int main(int argc, char **argv)
{
	int id;
	char *p;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (p == (char *)-1 || munmap(p, 4096)) {
		fail("can't make the attachment");
		return 1;
	}
	strcpy(p + 4096, TEXT);
	test_daemon();
	test_waitsig();

	if (strcmp(p + 4096, TEXT))
		fail("the attachment says '%.40s' after the refused dump", p + 4096);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
