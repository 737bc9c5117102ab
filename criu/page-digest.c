// SPDX-License-Identifier: GPL-2.0
/*
 * Page digests of a chain of dumps that went to a page server (page-digest.h).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "common.h"
#include "image.h"
#include "page-digest.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-digest: "

void page_digest_of(const void *page, uint8_t out[PAGE_DIGEST_LEN])
{
	gnutls_hash_fast(GNUTLS_DIG_SHA256, page, PAGE_SIZE, out);
}

int page_digests_add(struct page_digests *dg, uint64_t vaddr, const void *page, const uint8_t *sha)
{
	struct page_digest *e;

	if (dg->nr == dg->cap) {
		size_t ncap = dg->cap ? dg->cap * 2 : 4096;
		struct page_digest *n = realloc(dg->d, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		dg->d = n;
		dg->cap = ncap;
	}
	e = &dg->d[dg->nr++];
	e->vaddr = vaddr;
	if (sha)
		memcpy(e->sha, sha, PAGE_DIGEST_LEN);
	else
		page_digest_of(page, e->sha);
	return 0;
}

const uint8_t *page_digests_find(const struct page_digests *dg, uint64_t vaddr)
{
	size_t lo = 0, hi = dg->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dg->d[mid].vaddr == vaddr)
			return dg->d[mid].sha;
		if (dg->d[mid].vaddr < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool sorted(const struct page_digests *dg)
{
	for (size_t i = 1; i < dg->nr; i++)
		if (dg->d[i].vaddr <= dg->d[i - 1].vaddr)
			return false;
	return true;
}

int page_digests_read_parent(int dfd, int id, struct page_digests *ret)
{
	_cleanup_close_ int pfd = openat(dfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct page_digests dg = {};
	struct cr_img *img;
	struct stat st;
	int fd, err = 0;

	if (pfd < 0)
		return -errno;
	img = open_image_at(pfd, CR_FD_PAGE_DIGESTS, O_RSTR, id);
	if (!img)
		return -errno;
	if (img_is_empty(img)) {
		close_image(img);
		return -ENOENT;
	}
	fd = img_raw_fd(img);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size % sizeof(struct page_digest)) {
		err = fd < 0 ? fd : -EINVAL;
		goto out;
	}
	dg.nr = dg.cap = st.st_size / sizeof(struct page_digest);
	dg.d = malloc(st.st_size ?: 1);
	if (!dg.d) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, dg.d, st.st_size, 0) != st.st_size)
		err = -EIO;
	else if (!sorted(&dg))
		err = -EINVAL;
out:
	close_image(img);
	if (err)
		page_digests_free(&dg);
	else
		*ret = dg;
	return err;
}

int page_digests_write(int dfd, int id, const struct page_digests *dg)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_PAGE_DIGESTS, O_DUMP, id);
	int fd, ret;

	if (!img)
		return -errno;
	fd = img_raw_fd(img);
	ret = fd < 0 ? fd : write_all(fd, dg->d, dg->nr * sizeof(*dg->d));
	if (ret) {
		discard_image(img);
		return ret;
	}
	return close_image_checked(img);
}

void page_digests_free(struct page_digests *dg)
{
	free(dg->d);
	memset(dg, 0, sizeof(*dg));
}
