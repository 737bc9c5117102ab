// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_linked00: files held by a name that was removed while another link
 * keeps the inode. A glibc named semaphore is one (sem_open() maps its file
 * under a temporary name, links it to the semaphore's name and removes the
 * temporary one), and so is an fd opened by a name that was then removed
 * after a link() to another name. After restore both must be the same inode
 * as the remaining name, not a copy: a sem_post() through a new sem_open()
 * of the name reaches the restored task's semaphore, a write through the
 * other name reaches the fd; the fd still reads as its removed name.
 */
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char sem_name[64], name[64], other[64], path[64], got[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX - 128], buf[8];
	struct stat a, b;
	sem_t *sem, *again;
	int fd, ofd, val = -1;
	ssize_t n;

	test_init(argc, argv);
	snprintf(sem_name, sizeof(sem_name), "/zdtm-ghost-linked00.%d", getpid());
	snprintf(name, sizeof(name), "ghost_linked00.%d", getpid());
	snprintf(other, sizeof(other), "ghost_linked00.%d.other", getpid());
	/* pids repeat from run to run in a fresh pid namespace: leftovers of a failed one */
	sem_unlink(sem_name);
	unlink(name);
	unlink(other);
	sem = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 3);
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (sem == SEM_FAILED || fd < 0 || sem_post(sem) || sem_post(sem) || write(fd, "data", 4) != 4 ||
	    link(name, other) || unlink(name) || !getcwd(cwd, sizeof(cwd))) {
		fail("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sem_getvalue(sem, &val) || val != 5)
		fail("the semaphore's value is %d, not 5", val);
	again = sem_open(sem_name, 0);
	if (again == SEM_FAILED || sem_post(again) || sem_getvalue(sem, &val) || val != 6)
		fail("a post through the semaphore's name does not reach the restored one (value %d, not 6)", val);
	if (fstat(fd, &a) || stat(other, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		fail("the fd is not the inode of %s any more", other);
	snprintf(want, sizeof(want), "%s/%s (deleted)", cwd, name);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, got, sizeof(got) - 1);
	if (n >= 0)
		got[n] = '\0';
	if (n < 0 || strcmp(got, want))
		fail("fd %d reads as '%s', not '%s'", fd, n < 0 ? "?" : got, want);
	if (access(name, F_OK) == 0)
		fail("the removed name %s is back", name);
	ofd = open(other, O_WRONLY);
	if (ofd < 0 || pwrite(ofd, "DATA", 4, 0) != 4 || pread(fd, buf, 4, 0) != 4 || memcmp(buf, "DATA", 4))
		fail("a write through %s does not show through the fd", other);
	sem_unlink(sem_name);
	unlink(other);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
