// SPDX-License-Identifier: GPL-2.0
/*
 * userns-probe: measures what the running kernel lets a restore do around
 * user namespaces (Documentation/namespaces.md, "User namespaces"). Run as
 * root in a pid namespace of its own, so that the pids it picks are free:
 *
 *   cc -O1 -o /tmp/userns-probe scripts/userns-probe.c -lpthread
 *   unshare --pid --fork --mount-proc /tmp/userns-probe
 *
 * Each line is one attempt and what it gave ("ok" or the error); the letters
 * are the ones the document uses. It changes nothing outside the processes
 * it makes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t clone3_tid(uint64_t flags, pid_t *tids, int n)
{
	struct clone_args a = { .flags = flags, .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)tids,
				.set_tid_size = (uint64_t)n };
	return syscall(SYS_clone3, &a, sizeof(a));
}

static void report(const char *what, long r)
{
	printf("%-78s %s\n", what, r < 0 ? strerror(errno) : "ok");
	fflush(stdout);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	close(fd);
	return r < 0 ? -1 : 0;
}

static int set_maps(pid_t pid, const char *map, const char *setgroups)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/uid_map", pid);
	if (write_file(p, map))
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/setgroups", pid);
	if (setgroups && write_file(p, setgroups))
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/gid_map", pid);
	return write_file(p, map);
}

static int wait_ok(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void *idle(void *a)
{
	(void)a;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	int go[2], sp[2], secret = open("/etc/hostname", O_RDONLY);
	pid_t me = getpid(), c, tids[2];
	char buf[128];
	long r;

	/* A: criu makes a task in a new user and pid namespace with set_tid {1, X} */
	tids[0] = 1;
	tids[1] = 31000;
	c = clone3_tid(CLONE_NEWUSER | CLONE_NEWPID, tids, 2);
	if (c == 0)
		_exit(getpid() == 1 ? 0 : 1);
	report("A clone3(NEWUSER|NEWPID, set_tid {1, 31000}) from root of the parent userns", c < 0 ? -1 : c);
	if (c > 0)
		report("A  ... child got pid 31000 outside, 1 inside", c == 31000 && !wait_ok(c) ? 0 : (errno = EINVAL, -1));

	/* B: new user namespace only, pid chosen in criu's pid namespace */
	tids[0] = 31010;
	c = clone3_tid(CLONE_NEWUSER, tids, 1);
	if (c == 0)
		_exit(0);
	report("B clone3(NEWUSER, set_tid {31010}) (pid namespace stays the parent's)", c < 0 ? -1 : 0);
	if (c > 0)
		wait_ok(c);

	/* C..: a child that is in a user namespace (maps written by us), then tries things */
	if (pipe(go) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp))
		return 1;
	c = clone3_tid(CLONE_NEWUSER, (tids[0] = 31020, tids), 1);
	if (c == 0) {
		char ok;
		pid_t g;
		int pfd, fd;

		if (read(go[0], &ok, 1) != 1)
			_exit(1);
		printf("   in the userns: uid %d, /proc/self/uid_map: ", getuid());
		fflush(stdout);
		system("cat /proc/self/uid_map | tr -s ' '");
		tids[0] = 31030;
		g = clone3_tid(0, tids, 1);
		if (g == 0)
			_exit(0);
		report("C  stub in the userns: clone3(set_tid {31030}) in the parent-owned pid ns", g < 0 ? -1 : 0);
		if (g > 0)
			wait_ok(g);
		tids[0] = 1;
		g = clone3_tid(CLONE_NEWPID, tids, 1);
		if (g == 0) {
			pid_t h;

			tids[0] = 7;
			h = clone3_tid(0, tids, 1);
			if (h == 0)
				_exit(0);
			report("D  ... in a pid ns the userns owns: clone3(set_tid {7})", h < 0 ? -1 : 0);
			if (h > 0)
				wait_ok(h);
			tids[0] = 8;
			tids[1] = 31040;
			h = clone3_tid(0, tids, 2);
			if (h == 0)
				_exit(0);
			report("D  ... same, set_tid {8, 31040} (outer level owned by the parent userns)", h < 0 ? -1 : 0);
			if (h > 0)
				wait_ok(h);
			_exit(0);
		}
		report("D  stub in the userns: clone3(NEWPID, set_tid {1})", g < 0 ? -1 : 0);
		if (g > 0)
			wait_ok(g);
		pfd = syscall(SYS_pidfd_open, me, 0);
		report("E  stub in the userns: pidfd_open(criu)", pfd);
		fd = pfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pfd, secret, 0);
		report("E  stub in the userns: pidfd_getfd(criu's fd)", fd);
		snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", me, secret);
		fd = open(buf, O_RDONLY);
		report("F  stub in the userns: open(/proc/<criu>/fd/N)", fd);
		{
			struct msghdr mh = {};
			char cb[CMSG_SPACE(sizeof(int))], d;
			struct iovec io = { &d, 1 };
			struct cmsghdr *cm;

			mh.msg_iov = &io;
			mh.msg_iovlen = 1;
			mh.msg_control = cb;
			mh.msg_controllen = sizeof(cb);
			r = recvmsg(sp[1], &mh, 0);
			cm = CMSG_FIRSTHDR(&mh);
			fd = r > 0 && cm && cm->cmsg_type == SCM_RIGHTS ? *(int *)CMSG_DATA(cm) : -1;
			report("G  stub in the userns: an fd of criu's over SCM_RIGHTS", fd < 0 ? (errno = EBADF, -1) : 0);
		}
		{
			pthread_t th;
			char p[64];
			int ufd;

			snprintf(p, sizeof(p), "/proc/%d/ns/user", me);
			ufd = open(p, O_RDONLY);
			pthread_create(&th, NULL, idle, NULL);
			r = ufd < 0 ? -1 : setns(ufd, CLONE_NEWUSER);
			report("H  task in the userns (two threads): setns() back into criu's, its ancestor", r);
		}
		_exit(0);
	}
	report("C  clone3(NEWUSER, set_tid {31020})", c < 0 ? -1 : 0);
	if (c < 0)
		return 1;
	r = set_maps(c, "0 100000 65536", "deny");
	report("I  controller writes uid_map, setgroups deny, gid_map of the new userns", r);
	r = set_maps(c, "0 200000 1", NULL);
	report("I  ... and writes uid_map a second time", r);
	{
		struct msghdr mh = {};
		char cb[CMSG_SPACE(sizeof(int))], d = 'x';
		struct iovec io = { &d, 1 };
		struct cmsghdr *cm;

		mh.msg_iov = &io;
		mh.msg_iovlen = 1;
		mh.msg_control = cb;
		mh.msg_controllen = sizeof(cb);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(cm) = secret;
		sendmsg(sp[0], &mh, 0);
	}
	r = ptrace(PTRACE_SEIZE, c, 0, 0);
	report("J  criu: PTRACE_SEIZE of a task in the child userns", r);
	if (!r) {
		int st;

		ptrace(PTRACE_INTERRUPT, c, 0, 0);
		waitpid(c, &st, __WALL);
		ptrace(PTRACE_DETACH, c, 0, 0);
	}
	if (write(go[1], "g", 1) != 1)
		return 1;
	wait_ok(c);

	/* K: a stub of criu's userns joins a userns made by another task, then forks with set_tid */
	c = clone3_tid(CLONE_NEWUSER, (tids[0] = 31050, tids), 1);
	if (c == 0) {
		pause();
		_exit(0);
	}
	set_maps(c, "0 0 4294967295", "allow");
	{
		pid_t k = fork();

		if (k == 0) {
			int pfd = syscall(SYS_pidfd_open, c, 0);
			pid_t g;

			r = setns(pfd, CLONE_NEWUSER);
			report("K  single-threaded stub: setns(pidfd of the userns' task, CLONE_NEWUSER)", r);
			tids[0] = 31060;
			g = clone3_tid(0, tids, 1);
			if (g == 0)
				_exit(0);
			report("K  ... then clone3(set_tid {31060}) in criu's pid ns (identity map)", g < 0 ? -1 : 0);
			if (g > 0)
				wait_ok(g);
			_exit(0);
		}
		wait_ok(k);
	}
	kill(c, SIGKILL);
	wait_ok(c);

	/* H2, L, S: a userns with a partial map and setgroups deny, joined by stubs of criu's */
	c = clone3_tid(CLONE_NEWUSER, (tids[0] = 31070, tids), 1);
	if (c == 0) {
		pause();
		_exit(0);
	}
	set_maps(c, "0 100000 65536", "deny");
	{
		pid_t k = fork();

		if (k == 0) {
			pthread_t th;
			int pfd = syscall(SYS_pidfd_open, c, 0);

			pthread_create(&th, NULL, idle, NULL);
			r = setns(pfd, CLONE_NEWUSER);
			report("H2 multi-threaded stub: setns(pidfd, CLONE_NEWUSER) into a child userns", r);
			_exit(0);
		}
		wait_ok(k);
	}
	{
		int lp[2], back[2];
		pid_t k;

		if (pipe(lp) || pipe(back))
			return 1;
		k = fork();
		if (k == 0) {
			int pfd = syscall(SYS_pidfd_open, c, 0);
			pid_t g;
			char x;

			r = setns(pfd, CLONE_NEWUSER);
			r = r ?: setresgid(0, 0, 0);
			r = r ?: setresuid(0, 0, 0);
			report("S  after setns into it: setresgid/setresuid(0) (mapped to 100000)", r);
			printf("   now uid %d gid %d\n", getuid(), getgid());
			r = setgroups(0, NULL);
			report("S  ... setgroups(0, NULL) with setgroups deny", r);
			if (write(lp[1], "x", 1) != 1 || read(back[0], &x, 1) != 1)
				_exit(1);
			g = fork();
			if (g == 0)
				_exit(0);
			report("L  task in the userns forks after criu wrote ns_last_pid = 31099: got 31100",
			       g == 31100 ? 0 : (errno = EINVAL, -1));
			if (g > 0)
				wait_ok(g);
			_exit(0);
		} else {
			char x;

			if (read(lp[0], &x, 1) != 1)
				return 1;
			r = write_file("/proc/sys/kernel/ns_last_pid", "31099");
			report("L  criu (parent userns, same pid ns) writes ns_last_pid", r);
			if (write(back[1], "x", 1) != 1)
				return 1;
			wait_ok(k);
		}
	}
	kill(c, SIGKILL);
	wait_ok(c);
	return 0;
}
