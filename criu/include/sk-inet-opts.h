/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The options of an inet socket (sk-inet-opts.c): CRIU's sk_opts_entry,
 * ip_opts_entry and tcp_opts_entry, read from criu's copy of the socket at
 * dump and set on the new socket at restore (only where the new socket's
 * value differs, so defaults stay defaults).
 */
#ifndef CRIU_SK_INET_OPTS_H
#define CRIU_SK_INET_OPTS_H

#include <net/if.h>
#include <stdbool.h>

#include "sk-inet.pb-c.h"
#include "sk-opts.pb-c.h"
#include "tcp-stream.pb-c.h"

/* The messages of one socket's options, and the storage they point to. */
struct inet_opts_buf {
	SkOptsEntry sk;
	IpOptsEntry ip;
	TcpOptsEntry tcp;
	bool is_tcp;
	bool has_v6only, v6only;
	char bound_dev[IF_NAMESIZE];
	char congestion[32];	/* TCP_CONGESTION: the kernel's names are at most 16 bytes */
};

/* Dump: every option of lfd into ob. 0, or -errno logged (a socket filter is refused). */
int inet_dump_opts(int lfd, int family, int proto, struct inet_opts_buf *ob, const char *who);
/* Point ie's opts, ip_opts, tcp_opts and v6only at ob. */
void inet_opts_attach(struct inet_opts_buf *ob, InetSkEntry *ie);

/*
 * Restore, before bind(): every option of ie on fd, with SO_REUSEADDR on
 * (the port may still be held by the dumped tree's closing connections);
 * after bind(): inet_restore_reuseaddr() puts SO_REUSEADDR as dumped.
 */
int inet_restore_opts(int fd, const InetSkEntry *ie, const char *who);
int inet_restore_reuseaddr(int fd, const InetSkEntry *ie, const char *who);
/*
 * A connection's queues must fit in its buffers, whatever the kernel would
 * tune them to: inet_restore_conn_bufs() sets the dumped sizes before the
 * queues are filled, inet_restore_buf_lock() then gives the buffers back
 * to the kernel's tuning as the dump found them (SO_BUF_LOCK).
 */
int inet_restore_conn_bufs(int fd, const InetSkEntry *ie, const char *who);
int inet_restore_buf_lock(int fd, const InetSkEntry *ie, const char *who);

#endif
