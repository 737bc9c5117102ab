// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_mqueue_ipc: an mqueue mount shows the IPC namespace of the task that
 * mounted it. The test, in a mount namespace of its own, makes an IPC
 * namespace of its own (in the ct flavour, the container's is that of the
 * tree's root, as runc's containers have it), mounts mqueue and sysfs, and makes a POSIX queue and
 * a SysV message queue with a message in it. After restore the mqueue mount
 * must list that queue and nothing else (not criu's queues), the sysfs mount
 * the same network devices, and the SysV queue must hold its message (the
 * namespace is made before the mounts, and filled by the root's stub).
 */
#include <dirent.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "mntns.h"

static char dir[160];

/* the names in a directory, sorted, each followed by a space */
static int list_dir(const char *path, char *buf, size_t size)
{
	struct dirent **de;
	int n = scandir(path, &de, NULL, alphasort);
	size_t len = 0;

	if (n < 0)
		return -1;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.' && len < size)
			len += snprintf(buf + len, size - len, "%s ", de[i]->d_name);
		free(de[i]);
	}
	free(de);
	return 0;
}

int main(int argc, char **argv)
{
	char q[64], mq_before[1024], mq_after[1024], net_before[1024], net_after[1024];
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	struct {
		long type;
		char text[32];
	} msg = { 7, "in the tree's IPC namespace" }, got = {};
	char *before;
	int msq;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	/* in the ct flavour the container's IPC namespace is the root task's own already */
	if ((!getenv("ZDTM_CT") && unshare(CLONE_NEWIPC)) || !mntns_mkdtemp(dir, sizeof(dir), "mnt_mqueue_ipc") || mkdir(mntns_at(dir, "mq"), 0755) ||
	    mkdir(mntns_at(dir, "sys"), 0755) || mount("mqueue", mntns_at(dir, "mq"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ||
	    mount("sysfs", mntns_at(dir, "sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		fail("setup");
		return 1;
	}
	snprintf(q, sizeof(q), "/mnt_mqueue_ipc.%d", getpid());
	msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (mq_open(q, O_CREAT | O_RDWR | O_CLOEXEC, 0600, &attr) == (mqd_t)-1 || msq < 0 ||
	    msgsnd(msq, &msg, sizeof(msg.text), 0) || list_dir(mntns_at(dir, "mq"), mq_before, sizeof(mq_before)) ||
	    list_dir(mntns_at(dir, "sys/class/net"), net_before, sizeof(net_before))) {
		fail("setup of the queues");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	errno = 0;
	if (list_dir(mntns_at(dir, "mq"), mq_after, sizeof(mq_after)) || strcmp(mq_before, mq_after))
		fail("the mqueue mount lists '%s', before '%s'", mq_after, mq_before);
	if (list_dir(mntns_at(dir, "sys/class/net"), net_after, sizeof(net_after)) || strcmp(net_before, net_after))
		fail("the sysfs mount lists devices '%s', before '%s'", net_after, net_before);
	if (msgrcv(msq, &got, sizeof(got.text), 0, IPC_NOWAIT) != sizeof(got.text) || got.type != msg.type ||
	    strcmp(got.text, msg.text))
		fail("the SysV message queue lost its message");
	mq_unlink(q);
	msgctl(msq, IPC_RMID, NULL);
	umount2(mntns_at(dir, "mq"), MNT_DETACH);
	umount2(mntns_at(dir, "sys"), MNT_DETACH);
	rmdir(mntns_at(dir, "mq"));
	rmdir(mntns_at(dir, "sys"));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
