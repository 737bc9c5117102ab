// SPDX-License-Identifier: GPL-2.0
/*
 * zombie_creds00: a zombie keeps the credentials it died with. Child U
 * takes other groups, gids and uids (real, effective, saved and fs ids all
 * different) and exits; child C stays root but drops CAP_NET_RAW from its
 * bounding, permitted and effective sets and exits. After restore
 * /proc/PID/status of each zombie shows the same Uid, Gid, Groups and
 * capability lines as before the dump.
 */
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "zdtmtst.h"

static const char *const keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };

/* The credential lines of a process's status, joined. */
static int creds_of(pid_t pid, char *buf, size_t size)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f))
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(line, keys[k], strlen(keys[k])) && n + strlen(line) < size) {
				strcpy(buf + n, line);
				n += strlen(line);
			}
	fclose(f);
	return 0;
}

static void become_user(void)
{
	gid_t groups[] = { 20001, 20002 };

	if (setgroups(2, groups) || setresgid(20010, 20011, 20012) || setresuid(20020, 20021, 20022))
		_exit(100);
	_exit(3);
}

static void drop_net_raw(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) || syscall(SYS_capget, &h, d))
		_exit(100);
	d[0].permitted &= ~(1u << CAP_NET_RAW);
	d[0].effective &= ~(1u << CAP_NET_RAW);
	d[0].inheritable = 0;
	if (syscall(SYS_capset, &h, d))
		_exit(101);
	_exit(4);
}

int main(int argc, char **argv)
{
	char before[2][2048], after[2048];
	pid_t pid[2];
	siginfo_t si;

	test_init(argc, argv);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			fail("fork");
			return 1;
		}
		if (pid[i] == 0) {
			if (i == 0)
				become_user();
			drop_net_raw();
		}
		if (waitid(P_PID, pid[i], &si, WEXITED | WNOWAIT) || si.si_status != 3 + i ||
		    creds_of(pid[i], before[i], sizeof(before[i]))) {
			fail("child %d did not end as it should (status %d)", i, si.si_status);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < 2; i++) {
		errno = 0;
		if (creds_of(pid[i], after, sizeof(after)) || strcmp(before[i], after))
			fail("zombie %d: credentials\n%swere\n%s", pid[i], after, before[i]);
		if (waitid(P_PID, pid[i], &si, WEXITED) || si.si_status != 3 + i)
			fail("zombie %d: exit status %d", pid[i], si.si_status);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
