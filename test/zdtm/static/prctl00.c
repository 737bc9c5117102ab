// SPDX-License-Identifier: GPL-2.0
/*
 * prctl00: per-task flags that only prctl() reads survive the restore, in a
 * child that set them before the dump:
 *  - no_new_privs (PR_SET_NO_NEW_PRIVS),
 *  - an ambient capability (CAP_KILL raised, CAP_CHOWN not),
 *  - dumpable cleared (PR_SET_DUMPABLE 0),
 *  - transparent huge pages disabled (PR_SET_THP_DISABLE 1),
 *  - in the parent, THP disabled but where madvised (PR_THP_DISABLE_EXCEPT_ADVISED).
 * The child reports them through a shared page before and after.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "zdtmtst.h"

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif

struct flags {
	int nnp, amb_kill, amb_chown, dumpable, thp_disable;
};

struct shared {
	struct flags before, after;
	volatile int ready, done;
};

static void snap(struct flags *f)
{
	f->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	f->amb_kill = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0);
	f->amb_chown = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0);
	f->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	f->thp_disable = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
}

static int change(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	/* an ambient capability must be permitted and inheritable */
	if (syscall(SYS_capget, &h, d))
		return 1;
	d[0].inheritable |= 1u << CAP_KILL;
	if (syscall(SYS_capset, &h, d))
		return 2;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0))
		return 3;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return 4;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return 5;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return 6;
	return 0;
}

int main(int argc, char **argv)
{
	struct shared *sh;
	int status;
	pid_t child;

	test_init(argc, argv);
	if (prctl(PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0)) {
		fail("PR_SET_THP_DISABLE except advised");
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		int r = change();

		if (r)
			_exit(100 + r);
		snap(&sh->before);
		sh->ready = 1;
		test_waitsig();
		snap(&sh->after);
		sh->done = 1;
		_exit(0);
	}
	while (!sh->ready) {
		if (waitpid(child, &status, WNOHANG) == child) {
			fail("the child failed to set up (exit %d)", WEXITSTATUS(status));
			return 1;
		}
		usleep(1000);
	}
	const struct flags *b = &sh->before, *a = &sh->after;

	errno = 0;
	if (b->nnp != 1 || b->amb_kill != 1 || b->amb_chown != 0 || b->dumpable != 0 || b->thp_disable != 1) {
		fail("the child's flags are not set: nnp %d amb %d/%d dumpable %d thp_disable %d", b->nnp, b->amb_kill,
		     b->amb_chown, b->dumpable, b->thp_disable);
		return 1;
	}

	test_daemon();
	test_waitsig();

	kill(child, SIGTERM);
	if (test_wait_child(child, 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status) || !sh->done) {
		fail("the child did not report after restore");
		return 1;
	}
	errno = 0;
	status = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (status != (1 | PR_THP_DISABLE_EXCEPT_ADVISED))
		fail("the parent's PR_GET_THP_DISABLE is %d after restore, want 3 (except advised)", status);
#define SAME(field)                                                                               \
	if (a->field != b->field)                                                                 \
		fail(#field " %d after restore, was %d", a->field, b->field);
	SAME(nnp) SAME(amb_kill) SAME(amb_chown) SAME(dumpable) SAME(thp_disable);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
