// SPDX-License-Identifier: GPL-2.0
/*
 * Files reopened by path: regular files, directories and character devices
 * such as /dev/null; and the controlling terminal (--shell-job).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "image.h"
#include "protobuf.h"

#include "fdinfo.pb-c.h"
#include "pipe-data.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "files-reg: "

#define DELETED_SUFFIX " (deleted)"

static bool is_tty(const struct stat *st)
{
	unsigned int maj = major(st->st_rdev);

	/* 4: tty/ttyS, 5: /dev/tty, /dev/console, /dev/ptmx, 136-143: pts */
	return S_ISCHR(st->st_mode) && (maj == 4 || maj == 5 || (maj >= 136 && maj <= 143));
}

static bool reg_detect(const struct fd_parms *p)
{
	mode_t m = p->stat.st_mode;

	if (p->link[0] != '/')
		return false;
	return S_ISREG(m) || S_ISDIR(m) || (S_ISCHR(m) && !is_tty(&p->stat)) || S_ISBLK(m);
}

/*
 * Contents of a deleted file: reg-files-data.img holds, per deleted file, a
 * PipeDataEntry (pipe_id = the file's id, bytes = its size) and the bytes.
 * Files bigger than --ghost-limit are refused.
 */

static int dump_deleted_contents(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	PipeDataEntry pde = PIPE_DATA_ENTRY__INIT;
	struct cr_img *img;
	char buf[65536];
	off_t off = 0;
	int ret;

	if (!S_ISREG(p->stat.st_mode))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: %s is deleted and not a regular file\n", p->fd,
			       p->item->pid, p->link);
	if ((unsigned long long)p->stat.st_size > opts.ghost_limit)
		return pr_fail(-EFBIG, "fd %d of task %d: deleted file %s is %lld bytes, over --ghost-limit %llu\n",
			       p->fd, p->item->pid, p->link, (long long)p->stat.st_size, opts.ghost_limit);
	img = dump_files_img(ctx, CR_FD_REG_FILES_DATA);
	if (!img)
		return -EIO;
	pde.pipe_id = id;
	pde.bytes = p->stat.st_size;
	ret = pb_write_one(img, &pde, PB_PIPE_DATA);
	while (!ret && off < p->stat.st_size) {
		/* pread: the task's file offset, which it shares with us, stays put */
		ssize_t n = pread(p->lfd, buf, min((off_t)sizeof(buf), p->stat.st_size - off), off);

		if (n <= 0)
			return pr_fail(n < 0 ? -errno : -EIO, "can't read deleted file %s: %s\n", p->link,
				       n < 0 ? strerror(errno) : "it shrank");
		ret = write_img_buf(img, buf, n);
		off += n;
	}
	return ret;
}

static int reg_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	RegFileEntry rfe = REG_FILE_ENTRY__INIT;
	FownEntry fown;
	size_t len = strlen(p->link), sl = strlen(DELETED_SUFFIX);
	char name[PATH_MAX];
	int ret;

	snprintf(name, sizeof(name), "%s", p->link);
	if (len > sl && !strcmp(p->link + len - sl, DELETED_SUFFIX)) {
		struct stat st;

		/* The path may still name the very file (a name ending in " (deleted)"). */
		if (stat(p->link, &st) || st.st_ino != p->stat.st_ino || st.st_dev != p->stat.st_dev) {
			if (p->fd < 0)
				return pr_fail(-EOPNOTSUPP, "%s is deleted; criu can't dump a deleted mapped file or exe\n",
					       p->link);
			name[len - sl] = '\0';
			rfe.has_deleted = true;
			rfe.deleted = true;
			ret = dump_deleted_contents(ctx, id, p);
			if (ret)
				return ret;
		}
	}
	fill_fown(p->lfd, &fown);
	rfe.id = id;
	rfe.flags = p->flags;
	rfe.pos = p->fd >= 0 ? p->fdinfo.pos : 0;
	rfe.fown = &fown;
	rfe.name = name;
	rfe.has_mode = true;
	rfe.mode = p->stat.st_mode;
	/*
	 * The size tells whether a file read by the task changed before restore.
	 * A file the task may write to grows legitimately (logs): no check then.
	 */
	if (S_ISREG(p->stat.st_mode) && (p->flags & O_ACCMODE) == O_RDONLY && !(p->flags & O_APPEND)) {
		rfe.has_size = true;
		rfe.size = p->stat.st_size;
	}
	fe.type = FD_TYPES__REG;
	fe.id = id;
	fe.reg = &rfe;
	return pb_write_one(ctx->files_img, &fe, PB_FILE);
}

static int reg_collect(struct file_desc *d)
{
	if (!d->fe->reg)
		return pr_fail(-EINVAL, "files.img: regular file %u has no reg entry\n", d->id);
	return 0;
}

static struct cr_img *reg_data_img;

/* The next entry of reg-files-data.img must be file id's contents: write them into fd. */
static int read_deleted_contents(uint32_t id, int fd)
{
	PipeDataEntry *pde;
	char buf[65536];
	uint64_t left;
	int ret;

	if (!reg_data_img) {
		reg_data_img = open_image_at(files_img_dfd, CR_FD_REG_FILES_DATA, O_RSTR);
		if (!reg_data_img)
			return pr_fail(-errno, "can't open reg-files-data.img: %s\n", strerror(errno));
	}
	ret = pb_read_one(reg_data_img, (void **)&pde, PB_PIPE_DATA);
	if (ret)
		return pr_fail(ret, "reg-files-data.img: no contents for deleted file %u\n", id);
	if (pde->pipe_id != id) {
		ret = pr_fail(-EINVAL, "reg-files-data.img: contents of file %u where %u's were expected\n",
			      pde->pipe_id, id);
		pb_free(pde, PB_PIPE_DATA);
		return ret;
	}
	left = pde->bytes;
	pb_free(pde, PB_PIPE_DATA);
	while (left) {
		size_t n = min((uint64_t)sizeof(buf), left);

		ret = read_img_buf(reg_data_img, buf, n);
		if (ret < 0)
			return pr_fail(ret, "reg-files-data.img: the contents of file %u are truncated\n", id);
		ret = write_all(fd, buf, n);
		if (ret)
			return pr_fail(ret, "can't rewrite deleted file %u: %s\n", id, strerror(-ret));
		left -= n;
	}
	return 0;
}

/*
 * Bring a deleted file back: create it under its old name if that is free
 * (else beside it), refill it, open it as the task had it, and unlink it.
 */
static int open_deleted(struct file_desc *d, RegFileEntry *r, unsigned int flags, int *ret_fd)
{
	char tmp[PATH_MAX], path[PATH_MAX + 16];
	const char *name = r->name;
	_cleanup_close_ int wfd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int fd, ret;

	if (wfd < 0 && errno == EEXIST) {
		snprintf(tmp, sizeof(tmp), "%s.criu-deleted-%u", r->name, d->id);
		name = tmp;
		wfd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (wfd < 0)
		return pr_fail(-errno, "can't recreate deleted file %s: %s\n", name, strerror(errno));
	ret = read_deleted_contents(d->id, wfd);
	if (!ret && r->has_mode && fchmod(wfd, r->mode & 07777))
		ret = -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", wfd);
	fd = ret ? -1 : open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (!ret && fd < 0)
		ret = pr_fail(-errno, "can't reopen deleted file %s: %s\n", name, strerror(errno));
	unlink(name);
	if (ret)
		return ret;
	*ret_fd = fd;
	return 0;
}

static int reg_open(struct file_desc *d, int *ret_fd)
{
	RegFileEntry *r = d->fe->reg;
	unsigned int flags = r->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	int fd;

	if (r->has_deleted && r->deleted) {
		int ret = open_deleted(d, r, flags, &fd);

		if (ret)
			return ret;
	} else {
		fd = open(r->name, flags | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return pr_fail(-errno, "can't open %s (file %u): %s\n", r->name, d->id, strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	if (r->has_mode && (st.st_mode & S_IFMT) != (r->mode & S_IFMT)) {
		close(fd);
		return pr_fail(-EINVAL, "%s is not the same kind of file as at dump (mode 0%o, was 0%o)\n", r->name,
			       st.st_mode, r->mode);
	}
	if (r->has_size && S_ISREG(st.st_mode) && (uint64_t)st.st_size != r->size) {
		close(fd);
		return pr_fail(-EINVAL, "%s has changed size since the dump (%lld bytes, was %llu)\n", r->name,
			       (long long)st.st_size, (unsigned long long)r->size);
	}
	if (r->pos && lseek(fd, r->pos, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return pr_fail(-e, "can't seek %s to %llu: %s\n", r->name, (unsigned long long)r->pos, strerror(e));
	}
	if (r->fown && r->fown->pid) {
		struct f_owner_ex o = { .type = r->fown->pid_type, .pid = r->fown->pid };

		if (fcntl(fd, F_SETOWN_EX, &o) || fcntl(fd, F_SETSIG, r->fown->signum))
			pr_warn("can't restore the owner of %s: %s\n", r->name, strerror(errno));
	}
	*ret_fd = fd;
	return 0;
}

static void reg_cleanup(void)
{
	if (reg_data_img)
		close_image(reg_data_img);
	reg_data_img = NULL;
}

const struct file_type reg_file_type = {
	.name = "reg",
	.cleanup = reg_cleanup,
	.type = FD_TYPES__REG,
	.detect = reg_detect,
	.dump = reg_dump,
	.collect = reg_collect,
	.open = reg_open,
	.stage = FILE_OPEN_EARLY,
};

/*
 * A terminal. With --shell-job the tree uses the terminal of the shell that
 * runs criu: on restore every terminal fd becomes criu's own terminal, with the
 * dumped file flags. Without --shell-job a terminal is refused, as in CRIU.
 */
static bool tty_detect(const struct fd_parms *p)
{
	return is_tty(&p->stat);
}

static int tty_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	TtyFileEntry tfe = TTY_FILE_ENTRY__INIT;
	FownEntry fown;
	pid_t pgid;

	if (!opts.shell_job)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d is a terminal (%s): use --shell-job\n", p->fd,
			       p->item->pid, p->link);
	/* restore would hand over criu's terminal, a slave: not the same kind of file */
	if (p->stat.st_rdev == makedev(5, 2))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d is a pty master (%s): not supported\n", p->fd,
			       p->item->pid, p->link);
	fill_fown(p->lfd, &fown);
	tfe.id = id;
	tfe.tty_info_id = 0;
	tfe.flags = p->flags;
	tfe.fown = &fown;
	tfe.has_rdev = true;
	tfe.rdev = (uint32_t)p->stat.st_rdev;
	/* readable when the terminal is criu's own controlling terminal, as for a shell job */
	pgid = tcgetpgrp(p->lfd);
	if (pgid > 0) {
		tfe.has_fg_pgrp = true;
		tfe.fg_pgrp = pgid;
	}
	fe.type = FD_TYPES__TTY;
	fe.id = id;
	fe.tty = &tfe;
	return pb_write_one(ctx->files_img, &fe, PB_FILE);
}

static int tty_collect(struct file_desc *d)
{
	if (!d->fe->tty)
		return pr_fail(-EINVAL, "files.img: tty %u has no tty entry\n", d->id);
	if (!opts.shell_job)
		return pr_fail(-EOPNOTSUPP, "the images hold a terminal: restore with --shell-job\n");
	return 0;
}

static int tty_open(struct file_desc *d, int *ret_fd)
{
	unsigned int flags = d->fe->tty->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND);
	char path[64];
	int fd = -1;

	/* /dev/tty stays /dev/tty: criu's controlling terminal, which the restored shell job shares */
	if (d->fe->tty->has_rdev && d->fe->tty->rdev == (uint32_t)makedev(5, 0))
		fd = open("/dev/tty", flags | O_NOCTTY | O_CLOEXEC);
	for (int i = 0; i < 3 && fd < 0; i++) {
		if (!isatty(i))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return pr_fail(-ENOTTY, "--shell-job: criu has no terminal to give to the restored tree\n");
	*ret_fd = fd;
	return 0;
}

/*
 * A job that had the terminal's foreground at dump gets it back, if criu
 * holds the foreground now (a shell job restored from the shell).
 */
static int tty_late(struct file_desc *d, int ctl_fd)
{
	TtyFileEntry *t = d->fe->tty;
	sigset_t ttou, old;
	int ret = 0;

	/* (in a tree with its own pid namespace, its pgids are not criu's: leave it) */
	if (!t->has_fg_pgrp || !restore_tree || restore_tree->ns_flags || tcgetpgrp(ctl_fd) != getpgrp())
		return 0;
	if (!pstree_has_pgid(restore_tree, t->fg_pgrp))
		return 0;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	if (tcsetpgrp(ctl_fd, t->fg_pgrp))
		ret = pr_fail(-errno, "can't give the terminal to the restored group %d: %s\n", t->fg_pgrp,
			      strerror(errno));
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		pr_info("the terminal's foreground group is %d again\n", t->fg_pgrp);
	return ret;
}

const struct file_type tty_file_type = {
	.name = "tty",
	.late = tty_late,
	.type = FD_TYPES__TTY,
	.detect = tty_detect,
	.dump = tty_dump,
	.collect = tty_collect,
	.open = tty_open,
	.stage = FILE_OPEN_EARLY,
};
