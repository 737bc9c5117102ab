// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_refused: the task has an IPC namespace of its own holding a SysV
 * shared memory segment. criu does not dump IPC namespaces yet: the dump must
 * fail naming it, and the segment must still be there, with its contents,
 * in the task's own namespace.
 */
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "ns_refused.h"

#define KEY 0x2d7a11
#define TEXT "kept in the task's own ipc namespace"

int main(int argc, char **argv)
{
	unsigned long ino;
	char *p;
	int id;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	id = shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (p == (char *)-1) {
		fail("can't make a SysV shm segment");
		return 1;
	}
	strcpy(p, TEXT);
	shmdt(p);
	ino = ns_ino("self", "ipc");
	test_daemon();
	test_waitsig();

	ns_same("self", "ipc", ino);
	id = shmget(KEY, 0, 0);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, SHM_RDONLY);
	if (p == (char *)-1)
		fail("the segment is gone after the refused dump");
	else if (strcmp(p, TEXT))
		fail("the segment holds '%.40s' after the refused dump", p);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
