// SPDX-License-Identifier: GPL-2.0
/*
 * Page deduplication of image chains (dedup.h).
 *
 * A dir D of a chain (pre-dump, pre-dump, dump: each links `parent` to the
 * previous) holds itself the pages that changed since its parent; for those
 * its pagemap entries are PE_PRESENT and the restore of D (or of a later
 * child, which reads through D) never reads them from an ancestor
 * (page_chain_flatten() takes the nearest level that holds a page). So the
 * ancestors' copies are dead, and dedup punches them (PUNCH_HOLE, the file
 * keeps its length: the offsets in the pagemaps stay right).
 *
 * The manifests: an ancestor's pages image read back after the punch has
 * zeros where the page was, so its manifest.img no longer matches. Each
 * ancestor is checked against its manifest before it is touched, marked
 * (DEDUP_MARK) and punched, and its manifest written again over what is now
 * there. No child records its parent's manifest: a child checks each level
 * against that level's own manifest (page-chain.c), so the chain checks
 * again. The mark is in the new manifest: the ancestor restores no more by
 * itself (its pages are partly holes), only through its child.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "crc32c.h"
#include "cr_options.h"
#include "dedup.h"
#include "images-dir.h"
#include "image.h"
#include "image-check.h"
#include "page-chain.h"
#include "pagemap.h"
#include "protobuf.h"
#include "inventory.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "dedup: "

/* An ancestor dir of the chain. */
struct dd_level {
	int dfd;		/* -1 until opened */
	bool checked;		/* its manifest's seal checked, marked: ready to punch */
	bool rewrite;		/* it has a sealed manifest: updated once punched */
	bool touched;		/* pages were punched */
	int lock;		/* images_dir_claim() of dfd while it is changed, -1 before */
	struct manifest_change *ch;	/* the pages images punched, their CRC changes */
	size_t nr_ch;
};

struct dd_ctx {
	int img_dfd;
	struct dd_level lvl[PAGE_CHAIN_MAX];
	struct dedup_stats *st;
};

static int open_parent(int dfd)
{
	int fd = openat(dfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int read_inventory(int dfd, InventoryEntry **ret)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_INVENTORY, O_RSTR);
	int r;

	if (!img)
		return -errno;
	if (img_is_empty(img)) {
		close_image(img);
		*ret = NULL;	/* a CRIU page server's dir */
		return 0;
	}
	r = pb_read_one(img, (void **)ret, PB_INVENTORY);
	close_image(img);
	return r;
}

/*
 * How dfd's images are checked (from its inventory.img): 0, 1 when it has
 * none (a CRIU page server's dir: nothing to check or write), -errno when
 * unreadable or an old dump of ours whose inventory.img holds its
 * manifest's CRC (a changed manifest would break that check).
 */
static int dir_check_how(int dfd, const char *what, struct image_check_how *how)
{
	InventoryEntry *ie = NULL;
	int ret = read_inventory(dfd, &ie);

	if (ret)
		return pr_fail(ret, "%s: can't read its inventory.img: %s\n", what, strerror(-ret));
	if (!ie) {
		pr_warn("%s has no inventory.img (a CRIU page server's dir): no manifest to check or update\n", what);
		return 1;
	}
	image_check_how_of(ie, IMG_CHECK_ALL, how);
	pb_free(ie, PB_INVENTORY);
	if (how->has_manifest_crc)
		return pr_fail(-EOPNOTSUPP, "%s is an old dump of ours (inventory.img holds its manifest's CRC): "
					    "dedup would break its check, not done\n", what);
	return 0;
}

/* The dir against its manifest, as the restore checks it; *rewrite: it has a manifest we write again. */
static int check_dir(int dfd, const char *what, bool *rewrite)
{
	struct image_check_how how;
	int ret = dir_check_how(dfd, what, &how);

	*rewrite = false;
	if (ret)
		return ret < 0 ? ret : 0;
	ret = check_images(dfd, &how);
	if (ret)
		return pr_fail(ret, "%s does not match its manifest.img: not touched\n", what);
	*rewrite = !faccessat(dfd, "manifest.img", F_OK, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int write_mark(int dfd)
{
	static const char text[] = "pages of this images dir were punched by criu dedup of a later dump: "
				   "restore that dump\n";
	int fd = openat(dfd, DEDUP_MARK, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, sizeof(text) - 1);
	if (n != (ssize_t)sizeof(text) - 1) {
		int e = n < 0 ? -errno : -EIO;

		close(fd);
		return e;
	}
	return close(fd) ? -errno : 0;
}

/*
 * An ancestor before it is punched: its manifest's seal (the entries are
 * updated by the changes, the files not read: a file that did not match
 * still does not). *rewrite: it has a manifest to update.
 */
static int check_ancestor(int dfd, const char *what, bool *rewrite)
{
	struct image_check_how how;
	int ret = dir_check_how(dfd, what, &how);

	*rewrite = false;
	if (ret)
		return ret < 0 ? ret : 0;
	if (faccessat(dfd, "manifest.img", F_OK, AT_SYMLINK_NOFOLLOW))
		return check_images(dfd, &how);	/* CRIU's: a warning; ours: refused */
	ret = image_manifest_sealed(dfd);
	if (ret)
		return pr_fail(ret, "%s: its manifest.img does not check: not touched\n", what);
	*rewrite = true;
	return 0;
}

/* Level i of the chain above img_dfd: opened, checked, marked before anything is punched. */
static int get_level(struct dd_ctx *d, int i)
{
	struct dd_level *l = &d->lvl[i];
	char what[32];
	int ret;

	if (l->checked)
		return 0;
	if (l->dfd < 0) {
		int from = i ? d->lvl[i - 1].dfd : d->img_dfd;

		if (i && from < 0)
			return -EINVAL;
		l->dfd = open_parent(from);
		if (l->dfd < 0)
			return pr_fail(l->dfd, "level %d: can't open the parent dir: %s\n", i + 1, strerror(-l->dfd));
	}
	snprintf(what, sizeof(what), "parent level %d", i + 1);
	/* one writer of its pages and manifest at a time: a dump or another dedup holds it */
	l->lock = images_dir_claim(l->dfd, "nothing punched there");
	if (l->lock < 0)
		return l->lock;
	ret = check_ancestor(l->dfd, what, &l->rewrite);
	if (ret)
		return ret;
	ret = write_mark(l->dfd);
	if (ret)
		return pr_fail(ret, "%s: can't write %s: %s\n", what, DEDUP_MARK, strerror(-ret));
	l->checked = true;
	return 0;
}

/* fd of a pagemap_read (read-only) again, for writing. */
static int reopen_rw(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int punch(int fd, off_t off, off_t len)
{
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return pr_fail_errno("fallocate(PUNCH_HOLE) %lld+%lld", (long long)off, (long long)len);
	return 0;
}

/*
 * The change of a file's CRC-32C when len bytes at off become zeros: the
 * CRC is affine, so it moves by the pure linear CRC of the old bytes
 * (~crc32c(~0, ...): no pre- nor post-inversion) times x^(8 * the bytes after
 * them) - crc32c_combine() with an empty second part.
 */
static int punched_crc_xor(int fd, off_t off, off_t len, off_t size, uint32_t *ret)
{
	static char buf[1 << 16];
	uint32_t c = ~0u;
	off_t pos = off;

	while (pos < off + len) {
		ssize_t n = pread(fd, buf, min((off_t)sizeof(buf), off + len - pos), pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		c = crc32c(c, buf, n);
		pos += n;
	}
	*ret = crc32c_combine(~c, 0, size - off - len);
	return 0;
}

static int note_change(struct dd_level *l, unsigned int pages_id, uint32_t crc_xor)
{
	struct manifest_change *n;
	char name[64];

	snprintf(name, sizeof(name), "pages-%u.img", pages_id);
	for (size_t i = 0; i < l->nr_ch; i++) {
		if (!strcmp(l->ch[i].name, name)) {
			l->ch[i].crc_xor ^= crc_xor;
			return 0;
		}
	}
	n = realloc(l->ch, (l->nr_ch + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->ch = n;
	memset(&n[l->nr_ch], 0, sizeof(*n));
	memcpy(n[l->nr_ch].name, name, strlen(name) + 1);
	n[l->nr_ch++].crc_xor = crc_xor;
	return 0;
}

/* The pages of [off, off + len) that are data, not holes yet (a page punched before is not counted again). */
static uint64_t data_pages(int fd, off_t off, off_t len)
{
	uint64_t n = 0;

	while (len > 0) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0 || data >= off + len)
			break;	/* ENXIO: no data after off */
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > off + len)
			hole = off + len;
		n += (hole - data) / PAGE_SIZE;
		len -= hole - off;
		off = hole;
	}
	return n;
}

/* Punch len bytes at off of level l's pages image pages_id, the CRC change noted first. */
static int punch_run(struct dd_ctx *d, struct dd_level *l, unsigned int pages_id, int fd, off_t off, off_t len)
{
	uint32_t x = 0;
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return pr_fail_errno("pages-%u.img: fstat", pages_id);
	ret = punched_crc_xor(fd, off, len, st.st_size, &x);
	if (ret)
		return pr_fail(ret, "pages-%u.img: can't read %lld+%lld: %s\n", pages_id, (long long)off,
			       (long long)len, strerror(-ret));
	ret = note_change(l, pages_id, x);
	if (ret)
		return ret;
	d->st->pages += data_pages(fd, off, len);
	return punch(fd, off, len);
}

/* The pages of own's PE_PRESENT entries that level i of c holds itself, punched there. */
static int punch_level(struct dd_ctx *d, const struct page_chain *c, int i, const struct pagemap_read *own)
{
	const struct pagemap_read *r = &c->lvl[i];
	_cleanup_close_ int rw = -1;
	off_t run_off = 0, run_len = 0;
	int ret = 0;

	if (r->pages_fd < 0 || !r->nr_pages)
		return 0;
	for (size_t e = 0; e < own->nr && !ret; e++) {
		const PagemapEntry *pe = own->pmes[e];

		if (!(pe->flags & PE_PRESENT) || (pe->flags & PE_PARENT))
			continue;
		for (uint64_t p = 0; p < pe->nr_pages && !ret; p++) {
			uint64_t addr = pe->vaddr + p * PAGE_SIZE;
			off_t off;
			int fd;

			if (page_chain_find_from(c, i, addr, &fd, &off) || fd != r->pages_fd)
				continue;	/* not held by this level itself */
			if (rw < 0) {
				ret = get_level(d, i);
				if (ret)
					return ret;
				rw = reopen_rw(r->pages_fd);
				if (rw < 0)
					return pr_fail(rw, "level %d: pages-%u.img: can't open it for writing: %s\n",
						       i + 1, r->pages_id, strerror(-rw));
			}
			if (run_len && off == run_off + run_len) {
				run_len += PAGE_SIZE;
			} else {
				if (run_len)
					ret = punch_run(d, &d->lvl[i], r->pages_id, rw, run_off, run_len);
				run_off = off;
				run_len = PAGE_SIZE;
			}
			d->lvl[i].touched = true;
		}
	}
	if (!ret && run_len)
		ret = punch_run(d, &d->lvl[i], r->pages_id, rw, run_off, run_len);
	return ret;
}

static int dedup_task(struct dd_ctx *d, unsigned long id)
{
	struct pagemap_read own;
	struct page_chain c;
	char why[256] = "";
	int ret = read_pagemap_image(d->img_dfd, CR_FD_PAGEMAP, id, &own);

	if (ret)
		return pr_fail(ret, "pagemap-%lu.img: %s\n", id, strerror(-ret));
	ret = page_chain_open(&c, d->img_dfd, id, false, why, sizeof(why));
	if (ret == -ENOENT) {
		pr_info("task %lu: no parent holds its pages\n", id);
		pagemap_read_free(&own);
		return 0;
	}
	if (ret) {
		pagemap_read_free(&own);
		return pr_fail(ret, "task %lu: the chain of parent images is broken (%s): nothing punched for it\n", id,
			       why);
	}
	for (int i = 0; i < c.nr && !ret; i++)
		ret = punch_level(d, &c, i, &own);
	page_chain_close(&c);
	pagemap_read_free(&own);
	return ret;
}

/* The ids of the pagemap-<id>.img files of dfd (shmem: pagemap-shmem-<id>.img). */
static int pagemap_ids(int dfd, bool shmem, unsigned long **ret_ids, size_t *ret_nr)
{
	_cleanup_closedir_ DIR *dir = NULL;
	unsigned long *ids = NULL;
	size_t nr = 0;
	struct dirent *de;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(dir))) {
		const char *prefix = shmem ? "pagemap-shmem-" : "pagemap-";
		size_t plen = strlen(prefix);
		unsigned long id;
		char *end;

		if (strncmp(de->d_name, prefix, plen) || de->d_name[plen] < '0' || de->d_name[plen] > '9')
			continue;
		errno = 0;
		id = strtoul(de->d_name + plen, &end, 10);
		if (errno || strcmp(end, ".img"))
			continue;
		unsigned long *m = realloc(ids, (nr + 1) * sizeof(*ids));

		if (!m) {
			free(ids);
			return -ENOMEM;
		}
		ids = m;
		ids[nr++] = id;
	}
	*ret_ids = ids;
	*ret_nr = nr;
	return 0;
}

/* The touched levels' manifests written again: also after a failure, for what was punched. */
static int finish_levels(struct dd_ctx *d)
{
	int ret = 0;

	for (int i = 0; i < PAGE_CHAIN_MAX; i++) {
		struct dd_level *l = &d->lvl[i];

		if (l->checked && l->rewrite) {
			int r = image_manifest_update(l->dfd, l->ch, l->nr_ch, DEDUP_MARK);

			if (r && !ret)
				ret = pr_fail(r, "parent level %d: can't update its manifest.img\n", i + 1);
		}
		free(l->ch);
		l->ch = NULL;
		l->nr_ch = 0;
		if (l->touched)
			d->st->levels++;
		if (l->dfd >= 0)
			close(l->dfd);
		l->dfd = -1;
		if (l->lock >= 0)
			close(l->lock);
		l->lock = -1;
	}
	return ret;
}

int dedup_chain(int img_dfd, bool check_self, struct dedup_stats *st)
{
	struct dd_ctx d = { .img_dfd = img_dfd, .st = st };
	_cleanup_free_ unsigned long *ids = NULL;
	size_t nr = 0;
	bool rewrite;
	int ret;

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < PAGE_CHAIN_MAX; i++)
		d.lvl[i].dfd = d.lvl[i].lock = -1;
	if (check_self) {
		ret = check_dir(img_dfd, "the images dir", &rewrite);
		if (ret)
			return ret;
	}
	ret = pagemap_ids(img_dfd, false, &ids, &nr);
	if (ret)
		return pr_fail(ret, "can't list the pagemaps of the images dir: %s\n", strerror(-ret));
	for (size_t i = 0; i < nr && !ret; i++)
		ret = dedup_task(&d, ids[i]);
	ret = finish_levels(&d) ?: ret;
	if (!ret)
		pr_info("%" PRIu64 " pages punched out of %d parent dirs\n", st->pages, st->levels);
	return ret;
}

/* Every pages image (pages-<n>.img a pagemap-[shmem-]<id>.img names) of dfd, punched whole. */
static int consume_pagemaps(int dfd, bool shmem, int level, uint64_t *bytes)
{
	_cleanup_free_ unsigned long *ids = NULL;
	size_t nr = 0;
	int ret = pagemap_ids(dfd, shmem, &ids, &nr);

	for (size_t i = 0; i < nr && !ret; i++) {
		struct pagemap_read r;
		_cleanup_close_ int rw = -1;
		struct stat s;

		ret = read_pagemap_image(dfd, shmem ? CR_FD_SHMEM_PAGEMAP : CR_FD_PAGEMAP, ids[i], &r);
		if (ret)
			return pr_fail(ret, "level %d: pagemap-%s%lu.img: %s\n", level, shmem ? "shmem-" : "", ids[i],
				       strerror(-ret));
		if (r.pages_fd >= 0) {
			rw = reopen_rw(r.pages_fd);
			ret = rw < 0 ? pr_fail(rw, "level %d: pages-%u.img: can't open it for writing: %s\n", level,
					       r.pages_id, strerror(-rw)) : fstat(rw, &s) ? -errno : 0;
			if (!ret && s.st_size)
				ret = punch(rw, 0, s.st_size);
			if (!ret)
				*bytes += s.st_size;
		}
		pagemap_read_free(&r);
	}
	return ret;
}

static int consume_dir(int dfd, int level, uint64_t *bytes)
{
	return consume_pagemaps(dfd, false, level, bytes) ?: consume_pagemaps(dfd, true, level, bytes);
}

int dedup_consume(int img_dfd)
{
	uint64_t bytes = 0;
	int dfd = img_dfd, ret = 0, level = 0;

	for (;;) {
		_cleanup_close_ int lock = images_dir_claim(dfd, "its pages are left whole");
		int pfd;

		if (lock < 0) {	/* a dump, a dedup or a page server is in this dir: hands off */
			ret = lock;
			break;
		}
		ret = write_mark(dfd);
		if (ret) {
			pr_err("level %d: can't write %s: %s\n", level, DEDUP_MARK, strerror(-ret));
			break;
		}
		ret = consume_dir(dfd, level, &bytes);
		if (ret)
			break;
		level++;
		pfd = open_parent(dfd);
		if (dfd != img_dfd)
			close(dfd);
		dfd = -1;
		if (pfd < 0)
			break;	/* the top of the chain */
		if (level >= PAGE_CHAIN_MAX) {
			close(pfd);
			break;
		}
		dfd = pfd;
	}
	if (dfd >= 0 && dfd != img_dfd)
		close(dfd);
	if (!ret)
		pr_info("--auto-dedup: %" PRIu64 " bytes of pages images punched in %d dirs; they restore no more\n",
			bytes, level);
	return ret;
}

int dedup_refuse_punched(int img_dfd)
{
	if (faccessat(img_dfd, DEDUP_MARK, F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;
	return pr_fail(-EINVAL, "the images dir has %s: its pages were punched (criu dedup of a later dump, or "
				"restore --auto-dedup): restore the later dump instead\n", DEDUP_MARK);
}

int dedup_dump_allowed(void)
{
	if (opts.auto_dedup && opts.use_page_server)
		return pr_fail(-EINVAL, "--auto-dedup with --page-server: the pages are not here; run criu dedup -D on the page server's dir\n");
	return 0;
}

int dedup_after_dump(int img_dfd)
{
	struct dedup_stats st;
	int ret;

	if (!opts.auto_dedup)
		return 0;
	ret = dedup_chain(img_dfd, false, &st);
	if (ret)
		pr_err("--auto-dedup FAILED (the dump itself is complete)\n");
	return ret;
}
