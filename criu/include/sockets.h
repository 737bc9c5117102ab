/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets: unix sockets (sk-unix.c) and their queued data (sk-queue.c).
 *
 * Dump: sock_diag (NETLINK_SOCK_DIAG, through libnl-3) tells each unix
 * socket's type, state, name, peer, pending connections, queue lengths and
 * shutdown; the data waiting in a receive queue is peeked (MSG_PEEK with
 * SO_PEEK_OFF) on criu's own copy of the socket, so the task keeps it, and
 * goes to sk-queues.img, one entry per message (datagram and seqpacket keep
 * their boundaries).
 *
 * Restore: the controller builds every unix socket of the image at once
 * (socketpair, bind, listen, connect + accept), queues the data again from
 * the sending side, applies shutdowns last, and hands each socket to the
 * file machinery.
 */
#ifndef CRIU_SOCKETS_H
#define CRIU_SOCKETS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "list.h"

struct rst_ctx;

struct cr_img;
struct dump_files_ctx;

/* A message waiting in a socket's receive queue (restore side). */
struct sk_packet {
	struct list_head list;
	struct sockaddr_un addr;	/* the sender's address, addr_len 0 if it had none */
	uint32_t addr_len;
	uint32_t len;
	uint32_t nr_files;	/* files passed with it (SCM_RIGHTS): files.img ids */
	uint32_t *files;
	char data[];
};

/*
 * Dump: a snapshot of the receive queue of the socket lfd (criu's copy, of
 * type SOCK_STREAM/DGRAM/SEQPACKET), taken with MSG_PEEK and SO_PEEK_OFF
 * without consuming anything: one message per datagram or record (stream:
 * per chunk), with the files passed with it (SCM_RIGHTS) as criu's own fds.
 * Take it once per socket: the kernel shows an empty datagram to one walk
 * of peeks only. rcv_shut: the socket is shut for reading, so an empty read
 * of a datagram or seqpacket socket means the end of its queue (an empty
 * message queued in such a socket is not told apart from that end, and is
 * lost). who names the socket in messages ("fd 3 of task 42").
 */
struct sk_queue_snap;
int sk_queue_snap(int lfd, int type, bool rcv_shut, const char *who, struct sk_queue_snap **ret);
uint64_t sk_queue_snap_bytes(const struct sk_queue_snap *q);
/* Call fn(fd, arg) for every file passed in the queue (the fd stays the snapshot's). */
int sk_queue_snap_files(struct sk_queue_snap *q, int (*fn)(int fd, void *arg), void *arg);
/*
 * Append one SkPacketEntry per message for file id to img (opened in
 * ctx->img_dfd on the first entry). The passed files are dumped as file
 * objects of their own (shared with the tasks' fds of the same files) and
 * listed in the entry's scm; criu keeps their fds open until it exits, so
 * the same file is recognised later.
 */
int sk_queue_snap_dump(struct dump_files_ctx *ctx, struct sk_queue_snap *q, uint32_t id,
		       const char *who);
void sk_queue_snap_free(struct sk_queue_snap *q);

/*
 * Restore: read sk-queues.img and hand each packet to add(id, packet, arg)
 * in image order; add() takes ownership of the packet. 0 or -errno.
 */
int sk_queues_read(int img_dfd, int (*add)(uint32_t id, struct sk_packet *pkt, void *arg), void *arg);

/* Restore: true if some packet of queue passes files (they must be open: see sk_queue_restore). */
bool sk_queue_has_files(const struct list_head *queue);

/*
 * Restore: send every packet of queue from sender (connected to the
 * receiver), or, with to/to_len set, with sendto() to that address; one send
 * per packet, so datagrams keep their boundaries. The files a packet passes
 * are the controller's open copies (file_desc_ctl_fd), so every object they
 * name must be open by then. Frees the packets.
 */
int sk_queue_restore(struct rst_ctx *ctx, int sender, struct list_head *queue, const void *to, unsigned int to_len,
		     const char *who);
void sk_queue_free(struct list_head *queue);

#endif
