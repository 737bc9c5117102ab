/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inet sockets (Documentation/inet-sockets.md): AF_INET and AF_INET6 TCP and
 * UDP sockets, as CRIU's inet_sk_entry in files.img; established TCP
 * connections through soccr (soccr/soccr.h) in tcp-stream-<ino>.img; the
 * network lock that keeps a connection's packets away while it is dumped
 * and restored (net-lock.c).
 */
#ifndef CRIU_SK_INET_H
#define CRIU_SK_INET_H

#include <stdbool.h>
#include <stdint.h>

#include "soccr.h"

struct dump_files_ctx;
struct file_desc;
struct rst_ctx;

/* sk-inet-restore.c: the restore hooks of inet_sk_file_type */
int inet_collect(struct rst_ctx *ctx, struct file_desc *d);
int inet_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd);
int inet_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd);
void inet_cleanup(struct rst_ctx *ctx);

/*
 * Dump: the connections put in repair mode (dump_files_ctx.tcp), kept past
 * dump_files_fini() until the dump knows the tree's fate.
 * tcp_dump_finish(resume true): the tree runs on (--leave-running, a failed
 * dump): every connection leaves repair mode and the lock goes; false: the
 * tree is killed: the sockets close silently and the lock stays for the
 * restore to lift.
 */
struct tcp_dump;
void tcp_dump_finish(struct dump_files_ctx *ctx, bool resume);

/* One connection, for the network lock (net-lock.c). */
struct net_conn {
	union soccr_addr src, dst;
};

/* "ESTABLISHED", "LISTEN", ... */
const char *inet_state_name(uint32_t state);

struct fd_parms;
/*
 * sk-tcp.c, dump: lock connection c of socket p (criu's copy), put it in
 * repair mode and write tcp-stream-<ino>.img. The socket stays in repair
 * mode until tcp_dump_finish().
 */
int tcp_dump_conn(struct dump_files_ctx *ctx, const struct fd_parms *p, const struct net_conn *c, uint32_t state,
		  uint32_t ino, const char *who);
/*
 * Dump, once every task's files are dumped: a connection whose peer shut it
 * for writing (CLOSE_WAIT) comes back only when the peer is restored too
 * and sends its FIN again (FIN_WAIT1/2 in the tree). 0 or -EOPNOTSUPP logged.
 */
int tcp_dump_check(struct dump_files_ctx *ctx);

struct InetSkEntry;
struct soccr_sk;
/*
 * sk-tcp.c, restore: fd (a new socket of ie's family) becomes the
 * connection of tcp-stream-<ino>.img, in repair mode (*ret_sk) until the
 * tree may run (soccr_resume()).
 */
int tcp_restore_conn(int img_dfd, int fd, const struct InetSkEntry *ie, struct soccr_sk **ret_sk, const char *who);
/* The local (peer false) or peer address of an image entry: 0 or -EINVAL. */
int inet_entry_addr(const struct InetSkEntry *ie, bool peer, union soccr_addr *ret);
/* The connection an image entry describes, for the lock. */
int inet_entry_conn(const struct InetSkEntry *ie, struct net_conn *ret);

/*
 * The network lock (--network-lock): packets of the locked connections are
 * dropped both ways, by rules in a table named after the dumped tree's root
 * (nftables: table inet CRIU-<pid>; iptables: DROP rules in INPUT and
 * OUTPUT). skip: nothing is done. The rules are in the network namespace
 * netns_fd, the socket's (-1: criu's). 0 or -errno (logged).
 */
int net_lock_conn(pid_t root, const struct net_conn *c, int netns_fd);
int net_unlock_conn(pid_t root, const struct net_conn *c, int netns_fd);
/* nftables: drop the whole table of netns_fd (-1: criu's); iptables: nothing left to do. */
int net_unlock_all(pid_t root, int netns_fd);
/* Restore: the inventory's dump_criu_run_id (NULL: none), which names a CRIU dump's nftables table. */
int net_lock_set_run_id(const char *id);
/* A printable "addr:port > addr:port". */
const char *net_conn_str(const struct net_conn *c, char *buf, size_t size);

#endif
