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
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "exit-status.h"
#include "log.h"

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
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) ||
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

/* Ready to dump a core into a scratch root; false (nothing done) when it can't be made there. */
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
	prctl(PR_SET_DUMPABLE, 1);
	return true;
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

void __attribute__((noreturn)) exit_with_status(int proc_fd, int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		sigset_t set;

		/* (without the core the status lacks its bit: check_exit_status() says why) */
		if (!WCOREDUMP(status) || !prepare_core(proc_fd))
			forbid_core();
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);	/* not raise(): glibc's cached tid may be criu's */
	}
	/* (a signal that does not end a process falls through: exit 0) */
	_exit(WEXITSTATUS(status));
}
