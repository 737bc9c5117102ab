/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_POSIX_MQ_H
#define CRIU_POSIX_MQ_H

#include <stdint.h>

/* POSIX message queues of an IPC namespace of the tree (criu/mqueue.c). */
struct mq_ns;

/* In the helper inside the namespace: write ipcns-mq-<id>.img. 0 or -errno (logged). */
int mq_ns_dump(int img_dfd, uint32_t id);
/* In the controller: read ipcns-mq-<id>.img; *ret NULL when the image has none. */
int mq_ns_read(int img_dfd, uint32_t id, struct mq_ns **ret);
/* In the stub that made the namespace, inside it: make every queue again. */
int mq_ns_restore(const struct mq_ns *q);
void mq_ns_free(struct mq_ns *q);

#endif
