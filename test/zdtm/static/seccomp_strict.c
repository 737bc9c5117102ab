// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_strict: a thread in seccomp strict mode (only read, write, exit and
 * sigreturn allowed) comes back in strict mode. It answers the main thread
 * over pipes ('w': echo); /proc/self/task/TID/status says Seccomp: 1. After
 * restore the main thread asks it ('k') to call getsid(0): strict mode kills
 * the thread for that (never writing its 'x' after it), and the main thread
 * joins it. criu's remote syscalls in it, at dump and restore, must not.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "seccomp-tst.h"

static int req[2], resp[2];
static volatile pid_t strict_tid;

static void *strict_main(void *arg)
{
	char c;

	strict_tid = gettid();
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
		strict_tid = -1;
	c = 's';
	syscall(SYS_write, resp[1], &c, 1);
	for (;;) {
		if (syscall(SYS_read, req[0], &c, 1) != 1)
			syscall(SYS_exit, 1);
		if (c == 'k') {
			syscall(SYS_getsid, 0);	/* kills this thread */
			c = 'x';
		}
		syscall(SYS_write, resp[1], &c, 1);
	}
	return NULL;
}

static void check(const char *when)
{
	char c = 'w';

	if (sct_status(strict_tid, "Seccomp") != 1)
		fail("%s: the thread's Seccomp is %d, not 1", when, sct_status(strict_tid, "Seccomp"));
	if (sct_status(gettid(), "Seccomp") != 0)
		fail("%s: the main thread's Seccomp is %d, not 0", when, sct_status(gettid(), "Seccomp"));
	if (write(req[1], &c, 1) != 1 || read(resp[0], &c, 1) != 1 || c != 'w')
		fail("%s: the strict thread does not answer", when);
}

int main(int argc, char **argv)
{
	pthread_t th;
	char c;

	test_init(argc, argv);
	if (pipe(req) || pipe2(resp, O_NONBLOCK) || fcntl(resp[0], F_SETFL, 0) ||
	    pthread_create(&th, NULL, strict_main, NULL) || read(resp[0], &c, 1) != 1 || strict_tid <= 0) {
		fail("can't start the strict-mode thread");
		return 1;
	}
	check("before the dump");
	if (test_failed())
		return 1;
	test_daemon();
	test_waitsig();
	check("after restore");
	c = 'k';
	if (write(req[1], &c, 1) != 1 || pthread_join(th, NULL))
		fail("can't ask the strict thread to die, or join it");
	fcntl(resp[0], F_SETFL, O_NONBLOCK);
	if (read(resp[0], &c, 1) == 1)
		fail("the strict thread went on after getsid() (wrote %c)", c);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
