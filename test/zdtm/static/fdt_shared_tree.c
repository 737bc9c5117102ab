// SPDX-License-Identifier: GPL-2.0
/*
 * fdt_shared_tree: fd tables shared by processes (clone(CLONE_FILES)
 * without CLONE_THREAD) come back shared, and only where they were:
 *
 *   parent P  --CLONE_FILES-->  child C  --CLONE_FILES-->  grandchild G
 *             --CLONE_FILES-->  child S
 *                               child C  --fork------->  grandchild D (own copy)
 *
 * P, C, S and G use one table; D has a copy made before fd OWN_FD was
 * opened. After the restore: the four still share one table (kcmp), an fd
 * P opens is in G and not in D, one G closes is gone in P, and every fd
 * from before the dump is where it was, with its flags and its offset shared.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define OLD_FD 50	/* before every clone: in all five */
#define OWN_FD 60	/* after D's fork: in the shared table only */
#define NEW_FD 70	/* opened by P after the restore */
#define STACK_SIZE (64 * 1024)
#define KCMP_FILES 2

enum { T_P, T_C, T_S, T_G, T_D, T_NR };

struct shared {
	pid_t pid[T_NR];
	int step;	/* set by P */
	int result[T_NR];	/* 1 ok, -N failed check N */
	int ready;
};

static struct shared *sh;

static void wait_step(int step)
{
	while (__atomic_load_n(&sh->step, __ATOMIC_SEQ_CST) < step)
		usleep(2000);
}

static void report(int who, int res)
{
	__atomic_store_n(&sh->result[who], res, __ATOMIC_SEQ_CST);
}

static int wait_result(int who)
{
	for (int i = 0; i < 5000; i++) {
		int r = __atomic_load_n(&sh->result[who], __ATOMIC_SEQ_CST);

		if (r)
			return r;
		usleep(2000);
	}
	return 0;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* G: after step 1, P's NEW_FD must be here; then it closes OWN_FD for P to see */
static int grandchild_g(void *arg)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(1);
	if (!fd_open(NEW_FD) || !fd_open(OLD_FD) || !fd_open(OWN_FD))
		report(T_G, -1);
	else if (close(OWN_FD))
		report(T_G, -2);
	else
		report(T_G, 1);
	wait_step(3);
	return 0;
}

/* D: its own table: OLD_FD (a copy), never OWN_FD or NEW_FD */
static int grandchild_d(void)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(1);
	if (!fd_open(OLD_FD))
		report(T_D, -1);
	else if (fd_open(OWN_FD) || fd_open(NEW_FD))
		report(T_D, -2);
	else
		report(T_D, 1);
	wait_step(3);
	return 0;
}

static int idle_child(void *arg)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(3);
	return 0;
}

static pid_t clone_files(int (*fn)(void *), int flags)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (stack == MAP_FAILED)
		return -1;
	return clone(fn, stack + STACK_SIZE, flags | SIGCHLD, NULL);
}

static int child_c(void *arg)
{
	pid_t d;

	d = fork();
	if (d == 0)
		_exit(grandchild_d());
	sh->pid[T_D] = d;
	sh->pid[T_G] = clone_files(grandchild_g, CLONE_FILES);
	if (d < 0 || sh->pid[T_G] < 0)
		return 1;
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	wait_step(3);
	waitpid(d, NULL, 0);
	waitpid(sh->pid[T_G], NULL, 0);
	return 0;
}

static bool same_table(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0;
}

int main(int argc, char **argv)
{
	char buf[8];
	int fd, flags;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0 || dup2(fd, OLD_FD) != OLD_FD) {
		fail("open OLD_FD");
		return 1;
	}
	close(fd);
	sh->pid[T_P] = getpid();
	sh->pid[T_C] = clone_files(child_c, CLONE_FILES);
	sh->pid[T_S] = clone_files(idle_child, CLONE_FILES);
	if (sh->pid[T_C] < 0 || sh->pid[T_S] < 0) {
		fail("clone(CLONE_FILES)");
		return 1;
	}
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < 4)
		usleep(2000);
	/* after D's fork: only in the shared table; O_CLOEXEC and an offset to keep */
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup3(fd, OWN_FD, O_CLOEXEC) != OWN_FD || lseek(OWN_FD, 3, SEEK_SET) != 3) {
		fail("open OWN_FD");
		return 1;
	}
	close(fd);

	test_daemon();
	test_waitsig();

	if (!same_table(sh->pid[T_P], sh->pid[T_C]) || !same_table(sh->pid[T_P], sh->pid[T_S]) ||
	    !same_table(sh->pid[T_P], sh->pid[T_G]))
		fail("P, C, S and G no longer share one fd table");
	if (same_table(sh->pid[T_P], sh->pid[T_D]) || same_table(sh->pid[T_C], sh->pid[T_D]))
		fail("D shares the table of P and C, it had a copy");
	flags = fcntl(OWN_FD, F_GETFD);
	if (flags != FD_CLOEXEC)
		fail("OWN_FD flags %d, not FD_CLOEXEC", flags);
	if (lseek(OWN_FD, 0, SEEK_CUR) != 3)
		fail("OWN_FD lost its offset");
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, NEW_FD) != NEW_FD) {
		fail("open NEW_FD");
		return 1;
	}
	close(fd);
	__atomic_store_n(&sh->step, 1, __ATOMIC_SEQ_CST);
	if (wait_result(T_G) != 1)
		fail("G did not see P's new fd or could not close OWN_FD (%d)", sh->result[T_G]);
	else if (fd_open(OWN_FD))
		fail("G closed OWN_FD, P still has it");
	if (wait_result(T_D) != 1)
		fail("D's own table is wrong (%d)", sh->result[T_D]);
	if (read(OLD_FD, buf, sizeof(buf)) != sizeof(buf))
		fail("OLD_FD is not /dev/zero any more");
	__atomic_store_n(&sh->step, 3, __ATOMIC_SEQ_CST);
	waitpid(sh->pid[T_C], NULL, 0);
	waitpid(sh->pid[T_S], NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
