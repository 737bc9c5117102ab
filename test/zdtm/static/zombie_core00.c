// SPDX-License-Identifier: GPL-2.0
/*
 * zombie_core00: wait statuses with the core-dump bit. Child Z dumped core
 * on SIGABRT and is left a zombie; child R dumped core on SIGSEGV and was
 * reaped, but the test keeps a pidfd of it. Each child writes its core into
 * a tmpfs mounted nowhere, so nothing is left behind. After restore: Z is
 * still a zombie whose waitid() says CLD_DUMPED and whose stat shows 0x86,
 * and R's pidfd reads 0x8b from PIDFD_INFO_EXIT.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_EXIT 8

/* In the child: root and cwd in a detached tmpfs, any core size, then the signal. */
static void __attribute__((noreturn)) die_with_core(int sig)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int fs, mnt;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		_exit(100);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0 || fchdir(mnt) || chroot(".") || setrlimit(RLIMIT_CORE, &rl))
		_exit(101);
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	_exit(102);
}

static int stat_exit_code(pid_t pid)
{
	char path[64], buf[1024], *p;
	int field = 3, code = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	/* field 52 is the last one */
	for (p += 2; field < 52 && (p = strchr(p, ' ')); field++)
		p++;
	if (p && sscanf(p, "%d", &code) != 1)
		code = -1;
	return code;
}

static void check_zombie(pid_t z, const char *when)
{
	siginfo_t si = { 0 };
	int code;

	if (waitid(P_PID, z, &si, WEXITED | WNOWAIT)) {
		fail("%s: waitid(%d)", when, z);
		return;
	}
	errno = 0;
	if (si.si_code != CLD_DUMPED || si.si_status != SIGABRT)
		fail("%s: zombie %d: si_code %d si_status %d, expected CLD_DUMPED (%d) and SIGABRT", when, z,
		     si.si_code, si.si_status, CLD_DUMPED);
	code = stat_exit_code(z);
	if (code != (SIGABRT | WCOREFLAG))
		fail("%s: zombie %d: stat exit_code 0x%x, expected 0x%x", when, z, code, SIGABRT | WCOREFLAG);
}

static void check_reaped(int fd, const char *when)
{
	struct pidfd_info info = { .mask = PIDFD_INFO_EXIT };

	if (ioctl(fd, PIDFD_GET_INFO, &info) || !(info.mask & PIDFD_INFO_EXIT)) {
		fail("%s: no PIDFD_INFO_EXIT", when);
		return;
	}
	errno = 0;
	if (info.exit_code != (SIGSEGV | WCOREFLAG))
		fail("%s: reaped child's status 0x%x, expected 0x%x", when, info.exit_code, SIGSEGV | WCOREFLAG);
}

int main(int argc, char **argv)
{
	int rfd, status;
	pid_t z, r;

	test_init(argc, argv);
	signal(SIGCHLD, SIG_DFL);
	z = fork();
	if (z == 0)
		die_with_core(SIGABRT);
	r = fork();
	if (r == 0)
		die_with_core(SIGSEGV);
	rfd = sys_pidfd_open(r, 0);	/* a zombie until the waitpid() below */
	if (z < 0 || r < 0 || rfd < 0) {
		fail("fork/pidfd_open");
		return 1;
	}
	if (waitpid(r, &status, 0) != r) {
		fail("waitpid");
		return 1;
	}
	check_zombie(z, "before dump");
	check_reaped(rfd, "before dump");
	if (test_failed())
		return 1;

	test_daemon();
	test_waitsig();

	check_zombie(z, "after restore");
	check_reaped(rfd, "after restore");
	if (waitpid(z, &status, 0) != z || !WIFSIGNALED(status) || !WCOREDUMP(status))
		fail("reaping zombie %d: status 0x%x, expected SIGABRT with a core", z, status);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
