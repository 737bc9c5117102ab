/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_COMMON_H
#define CRIU_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE 4096UL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
/* x rounded up to a multiple of a, a power of two */
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define __unused __attribute__((unused))

/* Scope-bound cleanup. */
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;
		close(*fd);
		errno = e;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_FD(fd)                     \
	({                              \
		int __fd = (fd);        \
		(fd) = -1;              \
		__fd;                   \
	})
#define TAKE_PTR(p)                     \
	({                              \
		typeof(p) __p = (p);    \
		(p) = NULL;             \
		__p;                    \
	})

/* Allocation helpers: log and return NULL, never abort. */
#define xmalloc(sz) __xalloc(malloc(sz), (sz), __FILE__, __LINE__)
#define xzalloc(sz) __xalloc(calloc(1, (sz)), (sz), __FILE__, __LINE__)
#define xrealloc(p, sz) __xalloc(realloc((p), (sz)), (sz), __FILE__, __LINE__)
#define xstrdup(s) ((char *)__xalloc(strdup(s), strlen(s) + 1, __FILE__, __LINE__))
static inline void *__xalloc(void *p, size_t sz, const char *file, int line)
{
	if (!p)
		print_on_level(LOG_ERROR, "Error (%s:%d): can't allocate %zu bytes\n", file, line, sz);
	return p;
}

/* Negative errno from a libc call that returns -1 and sets errno. */
#define RET_NERRNO(expr)                        \
	({                                      \
		long __r = (long)(expr);        \
		__r < 0 ? -errno : (int)__r;    \
	})

/* Read a whole small file relative to a directory fd; NUL-terminated. */
int read_file_at(int dfd, const char *path, char *buf, size_t size);
int write_file_at(int dfd, const char *path, const char *val);
/* Read a whole file of any size; *ret_buf must be freed. Returns length or -errno. */
ssize_t read_file_alloc_at(int dfd, const char *path, char **ret_buf);
/* for a /proc file shown as one seq_file record (fdinfo/N): one read when it is short */
ssize_t read_record_alloc_at(int dfd, const char *path, char **ret_buf);
/* The same, at most max_read bytes per read() (see parse_pid_smaps_vmflags()). */
ssize_t read_file_alloc_chunked_at(int dfd, const char *path, size_t max_read, char **ret_buf);
int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);
/* Exactly len bytes at off (EINTR retried): 0, -errno, or -EIO when the file ends first. */
int pread_exact(int fd, void *buf, size_t len, off_t off);
int pwrite_exact(int fd, const void *buf, size_t len, off_t off);
/*
 * The nr ranges riov of a task's memory into dst, one after the other,
 * through its /proc/PID/mem fd (which reads pages without PROT_READ and
 * does not pin them): 0, -errno, or -EFAULT when a range reads short.
 * Returns the number of pread() calls in *nr_reads when it is not NULL.
 */
int proc_mem_readv(int mem_fd, char *dst, const struct iovec *riov, int nr, unsigned long *nr_reads);

#endif
