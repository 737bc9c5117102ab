// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup00: the task makes cgroups of its own in the v1 pids hierarchy and
 * in cgroup2 (each one it finds mounted; at least one), joins the first and
 * puts a child into one below it; a second child stays in the cgroups the
 * test started in (criu's). After restore all three are back in theirs (the
 * cgroups stay from before the dump: the default soft mode leaves their
 * properties alone, so pids.max is still what the test wrote).
 */
#include <signal.h>
#include <sys/wait.h>

#include "cgroup_test.h"

#define NAME "cgroup00"

struct hier {
	const char *name;
	char mnt[PATH_MAX], base[PATH_MAX], own[PATH_MAX], sub[PATH_MAX];
	bool used;
};

static struct hier hiers[] = { { .name = "pids" }, { .name = "" } };

static int setup(struct hier *h, pid_t child)
{
	if (cgt_mount(h->name, h->mnt, sizeof(h->mnt)) || cgt_path("self", h->name, h->base, sizeof(h->base)))
		return 0;	/* not on this machine */
	cgt_own_name(h->base, NAME, getpid(), h->own, sizeof(h->own));
	snprintf(h->sub, sizeof(h->sub), "%s/sub", h->own);
	if (cgt_mkdir(h->mnt, h->own) || cgt_mkdir(h->mnt, h->sub)) {
		fail("can't make %s%s", h->mnt, h->sub);
		return -1;
	}
	h->used = true;
	if (cgt_move(h->mnt, h->own, "cgroup.procs", getpid()) || cgt_move(h->mnt, h->sub, "cgroup.procs", child)) {
		fail("can't join %s%s", h->mnt, h->own);
		return -1;
	}
	if (!strcmp(h->name, "pids") &&
	    (cgt_write(h->mnt, h->own, "pids.max", "1234") || cgt_write(h->mnt, h->sub, "pids.max", "321"))) {
		fail("can't set pids.max");
		return -1;
	}
	return 0;
}

static void check_in(const char *who, struct hier *h, const char *want)
{
	char now[PATH_MAX] = "";

	if (cgt_path(who, h->name, now, sizeof(now)) || strcmp(now, want))
		fail("/proc/%s/cgroup: '%s' in the %s hierarchy, expected '%s'", who, now,
		     h->name[0] ? h->name : "cgroup2", want);
}

static void cleanup(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (!h->used)
			continue;
		cgt_move(h->mnt, h->base, "cgroup.procs", getpid());
		cgt_rmdir(h->mnt, h->sub);
		cgt_rmdir(h->mnt, h->own);
	}
}

int main(int argc, char **argv)
{
	char who[32], val[64];
	int p[2], status, n = 0;
	pid_t child, stay;

	test_init(argc, argv);
	if (pipe(p)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) < 0)
			;	/* until the parent is done (or dies) */
		_exit(0);
	}
	stay = fork();
	if (stay == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) < 0)
			;
		_exit(0);
	}
	close(p[0]);
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		if (setup(&hiers[i], child))
			goto out;
		n += hiers[i].used;
	}
	if (!n) {
		fail("neither a pids nor a cgroup2 hierarchy is mounted");
		goto out;
	}
	test_daemon();
	test_waitsig();

	snprintf(who, sizeof(who), "%d", child);
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (!h->used)
			continue;
		check_in("self", h, h->own);
		check_in(who, h, h->sub);
		snprintf(who, sizeof(who), "%d", stay);
		check_in(who, h, h->base);
		snprintf(who, sizeof(who), "%d", child);
		if (!strcmp(h->name, "pids") && (cgt_read(h->mnt, h->own, "pids.max", val, sizeof(val)) ||
						 strcmp(val, "1234")))
			fail("pids.max of %s is '%s', expected 1234", h->own, val);
	}
out:
	close(p[1]);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	kill(stay, SIGKILL);
	waitpid(stay, &status, 0);
	cleanup();
	if (test_failed())
		return 1;
	pass();
	return 0;
}
