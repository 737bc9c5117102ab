// SPDX-License-Identifier: GPL-2.0
/*
 * creds00: process attributes the restore sets late survive it, in a child
 * that changed them before the dump:
 *  - real/effective/saved/fs uids and gids, supplementary groups,
 *    capabilities (a reduced permitted/effective set, an inheritable bit, a
 *    smaller bounding set), securebits;
 *  - rlimits lowered below criu's (soft and hard), the nice value,
 *    personality, umask, PR_SET_PDEATHSIG, the child-subreaper flag, the
 *    audit login uid.
 * The child reports everything through a shared page before and after.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "zdtmtst.h"

struct attrs {
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[8];
	uint32_t cap_eff[2], cap_prm[2], cap_inh[2];
	unsigned long long cap_bnd;
	int secbits;
	struct rlimit nofile, stack, core;
	int nice;
	int persona;
	mode_t umask;
	int pdeathsig;
	int subreaper;
	long long loginuid;	/* -2: no /proc/self/loginuid */
};

struct shared {
	struct attrs before, after;
	volatile int ready, done;
};

static void snap(struct attrs *a)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(a, 0, sizeof(*a));
	getresuid(&a->ruid, &a->euid, &a->suid);
	getresgid(&a->rgid, &a->egid, &a->sgid);
	a->fsuid = setfsuid(-1);
	a->fsgid = setfsgid(-1);
	a->ngroups = getgroups(8, a->groups);
	syscall(SYS_capget, &h, d);
	for (int i = 0; i < 2; i++) {
		a->cap_eff[i] = d[i].effective;
		a->cap_prm[i] = d[i].permitted;
		a->cap_inh[i] = d[i].inheritable;
	}
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c) == 1)
			a->cap_bnd |= 1ULL << c;
	a->secbits = prctl(PR_GET_SECUREBITS);
	getrlimit(RLIMIT_NOFILE, &a->nofile);
	getrlimit(RLIMIT_STACK, &a->stack);
	getrlimit(RLIMIT_CORE, &a->core);
	errno = 0;
	a->nice = getpriority(PRIO_PROCESS, 0);
	a->persona = personality(0xffffffff);
	a->umask = umask(0);
	umask(a->umask);
	prctl(PR_GET_PDEATHSIG, &a->pdeathsig);
	prctl(PR_GET_CHILD_SUBREAPER, &a->subreaper);
	a->loginuid = -2;
	FILE *f = fopen("/proc/self/loginuid", "re");
	if (f) {
		if (fscanf(f, "%lld", &a->loginuid) != 1)
			a->loginuid = -3;
		fclose(f);
	}
}

static int change(void)
{
	gid_t groups[] = { 3000, 3001 };
	struct rlimit nofile = { 512, 900 }, core = { 0, 4096 };
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	if (setrlimit(RLIMIT_NOFILE, &nofile) || setrlimit(RLIMIT_CORE, &core))
		return 1;
	int lfd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (lfd >= 0) {
		if (write(lfd, "4242", 4) != 4)
			return 11;
		close(lfd);
	}
	if (setpriority(PRIO_PROCESS, 0, 7))
		return 2;
	if (personality(ADDR_NO_RANDOMIZE) < 0)
		return 3;
	umask(027);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) || prctl(PR_SET_CHILD_SUBREAPER, 1))
		return 4;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT) || prctl(PR_CAPBSET_DROP, CAP_MKNOD))
		return 6;
	if (setgroups(2, groups))
		return 7;
	if (prctl(PR_SET_KEEPCAPS, 1))
		return 8;
	if (setresgid(2000, 2001, 2002) || setresuid(1000, 1001, 1002))
		return 9;
	/* keep a few capabilities: permitted and effective, one inheritable */
	d[0].permitted = (1u << CAP_NET_BIND_SERVICE) | (1u << CAP_CHOWN) | (1u << CAP_KILL);
	d[0].effective = (1u << CAP_NET_BIND_SERVICE) | (1u << CAP_KILL);
	d[0].inheritable = 1u << CAP_KILL;
	if (syscall(SYS_capset, &h, d))
		return 10;
	return 0;
}

int main(int argc, char **argv)
{
	struct shared *sh;
	int status;
	pid_t child;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		int r = change();

		if (r)
			_exit(100 + r);
		snap(&sh->before);
		sh->ready = 1;
		test_waitsig();
		snap(&sh->after);
		sh->done = 1;
		_exit(0);
	}
	for (int i = 0; !sh->ready; i++) {
		if (waitpid(child, &status, WNOHANG) == child) {
			fail("the child failed to set up (exit %d)", WEXITSTATUS(status));
			return 1;
		}
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	kill(child, SIGTERM);
	if (test_wait_child(child, 20, &status) || !WIFEXITED(status) || WEXITSTATUS(status) || !sh->done) {
		fail("the child did not report after restore");
		return 1;
	}
	const struct attrs *b = &sh->before, *a = &sh->after;

	errno = 0;
#define SAME(field, fmt)                                                                           \
	if (a->field != b->field)                                                                  \
		fail(#field " " fmt " after restore, was " fmt, a->field, b->field);
	SAME(ruid, "%u") SAME(euid, "%u") SAME(suid, "%u") SAME(fsuid, "%u");
	SAME(rgid, "%u") SAME(egid, "%u") SAME(sgid, "%u") SAME(fsgid, "%u");
	SAME(ngroups, "%d");
	if (memcmp(a->groups, b->groups, sizeof(a->groups)))
		fail("supplementary groups differ");
	SAME(cap_eff[0], "%#x") SAME(cap_eff[1], "%#x") SAME(cap_prm[0], "%#x") SAME(cap_prm[1], "%#x");
	SAME(cap_inh[0], "%#x") SAME(cap_inh[1], "%#x");
	SAME(cap_bnd, "%#llx");
	SAME(secbits, "%#x");
	SAME(nofile.rlim_cur, "%lu") SAME(nofile.rlim_max, "%lu") SAME(core.rlim_cur, "%lu");
	SAME(core.rlim_max, "%lu") SAME(stack.rlim_cur, "%lu");
	SAME(loginuid, "%lld");
	SAME(nice, "%d") SAME(persona, "%#x") SAME(umask, "%o") SAME(pdeathsig, "%d") SAME(subreaper, "%d");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
