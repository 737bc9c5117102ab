// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd00: eventfds keep their counter, their mode and their flags.
 *  - sem: EFD_SEMAPHORE|EFD_NONBLOCK, counter 5: after restore each read
 *    gives 1, five times, then EAGAIN; fdinfo still says semaphore;
 *  - big: a counter above 2^32 (eventfd() alone can't create it), read whole;
 *  - zero: counter 0, blocking, shared with a child that sits in read() on it
 *    across the dump: after restore the parent writes 7 and the child must
 *    read 7 (both hold one file).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BIG_COUNT 0x100000005ULL

static int read_u64(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

static void check_sem(int sem)
{
	long long flag = -1;
	uint64_t v;
	int i;

	if (fcntl(sem, F_GETFL) != (O_RDWR | O_NONBLOCK))
		fail("semaphore eventfd: F_GETFL %o", fcntl(sem, F_GETFL));
	if (fcntl(sem, F_GETFD) != FD_CLOEXEC)
		fail("semaphore eventfd lost close-on-exec");
	if (fdinfo_get_long(sem, "eventfd-semaphore", &flag) == 0 && flag != 1)
		fail("fdinfo says eventfd-semaphore %lld", flag);
	for (i = 0; i < 5; i++) {
		if (read_u64(sem, &v)) {
			fail("semaphore read %d failed", i);
			return;
		}
		if (v != 1) {
			fail("semaphore read %d gave %llu, not 1", i, (unsigned long long)v);
			return;
		}
	}
	errno = 0;
	if (read(sem, &v, sizeof(v)) != -1 || errno != EAGAIN)
		fail("a sixth semaphore read did not give EAGAIN (counter was more than 5)");
}

int main(int argc, char **argv)
{
	int sem, big, zero, status;
	uint64_t v = BIG_COUNT;
	pid_t child;

	test_init(argc, argv);
	sem = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	big = eventfd(0, 0);
	zero = eventfd(0, 0);
	if (sem < 0 || big < 0 || zero < 0) {
		fail("eventfd");
		return 1;
	}
	if (write(big, &v, sizeof(v)) != sizeof(v)) {
		fail("write big counter");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		if (read_u64(zero, &v))
			_exit(2);
		_exit(v == 7 ? 0 : 3);
	}

	test_daemon();
	test_waitsig();

	check_sem(sem);

	if (fcntl(big, F_GETFL) != O_RDWR || fcntl(big, F_GETFD) != 0)
		fail("big eventfd flags: F_GETFL %o F_GETFD %d", fcntl(big, F_GETFL), fcntl(big, F_GETFD));
	fcntl(big, F_SETFL, O_NONBLOCK);
	v = 0;
	if (read_u64(big, &v) || v != BIG_COUNT)
		fail("big eventfd read %#llx, expected %#llx", (unsigned long long)v, BIG_COUNT);

	v = 7;
	if (write(zero, &v, sizeof(v)) != sizeof(v))
		fail("write to the shared eventfd");
	if (test_wait_child(child, 10, &status)) {
		fail("the child did not finish");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char buf[64];

		fail("the child reading the shared eventfd: %s", test_status_str(status, buf, sizeof(buf)));
	}
	/* the child took the whole count: nothing left for us */
	fcntl(zero, F_SETFL, O_NONBLOCK);
	errno = 0;
	if (read(zero, &v, sizeof(v)) != -1 || errno != EAGAIN)
		fail("the shared eventfd still had a count after the child read it");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
