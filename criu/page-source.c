// SPDX-License-Identifier: GPL-2.0
/*
 * The page sources of the lazy-pages daemon (page-source.h): local, each
 * task's pages fd as the restore sent it (pages-N.img, or the memfd a parent
 * chain was gathered into), read with pread(); remote, a page server asked
 * with PS_IOV_GET (page-xfer.c).
 */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "page-source.h"
#include "page-xfer.h"

struct local_task {
	pid_t pid;
	int fd;
};

struct local_source {
	struct page_source src;
	struct local_task *tasks;
	size_t nr;
};

static int local_add_task(struct page_source *s, pid_t pid, int fd)
{
	struct local_source *ls = container_of(s, struct local_source, src);
	struct local_task *n;

	if (fd < 0)
		return pr_fail(-EINVAL, "task %d: the restore sent no pages fd\n", pid);
	for (size_t i = 0; i < ls->nr; i++)
		if (ls->tasks[i].pid == pid) {
			/* the same task again (a second restore of it?): keep the newer fd */
			close(ls->tasks[i].fd);
			ls->tasks[i].fd = fd;
			return 0;
		}
	n = xrealloc(ls->tasks, (ls->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ls->tasks = n;
	ls->tasks[ls->nr++] = (struct local_task){ pid, fd };
	return 0;
}

static int local_read(struct page_source *s, pid_t pid, uint64_t vaddr, uint64_t off, size_t len, void *buf)
{
	struct local_source *ls = container_of(s, struct local_source, src);
	int fd = -1;

	(void)vaddr;
	for (size_t i = 0; i < ls->nr; i++)
		if (ls->tasks[i].pid == pid)
			fd = ls->tasks[i].fd;
	if (fd < 0)
		return -ENOENT;
	return pread_exact(fd, buf, len, (off_t)off);	/* -EIO: the image lost its tail */
}

static void local_destroy(struct page_source *s)
{
	struct local_source *ls = container_of(s, struct local_source, src);

	for (size_t i = 0; i < ls->nr; i++)
		close(ls->tasks[i].fd);
	free(ls->tasks);
	free(ls);
}

static const struct page_source_ops local_ops = {
	.add_task = local_add_task,
	.read = local_read,
	.destroy = local_destroy,
};

struct page_source *page_source_local(void)
{
	struct local_source *ls = xzalloc(sizeof(*ls));

	if (!ls)
		return NULL;
	ls->src = (struct page_source){ .ops = &local_ops, .name = "local images" };
	return &ls->src;
}

/* ------------------------------------------------------------ a page server */

struct remote_source {
	struct page_source src;
	struct ps_conn c;
	bool open;
	uint64_t nr_requests, nr_pages;
};

static int remote_add_task(struct page_source *s, pid_t pid, int fd)
{
	(void)s;
	(void)pid;
	if (fd >= 0)
		close(fd);	/* the pages left on the source are not in it */
	return 0;
}

/* The server may answer with fewer pages than asked (its run ends there): ask again for the rest. */
static int remote_read(struct page_source *s, pid_t pid, uint64_t vaddr, uint64_t off, size_t len, void *buf)
{
	struct remote_source *rs = container_of(s, struct remote_source, src);

	(void)off;
	if (!rs->open)
		return -ENOTCONN;
	while (len) {
		uint64_t got = 0;
		int ret = ps_get_pages(&rs->c, pid, vaddr, len / PAGE_SIZE, buf, &got);

		if (ret)
			return ret;
		rs->nr_requests++;
		rs->nr_pages += got;
		vaddr += got * PAGE_SIZE;
		buf = (char *)buf + got * PAGE_SIZE;
		len -= got * PAGE_SIZE;
	}
	return 0;
}

static int remote_end(struct page_source *s, bool ok)
{
	struct remote_source *rs = container_of(s, struct remote_source, src);
	int ret = 0;

	if (!rs->open)
		return 0;
	rs->open = false;
	pr_info("page server: %" PRIu64 " pages in %" PRIu64 " requests\n", rs->nr_pages, rs->nr_requests);
	if (ok)
		ret = ps_disconnect(&rs->c);
	else
		ps_conn_close(&rs->c, true);
	return ret;
}

static void remote_destroy(struct page_source *s)
{
	struct remote_source *rs = container_of(s, struct remote_source, src);

	if (rs->open)
		ps_conn_close(&rs->c, true);	/* no goodbye: a forked daemon goes on with the connection */
	free(rs);
}

static const struct page_source_ops remote_ops = {
	.add_task = remote_add_task,
	.read = remote_read,
	.end = remote_end,
	.destroy = remote_destroy,
};

int page_source_remote(const struct ps_conf *conf, struct page_source **ret)
{
	struct remote_source *rs = xzalloc(sizeof(*rs));
	int err;

	if (!rs)
		return -ENOMEM;
	rs->src = (struct page_source){ .ops = &remote_ops, .name = "a page server" };
	err = ps_connect(conf, &rs->c);
	if (err) {
		free(rs);
		return pr_fail(err, "the page server can't be used: no lazy pages served\n");
	}
	rs->open = true;
	*ret = &rs->src;
	return 0;
}
