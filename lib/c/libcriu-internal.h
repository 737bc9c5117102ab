/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * What the two halves of libcriu share: criu.c (option sets, the transport
 * and the requests) and criu-opts.c (the setters).
 */
#ifndef CRIU_LIB_INTERNAL_H
#define CRIU_LIB_INTERNAL_H

#include <sys/types.h>

#include "criu.h"

#define LIBCRIU_HIDDEN __attribute__((visibility("hidden")))

/* `criu service`'s socket when criu_set_service_address(NULL) */
#define LIBCRIU_DEFAULT_ADDRESS "/var/run/criu_service.socket"
/* the criu binary, looked up in $PATH, when criu_set_service_binary(NULL) */
#define LIBCRIU_DEFAULT_BINARY "criu"

struct criu_opts {
	CriuOpts *rpc;				/* sent with DUMP, RESTORE, VERSION, FEATURE_CHECK */
	int (*notify)(char *action, criu_notify_arg_t na);
	enum criu_service_comm comm;
	char *service_address;			/* CRIU_COMM_SK */
	int service_fd;				/* CRIU_COMM_FD */
	char *service_binary;			/* CRIU_COMM_BIN */
	pid_t swrk_pid;				/* the criu swrk of the request under way */
	char *last_error;			/* criu's cr_errmsg of the last failed request */
};

/* the option set of the criu_X() calls (criu_init_opts) */
extern criu_opts *libcriu_global LIBCRIU_HIDDEN;

#endif
