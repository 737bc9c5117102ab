// SPDX-License-Identifier: GPL-2.0
/*
 * files-ext.img: the fields of a file that CRIU's file_entry does not have.
 *
 * Dump builds a file entry with every field, ours included (pidfd 16-24,
 * eventpoll_tfd 16, eventfd 16, tty 16-17, reg other_link 33, ext 100-104, an
 * inet socket's options from 100); write_file_entry() moves ours
 * into a file_ext_entry of the same id and writes CRIU's part to files.img,
 * so that CRIU's crit, which keeps no field it does not know, gives
 * files.img back byte for byte. Restore reads files-ext.img whole and puts
 * the fields back into the entry of the same id (file_ext_merge()) before
 * any file type sees it. An older dump of ours, with the fields in files.img
 * and no files-ext.img, is read as it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "files.h"
#include "file-ext.h"
#include "image.h"
#include "log.h"
#include "protobuf.h"
#include "rst-ctx.h"

static bool split_pidfd(PidfdEntry *p, FileExtEntry *x)
{
	if (!p)
		return false;
#define MOVE(f)                                        \
	do {                                           \
		x->has_pidfd_##f = p->has_##f;         \
		x->pidfd_##f = p->f;                   \
		p->has_##f = false;                    \
	} while (0)
	MOVE(target_kind);
	MOVE(target_pid);
	MOVE(exit_status);
	MOVE(start_time);
	MOVE(pidfs_ino);
	MOVE(file_handle);
	MOVE(is_thread);
	MOVE(file_handle_type);
#undef MOVE
	x->pidfd_boot_id = p->boot_id;
	p->boot_id = NULL;
	return true;
}

static int split_epoll(EventpollFileEntry *e, FileExtEntry *x, uint32_t **ids)
{
	bool any = false;

	if (!e || !e->n_tfd)
		return 0;
	*ids = xzalloc(e->n_tfd * sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_tfd; i++) {
		if (e->tfd[i]->has_target_id) {
			(*ids)[i] = e->tfd[i]->target_id;
			any = true;
		}
		e->tfd[i]->has_target_id = false;
	}
	if (any) {
		x->n_epoll_target_id = e->n_tfd;
		x->epoll_target_id = *ids;
	}
	return any;
}

static bool split_small(FileEntry *fe, FileExtEntry *x)
{
	bool any = false;

	if (fe->efd && fe->efd->has_semaphore) {
		x->has_eventfd_semaphore = true;
		x->eventfd_semaphore = fe->efd->semaphore;
		fe->efd->has_semaphore = false;
		any = true;
	}
	if (fe->tty && (fe->tty->has_rdev || fe->tty->has_fg_pgrp)) {
		x->has_tty_rdev = fe->tty->has_rdev;
		x->tty_rdev = fe->tty->rdev;
		x->has_tty_fg_pgrp = fe->tty->has_fg_pgrp;
		x->tty_fg_pgrp = fe->tty->fg_pgrp;
		fe->tty->has_rdev = fe->tty->has_fg_pgrp = false;
		any = true;
	}
	if (fe->tty && (fe->tty->has_slave_closed || fe->tty->has_slave_uid)) {
		x->has_tty_slave_closed = fe->tty->has_slave_closed;
		x->tty_slave_closed = fe->tty->slave_closed;
		x->has_tty_slave_uid = fe->tty->has_slave_uid;
		x->tty_slave_uid = fe->tty->slave_uid;
		x->has_tty_slave_gid = fe->tty->has_slave_gid;
		x->tty_slave_gid = fe->tty->slave_gid;
		fe->tty->has_slave_closed = fe->tty->has_slave_uid = fe->tty->has_slave_gid = false;
		any = true;
	}
	if (fe->ext && fe->ext->mq_name) {
		ExtFileEntry *e = fe->ext;

		x->mq_name = e->mq_name;
		x->has_mq_ipc_ns = e->has_mq_ipc_ns;
		x->mq_ipc_ns = e->mq_ipc_ns;
		x->has_mq_flags = e->has_mq_flags;
		x->mq_flags = e->mq_flags;
		x->has_mq_maxmsg = e->has_mq_maxmsg;
		x->mq_maxmsg = e->mq_maxmsg;
		x->has_mq_msgsize = e->has_mq_msgsize;
		x->mq_msgsize = e->mq_msgsize;
		e->mq_name = NULL;
		e->has_mq_ipc_ns = e->has_mq_flags = e->has_mq_maxmsg = e->has_mq_msgsize = false;
		any = true;
	}
	if (fe->reg && fe->reg->other_link) {
		x->reg_other_link = fe->reg->other_link;
		fe->reg->other_link = NULL;
		any = true;
	}
	return any;
}

/* an inet socket's options: ours (numbered from 100) into copies of their messages */
struct inet_ext {
	SkOptsEntry so;
	IpOptsEntry io;
	TcpOptsEntry to;
};

static bool split_inet(InetSkEntry *ie, FileExtEntry *x, struct inet_ext *b)
{
	bool any = false;

	if (!ie)
		return false;
	if (ie->opts && pb_own_fields_take(&ie->opts->base, &b->so.base)) {
		x->isk_opts = &b->so;
		any = true;
	}
	if (ie->ip_opts && pb_own_fields_take(&ie->ip_opts->base, &b->io.base)) {
		x->isk_ip_opts = &b->io;
		any = true;
	}
	if (ie->tcp_opts && pb_own_fields_take(&ie->tcp_opts->base, &b->to.base)) {
		x->isk_tcp_opts = &b->to;
		any = true;
	}
	return any;
}

/* Back where they were: the caller's entry is whole again. */
static void unsplit_inet(InetSkEntry *ie, FileExtEntry *x)
{
	if (x->isk_opts)
		pb_own_fields_put(&x->isk_opts->base, &ie->opts->base);
	if (x->isk_ip_opts)
		pb_own_fields_put(&x->isk_ip_opts->base, &ie->ip_opts->base);
	if (x->isk_tcp_opts)
		pb_own_fields_put(&x->isk_tcp_opts->base, &ie->tcp_opts->base);
}

int write_file_entry(struct dump_files_ctx *ctx, FileEntry *fe)
{
	_cleanup_free_ uint32_t *ids = NULL;
	FileExtEntry x = FILE_EXT_ENTRY__INIT;
	struct inet_ext inet = { SK_OPTS_ENTRY__INIT, IP_OPTS_ENTRY__INIT, TCP_OPTS_ENTRY__INIT };
	struct cr_img *img;
	int any, ret;

	x.id = fe->id;
	any = split_epoll(fe->epfd, &x, &ids);
	if (any < 0)
		return any;
	any |= split_pidfd(fe->pidfd, &x);
	any |= split_small(fe, &x);
	any |= split_inet(fe->isk, &x, &inet);
	ret = pb_write_one(ctx->files_img, fe, PB_FILE);
	if (!ret && any) {
		img = dump_files_img(ctx, CR_FD_FILES_EXT);
		ret = img ? pb_write_one(img, &x, PB_FILE_EXT) : -EIO;
	}
	if (fe->isk)
		unsplit_inet(fe->isk, &x);
	return ret;
}

static void merge_pidfd(PidfdEntry *p, FileExtEntry *x)
{
#define PUT(f)                                         \
	do {                                           \
		if (x->has_pidfd_##f) {                \
			p->has_##f = true;             \
			p->f = x->pidfd_##f;           \
		}                                      \
	} while (0)
	PUT(target_kind);
	PUT(target_pid);
	PUT(exit_status);
	PUT(start_time);
	PUT(pidfs_ino);
	PUT(file_handle);
	PUT(is_thread);
	PUT(file_handle_type);
#undef PUT
	/* the bytes and the string move to the file entry (freed with it), x keeps none */
	x->has_pidfd_file_handle = false;
	x->pidfd_file_handle = (ProtobufCBinaryData){};
	if (x->pidfd_boot_id) {
		free(p->boot_id);
		p->boot_id = x->pidfd_boot_id;
		x->pidfd_boot_id = NULL;
	}
}

static int merge_one(FileEntry *fe, FileExtEntry *x)
{
	if (fe->pidfd)
		merge_pidfd(fe->pidfd, x);
	if (x->n_epoll_target_id) {
		if (!fe->epfd || fe->epfd->n_tfd != x->n_epoll_target_id)
			return pr_fail(-EINVAL, "files-ext.img: file %u: epoll_target_id has %zu items, files.img %zu\n",
				       fe->id, x->n_epoll_target_id, fe->epfd ? fe->epfd->n_tfd : 0);
		for (size_t i = 0; i < x->n_epoll_target_id; i++) {
			fe->epfd->tfd[i]->has_target_id = x->epoll_target_id[i] != 0;
			fe->epfd->tfd[i]->target_id = x->epoll_target_id[i];
		}
	}
	if ((x->isk_opts || x->isk_ip_opts || x->isk_tcp_opts) &&
	    (!fe->isk || (x->isk_opts && !fe->isk->opts) || (x->isk_ip_opts && !fe->isk->ip_opts) ||
	     (x->isk_tcp_opts && !fe->isk->tcp_opts)))
		return pr_fail(-EINVAL, "files-ext.img: file %u: isk_opts for a file that has no such options in files.img\n",
			       fe->id);
	if (fe->isk)
		unsplit_inet(fe->isk, x);
	if (fe->efd && x->has_eventfd_semaphore) {
		fe->efd->has_semaphore = true;
		fe->efd->semaphore = x->eventfd_semaphore;
	}
	if (fe->ext && x->mq_name) {
		/* moved: file_ext_free() frees what x still holds */
		free(fe->ext->mq_name);
		fe->ext->mq_name = x->mq_name;
		x->mq_name = NULL;
		fe->ext->has_mq_ipc_ns = x->has_mq_ipc_ns;
		fe->ext->mq_ipc_ns = x->mq_ipc_ns;
		fe->ext->has_mq_flags = x->has_mq_flags;
		fe->ext->mq_flags = x->mq_flags;
		fe->ext->has_mq_maxmsg = x->has_mq_maxmsg;
		fe->ext->mq_maxmsg = x->mq_maxmsg;
		fe->ext->has_mq_msgsize = x->has_mq_msgsize;
		fe->ext->mq_msgsize = x->mq_msgsize;
	}
	if (fe->reg && x->reg_other_link) {
		/* moved, as the pidfd's bytes: file_ext_free() frees what x still holds */
		free(fe->reg->other_link);
		fe->reg->other_link = x->reg_other_link;
		x->reg_other_link = NULL;
	}
	if (fe->tty) {
		fe->tty->has_rdev = fe->tty->has_rdev || x->has_tty_rdev;
		fe->tty->rdev = x->has_tty_rdev ? x->tty_rdev : fe->tty->rdev;
		fe->tty->has_fg_pgrp = fe->tty->has_fg_pgrp || x->has_tty_fg_pgrp;
		fe->tty->fg_pgrp = x->has_tty_fg_pgrp ? x->tty_fg_pgrp : fe->tty->fg_pgrp;
		if (x->has_tty_slave_closed) {
			fe->tty->has_slave_closed = true;
			fe->tty->slave_closed = x->tty_slave_closed;
		}
		if (x->has_tty_slave_uid && x->has_tty_slave_gid) {
			fe->tty->has_slave_uid = fe->tty->has_slave_gid = true;
			fe->tty->slave_uid = x->tty_slave_uid;
			fe->tty->slave_gid = x->tty_slave_gid;
		}
	}
	return 0;
}

/* qsort() has no context argument: the entries being sorted, one sort at a time. */
static FileExtEntry **sort_entries;

static int cmp_ext(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	uint32_t ix = sort_entries[x]->id, iy = sort_entries[y]->id;

	if (ix != iy)
		return ix < iy ? -1 : 1;
	return x < y ? -1 : x > y;	/* the first in the image first, as a scan would find it */
}

static int sort_by_id(struct file_exts *xs)
{
	xs->by_id = xmalloc(xs->nr * sizeof(*xs->by_id));
	if (!xs->by_id)
		return -ENOMEM;
	for (int i = 0; i < xs->nr; i++)
		xs->by_id[i] = i;
	sort_entries = xs->e;
	qsort(xs->by_id, xs->nr, sizeof(*xs->by_id), cmp_ext);
	sort_entries = NULL;
	return 0;
}

int file_ext_read(struct rst_ctx *ctx, struct file_exts *out)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_FILES_EXT, O_RSTR);
	size_t nr = 0;
	int ret;

	*out = (struct file_exts){};
	if (!img)
		return errno == ENOENT ? 0 : pr_fail(-errno, "can't open %s\n", img_last_error());
	ret = pb_read_all(img, PB_FILE_EXT, (void ***)&out->e, &nr);
	out->nr = (int)nr;
	close_image(img);
	if (ret >= 0 && out->nr)
		ret = sort_by_id(out);
	return ret < 0 ? ret : 0;
}

int file_ext_merge(const struct file_exts *xs, FileEntry *fe)
{
	int lo = 0, hi = xs->nr;

	/* the first entry of fe's id: O(log n), a dump may have tens of thousands */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (xs->e[xs->by_id[mid]]->id < fe->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < xs->nr && xs->e[xs->by_id[lo]]->id == fe->id)
		return merge_one(fe, xs->e[xs->by_id[lo]]);
	return 0;
}

void file_ext_free(struct file_exts *xs)
{
	/* what the file entries took (merge_pidfd()) is no longer in these */
	for (int i = 0; i < xs->nr; i++)
		pb_free(xs->e[i], PB_FILE_EXT);
	free(xs->e);
	free(xs->by_id);
	xs->e = NULL;
	xs->by_id = NULL;
	xs->nr = 0;
}
