// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_two_refused: the test's two children each enter a user namespace
 * of their own (siblings, both children of the test's). criu restores one
 * user namespace besides its own: the dump must fail naming both, and each
 * child must still be in its own.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ns_user.h"

/* A child in its own user namespace; it answers 'k' once asked if it is still in it. */
static pid_t start(int *ret_ask, int *ret_answer)
{
	int ask[2], answer[2];
	unsigned long ino;
	pid_t pid;
	char c;

	if (pipe(ask) || pipe(answer))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (ns_user_enter())
			_exit(1);
		ino = ns_ino("self", "user");
		c = 'r';
		if (write(answer[1], &c, 1) != 1 || read(ask[0], &c, 1) != 1)
			_exit(1);
		c = ns_ino("self", "user") == ino ? 'k' : 'x';
		_exit(write(answer[1], &c, 1) == 1 ? 0 : 1);
	}
	if (pid < 0 || read(answer[0], &c, 1) != 1 || c != 'r')
		return -1;
	*ret_ask = ask[1];
	*ret_answer = answer[0];
	return pid;
}

static void check(pid_t pid, int ask, int answer)
{
	char c = 'c';

	if (write(ask, &c, 1) != 1 || read(answer, &c, 1) != 1 || c != 'k')
		fail("child %d is not in its user namespace any more", pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	int ask[2], answer[2];
	pid_t a, b;

	test_init(argc, argv);
	a = start(&ask[0], &answer[0]);
	b = a > 0 ? start(&ask[1], &answer[1]) : -1;
	if (b < 0) {
		fail("can't start the children");
		if (a > 0)
			kill(a, SIGKILL);
		return 1;
	}
	test_daemon();
	test_waitsig();

	check(a, ask[0], answer[0]);
	check(b, ask[1], answer[1]);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
