#ifndef CRIU_PRIVS_H
#define CRIU_PRIVS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * 0 when a user of uid euid with the effective capabilities caps (a mask of
 * CAP_* bits) may run cmd (root; or --unprivileged with CAP_SYS_PTRACE and
 * CAP_CHECKPOINT_RESTORE); else -EPERM after an error on stderr that names
 * what is missing.
 */
int check_privileges(const char *cmd, bool unprivileged, uid_t euid, uint64_t caps);
/* the same for criu itself */
int check_my_privileges(const char *cmd);

#endif
