// SPDX-License-Identifier: GPL-2.0
/*
 * Incremental image chains: find the bytes of a page through the `parent`
 * symlinks of the images dirs (see page-chain.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#include "common.h"
#include "image.h"
#include "image-check.h"
#include "protobuf.h"
#include "inventory.pb-c.h"
#include "page-chain.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-chain: "

void page_chain_close(struct page_chain *c)
{
	for (int i = 0; i < c->nr; i++)
		pagemap_read_free(&c->lvl[i]);
	c->nr = 0;
}

/* The parent dir of dfd, or -errno. */
static int open_parent(int dfd)
{
	int fd = openat(dfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The level's images against its manifest, as the restore checks its own. */
static int check_level(int dfd)
{
	struct image_check_how how;
	struct cr_img *img = open_image_at(dfd, CR_FD_INVENTORY, O_RSTR);
	InventoryEntry *ie;
	int ret;

	if (!img)
		return -errno;
	if (img_is_empty(img)) {
		/*
		 * CRIU's page server writes none: its pages are checked as the
		 * chain is read (lengths, every PE_PARENT page found above).
		 */
		close_image(img);
		pr_warn("a parent images dir has no inventory.img (a CRIU page server's?): not checked against a manifest\n");
		return 0;
	}
	ret = pb_read_one(img, (void **)&ie, PB_INVENTORY);
	close_image(img);
	if (ret)
		return ret;
	image_check_how_of(ie, IMG_CHECK_ALL, &how);
	ret = check_images(dfd, &how);
	pb_free(ie, PB_INVENTORY);
	return ret;
}

int page_chain_open(struct page_chain *c, int dir_dfd, unsigned long id, bool check, char *why, size_t why_len)
{
	int dfd = dir_dfd;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	for (;;) {
		int pfd = open_parent(dfd);

		if (dfd != dir_dfd)
			close(dfd);
		if (pfd < 0) {
			snprintf(why, why_len, "level %d: the parent images dir (`parent` symlink): %s", c->nr + 1,
				 strerror(-pfd));
			ret = c->nr ? -ENOLINK : pfd;
			break;
		}
		if (c->nr == PAGE_CHAIN_MAX) {
			close(pfd);
			snprintf(why, why_len, "more than %d parent levels (a loop?)", PAGE_CHAIN_MAX);
			ret = -ELOOP;
			break;
		}
		ret = check ? check_level(pfd) : 0;
		if (ret < 0) {
			close(pfd);
			snprintf(why, why_len, "level %d: its inventory.img or manifest.img check failed (%s)", c->nr + 1,
				 strerror(-ret));
			ret = -ENOLINK;
			break;
		}
		ret = read_pagemap_image(pfd, CR_FD_PAGEMAP, id, &c->lvl[c->nr]);
		if (ret < 0) {
			close(pfd);
			snprintf(why, why_len, "level %d: pagemap-%lu.img or its pages image: %s", c->nr + 1, id,
				 strerror(-ret));
			if (c->nr)
				ret = -ENOLINK;	/* a level refers up to a parent that lacks the pages */
			break;
		}
		if (!c->lvl[c->nr++].nr_parent) {
			close(pfd);
			return 0;
		}
		dfd = pfd;
	}
	page_chain_close(c);
	return ret;
}

/* The entry of r holding addr, or -1. */
static ssize_t find_entry(const struct pagemap_read *r, uint64_t addr)
{
	size_t lo = 0, hi = r->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const PagemapEntry *pe = r->pmes[mid];

		if (addr < pe->vaddr)
			hi = mid;
		else if (addr >= pe->vaddr + pe->nr_pages * PAGE_SIZE)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

int page_chain_find_from(const struct page_chain *c, int from, uint64_t addr, int *fd, off_t *off)
{
	for (int i = from; i < c->nr; i++) {
		const struct pagemap_read *r = &c->lvl[i];
		ssize_t e = find_entry(r, addr);

		if (e < 0)
			return -ENOENT;
		if (r->pmes[e]->flags & PE_PARENT)
			continue;
		*fd = r->pages_fd;
		*off = r->offset[e] + (addr - r->pmes[e]->vaddr);
		return 0;
	}
	return -ENOENT;
}

int page_chain_find(const struct page_chain *c, uint64_t addr, int *fd, off_t *off)
{
	return page_chain_find_from(c, 0, addr, fd, off);
}

/* page_chain_run() from level `from`: an entry's lookup per entry, the levels above only for PE_PARENT ones. */
static unsigned long chain_run_from(const struct page_chain *c, int from, uint64_t addr, unsigned long max)
{
	unsigned long n = 0;

	while (n < max) {
		uint64_t a = addr + n * PAGE_SIZE;
		ssize_t e = find_entry(&c->lvl[from], a);
		const PagemapEntry *pe;
		unsigned long k, m;

		if (e < 0)
			break;
		pe = c->lvl[from].pmes[e];
		k = min(max - n, (unsigned long)((pe->vaddr + pe->nr_pages * PAGE_SIZE - a) / PAGE_SIZE));
		m = !(pe->flags & PE_PARENT) ? k : from + 1 < c->nr ? chain_run_from(c, from + 1, a, k) : 0;
		n += m;
		if (m < k)
			break;
	}
	return n;
}

unsigned long page_chain_run(const struct page_chain *c, uint64_t addr, unsigned long max)
{
	return c->nr ? chain_run_from(c, 0, addr, max) : 0;
}

/* Copy len bytes at off of in to the end of out. */
static int copy_bytes(int out, int in, off_t off, size_t len)
{
	while (len) {
		ssize_t n = sendfile(out, in, &off, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* the pages image is shorter than its pagemap says */
		len -= n;
	}
	return 0;
}

/* The pages of a PE_PARENT entry, page by page runs, from the chain to out. */
static int copy_from_chain(const struct page_chain *c, int out, const PagemapEntry *pe)
{
	uint64_t addr = pe->vaddr, end = pe->vaddr + pe->nr_pages * PAGE_SIZE;

	while (addr < end) {
		off_t off, next_off;
		uint64_t run = PAGE_SIZE;
		int fd, next_fd, ret = page_chain_find(c, addr, &fd, &off);

		if (ret < 0) {
			pr_debug("page %#llx is in no parent image\n", (unsigned long long)addr);
			return -ENOLINK;
		}
		/* the longest run that follows in the same image */
		while (addr + run < end && !page_chain_find(c, addr + run, &next_fd, &next_off) && next_fd == fd &&
		       next_off == off + (off_t)run)
			run += PAGE_SIZE;
		ret = copy_bytes(out, fd, off, run);
		if (ret < 0)
			return ret;
		addr += run;
	}
	return 0;
}

int page_chain_flatten(int dir_dfd, unsigned long id, PagemapEntry **pmes, size_t nr, int pages_fd, bool check,
		       int *ret_fd, char *why, size_t why_len)
{
	struct page_chain c;
	_cleanup_close_ int out = -1;
	off_t own_off = 0;
	int ret;

	ret = page_chain_open(&c, dir_dfd, id, check, why, why_len);
	if (ret < 0)
		return ret == -ENOENT ? -ENOLINK : ret;
	out = memfd_create("criu-pages", MFD_CLOEXEC);
	if (out < 0) {
		ret = -errno;
		snprintf(why, why_len, "memfd_create: %s", strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < nr && !ret; i++) {
		PagemapEntry *pe = pmes[i];
		size_t len = pe->nr_pages * PAGE_SIZE;

		if (pe->flags & PE_PARENT) {
			ret = copy_from_chain(&c, out, pe);
			if (ret == -ENOLINK)
				snprintf(why, why_len, "pages at %#llx are in no parent image",
					 (unsigned long long)pe->vaddr);
			pe->flags = (pe->flags & ~PE_PARENT) | PE_PRESENT;
			pe->has_in_parent = false;
		} else if (pe->flags & PE_PRESENT) {
			ret = copy_bytes(out, pages_fd, own_off, len);
			own_off += len;
		}	/* else left on the source (pagemap_entry_remote()): no bytes here or there */
		if (ret < 0 && !why[0])
			snprintf(why, why_len, "copying pages at %#llx: %s", (unsigned long long)pe->vaddr,
				 strerror(-ret));
	}
	if (!ret) {
		*ret_fd = out;
		out = -1;
	}
out:
	page_chain_close(&c);
	return ret;
}
