// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup01: like cgroup00 (a cgroup of the test's own with a child in one
 * below it, in v1 pids and in cgroup2), restored with --cgroup-root into
 * /zdtm-cgroup01-root (.desc): criu makes the cgroups there, so it restores
 * their properties (pids.max, cgroup.max.descendants), and puts the tasks
 * in them. With --norst the tasks stay where they were.
 */
#include <signal.h>
#include <sys/wait.h>

#include "cgroup_test.h"

#define NAME "cgroup01"
#define NEW_ROOT "/zdtm-cgroup01-root"

struct hier {
	const char *name, *prop, *own_val, *sub_val;
	char mnt[PATH_MAX], base[PATH_MAX], own[PATH_MAX], sub[PATH_MAX];
	bool used;
};

static struct hier hiers[] = {
	{ .name = "pids", .prop = "pids.max", .own_val = "1234", .sub_val = "321" },
	{ .name = "", .prop = "cgroup.max.descendants", .own_val = "7", .sub_val = "3" },
};

static int setup(struct hier *h, pid_t child)
{
	if (cgt_mount(h->name, h->mnt, sizeof(h->mnt)) || cgt_path("self", h->name, h->base, sizeof(h->base)))
		return 0;
	cgt_own_name(h->base, NAME, getpid(), h->own, sizeof(h->own));
	snprintf(h->sub, sizeof(h->sub), "%s/sub", h->own);
	if (cgt_mkdir(h->mnt, h->own) || cgt_mkdir(h->mnt, h->sub)) {
		fail("can't make %s%s", h->mnt, h->sub);
		return -1;
	}
	h->used = true;
	if (cgt_move(h->mnt, h->own, "cgroup.procs", getpid()) || cgt_move(h->mnt, h->sub, "cgroup.procs", child) ||
	    cgt_write(h->mnt, h->own, h->prop, h->own_val) || cgt_write(h->mnt, h->sub, h->prop, h->sub_val)) {
		fail("can't set up %s%s", h->mnt, h->own);
		return -1;
	}
	return 0;
}

static void check_prop(struct hier *h, const char *dir, const char *want)
{
	char val[64] = "";

	if (cgt_read(h->mnt, dir, h->prop, val, sizeof(val)) || strcmp(val, want))
		fail("%s%s/%s is '%s', expected '%s'", h->mnt, dir, h->prop, val, want);
}

static void check(struct hier *h, pid_t child)
{
	char now[PATH_MAX] = "", ch[PATH_MAX] = "", who[32], sub[PATH_MAX];
	const char *own = h->own;

	snprintf(who, sizeof(who), "%d", child);
	cgt_path("self", h->name, now, sizeof(now));
	cgt_path(who, h->name, ch, sizeof(ch));
	if (strcmp(now, h->own)) {
		own = NEW_ROOT;	/* restored (else --norst) */
		if (strcmp(now, own))
			fail("in '%s' (%s hierarchy), expected %s", now, h->name[0] ? h->name : "cgroup2", own);
	}
	snprintf(sub, sizeof(sub), "%s/sub", own);
	if (strcmp(ch, sub))
		fail("the child is in '%s' (%s hierarchy), expected %s", ch, h->name[0] ? h->name : "cgroup2", sub);
	check_prop(h, own, h->own_val);
	check_prop(h, sub, h->sub_val);
}

int main(int argc, char **argv)
{
	int p[2], status, n = 0;
	pid_t child;

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
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++)
		if (hiers[i].used)
			check(&hiers[i], child);
out:
	close(p[1]);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (!h->used)
			continue;
		cgt_move(h->mnt, h->base, "cgroup.procs", getpid());
		cgt_rmdir(h->mnt, h->sub);
		cgt_rmdir(h->mnt, h->own);
		cgt_rmdir(h->mnt, NEW_ROOT "/sub");
		cgt_rmdir(h->mnt, NEW_ROOT);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
