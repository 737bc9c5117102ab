// SPDX-License-Identifier: GPL-2.0
/*
 * mem_hugetlb: anonymous hugetlb memory (MAP_HUGETLB, 2 MiB pages) comes
 * back as hugetlb memory with its data: a private mapping of three huge
 * pages (the first and last written, the middle one never touched), and a
 * shared one of two pages that a child shares with the test. After the
 * restore both are still hugetlb (VmFlags ht, KernelPageSize 2048 kB, the
 * same hugetlbfs device), hold their data, the shared one is still one
 * object (what the child writes the parent reads), and the private one
 * still has its untouched page not allocated (Private_Hugetlb of smaps; the
 * shared object's allocated pages: its st_blocks).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define HPAGE (2UL << 20)

static dev_t map_dev(void *addr, size_t len)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr, (unsigned long)addr + len);
	if (stat(path, &st))
		return (dev_t)-1;
	return st.st_dev;
}

static int check_huge(const char *what, void *addr, size_t len, dev_t dev)
{
	if (test_vmflag(addr, "ht") != 1 || test_smaps_kb(addr, "KernelPageSize") != 2048) {
		fail("%s: not hugetlb any more (ht %d, KernelPageSize %ld kB)", what, test_vmflag(addr, "ht"),
		     test_smaps_kb(addr, "KernelPageSize"));
		return -1;
	}
	if (map_dev(addr, len) != dev) {
		fail("%s: device %#lx, was %#lx", what, (unsigned long)map_dev(addr, len), (unsigned long)dev);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *priv, *shared;
	dev_t priv_dev, shared_dev;
	int ready[2], go[2], status;
	long priv_kb;
	long long shared_blocks;
	pid_t child;
	char c;

	test_init(argc, argv);
	priv = mmap(NULL, 3 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	shared = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED) {
		fail("mmap MAP_HUGETLB (are 2 MiB huge pages free? the .desc asks the runner for them)");
		return 1;
	}
	pattern_fill(priv, HPAGE, 0x1001);
	pattern_fill(priv + 2 * HPAGE, HPAGE, 0x1003);
	pattern_fill(shared, 2 * HPAGE, 0x2001);
	priv_dev = map_dev(priv, 3 * HPAGE);
	shared_dev = map_dev(shared, 2 * HPAGE);

	if (pipe(ready) || pipe(go)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		/* the private pages would come back as copies of its own (see restore.md): not this test's point */
		munmap(priv, 3 * HPAGE);
		if (write(ready[1], "x", 1) != 1)
			_exit(5);
		/* after the restore: write the shared memory for the parent to read */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (pattern_check(shared, 2 * HPAGE, 0x2001) != -1)
			_exit(3);
		pattern_fill(shared + HPAGE, HPAGE, 0x3001);
		_exit(write(ready[1], "x", 1) == 1 ? 0 : 4);
	}
	if (read(ready[0], &c, 1) != 1) {	/* the child's munmap() is done */
		fail("the child did not start");
		return 1;
	}
	priv_kb = test_smaps_kb(priv, "Private_Hugetlb");
	shared_blocks = test_map_blocks(shared);
	test_msg("private: %ld kB of huge pages, shared: %lld blocks\n", priv_kb, shared_blocks);

	test_daemon();
	test_waitsig();

	if (check_huge("private", priv, 3 * HPAGE, priv_dev) || check_huge("shared", shared, 2 * HPAGE, shared_dev))
		goto out;
	/* the middle page was never touched: the restore must not have filled it */
	if (priv_kb != 2 * 2048 || test_smaps_kb(priv, "Private_Hugetlb") != priv_kb) {
		fail("private: %ld kB of huge pages, were %ld (4096 before the dump)", test_smaps_kb(priv, "Private_Hugetlb"),
		     priv_kb);
		goto out;
	}
	if (shared_blocks <= 0 || test_map_blocks(shared) != shared_blocks) {
		fail("shared: %lld blocks allocated, were %lld", test_map_blocks(shared), shared_blocks);
		goto out;
	}
	if (pattern_check(priv, HPAGE, 0x1001) != -1 || pattern_check(priv + 2 * HPAGE, HPAGE, 0x1003) != -1) {
		fail("private hugetlb data lost");
		goto out;
	}
	if (pattern_check(shared, 2 * HPAGE, 0x2001) != -1) {
		fail("shared hugetlb data lost");
		goto out;
	}
	if (write(go[1], "x", 1) != 1 || read(ready[0], &c, 1) != 1) {
		fail("the child did not answer");
		goto out;
	}
	if (pattern_check(shared + HPAGE, HPAGE, 0x3001) != -1)
		fail("the child's write to the shared hugetlb memory is not seen by the parent");
	for (size_t i = 0; i < HPAGE; i += 512)	/* reading it allocates it: last */
		if (priv[HPAGE + i]) {
			fail("the untouched private huge page is not zero at %zu", i);
			break;
		}
out:
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) > 1)
		fail("child exited %d", WEXITSTATUS(status));
	if (test_failed())
		return 1;
	pass();
	return 0;
}
