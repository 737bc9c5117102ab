// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp_refused: a task under a seccomp filter (one that allows every
 * syscall). criu does not restore seccomp yet, so the dump must refuse the
 * tree and leave it running; after the refused dump the filter is still in
 * place (/proc/self/status Seccomp: 2) and the task works.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static int seccomp_mode(void)
{
	char line[256];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

int main(int argc, char **argv)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		fail("can't install a seccomp filter");
		return 1;
	}
	if (seccomp_mode() != 2) {
		fail("Seccomp is %d before the dump, expected 2", seccomp_mode());
		return 1;
	}
	test_daemon();
	test_waitsig();
	errno = 0;
	if (seccomp_mode() != 2)
		fail("Seccomp is %d after the refused dump, expected 2", seccomp_mode());
	if (getpid() <= 0)
		fail("getpid() fails under the filter");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
