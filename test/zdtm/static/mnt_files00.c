// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_files00: in a mount namespace of the test's own, files that restore
 * can't reopen by their name alone: unlinked files (one on a tmpfs, one on a
 * bind of a directory of the root's filesystem), a FIFO on the tmpfs with
 * data queued (a read-write and a read-only end), and an inotify with a
 * watch on a tmpfs directory and one on a file reached through the bind,
 * and a unix socket listening at a path on the tmpfs, with a connection.
 * After restore each unlinked file has its contents, no name, and is on the
 * mount it was on; the FIFO is the one at its path with its data; the
 * watches report with their wds what is done in the tmpfs directory and to
 * the file through the bind; the socket file is back on the tmpfs and a
 * new client reaches the listener by its path; the mount tree is the same,
 * in a namespace that is not criu's.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mntns.h"

#define GHOST_TMPFS "a ghost on the tmpfs"
#define GHOST_BIND "a ghost on the bind"
#define FIFO_DATA "queued in the fifo"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */

static void at(const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, rel);
}

/* an open file of rel holding text, whose name is then removed */
static int ghost(const char *rel, const char *text)
{
	char p[256];
	int fd;

	at(rel, p, sizeof(p));
	fd = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || unlink(p))
		return -1;
	return fd;
}

static long long mnt_id_of(int fd)
{
	long long v = -1;

	return fdinfo_get_long(fd, "mnt_id", &v) ? -1 : v;
}

/* the ghost: its text at 0, no link, named as before (deleted), on the mount of the directory dirfd */
static void check_ghost(int fd, const char *rel, const char *text, int dirfd)
{
	char p[256], self[64], link[300], want[300], buf[64] = "";
	struct stat st;
	ssize_t n;

	at(rel, p, sizeof(p));
	snprintf(want, sizeof(want), "%s (deleted)", p);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(link, want)))
		fail("the unlinked %s reads '%s', not '%s'", rel, n < 0 ? "?" : link, want);
	if (fstat(fd, &st) || st.st_nlink)
		fail("the unlinked %s has a link", rel);
	if (pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)strlen(text) || strcmp(buf, text))
		fail("the unlinked %s holds '%s'", rel, buf);
	if (mnt_id_of(fd) != mnt_id_of(dirfd))
		fail("the unlinked %s is on mount %lld, its directory on %lld", rel, mnt_id_of(fd), mnt_id_of(dirfd));
}

/* the next event of ifd is on wd, with mask (and name) */
static void expect_event(int ifd, int wd, unsigned int mask, const char *name)
{
	char buf[4096] __attribute__((aligned(8)));
	const struct inotify_event *ev = (const struct inotify_event *)buf;
	ssize_t n = read(ifd, buf, sizeof(buf));

	if (n < (ssize_t)sizeof(*ev)) {
		fail("no inotify event for wd %d", wd);
		return;
	}
	if (ev->wd != wd || !(ev->mask & mask) || (name && (!ev->len || strcmp(ev->name, name))))
		fail("inotify event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", ev->wd, ev->mask,
		     ev->len ? ev->name : "", wd, mask, name ?: "");
}

/* the listener's address: a path on the tmpfs */
static socklen_t sock_addr(struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/t/sock", dir) >= (int)sizeof(sa->sun_path))
		return 0;
	return sizeof(*sa);
}

int main(int argc, char **argv)
{
	char p[256], q[256], buf[64] = "", *before;
	int n;
	int g_tmpfs, g_bind, fifo_rw, fifo_rd, ifd, wd_dir, wd_file, tdir, bdir, fd, lsk, cli, srv;
	struct sockaddr_un sa;
	struct stat st, st2;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_files")) {
		fail("mkdtemp");
		return 1;
	}
	at("t", p, sizeof(p));
	at("src", q, sizeof(q));
	if (mkdir(p, 0755) || mount("zdtm-files", p, "tmpfs", 0, "size=1m") || mkdir(q, 0755)) {
		fail("tmpfs");
		return 1;
	}
	at("b", p, sizeof(p));
	if (mkdir(p, 0755) || mount(q, p, NULL, MS_BIND, NULL)) {
		fail("bind");
		return 1;
	}
	at("t/w", p, sizeof(p));
	at("b/f", q, sizeof(q));
	fd = open(q, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (mkdir(p, 0755) || fd < 0) {
		fail("the watched files");
		return 1;
	}
	close(fd);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	wd_dir = inotify_add_watch(ifd, p, IN_CREATE);
	wd_file = inotify_add_watch(ifd, q, IN_MODIFY);
	if (ifd < 0 || wd_dir < 0 || wd_file < 0) {
		fail("inotify");
		return 1;
	}
	at("t/fifo", p, sizeof(p));
	if (mkfifo(p, 0600) || (fifo_rw = open(p, O_RDWR | O_CLOEXEC)) < 0 ||
	    (fifo_rd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    write(fifo_rw, FIFO_DATA, strlen(FIFO_DATA)) != (ssize_t)strlen(FIFO_DATA)) {
		fail("fifo");
		return 1;
	}
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || cli < 0 || !sock_addr(&sa) || bind(lsk, (struct sockaddr *)&sa, sizeof(sa)) || listen(lsk, 4) ||
	    connect(cli, (struct sockaddr *)&sa, sizeof(sa)) || (srv = accept(lsk, NULL, NULL)) < 0) {
		fail("the unix socket on the tmpfs");
		return 1;
	}
	g_tmpfs = ghost("t/ghost", GHOST_TMPFS);
	g_bind = ghost("b/gone", GHOST_BIND);
	if (g_tmpfs < 0 || g_bind < 0) {
		fail("the unlinked files");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	at("t", p, sizeof(p));
	tdir = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	at("b", p, sizeof(p));
	bdir = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tdir < 0 || bdir < 0 || mnt_id_of(tdir) == mnt_id_of(bdir))
		fail("the tmpfs and the bind are not two mounts");
	check_ghost(g_tmpfs, "t/ghost", GHOST_TMPFS, tdir);
	check_ghost(g_bind, "b/gone", GHOST_BIND, bdir);

	at("t/fifo", p, sizeof(p));
	if (fstat(fifo_rd, &st) || stat(p, &st2) || st.st_ino != st2.st_ino || st.st_dev != st2.st_dev ||
	    !S_ISFIFO(st.st_mode))
		fail("the fifo's read end is not the fifo at t/fifo");
	if (read(fifo_rd, buf, sizeof(buf) - 1) != (ssize_t)strlen(FIFO_DATA) || strcmp(buf, FIFO_DATA))
		fail("the fifo holds '%s'", buf);
	if (write(fifo_rw, "x", 1) != 1 || read(fifo_rd, buf, 1) != 1 || buf[0] != 'x')
		fail("the fifo's ends are not one fifo");

	if (read(ifd, buf, sizeof(buf)) >= 0)
		fail("an inotify event is queued after restore");
	at("t/w/new", p, sizeof(p));
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("can't create t/w/new");
	else
		close(fd);
	expect_event(ifd, wd_dir, IN_CREATE, "new");
	at("b/f", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "m", 1) != 1)
		fail("can't write b/f");
	if (fd >= 0)
		close(fd);
	expect_event(ifd, wd_file, IN_MODIFY, NULL);

	sock_addr(&sa);
	if (stat(sa.sun_path, &st) || !S_ISSOCK(st.st_mode) || fstat(tdir, &st2) || st.st_dev != st2.st_dev)
		fail("t/sock is not a socket file on the tmpfs");
	if (write(cli, "ping", 4) != 4 || read(srv, buf, 4) != 4 || memcmp(buf, "ping", 4))
		fail("the connection to the listener on the tmpfs is broken");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || (n = accept(lsk, NULL, NULL)) < 0)
		fail("a new client can't reach the listener by its path on the tmpfs");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
