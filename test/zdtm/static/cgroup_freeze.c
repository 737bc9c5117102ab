// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_freeze: the task and a child live in the cgroup2 cgroup
 * /zdtm-cgroup-freeze, which the dump freezes to seize them
 * (--freeze-cgroup, .desc; the cgroup2 hierarchy of these machines is
 * mounted at /sys/fs/cgroup/unified). After the dump (and restore) the
 * cgroup is thawed and both tasks are in it and run.
 */
#include <signal.h>
#include <sys/wait.h>

#include "cgroup_test.h"

#define CG "/zdtm-cgroup-freeze"

int main(int argc, char **argv)
{
	char mnt[PATH_MAX], base[PATH_MAX], now[PATH_MAX], who[32], val[256];
	int p[2], q[2], status;
	pid_t child;

	test_init(argc, argv);
	if (cgt_mount("", mnt, sizeof(mnt)) || cgt_path("self", "", base, sizeof(base)) || pipe(p) || pipe(q)) {
		fail("no cgroup2 hierarchy");
		return 1;
	}
	child = fork();
	if (child == 0) {
		char c;

		/* echo every byte back: it runs after the dump */
		while (read(p[0], &c, 1) == 1)
			if (write(q[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	if (cgt_mkdir(mnt, CG) || cgt_move(mnt, CG, "cgroup.procs", getpid()) ||
	    cgt_move(mnt, CG, "cgroup.procs", child)) {
		fail("can't make and join %s%s", mnt, CG);
		goto out;
	}
	test_daemon();
	test_waitsig();

	if (cgt_path("self", "", now, sizeof(now)) || strcmp(now, CG))
		fail("in '%s', expected %s", now, CG);
	snprintf(who, sizeof(who), "%d", child);
	if (cgt_path(who, "", now, sizeof(now)) || strcmp(now, CG))
		fail("the child is in '%s', expected %s", now, CG);
	if (cgt_read(mnt, CG, "cgroup.freeze", val, sizeof(val)) || strcmp(val, "0"))
		fail("cgroup.freeze is '%s', expected 0 (thawed)", val);
	{
		char c = 'x', back = 0;

		if (write(p[1], &c, 1) != 1 || read(q[0], &back, 1) != 1 || back != 'x')
			fail("the child does not run");
	}
out:
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	cgt_move(mnt, base, "cgroup.procs", getpid());
	cgt_rmdir(mnt, CG);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
