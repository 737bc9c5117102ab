// SPDX-License-Identifier: GPL-2.0
/*
 * The image manifest (manifest.img, ours): integrity beyond CRIU's images.
 *
 * Dump: once every other image is closed, list each image file of the
 * directory (a name ending in ".img", but inventory.img and manifest.img)
 * with its length and CRC-32C into manifest.img; the CRC of manifest.img goes
 * into inventory.img (field 100), which is written last and stays the mark
 * of a complete dump.
 *
 * Restore: before anything else, every listed file must be there with its
 * length and CRC, and no other image file may be: a missing, truncated,
 * changed or added image is refused with its name. Images whose inventory
 * names no manifest (CRIU's) restore with a warning; --skip-image-check
 * skips the check for hand-edited images.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "common.h"
#include "crc32c.h"
#include "image-check.h"
#include "image.h"
#include "protobuf.h"

#include "manifest.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "image-check: "

#define CRC_CHUNK (1u << 20)

/* An image file the manifest covers. */
static bool is_manifest_name(const char *name)
{
	size_t len = strlen(name);

	if (len < 5 || strcmp(name + len - 4, ".img"))
		return false;
	return strcmp(name, "inventory.img") && strcmp(name, "manifest.img");
}

/* Length and CRC-32C of the file name in dfd. 0 or -errno (not logged). */
int image_file_crc(int dfd, const char *name, uint64_t *ret_size, uint32_t *ret_crc)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	uint64_t size = 0;
	uint32_t crc = 0;

	if (fd < 0)
		return -errno;
	buf = xmalloc(CRC_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, CRC_CHUNK);

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
static int list_images(int dfd, char ***ret_names, size_t *ret_nr)
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

		if (!is_manifest_name(de->d_name) || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
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

int write_image_manifest(int img_dfd, uint32_t *ret_crc)
{
	struct cr_img *img;
	char **names = NULL;
	size_t nr = 0;
	uint64_t size;
	int ret;

	ret = list_images(img_dfd, &names, &nr);
	if (ret)
		return pr_fail(ret, "can't list the images to write manifest.img: %s\n", strerror(-ret));
	img = open_image_at(img_dfd, CR_FD_MANIFEST, O_DUMP);
	if (!img) {
		ret = pr_fail(-errno, "can't create %s\n", img_last_error());
		goto out;
	}
	for (size_t i = 0; i < nr && !ret; i++) {
		ImageManifestEntry e = IMAGE_MANIFEST_ENTRY__INIT;

		e.name = names[i];
		ret = image_file_crc(img_dfd, names[i], &e.size, &e.crc32c);
		if (ret) {
			pr_err("%s: can't read it back for manifest.img: %s\n", names[i], strerror(-ret));
			break;
		}
		ret = pb_write_one(img, &e, PB_MANIFEST);
	}
	if (ret) {
		discard_image(img);
		goto out;
	}
	ret = close_image_checked(img);
	if (!ret)
		ret = image_file_crc(img_dfd, "manifest.img", &size, ret_crc);
	if (ret)
		pr_err("manifest.img: can't write it: %s\n", strerror(-ret));
	else
		pr_info("manifest.img: %zu images\n", nr);
out:
	free_names(names, nr);
	return ret;
}

/* One listed image: there, with its length and CRC. */
static int check_one(int dfd, const ImageManifestEntry *e)
{
	uint64_t size;
	uint32_t crc;
	int ret;

	if (!is_manifest_name(e->name) || strchr(e->name, '/'))
		return pr_fail(-EINVAL, "manifest.img: '%s' is not the name of an image file\n", e->name);
	ret = image_file_crc(dfd, e->name, &size, &crc);
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
	if (crc != e->crc32c)
		return pr_fail(-EINVAL, "%s has changed since the dump (CRC-32C %08x, the dump wrote %08x)\n",
			       e->name, crc, e->crc32c);
	return 0;
}

/* Read every entry of manifest.img; each name is checked against the directory's list. */
static int check_entries(int dfd, struct cr_img *img, char **names, bool *listed, size_t nr)
{
	ImageManifestEntry *e;
	int ret;

	while ((ret = pb_read_one_eof(img, (void **)&e, PB_MANIFEST)) > 0) {
		char **found = bsearch(&e->name, names, nr, sizeof(*names), cmp_names);

		if (found && listed[found - names])
			ret = pr_fail(-EINVAL, "manifest.img lists %s twice\n", e->name);
		else
			ret = check_one(dfd, e);
		if (found)
			listed[found - names] = true;
		pb_free(e, PB_MANIFEST);
		if (ret)
			return ret;
	}
	return ret;
}

/* A page image a page server writes: pagemap-*.img (tasks' and shmem's) and pages-*.img. */
static bool page_server_image(const char *name)
{
	return !strncmp(name, "pagemap-", 8) || !strncmp(name, "pages-", 6);
}

static int check_manifest(int dfd, uint32_t want_crc, bool remote_pages)
{
	_cleanup_free_ bool *listed = NULL;
	struct cr_img *img;
	char **names = NULL;
	size_t nr = 0, nr_listed = 0;
	uint64_t size;
	uint32_t crc;
	int ret;

	ret = image_file_crc(dfd, "manifest.img", &size, &crc);
	if (ret == -ENOENT)
		return pr_fail(-ENOENT, "manifest.img is missing (inventory.img says the dump wrote one)\n");
	if (ret)
		return pr_fail(ret, "manifest.img: can't read it: %s\n", strerror(-ret));
	if (crc != want_crc)
		return pr_fail(-EINVAL, "manifest.img has changed since the dump (CRC-32C %08x, inventory.img says %08x)\n",
			       crc, want_crc);
	ret = list_images(dfd, &names, &nr);
	if (ret)
		return pr_fail(ret, "can't list the images directory: %s\n", strerror(-ret));
	listed = xzalloc((nr ?: 1) * sizeof(*listed));
	img = open_image_at(dfd, CR_FD_MANIFEST, O_RSTR_REQ);
	if (!listed || !img) {
		ret = listed ? pr_fail(-errno, "can't open %s\n", img_last_error()) : -ENOMEM;
		goto out;
	}
	ret = check_entries(dfd, img, names, listed, nr);
	close_image(img);
	for (size_t i = 0; !ret && i < nr; i++) {
		if (!listed[i] && remote_pages && page_server_image(names[i]))
			continue;	/* from the page server: not in this manifest */
		if (!listed[i])
			ret = pr_fail(-EINVAL, "%s is not in manifest.img: it was not written by this dump\n", names[i]);
		nr_listed++;
	}
	if (!ret)
		pr_info("manifest.img: %zu images checked\n", nr_listed);
out:
	free_names(names, nr);
	return ret;
}

int check_images(int img_dfd, bool has_manifest, uint32_t manifest_crc, bool skip, bool remote_pages)
{
	if (skip) {
		pr_warn("--skip-image-check: the images are not checked against manifest.img\n");
		return 0;
	}
	if (!has_manifest) {
		pr_warn("the images have no manifest (written by CRIU?): their lengths and checksums are not checked\n");
		return 0;
	}
	return check_manifest(img_dfd, manifest_crc, remote_pages);
}
