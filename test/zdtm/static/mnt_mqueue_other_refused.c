// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_mqueue_other_refused: an mqueue mount that shows another IPC
 * namespace than the task's: mounted, then the test made an IPC namespace
 * of its own. Restore makes every mqueue mount in the root task's IPC
 * namespace, so the dump must refuse it, naming the mount, and leave the
 * task as it was (the mount still lists the queue made before the unshare).
 */
#include <dirent.h>
#include <mqueue.h>

#include "mntns.h"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char dir[160], mq[200], q[64], path[300];
	struct stat st;
	mqd_t m;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	snprintf(q, sizeof(q), "/mnt_mqueue_other.%d", getpid());
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_mqueue_other")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(mq, sizeof(mq), "%s/mq", dir);
	snprintf(path, sizeof(path), "%s%s", mq, q);
	if (mkdir(mq, 0755) || mount("mqueue", mq, "mqueue", 0, NULL) ||
	    (m = mq_open(q, O_CREAT | O_RDWR | O_CLOEXEC, 0600, &attr)) == (mqd_t)-1 || mq_close(m) ||
	    unshare(CLONE_NEWIPC)) {
		fail("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (stat(path, &st))
		fail("the mqueue mount no longer lists %s", q);
	unlink(path);
	umount2(mq, MNT_DETACH);
	rmdir(mq);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
