// SPDX-License-Identifier: GPL-2.0
/*
 * The image manifest (manifest.img, ours): integrity beyond CRIU's images.
 *
 * Dump: once every other image is closed, inventory.img included, list
 * each image file of the directory (a name ending in ".img", but
 * manifest.img) with its length and CRC-32C into manifest.img, and close it
 * with a seal: an entry named "manifest.img" whose length and CRC are those
 * of the bytes before it. manifest.img is written last: for a dump of ours
 * it is the mark of a complete dump (inventory.img is that mark for CRIU's
 * restore, which ignores manifest.img).
 *
 * Restore: before anything else, the seal must match, every listed file must
 * be there with its length and CRC, and no other image file may be: a
 * missing, truncated, changed or added image is refused with its name. A
 * dump whose inventory.img is CRIU's (lsmtype, dump_criu_run_id) and that
 * has no manifest restores with a warning; a dump of ours without one is
 * refused. --skip-image-check skips the check for hand-edited images.
 *
 * Dumps of ours before the seal kept the manifest's CRC in inventory.img
 * (field 100, which CRIU's crit drops) and listed every image but
 * inventory.img: they are checked that way.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>

#include "common.h"
#include "crc32c.h"
#include "image-check.h"
#include "image.h"
#include "pages-crc.h"
#include "protobuf.h"

#include "inventory.pb-c.h"
#include "manifest.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "image-check: "

#define CRC_CHUNK (1u << 20)
/* Files from this size up are summed by several threads, each taking at least this much. */
#define CRC_PIECE_MIN (16ULL << 20)
#define CRC_MAX_THREADS 16

#define SEAL_NAME "manifest.img"

/* An image file the manifest covers (inventory.img only in a sealed one). */
static bool is_manifest_name(const char *name, bool sealed)
{
	size_t len = strlen(name);

	if (len < 5 || strcmp(name + len - 4, ".img"))
		return false;
	return (sealed || strcmp(name, "inventory.img")) && strcmp(name, SEAL_NAME);
}

/* One piece of a file summed by one thread. */
struct crc_piece {
	int fd;
	uint64_t off, len;
	uint32_t crc;
	int err;
};

static void *crc_piece_run(void *arg)
{
	struct crc_piece *p = arg;
	_cleanup_free_ char *buf = xmalloc(CRC_CHUNK);
	uint64_t off = p->off, left = p->len;

	if (!buf) {
		p->err = -ENOMEM;
		return NULL;
	}
	while (left) {
		ssize_t n = pread(p->fd, buf, min(left, (uint64_t)CRC_CHUNK), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			p->err = n ? -errno : -EAGAIN;	/* shorter than its size: summed again in one go */
			return NULL;
		}
		p->crc = crc32c(p->crc, buf, n);
		off += n;
		left -= n;
	}
	return NULL;
}

static int cpus_allowed(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) < 1)
		return 1;
	return min(CPU_COUNT(&set), CRC_MAX_THREADS);
}

/*
 * A large file (a pages image) is summed in pieces, one thread per CPU, and
 * the pieces' CRCs combined: the check costs a fraction of a read of it.
 * 0, -EAGAIN (not in pieces: sum it in one go) or -errno.
 */
static int crc_in_pieces(int fd, uint64_t size, uint32_t *ret_crc)
{
	struct crc_piece pc[CRC_MAX_THREADS];
	pthread_t th[CRC_MAX_THREADS];
	int nr = (int)min((uint64_t)cpus_allowed(), size / CRC_PIECE_MIN), started = 0, ret = 0;
	uint64_t off = 0;
	uint32_t crc = 0;

	if (nr < 2)
		return -EAGAIN;
	for (int i = 0; i < nr; i++) {
		uint64_t len = i == nr - 1 ? size - off : (size / nr) & ~(uint64_t)(CRC_CHUNK - 1);

		pc[i] = (struct crc_piece){ .fd = fd, .off = off, .len = len };
		off += len;
	}
	for (int i = 1; i < nr; i++) {
		if (pthread_create(&th[i], NULL, crc_piece_run, &pc[i])) {
			pc[i].err = -EAGAIN;
			continue;
		}
		started |= 1 << i;
	}
	crc_piece_run(&pc[0]);
	for (int i = 1; i < nr; i++)
		if (started & (1 << i))
			pthread_join(th[i], NULL);
	for (int i = 0; i < nr && !ret; i++) {
		ret = pc[i].err;
		crc = i ? crc32c_combine(crc, pc[i].crc, pc[i].len) : pc[i].crc;
	}
	if (!ret)
		*ret_crc = crc;
	return ret;
}

/*
 * Process-wide, like opts: the CRCs the dump computed while it wrote
 * (image_crc_known()), used and dropped by the next write_image_manifest().
 */
struct known_crc {
	dev_t dev;
	ino_t ino;
	uint64_t size;
	uint32_t crc;
};
static struct known_crc *known_crcs;
static size_t nr_known_crcs;

int image_crc_known(int fd, uint64_t size, uint32_t crc)
{
	struct known_crc *n;
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	n = realloc(known_crcs, (nr_known_crcs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	known_crcs = n;
	known_crcs[nr_known_crcs++] = (struct known_crc){ st.st_dev, st.st_ino, size, crc };
	return 0;
}

bool image_crc_from_dump(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc)
{
	struct stat st;

	if (!nr_known_crcs || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
		return false;
	for (size_t i = 0; i < nr_known_crcs; i++) {
		const struct known_crc *k = &known_crcs[i];

		if (k->dev == st.st_dev && k->ino == st.st_ino && k->size == (uint64_t)st.st_size) {
			*ret_size = k->size;
			*ret_crc = k->crc;
			return true;
		}
	}
	return false;
}

static void forget_known_crcs(void)
{
	free(known_crcs);
	known_crcs = NULL;
	nr_known_crcs = 0;
}

/* Length and CRC-32C of the first `limit` bytes of the file name in dfd (all: UINT64_MAX). 0 or -errno. */
static int file_crc(int dfd, const char *name, uint64_t limit, uint64_t *ret_size, uint32_t *ret_crc)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	uint64_t size = 0;
	uint32_t crc = 0;
	struct stat st;
	int ret;

	if (fd < 0)
		return -errno;
	/* in pieces only when the whole file is summed (the seal's check sums a prefix) */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && limit >= (uint64_t)st.st_size) {
		ret = crc_in_pieces(fd, (uint64_t)st.st_size, &crc);
		if (!ret) {
			*ret_size = (uint64_t)st.st_size;
			*ret_crc = crc;
			return 0;
		}
		if (ret != -EAGAIN)
			return ret;
		crc = 0;
	}
	buf = xmalloc(CRC_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (size < limit) {
		ssize_t n = read(fd, buf, limit - size < CRC_CHUNK ? limit - size : CRC_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		crc = crc32c(crc, buf, n);
		size += n;
	}
	*ret_size = size;
	*ret_crc = crc;
	return 0;
}

int image_file_crc(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc)
{
	return file_crc(dfd, name, UINT64_MAX, ret_size, ret_crc);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
}

/* The sorted names of the image files in dfd that a manifest covers. */
static int list_images(int dfd, bool sealed, char ***ret_names, size_t *ret_nr)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t nr = 0;
	struct dirent *de;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		char **n;

		if (!is_manifest_name(de->d_name, sealed) || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		n = xrealloc(names, (nr + 1) * sizeof(*names));
		if (!n)
			goto nomem;
		names = n;
		names[nr] = xstrdup(de->d_name);
		if (!names[nr])
			goto nomem;
		nr++;
	}
	qsort(names, nr, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_nr = nr;
	return 0;
nomem:
	free_names(names, nr);
	return -ENOMEM;
}

/* The last entry: the length and CRC-32C of manifest.img's bytes so far. */
static int write_seal(int img_dfd, struct cr_img *img)
{
	ImageManifestEntry e = IMAGE_MANIFEST_ENTRY__INIT;
	int ret = img_raw_fd(img) < 0 ? -EIO : 0;	/* writes out the buffered entries */

	if (!ret)
		ret = image_file_crc(img_dfd, SEAL_NAME, &e.size, &e.crc32c);
	if (ret)
		return pr_fail(ret, "manifest.img: can't read it back to seal it: %s\n", strerror(-ret));
	e.name = SEAL_NAME;
	return pb_write_one(img, &e, PB_MANIFEST);
}

int write_image_manifest(int img_dfd)
{
	struct cr_img *img;
	char **names = NULL;
	size_t nr = 0;
	int ret;

	ret = list_images(img_dfd, true, &names, &nr);
	if (ret) {
		forget_known_crcs();
		return pr_fail(ret, "can't list the images to write manifest.img: %s\n", strerror(-ret));
	}
	img = open_image_at(img_dfd, CR_FD_MANIFEST, O_DUMP);
	if (!img) {
		ret = pr_fail(-errno, "can't create %s\n", img_last_error());
		goto out;
	}
	for (size_t i = 0; i < nr && !ret; i++) {
		ImageManifestEntry e = IMAGE_MANIFEST_ENTRY__INIT;

		e.name = names[i];
		ret = image_crc_from_dump(img_dfd, names[i], &e.size, &e.crc32c) ? 0 :
		      image_file_crc(img_dfd, names[i], &e.size, &e.crc32c);
		if (ret) {
			pr_err("%s: can't read it back for manifest.img: %s\n", names[i], strerror(-ret));
			break;
		}
		ret = pb_write_one(img, &e, PB_MANIFEST);
	}
	if (!ret)
		ret = write_seal(img_dfd, img);
	if (ret) {
		discard_image(img);
		goto out;
	}
	ret = close_image_checked(img);
	if (ret)
		pr_err("manifest.img: can't write it: %s\n", strerror(-ret));
	else
		pr_info("manifest.img: %zu images\n", nr);
out:
	forget_known_crcs();
	free_names(names, nr);
	return ret;
}

/* Only the length of this image is checked: a lazy restore's pages (checked by the daemon), or not pages. */
static bool size_only(enum img_check how, const char *name)
{
	bool pages = !strncmp(name, "pages-", 6);

	return (how == IMG_CHECK_PAGES_BY_SIZE && pages) || (how == IMG_CHECK_PAGES_ONLY && !pages);
}

static int file_size(int dfd, const char *name, uint64_t *ret_size)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	*ret_size = st.st_size;
	return 0;
}

/* A pages image whose CRC the restore checks as it reads it (pages-crc.h). */
static bool deferred(const struct image_check_how *how, const char *name)
{
	return how->defer && how->mode == IMG_CHECK_ALL && !strncmp(name, "pages-", 6);
}

/* One listed image: there, with its length and CRC. */
static int check_one(int dfd, const ImageManifestEntry *e, bool sealed, const struct image_check_how *how)
{
	bool later = deferred(how, e->name), no_crc = later || size_only(how->mode, e->name);
	uint64_t size;
	uint32_t crc = 0;
	int ret;

	if (!is_manifest_name(e->name, sealed) || strchr(e->name, '/'))
		return pr_fail(-EINVAL, "manifest.img: '%s' is not the name of an image file\n", e->name);
	ret = no_crc ? file_size(dfd, e->name, &size) : image_file_crc(dfd, e->name, &size, &crc);
	if (ret == -ENOENT)
		return pr_fail(-ENOENT, "%s is missing (manifest.img lists it)\n", e->name);
	if (ret)
		return pr_fail(ret, "%s: can't read it: %s\n", e->name, strerror(-ret));
	if (size < e->size)
		return pr_fail(-EINVAL, "%s is truncated: %" PRIu64 " bytes, the dump wrote %" PRIu64 "\n", e->name,
			       size, e->size);
	if (size != e->size)
		return pr_fail(-EINVAL, "%s has changed: %" PRIu64 " bytes, the dump wrote %" PRIu64 "\n", e->name,
			       size, e->size);
	if (!no_crc && crc != e->crc32c)
		return pr_fail(-EINVAL, "%s has changed since the dump (CRC-32C %08x, the dump wrote %08x)\n",
			       e->name, crc, e->crc32c);
	if (later) {
		ret = pages_crc_defer(how->defer, dfd, e->name, e->size, e->crc32c);
		if (ret)
			return pr_fail(ret, "%s: %s\n", e->name, strerror(-ret));
	}
	return 0;
}

/* A page image a page server writes: pagemap-*.img (tasks' and shmem's) and pages-*.img. */
static bool page_server_image(const char *name)
{
	return !strncmp(name, "pagemap-", 8) || !strncmp(name, "pages-", 6);
}

/*
 * Read every entry of manifest.img; each name is checked against the directory's list.
 * ps_only: the manifest is a page server's, under a CRIU dump's images (check_manifest()):
 * only its pagemaps and pages are that dump's.
 */
static int check_entries(int dfd, struct cr_img *img, char **names, bool *listed, size_t nr, bool sealed,
			 const struct image_check_how *how, bool ps_only)
{
	ImageManifestEntry *e;
	int ret;

	while ((ret = pb_read_one_eof(img, (void **)&e, PB_MANIFEST)) > 0) {
		char **found = bsearch(&e->name, names, nr, sizeof(*names), cmp_names);

		if ((sealed && !strcmp(e->name, SEAL_NAME)) || (ps_only && !page_server_image(e->name)))
			ret = 0;	/* the seal, checked already; the page server's own inventory */
		else if (found && listed[found - names])
			ret = pr_fail(-EINVAL, "manifest.img lists %s twice\n", e->name);
		else
			ret = check_one(dfd, e, sealed, how);
		if (found)
			listed[found - names] = true;
		pb_free(e, PB_MANIFEST);
		if (ret)
			return ret;
	}
	return ret;
}

/* The last entry names manifest.img, with the length and CRC of the bytes before it. */
static int check_seal(int dfd)
{
	struct cr_img *img = open_image_at(dfd, CR_FD_MANIFEST, O_RSTR_REQ);
	ImageManifestEntry *e, *last = NULL;
	uint64_t size, all;
	uint32_t crc;
	int ret;

	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	while ((ret = pb_read_one_eof(img, (void **)&e, PB_MANIFEST)) > 0) {
		pb_free(last, PB_MANIFEST);
		last = e;
	}
	close_image(img);
	if (ret < 0)
		goto out;	/* logged, naming manifest.img */
	ret = -EINVAL;
	if (!last || strcmp(last->name, SEAL_NAME)) {
		pr_err("manifest.img is truncated: its last entry is not its seal\n");
		goto out;
	}
	if (image_file_crc(dfd, SEAL_NAME, &all, &crc) ||
	    all != last->size + sizeof(uint32_t) + image_manifest_entry__get_packed_size(last) ||
	    file_crc(dfd, SEAL_NAME, last->size, &size, &crc) || size != last->size || crc != last->crc32c) {
		pr_err("manifest.img has changed since the dump (its seal does not match its entries)\n");
		goto out;
	}
	ret = 0;
out:
	pb_free(last, PB_MANIFEST);
	return ret;
}

/* Old dumps of ours: the CRC inventory.img holds. */
static int check_manifest_crc(int dfd, uint32_t want_crc)
{
	uint64_t size;
	uint32_t crc;
	int ret = image_file_crc(dfd, SEAL_NAME, &size, &crc);

	if (ret == -ENOENT)
		return pr_fail(-ENOENT, "manifest.img is missing (inventory.img says the dump wrote one)\n");
	if (ret)
		return pr_fail(ret, "manifest.img: can't read it: %s\n", strerror(-ret));
	if (crc != want_crc)
		return pr_fail(-EINVAL, "manifest.img has changed since the dump (CRC-32C %08x, inventory.img says %08x)\n",
			       crc, want_crc);
	return 0;
}

/*
 * A sealed manifest under CRIU's inventory.img can't be the dump's (ours
 * never writes CRIU's fields): it is our page server's, and CRIU's dump was
 * copied over its dir (migration.md, "Images"). Its pagemaps and pages are
 * checked; the rest, CRIU's, is not.
 */
static int check_manifest(int dfd, bool sealed, uint32_t want_crc, const struct image_check_how *how)
{
	bool ps_only = sealed && how->dumped_by_criu;
	_cleanup_free_ bool *listed = NULL;
	struct cr_img *img;
	char **names = NULL;
	size_t nr = 0, nr_listed = 0;
	int ret;

	ret = sealed ? check_seal(dfd) : check_manifest_crc(dfd, want_crc);
	if (ret)
		return ret;
	ret = list_images(dfd, sealed, &names, &nr);
	if (ret)
		return pr_fail(ret, "can't list the images directory: %s\n", strerror(-ret));
	listed = xzalloc((nr ?: 1) * sizeof(*listed));
	img = open_image_at(dfd, CR_FD_MANIFEST, O_RSTR_REQ);
	if (!listed || !img) {
		ret = listed ? pr_fail(-errno, "can't open %s\n", img_last_error()) : -ENOMEM;
		goto out;
	}
	ret = check_entries(dfd, img, names, listed, nr, sealed, how, ps_only);
	close_image(img);
	for (size_t i = 0; !ret && i < nr; i++) {
		if (!listed[i] && how->remote_pages && page_server_image(names[i]))
			continue;	/* from the page server: not in this manifest */
		if (!listed[i] && ps_only)
			continue;	/* CRIU's dump: unchecked, as without a manifest */
		if (!listed[i])
			ret = pr_fail(-EINVAL, "%s is not in manifest.img: it was not written by this dump\n", names[i]);
		nr_listed++;
	}
	if (!ret && ps_only)
		pr_warn("CRIU's dump over a page server's images: only the page server's pagemaps and pages are "
			"checked against its manifest.img\n");
	else if (!ret)
		pr_info("manifest.img: %zu images checked\n", nr_listed);
out:
	free_names(names, nr);
	return ret;
}

int check_images(int img_dfd, const struct image_check_how *how)
{
	if (how->mode == IMG_CHECK_SKIP) {
		pr_warn("--skip-image-check: the images are not checked against manifest.img\n");
		return 0;
	}
	if (how->mode == IMG_CHECK_PAGES_BY_SIZE)
		pr_info("pages images: their lengths only (the lazy-pages daemon checked their CRCs)\n");
	if (how->has_manifest_crc)
		return check_manifest(img_dfd, false, how->manifest_crc, how);
	if (!faccessat(img_dfd, SEAL_NAME, F_OK, AT_SYMLINK_NOFOLLOW))
		return check_manifest(img_dfd, true, 0, how);
	if (errno != ENOENT)
		return pr_fail(-errno, "manifest.img: %s\n", strerror(errno));
	if (!how->dumped_by_criu)
		return pr_fail(-ENOENT, "manifest.img is missing: the dump is not complete (or not this criu's: "
					"inventory.img has no lsmtype nor dump_criu_run_id, which CRIU writes)\n");
	pr_warn("the images have no manifest (written by CRIU): their lengths and checksums are not checked\n");
	return 0;
}

int image_manifest_sealed(int img_dfd)
{
	return check_seal(img_dfd);
}

/* Entry e of the old manifest, its CRC changed as ch says. */
static int apply_changes(ImageManifestEntry *e, const struct manifest_change *ch, size_t nr, bool *used)
{
	for (size_t i = 0; i < nr; i++) {
		if (strcmp(e->name, ch[i].name))
			continue;
		if (used[i])
			return pr_fail(-EINVAL, "manifest.img lists %s twice\n", e->name);
		e->crc32c ^= ch[i].crc_xor;
		used[i] = true;
	}
	return 0;
}

/* The old entries (the seal dropped), changed, into img; *listed: add is one of them. */
static int copy_entries(int dfd, struct cr_img *img, const struct manifest_change *ch, size_t nr, const char *add,
			bool *listed)
{
	_cleanup_free_ bool *used = xzalloc((nr ?: 1) * sizeof(*used));
	struct cr_img *old = open_image_at(dfd, CR_FD_MANIFEST, O_RSTR_REQ);
	ImageManifestEntry *e;
	int ret;

	if (!used || !old) {
		ret = used ? pr_fail(-errno, "can't open %s\n", img_last_error()) : -ENOMEM;
		if (old)
			close_image(old);
		return ret;
	}
	while ((ret = pb_read_one_eof(old, (void **)&e, PB_MANIFEST)) > 0) {
		ret = 0;
		if (strcmp(e->name, SEAL_NAME)) {
			*listed |= add && !strcmp(e->name, add);
			ret = apply_changes(e, ch, nr, used) ?: pb_write_one(img, e, PB_MANIFEST);
		}
		pb_free(e, PB_MANIFEST);
		if (ret)
			break;
	}
	close_image(old);
	for (size_t i = 0; !ret && i < nr; i++)
		if (!used[i])
			ret = pr_fail(-ENOENT, "%s is not in manifest.img: not updated\n", ch[i].name);
	return ret;
}

#define UPDATE_DIR ".manifest-update"

int image_manifest_update(int img_dfd, const struct manifest_change *ch, size_t nr, const char *add)
{
	_cleanup_close_ int tmp = -1;
	struct cr_img *img = NULL;
	bool listed = false;
	int ret;

	unlinkat(img_dfd, UPDATE_DIR "/" SEAL_NAME, 0);
	if (mkdirat(img_dfd, UPDATE_DIR, 0700) && errno != EEXIST)
		return pr_fail_errno("can't make %s", UPDATE_DIR);
	tmp = openat(img_dfd, UPDATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (tmp < 0)
		return pr_fail_errno("can't open %s", UPDATE_DIR);
	img = open_image_at(tmp, CR_FD_MANIFEST, O_DUMP);
	if (!img)
		return pr_fail(-errno, "can't create %s\n", img_last_error());
	ret = copy_entries(img_dfd, img, ch, nr, add, &listed);
	if (!ret && add && !listed) {
		ImageManifestEntry e = IMAGE_MANIFEST_ENTRY__INIT;

		e.name = (char *)add;
		ret = image_file_crc(img_dfd, add, &e.size, &e.crc32c);
		if (ret)
			pr_err("%s: can't read it for manifest.img: %s\n", add, strerror(-ret));
		else
			ret = pb_write_one(img, &e, PB_MANIFEST);
	}
	ret = ret ?: write_seal(tmp, img);
	if (ret) {
		discard_image(img);
	} else {
		ret = close_image_checked(img);
		if (ret)
			pr_err("manifest.img: can't write it: %s\n", strerror(-ret));
	}
	if (!ret && renameat(tmp, SEAL_NAME, img_dfd, SEAL_NAME))
		ret = pr_fail_errno("can't put the new manifest.img in place");
	unlinkat(tmp, SEAL_NAME, 0);
	unlinkat(img_dfd, UPDATE_DIR, AT_REMOVEDIR);
	if (!ret)
		pr_info("manifest.img: %zu images updated in place\n", nr);
	return ret;
}

int image_manifest_id(int img_dfd, uint64_t *ret_size, uint32_t *ret_crc)
{
	return image_file_crc(img_dfd, SEAL_NAME, ret_size, ret_crc);
}

void image_check_how_of(const InventoryEntry *ie, enum img_check mode, struct image_check_how *how)
{
	how->has_manifest_crc = ie->has_manifest_crc32c;
	how->manifest_crc = ie->manifest_crc32c;
	/* CRIU always writes these two, we never do */
	how->dumped_by_criu = ie->has_lsmtype || ie->dump_criu_run_id;
	how->mode = mode;
	how->remote_pages = ie->has_pages_on_page_server && ie->pages_on_page_server;
	how->defer = NULL;
}
