// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals, the restore (tty.c has the dump and the file type):
 * pty pairs and masters alone, their queued bytes (tty-data.c), hung-up
 * slaves, /dev/tty, the console and vts, the orphan slave of
 * --orphan-pts-master, the shell job's terminal, and the controlling
 * terminals given back by the session leaders' stubs (tty_stub_ctty()).
 * Documentation/ttys.md.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "mount.h"
#include "action-scripts.h"
#include "syscalls.h"
#include "protobuf.h"
#include "pstree.h"
#include "tty.h"
#include "tty-priv.h"

#include "fdinfo.pb-c.h"
#include "tty.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "tty: "


struct pty_pair {
	struct pty_pair *next;
	int index;
	TtyInfoEntry *master, *slave;	/* their tty-info.img entries; no master: it was outside the tree */
	struct file_desc *slave_d;	/* a file of the slave (the first collected) */
	int master_fd;			/* criu's open of the master, -1 */
	int slave_fd;			/* criu's own slave (own_slave()) until the tree runs, -1 */
	const TtyFileEntry *alone;	/* a master file's, when no slave was open in the tree */
	TtyDataEntry *to_slave, *to_master;	/* tty-data.img: the bytes each side had to read */
	bool hung;			/* its slave was hung up: the master is closed again (pty_late()) */
};

/* the pty pairs being restored, in the ctx (rst_files_state()) */
struct tty_rst {
	bool info_read;
	TtyInfoEntry **infos;
	size_t nr_infos;
	TtyDataEntry **data;	/* tty-data.img */
	size_t nr_data;
	/* a file of the console and of a vt that is a session's terminal (tty_stub_ctty()) */
	struct file_desc *ctty_d[2];
	TtyInfoEntry *ctty_info[2];
	struct pty_pair *pairs;
};
static const char tty_rst_key;

static struct tty_rst *tty_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &tty_rst_key, sizeof(struct tty_rst));
}

/* tty-data.img, written only when a pty held bytes */
static int read_tty_data(struct rst_ctx *ctx, struct tty_rst *st)
{
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_TTY_DATA, O_RSTR);
	int ret;

	if (!img)
		return errno == ENOENT ? 0 : pr_fail(-errno, "can't open %s\n", img_last_error());
	ret = pb_read_all(img, PB_TTY_DATA, (void ***)&st->data, &st->nr_data);
	close_image(img);
	return ret < 0 ? ret : 0;
}

static TtyInfoEntry *find_info(struct tty_rst *st, uint32_t id);

/* Each tty-data.img entry is for a pty side of tty-info.img, once. */
static int check_tty_data(struct tty_rst *st)
{
	for (size_t i = 0; i < st->nr_data; i++) {
		const TtyInfoEntry *info = find_info(st, st->data[i]->tty_id);

		if (!info || info->type != TTY_TYPE__PTY)
			return pr_fail(-EINVAL, "tty-data.img: bytes for tty %u, which is no pty side of tty-info.img\n",
				       st->data[i]->tty_id);
		for (size_t j = 0; j < i; j++)
			if (st->data[j]->tty_id == st->data[i]->tty_id)
				return pr_fail(-EINVAL, "tty-data.img: two entries for tty %u\n", st->data[i]->tty_id);
	}
	return 0;
}

static int read_tty_infos(struct rst_ctx *ctx, struct tty_rst *st)
{
	struct cr_img *img;
	int ret;

	if (st->info_read)
		return 0;
	st->info_read = true;
	img = open_image_at(ctx->img_dfd, CR_FD_TTY_INFO, O_RSTR_REQ);
	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	ret = pb_read_all(img, PB_TTY_INFO, (void ***)&st->infos, &st->nr_infos);
	close_image(img);
	return ret < 0 ? ret : read_tty_data(ctx, st) ?: check_tty_data(st);
}

static TtyInfoEntry *find_info(struct tty_rst *st, uint32_t id)
{
	for (size_t i = 0; i < st->nr_infos; i++)
		if (st->infos[i]->id == id)
			return st->infos[i];
	return NULL;
}

static bool info_is_master(const TtyInfoEntry *info)
{
	return info->rdev == (uint32_t)PTMX_RDEV;
}

static struct pty_pair *pair_get(struct tty_rst *st, int index)
{
	struct pty_pair *pp;

	for (pp = st->pairs; pp; pp = pp->next)
		if (pp->index == index)
			return pp;
	pp = xzalloc(sizeof(*pp));
	if (!pp)
		return NULL;
	pp->index = index;
	pp->master_fd = pp->slave_fd = -1;
	pp->next = st->pairs;
	st->pairs = pp;
	return pp;
}

/* A terminal's path record (regf_id, a slave whose master was outside the tree): the tty opens it itself. */
static int mark_path_record(struct rst_ctx *ctx, struct file_desc *d)
{
	struct file_desc *rd;

	if (!d->fe->tty->has_regf_id)
		return 0;
	rd = find_file_desc(ctx, d->fe->tty->regf_id);
	if (!rd || !rd->fe->reg)
		return pr_fail(-EINVAL, "files.img: tty %u refers to file %u, which files.img lacks (before it)\n", d->id,
			       d->fe->tty->regf_id);
	rd->stage = FILE_OPEN_NEVER;
	return 0;
}

/* The pair a pty file belongs to, with both its sides' entries; NULL (logged) when the images don't say. */
static int pty_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	struct tty_rst *st = tty_rst(ctx);
	TtyInfoEntry *info;
	struct pty_pair *pp;
	int ret;

	if (!st)
		return -ENOMEM;
	ret = read_tty_infos(ctx, st);
	if (ret)
		return ret;
	info = find_info(st, d->fe->tty->tty_info_id);
	if (info && (info->type == TTY_TYPE__CONSOLE || info->type == TTY_TYPE__VT) && info->sid) {
		int i = info->type == TTY_TYPE__VT;

		if (info->pgrp != info->sid)
			return pr_fail(-EOPNOTSUPP, "terminal %u:%u: its foreground group %u is not its session "
						    "leader's (%u): not supported\n",
				       major(info->rdev), minor(info->rdev), info->pgrp, info->sid);
		st->ctty_info[i] = info;
		if (!st->ctty_d[i])
			st->ctty_d[i] = d;
	}
	if (info && (info->type == TTY_TYPE__CTTY || info->type == TTY_TYPE__CONSOLE || info->type == TTY_TYPE__VT))
		return mark_path_record(ctx, d);	/* dev_tty_open(), console_open() */
	if (!info || info->type != TTY_TYPE__PTY || !info->pty || info->pty->index >= MAX_PTS_INDEX)
		return pr_fail(-EINVAL, "tty-info.img: no pty entry %u for tty %u\n", d->fe->tty->tty_info_id, d->id);
	/* the leader's TIOCSCTTY makes its own group the foreground one (tty_stub_ctty()) */
	if (info->sid && info->pgrp != info->sid)
		return pr_fail(-EOPNOTSUPP, "pty %u: its foreground group %u is not its session leader's (%u): not "
					    "supported\n",
			       info->pty->index, info->pgrp, info->sid);
	pp = pair_get(st, info->pty->index);
	if (!pp)
		return -ENOMEM;
	if (info_is_master(info))
		pp->master = info;
	else
		pp->slave = info;
	if (!info_is_master(info) && !pp->slave_d)
		pp->slave_d = d;
	if (info_is_master(info) && d->fe->tty->has_slave_closed)
		pp->alone = d->fe->tty;
	d->priv = pp;
	return mark_path_record(ctx, d);
}

/*
 * A pty of the tree (an entry in tty-info.img), not the terminal of a shell
 * job. The entry's id is CRIU's, the pty index twice plus one for the
 * master, and the side's path is in a file entry of its own (regf_id); ours
 * before that numbered the entries from 1 without a path; a shell job's
 * terminal has id 0 and no path.
 */
static bool is_pty_file(const TtyFileEntry *t)
{
	return t->tty_info_id || t->has_regf_id;
}

int tty_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	if (!d->fe->tty)
		return pr_fail(-EINVAL, "files.img: tty %u has no tty entry\n", d->id);
	if (is_pty_file(d->fe->tty))
		return pty_collect(ctx, d);
	if (!opts.shell_job)
		return pr_fail(-EOPNOTSUPP, "the images hold a terminal: restore with --shell-job\n");
	return 0;
}

/*
 * The ptmx of the devpts a slave was on (reg: its path and mount; NULL:
 * criu's /dev/ptmx): in the tree's mount namespace, through the mount criu
 * made for it.
 */
static int open_ptmx(struct rst_ctx *ctx, const RegFileEntry *reg)
{
	const char *slash = reg ? strrchr(reg->name, '/') : NULL;
	char path[PATH_MAX];
	int fd;

	if (!reg) {
		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!slash || img_path_check(reg->name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%.*s/ptmx", (int)(slash - reg->name), reg->name);
	if (ctx->mnt && reg->has_mnt_id && reg->mnt_id >= 0)
		return mntns_open_file(ctx, reg->mnt_id, path, O_RDWR | O_NOCTTY);
	fd = open_img_path(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tty_ptmx_index(int proc_fd, int first, int index)
{
	int fds[MAX_PTS_INDEX / 16], nr = 0, fd = first, got = -1, ret = 0;
	char self[32];

	snprintf(self, sizeof(self), "self/fd/%d", first);
	for (;;) {
		if (ioctl(fd, TIOCGPTN, &got)) {
			ret = -errno;
			close(fd);
			break;
		}
		if (got == index)
			break;
		fds[nr++] = fd;
		if (got > index || nr == (int)ARRAY_SIZE(fds)) {
			ret = -EBUSY;
			break;
		}
		/* the same ptmx again: a new pty */
		fd = openat(proc_fd, self, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			break;
		}
	}
	while (nr)
		close(fds[--nr]);
	return ret ?: fd;
}

/* Open ptmx until the kernel gives the pty index wanted (it gives the lowest free one). */
static int open_ptmx_index(struct rst_ctx *ctx, const RegFileEntry *reg, int index)
{
	const char *what = reg ? reg->name : "/dev/ptmx";
	int fd = open_ptmx(ctx, reg);

	if (fd < 0)
		return pr_fail(fd, "can't open the ptmx of %s: %s\n", what, strerror(-fd));
	fd = tty_ptmx_index(ctx->proc_fd, fd, index);
	if (fd == -EBUSY)
		return pr_fail(fd, "pty %d is in use: can't restore it\n", index);
	if (fd < 0)
		return pr_fail(fd, "can't open a new pty to reach pty %d: %s\n", index, strerror(-fd));
	return fd;
}

static int termios_from_entry(const TermiosEntry *e, struct termios *t)
{
	memset(t, 0, sizeof(*t));
	if (tty_unpack_cc(e, t))
		return -EINVAL;
	t->c_iflag = e->c_iflag;
	t->c_oflag = e->c_oflag;
	t->c_cflag = e->c_cflag;
	t->c_lflag = e->c_lflag;
	t->c_line = e->c_line;
	/* the speeds are c_cflag's CBAUD bits too; CRIU's entries have 0 here (it never reads them) */
	if (e->c_ispeed && cfsetispeed(t, e->c_ispeed))
		return -EINVAL;
	if (e->c_ospeed && cfsetospeed(t, e->c_ospeed))
		return -EINVAL;
	return 0;
}

/* The path and mount of an orphan slave (its regf_id record). */
static const RegFileEntry *orphan_slave_reg(struct rst_ctx *ctx, struct pty_pair *pp)
{
	const TtyFileEntry *t = pp->slave_d ? pp->slave_d->fe->tty : NULL;
	struct file_desc *rd = t && t->has_regf_id ? find_file_desc(ctx, t->regf_id) : NULL;

	return rd && rd->fe->reg && rd->fe->reg->name ? rd->fe->reg : NULL;
}

/*
 * A pty whose master was outside the tree (--orphan-pts-master): a new pty
 * in the devpts the slave was on, at its index; the master goes to the RPC
 * client (the orphan-pts-master notification: runc passes it on to its
 * --console-socket), criu keeps its own copy to open the slaves from.
 */
static int orphan_master(struct rst_ctx *ctx, struct pty_pair *pp)
{
	const RegFileEntry *reg = orphan_slave_reg(ctx, pp);
	int zero = 0, ret;

	if (!opts.orphan_pts_master)
		return pr_fail(-EOPNOTSUPP, "pty %d: its master was outside the tree at dump; restore with "
					    "--orphan-pts-master (an RPC client takes the new master)\n",
			       pp->index);
	if (!reg)
		return pr_fail(-EINVAL, "files.img: pty %d whose master was outside the tree has no path\n", pp->index);
	/* made already when its slave is bound somewhere (runc's /dev/console) */
	pp->master_fd = reg->has_mnt_id ? mntns_take_pty(ctx, reg->mnt_id, pp->index) : -ENOENT;
	if (pp->master_fd == -ENOENT)
		pp->master_fd = open_ptmx_index(ctx, reg, pp->index);
	if (pp->master_fd < 0)
		return pp->master_fd;
	if (ioctl(pp->master_fd, TIOCSPTLCK, &zero))
		return pr_fail_errno("can't unlock the new pty %d", pp->index);
	ret = notify_client_fd(ACT_ORPHAN_PTS_MASTER, pp->master_fd);
	if (ret == -ENOTCONN)
		return pr_fail(ret, "pty %d: no RPC client to hand its new master to (--orphan-pts-master needs criu "
				    "swrk or service with notify_scripts)\n",
			       pp->index);
	if (ret)
		return pr_fail(ret, "pty %d: the RPC client did not take its new master\n", pp->index);
	pr_info("pty %d: a new one in %s, its master handed to the RPC client\n", pp->index, reg->name);
	return pp->master_fd;
}

/* The bytes a side of the pair had to read (tty-data.img), by its entry's id; 0 or -EINVAL (logged). */
static int pair_data(struct tty_rst *st, struct pty_pair *pp)
{
	for (size_t i = 0; i < st->nr_data; i++) {
		TtyDataEntry *e = st->data[i];

		if (pp->slave && e->tty_id == pp->slave->id)
			pp->to_slave = e;
		else if (pp->master && e->tty_id == pp->master->id)
			pp->to_master = e;
	}
	if (pp->to_slave && !pp->master)
		return pr_fail(-EINVAL, "tty-data.img: bytes for the slave of pty %d, whose master was outside the "
					"tree\n", pp->index);
	return 0;
}

/* The side whose termios, locked termios and window size the pty gets: the slave's (a master's entry has them too). */
static const TtyInfoEntry *term_info(const struct pty_pair *pp)
{
	return pp->slave && pp->slave->termios ? pp->slave : pp->master;
}

/* The slave's termios and window size, set through the master (its termios ioctls reach the slave). */
static int set_term(struct pty_pair *pp)
{
	const TtyInfoEntry *si = term_info(pp);
	struct termios t;
	struct winsize ws = {};

	if (!si)
		return 0;
	if (si->termios && termios_from_entry(si->termios, &t))
		return pr_fail(-EINVAL, "tty-info.img: entry %u: termios of pty %d: c_cc is neither CRIU's 19 words "
					"nor %d characters, or a bad speed\n",
			       si->id, pp->index, NCCS);
	if (si->winsize) {
		ws.ws_row = si->winsize->ws_row;
		ws.ws_col = si->winsize->ws_col;
		ws.ws_xpixel = si->winsize->ws_xpixel;
		ws.ws_ypixel = si->winsize->ws_ypixel;
	}
	if ((si->termios && tcsetattr(pp->master_fd, TCSANOW, &t)) ||
	    (si->winsize && ioctl(pp->master_fd, TIOCSWINSZ, &ws)))
		return pr_fail_errno("can't set the termios of pty %d", pp->index);
	return 0;
}

/*
 * What must wait until the queued bytes are back (they go through with the
 * termios set aside, which locked bits would forbid): the locked termios,
 * and the owner of the slave's node (grantpt() gave it to its opener, a new
 * pty is criu's), through an O_PATH open of it, which does not open the tty.
 */
static int set_term_late(struct pty_pair *pp)
{
	const TtyInfoEntry *si = term_info(pp);
	bool owner = pp->slave ? pp->slave->has_uid && pp->slave->has_gid : pp->alone && pp->alone->has_slave_uid;
	uid_t uid = pp->slave ? pp->slave->uid : pp->alone ? pp->alone->slave_uid : 0;
	gid_t gid = pp->slave ? pp->slave->gid : pp->alone ? pp->alone->slave_gid : 0;
	struct termios lt;
	int fd, ret = 0;

	if (si && si->termios_locked) {
		if (termios_from_entry(si->termios_locked, &lt))
			return pr_fail(-EINVAL, "tty-info.img: entry %u: locked termios of pty %d: bad c_cc\n", si->id,
				       pp->index);
		if (ioctl(pp->master_fd, TIOCSLCKTRMIOS, &lt))
			return pr_fail_errno("can't lock the termios of pty %d", pp->index);
	}
	if (!owner)
		return 0;
	fd = ioctl(pp->master_fd, TIOCGPTPEER, O_PATH | O_CLOEXEC);
	if (fd < 0 || fchownat(fd, "", uid, gid, AT_EMPTY_PATH))
		ret = pr_fail_errno("can't give the slave of pty %d to %u:%u", pp->index, uid, gid);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * criu's own slave of the pair, held until the tree runs (pty_late()): the
 * queued bytes go through it, and a session leader whose controlling
 * terminal the slave is, with no fd of it, takes it from there. Not for a
 * master whose slave was never opened: closing it would end the slave.
 */
static int own_slave(struct pty_pair *pp)
{
	/* (a session's terminal was opened once: CRIU's images say no more) */
	bool closed = (pp->alone && pp->alone->slave_closed) || (pp->master && pp->master->sid);

	if (!pp->slave && !closed)
		return 0;
	pp->slave_fd = ioctl(pp->master_fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pp->slave_fd < 0)
		return pr_fail_errno("can't open the slave of pty %d", pp->index);
	return 0;
}

static int put_data(struct pty_pair *pp)
{
	int ret;

	if (pp->to_slave) {
		ret = tty_data_put(pp->master_fd, pp->slave_fd, pp->master_fd, true, pp->to_slave->data.data,
				   pp->to_slave->data.len);
		if (ret)
			return pr_fail(ret, "pty %d: can't give its slave %zu bytes to read: %s\n", pp->index,
				       pp->to_slave->data.len, strerror(-ret));
	}
	if (pp->to_master) {
		ret = tty_data_put(pp->master_fd, pp->master_fd, pp->slave_fd, false, pp->to_master->data.data,
				   pp->to_master->data.len);
		if (ret)
			return pr_fail(ret, "pty %d: can't give its master %zu bytes to read: %s\n", pp->index,
				       pp->to_master->data.len, strerror(-ret));
	}
	return 0;
}

/*
 * A slave that its master's close had hung up (its entry has no termios, as
 * CRIU writes it): a new pty at its index, whose master is closed again
 * once the slave's files are open (pty_late()), which hangs them up.
 */
static int hung_master(struct rst_ctx *ctx, struct pty_pair *pp)
{
	int zero = 0, ret;

	pp->hung = true;
	pp->master_fd = open_ptmx_index(ctx, NULL, pp->index);
	if (pp->master_fd < 0)
		return pp->master_fd;
	if (ioctl(pp->master_fd, TIOCSPTLCK, &zero))
		return pr_fail_errno("can't unlock the new pty %d", pp->index);
	ret = set_term_late(pp);
	return ret ?: pp->master_fd;
}

/*
 * The pair's master, opened once, unlocked until the late hook, with the
 * slave's termios, the queued bytes, and criu's own slave.
 */
static int pair_master(struct rst_ctx *ctx, struct pty_pair *pp)
{
	int zero = 0, ret;

	if (pp->master_fd >= 0)
		return pp->master_fd;
	if (!pp->slave && !pp->master)
		return pr_fail(-EINVAL, "pty %d: the images lack both its sides\n", pp->index);
	if (!pp->master && !pp->slave->termios)
		return hung_master(ctx, pp);
	if (!pp->master) {
		ret = orphan_master(ctx, pp);
		ret = ret < 0 ? ret : set_term(pp) ?: set_term_late(pp);
		return ret ?: pp->master_fd;
	}
	ret = pair_data(tty_rst(ctx), pp);
	if (ret)
		return ret;
	pp->master_fd = open_ptmx_index(ctx, NULL, pp->index);
	if (pp->master_fd < 0)
		return pp->master_fd;
	if (ioctl(pp->master_fd, TIOCSPTLCK, &zero))
		return pr_fail_errno("can't unlock the new pty %d", pp->index);
	if ((pp->to_slave || pp->to_master) && !pp->slave && !(pp->alone && pp->alone->slave_closed) &&
	    !pp->master->sid)
		return pr_fail(-EINVAL, "tty-data.img: bytes for pty %d, whose slave was never opened\n", pp->index);
	ret = set_term(pp) ?: own_slave(pp) ?: put_data(pp) ?: set_term_late(pp);
	if (ret)
		return ret;
	return pp->master_fd;
}

/*
 * A slave whose master was outside the tree: by its dumped path, on its
 * mount (runc's /dev/console is a bind of it), so the fd is on that mount
 * again; it must be the slave of the new master. -errno, not logged.
 */
static int open_orphan_slave(struct rst_ctx *ctx, struct pty_pair *pp, const RegFileEntry *r, int master,
			     int oflags)
{
	struct stat st, mst;
	int fd;

	if (ctx->mnt && r->has_mnt_id && r->mnt_id >= 0) {
		fd = mntns_open_file(ctx, r->mnt_id, r->name, oflags);
	} else {
		fd = open_img_path(r->name, oflags);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || fstat(master, &mst) || !is_pts(&st) || pts_index(&st) != pp->index ||
	    st.st_dev != mst.st_dev) {
		close(fd);
		return -ENXIO;
	}
	return fd;
}

/* A file of the pair's slave: the termios are the pty's, set with its master (set_term()). */
static int open_slave(struct rst_ctx *ctx, struct file_desc *d, struct pty_pair *pp, int master,
		      unsigned int flags)
{
	int oflags = (flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC;
	const TtyFileEntry *tf = d->fe->tty;
	/* (CRIU writes the path of a pair's slave too: that one comes from its master) */
	struct file_desc *rd = !pp->master && !pp->hung && tf->has_regf_id ? find_file_desc(ctx, tf->regf_id) : NULL;
	int fd;

	if (rd && rd->fe->reg && rd->fe->reg->name) {
		fd = open_orphan_slave(ctx, pp, rd->fe->reg, master, oflags);
		if (fd < 0)
			return pr_fail(fd, "can't open %s, the slave of the new pty %d: %s\n", rd->fe->reg->name,
				       pp->index, strerror(-fd));
	} else {
		/* (TIOCGPTPEER keeps O_CLOEXEC in the file's flags, where a dup would show it) */
		fd = ioctl(master, TIOCGPTPEER, oflags & ~O_CLOEXEC);
		if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC)) {
			int ret = pr_fail_errno("can't open the slave of pty %d", pp->index);

			if (fd >= 0)
				close(fd);
			return ret;
		}
	}
	return fd;
}

/* A file of the pair's master (CRIU's files have no rdev: their tty-info entry tells). */
static bool is_master_file(const struct pty_pair *pp, const struct file_desc *d)
{
	return pp->master && d->fe->tty->tty_info_id == pp->master->id;
}

static int pty_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	struct pty_pair *pp = d->priv;
	unsigned int flags = d->fe->tty->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND);
	int master = pair_master(ctx, pp), fd;

	if (master < 0)
		return master;
	if (is_master_file(pp, d)) {
		fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 || fcntl(fd, F_SETFL, flags)) {
			if (fd >= 0)
				close(fd);
			return pr_fail_errno("can't give out the master of pty %d", pp->index);
		}
	} else {
		fd = open_slave(ctx, d, pp, master, flags);
		if (fd < 0)
			return fd;
	}
	*ret_fd = fd;
	return 0;
}

static int shell_tty_open(struct file_desc *d, int *ret_fd)
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

/* The entry of a terminal file that is no pty's side (/dev/tty, the console, a vt), else NULL. */
static const TtyInfoEntry *other_info(struct rst_ctx *ctx, const struct file_desc *d)
{
	struct tty_rst *st = tty_rst(ctx);
	TtyInfoEntry *info;

	if (!st || d->priv || !is_pty_file(d->fe->tty))
		return NULL;
	info = find_info(st, d->fe->tty->tty_info_id);
	return info && info->type != TTY_TYPE__PTY ? info : NULL;
}

/* The console or a vt: its path opened again (on its mount), which must be the same device. */
static int console_open(struct rst_ctx *ctx, const TtyInfoEntry *info, struct file_desc *d, int *ret_fd)
{
	int oflags = (d->fe->tty->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND)) | O_NOCTTY | O_CLOEXEC;
	struct file_desc *rd = find_file_desc(ctx, d->fe->tty->regf_id);
	const RegFileEntry *r = rd ? rd->fe->reg : NULL;
	struct stat st;
	int fd;

	if (!r || !r->name)
		return pr_fail(-EINVAL, "files.img: terminal %u has no path\n", d->id);
	if (ctx->mnt && r->has_mnt_id && r->mnt_id >= 0) {
		fd = mntns_open_file(ctx, r->mnt_id, r->name, oflags);
	} else {
		fd = open_img_path(r->name, oflags);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return pr_fail(fd, "can't open the terminal %s: %s\n", r->name, strerror(-fd));
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || (uint32_t)st.st_rdev != info->rdev) {
		close(fd);
		return pr_fail(-ENXIO, "%s is not the terminal it was (device %u:%u)\n", r->name, major(info->rdev),
			       minor(info->rdev));
	}
	*ret_fd = fd;
	return 0;
}

/*
 * /dev/tty opens the opener's controlling terminal: a helper, sharing criu's
 * fd table, makes a session whose controlling terminal is the pty's slave,
 * opens /dev/tty and puts it at fd; it drops the terminal as it exits (as a
 * session leader), before the tree's session leader takes it.
 */
static int open_dev_tty_as(int slave, unsigned int flags, int fd)
{
	int status;
	pid_t pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, 0);

	if (pid < 0)
		return -errno;
	if (!pid) {
		int t;

		signal(SIGHUP, SIG_IGN);
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0))
			_exit(1);
		t = open("/dev/tty", flags | O_CLOEXEC);
		if (t < 0 || dup3(t, fd, O_CLOEXEC) != fd)
			_exit(2);
		close(t);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int dev_tty_open(struct rst_ctx *ctx, const TtyInfoEntry *info, struct file_desc *d, int *ret_fd)
{
	unsigned int flags = d->fe->tty->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND);
	struct tty_rst *st = tty_rst(ctx);
	struct pty_pair *pp;
	int fd, ret;

	for (pp = st->pairs; pp; pp = pp->next) {
		const TtyInfoEntry *pi = pp->slave ?: pp->master;

		if (pp->master && pi->sid && pi->sid == info->sid)
			break;
	}
	if (!pp)
		return pr_fail(-EINVAL, "tty-info.img: /dev/tty of session %u, whose controlling terminal is no pty of the "
					"images\n", info->sid);
	ret = pair_master(ctx, pp);
	if (ret < 0)
		return ret;
	if (pp->slave_fd < 0)
		return pr_fail(-EINVAL, "pty %d: /dev/tty of it, but its slave was never opened\n", pp->index);
	/* (a place in the fd table for the helper to put it) */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_fail_errno("can't open /dev/null");
	ret = open_dev_tty_as(pp->slave_fd, flags, fd);
	if (ret) {
		close(fd);
		return pr_fail(ret, "pty %d: can't open /dev/tty as a session whose terminal it is: %s\n", pp->index,
			       strerror(-ret));
	}
	*ret_fd = fd;
	return 0;
}

int tty_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	const TtyInfoEntry *other = other_info(ctx, d);

	if (other && other->type == TTY_TYPE__CTTY)
		return dev_tty_open(ctx, other, d, ret_fd);
	if (other)
		return console_open(ctx, other, d, ret_fd);
	if (d->priv)	/* a pty pair's side (tty_collect()) */
		return pty_open(ctx, d, ret_fd);
	return shell_tty_open(d, ret_fd);
}

/*
 * Once every slave is open and has its termios: the pair's locked state, the
 * master's packet mode (set earlier, it would queue a status change for the
 * termios set on the slave), the slave's exclusive mode.
 */
static int pty_late(struct file_desc *d, int ctl_fd)
{
	struct pty_pair *pp = d->priv;
	int lock, pkt;

	/* (a slave open nowhere in the tree is closed again: its master reads EOF) */
	if (pp->slave_fd >= 0) {
		close(pp->slave_fd);
		pp->slave_fd = -1;
	}
	/* (the master's close hangs the slave's files up, as they were) */
	if (pp->hung) {
		if (pp->master_fd >= 0)
			close(pp->master_fd);
		pp->master_fd = -1;
		return 0;
	}
	if (!is_master_file(pp, d)) {
		if (pp->slave->exclusive && ioctl(ctl_fd, TIOCEXCL))
			return pr_fail_errno("can't make pty %d exclusive again", pp->index);
		return 0;
	}
	lock = pp->master->locked;
	pkt = pp->master->packet_mode;
	if (ioctl(ctl_fd, TIOCSPTLCK, &lock) || ioctl(ctl_fd, TIOCPKT, &pkt))
		return pr_fail_errno("can't lock pty %d or set its packet mode", pp->index);
	return 0;
}

/*
 * A job that had the terminal's foreground at dump gets it back, if criu
 * holds the foreground now (a shell job restored from the shell).
 */
static int shell_tty_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	TtyFileEntry *t = d->fe->tty;
	sigset_t ttou, old;
	int ret = 0;

	/* (in a tree with its own pid namespace, its pgids are not criu's: leave it) */
	if (!t->has_fg_pgrp || ctx->tree.ns_flags || tcgetpgrp(ctl_fd) != getpgrp())
		return 0;
	if (!pstree_has_pgid(&ctx->tree, t->fg_pgrp))
		return 0;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	if (tcsetpgrp(ctl_fd, t->fg_pgrp))
		ret = pr_fail_errno("can't give the terminal to the restored group %d", t->fg_pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		pr_info("the terminal's foreground group is %d again\n", t->fg_pgrp);
	return ret;
}

int tty_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	if (d->priv)
		return pty_late(d, ctl_fd);
	if (other_info(ctx, d))
		return 0;
	return shell_tty_late(ctx, d, ctl_fd);
}

/* criu's fd cfd made the caller's controlling terminal. */
static int take_ctty(struct rst_ctx *ctx, struct pstree_item *me, int cfd, const char *what)
{
	int fd = cfd >= 0 ? sys_pidfd_getfd(ctx->ctl_pidfd, cfd, 0) : -1;

	if (fd < 0)
		return pr_fail(-EINVAL, "task %d: can't get %s from criu to make it its terminal\n", me->pid, what);
	if (ioctl(fd, TIOCSCTTY, 0)) {
		int ret = pr_fail_errno("task %d can't make %s its controlling terminal", me->pid, what);

		close(fd);
		return ret;
	}
	close(fd);
	pr_info("task %d: %s is its controlling terminal\n", me->pid, what);
	return 0;
}

/* The console or vt whose session me leads, made its terminal again. */
static int stub_console_ctty(struct rst_ctx *ctx, struct tty_rst *st, struct pstree_item *me)
{
	for (int i = 0; i < 2; i++) {
		const TtyInfoEntry *info = st->ctty_info[i];
		char what[64];

		if (!info || !st->ctty_d[i] || (pid_t)info->sid != me->pid)
			continue;
		snprintf(what, sizeof(what), "terminal %u:%u", major(info->rdev), minor(info->rdev));
		return take_ctty(ctx, me, ctx->files.ctl_fds[st->ctty_d[i]->index], what);
	}
	return 0;
}

int tty_stub_ctty(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct tty_rst *st = me->sid == me->pid ? tty_rst(ctx) : NULL;

	for (struct pty_pair *pp = st ? st->pairs : NULL; pp; pp = pp->next) {
		const TtyInfoEntry *info = pp->slave ?: pp->master;
		char what[32];
		int ret;

		if (!info || (pid_t)info->sid != me->pid)
			continue;
		snprintf(what, sizeof(what), "pty %d", pp->index);
		/* a file of the slave in the tree, or criu's own slave (own_slave()) */
		ret = take_ctty(ctx, me, pp->slave_d ? ctx->files.ctl_fds[pp->slave_d->index] : pp->slave_fd, what);
		if (ret)
			return ret;
	}
	return st ? stub_console_ctty(ctx, st, me) : 0;
}

void tty_cleanup(struct rst_ctx *ctx)
{
	struct tty_rst *st = tty_rst(ctx);

	if (!st)
		return;
	while (st->pairs) {
		struct pty_pair *pp = st->pairs;

		st->pairs = pp->next;
		if (pp->master_fd >= 0)
			close(pp->master_fd);
		if (pp->slave_fd >= 0)
			close(pp->slave_fd);
		free(pp);
	}
	for (size_t i = 0; i < st->nr_infos; i++)
		pb_free(st->infos[i], PB_TTY_INFO);
	free(st->infos);
	st->infos = NULL;
	st->nr_infos = 0;
	for (size_t i = 0; i < st->nr_data; i++)
		pb_free(st->data[i], PB_TTY_DATA);
	free(st->data);
	st->data = NULL;
	st->nr_data = 0;
}
