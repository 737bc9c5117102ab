// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <sys/stat.h>

#include "common.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int pread_exact(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int pwrite_exact(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int proc_mem_readv(int mem_fd, char *dst, const struct iovec *riov, int nr, unsigned long *nr_reads)
{
	for (int i = 0; i < nr; i++) {
		size_t done = 0, len = riov[i].iov_len;

		while (done < len) {
			ssize_t n = pread(mem_fd, dst + done, len - done,
					  (off_t)((unsigned long)riov[i].iov_base + done));

			if (nr_reads)
				(*nr_reads)++;
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EFAULT;
			done += n;
		}
		dst += len;
	}
	return 0;
}

/* Returns bytes read (short only at EOF) or -errno. */
int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int read_file_at(int dfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int n = read_all(fd, buf, size - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

/* Writes all of val to dfd/path (an existing file: /proc, /sys, cgroupfs); 0 or -errno. */
int write_file_at(int dfd, const char *path, const char *val)
{
	_cleanup_close_ int fd = openat(dfd, path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		return -errno ?: -EIO;
	return 0;
}

ssize_t read_file_alloc_chunked_at(int dfd, const char *path, size_t max_read, char **ret_buf)
{
	_cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, min(cap - len - 1, max_read));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	return len;
}

/*
 * read_file_alloc_at() for a /proc file that the kernel shows as one seq_file record
 * (single_open(): fdinfo/N): a read with room for all of the record returns all of it, so
 * a read that leaves room is the whole file and the read of its end is not made.
 */
ssize_t read_record_alloc_at(int dfd, const char *path, char **ret_buf)
{
	_cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	const size_t cap = 4096;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n < cap - 1) {
		buf[n] = '\0';
		*ret_buf = buf;
		return n;
	}
	free(buf);
	if (n < 0)
		return -errno;
	/* longer than the buffer: the whole file again, read to its end */
	return read_file_alloc_at(dfd, path, ret_buf);
}

ssize_t read_file_alloc_at(int dfd, const char *path, char **ret_buf)
{
	return read_file_alloc_chunked_at(dfd, path, SIZE_MAX, ret_buf);
}
