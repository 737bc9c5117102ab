// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user00: the test's root enters a user namespace of its own, as
 * `unshare --user --map-root-user` does, with the maps "0 0 1" and
 * "1 100000 65535" (uids and gids) and setgroups "deny", written by a
 * child that stays in the starting user namespace and watches from there.
 * A second child, made inside, sets its ids to 1000/1001/1002 (100999,
 * 101000, 101001 outside). The root holds a pipe and a pidfd of the inside
 * child. After restore: the same maps and setgroups, root with every
 * capability inside, the inside child's ids as it sees them and as the
 * outside child sees them, the root and the inside child in one user
 * namespace that is not the outside child's, the pidfd naming the inside
 * child, the pipe's data.
 */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAP "0 0 1\n1 100000 65535\n"

/* ns_user01: setgroups "allow", and the inside child has groups of its own */
#ifdef NS_USER_ALLOW
#define SETGROUPS "allow"
#define OUT_GROUPS "101002 101004"
static const gid_t in_groups[] = { 1003, 1005 };
#else
#define SETGROUPS "deny"
#endif

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = -1;

	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The line of /proc/<pid>/status that starts with key, without the key. */
static int status_line(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], buf[4096], *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, key);
	if (!p)
		return -1;
	p += strlen(key);
	e = strchr(p, '\n');
	if (e)
		*e = '\0';
	snprintf(out, len, "%s", p);
	return 0;
}

static unsigned long ns_ino_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	return stat(path, &st) ? 0 : st.st_ino;
}

static char rd(int fd)
{
	char c = 0;

	return read(fd, &c, 1) == 1 ? c : 0;
}

static void wr(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(1);
}

/* The outside child: writes the maps, then checks the inside child from the starting user namespace. */
static int outside(pid_t root, int in, int out)
{
	char uid_before[128], gid_before[128], uid_after[128], gid_after[128];
	pid_t c;
	int ok = 1;

	if (rd(in) != 'u')
		return 1;
	{
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/uid_map", root);
		ok = !write_file(p, MAP);
		snprintf(p, sizeof(p), "/proc/%d/setgroups", root);
		ok = ok && !write_file(p, SETGROUPS);
		snprintf(p, sizeof(p), "/proc/%d/gid_map", root);
		ok = ok && !write_file(p, MAP);
	}
	wr(out, ok ? 'k' : 'x');
	if (read(in, &c, sizeof(c)) != sizeof(c))
		return 1;
	if (status_line(c, "Uid:\t", uid_before, sizeof(uid_before)) ||
	    status_line(c, "Gid:\t", gid_before, sizeof(gid_before)))
		return 1;
	wr(out, 'k');
	if (rd(in) != 'c')
		return 0;
#ifdef NS_USER_ALLOW
	{
		char g[128];

		if (status_line(c, "Groups:\t", g, sizeof(g)) || strncmp(g, OUT_GROUPS, strlen(OUT_GROUPS))) {
			test_msg("outside: the inside child's groups are '%s', expected '%s'\n", g, OUT_GROUPS);
			wr(out, 'x');
			rd(in);
			return 0;
		}
	}
#endif
	ok = !status_line(c, "Uid:\t", uid_after, sizeof(uid_after)) &&
	     !status_line(c, "Gid:\t", gid_after, sizeof(gid_after)) && !strcmp(uid_before, uid_after) &&
	     !strcmp(gid_before, gid_after) && !strcmp(uid_after, "100999\t101000\t101001\t101000") &&
	     !strcmp(gid_after, "100999\t101000\t101001\t101000");
	if (!ok)
		test_msg("outside: Uid '%s' Gid '%s' before, '%s' '%s' after\n", uid_before, gid_before, uid_after,
			 gid_after);
	if (ok && (ns_ino_of(root) != ns_ino_of(c) || ns_ino_of(c) == ns_ino_of(getpid()) || !ns_ino_of(c))) {
		test_msg("outside: user namespaces root %lu child %lu mine %lu\n", ns_ino_of(root), ns_ino_of(c),
			 ns_ino_of(getpid()));
		ok = 0;
	}
	wr(out, ok ? 'k' : 'x');
	rd(in);
	return 0;
}

/* The inside child: its own ids, checked by itself after restore. */
static int inside(int in, int out)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	gid_t groups[8];
	int n0, n1;

#ifdef NS_USER_ALLOW
	if (setgroups(2, in_groups)) {
		wr(out, 'x');
		return 1;
	}
#endif
	n0 = getgroups(8, groups);
	if (setresgid(1000, 1001, 1002) || setresuid(1000, 1001, 1002) || prctl(PR_SET_DUMPABLE, 1)) {
		wr(out, 'x');
		return 1;
	}
	wr(out, 'r');
	if (rd(in) != 'c')
		return 0;
	n1 = getgroups(8, groups);
#ifdef NS_USER_ALLOW
	if (n1 != 2 || groups[0] != in_groups[0] || groups[1] != in_groups[1])
		n1 = -1;
#endif
	if (getresuid(&r, &e, &s) || getresgid(&gr, &ge, &gs) || r != 1000 || e != 1001 || s != 1002 ||
	    gr != 1000 || ge != 1001 || gs != 1002 || n0 != n1) {
		test_msg("inside: uids %u %u %u gids %u %u %u groups %d (%d before)\n", r, e, s, gr, ge, gs, n1, n0);
		wr(out, 'x');
	} else {
		wr(out, 'k');
	}
	rd(in);
	return 0;
}

int main(int argc, char **argv)
{
	int to_out[2], from_out[2], to_in[2], from_in[2], data[2];
	char umap[128], gmap[128], sg[16], cap[64], s[128], buf[8], nspid[64], in_nspid[64];
	struct pidfd_state pst;
	pid_t out_pid, in_pid = -1;
	uid_t r, e, sv;
	int pfd;

	test_init(argc, argv);
	if (pipe(to_out) || pipe(from_out) || pipe(to_in) || pipe(from_in) || pipe(data)) {
		fail("pipe");
		return 1;
	}
	out_pid = fork();
	if (out_pid == 0)
		_exit(outside(getppid(), to_out[0], from_out[1]));
	if (out_pid < 0 || unshare(CLONE_NEWUSER)) {
		fail("can't make a user namespace");
		return 1;
	}
	wr(to_out[1], 'u');
	if (rd(from_out[0]) != 'k' || getresuid(&r, &e, &sv) || r || e || sv) {
		fail("the maps of the user namespace were not written");
		goto kill_out;
	}
	in_pid = fork();
	if (in_pid == 0)
		_exit(inside(to_in[0], from_in[1]));
	if (in_pid < 0 || rd(from_in[0]) != 'r') {
		fail("the inside child did not start");
		goto kill_in;
	}
	if (write(to_out[1], &in_pid, sizeof(in_pid)) != sizeof(in_pid) || rd(from_out[0]) != 'k') {
		fail("the outside child can't see the inside one");
		goto kill_in;
	}
	pfd = sys_pidfd_open(in_pid, 0);
	if (pfd < 0 || pidfd_remember(pfd, in_pid, "pidfd of the inside child", &pst)) {
		fail("pidfd_open");
		goto kill_in;
	}
	if (write(data[1], "userns", 6) != 6 || read_text("/proc/self/uid_map", umap, sizeof(umap)) ||
	    read_text("/proc/self/gid_map", gmap, sizeof(gmap)) || read_text("/proc/self/setgroups", sg, sizeof(sg)) ||
	    status_line(getpid(), "CapEff:\t", cap, sizeof(cap)) ||
	    status_line(getpid(), "NSpid:\t", nspid, sizeof(nspid)) ||
	    status_line(in_pid, "NSpid:\t", in_nspid, sizeof(in_nspid))) {
		fail("can't read what the test checks");
		goto kill_in;
	}

	test_daemon();
	test_waitsig();

	if (read_text("/proc/self/uid_map", s, sizeof(s)) || strcmp(s, umap))
		fail("uid_map is '%s', was '%s'", s, umap);
	if (read_text("/proc/self/gid_map", s, sizeof(s)) || strcmp(s, gmap))
		fail("gid_map is '%s', was '%s'", s, gmap);
	if (read_text("/proc/self/setgroups", s, sizeof(s)) || strcmp(s, sg))
		fail("setgroups is '%s', was '%s'", s, sg);
	if (status_line(getpid(), "CapEff:\t", s, sizeof(s)) || strcmp(s, cap))
		fail("CapEff is %s, was %s", s, cap);
	if (getresuid(&r, &e, &sv) || r || e || sv)
		fail("uids %u %u %u inside, not 0", r, e, sv);
	if (status_line(getpid(), "NSpid:\t", s, sizeof(s)) || strcmp(s, nspid))
		fail("NSpid is '%s', was '%s'", s, nspid);
	if (status_line(in_pid, "NSpid:\t", s, sizeof(s)) || strcmp(s, in_nspid))
		fail("the inside child's NSpid is '%s', was '%s'", s, in_nspid);
	if (!ns_ino_of(in_pid) || ns_ino_of(in_pid) != ns_ino_of(getpid()))
		fail("the inside child's user namespace is [%lu], the root's [%lu]", ns_ino_of(in_pid),
		     ns_ino_of(getpid()));
	pidfd_check(&pst);
	if (read(data[0], buf, 6) != 6 || memcmp(buf, "userns", 6))
		fail("the pipe's data");
	wr(to_in[1], 'c');
	if (rd(from_in[0]) != 'k')
		fail("the inside child's ids are wrong (its log line says how)");
	wr(to_out[1], 'c');
	if (rd(from_out[0]) != 'k')
		fail("the outside child sees the inside one wrong (its log line says how)");
kill_in:
	if (in_pid > 0) {
		kill(in_pid, SIGKILL);
		waitpid(in_pid, NULL, 0);
	}
kill_out:
	kill(out_pid, SIGKILL);
	waitpid(out_pid, NULL, 0);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
