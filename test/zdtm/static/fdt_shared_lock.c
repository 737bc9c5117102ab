// SPDX-License-Identifier: GPL-2.0
/*
 * fdt_shared_lock: a POSIX lock taken by a child through the fd table it
 * shares with its parent (clone(CLONE_FILES)): its owner is the table, and
 * the child is the process that took it. After the restore another process
 * still meets the write lock on bytes 0-9, in the child's name (F_GETLK's
 * l_pid), and nothing beyond; the parent, in the same table, can take a
 * write lock over it (same owner).
 */
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include "file_locks.h"

#define STACK_SIZE (64 * 1024)
#define LOCK_FD 40

static const char *name = "fdt_shared_lock.file";
static volatile int *step;

static int child_main(void *arg)
{
	struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };

	*step = fcntl(LOCK_FD, F_SETLK, &w) ? -1 : 1;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	struct flock over = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 20 };
	char *stack;
	pid_t child;
	int fd;

	test_init(argc, argv);
	step = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (step == MAP_FAILED || stack == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	fd = lock_file(name, O_RDWR);
	if (fd < 0 || dup2(fd, LOCK_FD) != LOCK_FD) {
		fail("open %s", name);
		return 1;
	}
	close(fd);
	child = clone(child_main, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	if (child < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}
	while (!*step)
		usleep(2000);
	if (*step != 1) {
		fail("the child can't take its lock");
		return 1;
	}

	test_daemon();
	test_waitsig();

	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 0, 1, F_WRLCK, child });
	check_query(&(struct lock_query){ name, F_GETLK, F_WRLCK, 10, 10, F_UNLCK, 0 });
	if (fcntl(LOCK_FD, F_SETLK, &over))
		fail("the parent can't take a lock over its table's own: %m");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
