// SPDX-License-Identifier: GPL-2.0
/* Action-script points (action-scripts.h): named as CRIU names them. */
#include "action-scripts.h"
#include "common.h"

static const char *const action_names[ACT_MAX] = {
	[ACT_PRE_DUMP] = "pre-dump",
	[ACT_POST_DUMP] = "post-dump",
	[ACT_PRE_RESTORE] = "pre-restore",
	[ACT_POST_RESTORE] = "post-restore",
	[ACT_PRE_RESUME] = "pre-resume",
	[ACT_POST_RESUME] = "post-resume",
};

static script_hook_t script_hook;

const char *script_action_name(enum script_action act)
{
	return act < ACT_MAX ? action_names[act] : "?";
}

void set_script_hook(script_hook_t hook)
{
	script_hook = hook;
}

int run_scripts(enum script_action act, pid_t pid)
{
	if (!script_hook)
		return 0;
	pr_debug("action-script point %s\n", script_action_name(act));
	/* the hook logs its own failure */
	return script_hook(script_action_name(act), pid);
}
