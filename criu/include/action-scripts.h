/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Action-script points: the moments of a dump or restore where CRIU runs the
 * user's action scripts. criu has no --action-script yet; an RPC client that
 * set notify_scripts is told about each point with a NOTIFY message and
 * answers it (cr-service.c installs the hook).
 */
#ifndef CRIU_ACTION_SCRIPTS_H
#define CRIU_ACTION_SCRIPTS_H

#include <sys/types.h>

enum script_action {
	ACT_PRE_DUMP,		/* before the tree is seized */
	ACT_POST_DUMP,		/* every image written, before the tree is killed or resumed */
	ACT_PRE_RESTORE,	/* before the images are read */
	ACT_POST_RESTORE,	/* every task morphed, before the tree runs (pid: the root) */
	ACT_PRE_RESUME,		/* right before the tree runs */
	ACT_POST_RESUME,	/* the tree runs */
	ACT_MAX,
};

/* CRIU's name of a point ("pre-dump", ...). */
const char *script_action_name(enum script_action act);

/*
 * Run what is registered for this point; pid is the restored root's pid for
 * ACT_POST_RESTORE, else 0. 0 when nothing is registered or it succeeded,
 * -errno when it failed (the caller then fails the dump or restore).
 */
int run_scripts(enum script_action act, pid_t pid);

/* Register the one hook (NULL: none). */
typedef int (*script_hook_t)(const char *name, pid_t pid);
void set_script_hook(script_hook_t hook);

#endif
