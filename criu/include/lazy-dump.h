/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dump --lazy-pages (lazy-dump.c): the dump leaves the pages a lazy restore
 * takes in the stopped tree and serves them, after the images are written,
 * to `criu lazy-pages --page-server` over CRIU's page server protocol
 * (PS_IOV_GET, page-xfer.h).
 */
#ifndef CRIU_LAZY_DUMP_H
#define CRIU_LAZY_DUMP_H

#include <stdint.h>

#include "page-xfer.h"
#include "tls.h"

struct pstree;
struct lazy_dump_task;

struct lazy_dump {
	int lsk;			/* listening (--address, --port), or -1 (--ps-socket) */
	unsigned int port;
	struct ps_conf conf;
	struct tls_conf tc;
	struct lazy_dump_task *tasks;
	size_t nr;
	char *buf;
	uint64_t nr_requests, nr_pages;
};

/* Before the tree is seized: listen (the options of a page server); 0 or -errno, logged. */
int lazy_dump_listen(struct lazy_dump *ld);
/*
 * The images are written, the tree is stopped: say so on --status-fd, take
 * one client and serve it until it ends the session. 0 when it did, or
 * -errno (logged): the caller resumes the tree.
 */
int lazy_dump_serve(struct lazy_dump *ld, int img_dfd, struct pstree *tree);
void lazy_dump_fini(struct lazy_dump *ld);

#endif
