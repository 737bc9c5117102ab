// SPDX-License-Identifier: GPL-2.0
/*
 * nsfile_refused: an fd of a UTS namespace that no task is in any more
 * (the test made it with unshare(), kept an fd of it and went back to its
 * first one). Restore could make no such namespace, so the dump must
 * refuse it by name; after it the fd still names that namespace, with the
 * host name set in it.
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct stat before, after;
	struct utsname u;
	int first, gone, back;

	test_init(argc, argv);
	first = open("/proc/self/ns/uts", O_RDONLY);
	if (first < 0 || unshare(CLONE_NEWUTS) || sethostname("nsfile-gone", 11)) {
		fail("unshare");
		return 1;
	}
	gone = open("/proc/self/ns/uts", O_RDONLY);
	if (gone < 0 || fstat(gone, &before) || setns(first, CLONE_NEWUTS)) {
		fail("go back to the first namespace");
		return 1;
	}

	test_daemon();
	test_waitsig();

	back = open("/proc/self/ns/uts", O_RDONLY);
	if (fstat(gone, &after) || after.st_ino != before.st_ino || back < 0 || setns(gone, CLONE_NEWUTS) ||
	    uname(&u) || strcmp(u.nodename, "nsfile-gone") || setns(back, CLONE_NEWUTS))
		fail("the fd does not name the namespace it was opened on");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
