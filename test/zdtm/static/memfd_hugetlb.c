// SPDX-License-Identifier: GPL-2.0
/*
 * memfd_hugetlb: a hugetlb memfd (MFD_HUGETLB, 2 MiB pages) of three pages,
 * the first and last written, the middle one never touched, sealed against
 * growing and shrinking, open at an offset, mapped shared and privately
 * (with a private copy of its first page). After the restore: still a
 * hugetlbfs memfd (its device, its page size, its name), its size, seals,
 * offset and data; the shared mapping is the memfd (what goes through the
 * one shows in the other), the private copy is kept, and the untouched page
 * is still not allocated (the memfd's st_blocks; Private_Hugetlb of the private
 * mapping).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif
#define HUGETLBFS_MAGIC 0x958458f6
#define HPAGE (2UL << 20)
#define SIZE (3 * HPAGE)
#define SEALS (F_SEAL_GROW | F_SEAL_SHRINK)
#define POS 12345

static dev_t map_dev(void *addr, size_t len)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr, (unsigned long)addr + len);
	return stat(path, &st) ? (dev_t)-1 : st.st_dev;
}

int main(int argc, char **argv)
{
	uint8_t *shared, *priv;
	char link[128], path[64];
	struct stat st0, st;
	struct statfs sfs;
	long priv_kb;
	dev_t sdev, pdev;
	uint64_t word;
	int fd;

	test_init(argc, argv);
	fd = memfd_create("zdtm-huge", MFD_HUGETLB | MFD_ALLOW_SEALING);
	if (fd < 0) {
		fail("memfd_create(MFD_HUGETLB)");
		return 1;
	}
	if (ftruncate(fd, SIZE)) {
		fail("ftruncate");
		return 1;
	}
	shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED) {
		fail("mmap of the memfd (are 2 MiB huge pages free? the .desc asks the runner for them)");
		return 1;
	}
	pattern_fill(shared, HPAGE, 0x4001);
	pattern_fill(shared + 2 * HPAGE, HPAGE, 0x4003);
	pattern_fill(priv, HPAGE, 0x5001);	/* a private copy of page 0 */
	if (fcntl(fd, F_ADD_SEALS, SEALS) || lseek(fd, POS, SEEK_SET) != POS || fstat(fd, &st0)) {
		fail("seals/lseek/fstat");
		return 1;
	}
	sdev = map_dev(shared, SIZE);
	pdev = map_dev(priv, HPAGE);
	priv_kb = test_smaps_kb(priv, "Private_Hugetlb");

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(link, 0, sizeof(link));
	if (readlink(path, link, sizeof(link) - 1) < 0 || strcmp(link, "/memfd:zdtm-huge (deleted)"))
		fail("the memfd is now %s", link);
	if (fstatfs(fd, &sfs) || sfs.f_type != HUGETLBFS_MAGIC || sfs.f_bsize != (long)HPAGE)
		fail("not a 2 MiB hugetlbfs file any more: magic %#lx, bsize %ld", (long)sfs.f_type, (long)sfs.f_bsize);
	if (fstat(fd, &st) || st.st_size != (off_t)SIZE || st.st_dev != st0.st_dev)
		fail("size %lld dev %#lx, were %lld %#lx", (long long)st.st_size, (long)st.st_dev, (long long)st0.st_size,
		     (long)st0.st_dev);
	if (fcntl(fd, F_GET_SEALS) != SEALS)
		fail("seals %#x, were %#x", fcntl(fd, F_GET_SEALS), SEALS);
	if (lseek(fd, 0, SEEK_CUR) != POS)
		fail("offset %lld, was %d", (long long)lseek(fd, 0, SEEK_CUR), POS);
	if (map_dev(shared, SIZE) != sdev || map_dev(priv, HPAGE) != pdev)
		fail("the mappings' devices changed");
	if (test_vmflag(shared, "ht") != 1 || test_vmflag(priv, "ht") != 1)
		fail("the mappings are not hugetlb any more");
	if (test_failed())
		return 1;
	/* two huge pages allocated in the memfd, as before: not the untouched one */
	if (st.st_blocks != st0.st_blocks || st0.st_blocks != 2 * (long)(HPAGE / 512))
		fail("the memfd has %lld blocks, had %lld", (long long)st.st_blocks, (long long)st0.st_blocks);
	if (priv_kb != 2048 || test_smaps_kb(priv, "Private_Hugetlb") != priv_kb)
		fail("the private copy: %ld kB, was %ld", test_smaps_kb(priv, "Private_Hugetlb"), priv_kb);
	if (pattern_check(shared, HPAGE, 0x4001) != -1 || pattern_check(shared + 2 * HPAGE, HPAGE, 0x4003) != -1)
		fail("the memfd's data is lost");
	if (pattern_check(priv, HPAGE, 0x5001) != -1)
		fail("the private copy is lost");
	/* the shared mapping is the memfd's: a write through it shows in pread() */
	word = 0x600d5eed;
	memcpy(shared + 2 * HPAGE + 64, &word, sizeof(word));
	word = 0;
	if (pread(fd, &word, sizeof(word), 2 * HPAGE + 64) != sizeof(word) || word != 0x600d5eed)
		fail("a write through the shared mapping is not in the memfd (%#llx)", (unsigned long long)word);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
