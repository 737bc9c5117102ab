// SPDX-License-Identifier: GPL-2.0
/*
 * criu page-server --lazy-pages: lazy pages served from images on disk, as
 * CRIU's page server does in that mode. A dump was written into the images
 * dir as usual; `criu lazy-pages --page-server` on the target asks for the
 * pages of its lazy VMAs with PS_IOV_GET (pid in the images, dumped address,
 * count), and each answer is read from the task's pagemap and pages images.
 * Only pages of PE_LAZY entries are served, as CRIU serves only its lazy
 * page-pipe buffers; a request for any other page ends the session.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "image.h"
#include "page-xfer.h"
#include "pagemap.h"

#include "pagemap.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "lazy-images: "

#define SERVE_BUF (4UL << 20)	/* the most one answer carries */

struct lazy_images_task {
	uint64_t vpid;
	struct pagemap_read r;
};

struct lazy_images {
	int img_dfd;
	struct lazy_images_task *tasks;
	size_t nr;
	char *buf;
	uint64_t nr_requests, nr_pages;
};

/* The task's pagemap, read on its first request. */
static int find_task(struct lazy_images *li, uint64_t vpid, struct lazy_images_task **ret)
{
	struct lazy_images_task *n;
	int err;

	for (size_t i = 0; i < li->nr; i++) {
		if (li->tasks[i].vpid == vpid) {
			*ret = &li->tasks[i];
			return 0;
		}
	}
	if (vpid > INT32_MAX)
		return pr_fail(-EPROTO, "PS_IOV_GET for task %" PRIu64 ": not a pid\n", vpid);
	n = realloc(li->tasks, (li->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	li->tasks = n;
	n = &li->tasks[li->nr];
	n->vpid = vpid;
	err = read_pagemap_image(li->img_dfd, CR_FD_PAGEMAP, vpid, &n->r);
	if (err)
		return pr_fail(err, "PS_IOV_GET for task %" PRIu64 ": its pagemap and pages images can't be read: %s\n",
			       vpid, strerror(-err));
	li->nr++;
	*ret = n;
	return 0;
}

/* The entry holding addr, or -1. */
static ssize_t find_entry(const struct pagemap_read *r, uint64_t addr)
{
	size_t lo = 0, hi = r->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const PagemapEntry *pe = r->pmes[mid];

		if (pe->vaddr + pe->nr_pages * PAGE_SIZE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nr && r->pmes[lo]->vaddr <= addr ? (ssize_t)lo : -1;
}

static int serve_get(void *arg, struct ps_conn *c, const struct ps_iov *iov)
{
	struct lazy_images *li = arg;
	struct lazy_images_task *t;
	const PagemapEntry *pe;
	uint64_t nr, delta;
	ssize_t i;
	int ret;

	ret = find_task(li, iov->dst_id, &t);
	if (ret)
		return ret;
	i = (iov->vaddr & (PAGE_SIZE - 1)) || !iov->nr_pages ? -1 : find_entry(&t->r, iov->vaddr);
	pe = i < 0 ? NULL : t->r.pmes[i];
	if (!pe || !(pe->flags & PE_LAZY) || !(pe->flags & PE_PRESENT))
		return pr_fail(-EPROTO, "PS_IOV_GET of task %" PRIu64 " at %#" PRIx64 " (%" PRIu64 " pages): %s\n",
			       t->vpid, iov->vaddr, iov->nr_pages,
			       !pe ? "no page dumped there" :
			       (pe->flags & PE_PARENT) ? "the page is in the parent images, not served" :
			       "not a lazy page");
	delta = iov->vaddr - pe->vaddr;
	nr = min(min(iov->nr_pages, pe->nr_pages - delta / PAGE_SIZE), (uint64_t)(SERVE_BUF / PAGE_SIZE));
	ret = pread_exact(t->r.pages_fd, li->buf, nr * PAGE_SIZE, (off_t)(t->r.offset[i] + delta));
	if (ret)
		return pr_fail(ret, "task %" PRIu64 ": can't read its pages at %#" PRIx64 ": %s\n", t->vpid, iov->vaddr,
			       strerror(-ret));
	ret = ps_send_entry(c, iov->dst_id, PE_PRESENT, iov->vaddr, nr, li->buf);
	if (ret)
		return pr_fail(ret, "can't send pages: %s\n", strerror(-ret));
	li->nr_requests++;
	li->nr_pages += nr;
	return 0;
}

int lazy_images_serve(struct ps_conn *c, int img_dfd)
{
	struct lazy_images li = { .img_dfd = img_dfd };
	int ret;

	li.buf = mmap(NULL, SERVE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (li.buf == MAP_FAILED)
		return pr_fail_errno("no buffer");
	ret = ps_serve_gets(c, serve_get, &li);
	pr_info("%" PRIu64 " pages served from the images in %" PRIu64 " requests\n", li.nr_pages, li.nr_requests);
	for (size_t i = 0; i < li.nr; i++)
		pagemap_read_free(&li.tasks[i].r);
	free(li.tasks);
	munmap(li.buf, SERVE_BUF);
	return ret;
}
