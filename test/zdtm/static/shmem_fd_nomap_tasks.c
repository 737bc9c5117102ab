// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_fd_nomap_tasks: shared anonymous memory held only by fds, in two
 * tasks, with no task mapping any of it (the dump then meets these fds in its
 * fd loop only, not before). The parent holds two open files of one object
 * (A and B, two opens through /proc/self/map_files); its child shares A's
 * open file (inherited). After restore: all three fds are one object (what
 * the parent writes through B the child reads through A), A's position is
 * shared by parent and child, B keeps its own position, and the files are
 * still "/dev/zero (deleted)".
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define POS_B 555
#define POS_A_CHILD 4321

static int open_twice(int *ret_a, int *ret_b)
{
	char path[64];
	char *m;

	m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	memset(m, 'a', 2 * 4096);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m, (unsigned long)m + 2 * 4096);
	*ret_a = open(path, O_RDWR);
	*ret_b = open(path, O_RDWR);
	munmap(m, 2 * 4096);
	return *ret_a < 0 || *ret_b < 0 ? -1 : 0;
}

/* The child: once the parent's 'P' shows through A, answer 'C' and move A's shared position. */
static void child_loop(int a)
{
	char c;

	for (;;) {
		if (pread(a, &c, 1, 1) == 1 && c == 'P') {
			lseek(a, POS_A_CHILD, SEEK_SET);
			pwrite(a, "C", 1, 2);
		}
		usleep(1000);
	}
}

static void check_link(int fd, const char *name)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "/dev/zero (deleted)"))
		fail("fd %s is %s, not /dev/zero (deleted)", name, link);
}

int main(int argc, char **argv)
{
	int a, b, i;
	pid_t child;
	char c = 0;

	test_init(argc, argv);
	if (open_twice(&a, &b)) {
		fail("can't open shared anonymous memory twice");
		return 1;
	}
	if (lseek(b, POS_B, SEEK_SET) != POS_B) {
		fail("lseek");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(b);
		child_loop(a);
	}

	test_daemon();
	test_waitsig();

	check_link(a, "A");
	check_link(b, "B");
	if (pwrite(b, "P", 1, 1) != 1)
		fail("pwrite through B");
	for (i = 0; i < 5000 && c != 'C'; i++) {
		if (pread(b, &c, 1, 2) != 1)
			fail("pread through B");
		usleep(1000);
	}
	if (c != 'C')
		fail("B and the child's A are not one object any more");
	if (lseek(a, 0, SEEK_CUR) != POS_A_CHILD)
		fail("A's position is %lld: the child's A is not the parent's open file",
		     (long long)lseek(a, 0, SEEK_CUR));
	if (lseek(b, 0, SEEK_CUR) != POS_B)
		fail("B's position is %lld, not %d", (long long)lseek(b, 0, SEEK_CUR), POS_B);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
