// SPDX-License-Identifier: GPL-2.0
/*
 * ns_cgroup00: the task joins a cgroup of its own P (cgroup2, and v1 pids
 * when mounted), makes a cgroup namespace there (P is its root: it sees
 * "/"), forks a child (which shares the namespace and stays in P), then
 * moves into P/sub (it sees "/sub"). After restore: both are in one cgroup
 * namespace, not the runner's (pid 1); they see "/sub" and "/", and the
 * whole paths (the cgroup.procs of P/sub and P) have them.
 */
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "cgroup_test.h"
#include "ns_refused.h"

struct hier {
	const char *name;
	char mnt[PATH_MAX], base[PATH_MAX], own[PATH_MAX], sub[PATH_MAX];
	bool used;
};

static struct hier hiers[] = { { .name = "" }, { .name = "pids" } };

static bool procs_has(struct hier *h, const char *dir, pid_t pid)
{
	char p[PATH_MAX], line[64];
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s/cgroup.procs", h->mnt, dir);
	f = fopen(p, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = atoi(line) == pid;
	fclose(f);
	return found;
}

static void check_view(const char *who, struct hier *h, const char *want)
{
	char now[PATH_MAX] = "";

	if (cgt_path(who, h->name, now, sizeof(now)) || strcmp(now, want))
		fail("/proc/%s/cgroup: '%s' in the %s hierarchy, expected '%s'", who, now,
		     h->name[0] ? h->name : "cgroup2", want);
}

int main(int argc, char **argv)
{
	int p[2], status, n = 0;
	char who[32];
	pid_t child = -1;

	test_init(argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (cgt_mount(h->name, h->mnt, sizeof(h->mnt)) || cgt_path("self", h->name, h->base, sizeof(h->base)))
			continue;
		cgt_own_name(h->base, "ns_cgroup00", getpid(), h->own, sizeof(h->own));
		snprintf(h->sub, sizeof(h->sub), "%s/sub", h->own);
		if (cgt_mkdir(h->mnt, h->own) || cgt_mkdir(h->mnt, h->sub) ||
		    cgt_move(h->mnt, h->own, "cgroup.procs", getpid())) {
			fail("can't make and join %s%s", h->mnt, h->own);
			goto out;
		}
		h->used = true;
		n++;
	}
	if (!n || pipe(p)) {
		fail("no cgroup2 or pids hierarchy, or no pipe");
		goto out;
	}
	if (unshare(CLONE_NEWCGROUP)) {
		fail("can't make a cgroup namespace");
		goto out;
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
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++)
		if (hiers[i].used && cgt_move(hiers[i].mnt, hiers[i].sub, "cgroup.procs", getpid()))
			fail("can't move into %s%s", hiers[i].mnt, hiers[i].sub);
	if (test_failed())
		goto out;
	test_daemon();
	test_waitsig();

	if (ns_ino("self", "cgroup") == ns_ino("1", "cgroup"))
		fail("in the cgroup namespace of pid 1 (the runner)");
	snprintf(who, sizeof(who), "%d", child);
	if (ns_ino("self", "cgroup") != ns_ino(who, "cgroup"))
		fail("the child is not in the task's cgroup namespace");
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (!h->used)
			continue;
		check_view("self", h, "/sub");
		check_view(who, h, "/");
		if (!procs_has(h, h->sub, getpid()) || !procs_has(h, h->own, child))
			fail("%s%s or %s%s does not have the tasks", h->mnt, h->sub, h->mnt, h->own);
	}
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(hiers); i++) {
		struct hier *h = &hiers[i];

		if (!h->used)
			continue;
		cgt_move(h->mnt, h->base, "cgroup.procs", getpid());
		cgt_rmdir(h->mnt, h->sub);
		cgt_rmdir(h->mnt, h->own);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
