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
 * and the owner of a freshly created object. 0 or -errno; the caller logs.
 */
static inline int anon_fd_restore_flags(int fd, unsigned int flags, const FownEntry *fown)
{
	int cur = fcntl(fd, F_GETFL);

	if (cur < 0)
		return -errno;
	if ((cur & ANON_FD_SETFL_MASK) != (int)(flags & ANON_FD_SETFL_MASK) &&
	    fcntl(fd, F_SETFL, (cur & ~ANON_FD_SETFL_MASK) | (flags & ANON_FD_SETFL_MASK)))
		return -errno;
	if (fown && fown->pid) {
		struct f_owner_ex o = { .type = fown->pid_type, .pid = fown->pid };

		if (fcntl(fd, F_SETOWN_EX, &o) || fcntl(fd, F_SETSIG, fown->signum))
			return -errno;
	}
	return 0;
}

#endif
