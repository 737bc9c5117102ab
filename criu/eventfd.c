// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd: the counter (fdinfo "eventfd-count", hex), the EFD_SEMAPHORE mode
 * (fdinfo "eventfd-semaphore", newer kernels only; older ones don't show it and
 * the object is then dumped as a plain counter, with a warning) and the file
 * status flags. Restore creates a new eventfd with that counter in the
 * controller; every fd of the object is that one file.
 */
#include <stdlib.h>
#include <sys/eventfd.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "eventfd: "

static bool eventfd_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:[eventfd]");
}

int eventfd_parse_fdinfo(const struct proc_fdinfo *fi, uint64_t *ret_count, int *ret_semaphore)
{
	const char *c = fdinfo_get(fi, "eventfd-count"), *sem = fdinfo_get(fi, "eventfd-semaphore");
	char *end;

	if (!c)
		return -ENOENT;
	errno = 0;
	*ret_count = strtoull(c, &end, 16);
	if (errno || end == c || (*end && *end != ' '))
		return -EINVAL;
	*ret_semaphore = -1;
	if (sem) {
		if (strcmp(sem, "0") && strcmp(sem, "1"))
			return -EINVAL;
		*ret_semaphore = sem[0] == '1';
	}
	return 0;
}

static int eventfd_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	EventfdFileEntry efe = EVENTFD_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	FownEntry fown;
	int ret;
	uint64_t v;
	int sem;

	if (eventfd_parse_fdinfo(&p->fdinfo, &v, &sem))
		return pr_fail(-EINVAL, "fd %d of task %d: no readable eventfd-count in fdinfo\n", p->fd, p->item->pid);
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	efe.id = id;
	efe.flags = p->flags;
	efe.fown = &fown;
	efe.counter = v;
	if (sem >= 0) {
		efe.has_semaphore = true;
		efe.semaphore = sem;
	} else {
		pr_warn("fd %d of task %d: the kernel does not show EFD_SEMAPHORE; dumped as a plain counter\n", p->fd,
			p->item->pid);
	}
	pr_debug("fd %d of task %d: counter %llu%s\n", p->fd, p->item->pid, (unsigned long long)v,
		 efe.semaphore ? ", semaphore" : "");

	fe.type = FD_TYPES__EVENTFD;
	fe.id = id;
	fe.efd = &efe;
	return write_file_entry(ctx, &fe);
}

static int eventfd_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->efd)
		return pr_fail(-EINVAL, "files.img: eventfd %u has no eventfd entry\n", d->id);
	return 0;
}

/* eventfd() takes an unsigned int: larger counters are added with a write. */
static int eventfd_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	EventfdFileEntry *efe = d->fe->efd;
	unsigned int init = efe->counter <= 0xffffffffULL ? (unsigned int)efe->counter : 0;
	_cleanup_close_ int fd = eventfd(init, EFD_CLOEXEC | (efe->semaphore ? EFD_SEMAPHORE : 0));
	int ret;

	if (fd < 0)
		return pr_fail_errno("can't create eventfd %u", d->id);
	if (efe->counter > 0xffffffffULL) {
		uint64_t v = efe->counter;

		if (v == UINT64_MAX || write(fd, &v, sizeof(v)) != sizeof(v))
			return pr_fail(-EINVAL, "eventfd %u: can't set the counter to %llu: %s\n", d->id,
				       (unsigned long long)efe->counter, strerror(errno));
	}
	ret = anon_fd_restore_flags(fd, efe->flags, efe->fown);
	if (ret)
		return pr_fail(ret, "eventfd %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

const struct file_type eventfd_file_type = {
	.name = "eventfd",
	.type = FD_TYPES__EVENTFD,
	.detect = eventfd_detect,
	.dump = eventfd_dump,
	.collect = eventfd_collect,
	.open = eventfd_open,
	.stage = FILE_OPEN_EARLY,
};
