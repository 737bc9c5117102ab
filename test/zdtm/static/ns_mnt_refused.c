// SPDX-License-Identifier: GPL-2.0
/*
 * ns_mnt_refused: the task has a mount namespace of its own with a tmpfs
 * mounted in it that holds a file. criu does not dump mount namespaces yet:
 * the dump must fail naming it, and the task must still see its tmpfs and
 * the file in it.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "ns_refused.h"

#define TEXT "only in the task's own mount namespace"

int main(int argc, char **argv)
{
	char dir[] = "/tmp/zdtm_ns_mnt.XXXXXX", path[64], buf[64] = "";
	unsigned long ino;
	int fd;

	test_init(argc, argv);
	if (!mkdtemp(dir)) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("zdtm", dir, "tmpfs", 0, "size=64k")) {
		fail("can't mount a tmpfs in a mount namespace of its own");
		rmdir(dir);
		return 1;
	}
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT)) {
		fail("can't write %s", path);
		return 1;
	}
	close(fd);
	ino = ns_ino("self", "mnt");
	test_daemon();
	test_waitsig();

	ns_same("self", "mnt", ino);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		fail("%s is gone after the refused dump", path);
	else if (strcmp(buf, TEXT))
		fail("%s holds '%s' after the refused dump", path, buf);
	if (fd >= 0)
		close(fd);
	umount(dir);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
