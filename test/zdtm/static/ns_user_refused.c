// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_refused: the task is in a user namespace nested in another of
 * its own (root in each mapped to root in its parent). criu restores one
 * user namespace, a child of its own: the dump must fail naming the nested
 * one, and the task must still be in its namespace with its mapping.
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ns_refused.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = -1;

	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		ret = 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

static int read_map(char *buf, size_t len)
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

/* A user namespace of its own, root mapped to the task's root in the parent (no privilege needed). */
static int enter_userns(void)
{
	if (unshare(CLONE_NEWUSER) || write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/setgroups", "deny") || write_file("/proc/self/gid_map", "0 0 1"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char before[256], after[256];
	unsigned long ino;

	test_init(argc, argv);
	if (enter_userns() || enter_userns() || read_map(before, sizeof(before))) {
		fail("can't make a user namespace with root mapped");
		return 1;
	}
	ino = ns_ino("self", "user");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", ino);
	if (read_map(after, sizeof(after)))
		fail("can't read uid_map");
	else if (strcmp(after, before))
		fail("uid_map is '%s' after the refused dump, '%s' before", after, before);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
