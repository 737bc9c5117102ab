// SPDX-License-Identifier: GPL-2.0
/*
 * file_fown_pidns: file owners inside a pid namespace of the tree's own. The
 * owner pids the kernel shows depend on the namespace of whoever asks: the
 * image must hold them as the tree sees them, and restore must turn them
 * back into the pids criu sees.
 *
 * The test's root unshares a pid namespace and forks N, its init (pid 1 in
 * it, and session and group leader). N forks C (pid 2). Three pipes:
 *   P owned by N (F_SETOWN 1) with a real-time signal,
 *   G owned by N's process group (F_OWNER_PGRP 1),
 *   T owned by C as a thread (F_OWNER_TID 2).
 * After restore N reads the owners back (1, 1, 2 and their types), writes to
 * each pipe, and both N and C must get the signals that belong to them.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct shared {
	int n_hits[3];
	int c_hits[3];
	int c_stop;
};

static struct shared *sh;
static int pipes[3][2];
static int sig;

static void on_signal(int s, siginfo_t *si, void *uc)
{
	int *hits = getpid() == 1 ? sh->n_hits : sh->c_hits;

	for (int i = 0; i < 3; i++)
		if (si->si_fd == pipes[i][0])
			__atomic_add_fetch(&hits[i], 1, __ATOMIC_SEQ_CST);
}

static int wait_hits(int *counter)
{
	for (int i = 0; i < 200; i++) {
		if (__atomic_load_n(counter, __ATOMIC_SEQ_CST))
			return 0;
		usleep(5000);
	}
	return -1;
}

static int own(int fd, int type, pid_t pid)
{
	struct f_owner_ex o = { .type = type, .pid = pid };

	return fcntl(fd, F_SETOWN_EX, &o) || fcntl(fd, F_SETSIG, sig) ||
	       fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
}

static void check_owner(int fd, int type, pid_t pid, const char *what)
{
	struct f_owner_ex o = {};

	errno = 0;
	if (fcntl(fd, F_GETOWN_EX, &o) || (int)o.type != type || o.pid != pid)
		fail("%s: owner type %d pid %d after restore, expected type %d pid %d", what, o.type, o.pid, type,
		     pid);
	if (fcntl(fd, F_GETSIG) != sig)
		fail("%s: F_GETSIG %d, expected %d", what, fcntl(fd, F_GETSIG), sig);
}

static void n_main(int ready_fd)
{
	const char *names[3] = { "pipe owned by N", "pipe owned by N's group", "pipe owned by thread C" };
	char c = 'n';
	int status;
	pid_t ch;

	if (setsid() != 1)
		goto report;
	ch = fork();
	if (ch == 0) {
		while (!__atomic_load_n(&sh->c_stop, __ATOMIC_SEQ_CST))
			usleep(5000);
		/* C's own signals: one from G (its group), one from T */
		_exit(sh->c_hits[0] == 0 && sh->c_hits[1] == 1 && sh->c_hits[2] == 1 ? 0 : 3);
	}
	if (ch != 2 || own(pipes[0][0], F_OWNER_PID, 1) || own(pipes[1][0], F_OWNER_PGRP, 1) ||
	    own(pipes[2][0], F_OWNER_TID, 2))
		goto report;
	c = 'y';
report:
	if (write(ready_fd, &c, 1) != 1 || c != 'y')
		exit(1);
	close(ready_fd);

	test_waitsig();

	check_owner(pipes[0][0], F_OWNER_PID, 1, names[0]);
	check_owner(pipes[1][0], F_OWNER_PGRP, 1, names[1]);
	check_owner(pipes[2][0], F_OWNER_TID, 2, names[2]);
	for (int i = 0; i < 3; i++) {
		if (write(pipes[i][1], "x", 1) != 1) {
			fail("%s: write", names[i]);
			continue;
		}
		errno = 0;
		if (i < 2 && wait_hits(&sh->n_hits[i]))
			fail("%s: N got no signal", names[i]);
		if (i > 0 && wait_hits(&sh->c_hits[i]))
			fail("%s: C got no signal", names[i]);
	}
	__atomic_store_n(&sh->c_stop, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	if (waitpid(2, &status, 0) != 2 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("C saw the wrong signals: %d %d %d", sh->c_hits[0], sh->c_hits[1], sh->c_hits[2]);
	if (sh->n_hits[2])
		fail("N got C's signal");
	if (!test_failed())
		pass();
	exit(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	int ready[2];
	pid_t n;
	char c;

	test_init(argc, argv);
	sig = SIGRTMIN + 2;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || sigaction(sig, &sa, NULL) || pipe(ready)) {
		fail("setup");
		return 1;
	}
	for (int i = 0; i < 3; i++)
		if (pipe2(pipes[i], O_NONBLOCK)) {
			fail("pipe2");
			return 1;
		}
	if (unshare(CLONE_NEWPID)) {
		fail("unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n < 0) {
		fail("fork of the namespace's init");
		return 1;
	}
	if (n == 0) {
		close(ready[0]);
		test_set_root();
		n_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		errno = 0;
		fail("the namespace's init did not get ready");
		kill(n, SIGKILL);
		return 1;
	}
	test_daemon_pid(n);
	return 0;
}
