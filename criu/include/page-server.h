/* SPDX-License-Identifier: GPL-2.0 */
/*
 * criu page-server (criu/page-server.c), and its steps for the RPC request
 * PAGE_SERVER. The protocol is in page-xfer.h.
 */
#ifndef CRIU_PAGE_SERVER_H
#define CRIU_PAGE_SERVER_H

struct ps_conf;
struct tls_conf;

struct page_server {
	int lsk;		/* the listening socket, or -1 (--ps-socket) */
	unsigned int port;	/* the port it listens on */
};

/* The page server's (and a client's) settings from opts; t is filled for c->tls_conf. */
void ps_conf_from_opts(struct ps_conf *c, struct tls_conf *t);
/* Listen (unless conf->fd); 0 or -errno (logged). */
int page_server_prepare(const struct ps_conf *conf, struct page_server *ret);
/* Take the one client and serve its session into img_dfd; 0 or -errno (logged). */
int page_server_run(int img_dfd, const struct ps_conf *conf, struct page_server *srv);
/*
 * --status-fd: '\0' once the server listens (and, for dump --lazy-pages, has
 * its images written; for criu lazy-pages, once its socket listens), then closed.
 */
void ps_status_ready(void);
/* criu page-server: the command, with --daemon, --pidfile, --status-fd. */
int cr_page_server(int img_dfd);

#endif
