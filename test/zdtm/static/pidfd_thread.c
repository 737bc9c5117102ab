// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_thread: thread pidfds stay thread pidfds to the same tid.
 * One from pidfd_open(tid, PIDFD_THREAD) on a pthread, one from
 * clone(CLONE_THREAD|CLONE_PIDFD), and a PIDFD_THREAD pidfd of the leader.
 * After restore: O_EXCL in the flags, fdinfo Pid is the tid, the inode is
 * that of a fresh thread pidfd of the tid; when the pthread exits, its pidfd
 * polls POLLIN|POLLHUP while the process pidfd stays quiet.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif

static int quit_pipe[2];
static pid_t pthread_tid;

static void *pthread_fn(void *arg)
{
	char c;

	__atomic_store_n(&pthread_tid, gettid(), __ATOMIC_SEQ_CST);
	while (read(quit_pipe[0], &c, 1) < 0)
		;
	return NULL;
}

/* A raw clone() thread: only raw syscalls, it shares the leader's TLS. */
static volatile int raw_tid;
static int raw_fn(void *arg)
{
	raw_tid = syscall(SYS_gettid);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

int main(int argc, char **argv)
{
	struct pidfd_state st_p, st_raw, st_lead;
	int fd_p, fd_raw = -1, fd_lead, fd_proc;
	struct pollfd p[2];
	pthread_t th;
	char *stack;
	long r;

	test_init(argc, argv);
	if (pipe(quit_pipe) || pthread_create(&th, NULL, pthread_fn, NULL)) {
		fail("pipe/pthread_create");
		return 1;
	}
	while (!__atomic_load_n(&pthread_tid, __ATOMIC_SEQ_CST))
		usleep(1000);

	stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r = clone(raw_fn, stack + 65536,
		  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PIDFD, NULL,
		  &fd_raw);
	if (r < 0 || fd_raw < 0) {
		fail("clone(CLONE_THREAD|CLONE_PIDFD)");
		return 1;
	}
	while (!raw_tid)
		usleep(1000);

	fd_p = sys_pidfd_open(pthread_tid, PIDFD_THREAD);
	fd_lead = sys_pidfd_open(getpid(), PIDFD_THREAD);
	fd_proc = sys_pidfd_open(getpid(), 0);
	if (fd_p < 0 || fd_lead < 0 || fd_proc < 0) {
		fail("pidfd_open");
		return 1;
	}
	if (!(fcntl(fd_raw, F_GETFL) & PIDFD_THREAD)) {
		fail("the CLONE_THREAD|CLONE_PIDFD pidfd is not a thread pidfd before the dump");
		return 1;
	}
	if (pidfd_remember(fd_p, pthread_tid, "pthread pidfd", &st_p) ||
	    pidfd_remember(fd_raw, raw_tid, "clone thread pidfd", &st_raw) ||
	    pidfd_remember(fd_lead, getpid(), "leader thread pidfd", &st_lead))
		return 1;

	test_daemon();
	test_waitsig();

	pidfd_check(&st_p);
	pidfd_check(&st_raw);
	pidfd_check(&st_lead);
	errno = 0;
	if (!(fcntl(fd_p, F_GETFL) & PIDFD_THREAD) || !(fcntl(fd_raw, F_GETFL) & PIDFD_THREAD) ||
	    !(fcntl(fd_lead, F_GETFL) & PIDFD_THREAD))
		fail("a thread pidfd lost PIDFD_THREAD");

	/* the pthread exits: its pidfd fires, the process pidfd does not */
	p[0] = (struct pollfd){ .fd = fd_p, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fd_proc, .events = POLLIN };
	if (poll(p, 2, 0) != 0)
		fail("a pidfd polls readable before any thread exited (0x%x 0x%x)", p[0].revents, p[1].revents);
	if (write(quit_pipe[1], "q", 1) != 1 || pthread_join(th, NULL))
		fail("can't stop the pthread");
	/* POLLIN when the thread exits; POLLHUP follows once the kernel has released it */
	p[0].revents = p[1].revents = 0;
	for (int i = 0; i < 500 && p[0].revents != (POLLIN | POLLHUP); i++) {
		if (poll(&p[0], 1, 5000) != 1)
			break;
		if (p[0].revents != (POLLIN | POLLHUP))
			usleep(10000);
	}
	if (p[0].revents != (POLLIN | POLLHUP))
		fail("the pthread's pidfd: revents 0x%x after it exited, expected POLLIN|POLLHUP", p[0].revents);
	if (poll(&p[1], 1, 0) != 0)
		fail("the process pidfd fired when a thread exited (0x%x)", p[1].revents);
	if (sys_pidfd_send_signal(fd_p, 0, NULL, 0) == 0 || errno != ESRCH)
		fail("signal through the exited thread's pidfd: not ESRCH");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
