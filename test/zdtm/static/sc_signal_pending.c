// SPDX-License-Identifier: GPL-2.0
/*
 * sc_signal_pending: a signal that comes while the tree is frozen by the dump
 * is in the images as pending; the thread it is for sleeps in read() on a pipe
 * and handles it without SA_RESTART. After restore the read() returns EINTR,
 * after the handler ran, as it would have without the dump (a thread made to
 * execute the read() again in user mode would take the signal first and then
 * sleep in the read() again).
 *
 * The signal comes from a process outside the tree, which watches the child
 * holding the read() and sends it SIGUSR1 once it is in a tracing stop. The
 * root, dumped before the child, has 128 MiB of memory, so that the child's
 * pending signals are read well after it was stopped.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MEM_SIZE (128UL << 20)

static volatile int handled;

static void handler(int sig)
{
	handled++;
}

/*
 * The child: read() on a pipe nobody writes; then it reports 'y' when the read() ended
 * with EINTR after the handler ran ('n' otherwise) and waits to be killed.
 */
static void child(int report)
{
	struct sigaction sa;
	int p[2];
	char c;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	if (sigaction(SIGUSR1, &sa, NULL) || pipe(p))
		_exit(2);
	n = read(p[0], &c, 1);
	c = n < 0 && errno == EINTR && handled == 1 ? 'y' : 'n';
	if (write(report, &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *s;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	s = strstr(buf, "State:\t");
	return s ? s[7] : 0;
}

/* Outside the tree: wait until the child is in a tracing stop, then signal it. */
static void outsider(int rfd)
{
	struct timespec t = { 0, 200 * 1000 };
	pid_t target;

	if (read(rfd, &target, sizeof(target)) != sizeof(target))
		_exit(1);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	setsid();
	alarm(120);
	for (;;) {
		char st = proc_state(target);

		if (st == 't') {
			kill(target, SIGUSR1);
			_exit(0);
		}
		if (!st)
			_exit(1);
		nanosleep(&t, NULL);
	}
}

int main(int argc, char **argv)
{
	int p[2], rep[2], st;
	pid_t mid, pid;
	char verdict = 0;
	void *mem;

	test_init(argc, argv);
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			close(p[1]);
			outsider(p[0]);
		}
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	close(p[0]);

	if (pipe(rep)) {
		fail("pipe");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		child(rep[1]);
	close(rep[1]);
	if (pid < 0 || write(p[1], &pid, sizeof(pid)) != sizeof(pid)) {
		fail("fork or write");
		return 1;
	}
	close(p[1]);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	pattern_fill(mem, MEM_SIZE, 0x51);
	while (proc_state(pid) != 'S')
		usleep(1000);
	test_daemon();
	test_waitsig();

	{
		struct pollfd pf = { rep[0], POLLIN, 0 };

		if (poll(&pf, 1, 10000) != 1 || read(rep[0], &verdict, 1) != 1)
			fail("the child's read() did not end after restore");
		else if (verdict != 'y')
			fail("the child's read() did not end with EINTR after its handler ran");
	}
	if (pattern_check(mem, MEM_SIZE, 0x51) >= 0)
		fail("memory differs");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (!test_failed())
		pass();
	return 0;
}
