/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRIU's page server protocol (CRIU 4.2's page-xfer.c), both ends.
 *
 * One TCP connection (optionally TLS, tls.h) carries, from the dumping
 * criu to the page server, a sequence of 32-byte headers (struct ps_iov),
 * some followed by page bytes:
 *
 *   OPEN2 dst          the server starts pagemap image dst (and its pages
 *                      image); answers one byte: 1 if its images dir has a
 *                      parent holding that pagemap (PE_PARENT entries are then
 *                      allowed), else 0. OPEN is the same without the answer.
 *   PARENT dst         answers an int (4 bytes): the same question.
 *   ADD_F|flags<<16    a pagemap entry (vaddr, nr_pages) with PagemapEntry
 *                      flags; with PE_PRESENT its nr_pages pages follow.
 *                      ADD is ADD_F with PE_PRESENT, HOLE with PE_PARENT.
 *   GET                (lazy pages) ask for pages: answered by an ADD_F
 *                      header with the pages.
 *   CLOSE, FORCE_CLOSE the end: the server answers an int32 status (0).
 *
 * dst_id is the image id << 8 | type (PS_TYPE_PID: pagemap-ID.img,
 * PS_TYPE_SHMEM: pagemap-shmem-ID.img). Integers are in the host's order,
 * as CRIU sends them.
 *
 * The functions here log what fails (they are the connection's one owner);
 * 0 or -errno.
 */
#ifndef CRIU_PAGE_XFER_H
#define CRIU_PAGE_XFER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define PS_IOV_ADD 1
#define PS_IOV_HOLE 2
#define PS_IOV_OPEN 3
#define PS_IOV_OPEN2 4
#define PS_IOV_PARENT 5
#define PS_IOV_ADD_F 6
#define PS_IOV_GET 7
#define PS_IOV_CLOSE 0x1023
#define PS_IOV_FORCE_CLOSE 0x1024

#define PS_CMD_BITS 16
#define PS_CMD_MASK ((1U << PS_CMD_BITS) - 1)
#define PS_TYPE_BITS 8
#define PS_TYPE_MASK ((1U << PS_TYPE_BITS) - 1)
#define PS_TYPE_PID 1
#define PS_TYPE_SHMEM 2

#define PS_DEFAULT_PORT 27	/* CRIU's --port default */

/* On the wire: CRIU's struct page_server_iov, a u32 then three u64 (4 bytes of padding). */
struct ps_iov {
	uint32_t cmd;
	uint32_t pad;
	uint64_t nr_pages;
	uint64_t vaddr;
	uint64_t dst_id;
};

static inline uint64_t ps_dst_id(int ps_type, unsigned long id)
{
	return (uint64_t)id << PS_TYPE_BITS | ps_type;
}

struct tls_session;
struct tls_conf;

/* One connection to or from a page server. */
struct ps_conn {
	int sk;
	struct tls_session *tls;	/* NULL: plain TCP */
	bool own_sk;			/* close sk at the end (not a --ps-socket) */
	bool force_close;		/* end with FORCE_CLOSE (the socket outlives us: --ps-socket) */
	uint64_t bytes_sent;
};

int ps_send(struct ps_conn *c, const void *buf, size_t len);
/* Exactly len bytes; -ECONNRESET when the peer closed first. */
int ps_recv(struct ps_conn *c, void *buf, size_t len);

/* The options of a page server client or server (CRIU's names). */
struct ps_conf {
	const char *addr;		/* --address (client: required unless fd; server: NULL = any) */
	unsigned int port;		/* --port (server: 0 = any free port) */
	int fd;				/* --ps-socket: an already connected socket, or -1 */
	bool tls;			/* --tls */
	const struct tls_conf *tls_conf;
};

/* Client: connect (or take conf->fd) and shake hands; logs. */
int ps_connect(const struct ps_conf *conf, struct ps_conn *ret);
/* Client: CLOSE (FORCE_CLOSE) and the server's status; then ps_conn_close(). */
int ps_disconnect(struct ps_conn *c);
/* Drop the connection without the goodbye (an error path). */
void ps_conn_close(struct ps_conn *c, bool failed);

/* Client: OPEN2 of dst; *ret_has_parent from the answer. */
int ps_open_pagemap(struct ps_conn *c, uint64_t dst_id, bool *ret_has_parent);
/* Client: one entry; pages (nr_pages of them) when flags has PE_PRESENT. */
int ps_send_entry(struct ps_conn *c, uint64_t dst_id, uint32_t flags, uint64_t vaddr, uint64_t nr_pages,
		  const void *pages);
/*
 * Client (lazy pages): ask the server for nr_pages at vaddr of task pid
 * (PS_IOV_GET) and read the answer into buf; *ret_nr: how many came.
 */
int ps_get_pages(struct ps_conn *c, int pid, uint64_t vaddr, uint64_t nr_pages, void *buf, uint64_t *ret_nr);

/* Server: listening socket on conf->addr:conf->port; *ret_port: the port it got. */
int ps_listen(const struct ps_conf *conf, unsigned int *ret_port);
/* Server: accept one client on lsk and shake hands (TLS); logs. */
int ps_accept(int lsk, const struct ps_conf *conf, struct ps_conn *ret);
/*
 * Server: serve one session into the images dir img_dfd until CLOSE; then
 * write the dir's manifest.img and an inventory.img (as a pre-dump's) so a
 * restore through a chain of such dirs can check each level.
 */
int ps_serve(struct ps_conn *c, int img_dfd);

/*
 * Server of lazy pages: answer PS_IOV_GET with get(arg, c, iov) (which sends
 * the ADD_F header and the pages), the PARENT probe of a TLS client with 0,
 * until the client's CLOSE; any other command is refused. 0 or -errno, logged.
 */
typedef int (*ps_get_fn)(void *arg, struct ps_conn *c, const struct ps_iov *iov);
int ps_serve_gets(struct ps_conn *c, ps_get_fn get, void *arg);
/* criu page-server --lazy-pages: serve the PE_LAZY pages of the images in img_dfd (lazy-images.c). */
int lazy_images_serve(struct ps_conn *c, int img_dfd);

#endif
