// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc_shm_hugetlb: in an IPC namespace of its own, two SysV shm segments
 * on 2 MiB huge pages (SHM_HUGETLB): one of three pages attached by the
 * task (the first and last written, the middle one never touched), one of
 * one page attached by nobody. After the restore both are there with their
 * ids, sizes and data, still on huge pages (the attachment is hugetlb), and
 * the untouched page is still not allocated (st_blocks of the segment's
 * file, through the attachment).
 */
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define HPAGE (2UL << 20)

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	long long blocks, blocks2;
	int id, id2;
	char *p, *q;

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) {
		fail("can't unshare an IPC namespace");
		return 1;
	}
	id = shmget(IPC_PRIVATE, 3 * HPAGE, IPC_CREAT | SHM_HUGETLB | 0600);
	id2 = shmget(0x5eed, HPAGE, IPC_CREAT | SHM_HUGETLB | 0640);
	p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	q = id2 < 0 ? (char *)-1 : shmat(id2, NULL, 0);
	if (p == (char *)-1 || q == (char *)-1) {
		fail("can't make SHM_HUGETLB segments (are 2 MiB huge pages free? the .desc asks for them)");
		return 1;
	}
	pattern_fill(p, HPAGE, 0x7001);
	pattern_fill(p + 2 * HPAGE, HPAGE, 0x7003);
	pattern_fill(q, HPAGE, 0x7101);
	blocks = test_map_blocks(p);
	blocks2 = test_map_blocks(q);
	shmdt(q);	/* the second one is attached by nobody */
	test_daemon();
	test_waitsig();

	if (test_vmflag(p, "ht") != 1)
		fail("the attachment is not hugetlb any more");
	if (blocks != 2 * (long long)(HPAGE / 512) || test_map_blocks(p) != blocks)
		fail("the attached segment has %lld blocks, had %lld: the untouched page came back allocated?",
		     test_map_blocks(p), blocks);
	if (pattern_check(p, HPAGE, 0x7001) != -1 || pattern_check(p + 2 * HPAGE, HPAGE, 0x7003) != -1)
		fail("the attached segment lost its data");
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_segsz != 3 * HPAGE)
		fail("segment %d: size %zu", id, (size_t)ds.shm_segsz);
	if (shmget(0x5eed, 0, 0) != id2) {
		fail("the second segment is not there with its key and id %d", id2);
		return 1;
	}
	q = shmat(id2, NULL, SHM_RDONLY);
	if (q == (char *)-1 || test_vmflag(q, "ht") != 1 || test_map_blocks(q) != blocks2 ||
	    pattern_check(q, HPAGE, 0x7101) != -1)
		fail("the second segment lost its data or its huge pages");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
