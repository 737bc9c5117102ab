/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_CRTOOLS_H
#define CRIU_CRTOOLS_H

#include <sys/types.h>

/* criu check [--feature NAME]: 0 when everything (or NAME) is supported. */
int cr_check(const char *feature);
/* criu dump: 0 on success, -errno on failure (the tree is then left running untouched). */
int cr_dump_tasks(int img_dfd, pid_t root);
/* criu restore: <0 on failure; otherwise the exit code for criu (0, or the root's status in the foreground). */
int cr_restore(int img_dfd);
/* criu swrk FD / criu service [...]: argv[0] is the command (cr-service.c); the exit code. */
int cr_service_main(int argc, char **argv);

#endif
