// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of criu/cgroup.c: /proc/PID/cgroup and mountinfo as a
 * machine with cgroup v1 controllers plus a cgroup2 hierarchy shows them
 * (the test machines) and as a pure cgroup2 machine does (which the zdtm
 * tests can't reach here), and the property table. TAP output.
 */
#include "cgroup.h"
#include "common.h"

#include "tap.h"

static const char hybrid_cgroup[] =
	"9:name=systemd:/\n"
	"8:pids:/a/b\n"
	"4:memory:/process_api/da5c\n"
	"2:cpu,cpuacct:/\n"
	"0::/x y\n";

static const char v2_cgroup[] = "0::/user.slice/user-0.slice/session-1.scope\n";

static const char hybrid_mountinfo[] =
	"23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 /sub /mnt/memsub rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:32 / /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char v2_mountinfo[] =
	"22 1 0:20 / /proc rw - proc proc rw\n"
	"30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static void test_members(void)
{
	struct cg_members m, n;
	const struct cg_member *x;

	check(!cg_parse_members(hybrid_cgroup, &m), "hybrid /proc/PID/cgroup parses");
	check(m.nr == 5, "five hierarchies (%d)", m.nr);
	check(m.nr == 5 && !strcmp(m.m[0].name, "") && !strcmp(m.m[0].path, "/x y"), "cgroup2 first, path with a space");
	x = cg_members_find(&m, "cpu,cpuacct");
	check(x && !strcmp(x->path, "/"), "co-mounted cpu,cpuacct at /");
	x = cg_members_find(&m, "name=systemd");
	check(x && !strcmp(x->path, "/"), "named hierarchy");
	check(cg_members_find(&m, "cpu") == NULL, "no hierarchy named 'cpu' alone");

	check(!cg_parse_members(hybrid_cgroup, &n), "parses again");
	check(!cg_members_diff(&m, &n), "the same set");
	free(n.m[3].path);
	n.m[3].path = strdup("/other");
	x = cg_members_diff(&m, &n);
	check(x && !strcmp(x->name, n.m[3].name), "a different path is found (%s)", x ? x->name : "none");
	cg_members_free(&n);
	cg_members_free(&m);

	check(!cg_parse_members(v2_cgroup, &m) && m.nr == 1 && !strcmp(m.m[0].name, "") &&
		      !strcmp(m.m[0].path, "/user.slice/user-0.slice/session-1.scope"),
	      "pure cgroup2: one member, name ''");
	cg_members_free(&m);

	check(cg_parse_members("garbage\n", &m) == -EINVAL, "a line without ':' is refused");
	check(cg_parse_members("1:pids\n", &m) == -EINVAL, "a line without a path is refused");
	check(cg_parse_members("x:pids:/\n", &m) == -EINVAL, "a line without a number is refused");
	check(cg_parse_members("1:pids:/\n2:pids:/a\n", &m) == -EINVAL, "a hierarchy seen twice is refused");
	check(!cg_parse_members("", &m) && m.nr == 0, "an empty file is an empty set");
}

static void test_mounts(void)
{
	char *dir = NULL;

	check(!cg_find_mount(hybrid_mountinfo, "pids", &dir) && !strcmp(dir, "/sys/fs/cgroup/pids"),
	      "pids: %s", dir ? dir : "none");
	free(dir), dir = NULL;
	check(!cg_find_mount(hybrid_mountinfo, "cpu,cpuacct", &dir) && !strcmp(dir, "/sys/fs/cgroup/cpu,cpuacct"),
	      "cpu,cpuacct: %s", dir ? dir : "none");
	free(dir), dir = NULL;
	check(cg_find_mount(hybrid_mountinfo, "cpu", &dir) == 0, "cpu alone is in the cpu,cpuacct mount");
	free(dir), dir = NULL;
	check(!cg_find_mount(hybrid_mountinfo, "memory", &dir) && !strcmp(dir, "/sys/fs/cgroup/mem ory"),
	      "memory: the root mount, unescaped, not the bind of /sub (%s)", dir ? dir : "none");
	free(dir), dir = NULL;
	check(!cg_find_mount(hybrid_mountinfo, "name=systemd", &dir) && !strcmp(dir, "/sys/fs/cgroup/systemd"),
	      "name=systemd among other options");
	free(dir), dir = NULL;
	check(!cg_find_mount(hybrid_mountinfo, "", &dir) && !strcmp(dir, "/sys/fs/cgroup/unified"), "cgroup2");
	free(dir), dir = NULL;
	check(cg_find_mount(hybrid_mountinfo, "freezer", &dir) == -ENOENT, "freezer is not mounted");
	check(cg_find_mount(hybrid_mountinfo, "cpuset,cpu", &dir) == -ENOENT, "no mount has cpuset and cpu");

	check(!cg_find_mount(v2_mountinfo, "", &dir) && !strcmp(dir, "/sys/fs/cgroup"), "pure cgroup2: /sys/fs/cgroup");
	free(dir), dir = NULL;
	check(cg_find_mount(v2_mountinfo, "pids", &dir) == -ENOENT, "pure cgroup2: no v1 pids");
}

static void test_props(void)
{
	const struct cg_prop_desc *d;

	check(cg_name_has("cpu,cpuacct", "cpu") && cg_name_has("cpu,cpuacct", "cpuacct") &&
		      !cg_name_has("cpuset", "cpu"),
	      "controller names are whole items");
	check(cg_name_has("", "") && !cg_name_has("", "pids") && !cg_name_has("pids", ""), "'' is cgroup2 only");
	d = cg_prop_find("cpuset", "cpuset.cpus");
	check(d && d->when == CGP_EARLY, "v1 cpuset.cpus is set before tasks join");
	d = cg_prop_find("cpu,cpuacct", "cpu.shares");
	check(d && d->when == CGP_LATE, "cpu.shares in the cpu,cpuacct hierarchy");
	check(cg_prop_find("pids", "cpu.shares") == NULL, "no cpu file in pids");
	d = cg_prop_find("pids", "tasks");
	check(d && d->when == CGP_PERMS, "v1 tasks: perms only");
	d = cg_prop_find("", "cgroup.subtree_control");
	check(d && d->when == CGP_EARLY, "v2 subtree_control before the children");
	check(cg_prop_find("", "memory.max") && cg_prop_find("", "pids.max") && cg_prop_find("", "cpu.weight"),
	      "v2 memory.max, pids.max, cpu.weight");
	check(cg_prop_find("", "tasks") == NULL, "no tasks file in cgroup2");
}

int main(void)
{
	test_members();
	test_mounts();
	test_props();
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
