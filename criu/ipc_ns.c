// SPDX-License-Identifier: GPL-2.0
/*
 * IPC namespaces (Documentation/namespaces.md): the ipc sysctls
 * (ipcns-var-ID.img, CRIU's IpcVarEntry), the SysV shared memory segments
 * with their contents, semaphore sets with their values and message queues
 * with their messages (ipcns-shm-, ipcns-sem-, ipcns-msg-ID.img, CRIU's
 * layouts). The dump runs in a helper that joined the namespace
 * (namespaces.c), the restore in the stub that made it (ns-restore.c); the
 * images are read by the controller before anything starts.
 *
 * Objects keep their ids (the kernel's shm_next_id, sem_next_id and
 * msg_next_id sysctls name the id of the next object made), keys, owners
 * and modes. Their creators (cuid, cgid), times and last pids are not kept.
 * POSIX message queues are refused at dump, by name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "ipc: "
#include "common.h"
#include "hugetlb.h"
#include "image.h"
#include "log.h"
#include "posix-mq.h"
#include "namespaces.h"
#include "pagemap.h"
#include "proc_parse.h"
#include "protobuf.h"

#include "ipc-msg.pb-c.h"
#include "ipc-sem.pb-c.h"
#include "ipc-shm.pb-c.h"
#include "ipc-var.pb-c.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

#define ROUND_UP(x, a) (((x) + (a) - 1) / (a) * (a))

/* ------------------------------------------------------ sysctls */

/* The ipc sysctls, in the order of IpcVarEntry; the per-namespace ones only. */
enum { V_MSGMAX, V_MSGMNB, V_MSGMNI, V_AUTO_MSGMNI, V_SHMMAX, V_SHMALL, V_SHMMNI, V_SHM_RMID_FORCED,
       V_MQ_QUEUES_MAX, V_MQ_MSG_MAX, V_MQ_MSGSIZE_MAX, V_MQ_MSG_DEFAULT, V_MQ_MSGSIZE_DEFAULT, V_NR };

static const char *const var_path[V_NR] = {
	"kernel/msgmax", "kernel/msgmnb", "kernel/msgmni", "kernel/auto_msgmni", "kernel/shmmax",
	"kernel/shmall", "kernel/shmmni", "kernel/shm_rmid_forced", "fs/mqueue/queues_max",
	"fs/mqueue/msg_max", "fs/mqueue/msgsize_max", "fs/mqueue/msg_default", "fs/mqueue/msgsize_default",
};

/* Read a sysctl of /proc/sys (of the reader's namespaces) as up to n numbers. -ENOENT when absent. */
static int sysctl_read(const char *name, uint64_t *v, int n)
{
	char path[96], buf[256], *p = buf, *end;
	_cleanup_close_ int fd = -1;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	for (int i = 0; i < n; i++) {
		v[i] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static int sysctl_write(const char *name, const uint64_t *v, int n)
{
	char path[96], buf[256];
	_cleanup_close_ int fd = -1;
	int len = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (int i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%" PRIu64, i ? " " : "", v[i]);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != len)
		return pr_fail_errno("can't write '%s' to %s", buf, path);
	return 0;
}

static int read_vars(uint64_t *var, uint64_t *sem)
{
	int ret = sysctl_read("kernel/sem", sem, 4);

	if (ret)
		return pr_fail(ret, "can't read /proc/sys/kernel/sem: %s\n", strerror(-ret));
	for (int i = 0; i < V_NR; i++) {
		ret = sysctl_read(var_path[i], &var[i], 1);
		if (ret == -ENOENT && (i == V_AUTO_MSGMNI || i >= V_MQ_MSG_DEFAULT)) {
			var[i] = UINT64_MAX;	/* not in every kernel */
			continue;
		}
		if (ret)
			return pr_fail(ret, "can't read /proc/sys/%s: %s\n", var_path[i], strerror(-ret));
	}
	return 0;
}

static int dump_vars(int img_dfd, uint32_t id)
{
	IpcVarEntry e = IPC_VAR_ENTRY__INIT;
	uint64_t v[V_NR], sem[4];
	uint32_t sem32[4];
	struct cr_img *img;
	int ret;

	ret = read_vars(v, sem);
	if (ret)
		return ret;
	for (int i = 0; i < 4; i++)
		sem32[i] = sem[i];
	e.n_sem_ctls = 4;
	e.sem_ctls = sem32;
	e.msg_ctlmax = v[V_MSGMAX];
	e.msg_ctlmnb = v[V_MSGMNB];
	e.msg_ctlmni = v[V_MSGMNI];
	e.auto_msgmni = v[V_AUTO_MSGMNI] == UINT64_MAX ? 0 : v[V_AUTO_MSGMNI];
	e.shm_ctlmax = v[V_SHMMAX];
	e.shm_ctlall = v[V_SHMALL];
	e.shm_ctlmni = v[V_SHMMNI];
	e.shm_rmid_forced = v[V_SHM_RMID_FORCED];
	e.mq_queues_max = v[V_MQ_QUEUES_MAX];
	e.mq_msg_max = v[V_MQ_MSG_MAX];
	e.mq_msgsize_max = v[V_MQ_MSGSIZE_MAX];
	e.has_mq_msg_default = v[V_MQ_MSG_DEFAULT] != UINT64_MAX;
	e.mq_msg_default = v[V_MQ_MSG_DEFAULT];
	e.has_mq_msgsize_default = v[V_MQ_MSGSIZE_DEFAULT] != UINT64_MAX;
	e.mq_msgsize_default = v[V_MQ_MSGSIZE_DEFAULT];
	img = open_image_at(img_dfd, CR_FD_IPC_VAR, O_DUMP, id);
	if (!img)
		return pr_fail_errno("can't create ipcns-var-%u.img", id);
	ret = pb_write_one(img, &e, PB_IPC_VAR);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

/* Write the sysctls that differ from the new namespace's defaults. */
static int restore_vars(const IpcVarEntry *e)
{
	uint64_t want[V_NR] = {
		e->msg_ctlmax, e->msg_ctlmnb, e->msg_ctlmni, e->auto_msgmni, e->shm_ctlmax, e->shm_ctlall,
		e->shm_ctlmni, e->shm_rmid_forced, e->mq_queues_max, e->mq_msg_max, e->mq_msgsize_max,
		e->has_mq_msg_default ? e->mq_msg_default : UINT64_MAX,
		e->has_mq_msgsize_default ? e->mq_msgsize_default : UINT64_MAX,
	};
	uint64_t now[V_NR], sem_now[4], sem[4];
	int ret;

	ret = read_vars(now, sem_now);
	if (ret)
		return ret;
	for (int i = 0; i < 4; i++)
		sem[i] = e->sem_ctls[i];
	if (memcmp(sem, sem_now, sizeof(sem))) {
		ret = sysctl_write("kernel/sem", sem, 4);
		if (ret)
			return ret;
	}
	for (int i = 0; i < V_NR; i++) {
		/* auto_msgmni: 0 is also what CRIU writes when the kernel has none */
		if (want[i] == UINT64_MAX || now[i] == UINT64_MAX || want[i] == now[i])
			continue;
		ret = sysctl_write(var_path[i], &want[i], 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------ SysV objects: dump */

static void fill_desc(IpcDescEntry *d, int id, const struct ipc_perm *p)
{
	d->key = (uint32_t)p->__key;
	d->uid = p->uid;
	d->gid = p->gid;
	d->cuid = p->cuid;
	d->cgid = p->cgid;
	d->mode = p->mode;
	d->id = id;
}

/* An fd of the file of our attachment at p (its map_files link), or -errno. */
static int shm_attach_file(void *p)
{
	_cleanup_close_ int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct proc_maps maps = {};
	int ret;

	if (dfd < 0)
		return -errno;
	ret = parse_pid_maps(dfd, &maps);
	for (int i = 0; !ret && i < maps.nr; i++) {
		if (maps.vmas[i].start != (unsigned long)p)
			continue;
		ret = open_proc_map_file(dfd, maps.vmas[i].start, maps.vmas[i].end, O_RDONLY);
		proc_maps_free(&maps);
		return ret;
	}
	proc_maps_free(&maps);
	return ret ?: -ENOENT;
}

/*
 * The contents of a SHM_HUGETLB segment, read through the file of its
 * attachment: a huge page never written reads as zeroes there without being
 * allocated (through the attachment it would be).
 */
static int write_hugetlb_shm(struct cr_img *img, int fd, size_t size)
{
	_cleanup_free_ char *buf = xmalloc(HUGETLB_PAGE_SIZE);
	size_t padded = ROUND_UP(size, 4);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t off = 0; off < size && !ret; off += HUGETLB_PAGE_SIZE) {
		size_t n = min(size - off, HUGETLB_PAGE_SIZE);

		if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
			return -EIO;
		ret = write_img_buf(img, buf, n);
	}
	if (!ret && padded > size)
		ret = write_img_buf(img, "\0\0\0", padded - size);
	return ret;
}

static int dump_one_shm(struct cr_img *img, int id, const struct shmid_ds *ds)
{
	IpcShmEntry e = IPC_SHM_ENTRY__INIT;
	IpcDescEntry d = IPC_DESC_ENTRY__INIT;
	size_t padded = ROUND_UP(ds->shm_segsz, 4);
	_cleanup_close_ int fd = -1;
	struct statfs sfs;
	void *p;
	int ret;

	if (ds->shm_perm.mode & SHM_DEST)
		return pr_fail(-EOPNOTSUPP, "SysV shm segment %d is marked for removal while attached: not dumped\n",
			       id);
	fill_desc(&d, id, &ds->shm_perm);
	e.desc = &d;
	e.size = ds->shm_segsz;
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return pr_fail_errno("can't attach SysV shm segment %d", id);
	/* SHM_HUGETLB is not kept in shm_perm.mode: the attachment is on hugetlbfs */
	fd = shm_attach_file(p);
	if (fd < 0 || fstatfs(fd, &sfs)) {
		ret = fd < 0 ? fd : -errno;
		shmdt(p);
		return pr_fail(ret, "SysV shm segment %d: can't stat our attachment: %s\n", id, strerror(-ret));
	}
	if (sfs.f_type == HUGETLBFS_MAGIC && sfs.f_bsize != (long)HUGETLB_PAGE_SIZE) {
		shmdt(p);
		return pr_fail(-EOPNOTSUPP, "SysV shm segment %d is on huge pages of %ld KiB (SHM_HUGETLB): not supported "
			       "(only 2 MiB pages)\n", id, (long)sfs.f_bsize >> 10);
	}
	if (sfs.f_type == HUGETLBFS_MAGIC) {
		/* CRIU's: SHM_HUGETLB and the page size */
		e.has_hugetlb_flag = true;
		e.hugetlb_flag = SHM_HUGETLB | (HUGETLB_PAGE_SHIFT << MAP_HUGE_SHIFT);
	}
	ret = pb_write_one(img, &e, PB_IPC_SHM);
	if (!ret && e.has_hugetlb_flag)
		ret = write_hugetlb_shm(img, fd, ds->shm_segsz);
	else if (!ret)
		ret = write_img_buf(img, p, ds->shm_segsz);
	if (!ret && !e.has_hugetlb_flag && padded > ds->shm_segsz)
		ret = write_img_buf(img, "\0\0\0", padded - ds->shm_segsz);
	shmdt(p);
	if (ret)
		return pr_fail(ret, "can't write SysV shm segment %d\n", id);
	return 0;
}

static int dump_one_sem(struct cr_img *img, int id, const struct semid_ds *ds)
{
	IpcSemEntry e = IPC_SEM_ENTRY__INIT;
	IpcDescEntry d = IPC_DESC_ENTRY__INIT;
	size_t size = ROUND_UP(ds->sem_nsems * sizeof(uint16_t), 8);
	_cleanup_free_ uint16_t *vals = xzalloc(size);
	int ret;

	if (!vals)
		return -ENOMEM;
	fill_desc(&d, id, &ds->sem_perm);
	e.desc = &d;
	e.nsems = ds->sem_nsems;
	if (semctl(id, 0, GETALL, vals) < 0)
		return pr_fail_errno("can't read the values of SysV semaphore set %d", id);
	ret = pb_write_one(img, &e, PB_IPC_SEM);
	if (!ret)
		ret = write_img_buf(img, vals, size);
	if (ret)
		return pr_fail(ret, "can't write SysV semaphore set %d\n", id);
	return 0;
}

struct msg_buf {
	long mtype;
	char mtext[];
};

static int dump_one_msg(struct cr_img *img, int id, const struct msqid_ds *ds, size_t msgmax)
{
	IpcMsgEntry e = IPC_MSG_ENTRY__INIT;
	IpcDescEntry d = IPC_DESC_ENTRY__INIT;
	_cleanup_free_ struct msg_buf *m = xzalloc(sizeof(*m) + ROUND_UP(msgmax, 8));
	int ret;

	if (!m)
		return -ENOMEM;
	fill_desc(&d, id, &ds->msg_perm);
	e.desc = &d;
	e.qbytes = ds->msg_qbytes;
	e.qnum = ds->msg_qnum;
	ret = pb_write_one(img, &e, PB_IPC_MSG_ENTRY);
	for (unsigned long i = 0; !ret && i < ds->msg_qnum; i++) {
		IpcMsg im = IPC_MSG__INIT;
		/* MSG_COPY: the i-th message, left in the queue */
		ssize_t n = msgrcv(id, m, msgmax, i, IPC_NOWAIT | MSG_COPY);

		if (n < 0 && errno == E2BIG)
			return pr_fail(-EOPNOTSUPP, "message %lu of SysV message queue %d is longer than msgmax (%zu) "
						    "now: not dumped\n", i, id, msgmax);
		if (n < 0)
			return pr_fail_errno("can't read message %lu of SysV message queue %d", i, id);
		im.mtype = m->mtype;
		im.msize = n;
		memset(m->mtext + n, 0, ROUND_UP(n, 8) - n);
		ret = pb_write_one(img, &im, PB_IPC_MSG);
		if (!ret)
			ret = write_img_buf(img, m->mtext, ROUND_UP(n, 8));
	}
	if (ret)
		return pr_fail(ret, "can't write SysV message queue %d\n", id);
	return 0;
}

/* shmctl/semctl/msgctl with an index: the id there or -1 (EINVAL: a free index) */
static int dump_shms(struct cr_img *img)
{
	struct shm_info info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);

	if (max < 0)
		return pr_fail_errno("shmctl(SHM_INFO)");
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT_ANY, &ds), ret;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return pr_fail_errno("shmctl(%d, SHM_STAT_ANY)", i);
		ret = dump_one_shm(img, id, &ds);
		if (ret)
			return ret;
	}
	return 0;
}

static int dump_sems(struct cr_img *img)
{
	struct seminfo info;
	int max = semctl(0, 0, SEM_INFO, &info);

	if (max < 0)
		return pr_fail_errno("semctl(SEM_INFO)");
	for (int i = 0; i <= max; i++) {
		struct semid_ds ds;
		int id = semctl(i, 0, SEM_STAT_ANY, &ds), ret;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return pr_fail_errno("semctl(%d, SEM_STAT_ANY)", i);
		ret = dump_one_sem(img, id, &ds);
		if (ret)
			return ret;
	}
	return 0;
}

static int dump_msgs(struct cr_img *img)
{
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
	uint64_t msgmax;

	if (max < 0)
		return pr_fail_errno("msgctl(MSG_INFO)");
	if (sysctl_read("kernel/msgmax", &msgmax, 1))
		return pr_fail(-EINVAL, "can't read /proc/sys/kernel/msgmax\n");
	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT_ANY, &ds), ret;

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return pr_fail_errno("msgctl(%d, MSG_STAT_ANY)", i);
		ret = dump_one_msg(img, id, &ds, msgmax);
		if (ret)
			return ret;
	}
	return 0;
}

static int dump_objects(int img_dfd, uint32_t id, int type, int (*fn)(struct cr_img *img))
{
	struct cr_img *img = open_image_at(img_dfd, type, O_DUMP, id);
	int ret;

	if (!img)
		return pr_fail_errno("can't create an ipc image of namespace %u", id);
	ret = fn(img);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

int ipc_ns_dump(int img_dfd, uint32_t id)
{
	int ret = dump_vars(img_dfd, id);
	if (!ret)
		ret = dump_objects(img_dfd, id, CR_FD_IPCNS_SHM, dump_shms);
	if (!ret)
		ret = dump_objects(img_dfd, id, CR_FD_IPCNS_SEM, dump_sems);
	if (!ret)
		ret = dump_objects(img_dfd, id, CR_FD_IPCNS_MSG, dump_msgs);
	if (!ret)
		ret = mq_ns_dump(img_dfd, id);	/* mqueue.c */
	return ret;
}

/* ------------------------------------------------------ read (controller) */

struct ipc_obj {
	void *entry;		/* IpcShmEntry, IpcSemEntry or IpcMsgEntry */
	void *data;		/* shm contents, sem values */
	IpcMsg **msgs;		/* msg: qnum messages ... */
	void **texts;		/* ... and their texts */
};

struct ipc_ns_data {
	uint32_t id;
	int img_dfd;
	IpcVarEntry *var;
	struct ipc_obj *shm, *sem, *msg;
	int nr_shm, nr_sem, nr_msg;
	struct mq_ns *mq;	/* POSIX message queues (mqueue.c) */
};

static int add_obj(struct ipc_obj **v, int *nr, void *entry)
{
	struct ipc_obj *n = realloc(*v, (*nr + 1) * sizeof(**v));

	if (!n)
		return -ENOMEM;
	*v = n;
	n[*nr] = (struct ipc_obj){ .entry = entry };
	(*nr)++;
	return 0;
}

static int read_payload(struct cr_img *img, void **ret, size_t len, size_t padded)
{
	void *p = xzalloc(padded ?: 1);
	int r;

	if (!p)
		return -ENOMEM;
	r = read_img_buf(img, p, padded);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/*
 * CRIU 4.2 writes a segment's contents (in_pagemaps) as it writes shared
 * memory: pagemap-shmem-<segment id>.img, offsets from the segment's start,
 * bytes in the pages image it names; no pagemap is all zeros.
 */
static int read_shm_pages(struct ipc_ns_data *d, const IpcShmEntry *e, void **ret_data)
{
	uint64_t len = ROUND_UP(e->size, PAGE_SIZE);
	_cleanup_free_ char *buf = NULL;
	struct pagemap_read r;
	int ret;

	if (e->size > (64ULL << 30))
		return pr_fail(-EINVAL, "ipcns-shm-%u.img: segment %u of %" PRIu64 " bytes\n", d->id, e->desc->id,
			       e->size);
	buf = xzalloc(len ?: 1);
	if (!buf)
		return -ENOMEM;
	ret = read_pagemap_image(d->img_dfd, CR_FD_SHMEM_PAGEMAP, e->desc->id, &r);
	if (ret == -ENOENT)
		goto done;
	if (ret)
		return ret;
	if (r.nr_parent)
		ret = pr_fail(-EOPNOTSUPP, "pagemap-shmem-%u.img: PE_PARENT entries for SysV segment %u\n",
			      e->desc->id, e->desc->id);
	for (size_t i = 0; i < r.nr && !ret; i++) {
		uint64_t off = r.pmes[i]->vaddr, n = r.pmes[i]->nr_pages * PAGE_SIZE;

		if (off > len || n > len - off)
			ret = pr_fail(-EINVAL, "pagemap-shmem-%u.img: pages at %#" PRIx64 " past the end of segment %u "
					       "(%" PRIu64 " bytes)\n",
				      e->desc->id, off, e->desc->id, e->size);
		else if (pread(r.pages_fd, buf + off, n, r.offset[i]) != (ssize_t)n)
			ret = pr_fail(-EIO, "pagemap-shmem-%u.img: the pages of segment %u are cut short\n",
				      e->desc->id, e->desc->id);
	}
	pagemap_read_free(&r);
	if (ret)
		return ret;
done:
	*ret_data = TAKE_PTR(buf);
	return 0;
}

static int read_shms(struct cr_img *img, struct ipc_ns_data *d)
{
	IpcShmEntry *e;
	int ret;

	while ((ret = pb_read_one_eof(img, (void **)&e, PB_IPC_SHM)) > 0) {
		ret = add_obj(&d->shm, &d->nr_shm, e);
		if (ret) {
			pb_free(e, PB_IPC_SHM);
			return ret;
		}
		if (e->in_pagemaps) {
			ret = read_shm_pages(d, e, &d->shm[d->nr_shm - 1].data);
			if (ret)
				return ret;
			continue;
		}
		ret = read_payload(img, &d->shm[d->nr_shm - 1].data, e->size, ROUND_UP(e->size, 4));
		if (ret)
			return pr_fail(ret, "ipcns-shm-%u.img: the contents of segment %u are cut short\n", d->id,
				       e->desc->id);
	}
	return ret;
}

static int read_sems(struct cr_img *img, struct ipc_ns_data *d)
{
	IpcSemEntry *e;
	int ret;

	while ((ret = pb_read_one_eof(img, (void **)&e, PB_IPC_SEM)) > 0) {
		ret = add_obj(&d->sem, &d->nr_sem, e);
		if (ret) {
			pb_free(e, PB_IPC_SEM);
			return ret;
		}
		ret = read_payload(img, &d->sem[d->nr_sem - 1].data, 0, ROUND_UP(e->nsems * sizeof(uint16_t), 8));
		if (ret)
			return pr_fail(ret, "ipcns-sem-%u.img: the values of set %u are cut short\n", d->id,
				       e->desc->id);
	}
	return ret;
}

static int read_one_queue(struct cr_img *img, struct ipc_ns_data *d, struct ipc_obj *o)
{
	IpcMsgEntry *e = o->entry;

	o->msgs = xzalloc((e->qnum ?: 1) * sizeof(*o->msgs));
	o->texts = xzalloc((e->qnum ?: 1) * sizeof(*o->texts));
	if (!o->msgs || !o->texts)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->qnum; i++) {
		int ret = pb_read_one(img, (void **)&o->msgs[i], PB_IPC_MSG);

		if (!ret)
			ret = read_payload(img, &o->texts[i], 0, ROUND_UP(o->msgs[i]->msize, 8));
		if (ret)
			return pr_fail(ret, "ipcns-msg-%u.img: message %u of queue %u is cut short\n", d->id, i,
				       e->desc->id);
	}
	return 0;
}

static int read_msgs(struct cr_img *img, struct ipc_ns_data *d)
{
	IpcMsgEntry *e;
	int ret;

	while ((ret = pb_read_one_eof(img, (void **)&e, PB_IPC_MSG_ENTRY)) > 0) {
		ret = add_obj(&d->msg, &d->nr_msg, e);
		if (ret) {
			pb_free(e, PB_IPC_MSG_ENTRY);
			return ret;
		}
		ret = read_one_queue(img, d, &d->msg[d->nr_msg - 1]);
		if (ret)
			return ret;
	}
	return ret;
}

static int read_objects(int img_dfd, struct ipc_ns_data *d, int type, int (*fn)(struct cr_img *, struct ipc_ns_data *))
{
	struct cr_img *img = open_image_at(img_dfd, type, O_RSTR, d->id);
	int ret;

	if (!img)
		return pr_fail_errno("can't open an ipc image of namespace %u", d->id);
	ret = fn(img, d);
	close_image(img);
	return ret;
}

int ipc_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd)
{
	struct ipc_ns_data *d = xzalloc(sizeof(*d));
	struct cr_img *img;
	int ret;

	if (!d)
		return -ENOMEM;
	d->id = id;
	d->img_dfd = img_dfd;
	img = open_image_at(img_dfd, CR_FD_IPC_VAR, O_RSTR, id);
	if (!img) {
		ipc_ns_free(d);
		return pr_fail_errno("can't open ipcns-var-%u.img", id);
	}
	ret = pb_read_one(img, (void **)&d->var, PB_IPC_VAR);
	close_image(img);
	if (!ret && d->var->n_sem_ctls != 4)
		ret = pr_fail(-EINVAL, "ipcns-var-%u.img: %zu sem values, not 4\n", id, d->var->n_sem_ctls);
	if (!ret)
		ret = read_objects(img_dfd, d, CR_FD_IPCNS_SHM, read_shms);
	if (!ret)
		ret = read_objects(img_dfd, d, CR_FD_IPCNS_SEM, read_sems);
	if (!ret)
		ret = read_objects(img_dfd, d, CR_FD_IPCNS_MSG, read_msgs);
	if (!ret)
		ret = mq_ns_read(img_dfd, id, &d->mq);
	if (ret) {
		ipc_ns_free(d);
		return ret;
	}
	*ret_data = d;
	return 0;
}

static void free_objs(struct ipc_obj *v, int nr, int pb_type)
{
	for (int i = 0; i < nr; i++) {
		IpcMsgEntry *m = pb_type == PB_IPC_MSG_ENTRY ? v[i].entry : NULL;

		for (uint32_t j = 0; m && v[i].msgs && j < m->qnum; j++) {
			if (v[i].msgs[j])
				pb_free(v[i].msgs[j], PB_IPC_MSG);
			free(v[i].texts[j]);
		}
		free(v[i].msgs);
		free(v[i].texts);
		free(v[i].data);
		pb_free(v[i].entry, pb_type);
	}
	free(v);
}

void ipc_ns_free(void *data)
{
	struct ipc_ns_data *d = data;

	if (!d)
		return;
	if (d->var)
		pb_free(d->var, PB_IPC_VAR);
	free_objs(d->shm, d->nr_shm, PB_IPC_SHM);
	free_objs(d->sem, d->nr_sem, PB_IPC_SEM);
	free_objs(d->msg, d->nr_msg, PB_IPC_MSG_ENTRY);
	mq_ns_free(d->mq);
	free(d);
}

/* ------------------------------------------------------ restore (in the stub) */

/* The next object of this kind made gets this id. */
static int set_next_id(const char *kind, uint32_t id)
{
	char name[32];
	uint64_t v = id;

	snprintf(name, sizeof(name), "kernel/%s_next_id", kind);
	return sysctl_write(name, &v, 1);
}

static int check_id(const char *what, int got, const IpcDescEntry *d)
{
	if (got < 0)
		return pr_fail_errno("can't make SysV %s %u (key %#x)", what, d->id, d->key);
	if ((uint32_t)got != d->id)
		return pr_fail(-EEXIST, "SysV %s %u came back as %d\n", what, d->id, got);
	return 0;
}

static void fill_perm(struct ipc_perm *p, const IpcDescEntry *d)
{
	p->uid = d->uid;
	p->gid = d->gid;
	p->mode = d->mode & 0777;
}

/* Only the huge pages that hold data: one written with zeroes would be allocated. */
static void copy_hugetlb_shm(char *to, const char *from, size_t size)
{
	for (size_t off = 0; off < size; off += HUGETLB_PAGE_SIZE) {
		size_t n = min(size - off, HUGETLB_PAGE_SIZE);

		for (size_t i = 0; i < n; i++)
			if (from[off + i]) {
				memcpy(to + off, from + off, n);
				break;
			}
	}
}

static int restore_shm(const struct ipc_obj *o)
{
	const IpcShmEntry *e = o->entry;
	struct shmid_ds ds;
	int id, ret;
	void *p;

	ret = set_next_id("shm", e->desc->id);
	if (ret)
		return ret;
	if (e->has_hugetlb_flag && e->hugetlb_flag != (SHM_HUGETLB | (HUGETLB_PAGE_SHIFT << MAP_HUGE_SHIFT)) &&
	    e->hugetlb_flag != SHM_HUGETLB)
		return pr_fail(-EOPNOTSUPP, "SysV shm segment %u: hugetlb_flag %#x: only 2 MiB pages are restored\n",
			       e->desc->id, e->hugetlb_flag);
	id = shmget(e->desc->key, e->size,
		    IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777) | (e->has_hugetlb_flag ? e->hugetlb_flag : 0));
	ret = check_id("shm segment", id, e->desc);
	if (ret)
		return ret;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return pr_fail_errno("can't attach SysV shm segment %d", id);
	if (e->has_hugetlb_flag)
		copy_hugetlb_shm(p, o->data, e->size);
	else
		memcpy(p, o->data, e->size);
	shmdt(p);
	if (shmctl(id, IPC_STAT, &ds))
		return pr_fail_errno("shmctl(%d, IPC_STAT)", id);
	fill_perm(&ds.shm_perm, e->desc);
	if (shmctl(id, IPC_SET, &ds))
		return pr_fail_errno("can't give SysV shm segment %d its owner and mode", id);
	if ((e->desc->mode & SHM_LOCKED) && shmctl(id, SHM_LOCK, NULL))
		return pr_fail_errno("can't lock SysV shm segment %d", id);
	return 0;
}

static int restore_sem(const struct ipc_obj *o)
{
	const IpcSemEntry *e = o->entry;
	struct semid_ds ds;
	int id, ret;

	ret = set_next_id("sem", e->desc->id);
	if (ret)
		return ret;
	id = semget(e->desc->key, e->nsems, IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777));
	ret = check_id("semaphore set", id, e->desc);
	if (ret)
		return ret;
	if (semctl(id, 0, SETALL, o->data))
		return pr_fail_errno("can't set the values of SysV semaphore set %d", id);
	if (semctl(id, 0, IPC_STAT, &ds))
		return pr_fail_errno("semctl(%d, IPC_STAT)", id);
	fill_perm(&ds.sem_perm, e->desc);
	if (semctl(id, 0, IPC_SET, &ds))
		return pr_fail_errno("can't give SysV semaphore set %d its owner and mode", id);
	return 0;
}

static int restore_msg(const struct ipc_obj *o)
{
	const IpcMsgEntry *e = o->entry;
	struct msqid_ds ds;
	int id, ret;

	ret = set_next_id("msg", e->desc->id);
	if (ret)
		return ret;
	id = msgget(e->desc->key, IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777));
	ret = check_id("message queue", id, e->desc);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < e->qnum; i++) {
		_cleanup_free_ struct msg_buf *m = xzalloc(sizeof(*m) + o->msgs[i]->msize + 1);

		if (!m)
			return -ENOMEM;
		m->mtype = o->msgs[i]->mtype;
		memcpy(m->mtext, o->texts[i], o->msgs[i]->msize);
		if (msgsnd(id, m, o->msgs[i]->msize, IPC_NOWAIT))
			return pr_fail_errno("can't put message %u back in SysV message queue %d", i, id);
	}
	if (msgctl(id, IPC_STAT, &ds))
		return pr_fail_errno("msgctl(%d, IPC_STAT)", id);
	fill_perm(&ds.msg_perm, e->desc);
	ds.msg_qbytes = e->qbytes;
	if (msgctl(id, IPC_SET, &ds))
		return pr_fail_errno("can't give SysV message queue %d its owner, mode and size %u", id, e->qbytes);
	return 0;
}

int ipc_ns_restore(void *data)
{
	struct ipc_ns_data *d = data;
	int ret = restore_vars(d->var);

	for (int i = 0; !ret && i < d->nr_shm; i++)
		ret = restore_shm(&d->shm[i]);
	for (int i = 0; !ret && i < d->nr_sem; i++)
		ret = restore_sem(&d->sem[i]);
	for (int i = 0; !ret && i < d->nr_msg; i++)
		ret = restore_msg(&d->msg[i]);
	if (!ret)
		ret = mq_ns_restore(d->mq);
	return ret;
}
