// SPDX-License-Identifier: GPL-2.0
/*
 * creds_container: the creds a container runtime gives its init, and a
 * thread whose creds differ, come back exactly. A child process sets, in its
 * main thread, as a runtime does: a bounding set of ten capabilities, uid
 * and gid 1000 with supplementary groups, inheritable NET_BIND_SERVICE and
 * NET_RAW, the ambient NET_BIND_SERVICE, securebits NOROOT, KEEP_CAPS and
 * NO_CAP_AMBIENT_RAISE each with its lock, a permitted set of four
 * capabilities and an effective one of two, and no_new_privs. A second
 * thread of it sets other creds for itself alone (raw syscalls: glibc's
 * wrappers would change every thread): uid 2000, no capabilities, CAP_SYS_BOOT
 * out of its bounding set, only SECBIT_NO_SETUID_FIXUP. Each thread's
 * /proc/self/task/TID/status lines (Uid, Gid, Groups, CapInh, CapPrm,
 * CapEff, CapBnd, CapAmb, NoNewPrivs) and securebits must be the same after
 * restore.
 */
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

#define SNAP_LEN 1024

struct snap {
	char status[SNAP_LEN];
	int secbits;
};

struct shared {
	struct snap before[2], after[2];	/* [0] main thread, [1] the other */
	int ready, done, err;
};

static struct shared *sh;
static int req[2], resp[2];

static void snap(struct snap *s)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
					     "CapAmb:", "NoNewPrivs:" };
	char path[64], line[256];
	FILE *f;

	s->status[0] = 0;
	s->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    strlen(s->status) + strlen(line) < SNAP_LEN)
				strcat(s->status, line);
	fclose(f);
}

static int capset_raw(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d);
}

#define C(x) (1ULL << (x))

/* the main thread: a container init's creds */
static int set_init_creds(void)
{
	uint64_t keep = C(CAP_CHOWN) | C(CAP_DAC_OVERRIDE) | C(CAP_FOWNER) | C(CAP_SETUID) | C(CAP_SETGID) |
			C(CAP_SETPCAP) | C(CAP_NET_BIND_SERVICE) | C(CAP_KILL) | C(CAP_AUDIT_WRITE) | C(CAP_NET_RAW);
	uint64_t inh = C(CAP_NET_BIND_SERVICE) | C(CAP_NET_RAW);
	gid_t groups[] = { 1000, 1001, 27 };

	for (int cap = 0; cap < 64; cap++)
		if (!(keep & C(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return 1;
	if (syscall(SYS_setgroups, 3, groups) || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return 2;
	if (syscall(SYS_setresgid, 1000, 1000, 1000) || syscall(SYS_setresuid, 1000, 1000, 1000))
		return 3;
	/* the effective set was cleared by the uid change; permitted is kept (KEEP_CAPS) */
	if (capset_raw(keep, keep, inh))
		return 4;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0))
		return 5;
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0))
		return 6;
	if (capset_raw(C(CAP_CHOWN) | C(CAP_NET_BIND_SERVICE),
		       C(CAP_CHOWN) | C(CAP_NET_BIND_SERVICE) | C(CAP_NET_RAW) | C(CAP_KILL), inh))
		return 7;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return 8;
	return 0;
}

static void *other_thread(void *arg)
{
	char c;

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) ||
	    syscall(SYS_setresgid, 3000, 3000, 3000) || syscall(SYS_setresuid, 2000, 2000, 2000) ||
	    capset_raw(0, 0, 0))
		sh->err = 20;
	c = 'r';
	if (write(resp[1], &c, 1) != 1)
		return NULL;
	while (read(req[0], &c, 1) == 1) {
		snap(c == 'b' ? &sh->before[1] : &sh->after[1]);
		if (write(resp[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static int ask(char what)
{
	char c = what;

	return write(req[1], &c, 1) == 1 && read(resp[0], &c, 1) == 1 ? 0 : -1;
}

static void child(void)
{
	pthread_t th;
	char c;
	int r;

	if (pipe(req) || pipe(resp) || pthread_create(&th, NULL, other_thread, NULL) || read(resp[0], &c, 1) != 1)
		_exit(99);
	r = set_init_creds();
	if (r || sh->err)
		_exit(100 + (r ?: sh->err));
	snap(&sh->before[0]);
	if (ask('b'))
		_exit(98);
	sh->ready = 1;
	test_waitsig();
	snap(&sh->after[0]);
	if (ask('a'))
		_exit(97);
	sh->done = 1;
	_exit(0);
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	test_init(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0)
		child();
	while (!sh->ready) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fail("the child failed to set up (exit %d)", WEXITSTATUS(status));
			return 1;
		}
		usleep(1000);
	}
	if (!strstr(sh->before[0].status, "CapAmb:\t0000000000000400") || sh->before[0].secbits != 0xf3 ||
	    !strstr(sh->before[1].status, "Uid:\t2000") || sh->before[1].secbits != SECBIT_NO_SETUID_FIXUP) {
		fail("the creds are not the ones set: main %s secbits %#x; other %s secbits %#x", sh->before[0].status,
		     sh->before[0].secbits, sh->before[1].status, sh->before[1].secbits);
		return 1;
	}
	test_daemon();
	test_waitsig();
	kill(pid, SIGTERM);
	if (test_wait_child(pid, 30, &status) || !WIFEXITED(status) || WEXITSTATUS(status) || !sh->done) {
		fail("the child did not report after restore (status %#x)", status);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		if (strcmp(sh->before[i].status, sh->after[i].status))
			fail("thread %d: status before:\n%safter:\n%s", i, sh->before[i].status, sh->after[i].status);
		if (sh->before[i].secbits != sh->after[i].secbits)
			fail("thread %d: securebits %#x, %#x before", i, sh->after[i].secbits, sh->before[i].secbits);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
