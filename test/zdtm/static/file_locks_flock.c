// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_flock: flock() locks, an exclusive one on one file and a shared
 * one on another, both open files shared with a child, come back: another
 * open file can't take either exclusively, can share the shared one; and
 * once the child drops the exclusive lock through the shared open file,
 * it is free.
 */
#include <signal.h>

#include "file_locks.h"

static const char *ex_name = "file_locks_flock.ex", *sh_name = "file_locks_flock.sh";

/* 0: flock(how) on a fresh open file of name did what want says (1: taken, 0: EWOULDBLOCK) */
struct flock_probe {
	const char *name;
	int how;
	int want;
};

static int probe_child(const void *arg)
{
	const struct flock_probe *p = arg;
	int fd = open(p->name, O_RDONLY);

	if (fd < 0)
		return 2;
	if (!flock(fd, p->how | LOCK_NB))
		return p->want ? 0 : 1;
	return errno == EWOULDBLOCK && !p->want ? 0 : 1;
}

static void probe(const char *name, int how, int want)
{
	struct flock_probe p = { name, how, want };

	if (in_child(probe_child, &p))
		fail("%s: flock(%s) should %s", name, how == LOCK_EX ? "LOCK_EX" : "LOCK_SH",
		     want ? "succeed" : "fail with EWOULDBLOCK");
}

static int unlock_child(const void *arg)
{
	return flock(*(const int *)arg, LOCK_UN) ? 2 : 0;
}

int main(int argc, char **argv)
{
	int ex, sh;
	pid_t sharer;

	test_init(argc, argv);
	ex = lock_file(ex_name, O_RDWR);
	sh = lock_file(sh_name, O_RDONLY);
	if (ex < 0 || sh < 0 || flock(ex, LOCK_EX | LOCK_NB) || flock(sh, LOCK_SH | LOCK_NB)) {
		fail("take the locks");
		return 1;
	}
	sharer = fork();
	if (sharer == 0) {
		pause();
		_exit(0);
	}
	if (sharer < 0) {
		fail("fork");
		return 1;
	}

	test_daemon();
	test_waitsig();

	probe(ex_name, LOCK_SH, 0);
	probe(sh_name, LOCK_EX, 0);
	probe(sh_name, LOCK_SH, 1);
	/* the lock is the open file's: dropped through the same open file (a fork of ours), it is free */
	if (in_child(unlock_child, &ex))
		fail("unlock through the shared open file");
	probe(ex_name, LOCK_EX, 1);
	kill(sharer, SIGKILL);
	waitpid(sharer, NULL, 0);
	unlink(ex_name);
	unlink(sh_name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
