// SPDX-License-Identifier: GPL-2.0
/*
 * Ending a process with a given wait status: a zombie of the restored tree,
 * or the helper that stands for a reaped process behind pidfds.
 *
 * An exit code or a plain signal is easy. The core-dump bit (WCOREDUMP,
 * 0x80) is set by the kernel only when a core was really written, so a
 * process that must show it dumps one: into a tmpfs mounted nowhere
 * (fsopen/fsmount) that it makes its root and cwd, with coredump_filter 0
 * so that only the ELF headers and notes are written. The tmpfs goes away
 * with the process. That works for a core_pattern that names a file,
 * relative or absolute (its directories are made in the tmpfs); a pattern
 * that pipes the core to a program ("|...") or hands it to a socket ("@...")
 * would hand a real crash report to the host's collector: then no core is
 * made and the bit is missing, which the restore sees (wait_zombies()) and
 * refuses.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "exit-status.h"
#include "log.h"
#include "proc_parse.h"

int read_core_pattern(int proc_fd, char *buf, size_t size)
{
	int n = read_file_at(proc_fd, "sys/kernel/core_pattern", buf, size);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

bool core_pattern_is_file(const char *pattern)
{
	return pattern[0] && pattern[0] != '|' && pattern[0] != '@';
}

/* mkdir -p of the directories of a pattern, absolute or relative (in the new root, also the cwd). */
static int make_pattern_dirs(const char *pattern)
{
	char path[PATH_MAX], *slash, *p;

	if (strlen(pattern) >= sizeof(path))
		return -ENAMETOOLONG;
	strcpy(path, pattern);
	slash = strrchr(path, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	if (strchr(path, '%'))
		return -EINVAL;		/* a directory named by a specifier: can't tell it in advance */
	for (p = path; *p == '/'; p++)
		;
	while (*p) {
		char *end = strchr(p, '/');

		if (end)
			*end = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		if (!end)
			break;
		*end = '/';
		for (p = end; *p == '/'; p++)
			;
	}
	return 0;
}

/* Root and cwd in a fresh tmpfs that no mount namespace holds; 0 or -errno. */
static int enter_scratch_root(const char *pattern)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	int ret;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "16m", 0) ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "1777", 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return -errno;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return -errno;
	if (fchdir(mnt) || chroot("."))
		return -errno;
	/* (a relative pattern is below the cwd, the same root) */
	ret = make_pattern_dirs(pattern);
	if (ret)
		return ret;
	return 0;
}

/*
 * No core at all: RLIMIT_CORE 0 stops a core written to a file only; the
 * kernel pipes one to a "|program" pattern whatever the limit (but 1), so
 * the task is made not dumpable, which no pattern gets past.
 */
static void forbid_core(void)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0);
}

/*
 * Ready to dump a core into a scratch root (the privileged part: fsopen and
 * chroot need criu's capabilities); false (nothing done) when it can't be
 * made there.
 */
static bool prepare_core(int proc_fd)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char pattern[PATH_MAX];
	int ret;

	ret = read_core_pattern(proc_fd, pattern, sizeof(pattern));
	if (ret || !core_pattern_is_file(pattern))
		return false;
	/* before the chroot: /proc is not there afterwards */
	ret = write_file_at(proc_fd, "self/coredump_filter", "0\n");
	if (ret)
		pr_warn("can't set coredump_filter: %s: the scratch core may not fit\n", strerror(-ret));
	ret = enter_scratch_root(pattern);
	if (ret) {
		/* (a core would go to criu's cwd) */
		pr_warn("can't make a scratch root for a core dump: %s\n", strerror(-ret));
		return false;
	}
	if (setrlimit(RLIMIT_CORE, &rl)) {
		getrlimit(RLIMIT_CORE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_CORE, &rl);
	}
	return true;
}

static uint64_t cap_set(const uint32_t *w, size_t n)
{
	return (n > 0 ? w[0] : 0) | (n > 1 ? (uint64_t)w[1] << 32 : 0);
}

/*
 * A zombie's dumped ids, groups and capabilities (criu's view: the stub is
 * in criu's user namespace), taken the way a process could have come by
 * them: the bounding set first, ids with the capabilities kept, then the
 * capability sets. What the kernel refuses shows in check_zombie_creds().
 */
static void take_creds(const CredsEntry *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};
	uint64_t bnd = cap_set(c->cap_bnd, c->n_cap_bnd), amb = cap_set(c->cap_amb, c->n_cap_amb);
	uint64_t prm = cap_set(c->cap_prm, c->n_cap_prm), eff = cap_set(c->cap_eff, c->n_cap_eff);
	uint64_t inh = cap_set(c->cap_inh, c->n_cap_inh);
	gid_t *groups = malloc((c->n_groups + 1) * sizeof(*groups));

	for (int cap = 0; cap < 64; cap++)
		if (!(bnd & (1ULL << cap)))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	for (size_t i = 0; groups && i < c->n_groups; i++)
		groups[i] = c->groups[i];
	if (!groups || setgroups(c->n_groups, groups) || setresgid(c->gid, c->egid, c->sgid) ||
	    setresuid(c->uid, c->euid, c->suid))
		pr_warn("a zombie can't take its ids: %s\n", strerror(errno));
	free(groups);
	setfsgid(c->fsgid);
	setfsuid(c->fsuid);
	d[0].permitted = (uint32_t)prm;
	d[1].permitted = (uint32_t)(prm >> 32);
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	if (syscall(SYS_capset, &h, d))
		pr_warn("a zombie can't take its capabilities: %s\n", strerror(errno));
	for (int cap = 0; cap < 64; cap++)
		if (amb & (1ULL << cap))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

int check_zombie_creds(int proc_fd, pid_t pid, const char *what, const CredsEntry *c)
{
	struct proc_status st = {};
	char dir[32];
	int ret, dfd;
	bool same;

	snprintf(dir, sizeof(dir), "%d", pid);
	dfd = openat(proc_fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pr_fail_errno("can't open /proc/%d", pid);
	ret = parse_pid_status(dfd, &st);
	close(dfd);
	if (ret)
		return pr_fail(ret, "can't read the status of %s: %s\n", what, strerror(-ret));
	same = st.uid[0] == c->uid && st.uid[1] == c->euid && st.uid[2] == c->suid && st.uid[3] == c->fsuid &&
	       st.gid[0] == c->gid && st.gid[1] == c->egid && st.gid[2] == c->sgid && st.gid[3] == c->fsgid &&
	       st.cap_inh == cap_set(c->cap_inh, c->n_cap_inh) && st.cap_prm == cap_set(c->cap_prm, c->n_cap_prm) &&
	       st.cap_eff == cap_set(c->cap_eff, c->n_cap_eff) && st.cap_bnd == cap_set(c->cap_bnd, c->n_cap_bnd) &&
	       st.cap_amb == cap_set(c->cap_amb, c->n_cap_amb) && (size_t)st.ngroups == c->n_groups;
	for (size_t i = 0; same && i < c->n_groups; i++)
		same = st.groups[i] == c->groups[i];
	if (!same)
		ret = pr_fail(-EPERM,
			      "%s came back with other credentials than dumped (uid %u, gid %u, capabilities %#llx; "
			      "dumped uid %u, gid %u, capabilities %#llx): criu could not give them back\n",
			      what, st.uid[0], st.gid[0], (unsigned long long)st.cap_eff, c->uid, c->gid,
			      (unsigned long long)cap_set(c->cap_eff, c->n_cap_eff));
	proc_status_free(&st);
	return ret;
}

int check_exit_status(int proc_fd, const char *what, int got, int want)
{
	char pattern[PATH_MAX] = "";

	if (got == want)
		return 0;
	if ((got ^ want) != WCOREFLAG)
		return pr_fail(-EIO, "%s ended with wait status 0x%x, not the dumped 0x%x\n", what, got, want);
	read_core_pattern(proc_fd, pattern, sizeof(pattern));
	return pr_fail(-EOPNOTSUPP,
		       "%s: the dumped wait status 0x%x has the core-dump bit, which only a real core dump sets, "
		       "and none could be made here (core_pattern '%s'%s)\n",
		       what, want, pattern,
		       core_pattern_is_file(pattern) ? "" : ": a program or socket would receive a crash report");
}

void __attribute__((noreturn)) exit_with_status(int proc_fd, int status, const CredsEntry *creds)
{
	bool core = WIFSIGNALED(status) && WCOREDUMP(status) && prepare_core(proc_fd);

	if (creds)
		take_creds(creds);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		sigset_t set;

		if (core)
			prctl(PR_SET_DUMPABLE, 1);	/* new ids made it undumpable */
		else
			forbid_core();	/* (without the core the status lacks its bit: check_exit_status() says why) */
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);	/* not raise(): glibc's cached tid may be criu's */
	}
	/* (a signal that does not end a process falls through: exit 0) */
	_exit(WEXITSTATUS(status));
}
