// SPDX-License-Identifier: GPL-2.0
/*
 * shm_sysv_refused: the task has a SysV shm segment of criu's IPC namespace
 * attached. Only the segments of an IPC namespace of the tree are dumped:
 * the dump must refuse the attachment naming the segment, and the task must
 * still see the segment's contents through it.
 */
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define TEXT "a segment of criu's namespace"

int main(int argc, char **argv)
{
	int id;
	char *p;

	test_init(argc, argv);
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	/* removed now: it goes away with the attachment, whatever happens to the test */
	if (p == (char *)-1 || shmctl(id, IPC_RMID, NULL)) {
		fail("can't make a SysV shm segment");
		return 1;
	}
	strcpy(p, TEXT);
	test_daemon();
	test_waitsig();

	if (strcmp(p, TEXT))
		fail("the attachment says '%.40s' after the refused dump", p);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
