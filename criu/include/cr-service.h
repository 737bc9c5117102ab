/* SPDX-License-Identifier: GPL-2.0 */
/* The RPC server (cr-service.c) and its option mapping (rpc-opts.c). */
#ifndef CRIU_CR_SERVICE_H
#define CRIU_CR_SERVICE_H

#include <limits.h>
#include <stdbool.h>

#include "rpc.pb-c.h"

enum rpc_mode {
	RPC_DUMP,
	RPC_RESTORE,
	RPC_CHECK,
	RPC_PAGE_SERVER,	/* PAGE_SERVER, PAGE_SERVER_CHLD: an images dir, no tree */
};

/* What rpc_setup_opts() opened for a request; rpc_dirs_close() undoes it. */
struct rpc_dirs {
	int img_dfd;			/* -1 for CHECK */
	bool rst_sibling;		/* RESTORE: the root becomes a child of the client */
	bool log_open;			/* the request's log file is open */
	char img_path[PATH_MAX];	/* "/proc/<client>/fd/N" or the images_dir path */
	char work_path[PATH_MAX];
	char log_path[PATH_MAX];
};

/* True in `criu swrk` (the client is criu's parent), false in a `criu service` worker. */
extern bool rpc_swrk;

/*
 * Check a request's options and map them onto `opts`; open the images
 * directory and the log. A field we don't implement, set to anything but
 * its default, is an error naming it. 0 or -errno (logged).
 */
int rpc_setup_opts(int sk, CriuOpts *ro, enum rpc_mode mode, struct rpc_dirs *dirs);
void rpc_dirs_close(struct rpc_dirs *dirs);
/* Send NOTIFY messages at the action-script points of this request. */
void rpc_enable_notify(void);
/* Serve one session on a connected SOCK_SEQPACKET socket: 0 when every request succeeded. */
int cr_service_work(int sk);

#endif
