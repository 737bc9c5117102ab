// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals.
 *
 * A pty pair whose master (an open of /dev/ptmx) and slave (/dev/pts/N) are
 * both open in the tree is dumped as two tty-info.img entries, one per side,
 * linked by the pty index; restore opens /dev/ptmx until the kernel hands out
 * that index again (it gives the lowest free one), opens the slave from the
 * master (TIOCGPTPEER) and puts back the slave's termios and window size,
 * the master's packet mode and the pair's locked state, and the slave's
 * exclusive mode.
 *
 * With --orphan-pts-master (runc's terminal mode), a slave whose master is
 * outside the tree is dumped alone; restore makes a new pty in the slave's
 * devpts and hands its master to the RPC client (orphan-pts-master).
 *
 * A pty that is a session's controlling terminal is made so again by the
 * session leader's stub before it forks (tty_stub_ctty()).
 *
 * Any other terminal is the shell job's (--shell-job): on restore every such
 * fd becomes criu's own terminal, with the dumped file flags. Refused at
 * dump: a terminal without --shell-job, a master whose slave is not open in
 * the tree, a controlling terminal whose session restore can't give back
 * (leader outside the tree, a member without it, a foreground group other
 * than the leader's), and bytes queued in either direction.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <dirent.h>

#include "common.h"
#include "cr_options.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "mount.h"
#include "action-scripts.h"
#include "syscalls.h"
#include "protobuf.h"
#include "proc_parse.h"
#include "pstree.h"
#include "tty.h"

#include "fdinfo.pb-c.h"
#include "tty.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "tty: "

#define PTMX_RDEV makedev(5, 2)
#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
#define MAX_PTS_INDEX 4096

bool tty_is_terminal(const struct stat *st)
{
	unsigned int maj = major(st->st_rdev);

	/* 4: tty/ttyS, 5: /dev/tty, /dev/console, /dev/ptmx, 136-143: pts */
	return S_ISCHR(st->st_mode) &&
	       (maj == 4 || maj == 5 || (maj >= PTS_MAJOR_FIRST && maj <= PTS_MAJOR_LAST));
}

static bool is_ptmx(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == PTMX_RDEV;
}

static bool is_pts(const struct stat *st)
{
	unsigned int maj = major(st->st_rdev);

	return S_ISCHR(st->st_mode) && maj >= PTS_MAJOR_FIRST && maj <= PTS_MAJOR_LAST;
}

static int pts_index(const struct stat *st)
{
	return (major(st->st_rdev) - PTS_MAJOR_FIRST) * 256 + minor(st->st_rdev);
}

/* ---- dump ---- */

struct pty_side {
	struct pty_side *next;
	int index;
	bool master;
	bool info_written;	/* its tty-info.img entry */
	uint32_t info_id;	/* CRIU's: index * 2, + 1 for the master */
};

/* a task of the tree and its controlling terminal, from its /proc stat */
struct task_ctty {
	struct pstree_item *item;
	dev_t rdev;		/* 0: none */
	pid_t pid, sid, pgid, tpgid;	/* as criu sees them */
};

/* the pty sides open in the tree, in the dump ctx (dump_files_state()) */
struct tty_dump {
	bool scanned;
	struct pty_side *sides;
	struct task_ctty *cttys;	/* one per task of the tree */
	int nr_cttys;
	int orphan_index;	/* the pty whose master is outside the tree (--orphan-pts-master), -1 */
};
static const char tty_dump_key;

static void tty_dump_fini(void *state)
{
	struct tty_dump *td = state;

	while (td->sides) {
		struct pty_side *s = td->sides;

		td->sides = s->next;
		free(s);
	}
	free(td->cttys);
	td->cttys = NULL;
}

static struct pty_side *find_side(struct tty_dump *td, int index, bool master)
{
	for (struct pty_side *s = td->sides; s; s = s->next)
		if (s->index == index && s->master == master)
			return s;
	return NULL;
}

static int add_side(struct tty_dump *td, int index, bool master)
{
	struct pty_side *s;

	if (find_side(td, index, master))
		return 0;
	s = xzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->index = index;
	s->master = master;
	s->next = td->sides;
	td->sides = s;
	return 0;
}

/* The pty index of a master, from its fdinfo ("tty-index:"); -1 when absent. */
static int master_index(int fdinfo_dfd, const char *fd)
{
	_cleanup_close_ int f = openat(fdinfo_dfd, fd, O_RDONLY | O_CLOEXEC);
	char buf[4096], *s;
	ssize_t n;

	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	s = strstr(buf, "tty-index:");
	return s ? atoi(s + strlen("tty-index:")) : -1;
}

/* The task's controlling terminal, from the tty_nr field of its stat (the kernel's dev encoding). */
static int add_ctty(struct tty_dump *td, struct pstree_item *item)
{
	struct proc_pid_stat ps;
	struct task_ctty *cttys, *c;
	unsigned int nr;
	int ret = parse_pid_stat(item->proc_dfd, &ps);

	if (ret)
		return ret;
	nr = ps.tty_nr;
	cttys = realloc(td->cttys, (td->nr_cttys + 1) * sizeof(*cttys));
	if (!cttys)
		return -ENOMEM;
	td->cttys = cttys;
	c = &td->cttys[td->nr_cttys++];
	c->item = item;
	c->rdev = nr ? makedev((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00)) : 0;
	c->pid = ps.pid;
	c->sid = ps.sid;
	c->pgid = ps.pgid;
	c->tpgid = ps.tpgid;
	return 0;
}

/*
 * The session whose controlling terminal rdev is, as restore can give it
 * back: its leader (in the tree) makes it its controlling terminal before it
 * forks, so every task of the tree in that session must have it, and the
 * foreground group must be the leader's. *ret_leader: NULL when rdev is no
 * task's controlling terminal.
 */
static int ctty_session(const struct tty_dump *td, dev_t rdev, int index, struct task_ctty **ret_leader)
{
	struct task_ctty *leader = NULL;

	*ret_leader = NULL;
	for (int i = 0; i < td->nr_cttys; i++) {
		struct task_ctty *c = &td->cttys[i];

		if (c->rdev == rdev && c->pid == c->sid)
			leader = c;
	}
	for (int i = 0; i < td->nr_cttys; i++) {
		struct task_ctty *c = &td->cttys[i];

		if (c->rdev != rdev)
			continue;
		if (!leader || c->sid != leader->sid)
			return pr_fail(-EOPNOTSUPP, "pty %d is the controlling terminal of task %d, whose session leader "
						    "(%d) is not in the tree: not supported\n",
				       index, c->item->pid, c->sid);
	}
	for (int i = 0; leader && i < td->nr_cttys; i++) {
		struct task_ctty *c = &td->cttys[i];

		if (c->sid == leader->sid && c->rdev != rdev && c->item->state != TASK_DEAD)
			return pr_fail(-EOPNOTSUPP, "task %d is in the session of pty %d but has another controlling "
						    "terminal or none: not supported\n",
				       c->item->pid, index);
	}
	if (leader && leader->tpgid != leader->pgid)
		return pr_fail(-EOPNOTSUPP, "pty %d: its foreground process group (%d) is not its session leader's "
					    "(%d): not supported\n",
			       index, leader->tpgid, leader->pgid);
	*ret_leader = leader;
	return 0;
}

static int scan_task_ptys(struct tty_dump *td, struct pstree_item *item)
{
	_cleanup_close_ int fd_dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int info_dfd = openat(item->proc_dfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0, dup_fd;

	if (fd_dfd < 0 || info_dfd < 0)
		return -errno;
	ret = add_ctty(td, item);
	if (ret)
		return ret;
	dup_fd = dup(fd_dfd);
	d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.' || fstatat(fd_dfd, de->d_name, &st, 0))
			continue;
		if (is_pts(&st))
			ret = add_side(td, pts_index(&st), false);
		else if (is_ptmx(&st) && master_index(info_dfd, de->d_name) >= 0)
			ret = add_side(td, master_index(info_dfd, de->d_name), true);
	}
	closedir(d);
	return ret;
}

/* Every pty master and slave open in the tree, scanned on first use. */
static int tty_dump_ready(struct dump_files_ctx *ctx, struct tty_dump **ret_td)
{
	struct tty_dump *td = dump_files_state(ctx, &tty_dump_key, sizeof(*td), tty_dump_fini);
	struct pstree_item *item;
	int ret;

	if (!td)
		return -ENOMEM;
	if (!td->scanned) {
		td->orphan_index = -1;
		for_each_pstree_item(ctx->tree, item) {
			ret = scan_task_ptys(td, item);
			if (ret)
				return pr_fail(ret, "can't list the terminals of task %d: %s\n", item->pid,
					       strerror(-ret));
		}
		td->scanned = true;
	}
	*ret_td = td;
	return 0;
}

/*
 * termios c_cc as CRIU keeps it: its 19 words hold the bytes of libc's
 * c_cc (the kernel's 19 control characters, then zeros) copied as they are
 * in memory, four to a word, the rest of the words unused (CRIU leaves
 * them as they were; we write zeros). Dumps of ours before had NCCS words,
 * a character in each.
 */
#define CRIU_NCC 19

_Static_assert(CRIU_NCC * sizeof(uint32_t) >= NCCS, "c_cc fits in CRIU's words");

static void pack_cc(const struct termios *t, uint32_t *cc)
{
	memset(cc, 0, CRIU_NCC * sizeof(*cc));
	memcpy(cc, t->c_cc, NCCS);
}

static int unpack_cc(const TermiosEntry *e, struct termios *t)
{
	if (e->n_c_cc == CRIU_NCC) {
		memcpy(t->c_cc, e->c_cc, NCCS);
		return 0;
	}
	if (e->n_c_cc != NCCS)
		return -EINVAL;
	for (size_t i = 0; i < NCCS; i++)
		t->c_cc[i] = e->c_cc[i];
	return 0;
}

/* A side's terminal settings, as written. */
struct pty_term {
	TermiosEntry te, lte;
	WinsizeEntry we;
	uint32_t cc[CRIU_NCC], lcc[CRIU_NCC];
};

static void termios_to_entry(const struct termios *t, TermiosEntry *e, uint32_t *cc)
{
	e->c_iflag = t->c_iflag;
	e->c_oflag = t->c_oflag;
	e->c_cflag = t->c_cflag;
	e->c_lflag = t->c_lflag;
	e->c_line = t->c_line;
	e->c_ispeed = cfgetispeed(t);
	e->c_ospeed = cfgetospeed(t);
	pack_cc(t, cc);
	e->n_c_cc = CRIU_NCC;
	e->c_cc = cc;
}

static int queued_bytes(int fd, const char *side, int index)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n))
		return pr_fail_errno("FIONREAD on the %s of pty %d", side, index);
	if (n)
		return pr_fail(-EOPNOTSUPP, "pty %d: %d unread bytes on its %s side: data in flight is not supported\n",
			       index, n, side);
	return 0;
}

/*
 * termios, locked termios and window size of a side, as CRIU has them for
 * both (its restore refuses a master entry without them)
 */
static int fill_term(int fd, struct pty_term *pt, TtyInfoEntry *info)
{
	struct termios t, lt;
	struct winsize ws;

	if (tcgetattr(fd, &t) || ioctl(fd, TIOCGLCKTRMIOS, &lt) || ioctl(fd, TIOCGWINSZ, &ws))
		return -errno;
	termios_to_entry(&t, &pt->te, pt->cc);
	termios_to_entry(&lt, &pt->lte, pt->lcc);
	pt->we.ws_row = ws.ws_row;
	pt->we.ws_col = ws.ws_col;
	pt->we.ws_xpixel = ws.ws_xpixel;
	pt->we.ws_ypixel = ws.ws_ypixel;
	info->termios = &pt->te;
	info->termios_locked = &pt->lte;
	info->winsize = &pt->we;
	return 0;
}

/*
 * The side's own state into its tty-info.img entry; the master's has the
 * session of its slave too, as CRIU writes it (its restore makes the
 * controlling terminal from the master's entry).
 */
static int fill_master_info(const struct tty_dump *td, int fd, int index, TtyInfoEntry *info, struct pty_term *pt)
{
	struct task_ctty *leader;
	int locked = 0, pkt = 0, ret;

	if (ioctl(fd, TIOCGPTLCK, &locked) || ioctl(fd, TIOCGPKT, &pkt) || fill_term(fd, pt, info))
		return pr_fail_errno("can't read the state of the master of pty %d", index);
	ret = ctty_session(td, makedev(PTS_MAJOR_FIRST + index / 256, index % 256), index, &leader);
	if (ret)
		return ret;
	if (leader) {
		info->sid = leader->item->vsid;
		info->pgrp = leader->item->vpgid;
	}
	info->locked = locked;
	info->packet_mode = pkt;
	info->rdev = PTMX_RDEV;
	return queued_bytes(fd, "master", index);
}

/* The session whose controlling terminal the slave is: its leader's ids as the images hold them. */
static int fill_slave_session(const struct tty_dump *td, const struct stat *st, int index, TtyInfoEntry *info)
{
	struct task_ctty *leader;
	int ret = ctty_session(td, st->st_rdev, index, &leader);

	if (ret || !leader)
		return ret;
	info->sid = leader->item->vsid;
	info->pgrp = leader->item->vpgid;
	return 0;
}

static int fill_slave_info(const struct tty_dump *td, int fd, const struct stat *st, int index,
			   TtyInfoEntry *info, struct pty_term *pt)
{
	int excl = 0, ret;

	/* (from /proc stat: TIOCGSID answers only a member of the session) */
	ret = fill_slave_session(td, st, index, info);
	if (ret)
		return ret;
	if (fill_term(fd, pt, info) || ioctl(fd, TIOCGEXCL, &excl))
		return pr_fail_errno("can't read the state of the slave of pty %d", index);
	info->exclusive = excl;
	info->rdev = (uint32_t)st->st_rdev;
	/* the slave node's owner: grantpt() gives it to the opener, a new pty is criu's */
	info->has_uid = info->has_gid = true;
	info->uid = st->st_uid;
	info->gid = st->st_gid;
	return queued_bytes(fd, "slave", index);
}

static int dump_side_info(struct dump_files_ctx *ctx, struct tty_dump *td, struct pty_side *side,
			  const struct fd_parms *p)
{
	TtyInfoEntry info = TTY_INFO_ENTRY__INIT;
	TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
	struct pty_term pt = { .te = TERMIOS_ENTRY__INIT, .lte = TERMIOS_ENTRY__INIT, .we = WINSIZE_ENTRY__INIT };
	struct cr_img *img;
	int ret;

	if (side->info_written)
		return 0;
	info.id = (uint32_t)side->index << 1 | side->master;
	info.type = TTY_TYPE__PTY;
	pty.index = side->index;
	info.pty = &pty;
	if (side->master)
		ret = fill_master_info(td, p->lfd, side->index, &info, &pt);
	else
		ret = fill_slave_info(td, p->lfd, &p->stat, side->index, &info, &pt);
	if (ret)
		return ret;
	img = dump_files_img(ctx, CR_FD_TTY_INFO);
	if (!img)
		return -EIO;
	ret = pb_write_one(img, &info, PB_TTY_INFO);
	if (ret)
		return ret;
	side->info_id = info.id;
	side->info_written = true;
	return 0;
}

static int pty_dump(struct dump_files_ctx *ctx, const struct fd_parms *p, TtyFileEntry *tfe)
{
	bool master = is_ptmx(&p->stat);
	struct pty_side *side;
	struct tty_dump *td;
	int index, ret;

	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	if (master && ioctl(p->lfd, TIOCGPTN, &index))
		return pr_fail_errno("can't read the index of the pty master at fd %d of task %d", p->fd,
				     p->item->pid);
	if (!master)
		index = pts_index(&p->stat);
	if (index < 0 || index >= MAX_PTS_INDEX)
		return pr_fail(-EOPNOTSUPP, "pty %d: index beyond %d\n", index, MAX_PTS_INDEX);
	if (master && !find_side(td, index, false))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: pty master %d whose slave is not open in the tree: not supported\n",
			       p->fd, p->item->pid, index);
	if (master && strcmp(p->link, "/dev/ptmx") && strcmp(p->link, "/dev/pts/ptmx"))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: pty master opened as %s: not supported\n", p->fd,
			       p->item->pid, p->link);
	side = find_side(td, index, master);
	if (!side)
		return pr_fail(-EINVAL, "fd %d of task %d: pty %d was not seen in the tree\n", p->fd, p->item->pid,
			       index);
	ret = dump_side_info(ctx, td, side, p);
	if (ret)
		return ret;
	tfe->tty_info_id = side->info_id;
	return 0;
}

/* A slave whose master is in the tree is a pty pair's; any other terminal is the shell job's. */
static int is_pair_side(struct dump_files_ctx *ctx, const struct fd_parms *p, bool *ret_pair)
{
	struct tty_dump *td;
	int ret;

	*ret_pair = false;
	if (is_ptmx(&p->stat)) {
		*ret_pair = true;
		return 0;
	}
	if (!is_pts(&p->stat))
		return 0;
	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	*ret_pair = find_side(td, pts_index(&p->stat), true) != NULL;
	return 0;
}

static int shell_tty_dump(const struct fd_parms *p, TtyFileEntry *tfe)
{
	pid_t pgid;

	if (!opts.shell_job)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d is a terminal (%s) whose other side is outside the tree: use --shell-job\n",
			       p->fd, p->item->pid, p->link);
	tfe->tty_info_id = 0;
	/* readable when the terminal is criu's own controlling terminal, as for a shell job */
	pgid = tcgetpgrp(p->lfd);
	if (pgid > 0) {
		tfe->has_fg_pgrp = true;
		tfe->fg_pgrp = pgid;
	}
	return 0;
}

/*
 * A pts whose master is outside the tree, with --orphan-pts-master (runc's
 * terminal mode: the runtime holds the master). The slave's state goes in its
 * tty-info.img entry as for a pair's slave, with the session it is the
 * controlling terminal of; its path and mount in a regular-file record of
 * their own (regf_id), as CRIU writes it: restore makes a new pty in that
 * devpts. Only one such pty, as in CRIU.
 */
static int orphan_slave_dump(struct dump_files_ctx *ctx, const struct fd_parms *p, FownEntry *fown,
			     TtyFileEntry *tfe)
{
	int index = pts_index(&p->stat), ret, mnt_id;
	struct pty_side *side;
	struct tty_dump *td;

	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	if (td->orphan_index >= 0 && td->orphan_index != index)
		return pr_fail(-EOPNOTSUPP, "ptys %d and %d both have their master outside the tree: only one is "
					    "supported (--orphan-pts-master)\n",
			       td->orphan_index, index);
	if (index >= MAX_PTS_INDEX)
		return pr_fail(-EOPNOTSUPP, "pty %d: index beyond %d\n", index, MAX_PTS_INDEX);
	side = find_side(td, index, false);
	if (!side)
		return pr_fail(-EINVAL, "fd %d of task %d: pty %d was not seen in the tree\n", p->fd, p->item->pid,
			       index);
	ret = mntns_file_mount(ctx->tree, p, &mnt_id);
	if (!ret)
		ret = dump_side_info(ctx, td, side, p);
	if (ret)
		return ret;
	td->orphan_index = index;
	tfe->tty_info_id = side->info_id;
	ret = write_path_file(ctx, p, p->link, fown, mnt_id, &tfe->regf_id);
	if (ret)
		return ret;
	tfe->has_regf_id = true;
	return 0;
}

static bool tty_detect(const struct fd_parms *p)
{
	return tty_is_terminal(&p->stat);
}

/*
 * A pty pair side's path (/dev/ptmx, /dev/pts/N) in a regular-file entry of
 * its own, named by regf_id, as CRIU writes it: CRIU's restore refuses a tty
 * without it. Ours does not open it (mark_path_record()), and makes the
 * pair's slave from its master.
 */
static int write_path_entry(struct dump_files_ctx *ctx, const struct fd_parms *p, FownEntry *fown,
			    TtyFileEntry *tfe)
{
	tfe->has_regf_id = true;
	return write_path_file(ctx, p, p->link, fown, -1, &tfe->regf_id);
}

static int tty_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	TtyFileEntry tfe = TTY_FILE_ENTRY__INIT;
	FownEntry fown;
	bool pair;
	int ret;

	ret = is_pair_side(ctx, p, &pair);
	if (!ret)
		ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	if (pair)
		ret = pty_dump(ctx, p, &tfe) ?: write_path_entry(ctx, p, &fown, &tfe);
	else if (is_pts(&p->stat) && opts.orphan_pts_master)
		ret = orphan_slave_dump(ctx, p, &fown, &tfe);
	else
		ret = shell_tty_dump(p, &tfe);
	if (ret)
		return ret;
	tfe.id = id;
	tfe.flags = p->flags;
	tfe.fown = &fown;
	tfe.has_rdev = true;
	tfe.rdev = (uint32_t)p->stat.st_rdev;
	fe.type = FD_TYPES__TTY;
	fe.id = id;
	fe.tty = &tfe;
	return write_file_entry(ctx, &fe);
}

/* ---- restore ---- */

struct pty_pair {
	struct pty_pair *next;
	int index;
	TtyInfoEntry *master, *slave;	/* their tty-info.img entries; no master: it was outside the tree */
	struct file_desc *slave_d;	/* a file of the slave (the first collected) */
	int master_fd;			/* criu's open of the master, -1 */
};

/* the pty pairs being restored, in the ctx (rst_files_state()) */
struct tty_rst {
	bool info_read;
	TtyInfoEntry **infos;
	int nr_infos;
	struct pty_pair *pairs;
};
static const char tty_rst_key;

static struct tty_rst *tty_rst(struct rst_ctx *ctx)
{
	return rst_files_state(ctx, &tty_rst_key, sizeof(struct tty_rst));
}

static int read_tty_infos(struct rst_ctx *ctx, struct tty_rst *st)
{
	struct cr_img *img;
	TtyInfoEntry *info, **infos;
	int ret;

	if (st->info_read)
		return 0;
	st->info_read = true;
	img = open_image_at(ctx->img_dfd, CR_FD_TTY_INFO, O_RSTR_REQ);
	if (!img)
		return pr_fail(-errno, "can't open %s\n", img_last_error());
	while ((ret = pb_read_one_eof(img, (void **)&info, PB_TTY_INFO)) > 0) {
		infos = realloc(st->infos, (st->nr_infos + 1) * sizeof(*infos));
		if (!infos) {
			pb_free(info, PB_TTY_INFO);
			ret = -ENOMEM;
			break;
		}
		st->infos = infos;
		st->infos[st->nr_infos++] = info;
	}
	close_image(img);
	return ret < 0 ? ret : 0;
}

static TtyInfoEntry *find_info(struct tty_rst *st, uint32_t id)
{
	for (int i = 0; i < st->nr_infos; i++)
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
	pp->master_fd = -1;
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
	if (!info || info->type != TTY_TYPE__PTY || !info->pty || info->pty->index >= MAX_PTS_INDEX)
		return pr_fail(-EINVAL, "tty-info.img: no pty entry %u for tty %u\n", d->fe->tty->tty_info_id, d->id);
	/* the leader's TIOCSCTTY makes its own group the foreground one (tty_stub_ctty()) */
	if (!info_is_master(info) && info->sid && info->pgrp != info->sid)
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

static int tty_collect(struct rst_ctx *ctx, struct file_desc *d)
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
	if (unpack_cc(e, t))
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

/* The pair's master, opened once; unlocked until the late hook. */
static int pair_master(struct rst_ctx *ctx, struct pty_pair *pp)
{
	int zero = 0;

	if (pp->master_fd >= 0)
		return pp->master_fd;
	if (!pp->slave)
		return pr_fail(-EINVAL, "pty %d: the images lack its slave\n", pp->index);
	if (!pp->master)
		return orphan_master(ctx, pp);
	pp->master_fd = open_ptmx_index(ctx, NULL, pp->index);
	if (pp->master_fd < 0)
		return pp->master_fd;
	if (ioctl(pp->master_fd, TIOCSPTLCK, &zero))
		return pr_fail_errno("can't unlock the new pty %d", pp->index);
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

static int open_slave(struct rst_ctx *ctx, struct file_desc *d, struct pty_pair *pp, int master,
		      unsigned int flags)
{
	const TtyInfoEntry *si = pp->slave;
	int oflags = (flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC;
	const TtyFileEntry *tf = d->fe->tty;
	/* (CRIU writes the path of a pair's slave too: that one comes from its master) */
	struct file_desc *rd = !pp->master && tf->has_regf_id ? find_file_desc(ctx, tf->regf_id) : NULL;
	struct termios t, lt;
	struct winsize ws = {};
	int fd;

	if (rd && rd->fe->reg && rd->fe->reg->name) {
		fd = open_orphan_slave(ctx, pp, rd->fe->reg, master, oflags);
		if (fd < 0)
			return pr_fail(fd, "can't open %s, the slave of the new pty %d: %s\n", rd->fe->reg->name,
				       pp->index, strerror(-fd));
	} else {
		fd = ioctl(master, TIOCGPTPEER, oflags);
		if (fd < 0)
			return pr_fail_errno("can't open the slave of pty %d", pp->index);
	}
	if ((si->termios && termios_from_entry(si->termios, &t)) ||
	    (si->termios_locked && termios_from_entry(si->termios_locked, &lt))) {
		close(fd);
		return pr_fail(-EINVAL, "tty-info.img: entry %u: termios of pty %d: c_cc is neither CRIU's 19 words "
					"nor %d characters, or a bad speed\n",
			       si->id, pp->index, NCCS);
	}
	if (si->winsize) {
		ws.ws_row = si->winsize->ws_row;
		ws.ws_col = si->winsize->ws_col;
		ws.ws_xpixel = si->winsize->ws_xpixel;
		ws.ws_ypixel = si->winsize->ws_ypixel;
	}
	/* the locked bits (TIOCSLCKTRMIOS: the kernel's termios, the start of libc's), as CRIU restores them */
	if ((si->termios && tcsetattr(fd, TCSANOW, &t)) || (si->winsize && ioctl(fd, TIOCSWINSZ, &ws)) ||
	    (si->termios_locked && ioctl(fd, TIOCSLCKTRMIOS, &lt)) ||
	    (si->has_uid && si->has_gid && fchown(fd, si->uid, si->gid))) {
		int ret = pr_fail_errno("can't set the termios of pty %d", pp->index);

		close(fd);
		return ret;
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

static int tty_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
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

static int tty_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	if (d->priv)
		return pty_late(d, ctl_fd);
	return shell_tty_late(ctx, d, ctl_fd);
}

int tty_stub_ctty(struct rst_ctx *ctx, struct pstree_item *me)
{
	struct tty_rst *st = me->sid == me->pid ? tty_rst(ctx) : NULL;

	for (struct pty_pair *pp = st ? st->pairs : NULL; pp; pp = pp->next) {
		int cfd, fd;

		if (!pp->slave || !pp->slave_d || (pid_t)pp->slave->sid != me->pid)
			continue;
		cfd = ctx->files.ctl_fds[pp->slave_d->index];
		fd = cfd >= 0 ? sys_pidfd_getfd(ctx->ctl_pidfd, cfd, 0) : -1;
		if (fd < 0)
			return pr_fail(-EINVAL, "task %d: can't get pty %d from criu to make it its terminal\n", me->pid,
				       pp->index);
		if (ioctl(fd, TIOCSCTTY, 0)) {
			int ret = pr_fail_errno("task %d can't make pty %d its controlling terminal", me->pid, pp->index);

			close(fd);
			return ret;
		}
		close(fd);
		pr_info("task %d: pty %d is its controlling terminal\n", me->pid, pp->index);
	}
	return 0;
}

static void tty_cleanup(struct rst_ctx *ctx)
{
	struct tty_rst *st = tty_rst(ctx);

	if (!st)
		return;
	while (st->pairs) {
		struct pty_pair *pp = st->pairs;

		st->pairs = pp->next;
		if (pp->master_fd >= 0)
			close(pp->master_fd);
		free(pp);
	}
	for (int i = 0; i < st->nr_infos; i++)
		pb_free(st->infos[i], PB_TTY_INFO);
	free(st->infos);
	st->infos = NULL;
	st->nr_infos = 0;
}

const struct file_type tty_file_type = {
	.name = "tty",
	.late = tty_late,
	.type = FD_TYPES__TTY,
	.detect = tty_detect,
	.dump = tty_dump,
	.collect = tty_collect,
	.open = tty_open,
	.cleanup = tty_cleanup,
	.stage = FILE_OPEN_EARLY,
};
