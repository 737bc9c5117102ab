// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals: the dump and the file type (the restore is tty-restore.c, the
 * queued bytes tty-data.c).
 *
 * A pty pair whose master (an open of /dev/ptmx) is open in the tree is
 * dumped as one tty-info.img entry per side, linked by the pty index (a
 * slave open nowhere in the tree has none: whether it was closed since, and
 * its node's owner, go with the master's files); restore opens /dev/ptmx
 * until the kernel hands out that index again (it gives the lowest free
 * one), sets the slave's termios and window size through the master, opens
 * a slave of its own, puts the queued bytes back (tty-data.img,
 * tty-data.c), opens the slave's files from the master (TIOCGPTPEER), and
 * right before the tree runs closes its slave and gives back the master's
 * packet mode, the pair's locked state and the slave's exclusive mode.
 *
 * Also: slaves hung up by their master's close (restored hung up), opens of
 * /dev/tty whose terminal is a pty of the tree (reopened by a helper whose
 * session has that terminal), the console and virtual terminals (reopened
 * by their path).
 *
 * With --orphan-pts-master (runc's terminal mode), a slave whose master is
 * outside the tree is dumped alone; restore makes a new pty in the slave's
 * devpts and hands its master to the RPC client (orphan-pts-master).
 *
 * A terminal that is a session's controlling terminal is made so again by
 * the session leader's stub before it forks (tty_stub_ctty()).
 *
 * Any other terminal is the shell job's (--shell-job): on restore every such
 * fd becomes criu's own terminal, with the dumped file flags. Refused at
 * dump (Documentation/ttys.md): such a terminal without --shell-job, a
 * controlling terminal whose session restore can't give back, queued bytes
 * that can't be given back as they were, a master whose slave is open only
 * outside the tree.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <dirent.h>
#include <poll.h>
#include <unistd.h>

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
#include "tty-priv.h"

#include "fdinfo.pb-c.h"
#include "tty.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "tty: "


bool tty_is_terminal(const struct stat *st)
{
	unsigned int maj = major(st->st_rdev);

	/* 4: tty/ttyS, 5: /dev/tty, /dev/console, /dev/ptmx, 136-143: pts */
	return S_ISCHR(st->st_mode) &&
	       (maj == 4 || maj == 5 || (maj >= PTS_MAJOR_FIRST && maj <= PTS_MAJOR_LAST));
}

/* ---- dump ---- */

struct pty_side {
	struct pty_side *next;
	int index;
	bool master;
	struct pstree_item *item;	/* a task that holds it, at fd */
	int fd;
	bool info_written;	/* its tty-info.img entry */
	uint32_t info_id;	/* CRIU's: index * 2, + 1 for the master */
	/* a master whose slave is open nowhere in the tree: */
	bool slave_closed;	/* it was opened and closed (the master polls POLLHUP) */
	bool has_owner;
	uid_t slave_uid;	/* the owner of the slave's node */
	gid_t slave_gid;
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
	int dev_tty_index;	/* the pty that /dev/tty fds reach, -1 */
	dev_t console_rdev, vt_rdev;	/* the console and the vt dumped, 0 */
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

static int add_side(struct tty_dump *td, int index, bool master, struct pstree_item *item, int fd)
{
	struct pty_side *s;

	if (find_side(td, index, master))
		return 0;
	s = xzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->index = index;
	s->master = master;
	s->item = item;
	s->fd = fd;
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
static int ctty_session(const struct tty_dump *td, dev_t rdev, const char *name, struct task_ctty **ret_leader)
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
			return pr_fail(-EOPNOTSUPP, "%s is the controlling terminal of task %d, whose session leader "
						    "(%d) is not in the tree: not supported\n",
				       name, c->item->pid, c->sid);
	}
	for (int i = 0; leader && i < td->nr_cttys; i++) {
		struct task_ctty *c = &td->cttys[i];

		if (c->sid == leader->sid && c->rdev != rdev && c->item->state != TASK_DEAD)
			return pr_fail(-EOPNOTSUPP, "task %d is in the session of %s but has another controlling "
						    "terminal or none: not supported\n",
				       c->item->pid, name);
	}
	if (leader && leader->tpgid != leader->pgid)
		return pr_fail(-EOPNOTSUPP, "%s: its foreground process group (%d) is not its session leader's "
					    "(%d): not supported\n",
			       name, leader->tpgid, leader->pgid);
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
			ret = add_side(td, pts_index(&st), false, item, atoi(de->d_name));
		else if (is_ptmx(&st) && master_index(info_dfd, de->d_name) >= 0)
			ret = add_side(td, master_index(info_dfd, de->d_name), true, item, atoi(de->d_name));
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
		td->orphan_index = td->dev_tty_index = -1;
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

int tty_unpack_cc(const TermiosEntry *e, struct termios *t)
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

	/* (the ioctl fills the kernel's termios, shorter than libc's: the rest would be the stack's) */
	memset(&lt, 0, sizeof(lt));
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
	char name[32];

	if (ioctl(fd, TIOCGPTLCK, &locked) || ioctl(fd, TIOCGPKT, &pkt) || fill_term(fd, pt, info))
		return pr_fail_errno("can't read the state of the master of pty %d", index);
	snprintf(name, sizeof(name), "pty %d", index);
	ret = ctty_session(td, makedev(PTS_MAJOR_FIRST + index / 256, index % 256), name, &leader);
	if (ret)
		return ret;
	if (leader) {
		info->sid = leader->item->vsid;
		info->pgrp = leader->item->vpgid;
	}
	info->locked = locked;
	info->packet_mode = pkt;
	info->rdev = PTMX_RDEV;
	return 0;
}

/* The session whose controlling terminal the slave is: its leader's ids as the images hold them. */
static int fill_slave_session(const struct tty_dump *td, const struct stat *st, int index, TtyInfoEntry *info)
{
	struct task_ctty *leader;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "pty %d", index);
	ret = ctty_session(td, st->st_rdev, name, &leader);
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
	return 0;
}

static bool polls_in(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool polls_hup(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/*
 * A slave of criu's own, to read and write back the pty's queued bytes: from
 * the master (TIOCGPTPEER), unlocked for the while if it is locked. Only
 * where opening and closing it changes nothing: a slave is open in the tree,
 * or the last one was closed already (the master polls POLLHUP again after).
 */
static int open_own_slave(int master, int index, const struct pty_side *tree_slave)
{
	int locked = 0, zero = 0, fd;

	if (ioctl(master, TIOCGPTLCK, &locked) || (locked && ioctl(master, TIOCSPTLCK, &zero)))
		return pr_fail_errno("can't unlock pty %d to read its queued bytes", index);
	fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	/* (an exclusive slave opens for CAP_SYS_ADMIN only: then the tree's own, if it reads and writes) */
	if (fd < 0 && errno == EBUSY && tree_slave) {
		fd = sys_pidfd_getfd(tree_slave->item->pidfd, tree_slave->fd, 0);
		if (fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR) {
			close(fd);
			fd = -1;
			errno = EBUSY;
		}
	}
	if (fd < 0)
		fd = pr_fail_errno("can't open the slave of pty %d to read its queued bytes", index);
	if (locked && ioctl(master, TIOCSPTLCK, &locked)) {
		int ret = pr_fail_errno("can't lock pty %d again", index);

		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

static int write_tty_data(struct dump_files_ctx *ctx, uint32_t tty_id, const struct tty_queued *q)
{
	TtyDataEntry e = TTY_DATA_ENTRY__INIT;
	struct cr_img *img;

	if (!q->len)
		return 0;
	img = dump_files_img(ctx, CR_FD_TTY_DATA);
	if (!img)
		return -EIO;
	e.tty_id = tty_id;
	e.data.data = q->buf;
	e.data.len = q->len;
	return pb_write_one(img, &e, PB_TTY_DATA);
}

/* The bytes the pty holds both ways, into the live pty again; the first error. */
static int put_back(int master, int slave, int index, struct tty_queued *in, struct tty_queued *out)
{
	int ret = 0, err;

	if (in->len) {
		err = tty_data_put(master, slave, master, true, in->buf, in->len);
		if (err)
			ret = pr_fail(err, "pty %d: can't put its slave's %zu unread bytes back: %s\n", index, in->len,
				      strerror(-err));
	}
	if (out->len) {
		err = tty_data_put(master, master, slave, false, out->buf, out->len);
		if (err && !ret)
			ret = pr_fail(err, "pty %d: can't put its master's %zu unread bytes back: %s\n", index,
				      out->len, strerror(-err));
	}
	return ret;
}

/*
 * The bytes queued in the pty both ways, read out through the master and a
 * slave of criu's, into tty-data.img (tty_id: the side that reads them, as
 * CRIU has it), and written back at once: the tree goes on with them.
 */
static int dump_queued(struct dump_files_ctx *ctx, int master, int index, const struct pty_side *tree_slave,
		       bool slave_closed)
{
	bool slave_in_tree = tree_slave != NULL;
	struct tty_queued in = {}, out = {};
	const char *why_in = NULL, *why_out = NULL;
	struct termios t;
	int pkt = 0, slave, ret, err;

	if (!slave_in_tree && !slave_closed) {
		/* (the bytes for such a slave can't be seen without opening it, which would end it) */
		if (polls_in(master))
			return pr_fail(-EOPNOTSUPP, "pty %d: bytes queued on its master, whose slave is open nowhere in "
						    "the tree: not supported\n", index);
		return 0;
	}
	if (ioctl(master, TIOCGPKT, &pkt) || tcgetattr(master, &t))
		return pr_fail_errno("can't read the mode of pty %d", index);
	slave = open_own_slave(master, index, tree_slave);
	if (slave < 0)
		return slave;
	if ((pkt && polls_in(master)) || (t.c_line != N_TTY && (polls_in(master) || polls_in(slave)))) {
		close(slave);
		return pr_fail(-EOPNOTSUPP, "pty %d: bytes queued with %s: not supported\n", index,
			       pkt ? "the master in packet mode" : "a line discipline other than n_tty");
	}
	err = tty_data_take(master, slave, true, &in, &why_in);
	if (err == -EOPNOTSUPP || !err)
		err = tty_data_take(master, master, false, &out, &why_out) ?: err;
	ret = put_back(master, slave, index, &in, &out);
	close(slave);
	if (!ret && slave_closed && !polls_hup(master))
		ret = pr_fail(-EIO, "pty %d: its slave did not close again\n", index);
	if (!ret && err == -EOPNOTSUPP)
		ret = pr_fail(err, "pty %d: queued bytes that can't be given back: %s\n", index, why_in ?: why_out);
	else if (!ret && err)
		ret = pr_fail(err, "pty %d: can't read its queued bytes: %s\n", index, strerror(-err));
	if (!ret && in.len && !slave_in_tree)
		ret = pr_fail(-EOPNOTSUPP, "pty %d: %zu bytes queued for its slave, which is open nowhere in the tree: "
					   "not supported\n", index, in.len);
	if (!ret)
		ret = write_tty_data(ctx, (uint32_t)index << 1, &in) ?: write_tty_data(ctx, (uint32_t)index << 1 | 1, &out);
	free(in.buf);
	free(out.buf);
	return ret;
}

/* Whether a task's fd table holds the device rdev of the devpts dev. */
static bool holds_dev(int proc_dfd, dev_t dev, dev_t rdev)
{
	int fd_dfd = openat(proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool found = false;
	struct stat st;
	DIR *d;

	d = fd_dfd >= 0 ? fdopendir(fd_dfd) : NULL;
	if (!d) {
		if (fd_dfd >= 0)
			close(fd_dfd);
		return false;
	}
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.' && !fstatat(dirfd(d), de->d_name, &st, 0) && S_ISCHR(st.st_mode) &&
			st.st_rdev == rdev && st.st_dev == dev;
	closedir(d);
	return found;
}

/*
 * A process outside the tree that holds the slave (of devpts dev, device
 * rdev) open, or 0: the master's slave is then not "never opened", and the
 * restored master could not talk with it.
 */
static pid_t slave_holder_outside(struct pstree *tree, dev_t dev, dev_t rdev)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!proc)
		return 0;
	while (!found && (de = readdir(proc))) {
		pid_t pid = atoi(de->d_name);
		int dfd;

		if (pid <= 0 || pid == getpid() || pstree_find(tree, pid))
			continue;
		dfd = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		if (holds_dev(dfd, dev, rdev))
			found = pid;
		close(dfd);
	}
	closedir(proc);
	return found;
}

/* A master whose slave is open nowhere in the tree: was it closed, whose is its node. */
static int master_alone(struct pstree *tree, int master, int index, struct pty_side *side)
{
	struct stat st;
	int fd;

	side->slave_closed = polls_hup(master);
	/* (an O_PATH open of the slave's node does not open the tty) */
	fd = ioctl(master, TIOCGPTPEER, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int ret = pr_fail_errno("can't stat the slave of pty %d", index);

		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	side->has_owner = true;
	side->slave_uid = st.st_uid;
	side->slave_gid = st.st_gid;
	if (!side->slave_closed) {
		pid_t pid = slave_holder_outside(tree, st.st_dev, st.st_rdev);

		if (pid)
			return pr_fail(-EOPNOTSUPP, "pty %d: its master is in the tree, its slave is open only in process "
						    "%d, outside it: not supported\n", index, pid);
	}
	return 0;
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
	if (side->master) {
		bool slave_in_tree = find_side(td, side->index, false) != NULL;

		ret = slave_in_tree ? 0 : master_alone(ctx->tree, p->lfd, side->index, side);
		ret = ret ?: fill_master_info(td, p->lfd, side->index, &info, &pt);
		ret = ret ?: dump_queued(ctx, p->lfd, side->index, find_side(td, side->index, false), side->slave_closed);
	} else
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
	if (master && !find_side(td, index, false)) {
		tfe->has_slave_closed = true;
		tfe->slave_closed = side->slave_closed;
		tfe->has_slave_uid = tfe->has_slave_gid = side->has_owner;
		tfe->slave_uid = side->slave_uid;
		tfe->slave_gid = side->slave_gid;
	}
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
		ret = dump_side_info(ctx, td, side, p) ?: queued_bytes(p->lfd, "slave", index);
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

/* The pty a /dev/tty fd reaches (TIOCGDEV: the device behind it), -1 when it is no pts. */
static int dev_tty_index(int fd)
{
	unsigned int dev;
	struct stat st = { .st_mode = S_IFCHR };

	if (ioctl(fd, TIOCGDEV, &dev))
		return -1;
	st.st_rdev = makedev(major(dev), minor(dev));
	return is_pts(&st) ? pts_index(&st) : -1;
}

/*
 * An open of /dev/tty (CRIU's "ctty" terminal) that reaches the slave of a
 * pty whose master is in the tree: its tty-info.img entry (CRIU's: type
 * CTTY, id CTTY_INFO_ID) names the session whose controlling terminal that
 * slave is, which restore finds the pty by; its path (/dev/tty) in a
 * regular-file entry, as CRIU writes it. One such pty (CRIU's one id).
 */
static int dev_tty_dump(struct dump_files_ctx *ctx, const struct fd_parms *p, int index, FownEntry *fown,
			TtyFileEntry *tfe)
{
	struct pty_term pt = { .te = TERMIOS_ENTRY__INIT, .lte = TERMIOS_ENTRY__INIT, .we = WINSIZE_ENTRY__INIT };
	TtyInfoEntry info = TTY_INFO_ENTRY__INIT;
	struct task_ctty *leader;
	struct tty_dump *td;
	struct cr_img *img;
	char name[32];
	int ret = tty_dump_ready(ctx, &td);

	if (ret)
		return ret;
	snprintf(name, sizeof(name), "pty %d", index);
	ret = ctty_session(td, makedev(PTS_MAJOR_FIRST + index / 256, index % 256), name, &leader);
	if (ret)
		return ret;
	if (!leader)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: /dev/tty of pty %d, which is no session's controlling "
					    "terminal now: not supported\n", p->fd, p->item->pid, index);
	if (td->dev_tty_index >= 0 && td->dev_tty_index != index)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: /dev/tty of pty %d and of pty %d: only one is "
					    "supported\n", p->fd, p->item->pid, td->dev_tty_index, index);
	if (td->dev_tty_index < 0) {
		/* (the slave's, through /dev/tty: CRIU's restore wants them in the entry) */
		if (fill_term(p->lfd, &pt, &info))
			return pr_fail_errno("fd %d of task %d: can't read the termios of pty %d", p->fd, p->item->pid,
					     index);
		info.id = CTTY_INFO_ID;
		info.type = TTY_TYPE__CTTY;
		info.sid = leader->item->vsid;
		info.pgrp = leader->item->vpgid;
		info.rdev = (uint32_t)DEV_TTY_RDEV;
		img = dump_files_img(ctx, CR_FD_TTY_INFO);
		ret = img ? pb_write_one(img, &info, PB_TTY_INFO) : -EIO;
		if (ret)
			return ret;
		td->dev_tty_index = index;
	}
	tfe->tty_info_id = CTTY_INFO_ID;
	tfe->has_regf_id = true;
	return write_path_file(ctx, p, p->link, fown, -1, &tfe->regf_id);
}

/* A /dev/tty fd of a pty whose master is in the tree: its index, else -1. */
static int dev_tty_of_pair(struct dump_files_ctx *ctx, const struct fd_parms *p, int *ret_index)
{
	struct tty_dump *td;
	int index, ret;

	*ret_index = -1;
	if (!S_ISCHR(p->stat.st_mode) || p->stat.st_rdev != DEV_TTY_RDEV)
		return 0;
	index = dev_tty_index(p->lfd);
	if (index < 0)
		return 0;
	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	if (find_side(td, index, true))
		*ret_index = index;
	return 0;
}

/* A file of a pty slave whose master was closed: the kernel hung it up (every ioctl fails with EIO). */
static bool hung_up(const struct fd_parms *p)
{
	struct termios t;

	return is_pts(&p->stat) && tcgetattr(p->lfd, &t) && errno == EIO;
}

/*
 * A slave hung up by the close of its master: its tty-info.img entry has no
 * termios (nothing can be read), as CRIU writes it, and no session (the
 * hang-up took it); restore makes a pty, opens the slave's files from it and
 * closes the master again. Its path, without the " (deleted)" the hang-up
 * left on it, in a regular-file entry of its own.
 */
static int hung_slave_dump(struct dump_files_ctx *ctx, const struct fd_parms *p, FownEntry *fown, TtyFileEntry *tfe)
{
	TtyInfoEntry info = TTY_INFO_ENTRY__INIT;
	TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
	int index = pts_index(&p->stat), ret;
	struct fd_parms q = *p;
	struct pty_side *side;
	struct tty_dump *td;
	struct cr_img *img;

	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	if (index >= MAX_PTS_INDEX)
		return pr_fail(-EOPNOTSUPP, "pty %d: index beyond %d\n", index, MAX_PTS_INDEX);
	if (find_side(td, index, true))
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: a hung-up slave of a pty %d, whose index a pty of the tree "
					    "has now: not supported\n", p->fd, p->item->pid, index);
	side = find_side(td, index, false);
	if (!side)
		return pr_fail(-EINVAL, "fd %d of task %d: pty %d was not seen in the tree\n", p->fd, p->item->pid,
			       index);
	if (!side->info_written) {
		info.id = (uint32_t)index << 1;
		info.type = TTY_TYPE__PTY;
		pty.index = index;
		info.pty = &pty;
		info.rdev = (uint32_t)p->stat.st_rdev;
		info.has_uid = info.has_gid = true;
		info.uid = p->stat.st_uid;
		info.gid = p->stat.st_gid;
		img = dump_files_img(ctx, CR_FD_TTY_INFO);
		ret = img ? pb_write_one(img, &info, PB_TTY_INFO) : -EIO;
		if (ret)
			return ret;
		side->info_written = true;
		side->info_id = info.id;
	}
	tfe->tty_info_id = side->info_id;
	tfe->has_regf_id = true;
	file_unlinked(ctx->tree, p, q.link, sizeof(q.link));
	return write_path_file(ctx, &q, q.link, fown, -1, &tfe->regf_id);
}

/* /dev/console, or a virtual terminal (tty1-tty63), as CRIU tells them */
static TtyType console_type(const struct stat *st)
{
	if (!S_ISCHR(st->st_mode))
		return TTY_TYPE__UNKNOWN;
	if (st->st_rdev == CONSOLE_RDEV)
		return TTY_TYPE__CONSOLE;
	if (major(st->st_rdev) == 4 && minor(st->st_rdev) >= 1 && minor(st->st_rdev) <= 63)
		return TTY_TYPE__VT;
	return TTY_TYPE__UNKNOWN;
}

/* A task of the tree whose controlling terminal rdev is, or NULL. */
static struct task_ctty *ctty_holder(const struct tty_dump *td, dev_t rdev)
{
	for (int i = 0; i < td->nr_cttys; i++)
		if (td->cttys[i].rdev == rdev)
			return &td->cttys[i];
	return NULL;
}

/*
 * An open of /dev/console or of a virtual terminal, dumped as CRIU does: its
 * tty-info.img entry (type CONSOLE or VT, CRIU's one id for each, the
 * device, its termios and window size as they were, the session it is the
 * controlling terminal of) and its path in a regular-file entry; restore
 * opens the path again and checks that it is the same device, and the
 * session leader's stub makes it its terminal again. The device is the
 * machine's, not the tree's: its termios are not set at restore. One
 * console and one vt (CRIU's one id each). With --shell-job, one that is a
 * task's controlling terminal is the shell job's terminal instead.
 */
static int console_dump(struct dump_files_ctx *ctx, const struct fd_parms *p, TtyType type, FownEntry *fown,
			TtyFileEntry *tfe)
{
	struct pty_term pt = { .te = TERMIOS_ENTRY__INIT, .lte = TERMIOS_ENTRY__INIT, .we = WINSIZE_ENTRY__INIT };
	TtyInfoEntry info = TTY_INFO_ENTRY__INIT;
	const char *what = type == TTY_TYPE__CONSOLE ? "console" : "virtual terminal";
	struct task_ctty *leader;
	char name[64];
	struct tty_dump *td;
	struct cr_img *img;
	dev_t *seen;
	int ret, mnt_id;

	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "the %s %u:%u", what, major(p->stat.st_rdev), minor(p->stat.st_rdev));
	ret = ctty_session(td, p->stat.st_rdev, name, &leader);
	if (ret)
		return ret;
	seen = type == TTY_TYPE__CONSOLE ? &td->console_rdev : &td->vt_rdev;
	if (*seen && *seen != p->stat.st_rdev)
		return pr_fail(-EOPNOTSUPP, "fd %d of task %d: a second %s (%s): only one is supported\n", p->fd,
			       p->item->pid, what, p->link);
	ret = mntns_file_mount(ctx->tree, p, &mnt_id);
	if (ret)
		return ret;
	if (!*seen) {
		info.id = type == TTY_TYPE__CONSOLE ? CONSOLE_INFO_ID : VT_INFO_ID;
		info.type = type;
		info.rdev = (uint32_t)p->stat.st_rdev;
		if (leader) {
			info.sid = leader->item->vsid;
			info.pgrp = leader->item->vpgid;
		}
		if (fill_term(p->lfd, &pt, &info))
			return pr_fail_errno("fd %d of task %d: can't read the termios of the %s %s", p->fd,
					     p->item->pid, what, p->link);
		img = dump_files_img(ctx, CR_FD_TTY_INFO);
		ret = img ? pb_write_one(img, &info, PB_TTY_INFO) : -EIO;
		if (ret)
			return ret;
		*seen = p->stat.st_rdev;
	}
	tfe->tty_info_id = type == TTY_TYPE__CONSOLE ? CONSOLE_INFO_ID : VT_INFO_ID;
	tfe->has_regf_id = true;
	return write_path_file(ctx, p, p->link, fown, mnt_id, &tfe->regf_id);
}

/* A console or vt that is not the shell job's terminal (a task's controlling terminal, with --shell-job). */
static int typed_console(struct dump_files_ctx *ctx, const struct fd_parms *p, TtyType *ret_type)
{
	struct tty_dump *td;
	int ret;

	*ret_type = console_type(&p->stat);
	if (*ret_type == TTY_TYPE__UNKNOWN || !opts.shell_job)
		return 0;
	ret = tty_dump_ready(ctx, &td);
	if (ret)
		return ret;
	if (ctty_holder(td, p->stat.st_rdev))
		*ret_type = TTY_TYPE__UNKNOWN;
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
	int ret, dev_tty;
	TtyType console;
	bool pair;

	ret = is_pair_side(ctx, p, &pair) ?: dev_tty_of_pair(ctx, p, &dev_tty) ?: typed_console(ctx, p, &console);
	if (!ret)
		ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	if (dev_tty >= 0)
		ret = dev_tty_dump(ctx, p, dev_tty, &fown, &tfe);
	else if (console != TTY_TYPE__UNKNOWN)
		ret = console_dump(ctx, p, console, &fown, &tfe);
	else if (hung_up(p))
		ret = hung_slave_dump(ctx, p, &fown, &tfe);
	else if (pair)
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
