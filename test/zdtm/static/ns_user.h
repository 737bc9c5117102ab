/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ns_user_*_refused tests: enter a user namespace of one's own
 * as `unshare --user --map-root-user` does (root inside mapped to the
 * task's uid outside, setgroups "deny"), and read its uid_map back.
 */
#ifndef ZDTM_NS_USER_H
#define ZDTM_NS_USER_H

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ns_refused.h"

static inline int ns_user_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = -1;

	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* 0, or -1 with fail() */
static inline int ns_user_enter(void)
{
	if (unshare(CLONE_NEWUSER) || ns_user_write("/proc/self/uid_map", "0 0 1") ||
	    ns_user_write("/proc/self/setgroups", "deny") || ns_user_write("/proc/self/gid_map", "0 0 1")) {
		fail("can't make a user namespace with root mapped");
		return -1;
	}
	return 0;
}

/* /proc/self/uid_map into buf; 0 or -1 */
static inline int ns_user_map(char *buf, size_t len)
{
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

#endif
