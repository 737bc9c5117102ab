// SPDX-License-Identifier: GPL-2.0
/*
 * shmem_fd_priv: shared anonymous memory of four pages, mapped by the
 * parent; its child opens it as a file through /proc/self/map_files, maps
 * that file privately from page 1 and shared from page 2, writes to the
 * private mapping (a copy-on-write page) and unmaps the parent's mapping.
 * The dump meets the parent's mapping before the child's fd. After restore
 * all of them must be one object again: what the parent writes shows
 * through the child's fd and through the pages of its private mapping that
 * were never written, what the child writes through its shared mapping and
 * its fd shows in the parent's, the written private page keeps its own
 * bytes, and the fd keeps its position and link.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PG 4096
#define NR_PAGES 4
#define FD_POS 123

/* the int at the start of page i of a mapping */
#define AT(m, i) (*(volatile int *)((char *)(m) + (i) * PG))

static int map_ino(void *addr, size_t len, ino_t *ret)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	if (stat(path, &st))
		return -1;
	*ret = st.st_ino;
	return 0;
}

/* The child's checks after restore; returns the number of the first that failed, 0 when all passed. */
static int child_check(int fd, void *priv, void *shared)
{
	ino_t fd_ino, priv_ino, shared_ino;
	char path[32], link[64];
	struct stat st;
	ssize_t n;
	int v = 0;

	if (AT(priv, 1) != 22)
		return 1;	/* the written private page lost its own bytes */
	if (AT(priv, 0) != 11 || AT(shared, 0) != 111)
		return 2;	/* the object's bytes are not there */
	/* the parent wrote 444 into page 3 before telling us to check */
	if (AT(priv, 2) != 444)
		return 3;	/* an unwritten private page is not the object's page any more */
	if (AT(shared, 1) != 444)
		return 4;	/* the shared mapping of the file is not the parent's memory */
	if (pread(fd, &v, sizeof(v), 3 * PG) != sizeof(v) || v != 444)
		return 5;	/* the fd is not the parent's memory */
	if (lseek(fd, 0, SEEK_CUR) != FD_POS)
		return 6;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (fstat(fd, &st) || map_ino(priv, 3 * PG, &priv_ino) || map_ino(shared, 2 * PG, &shared_ino))
		return 7;
	fd_ino = st.st_ino;
	if (fd_ino != priv_ino || fd_ino != shared_ino)
		return 8;	/* the fd and the mappings are files of different inodes */
	if (n < 0)
		return 9;
	link[n] = '\0';
	if (strcmp(link, "/dev/zero (deleted)"))
		return 9;	/* not shared anonymous memory any more (a memfd, a ghost file) */
	/* now the child writes: through its shared mapping and its fd */
	AT(shared, 0) = 333;
	v = 5;
	if (pwrite(fd, &v, sizeof(v), 0) != sizeof(v))
		return 10;
	if (AT(priv, 1) != 22)
		return 11;	/* the written private page is not private */
	return 0;
}

static void child(void *m, int ready_fd, int go_fd)
{
	void *priv, *shared;
	char path[64], c;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
		 (unsigned long)m + NR_PAGES * PG);
	fd = open(path, O_RDWR);
	if (fd < 0 || lseek(fd, FD_POS, SEEK_SET) != FD_POS)
		_exit(20);
	priv = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
	shared = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PG);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		_exit(21);
	AT(priv, 1) = 22;	/* a copy of page 2 of the object, the child's own */
	if (munmap(m, NR_PAGES * PG))
		_exit(22);
	if (write(ready_fd, "R", 1) != 1)
		_exit(23);
	/* until the parent says the restore is done (0: the parent is gone) */
	if (read(go_fd, &c, 1) != 1)
		_exit(24);
	_exit(child_check(fd, priv, shared));
}

int main(int argc, char **argv)
{
	int ready[2], go[2], status;
	char c, how[64];
	pid_t pid;
	void *m;

	test_init(argc, argv);
	m = mmap(NULL, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || pipe(ready) || pipe(go)) {
		fail("mmap/pipe");
		return 1;
	}
	AT(m, 0) = 1;
	AT(m, 1) = 11;
	AT(m, 2) = 111;
	AT(m, 3) = 1111;
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		child(m, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		fail("the child did not get ready");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (AT(m, 2) != 111 || AT(m, 1) != 11)
		fail("the parent's mapping lost its bytes");
	AT(m, 3) = 444;
	if (write(go[1], "G", 1) != 1)
		fail("write to the child");
	if (test_wait_child(pid, 30, &status))
		fail("the child did not end");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child's check failed: %s", test_status_str(status, how, sizeof(how)));
	else if (AT(m, 2) != 333)
		fail("the child's write through its shared mapping of the file is not in the parent's memory");
	else if (AT(m, 0) != 5)
		fail("the child's write through its fd is not in the parent's memory");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
