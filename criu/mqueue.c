// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX message queues (Documentation/namespaces.md, "POSIX message
 * queues"): beyond CRIU 4.2, which has none of this.
 *
 * A queue lives in the mqueue filesystem of an IPC namespace. Two parts:
 *
 * - the queues of an IPC namespace of the tree are its contents: the IPC
 *   kind's dump (ipc_ns.c, in a helper inside the namespace) calls
 *   mq_ns_dump(), which writes each queue with its attributes, owner, mode
 *   and messages to ipcns-mq-<id>.img. The messages are read by receiving
 *   them all and sending them back in the same order (the tree is stopped;
 *   the queue is as it was after), as nothing reads a queue without taking
 *   its messages. The stub that makes the namespace makes them again
 *   (mq_ns_restore());
 * - an fd of a queue (fd type EXT, CRIU's type for files of its plugins):
 *   the queue's name, its namespace (0: criu's, whose queues are the
 *   machine's, like files, and must still be there at restore, with the
 *   same sizes) and the open file's flags. The controller opens it again
 *   by name with mq_open(), inside the tree's namespace when it is one.
 *
 * Refused at dump, by name: a queue with an mq_notify() registration (the
 * kernel shows its pid, not who or how to notify again), an fd of a removed
 * queue, an fd of a queue of another namespace than its task's.
 */
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "image.h"
#include "log.h"
#include "posix-mq.h"
#include "namespaces.h"
#include "protobuf.h"
#include "pstree.h"
#include "rst-ctx.h"

#include "fdinfo.pb-c.h"
#include "mqueue.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "mqueue: "

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

/* ------------------------------------------------------ both */

/* The "NOTIFY_PID:" of a queue's text (read(2) of a queue fd): 0 when nobody is registered. */
static int mq_notify_pid(int fd, pid_t *ret)
{
	char buf[256], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "NOTIFY_PID:");
	*ret = p ? (pid_t)strtol(p + strlen("NOTIFY_PID:"), NULL, 10) : 0;
	return 0;
}

static int mq_attr_of(int fd, struct mq_attr *a)
{
	memset(a, 0, sizeof(*a));
	return syscall(SYS_mq_getsetattr, fd, NULL, a) ? -errno : 0;
}

/* ------------------------------------------------------ dump: a namespace's queues */

static void free_msgs(PosixMqEntry *e)
{
	for (size_t i = 0; i < e->n_msgs; i++) {
		free(e->msgs[i]->data.data);
		free(e->msgs[i]);
	}
	free(e->msgs);
}

/* Take every message of the queue, in receive order, into e; then put them back. */
static int mq_take_and_give_back(int fd, const char *name, PosixMqEntry *e, size_t msgsize)
{
	_cleanup_free_ char *buf = xmalloc(msgsize ?: 1);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		PosixMqMsg **n, *m;
		unsigned int prio;
		ssize_t len = syscall(SYS_mq_timedreceive, fd, buf, msgsize, &prio, NULL);

		if (len < 0) {
			if (errno != EAGAIN)
				ret = pr_fail_errno("can't read the messages of /%s", name);
			break;
		}
		n = xrealloc(e->msgs, (e->n_msgs + 1) * sizeof(*n));
		m = xzalloc(sizeof(*m));
		if (!n || !m) {
			free(m);
			ret = -ENOMEM;
			break;
		}
		e->msgs = n;
		posix_mq_msg__init(m);
		m->prio = prio;
		m->data.len = len;
		m->data.data = xmalloc(len ?: 1);
		if (!m->data.data) {
			free(m);
			ret = -ENOMEM;
			break;
		}
		memcpy(m->data.data, buf, len);
		e->msgs[e->n_msgs++] = m;
	}
	/* back in the same order: the same priorities, each one's oldest first */
	for (size_t i = 0; i < e->n_msgs; i++)
		if (syscall(SYS_mq_timedsend, fd, e->msgs[i]->data.data, e->msgs[i]->data.len, e->msgs[i]->prio, NULL)) {
			pr_err("can't give message %zu of %zu back to /%s: %s; the queue lost messages\n", i,
			       e->n_msgs, name, strerror(errno));
			return -errno;
		}
	return ret;
}

static int mq_dump_one(struct cr_img *img, int dfd, const char *name, uint32_t ns_id)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	PosixMqEntry e = POSIX_MQ_ENTRY__INIT;
	struct mq_attr a;
	struct stat st;
	pid_t notify;
	int ret;

	if (fd < 0 || fstat(fd, &st))
		return pr_fail_errno("can't open the POSIX message queue /%s of ipc namespace %u", name, ns_id);
	ret = mq_attr_of(fd, &a) ?: mq_notify_pid(fd, &notify);
	if (ret)
		return pr_fail(ret, "can't read the attributes of /%s: %s\n", name, strerror(-ret));
	if (notify)
		return pr_fail(-EOPNOTSUPP,
			       "the POSIX message queue /%s (ipc namespace %u) has an mq_notify() registration of pid "
			       "%d, which criu does not restore\n",
			       name, ns_id, notify);
	e.name = (char *)name;
	e.mode = st.st_mode & 07777;
	e.uid = st.st_uid;
	e.gid = st.st_gid;
	e.maxmsg = a.mq_maxmsg;
	e.msgsize = a.mq_msgsize;
	ret = mq_take_and_give_back(fd, name, &e, a.mq_msgsize);
	if (!ret) {
		pr_info("queue /%s: %zu messages, maxmsg %ld, msgsize %ld\n", name, e.n_msgs, a.mq_maxmsg,
			a.mq_msgsize);
		ret = pb_write_one(img, &e, PB_IPCNS_MQ);
	}
	free_msgs(&e);
	return ret;
}

/*
 * In the helper that joined the IPC namespace id: a mount of its mqueue
 * filesystem made here is of this namespace's, and is never attached
 * anywhere (fsopen/fsmount), so nothing else sees it.
 */
int mq_ns_dump(int img_dfd, uint32_t id)
{
	_cleanup_close_ int fs = -1, mnt = -1, dfd = -1;
	struct cr_img *img = NULL;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	fs = syscall(SYS_fsopen, "mqueue", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		return pr_fail_errno("can't open an mqueue filesystem to look for POSIX message queues");
	if (syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0))
		return pr_fail_errno("can't create the mqueue filesystem of ipc namespace %u", id);
	mnt = syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0);
	if (mnt < 0)
		return pr_fail_errno("can't mount the mqueue filesystem of ipc namespace %u", id);
	/* fsmount() gives an O_PATH fd: open the root for reading */
	dfd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd < 0 ? NULL : fdopendir(dup(dfd));
	if (!d)
		return pr_fail_errno("can't read the mqueue filesystem of ipc namespace %u", id);
	img = open_image_at(img_dfd, CR_FD_IPCNS_MQ, O_DUMP, id);
	if (!img) {
		closedir(d);
		return pr_fail(-errno, "can't create ipcns-mq-%u.img: %s\n", id, img_last_error());
	}
	errno = 0;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ret = mq_dump_one(img, dfd, de->d_name, id);
		errno = 0;
	}
	if (!ret && errno)
		ret = pr_fail_errno("can't list the mqueue filesystem of ipc namespace %u", id);
	closedir(d);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* ------------------------------------------------------ restore: a namespace's queues */

struct mq_ns {
	PosixMqEntry **e;
	size_t nr;
};

int mq_ns_read(int img_dfd, uint32_t id, struct mq_ns **ret)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_IPCNS_MQ, O_RSTR, id);
	struct mq_ns *q;
	PosixMqEntry *e;
	int r;

	*ret = NULL;
	if (!img)
		return pr_fail(-errno, "can't open ipcns-mq-%u.img: %s\n", id, img_last_error());
	q = xzalloc(sizeof(*q));
	if (!q) {
		close_image(img);
		return -ENOMEM;
	}
	while ((r = pb_read_one_eof(img, (void **)&e, PB_IPCNS_MQ)) > 0) {
		PosixMqEntry **n = xrealloc(q->e, (q->nr + 1) * sizeof(*n));

		if (!n || !e->name[0] || strchr(e->name, '/')) {
			r = n ? pr_fail(-EINVAL, "ipcns-mq-%u.img: a queue named '%s'\n", id, e->name) : -ENOMEM;
			pb_free(e, PB_IPCNS_MQ);
			break;
		}
		q->e = n;
		q->e[q->nr++] = e;
	}
	close_image(img);
	if (r < 0) {
		mq_ns_free(q);
		return r;
	}
	*ret = q;
	return 0;
}

static int mq_restore_one(const PosixMqEntry *e)
{
	struct mq_attr a = { .mq_maxmsg = (long)e->maxmsg, .mq_msgsize = (long)e->msgsize };
	_cleanup_close_ int fd = -1;
	char name[NAME_MAX + 2];

	snprintf(name, sizeof(name), "/%s", e->name);
	/* the name without its "/": the syscall, not glibc's mq_open() */
	fd = syscall(SYS_mq_open, name + 1, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0600, &a);
	if (fd < 0)
		return pr_fail_errno("can't make the POSIX message queue %s (maxmsg %llu, msgsize %llu)", name,
				     (unsigned long long)e->maxmsg, (unsigned long long)e->msgsize);
	for (size_t i = 0; i < e->n_msgs; i++)
		if (syscall(SYS_mq_timedsend, fd, e->msgs[i]->data.data, e->msgs[i]->data.len, e->msgs[i]->prio, NULL))
			return pr_fail_errno("can't put message %zu back into %s", i, name);
	if (fchown(fd, e->uid, e->gid) || fchmod(fd, e->mode & 07777))
		return pr_fail_errno("can't give %s its owner %u:%u and mode 0%o", name, e->uid, e->gid, e->mode);
	pr_info("queue %s made again with %zu messages\n", name, e->n_msgs);
	return 0;
}

/* In the stub that made the IPC namespace, inside it. */
int mq_ns_restore(const struct mq_ns *q)
{
	for (size_t i = 0; q && i < q->nr; i++) {
		int ret = mq_restore_one(q->e[i]);

		if (ret)
			return ret;
	}
	return 0;
}

void mq_ns_free(struct mq_ns *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nr; i++)
		pb_free(q->e[i], PB_IPCNS_MQ);
	free(q->e);
	free(q);
}

/* ------------------------------------------------------ an fd of a queue */

static bool mq_detect(const struct fd_parms *p)
{
	return p->sfs.f_type == MQUEUE_MAGIC && S_ISREG(p->stat.st_mode);
}

/* The queue named name in the task's IPC namespace is the fd's (not a namesake, nor one of another namespace). */
static int mq_same_queue(const struct fd_parms *p, const char *name)
{
	_cleanup_close_ int back = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC), to = -1, fd = -1;
	struct stat st;
	int err = 0;

	to = openat(p->item->proc_dfd, "ns/ipc", O_RDONLY | O_CLOEXEC);
	if (back < 0 || to < 0 || setns(to, CLONE_NEWIPC))
		return pr_fail_errno("fd %d of task %d: can't join its IPC namespace", p->fd, p->item->pid);
	fd = syscall(SYS_mq_open, name + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, NULL);
	if (fd < 0)
		err = -errno;
	if (setns(back, CLONE_NEWIPC))
		return pr_fail_errno("can't go back to criu's IPC namespace");
	if (err == -ENOENT)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: the POSIX message queue %s is none of its IPC namespace's (removed, or "
			       "of another namespace): not supported\n",
			       p->fd, p->item->pid, name);
	if (err)
		return pr_fail(err, "fd %d of task %d: can't open the POSIX message queue %s: %s\n", p->fd, p->item->pid,
			       name, strerror(-err));
	if (fstat(fd, &st))
		return -errno;
	if (st.st_ino != p->stat.st_ino || st.st_dev != p->stat.st_dev)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: %s of its IPC namespace is another queue than the fd's (removed and "
			       "made again, or the fd's is of another namespace): not supported\n",
			       p->fd, p->item->pid, name);
	return 0;
}

static int mq_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	ExtFileEntry ee = EXT_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	const char *name = p->link;
	_cleanup_close_ int rfd = -1;
	char path[64];
	struct mq_attr a;
	FownEntry fown;
	pid_t notify;
	int own, ret;

	if (!p->item || p->fd < 0)
		return pr_fail(-EOPNOTSUPP, "a POSIX message queue that is not an fd (%s): not supported\n", p->link);
	if (name[0] != '/' || strchr(name + 1, '/') || strstr(name, " (deleted)"))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: the POSIX message queue %s was removed: not supported\n",
			       p->fd, p->item->pid, name);
	/* a read-only open of our own: the task's fd may be write-only, and reading it would move nothing */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->lfd);
	rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ret = rfd < 0 ? -errno : mq_attr_of(rfd, &a) ?: mq_notify_pid(rfd, &notify);
	if (ret)
		return pr_fail(ret, "fd %d of task %d: can't read the queue %s: %s\n", p->fd, p->item->pid, name,
			       strerror(-ret));
	if (notify)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d: the POSIX message queue %s has an mq_notify() registration of pid %d, "
			       "which criu does not restore\n",
			       p->fd, p->item->pid, name, notify);
	ret = mq_same_queue(p, name);
	if (ret)
		return ret;
	own = ns_task_in_own(p->item, NS_IPC);
	if (own < 0)
		return pr_fail(own, "task %d: can't compare its IPC namespace with criu's\n", p->item->pid);
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	ee.id = id;
	ee.fown = &fown;
	ee.mq_name = (char *)name;
	ee.has_mq_ipc_ns = ee.has_mq_flags = ee.has_mq_maxmsg = ee.has_mq_msgsize = true;
	ee.mq_ipc_ns = own ? p->item->ns_id[NS_IPC] : 0;
	ee.mq_flags = p->flags;
	ee.mq_maxmsg = a.mq_maxmsg;
	ee.mq_msgsize = a.mq_msgsize;
	fe.type = FD_TYPES__EXT;
	fe.id = id;
	fe.ext = &ee;
	return write_file_entry(ctx, &fe);
}

static int mq_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	const ExtFileEntry *e = d->fe->ext;

	if (!e)
		return pr_fail(-EINVAL, "files.img: external file %u has no ext entry\n", d->id);
	if (!e->mq_name)
		return pr_fail(-EOPNOTSUPP, "files.img: file %u is a file of a CRIU plugin, which this criu does not "
					    "have\n", d->id);
	if (e->mq_name[0] != '/' || !e->mq_name[1] || strchr(e->mq_name + 1, '/'))
		return pr_fail(-EINVAL, "files-ext.img: file %u: '%s' is not a queue name\n", d->id, e->mq_name);
	if (e->mq_ipc_ns && !rst_ns_of_tree(ctx, NS_IPC, e->mq_ipc_ns))
		return pr_fail(-EINVAL, "files-ext.img: queue %s (file %u) is in IPC namespace %u, none of the tree's\n",
			       e->mq_name, d->id, e->mq_ipc_ns);
	return 0;
}

static int mq_open_here(const ExtFileEntry *e, uint32_t id)
{
	unsigned int acc = e->mq_flags & O_ACCMODE;
	struct mq_attr a;
	int fd, ret;

	fd = syscall(SYS_mq_open, e->mq_name + 1, acc | (e->mq_flags & O_NONBLOCK) | O_CLOEXEC, 0, NULL);
	if (fd < 0)
		return pr_fail_errno("can't open the POSIX message queue %s (file %u)", e->mq_name, id);
	ret = mq_attr_of(fd, &a);
	if (!ret && ((uint64_t)a.mq_maxmsg != e->mq_maxmsg || (uint64_t)a.mq_msgsize != e->mq_msgsize))
		ret = pr_fail(-EINVAL,
			      "the POSIX message queue %s has maxmsg %ld and msgsize %ld now, %llu and %llu at dump: "
			      "another queue by that name\n",
			      e->mq_name, a.mq_maxmsg, a.mq_msgsize, (unsigned long long)e->mq_maxmsg,
			      (unsigned long long)e->mq_msgsize);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int mq_open_file(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	const ExtFileEntry *e = d->fe->ext;
	_cleanup_close_ int back = -1, to = -1;
	int fd, ret;

	if (!e->mq_ipc_ns) {
		fd = mq_open_here(e, d->id);
	} else {
		back = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
		to = rst_ns_fd(ctx, NS_IPC, e->mq_ipc_ns);
		if (back < 0 || to < 0)
			return pr_fail(to < 0 ? to : -errno, "queue %s: no fd of its IPC namespace %u\n", e->mq_name,
				       e->mq_ipc_ns);
		if (setns(to, CLONE_NEWIPC))
			return pr_fail_errno("queue %s: can't join the tree's IPC namespace %u", e->mq_name,
					     e->mq_ipc_ns);
		fd = mq_open_here(e, d->id);
		/* failing, criu would open later queues in the tree's namespace: the restore stops */
		if (setns(back, CLONE_NEWIPC)) {
			if (fd >= 0)
				close(fd);
			return pr_fail_errno("can't go back to criu's IPC namespace");
		}
	}
	if (fd < 0)
		return fd;
	ret = fcntl(fd, F_SETFL, e->mq_flags & (O_NONBLOCK | O_ASYNC)) ? -errno : 0;
	if (ret) {
		close(fd);
		return pr_fail(ret, "queue %s: can't set its flags: %s\n", e->mq_name, strerror(-ret));
	}
	pr_info("queue %s (file %u) opened%s\n", e->mq_name, d->id, e->mq_ipc_ns ? " in the tree's IPC namespace" : "");
	*ret_fd = fd;
	return 0;
}

const struct file_type mqueue_file_type = {
	.name = "POSIX message queue",
	.type = FD_TYPES__EXT,
	.detect = mq_detect,
	.dump = mq_dump,
	.collect = mq_collect,
	.open = mq_open_file,
	/* a queue of the tree's IPC namespace exists once the stub that makes it has run */
	.stage = FILE_OPEN_AFTER_TREE,
};
