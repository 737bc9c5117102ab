// SPDX-License-Identifier: GPL-2.0
/*
 * Namespace files: an fd of /proc/PID/ns/KIND (nsfs). CRIU's image: an
 * ns_file_entry naming the namespace by its id in the dump, with its
 * CLONE_NEW* flag. The namespace must be one the restore has: criu's own
 * (it comes back as criu's own namespace of that kind) or one of the
 * tree's that the restore makes (UTS, IPC, network, time). Any other one
 * (a namespace no task of the tree is in, and the tree's pid, mount and
 * cgroup namespaces, which are restored by modules of their own) is refused
 * at dump by name.
 *
 * Restore, once the tree exists: criu's own by /proc/self/ns/KIND, the
 * tree's through the task that made it (or the namespace joined for the
 * root), opened with the dumped flags.
 */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "namespaces.h"
#include "rst-ctx.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "nsfile: "

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* The kinds whose namespaces of the tree the restore makes by id (ns-restore.c). */
static bool tree_kind_ok(enum ns_kind k)
{
	return k == NS_UTS || k == NS_IPC || k == NS_NET || k == NS_TIME;
}

/* enum ns_kind of a CLONE_NEW* flag, or -1 (pid, or unknown). */
static int kind_of_flag(unsigned int flag)
{
	for (int k = 0; k < NS_KIND_NR; k++)
		if ((unsigned int)ns_kinds[k].clone_flag == flag)
			return k;
	return -1;
}

static bool nsfile_detect(const struct fd_parms *p)
{
	return p->sfs.f_type == NSFS_MAGIC;
}

/* The id of the namespace behind p: one of the tree's tasks' or criu's own. */
static int nsfile_id(struct dump_files_ctx *ctx, const struct fd_parms *p, enum ns_kind k, uint32_t *ret_id)
{
	const char *name = ns_kinds[k].name;
	struct stat mine;
	char path[32];
	int ret;

	ret = tree_kind_ok(k) ? ns_id_of_fd(ctx->tree, k, p->lfd, ret_id) : -ENOENT;
	if (ret != -ENOENT)
		return ret ? pr_fail(ret, "fd %d of task %d (%s): can't read the namespaces of the tree: %s\n", p->fd,
				     p->item->pid, p->link, strerror(-ret))
			   : 0;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	if (ctx->criu_ns_id && ctx->criu_ns_id[k] && !stat(path, &mine) && mine.st_ino == p->stat.st_ino &&
	    mine.st_dev == p->stat.st_dev) {
		*ret_id = ctx->criu_ns_id[k];
		return 0;
	}
	return pr_fail(-EOPNOTSUPP,
		       "fd %d of task %d is a namespace file (%s) of a %s namespace that is neither criu's nor one the "
		       "restore makes for the tree: criu can't restore it\n",
		       p->fd, p->item->pid, p->link, name);
}

static int nsfile_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	NsFileEntry nfe = NS_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	int type = ioctl(p->lfd, NS_GET_NSTYPE), k, ret;
	uint32_t ns_id;

	if (type < 0)
		return pr_fail_errno("fd %d of task %d (%s): can't get the kind of namespace (NS_GET_NSTYPE)", p->fd,
				     p->item->pid, p->link);
	k = kind_of_flag(type);
	if (k < 0 || k == NS_MNT || k == NS_CGROUP)
		return pr_fail(-EOPNOTSUPP,
			       "fd %d of task %d is a namespace file of a %s namespace (%s): not supported\n", p->fd,
			       p->item->pid, k < 0 ? "pid (or unknown)" : ns_kinds[k].name, p->link);
	ret = nsfile_id(ctx, p, k, &ns_id);
	if (ret)
		return ret;
	nfe.id = id;
	nfe.ns_id = ns_id;
	nfe.ns_cflag = type;
	nfe.flags = p->flags;
	fe.type = FD_TYPES__NS;
	fe.id = id;
	fe.nsf = &nfe;
	pr_info("fd %d of task %d: %s namespace file, namespace %u\n", p->fd, p->item->pid, ns_kinds[k].name, ns_id);
	return write_file_entry(ctx, &fe);
}

static int nsfile_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	NsFileEntry *nfe = d->fe->nsf;
	int k;

	if (!nfe)
		return pr_fail(-EINVAL, "files.img: namespace file %u has no ns file entry\n", d->id);
	k = kind_of_flag(nfe->ns_cflag);
	if (k < 0 || k == NS_MNT || k == NS_CGROUP)
		return pr_fail(-EOPNOTSUPP, "files.img: namespace file %u is of namespace kind 0x%x, which criu does "
					    "not restore as a file\n", d->id, nfe->ns_cflag);
	if (nfe->ns_id != ctx->dump_criu_ns_id[k] && !tree_kind_ok(k))
		return pr_fail(-EOPNOTSUPP, "files.img: namespace file %u: %s namespace %u is not criu's\n", d->id,
			       ns_kinds[k].name, nfe->ns_id);
	/* the tree's namespaces exist once the tree does */
	d->stage = FILE_OPEN_AFTER_TREE;
	return 0;
}

/* The pid in a pidfd's fdinfo ("Pid:"), or -1. */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	pid_t pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	return pid;
}

/* The tree's namespace k of id: a new open of the namespace joined for the root, or of its maker's. */
static int open_tree_ns(struct rst_ctx *ctx, enum ns_kind k, uint32_t id, unsigned int flags)
{
	_cleanup_close_ int nfd = rst_ns_fd(ctx, k, id);
	char path[64];
	struct statfs sfs;
	pid_t pid;
	int fd;

	if (nfd < 0)
		return nfd == -ENOENT ? pr_fail(nfd, "the restore has no %s namespace %u\n", ns_kinds[k].name, id)
				      : nfd;
	if (!fstatfs(nfd, &sfs) && sfs.f_type == NSFS_MAGIC) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", nfd);
		fd = open(path, flags | O_CLOEXEC);
	} else {
		pid = pidfd_pid(nfd);
		if (pid <= 0)
			return pr_fail(-ESRCH, "the task that made %s namespace %u is gone\n", ns_kinds[k].name, id);
		snprintf(path, sizeof(path), "%d/ns/%s", pid, ns_kinds[k].name);
		fd = openat(ctx->proc_fd, path, flags | O_CLOEXEC);
	}
	return fd < 0 ? pr_fail_errno("can't open %s namespace %u", ns_kinds[k].name, id) : fd;
}

static int nsfile_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	NsFileEntry *nfe = d->fe->nsf;
	enum ns_kind k = kind_of_flag(nfe->ns_cflag);
	unsigned int flags = nfe->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC);
	char path[32];
	int fd;

	if (nfe->ns_id == ctx->dump_criu_ns_id[k]) {
		snprintf(path, sizeof(path), "self/ns/%s", ns_kinds[k].name);
		fd = openat(ctx->proc_fd, path, flags | O_CLOEXEC);
		if (fd < 0)
			return pr_fail_errno("namespace file %u: can't open criu's %s namespace", d->id,
					     ns_kinds[k].name);
	} else {
		fd = open_tree_ns(ctx, k, nfe->ns_id, flags);
		if (fd < 0)
			return fd;
	}
	*ret_fd = fd;
	return 0;
}

const struct file_type nsfile_file_type = {
	.name = "nsfile",
	.type = FD_TYPES__NS,
	.detect = nsfile_detect,
	.dump = nsfile_dump,
	.collect = nsfile_collect,
	.open = nsfile_open,
	.stage = FILE_OPEN_AFTER_TREE,
};
