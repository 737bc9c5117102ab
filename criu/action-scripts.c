// SPDX-License-Identifier: GPL-2.0
/* --action-script: run the user's programs at CRIU's action points (action-scripts.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action-scripts.h"
#include "common.h"
#include "cr_options.h"

#undef LOG_PREFIX
#define LOG_PREFIX "scripts: "

static const char *const action_names[ACT_MAX] = {
	[ACT_PRE_STREAM] = "pre-stream",
	[ACT_PRE_DUMP] = "pre-dump",
	[ACT_POST_DUMP] = "post-dump",
	[ACT_PRE_RESTORE] = "pre-restore",
	[ACT_POST_RESTORE] = "post-restore",
	[ACT_NET_LOCK] = "network-lock",
	[ACT_NET_UNLOCK] = "network-unlock",
	[ACT_SETUP_NS] = "setup-namespaces",
	[ACT_POST_SETUP_NS] = "post-setup-namespaces",
	[ACT_POST_RESUME] = "post-resume",
	[ACT_PRE_RESUME] = "pre-resume",
	[ACT_ORPHAN_PTS_MASTER] = "orphan-pts-master",
	[ACT_STATUS_READY] = "status-ready",
	[ACT_QUERY_EXT_FILES] = "query-ext-files",
};

/* Process-wide: set by cr-service.c while a request that asked for notifications runs. */
int (*script_notify)(enum script_action act, pid_t root_pid, int fd);

const char *script_action_name(enum script_action act)
{
	return act < ACT_MAX ? action_names[act] : "unknown";
}

/* In the child: the environment, stdin from /dev/null, stdout and stderr to the log, no other fd. */
static void __attribute__((noreturn)) exec_script(const char *path, const char *action, pid_t criu, int img_dfd,
						  pid_t root_pid)
{
	char buf[64];
	sigset_t none;
	int log = log_get_fd(), null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setenv("CRTOOLS_SCRIPT_ACTION", action, 1);
	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", criu, img_dfd);
	setenv("CRTOOLS_IMAGE_DIR", buf, 1);
	if (root_pid > 0) {
		snprintf(buf, sizeof(buf), "%d", root_pid);
		setenv("CRTOOLS_INIT_PID", buf, 1);
	} else {
		unsetenv("CRTOOLS_INIT_PID");
	}
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
	    dup2(log, STDERR_FILENO) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	execl(path, path, (char *)NULL);
	dprintf(STDERR_FILENO, "Error: can't run action script %s: %s\n", path, strerror(errno));
	_exit(127);
}

static int run_one(const char *path, const char *action, int img_dfd, pid_t root_pid)
{
	pid_t criu = getpid(), pid;
	int status;

	pr_debug("running %s for %s\n", path, action);
	pid = fork();
	if (pid < 0)
		return pr_fail_errno("can't fork for action script %s", path);
	if (pid == 0)
		exec_script(path, action, criu, img_dfd, root_pid);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return pr_fail_errno("waiting for action script %s", path);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		pr_err("action script %s (%s) exited with %d\n", path, action, WEXITSTATUS(status));
	else
		pr_err("action script %s (%s) was killed by signal %d\n", path, action, WTERMSIG(status));
	return -ECANCELED;
}

int run_scripts(enum script_action act, int img_dfd, pid_t root_pid)
{
	const char *action = script_action_name(act);
	int ret = 0;

	if (script_notify) {
		ret = script_notify(act, root_pid, -1);
		if (ret)
			return ret < 0 ? ret : -ECANCELED;
	}
	if (!opts.nr_scripts)
		return 0;
	pr_info("running the %s scripts\n", action);
	for (int i = opts.nr_scripts - 1; i >= 0; i--)
		if (run_one(opts.scripts[i], action, img_dfd, root_pid))
			ret = -ECANCELED;
	return ret;
}

int notify_client_fd(enum script_action act, int fd)
{
	int ret;

	if (!script_notify)
		return -ENOTCONN;
	ret = script_notify(act, 0, fd);
	return ret < 0 ? ret : ret ? -ECANCELED : 0;
}
