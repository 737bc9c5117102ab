/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --action-script: programs run at fixed points of dump and restore, with
 * CRIU's action names and environment (Documentation/criu.txt, ACTION SCRIPTS).
 */
#ifndef CRIU_ACTION_SCRIPTS_H
#define CRIU_ACTION_SCRIPTS_H

#include <sys/types.h>

/* CRIU's actions; the ones this criu reaches are run, see criu.txt for which and when. */
enum script_action {
	ACT_PRE_STREAM,
	ACT_PRE_DUMP,
	ACT_POST_DUMP,
	ACT_PRE_RESTORE,
	ACT_POST_RESTORE,
	ACT_NET_LOCK,
	ACT_NET_UNLOCK,
	ACT_SETUP_NS,
	ACT_POST_SETUP_NS,
	ACT_POST_RESUME,
	ACT_PRE_RESUME,
	ACT_ORPHAN_PTS_MASTER,
	ACT_STATUS_READY,
	ACT_QUERY_EXT_FILES,
	ACT_MAX
};

/* "pre-dump", "post-restore", ...: the value of CRTOOLS_SCRIPT_ACTION */
const char *script_action_name(enum script_action act);

/*
 * Run every opts.scripts for act (the last one given first, as CRIU does),
 * each with CRTOOLS_SCRIPT_ACTION, CRTOOLS_IMAGE_DIR (/proc/<criu>/fd/<img_dfd>)
 * and, when root_pid > 0, CRTOOLS_INIT_PID; stdout and stderr go to the log.
 * Every script runs even if one fails. 0, or -ECANCELED when one failed
 * (logged), after script_notify (if set) said 0.
 */
int run_scripts(enum script_action act, int img_dfd, pid_t root_pid);

/*
 * RPC mode (cr-service.c): called before the scripts of each action, with
 * the restored root's pid or 0 (CRIU's notify message) and an fd to pass
 * along (SCM_RIGHTS) or -1; non-zero fails the action. NULL outside an RPC
 * request that asked for notifications.
 */
extern int (*script_notify)(enum script_action act, pid_t root_pid, int fd);

/*
 * Hand fd to the RPC client with the notification act (orphan-pts-master:
 * a new pty's master for the runtime). No script runs. -ENOTCONN (not
 * logged) when there is no client listening; else as script_notify.
 */
int notify_client_fd(enum script_action act, int fd);

#endif
