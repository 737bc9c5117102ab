// SPDX-License-Identifier: GPL-2.0
/*
 * Image files: CRIU's header (magics), u32-length-framed protobuf entries,
 * raw data. I/O goes through one buffer per image, so that writing or
 * reading many small entries costs few system calls.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "common.h"
#include "image.h"
#include "protobuf.h"

#undef LOG_PREFIX
#define LOG_PREFIX "image: "

#define IMG_BUF_SIZE (64u << 10)

struct img_desc {
	const char *fmt;	/* file name template */
	uint32_t magic;		/* 0: a raw image with no header */
	bool no_common;		/* the magic is not preceded by IMG_COMMON_MAGIC */
	bool service;		/* preceded by IMG_SERVICE_MAGIC instead */
};

static const struct img_desc img_descs[CR_FD_MAX] = {
#define IMAGE(kind, fmt, magic, flags, crit) \
	[CR_FD_##kind] = { fmt, magic, (flags) & IMG_NO_COMMON, ((flags) & IMG_SERVICE) != 0 },
#include "objects.def"
};

struct cr_img {
	int fd;			/* -1: a missing image, read as empty */
	int type;
	bool writing;
	int err;		/* first write error, returned by every later write */
	off_t off;		/* file offset of buf[pos] */
	size_t pos, len;	/* reading: unread data is buf[pos, len); writing: buf[0, len) is pending */
	char name[64];
	char *buf;		/* IMG_BUF_SIZE bytes */
};

/* File scope: like errno, the last failure's text for img_last_error(), not dump or restore state. */
static char last_error[256];

static void set_last_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_last_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	pr_debug("%s\n", last_error);
}

const char *img_last_error(void)
{
	return last_error;
}

const char *img_name(struct cr_img *img)
{
	return img->name;
}

bool img_is_empty(struct cr_img *img)
{
	return img->fd < 0;
}

static size_t img_header_size(const struct img_desc *d)
{
	if (!d->magic)
		return 0;
	return d->no_common ? 4 : 8;
}

/* Write out the pending buffer. */
static int img_flush(struct cr_img *img)
{
	int ret;

	if (img->err)
		return img->err;
	if (!img->len)
		return 0;
	ret = write_all(img->fd, img->buf, img->len);
	if (ret < 0) {
		img->err = ret;
		return ret;
	}
	img->off += img->len;
	img->len = 0;
	return 0;
}

/*
 * Make at least `need` (<= IMG_BUF_SIZE) unread bytes available in the
 * buffer, reading as much as fits. Fewer are available only at EOF.
 */
static int img_fill(struct cr_img *img, size_t need)
{
	size_t avail = img->len - img->pos;

	if (avail >= need)
		return 0;
	if (img->pos) {
		memmove(img->buf, img->buf + img->pos, avail);
		img->pos = 0;
		img->len = avail;
	}
	while (img->len < need) {
		ssize_t n = read(img->fd, img->buf + img->len, IMG_BUF_SIZE - img->len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		img->len += n;
	}
	return 0;
}

static void img_consume(struct cr_img *img, size_t n)
{
	img->pos += n;
	img->off += n;
}

/* Copy up to len bytes of buffered input to dst; returns how many. */
static size_t img_take(struct cr_img *img, void *dst, size_t len)
{
	size_t n = min(len, img->len - img->pos);

	memcpy(dst, img->buf + img->pos, n);
	img_consume(img, n);
	return n;
}

static int img_write_header(struct cr_img *img, const struct img_desc *d)
{
	/* nothing can fail here: the header just opens the write buffer */
	uint32_t hdr[2] = { d->service ? IMG_SERVICE_MAGIC : IMG_COMMON_MAGIC, d->magic };

	if (d->no_common)
		hdr[0] = d->magic;
	memcpy(img->buf, hdr, img_header_size(d));
	img->len = img_header_size(d);
	return 0;
}

static int img_check_header(struct cr_img *img, const struct img_desc *d)
{
	size_t hsize = img_header_size(d);
	uint32_t hdr[2];
	int ret;

	ret = img_fill(img, hsize);
	if (ret < 0) {
		set_last_error("%s: can't read the header: %s", img->name, strerror(-ret));
		return ret;
	}
	if (img->len - img->pos < hsize) {
		set_last_error("%s: truncated header (%zu of %zu bytes)", img->name,
			       img->len - img->pos, hsize);
		return -EINVAL;
	}
	img_take(img, hdr, hsize);
	if (d->no_common) {
		if (hdr[0] != d->magic) {
			set_last_error("%s: wrong magic 0x%08x (expected 0x%08x)", img->name, hdr[0], d->magic);
			return -EINVAL;
		}
		return 0;
	}
	if (hdr[0] != (d->service ? IMG_SERVICE_MAGIC : IMG_COMMON_MAGIC)) {
		set_last_error("%s: not a criu image: first magic 0x%08x (expected 0x%08x)", img->name, hdr[0],
			       d->service ? IMG_SERVICE_MAGIC : IMG_COMMON_MAGIC);
		return -EINVAL;
	}
	if (hdr[1] != d->magic) {
		set_last_error("%s: wrong image magic 0x%08x (expected 0x%08x for %s)", img->name, hdr[1],
			       d->magic, d->fmt);
		return -EINVAL;
	}
	return 0;
}

static struct cr_img *img_alloc(int type, bool writing)
{
	struct cr_img *img = xzalloc(sizeof(*img));

	if (!img)
		return NULL;
	img->buf = xmalloc(IMG_BUF_SIZE);
	if (!img->buf) {
		free(img);
		return NULL;
	}
	img->fd = -1;
	img->type = type;
	img->writing = writing;
	return img;
}

static void img_free(struct cr_img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->buf);
	free(img);
}

static int img_open_file(struct cr_img *img, int dfd, int flags)
{
	const struct img_desc *d = &img_descs[img->type];
	bool required = flags & O_IMG_REQUIRED;

	img->fd = openat(dfd, img->name, (flags & ~O_IMG_REQUIRED) | O_CLOEXEC, 0600);
	if (img->fd < 0) {
		if (errno == ENOENT && !img->writing && required) {
			set_last_error("%s is missing", img->name);
			return -ENOENT;
		}
		if (errno == ENOENT && !img->writing)
			return 0;	/* a missing image reads as empty */
		set_last_error("%s: can't open: %s", img->name, strerror(errno));
		return -errno;
	}
	if (!d->magic)
		return 0;	/* raw data, no header */
	if (img->writing)
		return img_write_header(img, d);
	return img_check_header(img, d);
}

struct cr_img *open_image_at(int dfd, int type, int flags, ...)
{
	struct cr_img *img;
	va_list ap;
	int accmode = flags & O_ACCMODE, ret, n;

	if (type < 0 || type >= CR_FD_MAX || !img_descs[type].fmt || accmode == O_RDWR) {
		set_last_error("bad image open request: type %d, flags 0%o", type, flags);
		errno = EINVAL;
		return NULL;
	}

	img = img_alloc(type, accmode == O_WRONLY);
	if (!img) {
		errno = ENOMEM;
		return NULL;
	}

	va_start(ap, flags);
	n = vsnprintf(img->name, sizeof(img->name), img_descs[type].fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(img->name)) {
		set_last_error("image name for %s too long", img_descs[type].fmt);
		img_free(img);
		errno = ENAMETOOLONG;
		return NULL;
	}

	ret = img_open_file(img, dfd, flags);
	if (ret < 0) {
		img_free(img);
		errno = -ret;
		return NULL;
	}
	return img;
}

int close_image_checked(struct cr_img *img)
{
	int ret = 0;

	if (!img)
		return 0;
	if (img->writing && img->fd >= 0) {
		ret = img_flush(img);
		if (!ret && close(img->fd) < 0)
			ret = -errno;
		else if (ret)
			close(img->fd);
		img->fd = -1;
		if (ret)
			pr_err("%s: can't write the image: %s\n", img->name, strerror(-ret));
	}
	img_free(img);
	return ret;
}

void discard_image(struct cr_img *img)
{
	if (!img)
		return;
	img->len = 0;	/* pending entries are dropped, not written */
	img_free(img);
}

void close_image(struct cr_img *img)
{
	close_image_checked(img);
}

int img_raw_fd(struct cr_img *img)
{
	int ret;

	if (img->fd < 0)
		return -ENOENT;
	if (img->writing) {
		ret = img_flush(img);
		if (ret < 0) {
			pr_err("%s: can't write the image: %s\n", img->name, strerror(-ret));
			return ret;
		}
		return img->fd;
	}
	/* give the read-ahead back so the fd's offset is the logical one */
	if (img->len > img->pos) {
		if (lseek(img->fd, img->off, SEEK_SET) < 0)
			return -errno;
	}
	img->pos = img->len = 0;
	return img->fd;
}

int img_take_fd(struct cr_img *img)
{
	int fd = img_raw_fd(img);

	if (fd >= 0)
		img->fd = -1;
	close_image(img);
	return fd;
}

/* Append len bytes to the image through the buffer. */
static int img_put(struct cr_img *img, const void *data, size_t len)
{
	int ret;

	if (img->err)
		return img->err;
	if (!len)
		return 0;	/* an empty queue may come as (NULL, 0): memcpy() must not see it */
	if (img->len + len > IMG_BUF_SIZE) {
		ret = img_flush(img);
		if (ret < 0)
			return ret;
	}
	if (len >= IMG_BUF_SIZE) {
		ret = write_all(img->fd, data, len);
		if (ret < 0) {
			img->err = ret;
			return ret;
		}
		img->off += len;
		return 0;
	}
	memcpy(img->buf + img->len, data, len);
	img->len += len;
	return 0;
}

static int img_check_writable(struct cr_img *img)
{
	if (!img->writing || img->fd < 0) {
		pr_err("%s: not open for writing\n", img->name);
		return -EBADF;
	}
	if (img->err) {
		pr_err("%s: an earlier write failed: %s\n", img->name, strerror(-img->err));
		return img->err;
	}
	return 0;
}

int write_img_buf(struct cr_img *img, const void *buf, size_t len)
{
	int ret = img_check_writable(img);

	if (ret < 0)
		return ret;
	ret = img_put(img, buf, len);
	if (ret < 0)
		pr_err("%s: can't write %zu bytes: %s\n", img->name, len, strerror(-ret));
	return ret;
}

static int pb_check_msg(struct cr_img *img, const void *msg, int pb_type)
{
	const ProtobufCMessageDescriptor *d = pb_desc(pb_type);

	if (!d) {
		pr_err("%s: unknown message type %d\n", img->name, pb_type);
		return -EINVAL;
	}
	if (!msg || ((const ProtobufCMessage *)msg)->descriptor != d) {
		pr_err("%s: the message to write is not a %s\n", img->name, d->name);
		return -EINVAL;
	}
	if (!protobuf_c_message_check(msg)) {
		pr_err("%s: a required field of %s is not set\n", img->name, d->name);
		return -EINVAL;
	}
	return 0;
}

int pb_write_one(struct cr_img *img, const void *msg, int pb_type)
{
	_cleanup_free_ uint8_t *tmp = NULL;
	size_t size;
	uint32_t len;
	uint8_t *dst;
	int ret;

	ret = img_check_writable(img);
	if (ret < 0)
		return ret;
	ret = pb_check_msg(img, msg, pb_type);
	if (ret < 0)
		return ret;

	size = protobuf_c_message_get_packed_size(msg);
	if (size > IMG_ENTRY_MAX) {
		pr_err("%s: a %s entry of %zu bytes is over the %u limit\n", img->name, pb_type_name(pb_type), size,
		       IMG_ENTRY_MAX);
		return -EFBIG;
	}
	len = size;

	if (sizeof(len) + size <= IMG_BUF_SIZE) {
		/* the common case: pack straight into the buffer */
		if (img->len + sizeof(len) + size > IMG_BUF_SIZE) {
			ret = img_flush(img);
			if (ret < 0)
				goto err;
		}
		dst = (uint8_t *)img->buf + img->len;
		memcpy(dst, &len, sizeof(len));
		protobuf_c_message_pack(msg, dst + sizeof(len));
		img->len += sizeof(len) + size;
		return 0;
	}

	tmp = xmalloc(size);
	if (!tmp)
		return -ENOMEM;
	protobuf_c_message_pack(msg, tmp);
	ret = img_put(img, &len, sizeof(len));
	if (!ret)
		ret = img_put(img, tmp, size);
	if (!ret)
		return 0;
err:
	pr_err("%s: can't write a %s entry: %s\n", img->name, pb_type_name(pb_type), strerror(-ret));
	return ret;
}

static int img_check_readable(struct cr_img *img)
{
	if (img->writing) {
		pr_err("%s: not open for reading\n", img->name);
		return -EBADF;
	}
	return 0;
}

/* Read exactly len bytes: 0, -EINVAL on a short read (logged by the caller), or -errno. */
static int img_read_exact(struct cr_img *img, void *dst, size_t len)
{
	size_t got;
	int n;

	if (img->fd < 0)
		return len ? -EINVAL : 0;
	got = img_take(img, dst, len);
	if (got == len)
		return 0;
	if (len - got < IMG_BUF_SIZE) {
		n = img_fill(img, len - got);
		if (n < 0)
			return n;
		got += img_take(img, (char *)dst + got, len - got);
		return got == len ? 0 : -EINVAL;
	}
	/* a big read goes straight to the caller's memory */
	n = read_all(img->fd, (char *)dst + got, len - got);
	if (n < 0)
		return n;
	img->off += n;
	return got + n == len ? 0 : -EINVAL;
}

int read_img_buf(struct cr_img *img, void *buf, size_t len)
{
	off_t start = img->off;
	int ret;

	ret = img_check_readable(img);
	if (ret < 0)
		return ret;
	if (len > INT_MAX) {
		pr_err("%s: a read of %zu bytes is too big\n", img->name, len);
		return -EINVAL;
	}
	ret = img_read_exact(img, buf, len);
	if (ret == -EINVAL) {
		pr_err("%s: truncated data: wanted %zu bytes at offset %lld\n", img->name, len,
		       (long long)start);
		return ret;
	}
	if (ret < 0) {
		pr_err("%s: can't read: %s\n", img->name, strerror(-ret));
		return ret;
	}
	return len;
}

ssize_t read_img_some(struct cr_img *img, void *buf, size_t len)
{
	size_t got;
	int ret;

	ret = img_check_readable(img);
	if (ret < 0)
		return ret;
	if (img->fd < 0 || !len)
		return 0;
	got = img_take(img, buf, len);
	if (got)
		return got;
	ret = img_fill(img, min(len, (size_t)IMG_BUF_SIZE));
	if (ret < 0) {
		pr_err("%s: can't read: %s\n", img->name, strerror(-ret));
		return ret;
	}
	return img_take(img, buf, len);
}

/* The length word of the next entry: 1, 0 at a clean EOF, or -errno (logged). */
static int pb_read_len(struct cr_img *img, uint32_t *ret_len, int pb_type)
{
	size_t avail;
	int ret;

	ret = img_fill(img, sizeof(*ret_len));
	if (ret < 0) {
		pr_err("%s: can't read: %s\n", img->name, strerror(-ret));
		return ret;
	}
	avail = img->len - img->pos;
	if (avail == 0)
		return 0;
	if (avail < sizeof(*ret_len)) {
		pr_err("%s: truncated %s entry length at offset %lld (%zu of 4 bytes)\n", img->name,
		       pb_type_name(pb_type), (long long)img->off, avail);
		return -EINVAL;
	}
	img_take(img, ret_len, sizeof(*ret_len));
	if (*ret_len > IMG_ENTRY_MAX) {
		pr_err("%s: corrupt %s entry at offset %lld: length %u is over the %u limit\n", img->name,
		       pb_type_name(pb_type), (long long)img->off - 4, *ret_len, IMG_ENTRY_MAX);
		return -EINVAL;
	}
	return 1;
}

static int pb_unpack_entry(struct cr_img *img, void **pmsg, int pb_type, uint32_t len)
{
	const ProtobufCMessageDescriptor *d = pb_desc(pb_type);
	_cleanup_free_ uint8_t *big = NULL;
	off_t start = img->off;
	const uint8_t *src;
	void *msg;
	int ret;

	if (len <= IMG_BUF_SIZE) {
		ret = img_fill(img, len);
		if (ret < 0) {
			pr_err("%s: can't read: %s\n", img->name, strerror(-ret));
			return ret;
		}
		if (img->len - img->pos < len)
			goto truncated;
		src = (const uint8_t *)img->buf + img->pos;
		img_consume(img, len);
	} else {
		big = xmalloc(len);
		if (!big)
			return -ENOMEM;
		ret = img_read_exact(img, big, len);
		if (ret == -EINVAL)
			goto truncated;
		if (ret < 0) {
			pr_err("%s: can't read: %s\n", img->name, strerror(-ret));
			return ret;
		}
		src = big;
	}

	msg = protobuf_c_message_unpack(d, NULL, len, src);
	if (!msg) {
		pr_err("%s: corrupt %s entry of %u bytes at offset %lld: can't decode it\n", img->name,
		       pb_type_name(pb_type), len, (long long)start);
		return -EINVAL;
	}
	*pmsg = msg;
	return 1;

truncated:
	pr_err("%s: truncated %s entry at offset %lld: the file ends before its %u bytes\n", img->name,
	       pb_type_name(pb_type), (long long)start, len);
	return -EINVAL;
}

int pb_read_one_eof(struct cr_img *img, void **pmsg, int pb_type)
{
	uint32_t len;
	int ret;

	ret = img_check_readable(img);
	if (ret < 0)
		return ret;
	if (!pb_desc(pb_type)) {
		pr_err("%s: unknown message type %d\n", img->name, pb_type);
		return -EINVAL;
	}
	if (img->fd < 0)
		return 0;

	ret = pb_read_len(img, &len, pb_type);
	if (ret <= 0)
		return ret;
	return pb_unpack_entry(img, pmsg, pb_type, len);
}

int pb_read_all(struct cr_img *img, int pb_type, void ***msgs, size_t *nr)
{
	void *msg;
	int ret;

	while ((ret = pb_read_one_eof(img, &msg, pb_type)) > 0) {
		void **n = realloc(*msgs, (*nr + 1) * sizeof(*n));

		if (!n) {
			pb_free(msg, pb_type);
			return -ENOMEM;
		}
		*msgs = n;
		n[(*nr)++] = msg;
	}
	return ret < 0 ? ret : 0;
}

int pb_read_one(struct cr_img *img, void **pmsg, int pb_type)
{
	int ret = pb_read_one_eof(img, pmsg, pb_type);

	if (ret == 0) {
		pr_err("%s: a %s entry expected, but the image ends\n", img->name, pb_type_name(pb_type));
		return -ENODATA;
	}
	return ret < 0 ? ret : 0;
}
