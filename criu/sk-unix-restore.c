// SPDX-License-Identifier: GPL-2.0
/*
 * Unix sockets, restore side (the dump is sk-unix.c).
 *
 * Restore: the first open() builds every unix socket of the image at once,
 * in the controller: socketpair() for pairs of unnamed sockets (and for a
 * connected socket whose peer had closed: the other end is closed once the
 * data is queued); socket() and bind() for the others, sockets whose file
 * was removed first, then listen(). A connection accepted from a listener
 * is made again by connecting the client to the restored listener and
 * accepting it; if the listener was closed, from a listener of that name
 * made for the occasion. Connected datagram sockets connect() to their
 * peer's name (a datagram socket may be its own peer); an unnamed datagram
 * socket with datagrams but no peer gets a socketpair() whose other end sends
 * them and closes; clients whose connection was not accepted connect last and
 * stay in their listener's queue. A stale socket file in the way of bind()
 * (the dumped socket's own, left when it was killed) is removed only if no
 * one listens on it. Then socket options, the queued data (sent again from
 * the peer, or with sendto() to the receiver's name), removed files removed
 * again, shutdowns last. When a queued message passes files, the queues and
 * shutdowns wait for the late hook, when every file of the image is open.
 *
 * A socket of one of the tree's network namespaces is made in it (the
 * controller joins it for the socket() and comes back), so all of them are
 * made once the tree exists; abstract names are told apart by namespace. In
 * a tree with its own mount namespace, the controller joins it while it
 * binds, connects and removes by name, so paths resolve as the tree sees
 * them.
 *
 * A queued datagram keeps its sender address: it is sent again from the
 * restored socket bound to that name, or from a socket of criu's bound to
 * it when it is an abstract name no one has.
 *
 * Not kept: the sender address of a datagram from a path-bound socket that
 * is gone (it comes from an unbound socket), the task's own SO_PEEK_OFF, a
 * datagram socket's connection to a peer that had closed (it comes back
 * unconnected), an empty datagram the task had already peeked at (the
 * kernel hides it from criu's peeks), the order of pending connections in
 * a listener's queue (they are connected again in fd order).
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/tcp.h>
#include <sched.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "mount.h"
#include "protobuf.h"
#include "sockets.h"
#include "syscalls.h"
#include "sk-unix.h"

#include "fdinfo.pb-c.h"
#include "sk-unix.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-unix: "

struct unix_sk_info {
	struct list_head list;
	UnixSkEntry *ue;
	struct file_desc *d;
	struct unix_sk_info *peer;
	const UnixSkEntry *ext_peer;	/* its peer is outside the tree (USK_EXTERN entry) */
	bool inherited;		/* --inherit-fd fd[N]:socket:[INO]: criu's fd N is this socket */
	int fd;			/* the restored socket until open() hands it out */
	int orphan_fd;		/* the other end of a pair whose peer had closed: closed after queueing */
	bool created;
	bool unlinked;		/* a removed socket file: removed again after restore */
	/*
	 * A removed socket file is bound at its name, then moved to this one
	 * (relative as the name is) at once, so that the name is free again
	 * (for another socket of the tree bound to it in turn, or the file
	 * made there since): connects and sends to the socket go there.
	 */
	char *moved;
	/* directories of a removed name that were removed too: made for bind(), removed after (deepest last) */
	char *made_dirs[16];
	int nr_made_dirs;
	struct unix_sk_info *via;	/* accepted from a listener that is gone: the client to connect from */
	uint32_t netns;			/* the dumped id of its network namespace, 0: criu's */
	struct list_head queue;	/* struct sk_packet */
	char who[48];
};

/* the unix sockets being restored, in the ctx (rst_files_state()) */
struct unix_rst {
	struct list_head sks;	/* struct unix_sk_info, in files.img order */
	struct list_head ext;	/* the sockets outside the tree (USK_EXTERN), never created */
	bool restored;		/* the first open() built them all */
	/* Some queued message passes files: queues and shutdowns wait for the late hook, when every file is open. */
	bool queues_deferred;
	/* a socket of the tree's network namespaces: all are made once the tree (and they) exist */
	bool after_tree;
};
static const char unix_rst_key;

static struct unix_rst *unix_rst(struct rst_ctx *ctx)
{
	struct unix_rst *st = rst_files_state(ctx, &unix_rst_key, sizeof(struct unix_rst));

	if (st && !st->sks.next) {
		INIT_LIST_HEAD(&st->sks);
		INIT_LIST_HEAD(&st->ext);
	}
	return st;
}

/* The restored socket: ours until open() hands it out, then the controller's copy. */
static int sk_fd(struct rst_ctx *ctx, const struct unix_sk_info *si)
{
	return si->fd >= 0 ? si->fd : file_desc_ctl_fd(ctx, si->d);
}

static struct unix_sk_info *find_by_ino(struct list_head *sks, uint32_t ino)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, sks, list)
		if (si->ue->ino == ino)
			return si;
	return NULL;
}

static struct unix_sk_info *find_by_id(struct list_head *sks, uint32_t id)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, sks, list)
		if (si->d->id == id)
			return si;
	return NULL;
}

static bool named(const struct unix_sk_info *si)
{
	return si->ue->name.len > 0;
}

/* The same name: an abstract name is one of a network namespace, a path is everyone's. */
static bool same_name(const struct unix_sk_info *a, const struct unix_sk_info *b)
{
	return a->ue->name.len == b->ue->name.len && !memcmp(a->ue->name.data, b->ue->name.data, a->ue->name.len) &&
	       (!a->ue->name.len || a->ue->name.data[0] || a->netns == b->netns);
}

static bool is_deleted(const UnixSkEntry *ue)
{
	return ue->has_deleted && ue->deleted && ue->name.len && ue->name.data[0];
}

/*
 * The listener whose name this socket carries: it came out of accept() on
 * it. An accepted socket shares its listener's file, so both have it or
 * both lost it (a listener whose file was removed may have a successor with
 * the same name).
 */
static struct unix_sk_info *listener_of(struct list_head *sks, const struct unix_sk_info *si)
{
	struct unix_sk_info *l;

	if (si->ue->type == SOCK_DGRAM || si->ue->state != TCP_ESTABLISHED || !named(si))
		return NULL;
	list_for_each_entry(l, sks, list)
		if (l->ue->state == TCP_LISTEN && l->ue->type == si->ue->type && same_name(l, si) &&
		    is_deleted(l->ue) == is_deleted(si->ue))
			return l;
	return NULL;
}

/*
 * A socket of one of the tree's network namespaces is made in it, which
 * exists once the tree does: then every unix socket is (restore_all() makes
 * them all at once, and a socket of criu's may be connected to one of them
 * by path).
 */
static int collect_netns(struct rst_ctx *ctx, struct unix_rst *st, struct unix_sk_info *si)
{
	const UnixSkEntry *ue = si->ue;
	struct unix_sk_info *x;

	if (ue->has_ns_id && ue->ns_id && ue->ns_id != ctx->dump_criu_ns_id[NS_NET]) {
		if (!rst_ns_of_tree(ctx, NS_NET, ue->ns_id))
			return pr_fail(-EINVAL, "files.img: %s is in network namespace %u, which is neither criu's (%u) "
						"nor a task's of the tree\n",
				       si->who, ue->ns_id, ctx->dump_criu_ns_id[NS_NET]);
		si->netns = ue->ns_id;
		if (!st->after_tree)
			list_for_each_entry(x, &st->sks, list)
				x->d->stage = FILE_OPEN_AFTER_TREE;
		st->after_tree = true;
	}
	if (st->after_tree)
		si->d->stage = FILE_OPEN_AFTER_TREE;
	return 0;
}

/*
 * A path name from an image (and its directory, for a relative one) must
 * name a place as the dump saw it: an absolute directory and no empty,
 * "." or ".." component, so that a hostile image can't make criu bind or
 * connect (as root) outside where the task was. Abstract names (a leading
 * NUL) are not paths.
 */
static int check_name(const UnixSkEntry *ue)
{
	char name[UNIX_NAME_MAX + 2];
	size_t len;

	if (!ue->name.len || !ue->name.data[0])
		return 0;
	len = strnlen((const char *)ue->name.data, ue->name.len);
	if (ue->name_dir && img_path_check(ue->name_dir))
		return -EINVAL;
	if (ue->name.data[0] == '/') {
		memcpy(name, ue->name.data, len);
		name[len] = '\0';
		return img_path_check(name);
	}
	/* a relative name: in its directory only (not criu's), and checked as a path below "/" */
	if (!ue->name_dir)
		return -EINVAL;
	name[0] = '/';
	memcpy(name + 1, ue->name.data, len);
	name[len + 1] = '\0';
	return img_path_check(name);
}

int unix_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	struct unix_rst *st = unix_rst(ctx);
	struct unix_sk_info *si;
	UnixSkEntry *ue = d->fe->usk;

	if (!ue || !ue->opts || !ue->fown)
		return pr_fail(-EINVAL, "files.img: unix socket %u has no socket entry\n", d->id);
	if (ue->name.len > (size_t)UNIX_NAME_MAX ||
	    (ue->name.len == (size_t)UNIX_NAME_MAX && ue->name.data[0] && !memchr(ue->name.data, 0, ue->name.len)))
		return pr_fail(-EINVAL, "files.img: unix socket %u has a %zu-byte name\n", d->id, ue->name.len);
	if (check_name(ue))
		return pr_fail(-EINVAL, "files.img: unix socket %u has the name '%.*s' in '%s': a name with an empty, "
					    "'.' or '..' component, or a relative directory, is refused\n",
			       d->id, (int)strnlen((const char *)ue->name.data, ue->name.len), ue->name.data,
			       ue->name_dir ?: "");
	/* a datagram socket may connect() to its own name; nothing else is its own peer */
	if (ue->peer && ue->peer == ue->ino && (ue->type != SOCK_DGRAM || !ue->name.len))
		return pr_fail(-EINVAL, "files.img: unix socket %u is its own peer\n", d->id);
	si = st ? xzalloc(sizeof(*si)) : NULL;
	if (!si)
		return -ENOMEM;
	si->ue = ue;
	si->d = d;
	si->fd = si->orphan_fd = -1;
	INIT_LIST_HEAD(&si->queue);
	snprintf(si->who, sizeof(si->who), "unix socket %u (file %u)", ue->ino, d->id);
	if (ue->uflags & ~USK_EXTERN) {
		free(si);
		return pr_fail(-EOPNOTSUPP, "files.img: unix socket %u has flags %#x (CRIU's plugin or inherited "
					    "sockets): not supported\n", ue->ino, ue->uflags);
	}
	list_add_tail(&si->list, ue->uflags & USK_EXTERN ? &st->ext : &st->sks);
	d->priv = si;
	return collect_netns(ctx, st, si);
}

static int add_packet(uint32_t id, struct sk_packet *pkt, void *arg)
{
	struct unix_sk_info *si = find_by_id(arg, id);

	if (!si)
		return pr_fail(-EINVAL, "sk-queues.img: a packet for file %u, which is no unix socket\n", id);
	list_add_tail(&pkt->list, &si->queue);
	return 0;
}

static int resolve_peers(struct unix_rst *st)
{
	struct unix_sk_info *si, *ext;

	list_for_each_entry(si, &st->sks, list) {
		if (!si->ue->peer)
			continue;
		si->peer = find_by_ino(&st->sks, si->ue->peer);
		ext = si->peer ? NULL : find_by_ino(&st->ext, si->ue->peer);
		if (ext) {
			si->ext_peer = ext->ue;
			continue;
		}
		if (!si->peer)
			return pr_fail(-EINVAL, "%s: its peer, socket %u, is not in the image\n", si->who,
				       si->ue->peer);
	}
	return 0;
}

/* --inherit-fd fd[N]:socket:[INO]: the socket is a copy of criu's fd N, as it is (CRIU's key). */
static int take_inherited(struct list_head *sks)
{
	struct unix_sk_info *si;
	char key[32];
	int fd;

	list_for_each_entry(si, sks, list) {
		snprintf(key, sizeof(key), "socket:[%u]", si->ue->ino);
		fd = inherit_fd_lookup(key);
		if (fd < 0)
			continue;
		si->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (si->fd < 0)
			return pr_fail_errno("%s: --inherit-fd fd[%d]:%s is not an open fd", si->who, fd, key);
		si->created = si->inherited = true;
		sk_queue_free(&si->queue);
		pr_info("%s: criu's fd %d (--inherit-fd)\n", si->who, fd);
	}
	return 0;
}

/*
 * Sockets whose peer is outside the tree and not inherited: a datagram
 * socket connects to its peer's name again (connect_all()), with
 * --ext-unix-sk as CRIU asks; anything else can't be made again.
 */
static int check_ext_peers(struct list_head *sks)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, sks, list) {
		if (!si->ext_peer || si->inherited)
			continue;
		if (si->ue->type != SOCK_DGRAM || !si->ext_peer->name.len)
			return pr_fail(-EOPNOTSUPP,
				       "%s was connected to socket %u outside the tree: give it with --inherit-fd "
				       "fd[N]:socket:[%u]\n",
				       si->who, si->ext_peer->ino, si->ue->ino);
		if (!opts.ext_unix_sk)
			return pr_fail(-EOPNOTSUPP,
				       "%s was connected to socket %u outside the tree: --ext-unix-sk connects it to "
				       "that socket's name again\n",
				       si->who, si->ext_peer->ino);
		if (!list_empty(&si->queue))
			return pr_fail(-EOPNOTSUPP,
				       "%s has datagrams queued from socket %u outside the tree: criu can't send them "
				       "from there\n",
				       si->who, si->ext_peer->ino);
	}
	return 0;
}

/* sockaddr_un of an image name (path or abstract); returns the address length. */
static socklen_t make_addr(const UnixSkEntry *ue, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, ue->name.data, ue->name.len);
	return offsetof(struct sockaddr_un, sun_path) + ue->name.len;
}

/*
 * Run fn in the name's mount namespace and in name_dir, for a relative name
 * (bind, connect), and come back. ctx: the controller is in the tree's
 * namespaces (mntns_visit(), in unix_open() and unix_late()), and a name is
 * the namespace's of the task that bound it (UnixSkEntry.mnt_id, a mount of
 * it), gone into for fn; NULL: no visit, the name is taken where criu is.
 * alt: the path the socket file of ue was moved to, instead of its name.
 */
static int in_name_dir(struct rst_ctx *ctx, const UnixSkEntry *ue, const char *alt,
		       int (*fn)(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg), int fd, const char *who,
		       void *arg)
{
	_cleanup_close_ int here = -1;
	struct sockaddr_un sa;
	socklen_t len = make_addr(ue, &sa);
	int moved = 0, ret;

	if (alt) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", alt);
		len = offsetof(struct sockaddr_un, sun_path) + strlen(alt) + 1;
	}

	if (ue->name.data[0] && ctx && ue->has_mnt_id) {
		here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		moved = here < 0 ? -errno : mntns_visit_mount(ctx, ue->mnt_id);
		if (moved < 0)
			return moved;
	}
	if (ue->name_dir && ue->name.data[0]) {
		if (here < 0)
			here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (here < 0 || chdir(ue->name_dir))
			ret = pr_fail_errno("%s: can't go to %s", who, ue->name_dir);
		else
			ret = fn(fd, &sa, len, arg);
	} else {
		ret = fn(fd, &sa, len, arg);
	}
	if (moved > 0 && mntns_visit_mount_end(ctx))
		return -EIO;	/* logged */
	if (here >= 0 && fchdir(here))
		return pr_fail_errno("can't come back to criu's cwd");
	return ret;
}

static int do_connect(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	return connect(fd, (const struct sockaddr *)sa, len) ? -errno : 0;
}

/*
 * A socket file left at the path by the dumped (now gone) socket: remove it
 * only when it is a socket nobody listens on (connect says ECONNREFUSED), so
 * a live socket of someone else is never taken over.
 */
static int remove_stale(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	_cleanup_close_ int probe = -1;
	int type = SOCK_STREAM, ret;
	socklen_t olen = sizeof(type);
	struct stat st;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen);
	probe = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return -errno;
	ret = connect(probe, (const struct sockaddr *)sa, len) ? -errno : 0;
	if (ret != -ECONNREFUSED)
		return -EADDRINUSE;
	return unlink(sa->sun_path) ? -errno : 0;
}

/* arg: the socket file's mode and owner, set once bound (NULL: none) */
static int do_bind(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	const FilePermsEntry *perms = arg;
	int ret = 0;

	if (bind(fd, (const struct sockaddr *)sa, len)) {
		if (errno != EADDRINUSE || !sa->sun_path[0])
			return -errno;
		ret = remove_stale(fd, sa, len, NULL);
		if (!ret && bind(fd, (const struct sockaddr *)sa, len))
			ret = -errno;
	}
	if (!ret && perms &&
	    (fchmodat(AT_FDCWD, sa->sun_path, perms->mode, 0) ||
	     fchownat(AT_FDCWD, sa->sun_path, perms->uid, perms->gid, AT_SYMLINK_NOFOLLOW)))
		ret = -errno;
	return ret;
}

static int do_unlink(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	return unlink(sa->sun_path) && errno != ENOENT ? -errno : 0;
}

/* The socket file of a path name, for messages and chmod (name_dir + relative name). */
static void name_file(const UnixSkEntry *ue, char *file, size_t size)
{
	bool path = ue->name.data[0] != '\0', rel = path && ue->name_dir && ue->name.data[0] != '/';

	snprintf(file, size, "%s%s%.*s", rel ? ue->name_dir : "", rel ? "/" : "", (int)ue->name.len,
		 path ? (char *)ue->name.data : "");
}

/* bind() fd to the name of ue, with the socket file's mode and owner. */
static int bind_name(struct rst_ctx *ctx, int fd, const UnixSkEntry *ue, const char *who)
{
	bool path = ue->name.data[0] != '\0';
	char file[PATH_MAX];
	int ret;

	name_file(ue, file, sizeof(file));
	ret = in_name_dir(ctx, ue, NULL, do_bind, fd, who, path ? ue->file_perms : NULL);
	if (ret)
		return pr_fail(ret, "%s: can't bind to %s%s (or set its mode and owner): %s\n", who,
			       path ? "" : "an abstract name", file, strerror(-ret));
	return 0;
}

/* The file of a socket whose file had been removed: it goes once nothing needs to connect to it. */
static int unlink_deleted(struct rst_ctx *ctx, struct unix_sk_info *si)
{
	char file[PATH_MAX];
	int ret;

	if (!is_deleted(si->ue) || si->unlinked)
		return 0;
	si->unlinked = true;
	ret = in_name_dir(ctx, si->ue, si->moved, do_unlink, -1, si->who, NULL);
	if (ret) {
		name_file(si->ue, file, sizeof(file));
		return pr_fail(ret, "%s: can't remove %s again: %s\n", si->who, file, strerror(-ret));
	}
	return 0;
}

/* A socket bound to a removed file that has the same name as si's frees the name first. */
static int free_name_for(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	struct unix_sk_info *x;
	int ret;

	list_for_each_entry(x, sks, list) {
		if (x != si && x->created && is_deleted(x->ue) && !x->moved && same_name(x, si) &&
		    !!x->ue->name_dir == !!si->ue->name_dir &&
		    (!x->ue->name_dir || !strcmp(x->ue->name_dir, si->ue->name_dir))) {
			ret = unlink_deleted(ctx, x);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* in_name_dir() callback: make the missing directories of the name's path (arg: the socket) */
static int do_make_dirs(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	struct unix_sk_info *si = arg;
	char path[sizeof(sa->sun_path) + 1];
	char *c = path;

	snprintf(path, sizeof(path), "%s", sa->sun_path);
	while ((c = strchr(c + 1, '/'))) {
		*c = '\0';
		if (mkdir(path, 0700)) {
			if (errno != EEXIST)
				return -errno;
		} else {
			if (si->nr_made_dirs == ARRAY_SIZE(si->made_dirs)) {
				rmdir(path);
				return -ENAMETOOLONG;
			}
			si->made_dirs[si->nr_made_dirs] = strdup(path);
			if (!si->made_dirs[si->nr_made_dirs]) {
				rmdir(path);
				return -ENOMEM;
			}
			si->nr_made_dirs++;
		}
		*c = '/';
	}
	return 0;
}

/* in_name_dir() callback: remove the directories do_make_dirs() made, deepest first */
static int do_remove_dirs(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	struct unix_sk_info *si = arg;
	int ret = 0;

	while (si->nr_made_dirs) {
		char *d = si->made_dirs[--si->nr_made_dirs];

		if (rmdir(d) && errno != ENOENT && !ret)
			ret = -errno;
		free(d);
	}
	return ret;
}

/*
 * A socket whose file was removed, and its directory too: the directories
 * are made again for bind() and removed with the file (unlink_deleted()).
 */
static int make_name_dirs(struct rst_ctx *ctx, struct unix_sk_info *si)
{
	int ret;

	if (!is_deleted(si->ue))
		return 0;
	ret = in_name_dir(ctx, si->ue, NULL, do_make_dirs, -1, si->who, si);
	if (ret)
		return pr_fail(ret, "%s: can't make the removed directories of its name again: %s\n", si->who,
			       strerror(-ret));
	if (si->nr_made_dirs)
		pr_debug("%s: %d removed directories of its name made for bind()\n", si->who, si->nr_made_dirs);
	return 0;
}

struct bind_moved_arg {
	struct unix_sk_info *si;
	char moved[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* name's directory part (with its '/') and a name of ours in it, into buf: 0, or -ENAMETOOLONG for sun_path. */
static int name_beside(const char *name, const char *fmt, uint32_t ino, unsigned int n, char *buf, size_t size)
{
	const char *slash = strrchr(name, '/');
	int dir = slash ? (int)(slash - name + 1) : 0;
	char base[48];

	snprintf(base, sizeof(base), fmt, ino, n);
	if (dir + strlen(base) >= size)
		return -ENAMETOOLONG;
	snprintf(buf, size, "%.*s%s", dir, name, base);
	return 0;
}

/*
 * in_name_dir() callback for a removed socket file: bind() at the name (a
 * file there now is moved aside for the moment and put back), the dumped
 * mode and owner, then the socket file moved to a name of criu's beside it.
 */
static int do_bind_moved(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	struct bind_moved_arg *a = arg;
	const UnixSkEntry *ue = a->si->ue;
	char park[sizeof(sa->sun_path)];
	bool parked = false, bound = false;
	struct stat st;
	int ret = 0;

	if (!lstat(sa->sun_path, &st)) {
		ret = name_beside(sa->sun_path, ".criu-sk-park.%x.%u", ue->ino, 0, park, sizeof(park));
		if (ret || renameat2(AT_FDCWD, sa->sun_path, AT_FDCWD, park, RENAME_NOREPLACE))
			return ret ?: -errno;
		parked = true;
	}
	if (bind(fd, (const struct sockaddr *)sa, len))
		ret = -errno;
	else
		bound = true;
	if (!ret && ue->file_perms &&
	    (fchmodat(AT_FDCWD, sa->sun_path, ue->file_perms->mode, 0) ||
	     fchownat(AT_FDCWD, sa->sun_path, ue->file_perms->uid, ue->file_perms->gid, AT_SYMLINK_NOFOLLOW)))
		ret = -errno;
	for (unsigned int n = 0; !ret; n++) {
		ret = name_beside(sa->sun_path, ".criu-sk.%x.%u", ue->ino, n, a->moved, sizeof(a->moved));
		if (ret)
			break;
		if (!renameat2(AT_FDCWD, sa->sun_path, AT_FDCWD, a->moved, RENAME_NOREPLACE))
			break;
		ret = errno == EEXIST && n < 100 ? 0 : -errno;
	}
	if (ret && bound)
		unlink(sa->sun_path);	/* bound, not moved: the name is given up */
	if (parked && renameat2(AT_FDCWD, park, AT_FDCWD, sa->sun_path, RENAME_NOREPLACE)) {
		pr_perror("the file at %s was moved to %s for a bind() and can't be put back", sa->sun_path, park);
		ret = ret ?: -EIO;
	}
	return ret;
}

/* A socket whose file was removed: bound to its name, its file moved aside at once (si->moved). */
static int bind_deleted(struct rst_ctx *ctx, struct unix_sk_info *si, int fd)
{
	struct bind_moved_arg a = { .si = si };
	char file[PATH_MAX];
	int ret;

	ret = make_name_dirs(ctx, si);
	if (ret)
		return ret;
	ret = in_name_dir(ctx, si->ue, NULL, do_bind_moved, fd, si->who, &a);
	if (ret) {
		name_file(si->ue, file, sizeof(file));
		return pr_fail(ret, "%s: can't bind to %s (its socket file was removed) and move the file aside: %s\n",
			       si->who, file, strerror(-ret));
	}
	si->moved = xstrdup(a.moved);
	if (!si->moved)
		return -ENOMEM;
	pr_debug("%s: bound, its socket file moved to %s\n", si->who, si->moved);
	return 0;
}

static int bind_one(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	int ret;

	if (is_deleted(si->ue))
		return bind_deleted(ctx, si, si->fd);
	ret = free_name_for(ctx, sks, si);
	return ret ?: bind_name(ctx, si->fd, si->ue, si->who);
}

/*
 * socket() (ret_peer NULL) or socketpair() of type (with SOCK_* flags) in the
 * network namespace netns (0: criu's): the controller joins it through a
 * pidfd of the task that made it and comes back (if it can't, the restore
 * stops: its next sockets would be made in the tree's namespace). A socket
 * binds and connects to abstract names in its own namespace, wherever criu is.
 */
static int new_socket(struct rst_ctx *ctx, uint32_t netns, int type, int *ret_fd, int *ret_peer, const char *who)
{
	_cleanup_close_ int back = -1, to = -1;
	int sv[2] = { -1, -1 }, err = 0;

	if (netns) {
		back = openat(ctx->proc_fd, "self/ns/net", O_RDONLY | O_CLOEXEC);
		if (back < 0)
			return pr_fail_errno("%s: can't open criu's network namespace", who);
		to = rst_ns_fd(ctx, NS_NET, netns);
		if (to < 0)
			return to == -ENOENT ? pr_fail(to, "%s: no task made its network namespace %u\n", who, netns) : to;
		if (setns(to, CLONE_NEWNET))
			return pr_fail_errno("%s: can't join its network namespace %u", who, netns);
	}
	if (ret_peer)
		err = socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) ? -errno : 0;
	else
		err = (sv[0] = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0 ? -errno : 0;
	if (back >= 0 && setns(back, CLONE_NEWNET)) {
		err = pr_fail_errno("%s: can't go back to criu's network namespace", who);
		closep(&sv[0]);
		closep(&sv[1]);
		return err;
	}
	if (err)
		return pr_fail(err, "%s: %s: %s\n", who, ret_peer ? "socketpair" : "socket", strerror(-err));
	*ret_fd = sv[0];
	if (ret_peer)
		*ret_peer = sv[1];
	return 0;
}

static int make_pair(struct rst_ctx *ctx, struct unix_sk_info *a, struct unix_sk_info *b)
{
	int sv[2], ret;

	if (b && b->netns != a->netns)
		return pr_fail(-EINVAL, "files.img: %s and its peer %s are in different network namespaces\n", a->who,
			       b->who);
	ret = new_socket(ctx, a->netns, a->ue->type, &sv[0], &sv[1], a->who);
	if (ret)
		return ret;
	a->fd = sv[0];
	a->created = true;
	if (b) {
		b->fd = sv[1];
		b->created = true;
	} else {
		a->orphan_fd = sv[1];	/* the peer had closed: it goes once the data is queued */
	}
	return 0;
}

/*
 * An unnamed datagram socket with no peer in the image gets datagrams only
 * from a socketpair() peer (no one can connect to it), which had closed:
 * it is made with a socketpair too, the other end of which sends the
 * datagrams again and closes.
 */
static bool orphan_dgram(const struct unix_sk_info *si)
{
	return si->ue->type == SOCK_DGRAM && !si->peer && !named(si) && !list_empty(&si->queue);
}

/* Pairs of unnamed connected sockets, and sockets whose peer had closed. */
static int create_pairs(struct rst_ctx *ctx, struct list_head *sks)
{
	struct unix_sk_info *si;
	int ret;

	list_for_each_entry(si, sks, list) {
		struct unix_sk_info *p = si->peer;

		if (!si->created && orphan_dgram(si)) {
			ret = make_pair(ctx, si, NULL);
			if (ret)
				return ret;
			continue;
		}
		if (si->created || si->ue->state != TCP_ESTABLISHED)
			continue;
		/*
		 * A datagram socket someone connect()ed to is "established" too,
		 * without a peer of its own: it is created as a plain socket.
		 */
		if (si->ext_peer)
			continue;
		if (!p && si->ue->type != SOCK_DGRAM) {
			ret = make_pair(ctx, si, NULL);
		} else if (p && p->peer == si && !named(si) && !named(p)) {
			if (p->ue->type != si->ue->type)
				return pr_fail(-EINVAL, "%s and its peer have different types\n", si->who);
			ret = make_pair(ctx, si, p);
		} else {
			continue;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int create_one(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	int ret;

	/* listeners accept without waiting while criu restores; set_flags_one() sets the dumped flags */
	ret = new_socket(ctx, si->netns, si->ue->type | (si->ue->state == TCP_LISTEN ? SOCK_NONBLOCK : 0), &si->fd,
			 NULL, si->who);
	if (ret)
		return ret;
	si->created = true;
	if (named(si)) {
		ret = bind_one(ctx, sks, si);
		if (ret)
			return ret;
	}
	if (si->ue->state == TCP_LISTEN && listen(si->fd, si->ue->backlog))
		return pr_fail_errno("%s: listen", si->who);
	return 0;
}

/* Everything else that is not accepted from a listener: socket(), bind(), listen(). */
static int create_others(struct rst_ctx *ctx, struct list_head *sks)
{
	struct unix_sk_info *si;
	int ret;

	/* sockets whose file was removed first: a live socket may have its name since */
	for (int pass = 0; pass < 2; pass++)
		list_for_each_entry(si, sks, list) {
			if (si->created || listener_of(sks, si) || si->via || is_deleted(si->ue) != !pass)
				continue;
			ret = create_one(ctx, sks, si);
			if (ret)
				return ret;
		}
	return 0;
}

/* An accepted socket: connect its peer to the restored listener and accept. */
static int connect_accepted(struct rst_ctx *ctx, struct unix_sk_info *si, struct unix_sk_info *l)
{
	struct unix_sk_info *c = si->peer;
	int ret;

	if (!c || c->peer != si || !c->created || c->ue->state != TCP_ESTABLISHED)
		return pr_fail(-EOPNOTSUPP, "%s: an accepted connection whose client is not in the image\n", si->who);
	ret = in_name_dir(ctx, l->ue, l->moved, do_connect, c->fd, c->who, NULL);
	if (ret)
		return pr_fail(ret, "%s: can't connect to its listener %s: %s\n", c->who, l->who, strerror(-ret));
	si->fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	if (si->fd < 0)
		return pr_fail_errno("%s: accept on %s", si->who, l->who);
	si->created = true;
	return 0;
}

/*
 * Connected stream/seqpacket pairs with a name but no listener of that name
 * in the image: the listener was closed after accept(). The named end is
 * accepted from a listener of its own name made for the occasion.
 */
static void find_lost_listeners(struct list_head *sks)
{
	struct unix_sk_info *si, *p, *acc;

	list_for_each_entry(si, sks, list) {
		p = si->peer;
		if (si->created || si->via || si->ue->type == SOCK_DGRAM || si->ue->state != TCP_ESTABLISHED || !p ||
		    p->peer != si || p->via || (!named(si) && !named(p)) || listener_of(sks, si) || listener_of(sks, p))
			continue;
		acc = named(si) ? si : p;
		acc->via = acc == si ? p : si;
	}
}

static int connect_via_temp_listener(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	struct unix_sk_info *c = si->via;
	_cleanup_close_ int tmp = -1;
	int ret;

	if (!c->created)
		return pr_fail(-EINVAL, "%s: its client %s was not created\n", si->who, c->who);
	ret = new_socket(ctx, si->netns, si->ue->type | SOCK_NONBLOCK, &tmp, NULL, si->who);
	if (ret)
		return ret;
	if (is_deleted(si->ue))
		ret = bind_deleted(ctx, si, tmp);
	else
		ret = free_name_for(ctx, sks, si) ?: bind_name(ctx, tmp, si->ue, si->who);
	if (ret)
		return ret;
	if (listen(tmp, 1))
		return pr_fail_errno("%s: listen", si->who);
	ret = in_name_dir(ctx, si->ue, si->moved, do_connect, c->fd, c->who, NULL);
	if (ret)
		return pr_fail(ret, "%s: can't connect to a listener for %s: %s\n", c->who, si->who, strerror(-ret));
	si->fd = accept4(tmp, NULL, NULL, SOCK_CLOEXEC);
	if (si->fd < 0)
		return pr_fail_errno("%s: accept", si->who);
	si->created = true;
	pr_debug("%s: accepted from a listener made for it (the dumped one was closed)\n", si->who);
	return 0;
}

/* Connections between named sockets. */
static int connect_all(struct rst_ctx *ctx, struct list_head *sks)
{
	struct unix_sk_info *si, *l;
	int ret;

	list_for_each_entry(si, sks, list) {
		l = listener_of(sks, si);
		ret = 0;
		if (!si->created && l)
			ret = connect_accepted(ctx, si, l);
		else if (!si->created && si->via)
			ret = connect_via_temp_listener(ctx, sks, si);
		if (ret)
			return ret;
	}
	list_for_each_entry(si, sks, list) {
		struct unix_sk_info *p = si->peer;

		if (si->ext_peer && !si->inherited) {
			ret = in_name_dir(ctx, si->ext_peer, NULL, do_connect, si->fd, si->who, NULL);
			if (ret)
				return pr_fail(ret, "%s: can't connect to socket %u outside the tree: %s\n", si->who,
					       si->ext_peer->ino, strerror(-ret));
			continue;
		}
		if (si->inherited || si->ue->type != SOCK_DGRAM || !p || (p->peer == si && !named(si) && !named(p)))
			continue;
		if (!named(p))
			return pr_fail(-EOPNOTSUPP, "%s: connected to %s, which has no name to connect to\n", si->who,
				       p->who);
		ret = in_name_dir(ctx, p->ue, p->moved, do_connect, si->fd, si->who, NULL);
		if (ret)
			return pr_fail(ret, "%s: can't connect to %s: %s\n", si->who, p->who, strerror(-ret));
	}
	/* connections not accepted yet, after every accept() above: they stay in their listener's queue */
	list_for_each_entry(si, sks, list) {
		struct unix_sk_info *l = si->peer;

		if (si->ue->type == SOCK_DGRAM || !l || l->ue->state != TCP_LISTEN)
			continue;
		if (l->ue->type != si->ue->type || !named(l))
			return pr_fail(-EINVAL, "%s: pending on %s, which it can't connect to\n", si->who, l->who);
		ret = in_name_dir(ctx, l->ue, l->moved, do_connect, si->fd, si->who, NULL);
		if (ret)
			return pr_fail(ret, "%s: can't connect to %s: %s\n", si->who, l->who, strerror(-ret));
		pr_debug("%s: connected to %s, not accepted\n", si->who, l->who);
	}
	list_for_each_entry(si, sks, list)
		if (!si->created)
			return pr_fail(-EOPNOTSUPP, "%s: criu can't tell how to create this socket\n", si->who);
	return 0;
}

static int set_int_opt(int fd, int opt, int v)
{
	return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) ? -errno : 0;
}

static int restore_opts(struct unix_sk_info *si)
{
	const SkOptsEntry *o = si->ue->opts;
	struct timeval tv;
	int ret;

	/* the kernel doubles what it is given: give half of what it reported */
	if (set_int_opt(si->fd, SO_SNDBUFFORCE, o->so_sndbuf / 2))
		set_int_opt(si->fd, SO_SNDBUF, o->so_sndbuf / 2);
	if (set_int_opt(si->fd, SO_RCVBUFFORCE, o->so_rcvbuf / 2))
		set_int_opt(si->fd, SO_RCVBUF, o->so_rcvbuf / 2);
	tv = (struct timeval){ .tv_sec = o->so_snd_tmo_sec, .tv_usec = o->so_snd_tmo_usec };
	ret = setsockopt(si->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ? -errno : 0;
	tv = (struct timeval){ .tv_sec = o->so_rcv_tmo_sec, .tv_usec = o->so_rcv_tmo_usec };
	if (!ret && setsockopt(si->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		ret = -errno;
	if (!ret && o->has_so_passcred && o->so_passcred)
		ret = set_int_opt(si->fd, SO_PASSCRED, 1);
	if (!ret && o->has_so_passsec && o->so_passsec)
		ret = set_int_opt(si->fd, SO_PASSSEC, 1);
	if (!ret && o->has_so_priority && o->so_priority)
		ret = set_int_opt(si->fd, SO_PRIORITY, o->so_priority);
	if (!ret && o->has_so_rcvlowat && o->so_rcvlowat > 1)
		ret = set_int_opt(si->fd, SO_RCVLOWAT, o->so_rcvlowat);
	if (!ret && o->has_so_mark && o->so_mark)
		ret = set_int_opt(si->fd, SO_MARK, o->so_mark);
	if (ret)
		return pr_fail(ret, "%s: can't restore the socket options: %s\n", si->who, strerror(-ret));
	return 0;
}

/* What do_sendto() sends, and for whom. */
struct sendto_arg {
	struct rst_ctx *ctx;
	struct list_head *queue;
	const char *who;
};

/* in_name_dir() callback: send the queue from fd to the receiver's name */
static int do_sendto(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	struct sendto_arg *a = arg;

	return sk_queue_restore(a->ctx, fd, a->queue, sa, len, a->who);
}

static int send_to_name(struct rst_ctx *ctx, int fd, struct unix_sk_info *si, struct list_head *queue)
{
	struct sendto_arg a = { ctx, queue, si->who };

	return in_name_dir(ctx, si->ue, si->moved, do_sendto, fd, si->who, &a);
}

/* The restored datagram socket bound to the sender address of pkt, if the image has it. */
static struct unix_sk_info *named_sender(struct list_head *sks, const struct unix_sk_info *si,
					 const struct sk_packet *pkt)
{
	size_t len = pkt->addr_len - offsetof(struct sockaddr_un, sun_path);
	struct unix_sk_info *x;

	/* an abstract name is one of the receiver's namespace */
	list_for_each_entry(x, sks, list)
		if (x->created && x->ue->type == SOCK_DGRAM && x->ue->name.len == len &&
		    !memcmp(x->ue->name.data, pkt->addr.sun_path, len) && (pkt->addr.sun_path[0] || x->netns == si->netns))
			return x;
	return NULL;
}

/* An unnamed socket connected to si: what it sent has no sender address. */
static struct unix_sk_info *anon_sender(struct list_head *sks, struct unix_sk_info *si)
{
	struct unix_sk_info *x;

	list_for_each_entry(x, sks, list)
		if (x->peer == si && !named(x))
			return x;
	return NULL;
}

/*
 * One datagram for si, which is connected to no one: sent from the socket
 * bound to its sender's address when the image has it, else from a socket
 * of our own (bound to the sender's abstract name if it is free), so that
 * recvfrom() tells the same sender.
 */
static int requeue_dgram_one(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si,
			     struct list_head *one, const struct sk_packet *pkt)
{
	struct unix_sk_info *snd = pkt->addr_len ? named_sender(sks, si, pkt) : anon_sender(sks, si);
	_cleanup_close_ int tmp = -1;
	int ret;

	if (snd && snd->peer == si)
		return sk_queue_restore(ctx, sk_fd(ctx, snd), one, NULL, 0, si->who);
	if (!named(si))
		return pr_fail(-EOPNOTSUPP, "%s: has queued datagrams but no name to send them to\n", si->who);
	if (snd)
		return send_to_name(ctx, sk_fd(ctx, snd), si, one);
	/* in the receiver's namespace: the sender's abstract name is one of it */
	ret = new_socket(ctx, si->netns, SOCK_DGRAM, &tmp, NULL, si->who);
	if (ret)
		return ret;
	if (pkt->addr_len && !pkt->addr.sun_path[0] && bind(tmp, (const struct sockaddr *)&pkt->addr, pkt->addr_len))
		pr_debug("%s: the abstract name of a sender is taken: its datagram goes without it\n", si->who);
	return send_to_name(ctx, tmp, si, one);
}

static int requeue_dgrams(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	struct sk_packet *pkt, *tmp;
	int ret;

	list_for_each_entry_safe(pkt, tmp, &si->queue, list) {
		LIST_HEAD(one);

		list_del(&pkt->list);
		list_add_tail(&pkt->list, &one);
		ret = requeue_dgram_one(ctx, sks, si, &one, pkt);
		if (ret)
			return ret;
	}
	return 0;
}

static int requeue_one(struct rst_ctx *ctx, struct list_head *sks, struct unix_sk_info *si)
{
	struct unix_sk_info *p = si->peer;

	if (list_empty(&si->queue))
		return 0;
	if (si->orphan_fd >= 0)
		return sk_queue_restore(ctx, si->orphan_fd, &si->queue, NULL, 0, si->who);
	if (si->ue->type == SOCK_DGRAM && !p)
		return requeue_dgrams(ctx, sks, si);
	if (!p)
		return pr_fail(-EOPNOTSUPP, "%s: has queued data but nothing to send it from\n", si->who);
	/* a connected socket takes data from its peer only */
	if (p->peer == si)
		return sk_queue_restore(ctx, sk_fd(ctx, p), &si->queue, NULL, 0, si->who);
	if (!named(si))
		return pr_fail(-EOPNOTSUPP, "%s: has queued data but no name its peer could send it to\n", si->who);
	return send_to_name(ctx, sk_fd(ctx, p), si, &si->queue);
}

/* After the data: the peer that had closed goes, shutdowns are applied. */
static int shutdown_one(struct rst_ctx *ctx, struct unix_sk_info *si)
{
	const UnixSkEntry *ue = si->ue;
	int how;

	if (si->orphan_fd >= 0) {
		close(si->orphan_fd);
		si->orphan_fd = -1;
	}
	if (!ue->has_shutdown || !ue->shutdown || si->inherited)
		return 0;
	how = ue->shutdown == (SK_RCV_SHUTDOWN | SK_SEND_SHUTDOWN) ? SHUT_RDWR
	      : ue->shutdown == SK_RCV_SHUTDOWN			 ? SHUT_RD
								 : SHUT_WR;
	if (shutdown(sk_fd(ctx, si), how) && errno != ENOTCONN)
		return pr_fail_errno("%s: shutdown", si->who);
	return 0;
}

static int set_flags_one(struct unix_sk_info *si)
{
	const UnixSkEntry *ue = si->ue;

	if (fcntl(si->fd, F_SETFL, ue->flags & ~O_ACCMODE))
		return pr_fail_errno("%s: can't set the file flags", si->who);
	return 0;
}

static int requeue_all(struct rst_ctx *ctx, struct list_head *sks)
{
	struct unix_sk_info *si;
	int ret;

	list_for_each_entry(si, sks, list) {
		ret = requeue_one(ctx, sks, si);
		if (ret)
			return ret;
	}
	/* removed socket files go once nothing needs to connect or send to them, then their removed directories */
	list_for_each_entry(si, sks, list) {
		ret = unlink_deleted(ctx, si);
		if (ret)
			return ret;
	}
	list_for_each_entry_reverse(si, sks, list) {
		ret = si->nr_made_dirs ? in_name_dir(ctx, si->ue, NULL, do_remove_dirs, -1, si->who, si) : 0;
		if (ret)
			return pr_fail(ret, "%s: can't remove the directories of its name again: %s\n", si->who,
				       strerror(-ret));
	}
	/* shutdowns last: a shut socket takes no more data */
	list_for_each_entry(si, sks, list) {
		ret = shutdown_one(ctx, si);
		if (ret)
			return ret;
	}
	return 0;
}

static int restore_all(struct rst_ctx *ctx, struct unix_rst *st)
{
	struct list_head *sks = &st->sks;
	struct unix_sk_info *si;
	int ret;

	st->restored = true;
	ret = sk_queues_read(ctx->img_dfd, add_packet, sks);
	ret = ret ?: resolve_peers(st);
	ret = ret ?: take_inherited(sks);
	ret = ret ?: check_ext_peers(sks);
	ret = ret ?: create_pairs(ctx, sks);
	if (!ret)
		find_lost_listeners(sks);
	ret = ret ?: create_others(ctx, sks);
	ret = ret ?: connect_all(ctx, sks);
	if (ret)
		return ret;
	list_for_each_entry(si, sks, list) {
		ret = si->inherited ? 0 : restore_opts(si);
		if (ret)
			return ret;
	}
	st->queues_deferred = false;
	list_for_each_entry(si, sks, list) {
		ret = si->inherited ? 0 : set_flags_one(si);
		if (ret)
			return ret;
		if (sk_queue_has_files(&si->queue))
			st->queues_deferred = true;
	}
	return st->queues_deferred ? 0 : requeue_all(ctx, sks);
}

int unix_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	struct unix_rst *st = unix_rst(ctx);
	struct unix_sk_info *si = d->priv;
	int ret;

	if (!st)
		return -ENOMEM;
	if (!st->restored) {
		struct mntns_visit v;

		/* names are paths as the tree sees them */
		ret = mntns_visit(ctx, &v);
		if (ret)
			return ret;
		ret = restore_all(ctx, st);
		ret = mntns_visit_end(&v) ?: ret;
		if (ret)
			return ret;
	}
	/* a socket outside the tree: no task has it, nothing to open */
	if (si->ue->uflags & USK_EXTERN) {
		*ret_fd = -1;
		return 0;
	}
	if (si->fd < 0)
		return pr_fail(-EINVAL, "%s was not restored\n", si->who);
	*ret_fd = TAKE_FD(si->fd);
	return 0;
}

/* Once every file is open (before the tree runs): queues that pass files, and the shutdowns. */
int unix_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	struct unix_rst *st = unix_rst(ctx);
	struct mntns_visit v;
	int ret;

	if (!st)
		return -ENOMEM;
	if (!st->queues_deferred)
		return 0;
	st->queues_deferred = false;
	pr_info("queueing the messages that pass files\n");
	ret = mntns_visit(ctx, &v);
	if (ret)
		return ret;
	ret = requeue_all(ctx, &st->sks);
	return mntns_visit_end(&v) ?: ret;
}

static void free_sks(struct list_head *sks)
{
	struct unix_sk_info *si, *tmp;

	list_for_each_entry_safe(si, tmp, sks, list) {
		/* a failed restore: the socket file moved aside and the directories made for a removed name go too */
		if (si->moved && !si->unlinked)
			in_name_dir(NULL, si->ue, si->moved, do_unlink, -1, si->who, NULL);
		free(si->moved);
		if (si->nr_made_dirs)
			in_name_dir(NULL, si->ue, NULL, do_remove_dirs, -1, si->who, si);
		if (si->fd >= 0)
			close(si->fd);
		if (si->orphan_fd >= 0)
			close(si->orphan_fd);
		sk_queue_free(&si->queue);
		list_del(&si->list);
		si->d->priv = NULL;
		free(si);
	}
}

void unix_cleanup(struct rst_ctx *ctx)
{
	struct unix_rst *st = unix_rst(ctx);

	if (!st)
		return;
	free_sks(&st->sks);
	free_sks(&st->ext);
	st->restored = false;
	st->queues_deferred = false;
	st->after_tree = false;
}
