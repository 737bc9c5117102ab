// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user02: the test's root stays in its starting user namespace; its
 * child enters one of its own (`unshare --user --map-root-user`) and forks a
 * grandchild there. After restore the child and the grandchild are in one
 * user namespace, not the root's, with the map back, and each is root with
 * every capability in it.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "ns_user.h"

/* Answers 'k' when asked ('c') if it is root in a user namespace with the map "0 0 1". */
static void answer(int ask, int ans)
{
	char map[256], c = 0;

	if (read(ask, &c, 1) != 1)
		_exit(1);
	c = !ns_user_map(map, sizeof(map)) && !strcmp(map, "         0          0          1\n") && getuid() == 0 &&
			    geteuid() == 0 ?
		    'k' :
		    'x';
	if (c != 'k')
		test_msg("pid %d: uid_map '%s', uid %d\n", getpid(), map, getuid());
	_exit(write(ans, &c, 1) == 1 ? 0 : 1);
}

int main(int argc, char **argv)
{
	int ask_a[2], ans_a[2], ask_b[2], ans_b[2], ids[2];
	pid_t a, b = 0;
	char c = 0, where[16];
	unsigned long mine, ua, ub;

	test_init(argc, argv);
	if (pipe(ask_a) || pipe(ans_a) || pipe(ask_b) || pipe(ans_b) || pipe(ids)) {
		fail("pipe");
		return 1;
	}
	a = fork();
	if (a == 0) {
		if (ns_user_enter())
			_exit(1);
		b = fork();
		if (b == 0)
			answer(ask_b[0], ans_b[1]);
		if (b < 0 || write(ids[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		answer(ask_a[0], ans_a[1]);
	}
	if (a < 0 || read(ids[0], &b, sizeof(b)) != sizeof(b)) {
		fail("the children did not start");
		if (a > 0)
			kill(a, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	mine = ns_ino("self", "user");
	snprintf(where, sizeof(where), "%d", a);
	ua = ns_ino(where, "user");
	snprintf(where, sizeof(where), "%d", b);
	ub = ns_ino(where, "user");
	if (!ua || ua != ub || ua == mine)
		fail("user namespaces: child [%lu], grandchild [%lu], root [%lu]", ua, ub, mine);
	c = 'c';
	if (write(ask_b[1], &c, 1) != 1 || read(ans_b[0], &c, 1) != 1 || c != 'k')
		fail("the grandchild is not root in its user namespace with its map");
	c = 'c';
	if (write(ask_a[1], &c, 1) != 1 || read(ans_a[0], &c, 1) != 1 || c != 'k')
		fail("the child is not root in its user namespace with its map");
	kill(b, SIGKILL);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
