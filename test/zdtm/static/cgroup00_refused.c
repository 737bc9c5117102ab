// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup00_refused: the task moves itself into a cgroup of its own in the
 * cgroup2 hierarchy (or pids, when there is no cgroup2 mount). criu does
 * not dump cgroups yet: the dump must fail naming the cgroup, and the task
 * must still be in it.
 */
#include "cgroup_test.h"

int main(int argc, char **argv)
{
	const char *name = "";
	char mnt[PATH_MAX], base[PATH_MAX], own[PATH_MAX], now[PATH_MAX];

	test_init(argc, argv);
	if (cgt_mount(name, mnt, sizeof(mnt))) {
		name = "pids";
		if (cgt_mount(name, mnt, sizeof(mnt))) {
			fail("neither a cgroup2 nor a pids hierarchy is mounted");
			return 1;
		}
	}
	if (cgt_path("self", name, base, sizeof(base))) {
		fail("no '%s' line in /proc/self/cgroup", name);
		return 1;
	}
	cgt_own_name(base, "cgroup00_refused", getpid(), own, sizeof(own));
	if (cgt_mkdir(mnt, own) || cgt_move(mnt, own, "cgroup.procs", getpid())) {
		fail("can't make and join %s%s", mnt, own);
		cgt_rmdir(mnt, own);
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (cgt_path("self", name, now, sizeof(now)) || strcmp(now, own))
		fail("in cgroup '%s' after the refused dump, expected '%s'", now, own);
	if (cgt_move(mnt, base, "cgroup.procs", getpid()))
		fail("can't go back to %s%s", mnt, base);
	cgt_rmdir(mnt, own);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
