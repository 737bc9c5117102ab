/*
 * Who may run criu: the check made before a dump or a restore touches
 * anything (criu.txt, reliability.md "Permissions").
 *
 * criu seizes the tree with ptrace, takes its fds with pidfd_getfd(), reads
 * /proc/PID/map_files, creates tasks with chosen pids (clone3 set_tid) and
 * sets their mm fields (PR_SET_MM_MAP). As root all of this is allowed. As
 * another user it is only with CAP_SYS_PTRACE and CAP_CHECKPOINT_RESTORE, and
 * only when asked with --unprivileged, as CRIU does; without them criu stops
 * here with an error that says what is missing, instead of failing in the
 * middle of the work on the first EPERM.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "cr_options.h"
#include "privs.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* criu's effective capability set, as one 64-bit mask; 0 when capget fails */
static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
}

static const struct {
	int cap;
	const char *name;
	const char *why;
} needed[] = {
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "to seize tasks and take their fds (pidfd_getfd)" },
	{ CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE",
	  "to read map_files, choose pids (clone3 set_tid) and set the mm fields (PR_SET_MM_MAP)" },
};

int check_privileges(const char *cmd, bool unprivileged, uid_t euid, uint64_t caps)
{
	int missing = 0;

	if (euid == 0)
		return 0;
	if (!unprivileged) {
		fprintf(stderr,
			"criu: %s needs root (criu runs as uid %u): it seizes, reads and rewrites other processes;\n"
			"criu: as another user pass --unprivileged and give criu CAP_SYS_PTRACE and CAP_CHECKPOINT_RESTORE\n",
			cmd, (unsigned)euid);
		return -EPERM;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (caps & (1ULL << needed[i].cap))
			continue;
		fprintf(stderr, "criu: %s --unprivileged (uid %u) needs %s %s\n", cmd, (unsigned)euid, needed[i].name,
			needed[i].why);
		missing++;
	}
	return missing ? -EPERM : 0;
}

int check_my_privileges(const char *cmd)
{
	return check_privileges(cmd, opts.unprivileged, geteuid(), effective_caps());
}
