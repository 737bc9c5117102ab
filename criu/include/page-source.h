/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the lazy-pages daemon (lazy-pages.c) gets the bytes of a page.
 *
 * A task's pages are known by its pid in the images and their dumped address
 * (what a page server is asked for: CRIU's PS_IOV_GET names pid, address and
 * count) and, for a local source, their offset in the pages fd the restore
 * handed over. One source serves every task of the restore.
 */
#ifndef CRIU_PAGE_SOURCE_H
#define CRIU_PAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct page_source;

struct page_source_ops {
	/*
	 * A task's pages come from here: pages_fd is the fd the restore sent
	 * (-1 for none), the source takes it. 0 or -errno.
	 */
	int (*add_task)(struct page_source *src, pid_t pid, int pages_fd);
	/*
	 * Read len bytes of task pid's pages, dumped at vaddr, which lie at off
	 * in its pages fd, into buf. 0 or -errno (the page is not there).
	 */
	int (*read)(struct page_source *src, pid_t pid, uint64_t vaddr, uint64_t off, size_t len, void *buf);
	/*
	 * Optional: the end of the daemon's work, ok when every page is in (a
	 * page server is told the session is over). 0 or -errno, logged.
	 */
	int (*end)(struct page_source *src, bool ok);
	void (*destroy)(struct page_source *src);
};

struct page_source {
	const struct page_source_ops *ops;
	const char *name;	/* for the log */
};

/* The restore's own pages fds (the images dir of the restore). NULL on ENOMEM. */
struct page_source *page_source_local(void);

/*
 * A page server holding the pages a dump --lazy-pages left on the source
 * (CRIU's PS_IOV_GET: pid, dumped address, count; the offsets are not used).
 * Connects (and shakes hands: TLS) now; 0 or -errno, logged.
 */
struct ps_conf;
int page_source_remote(const struct ps_conf *conf, struct page_source **ret);

#endif
