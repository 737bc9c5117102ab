// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes and FIFOs, with the bytes waiting in them.
 *
 * Dump peeks at the data without taking it: tee() duplicates the queued bytes
 * into a scratch pipe (reading a pipe through a fresh read end opened via
 * /proc/self/fd works for either end), so the task keeps its data.
 * Restore creates one pipe per dumped pipe inode in the controller, refills
 * it, and every end object is an fd of that pipe.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common.h"
#include "cr_options.h"
#include "mount.h"
#include "file-ext.h"
#include "files.h"
#include "ghost.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"
#include "pipe-data.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "pipes: "

#ifndef PIPEFS_MAGIC
#define PIPEFS_MAGIC 0x50495045
#endif

/* ---------- dump ---------- */

/* Pipe inodes whose data is already in the image, in the dump ctx (dump_files_state()). */
struct pipes_dump {
	uint64_t *inos;
	int nr;
};
static const char pipes_dump_key;

static void pipes_dump_fini(void *state)
{
	free(((struct pipes_dump *)state)->inos);
}

static bool pipe_data_dumped(const struct pipes_dump *st, uint64_t ino)
{
	for (int i = 0; i < st->nr; i++)
		if (st->inos[i] == ino)
			return true;
	return false;
}

/* Copy the queued bytes of the pipe behind lfd into *ret_buf without consuming them. */
static int peek_pipe(int lfd, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int rfd = -1;
	int tmp[2] = { -1, -1 }, cap, ret = 0;
	char path[64], *buf = NULL;
	ssize_t n, got = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", lfd);
	rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	cap = fcntl(rfd, F_GETPIPE_SZ);
	if (cap < 0)
		return -errno;
	if (pipe2(tmp, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	if (fcntl(tmp[1], F_SETPIPE_SZ, cap) < 0) {
		ret = -errno;
		goto out;
	}
	n = tee(rfd, tmp[1], cap, SPLICE_F_NONBLOCK);
	if (n < 0) {
		if (errno != EAGAIN)
			ret = -errno;
		n = 0;
	}
	if (n > 0) {
		buf = xmalloc(n);
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
		while (got < n) {
			ssize_t r = read(tmp[0], buf + got, n - got);
			if (r <= 0) {
				ret = r < 0 ? -errno : -EIO;
				free(buf);
				buf = NULL;
				goto out;
			}
			got += r;
		}
	}
	*ret_buf = buf;
	*ret_len = got;
out:
	close(tmp[0]);
	close(tmp[1]);
	return ret;
}

/*
 * One data entry per pipe inode: its size (F_GETPIPE_SZ) always, since a
 * pipe resized with F_SETPIPE_SZ may hold no data, and the queued bytes.
 */
static int dump_pipe_data(struct dump_files_ctx *ctx, int img_type, const struct fd_parms *p)
{
	struct pipes_dump *st = dump_files_state(ctx, &pipes_dump_key, sizeof(*st), pipes_dump_fini);
	PipeDataEntry pde = PIPE_DATA_ENTRY__INIT;
	struct cr_img *img;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	uint64_t *n;
	int ret, size;

	if (!st)
		return -ENOMEM;
	if (pipe_data_dumped(st, p->stat.st_ino))
		return 0;
	size = fcntl(p->lfd, F_GETPIPE_SZ);
	if (size < 0)
		return pr_fail_errno("can't get the size of pipe %lu", (unsigned long)p->stat.st_ino);
	ret = peek_pipe(p->lfd, &buf, &len);
	if (ret)
		return pr_fail(ret, "can't read the data queued in pipe %lu: %s\n", (unsigned long)p->stat.st_ino,
			       strerror(-ret));
	n = xrealloc(st->inos, (st->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	st->inos = n;
	st->inos[st->nr++] = p->stat.st_ino;

	img = dump_files_img(ctx, img_type);
	if (!img)
		return -EIO;
	pde.pipe_id = p->stat.st_ino;
	pde.bytes = len;
	pde.has_size = true;
	pde.size = size;
	ret = pb_write_one(img, &pde, PB_PIPE_DATA);
	if (!ret && len)
		ret = write_img_buf(img, buf, len);
	pr_debug("pipe %lu: size %d, %zu bytes queued\n", (unsigned long)p->stat.st_ino, size, len);
	return ret;
}

static bool pipe_detect(const struct fd_parms *p)
{
	return S_ISFIFO(p->stat.st_mode) && p->sfs.f_type == PIPEFS_MAGIC;
}

static int pipe_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	PipeEntry pe = PIPE_ENTRY__INIT;
	FownEntry fown;
	int ret;

	ret = dump_pipe_data(ctx, CR_FD_PIPES_DATA, p);
	if (ret)
		return ret;
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	pe.id = id;
	pe.pipe_id = p->stat.st_ino;
	pe.flags = p->flags;
	pe.fown = &fown;
	fe.type = FD_TYPES__PIPE;
	fe.id = id;
	fe.pipe = &pe;
	return write_file_entry(ctx, &fe);
}

static bool fifo_detect(const struct fd_parms *p)
{
	return S_ISFIFO(p->stat.st_mode) && p->sfs.f_type != PIPEFS_MAGIC && p->link[0] == '/';
}

static int fifo_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	FifoEntry ffe = FIFO_ENTRY__INIT;
	FownEntry fown;
	char name[PATH_MAX];
	uint32_t regf_id;
	int ret, mnt_id;
	bool unlinked;

	/* in the tree's own mount namespace, restore opens it below its mount */
	ret = mntns_file_mount(ctx->tree, p, &mnt_id);
	if (ret)
		return ret;
	unlinked = file_unlinked(ctx->tree, p, name, sizeof(name));
	ret = dump_pipe_data(ctx, CR_FD_FIFO_DATA, p);
	if (ret)
		return ret;
	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	/*
	 * The path goes in a regular-file record of its own, as CRIU does; a
	 * FIFO whose name was removed is a ghost of that record (its inode,
	 * made again at restore, holds the pipe).
	 */
	ret = write_path_file(ctx, p, name, &fown, mnt_id, &regf_id);
	if (!ret && unlinked)
		ret = dump_ghost(ctx, regf_id, p, name, mnt_id);
	if (ret)
		return ret;

	ffe.id = id;
	ffe.pipe_id = p->stat.st_ino;
	ffe.has_regf_id = true;
	ffe.regf_id = regf_id;
	fe.type = FD_TYPES__FIFO;
	fe.id = id;
	fe.fifo = &ffe;
	return write_file_entry(ctx, &fe);
}

/* ---------- restore ---------- */

struct pipe_info {
	struct pipe_info *next;
	uint32_t pipe_id;
	bool fifo;
	int fds[2];		/* pipe: both ends; fifo: fds[0] is a read-write holder */
	bool used[2];		/* that end was handed to a file object already */
	char *data;
	uint32_t bytes, size;
};

/* pipes and FIFOs being restored, in the ctx (rst_files_state()) */
struct pipes_rst {
	struct pipe_info *pipes;
	bool data_read[2];	/* pipes-data.img, fifo-data.img */
};
static const char pipes_rst_key;

static struct pipes_rst *pipes_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &pipes_rst_key, sizeof(struct pipes_rst));
}

static struct pipe_info *pipe_info_get(struct rst_ctx *ctx, uint32_t pipe_id, bool fifo)
{
	struct pipes_rst *st = pipes_rst(ctx);
	struct pipe_info *pi;

	if (!st)
		return NULL;
	for (pi = st->pipes; pi; pi = pi->next)
		if (pi->pipe_id == pipe_id && pi->fifo == fifo)
			return pi;
	pi = xzalloc(sizeof(*pi));
	if (!pi)
		return NULL;
	pi->pipe_id = pipe_id;
	pi->fifo = fifo;
	pi->fds[0] = pi->fds[1] = -1;
	pi->next = st->pipes;
	st->pipes = pi;
	return pi;
}

/* Read pipes-data.img or fifo-data.img once, attaching data to the pipes collected. */
static int read_pipe_data(struct rst_ctx *ctx, bool fifo)
{
	struct pipes_rst *st = pipes_rst(ctx);
	struct cr_img *img;
	PipeDataEntry *pde;
	int ret;

	if (!st)
		return -ENOMEM;
	if (st->data_read[fifo])
		return 0;
	st->data_read[fifo] = true;
	/* CRIU writes none when no pipe holds data; ours always does */
	img = open_image_at(ctx->img_dfd, fifo ? CR_FD_FIFO_DATA : CR_FD_PIPES_DATA,
			    ctx->dumped_by_criu ? O_RSTR : O_RSTR_REQ);
	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	while ((ret = pb_read_one_eof(img, (void **)&pde, PB_PIPE_DATA)) > 0) {
		struct pipe_info *pi = pipe_info_get(ctx, pde->pipe_id, fifo);

		if (!pi || pi->data) {
			ret = pi ? pr_fail(-EINVAL, "%s: pipe %u has two data entries\n", img_name(img), pde->pipe_id)
				 : -ENOMEM;
			pb_free(pde, PB_PIPE_DATA);
			break;
		}
		if (pde->bytes > (64u << 20)) {
			ret = pr_fail(-EINVAL, "%s: pipe %u claims %u bytes\n", img_name(img), pde->pipe_id, pde->bytes);
			pb_free(pde, PB_PIPE_DATA);
			break;
		}
		pi->bytes = pde->bytes;
		pi->size = pde->has_size ? pde->size : 0;
		pb_free(pde, PB_PIPE_DATA);
		pi->data = xmalloc(pi->bytes ?: 1);
		if (!pi->data) {
			ret = -ENOMEM;
			break;
		}
		ret = read_img_buf(img, pi->data, pi->bytes);
		if (ret < 0) {
			pr_err("%s: pipe %u data is truncated\n", img_name(img), pi->pipe_id);
			break;
		}
	}
	close_image(img);
	return ret < 0 ? ret : 0;
}

/*
 * Give a new pipe its dumped size, exactly: a pipe that would come back with
 * another size (pipe-max-size or the per-user pipe pages limit, which bind
 * root here too without CAP_SYS_RESOURCE) is an error.
 */
static int size_pipe(struct pipe_info *pi, int wfd)
{
	int cur = fcntl(wfd, F_GETPIPE_SZ), got;

	if (!pi->size || cur == (int)pi->size)
		return 0;
	got = fcntl(wfd, F_SETPIPE_SZ, pi->size);
	if (got < 0)
		return pr_fail_errno("pipe %u: can't set its size to %u bytes as dumped (it has %d)",
			       pi->pipe_id, pi->size, cur);
	if (got != (int)pi->size)
		return pr_fail(-ERANGE, "pipe %u: its size became %d bytes, not %u as dumped\n", pi->pipe_id, got,
			       pi->size);
	return 0;
}

static int fill_pipe(struct pipe_info *pi, int wfd)
{
	int ret = size_pipe(pi, wfd);

	if (ret || !pi->bytes)
		return ret;
	/* an image without the size (older dumps): the pipe grows to hold its data */
	if (!pi->size && (uint32_t)fcntl(wfd, F_GETPIPE_SZ) < pi->bytes && fcntl(wfd, F_SETPIPE_SZ, pi->bytes) < 0)
		return pr_fail_errno("pipe %u: can't grow to %u bytes", pi->pipe_id, pi->bytes);
	if ((uint32_t)fcntl(wfd, F_GETPIPE_SZ) < pi->bytes)
		return pr_fail(-EINVAL, "pipe %u: %u bytes queued do not fit its size %u\n", pi->pipe_id, pi->bytes,
			       pi->size);
	ret = write_all(wfd, pi->data, pi->bytes);
	if (ret)
		return pr_fail(ret, "can't refill pipe %u: %s\n", pi->pipe_id, strerror(-ret));
	free(pi->data);
	pi->data = NULL;
	pi->bytes = 0;
	return 0;
}

/* One more fd of the same pipe, for the end given by flags, through /proc. */
static int reopen_end(int fd, unsigned int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, (flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
}

static int set_flags(int fd, unsigned int flags)
{
	if (fcntl(fd, F_SETFL, flags & ~O_ACCMODE))
		return pr_fail_errno("can't set the flags of a pipe");
	return 0;
}

/*
 * --inherit-fd fd[N]:pipe:[INO] (runc passes its stdio so): every object of
 * dumped pipe INO becomes a copy of criu's fd N, an end of a pipe outside the
 * tree, instead of a new pipe. It must be the end the task had; data that was
 * queued is written on to the new pipe (a write end), a read end with queued
 * data is refused (it can't be put back in front of the pipe's own).
 */
static int pipe_inherited(struct pipe_info *pi, const PipeEntry *pe, int *ret_fd)
{
	char key[32];
	int fd, mode, ret;

	snprintf(key, sizeof(key), "pipe:[%u]", pe->pipe_id);
	fd = inherit_fd_lookup(key);
	if (fd < 0)
		return 0;
	mode = fcntl(fd, F_GETFL);
	if (mode < 0)
		return pr_fail_errno("--inherit-fd fd[%d]:%s: not an open fd", fd, key);
	if ((mode & O_ACCMODE) != (pe->flags & O_ACCMODE))
		return pr_fail(-EINVAL, "--inherit-fd fd[%d]:%s: the task had the %s end, fd %d is not it\n", fd, key,
			       (pe->flags & O_ACCMODE) == O_WRONLY ? "write" : "read", fd);
	if (pi->bytes && (pe->flags & O_ACCMODE) != O_WRONLY)
		return pr_fail(-EOPNOTSUPP, "--inherit-fd fd[%d]:%s: %u bytes were queued in it: can't put them back "
					    "in an inherited read end\n", fd, key, pi->bytes);
	if (pi->bytes) {
		ret = write_all(fd, pi->data, pi->bytes);
		if (ret)
			return pr_fail(ret, "can't pass on the %u bytes queued in pipe %u\n", pi->bytes, pe->pipe_id);
		free(pi->data);
		pi->data = NULL;
		pi->bytes = 0;
	}
	*ret_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (*ret_fd < 0)
		return pr_fail_errno("can't copy --inherit-fd fd[%d]", fd);
	pr_info("pipe %u: criu's fd %d (--inherit-fd)\n", pe->pipe_id, fd);
	return 1;
}

static int pipe_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->pipe)
		return pr_fail(-EINVAL, "files.img: pipe %u has no pipe entry\n", d->id);
	return pipe_info_get(ctx, d->fe->pipe->pipe_id, false) ? 0 : -ENOMEM;
}

static int pipe_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	PipeEntry *pe = d->fe->pipe;
	struct pipe_info *pi = pipe_info_get(ctx, pe->pipe_id, false);
	int end = (pe->flags & O_ACCMODE) == O_WRONLY ? 1 : 0, fd, ret;

	ret = read_pipe_data(ctx, false);
	if (!ret)
		ret = pipe_inherited(pi, pe, ret_fd);
	if (ret)
		return ret < 0 ? ret : 0;
	if (pi->fds[0] < 0) {
		if (pipe2(pi->fds, O_CLOEXEC))
			return pr_fail_errno("can't create pipe %u", pe->pipe_id);
		ret = fill_pipe(pi, pi->fds[1]);
		if (ret)
			return ret;
	}
	/* The first object of each end is that end; more objects of it are reopened through /proc. */
	if (!pi->used[end]) {
		fd = fcntl(pi->fds[end], F_DUPFD_CLOEXEC, 0);
		pi->used[end] = true;
	} else {
		fd = reopen_end(pi->fds[end], pe->flags);
	}
	if (fd < 0)
		return pr_fail_errno("can't open an end of pipe %u", pe->pipe_id);
	ret = set_flags(fd, pe->flags);
	if (ret) {
		close(fd);
		return ret;
	}
	*ret_fd = fd;
	return 0;
}

static int fifo_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->fifo || !d->fe->fifo->has_regf_id)
		return pr_fail(-EINVAL, "files.img: fifo %u has no fifo entry\n", d->id);
	return pipe_info_get(ctx, d->fe->fifo->pipe_id, true) ? 0 : -ENOMEM;
}

/* The FIFO of path record rd: by its name, or the ghost made again when the name was removed. */
static int open_fifo_path(struct rst_ctx *ctx, struct file_desc *rd, int flags)
{
	RegFileEntry *r = rd->fe->reg;
	uint32_t gid;
	int fd, ret;

	ret = ghost_of_file(ctx, rd->id, &gid);
	if (ret < 0)
		return ret;
	if (ret) {
		ret = open_ghost(ctx, gid, r->name, ctx->mnt && r->has_mnt_id ? r->mnt_id : -1, flags, &fd);
		return ret ?: fd;
	}
	fd = open_reg_path(ctx, r, flags);
	if (fd < 0)
		return pr_fail(fd, "can't open fifo %s: %s\n", r->name, strerror(-fd));
	return fd;
}

static int fifo_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	FifoEntry *ffe = d->fe->fifo;
	struct file_desc *rd = find_file_desc(ctx, ffe->regf_id);
	struct pipe_info *pi = pipe_info_get(ctx, ffe->pipe_id, true);
	RegFileEntry *r;
	int fd, ret;

	if (!rd || !rd->fe->reg)
		return pr_fail(-EINVAL, "fifo %u refers to file %u, which files.img lacks\n", d->id, ffe->regf_id);
	r = rd->fe->reg;
	ret = read_pipe_data(ctx, true);
	if (ret)
		return ret;
	if (pi->fds[0] < 0) {
		/* A read-write holder keeps opens from blocking and holds the data. */
		pi->fds[0] = open_fifo_path(ctx, rd, O_RDWR | O_NONBLOCK);
		if (pi->fds[0] < 0)
			return pi->fds[0];
		/* writing the data moved the times of a ghost (the inode is the restore's) */
		ret = fill_pipe(pi, pi->fds[0]) ?: ghost_retime(ctx, rd->id);
		if (ret)
			return ret;
	}
	fd = open_fifo_path(ctx, rd, (r->flags & O_ACCMODE) | O_NONBLOCK);
	if (fd < 0)
		return fd;
	ret = set_flags(fd, r->flags);
	if (ret) {
		close(fd);
		return ret;
	}
	*ret_fd = fd;
	return 0;
}

static void pipes_cleanup(struct rst_ctx *ctx)
{
	struct pipes_rst *st = pipes_rst(ctx);

	while (st && st->pipes) {
		struct pipe_info *pi = st->pipes;

		st->pipes = pi->next;
		for (int i = 0; i < 2; i++)
			if (pi->fds[i] >= 0)
				close(pi->fds[i]);
		free(pi->data);
		free(pi);
	}
}

const struct file_type pipe_file_type = {
	.name = "pipe",
	.type = FD_TYPES__PIPE,
	.detect = pipe_detect,
	.dump = pipe_dump,
	.collect = pipe_collect,
	.open = pipe_open,
	.cleanup = pipes_cleanup,
	.stage = FILE_OPEN_EARLY,
};

const struct file_type fifo_file_type = {
	.name = "fifo",
	.type = FD_TYPES__FIFO,
	.detect = fifo_detect,
	.dump = fifo_dump,
	.collect = fifo_collect,
	.open = fifo_open,
	.stage = FILE_OPEN_EARLY,
};
