// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd: the signal mask (fdinfo "sigmask", 64 bits in hex, bit N-1 for
 * signal N) and the file status flags. The signals themselves stay queued on
 * the task (its pending sets are dumped with the task), so a restored
 * signalfd reads them again.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "signalfd: "

static bool signalfd_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:[signalfd]");
}

int signalfd_parse_fdinfo(const struct proc_fdinfo *fi, uint64_t *ret_mask)
{
	const char *s = fdinfo_get(fi, "sigmask");
	char *end;

	if (!s)
		return -ENOENT;
	errno = 0;
	*ret_mask = strtoull(s, &end, 16);
	if (errno || end == s || *end)
		return -EINVAL;
	return 0;
}

static int signalfd_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	SignalfdEntry sfe = SIGNALFD_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	FownEntry fown;
	int ret;

	if (signalfd_parse_fdinfo(&p->fdinfo, &sfe.sigmask))
		return pr_fail(-EINVAL, "fd %d of task %d: no readable sigmask in the signalfd's fdinfo\n", p->fd,
			       p->item->pid);
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	sfe.id = id;
	sfe.flags = p->flags;
	sfe.fown = &fown;
	pr_debug("fd %d of task %d: mask %#llx\n", p->fd, p->item->pid, (unsigned long long)sfe.sigmask);

	fe.type = FD_TYPES__SIGNALFD;
	fe.id = id;
	fe.sgfd = &sfe;
	return write_file_entry(ctx, &fe);
}

static int signalfd_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->sgfd)
		return pr_fail(-EINVAL, "files.img: signalfd %u has no signalfd entry\n", d->id);
	return 0;
}

static int signalfd_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	SignalfdEntry *sfe = d->fe->sgfd;
	_cleanup_close_ int fd = -1;
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	for (int sig = 1; sig <= 64; sig++)
		if (sfe->sigmask & (1ULL << (sig - 1)))
			sigaddset(&mask, sig);
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't create signalfd %u (mask %#llx)", d->id,
			       (unsigned long long)sfe->sigmask);
	ret = anon_fd_restore_flags(fd, sfe->flags, sfe->fown);
	if (ret)
		return pr_fail(ret, "signalfd %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

const struct file_type signalfd_file_type = {
	.name = "signalfd",
	.type = FD_TYPES__SIGNALFD,
	.detect = signalfd_detect,
	.dump = signalfd_dump,
	.collect = signalfd_collect,
	.open = signalfd_open,
	.stage = FILE_OPEN_EARLY,
};
