/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_SK_UNIX_H
#define CRIU_SK_UNIX_H

#include <sys/un.h>

/* Unix sockets: the dump in sk-unix.c, the restore in sk-unix-restore.c. */

#define UNIX_NAME_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))
/* sk_shutdown bits, as sock_diag reports them and as SkShutdown numbers them */
#define SK_RCV_SHUTDOWN 1
#define SK_SEND_SHUTDOWN 2
/* unix_sk_entry.uflags (CRIU's): a socket outside the tree, the peer of one in it; never created */
#define USK_EXTERN (1 << 0)

struct rst_ctx;
struct file_desc;

/* The restore hooks of unix_sk_file_type (sk-unix-restore.c). */
int unix_collect(struct rst_ctx *ctx, struct file_desc *d);
int unix_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd);
int unix_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd);
void unix_cleanup(struct rst_ctx *ctx);

#endif
