/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the anon-inode file types (eventfd, signalfd,
 * timerfd, inotify, epoll) and memfd: detection by the fd's link, and the
 * file status flags and owner that every restored object gets back.
 */
#ifndef CRIU_ANON_FD_H
#define CRIU_ANON_FD_H

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

#include "files.h"
#include "log.h"
#include "syscalls.h"

#include "fown.pb-c.h"

/* An anon-inode file whose link reads exactly like name ("anon_inode:[eventfd]"). */
static inline bool anon_link_is(const struct fd_parms *p, const char *name)
{
	return p->sfs.f_type == ANON_INODE_FS_MAGIC && !strcmp(p->link, name);
}

/* The status flags F_SETFL can change and that we put back. */
#define ANON_FD_SETFL_MASK (O_NONBLOCK | O_ASYNC)

/*
 * Put back the settable status flags (flags as dumped, without O_CLOEXEC)
 * of a freshly created object; its owner comes later (fown.c). 0 or -errno;
 * the caller logs.
 */
static inline int anon_fd_restore_flags(int fd, unsigned int flags, const FownEntry *fown)
{
	int cur = fcntl(fd, F_GETFL);

	if (cur < 0)
		return -errno;
	if ((cur & ANON_FD_SETFL_MASK) != (int)(flags & ANON_FD_SETFL_MASK) &&
	    fcntl(fd, F_SETFL, (cur & ~ANON_FD_SETFL_MASK) | (flags & ANON_FD_SETFL_MASK)))
		return -errno;
	return 0;
}

/*
 * Parsers of the type-specific fdinfo lines (0 or -errno, no logging); the
 * unit tests feed them recorded fdinfo.
 */
struct TimerfdEntry;
struct EventpollTfdEntry;

/* eventfd-count (hex) and eventfd-semaphore (-1 when the kernel does not show it) */
int eventfd_parse_fdinfo(const struct proc_fdinfo *fi, uint64_t *ret_count, int *ret_semaphore);
/* sigmask (hex, bit N-1 for signal N) */
int signalfd_parse_fdinfo(const struct proc_fdinfo *fi, uint64_t *ret_mask);
/* clockid, ticks, settime flags (octal), it_value and it_interval into t */
int timerfd_parse_fdinfo(const struct proc_fdinfo *fi, struct TimerfdEntry *t);
/* the value of one "tfd:" line: "N events: X data: Y pos:P ino:I sdev:D" */
int eventpoll_parse_tfd(const char *val, struct EventpollTfdEntry *e);

#define INOTIFY_FH_MAX 128
struct inotify_wd_line {
	unsigned int wd, mask, ignored_mask, sdev, fh_bytes;
	int fh_type;
	unsigned long long ino;
	unsigned char fh[INOTIFY_FH_MAX];
};

/* the value of one "inotify wd:" line: "W ino:I sdev:D mask:M ignored_mask:X fhandle-bytes:N ..." */
int inotify_parse_wd(const char *val, struct inotify_wd_line *w);

/* The kernel's s_dev encoding in fsnotify fdinfo: 12-bit major above a 20-bit minor. */
#define KDEV_MAJOR(d) ((unsigned int)((d) >> 20))
#define KDEV_MINOR(d) ((unsigned int)((d) & 0xfffff))
/* The kernel's encoding of a device (fdinfo's sdev, mountinfo): CRIU writes ghost_file_entry.dev so. */
#define KDEV_MAKE(maj, min) (((uint32_t)(maj) << 20) | ((uint32_t)(min) & 0xfffff))
/* fsnotify.c, for inotify and fanotify: a mount of a device, an O_PATH fd of a handle, an fd's path */
int fsnotify_open_mount_of(unsigned int major, unsigned int minor);
int fsnotify_open_handle(unsigned int sdev, int type, const unsigned char *bytes, unsigned int n, int *ret_fd);
char *fsnotify_path_of_fd(int fd);

#endif
