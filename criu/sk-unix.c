// SPDX-License-Identifier: GPL-2.0
/*
 * Unix sockets (stream, datagram, seqpacket): socketpairs, named sockets
 * (path or abstract), listeners, accepted and pending connections, with the
 * data queued in them and the files passed in it.
 *
 * Dump: one sock_diag dump (NETLINK_SOCK_DIAG via libnl-3) of every unix
 * socket gives type, state, name, the bound file (VFS), peer, pending
 * connections, queue lengths and shutdown; the socket inode from fstat() of
 * criu's copy of the fd finds its entry. A connection not accepted yet is
 * recorded as its client with the listener for peer; a bound file that was
 * removed (or replaced) since bind() is recorded as deleted. Refused, with
 * an error naming the fd and task: a socket whose peer no task of the tree
 * holds, a connection not accepted yet on which the client sent data (or
 * whose client is closed or outside the tree), families other than AF_UNIX.
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
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "common.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"
#include "sockets.h"
#include "syscalls.h"

#include "fdinfo.pb-c.h"
#include "sk-unix.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-unix: "

#define UNIX_NAME_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))
/* sk_shutdown bits, as sock_diag reports them and as SkShutdown numbers them */
#define SK_RCV_SHUTDOWN 1
#define SK_SEND_SHUTDOWN 2

/* ===================== dump ===================== */

/* What sock_diag says about one unix socket. */
struct diag_sk {
	struct diag_sk *next;
	uint32_t ino, peer;
	uint8_t type, state, shutdown;
	bool has_vfs;
	uint32_t vfs_ino, vfs_dev;
	uint32_t rqueue, wqueue;
	uint32_t nr_icons;
	uint32_t *icons;		/* a listener's pending connections: their clients' inodes */
	struct sk_queue_snap *snap;	/* its queue, taken when the tree's sockets were scanned */
	int name_len;
	char name[UNIX_NAME_MAX + 1];
};

#define DIAG_HASH_SIZE 1024
static struct diag_sk *diag_hash[DIAG_HASH_SIZE];
static const struct dump_files_ctx *diag_ctx;	/* the dump the table belongs to */
static uint32_t *tree_socks;			/* inodes of every socket the tree holds */
static int nr_tree_socks;

static struct diag_sk *diag_find(uint32_t ino)
{
	for (struct diag_sk *s = diag_hash[ino % DIAG_HASH_SIZE]; s; s = s->next)
		if (s->ino == ino)
			return s;
	return NULL;
}

static void diag_free(void)
{
	for (int i = 0; i < DIAG_HASH_SIZE; i++) {
		while (diag_hash[i]) {
			struct diag_sk *s = diag_hash[i];

			diag_hash[i] = s->next;
			sk_queue_snap_free(s->snap);
			free(s->icons);
			free(s);
		}
	}
	free(tree_socks);
	tree_socks = NULL;
	nr_tree_socks = 0;
	diag_ctx = NULL;
}

static void diag_fill_attrs(struct diag_sk *s, struct nlattr **tb)
{
	if (tb[UNIX_DIAG_NAME]) {
		s->name_len = min(nla_len(tb[UNIX_DIAG_NAME]), UNIX_NAME_MAX);
		memcpy(s->name, nla_data(tb[UNIX_DIAG_NAME]), s->name_len);
	}
	if (tb[UNIX_DIAG_VFS] && nla_len(tb[UNIX_DIAG_VFS]) >= (int)sizeof(struct unix_diag_vfs)) {
		const struct unix_diag_vfs *v = nla_data(tb[UNIX_DIAG_VFS]);

		s->has_vfs = true;
		s->vfs_ino = v->udiag_vfs_ino;
		s->vfs_dev = v->udiag_vfs_dev;
	}
	if (tb[UNIX_DIAG_PEER])
		s->peer = nla_get_u32(tb[UNIX_DIAG_PEER]);
	if (tb[UNIX_DIAG_ICONS] && nla_len(tb[UNIX_DIAG_ICONS]) >= (int)sizeof(uint32_t)) {
		s->icons = malloc(nla_len(tb[UNIX_DIAG_ICONS]));
		if (s->icons) {
			s->nr_icons = nla_len(tb[UNIX_DIAG_ICONS]) / sizeof(uint32_t);
			memcpy(s->icons, nla_data(tb[UNIX_DIAG_ICONS]), s->nr_icons * sizeof(uint32_t));
		}
	}
	if (tb[UNIX_DIAG_RQLEN] && nla_len(tb[UNIX_DIAG_RQLEN]) >= (int)sizeof(struct unix_diag_rqlen)) {
		const struct unix_diag_rqlen *r = nla_data(tb[UNIX_DIAG_RQLEN]);

		s->rqueue = r->udiag_rqueue;
		s->wqueue = r->udiag_wqueue;
	}
	if (tb[UNIX_DIAG_SHUTDOWN])
		s->shutdown = nla_get_u8(tb[UNIX_DIAG_SHUTDOWN]);
}

static int diag_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	const struct unix_diag_msg *m;
	int *err = arg;
	struct diag_sk *s;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return NL_OK;
	if (nlmsg_parse(h, sizeof(*m), tb, UNIX_DIAG_MAX, NULL) < 0) {
		*err = -EBADMSG;
		return NL_STOP;
	}
	m = nlmsg_data(h);
	s = xzalloc(sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NL_STOP;
	}
	s->ino = m->udiag_ino;
	s->type = m->udiag_type;
	s->state = m->udiag_state;
	diag_fill_attrs(s, tb);
	s->next = diag_hash[s->ino % DIAG_HASH_SIZE];
	diag_hash[s->ino % DIAG_HASH_SIZE] = s;
	return NL_OK;
}

/* Every unix socket of criu's network namespace, from one sock_diag dump. */
static int collect_diag(void)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			      UDIAG_SHOW_RQLEN,
	};
	struct nl_sock *sk = nl_socket_alloc();
	int err = 0, ret;

	if (!sk)
		return pr_fail(-ENOMEM, "can't allocate a netlink socket\n");
	ret = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (ret < 0) {
		nl_socket_free(sk);
		return pr_fail(-EIO, "can't open a NETLINK_SOCK_DIAG socket: %s\n", nl_geterror(ret));
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, diag_cb, &err);
	ret = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (ret >= 0)
		ret = nl_recvmsgs_default(sk);
	nl_socket_free(sk);
	if (err)
		return pr_fail(err, "bad unix sock_diag answer: %s\n", strerror(-err));
	if (ret < 0)
		return pr_fail(-EIO, "unix sock_diag dump failed: %s\n", nl_geterror(ret));
	return 0;
}

static int add_tree_sock(uint32_t ino)
{
	uint32_t *n;

	if (nr_tree_socks % 256 == 0) {
		n = xrealloc(tree_socks, (nr_tree_socks + 256) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		tree_socks = n;
	}
	tree_socks[nr_tree_socks++] = ino;
	return 0;
}

static int note_inflight_sock(int fd, void *arg)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	pr_debug("socket %lu is in flight in a queue of the tree\n", (unsigned long)st.st_ino);
	return add_tree_sock(st.st_ino);
}

/* Only a connected stream/seqpacket socket or a datagram socket has a receive queue of data. */
static bool has_queue(const struct diag_sk *s)
{
	return s->state != TCP_LISTEN && (s->type == SOCK_DGRAM || s->state == TCP_ESTABLISHED);
}

/*
 * The queue of socket fd of the task, taken now, once (dump_queue() writes
 * it): sockets passed in it (SCM_RIGHTS) belong to the tree too, as they are
 * dumped with the queue, so a socket connected to one of them has its peer
 * in the tree.
 */
static int scan_inflight(struct pstree_item *item, int fd, unsigned int ino)
{
	struct diag_sk *s = diag_find(ino);
	_cleanup_close_ int lfd = -1;
	char who[64];
	int ret;

	if (!s || s->snap || !has_queue(s))
		return 0;
	lfd = sys_pidfd_getfd(item->pidfd, fd, 0);
	if (lfd < 0)
		return pr_fail_errno("can't take fd %d of task %d", fd, item->pid);
	snprintf(who, sizeof(who), "fd %d of task %d", fd, item->pid);
	ret = sk_queue_snap(lfd, s->type, s->shutdown & SK_RCV_SHUTDOWN, who, &s->snap);
	return ret ?: sk_queue_snap_files(s->snap, note_inflight_sock, NULL);
}

/* The socket inodes behind the fds of one task (links "socket:[INO]"), and the sockets in flight in them. */
static int collect_task_socks(struct pstree_item *item)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd;

	if (item->proc_dfd < 0)
		return 0;
	dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;	/* a zombie has no fds */
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char link[64];
		unsigned int ino;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%u]", &ino) != 1)
			continue;
		if (add_tree_sock(ino))
			return -ENOMEM;
		n = scan_inflight(item, atoi(de->d_name), ino);
		if (n)
			return n;
	}
	return 0;
}

static bool in_tree(uint32_t ino)
{
	for (int i = 0; i < nr_tree_socks; i++)
		if (tree_socks[i] == ino)
			return true;
	return false;
}

static int diag_ready(struct dump_files_ctx *ctx)
{
	struct pstree_item *item;
	int ret;

	if (diag_ctx == ctx)
		return 0;
	diag_free();
	ret = collect_diag();
	if (ret)
		return ret;
	for_each_pstree_item(ctx->tree, item) {
		ret = collect_task_socks(item);
		if (ret)
			return pr_fail(ret, "can't list the sockets of task %d: %s\n", item->pid, strerror(-ret));
	}
	diag_ctx = ctx;
	return 0;
}

static const char *family_name(int family)
{
	switch (family) {
	case AF_INET:
		return "an inet (IPv4)";
	case AF_INET6:
		return "an inet6 (IPv6)";
	case AF_NETLINK:
		return "a netlink";
	case AF_PACKET:
		return "a packet";
	default:
		return "a";
	}
}

static int get_int_opt(int fd, int level, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, level, opt, ret, &len) ? -errno : 0;
}

static int dump_opts(int lfd, SkOptsEntry *o, const char *who)
{
	struct timeval tv;
	socklen_t len;
	int v, ret;

	sk_opts_entry__init(o);
	ret = get_int_opt(lfd, SOL_SOCKET, SO_SNDBUF, &v);
	o->so_sndbuf = v;
	ret = ret ?: get_int_opt(lfd, SOL_SOCKET, SO_RCVBUF, &v);
	o->so_rcvbuf = v;
	len = sizeof(tv);
	if (!ret && getsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len))
		ret = -errno;
	o->so_snd_tmo_sec = tv.tv_sec;
	o->so_snd_tmo_usec = tv.tv_usec;
	len = sizeof(tv);
	if (!ret && getsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len))
		ret = -errno;
	o->so_rcv_tmo_sec = tv.tv_sec;
	o->so_rcv_tmo_usec = tv.tv_usec;
	if (ret)
		return pr_fail(ret, "%s: can't read the socket options: %s\n", who, strerror(-ret));
	if (!get_int_opt(lfd, SOL_SOCKET, SO_PASSCRED, &v))
		o->has_so_passcred = true, o->so_passcred = v;
	if (!get_int_opt(lfd, SOL_SOCKET, SO_PASSSEC, &v))
		o->has_so_passsec = true, o->so_passsec = v;
	if (!get_int_opt(lfd, SOL_SOCKET, SO_PRIORITY, &v))
		o->has_so_priority = true, o->so_priority = v;
	if (!get_int_opt(lfd, SOL_SOCKET, SO_RCVLOWAT, &v))
		o->has_so_rcvlowat = true, o->so_rcvlowat = v;
	if (!get_int_opt(lfd, SOL_SOCKET, SO_MARK, &v) && v)
		o->has_so_mark = true, o->so_mark = v;
	return 0;
}

/*
 * A socket whose file was removed is bound to its name again at restore (and
 * the file removed again), so the name must still be free for a socket file:
 * its directory there, and no file at it but a socket (the restore puts the
 * sockets of the tree that share a name in order; a socket file of someone
 * else's live socket fails the restore).
 */
static int check_rebindable(const char *name_dir, const char *name, const char *who)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s%s%s", name_dir ?: "", name_dir ? "/" : "", name) >= (int)sizeof(path))
		return pr_fail(-ENAMETOOLONG, "%s: the name %s is too long\n", who, name);
	if (!lstat(path, &st)) {
		if (S_ISSOCK(st.st_mode))
			return 0;
		return pr_fail(-EOPNOTSUPP,
			       "%s: bound to %s, whose socket file was removed and another file (not a socket) "
			       "made there: criu can't bind the socket to that name again\n",
			       who, path);
	}
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		if (stat(path, &st) || !S_ISDIR(st.st_mode))
			return pr_fail(-EOPNOTSUPP,
				       "%s: bound to %s/%s, whose socket file was removed and the directory %s too: "
				       "criu can't bind the socket to that name again\n",
				       who, path, slash + 1, path);
	}
	return 0;
}

/*
 * A bound path: the file must still be the socket's (same inode). A relative
 * name is taken from the task's cwd, recorded in name_dir.
 */
static int dump_name_path(UnixSkEntry *ue, FilePermsEntry *perms, const struct diag_sk *s,
			  const struct fd_parms *p, const char *who, char *dir, size_t dir_size)
{
	_cleanup_close_ int cwd = -1;
	struct stat st;
	ssize_t n;

	if (s->name[0] != '/') {
		cwd = openat(p->item->proc_dfd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		n = readlinkat(p->item->proc_dfd, "cwd", dir, dir_size - 1);
		if (cwd < 0 || n < 0)
			return pr_fail_errno("%s: can't read the cwd of the task for the relative name %s",
				       who, s->name);
		dir[n] = '\0';
		ue->name_dir = dir;
	}
	if (fstatat(cwd >= 0 ? cwd : AT_FDCWD, s->name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISSOCK(st.st_mode) ||
	    !s->has_vfs || st.st_ino != s->vfs_ino) {
		/* restore binds to the name and removes the file again */
		int ret = check_rebindable(ue->name_dir, s->name, who);

		if (ret)
			return ret;
		pr_info("%s: the socket file %s%s%s was removed or replaced after bind()\n", who, ue->name_dir ?: "",
			ue->name_dir ? "/" : "", s->name);
		ue->has_deleted = true;
		ue->deleted = true;
		return 0;
	}
	file_perms_entry__init(perms);
	perms->mode = st.st_mode & 07777;
	perms->uid = st.st_uid;
	perms->gid = st.st_gid;
	ue->file_perms = perms;
	return 0;
}

/* The listener whose queue holds a connection from client (not accepted yet), or NULL. */
static const struct diag_sk *pending_on(uint32_t client)
{
	for (int i = 0; i < DIAG_HASH_SIZE; i++)
		for (const struct diag_sk *l = diag_hash[i]; l; l = l->next)
			for (uint32_t k = 0; l->state == TCP_LISTEN && k < l->nr_icons; k++)
				if (l->icons[k] == client)
					return l;
	return NULL;
}

/*
 * A listener's connections not accepted yet can be made again (the client
 * connects, no one accepts) when every client is in the tree and has sent
 * nothing yet: what it sent would sit in a socket criu has no fd of.
 */
static int check_pending(const struct diag_sk *s, const char *who)
{
	if (s->rqueue != s->nr_icons)
		return pr_fail(-EOPNOTSUPP, "%s: listening unix socket %u: %u connections pending, %u known\n", who,
			       s->ino, s->rqueue, s->nr_icons);
	for (uint32_t k = 0; k < s->nr_icons; k++) {
		const struct diag_sk *c = s->icons[k] ? diag_find(s->icons[k]) : NULL;

		if (!c)
			return pr_fail(-EOPNOTSUPP,
				       "%s: listening unix socket %u has a pending connection whose client is closed\n",
				       who, s->ino);
		if (!in_tree(c->ino))
			return pr_fail(-EOPNOTSUPP,
				       "%s: listening unix socket %u has a pending connection from socket %u, which no "
				       "task of the dumped tree holds\n",
				       who, s->ino, c->ino);
		if (c->wqueue)
			return pr_fail(-EOPNOTSUPP,
				       "%s: listening unix socket %u has a pending connection from socket %u, which "
				       "sent data (%u bytes of buffers) not accepted yet; criu can't dump it\n",
				       who, s->ino, c->ino, c->wqueue);
	}
	return 0;
}

/* States and connections criu can't restore, and peers outside the tree. */
static int check_dumpable(const struct diag_sk *s, const char *who)
{
	int ret;

	if (s->state != TCP_LISTEN && s->state != TCP_ESTABLISHED && s->state != TCP_CLOSE)
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u is in state %u, which criu can't restore\n", who,
			       s->ino, s->state);
	if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u has type %u\n", who, s->ino, s->type);
	if (s->state == TCP_LISTEN) {
		ret = check_pending(s, who);
		if (ret)
			return ret;
	}
	if (s->state == TCP_ESTABLISHED && !s->peer && s->type != SOCK_DGRAM &&
	    s->shutdown != (SK_RCV_SHUTDOWN | SK_SEND_SHUTDOWN) && !pending_on(s->ino))
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u is connected, but criu can't find to what\n", who,
			       s->ino);
	if (s->state == TCP_ESTABLISHED && !s->peer && pending_on(s->ino) && !in_tree(pending_on(s->ino)->ino))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u waits to be accepted by socket %u, which no task of the dumped "
			       "tree holds\n",
			       who, s->ino, pending_on(s->ino)->ino);
	if (s->state == TCP_ESTABLISHED && !s->peer && pending_on(s->ino) && s->wqueue)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u sent data (%u bytes of buffers) on a connection not accepted "
			       "yet; criu can't dump it\n",
			       who, s->ino, s->wqueue);
	if (s->peer && !in_tree(s->peer))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u is connected to socket %u, which no task of the dumped tree "
			       "holds (its peer is outside the tree)\n",
			       who, s->ino, s->peer);
	return 0;
}

static int dump_queue(struct dump_files_ctx *ctx, struct diag_sk *s, int lfd, uint32_t id, const char *who)
{
	struct sk_queue_snap *q;
	uint64_t bytes;
	int ret;

	if (!has_queue(s))
		return 0;
	/* taken when the tree was scanned, or now for a socket no task holds (one in flight) */
	q = TAKE_PTR(s->snap);
	if (!q) {
		ret = sk_queue_snap(lfd, s->type, s->shutdown & SK_RCV_SHUTDOWN, who, &q);
		if (ret)
			return ret;
	}
	bytes = sk_queue_snap_bytes(q);
	ret = sk_queue_snap_dump(ctx, q, id, who);
	sk_queue_snap_free(q);
	if (ret)
		return ret;
	/* stream and seqpacket: sock_diag counts every queued byte; they must all be in the image */
	if (s->type != SOCK_DGRAM && bytes != s->rqueue)
		return pr_fail(-EIO, "%s: %llu bytes peeked, but %u are queued in unix socket %u\n", who,
			       (unsigned long long)bytes, s->rqueue, s->ino);
	return 0;
}

static bool unix_detect(const struct fd_parms *p)
{
	return S_ISSOCK(p->stat.st_mode);
}

static int unix_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	UnixSkEntry ue = UNIX_SK_ENTRY__INIT;
	FilePermsEntry perms;
	char who[64], dir[PATH_MAX];
	struct diag_sk *s;
	SkOptsEntry opts;
	FownEntry fown;
	int family, ret;

	snprintf(who, sizeof(who), "fd %d of task %d", p->fd, p->item ? p->item->pid : 0);
	ret = get_int_opt(p->lfd, SOL_SOCKET, SO_DOMAIN, &family);
	if (ret)
		return pr_fail(ret, "%s: can't tell the socket's family: %s\n", who, strerror(-ret));
	if (family != AF_UNIX)
		return pr_fail(-EOPNOTSUPP, "%s: %s socket (family %d); criu can dump only unix sockets yet\n", who,
			       family_name(family), family);
	ret = diag_ready(ctx);
	if (ret)
		return ret;
	s = diag_find(p->stat.st_ino);
	if (!s)
		return pr_fail(-ENOENT, "%s: unix socket %lu is unknown to sock_diag (another network namespace?)\n",
			       who, (unsigned long)p->stat.st_ino);
	ret = check_dumpable(s, who);
	if (ret)
		return ret;

	ret = fill_fown(p, &fown);
	if (ret)
		return ret;
	ret = dump_opts(p->lfd, &opts, who);
	if (ret)
		return ret;
	ue.id = id;
	ue.ino = s->ino;
	ue.type = s->type;
	ue.state = s->state;
	ue.flags = p->flags;
	ue.backlog = s->state == TCP_LISTEN ? s->wqueue : 0;
	ue.peer = s->peer;
	/* a connection not accepted yet: its peer is the listener */
	if (!s->peer && s->state == TCP_ESTABLISHED && s->type != SOCK_DGRAM && pending_on(s->ino))
		ue.peer = pending_on(s->ino)->ino;
	ue.fown = &fown;
	ue.opts = &opts;
	ue.name.len = s->name_len;
	ue.name.data = (uint8_t *)s->name;
	if (s->shutdown) {
		ue.has_shutdown = true;
		ue.shutdown = s->shutdown & (SK_RCV_SHUTDOWN | SK_SEND_SHUTDOWN);
	}
	if (s->name_len && s->name[0]) {
		ret = dump_name_path(&ue, &perms, s, p, who, dir, sizeof(dir));
		if (ret)
			return ret;
	}
	ret = dump_queue(ctx, s, p->lfd, id, who);
	if (ret)
		return ret;

	pr_info("%s: unix socket %u, type %u, state %u, peer %u, name %s%.*s\n", who, s->ino, s->type, s->state,
		s->peer, s->name_len && !s->name[0] ? "@" : "", s->name_len ? s->name_len - !s->name[0] : 0,
		s->name + (s->name_len && !s->name[0]));
	fe.type = FD_TYPES__UNIXSK;
	fe.id = id;
	fe.usk = &ue;
	return pb_write_one(ctx->files_img, &fe, PB_FILE);
}

/* ===================== restore ===================== */

struct unix_sk_info {
	struct list_head list;
	UnixSkEntry *ue;
	struct file_desc *d;
	struct unix_sk_info *peer;
	int fd;			/* the restored socket until open() hands it out */
	int orphan_fd;		/* the other end of a pair whose peer had closed: closed after queueing */
	bool created;
	bool unlinked;		/* a removed socket file: removed again after restore */
	struct unix_sk_info *via;	/* accepted from a listener that is gone: the client to connect from */
	struct list_head queue;	/* struct sk_packet */
	char who[48];
};

static LIST_HEAD(unix_sks);
static bool unix_restored;
/* Some queued message passes files: queues and shutdowns wait for the late hook, when every file is open. */
static bool queues_deferred;

/* The restored socket: ours until open() hands it out, then the controller's copy. */
static int sk_fd(struct rst_ctx *ctx, const struct unix_sk_info *si)
{
	return si->fd >= 0 ? si->fd : file_desc_ctl_fd(ctx, si->d);
}

static struct unix_sk_info *find_by_ino(uint32_t ino)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, &unix_sks, list)
		if (si->ue->ino == ino)
			return si;
	return NULL;
}

static struct unix_sk_info *find_by_id(uint32_t id)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, &unix_sks, list)
		if (si->d->id == id)
			return si;
	return NULL;
}

static bool named(const struct unix_sk_info *si)
{
	return si->ue->name.len > 0;
}

static bool same_name(const struct unix_sk_info *a, const struct unix_sk_info *b)
{
	return a->ue->name.len == b->ue->name.len && !memcmp(a->ue->name.data, b->ue->name.data, a->ue->name.len);
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
static struct unix_sk_info *listener_of(const struct unix_sk_info *si)
{
	struct unix_sk_info *l;

	if (si->ue->type == SOCK_DGRAM || si->ue->state != TCP_ESTABLISHED || !named(si))
		return NULL;
	list_for_each_entry(l, &unix_sks, list)
		if (l->ue->state == TCP_LISTEN && l->ue->type == si->ue->type && same_name(l, si) &&
		    is_deleted(l->ue) == is_deleted(si->ue))
			return l;
	return NULL;
}

static int unix_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	struct unix_sk_info *si;
	UnixSkEntry *ue = d->fe->usk;

	if (!ue || !ue->opts || !ue->fown)
		return pr_fail(-EINVAL, "files.img: unix socket %u has no socket entry\n", d->id);
	if (ue->name.len > (size_t)UNIX_NAME_MAX ||
	    (ue->name.len == (size_t)UNIX_NAME_MAX && ue->name.data[0] && !memchr(ue->name.data, 0, ue->name.len)))
		return pr_fail(-EINVAL, "files.img: unix socket %u has a %zu-byte name\n", d->id, ue->name.len);
	/* a datagram socket may connect() to its own name; nothing else is its own peer */
	if (ue->peer && ue->peer == ue->ino && (ue->type != SOCK_DGRAM || !ue->name.len))
		return pr_fail(-EINVAL, "files.img: unix socket %u is its own peer\n", d->id);
	si = xzalloc(sizeof(*si));
	if (!si)
		return -ENOMEM;
	si->ue = ue;
	si->d = d;
	si->fd = si->orphan_fd = -1;
	INIT_LIST_HEAD(&si->queue);
	snprintf(si->who, sizeof(si->who), "unix socket %u (file %u)", ue->ino, d->id);
	list_add_tail(&si->list, &unix_sks);
	d->priv = si;
	return 0;
}

static int add_packet(uint32_t id, struct sk_packet *pkt, void *arg)
{
	struct unix_sk_info *si = find_by_id(id);

	if (!si)
		return pr_fail(-EINVAL, "sk-queues.img: a packet for file %u, which is no unix socket\n", id);
	list_add_tail(&pkt->list, &si->queue);
	return 0;
}

static int resolve_peers(void)
{
	struct unix_sk_info *si;

	list_for_each_entry(si, &unix_sks, list) {
		if (!si->ue->peer)
			continue;
		si->peer = find_by_ino(si->ue->peer);
		if (!si->peer)
			return pr_fail(-EINVAL, "%s: its peer, socket %u, is not in the image\n", si->who,
				       si->ue->peer);
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

/* Run fn in name_dir, for a relative name (bind, connect), and come back. */
static int in_name_dir(const UnixSkEntry *ue, int (*fn)(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg),
		       int fd, const char *who, void *arg)
{
	_cleanup_close_ int here = -1;
	struct sockaddr_un sa;
	socklen_t len = make_addr(ue, &sa);
	int ret;

	if (ue->name_dir && ue->name.data[0]) {
		here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (here < 0 || chdir(ue->name_dir))
			return pr_fail_errno("%s: can't go to %s", who, ue->name_dir);
	}
	ret = fn(fd, &sa, len, arg);
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

static int do_bind(int fd, const struct sockaddr_un *sa, socklen_t len, void *arg)
{
	int ret;

	if (!bind(fd, (const struct sockaddr *)sa, len))
		return 0;
	if (errno != EADDRINUSE || !sa->sun_path[0])
		return -errno;
	ret = remove_stale(fd, sa, len, NULL);
	if (ret)
		return ret;
	return bind(fd, (const struct sockaddr *)sa, len) ? -errno : 0;
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
static int bind_name(int fd, const UnixSkEntry *ue, const char *who)
{
	bool path = ue->name.data[0] != '\0';
	char file[PATH_MAX];
	int ret;

	name_file(ue, file, sizeof(file));
	ret = in_name_dir(ue, do_bind, fd, who, NULL);
	if (ret)
		return pr_fail(ret, "%s: can't bind to %s%s: %s\n", who, path ? "" : "an abstract name", file,
			       strerror(-ret));
	if (path && ue->file_perms &&
	    (fchmodat(AT_FDCWD, file, ue->file_perms->mode, 0) ||
	     fchownat(AT_FDCWD, file, ue->file_perms->uid, ue->file_perms->gid, AT_SYMLINK_NOFOLLOW)))
		return pr_fail_errno("%s: can't set the mode and owner of %s", who, file);
	return 0;
}

/* The file of a socket whose file had been removed: it goes once nothing needs to connect to it. */
static int unlink_deleted(struct unix_sk_info *si)
{
	char file[PATH_MAX];
	int ret;

	if (!is_deleted(si->ue) || si->unlinked)
		return 0;
	si->unlinked = true;
	ret = in_name_dir(si->ue, do_unlink, -1, si->who, NULL);
	if (ret) {
		name_file(si->ue, file, sizeof(file));
		return pr_fail(ret, "%s: can't remove %s again: %s\n", si->who, file, strerror(-ret));
	}
	return 0;
}

/* A socket bound to a removed file that has the same name as si's frees the name first. */
static int free_name_for(struct unix_sk_info *si)
{
	struct unix_sk_info *x;
	int ret;

	list_for_each_entry(x, &unix_sks, list) {
		if (x != si && x->created && is_deleted(x->ue) && same_name(x, si) &&
		    !!x->ue->name_dir == !!si->ue->name_dir &&
		    (!x->ue->name_dir || !strcmp(x->ue->name_dir, si->ue->name_dir))) {
			ret = unlink_deleted(x);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int bind_one(struct unix_sk_info *si)
{
	int ret = is_deleted(si->ue) ? 0 : free_name_for(si);

	return ret ?: bind_name(si->fd, si->ue, si->who);
}

static int make_pair(struct unix_sk_info *a, struct unix_sk_info *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, a->ue->type | SOCK_CLOEXEC, 0, sv))
		return pr_fail_errno("%s: socketpair", a->who);
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
static int create_pairs(void)
{
	struct unix_sk_info *si;
	int ret;

	list_for_each_entry(si, &unix_sks, list) {
		struct unix_sk_info *p = si->peer;

		if (!si->created && orphan_dgram(si)) {
			ret = make_pair(si, NULL);
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
		if (!p && si->ue->type != SOCK_DGRAM) {
			ret = make_pair(si, NULL);
		} else if (p && p->peer == si && !named(si) && !named(p)) {
			if (p->ue->type != si->ue->type)
				return pr_fail(-EINVAL, "%s and its peer have different types\n", si->who);
			ret = make_pair(si, p);
		} else {
			continue;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int create_one(struct unix_sk_info *si)
{
	int ret;

	/* listeners accept without waiting while criu restores; set_flags_one() sets the dumped flags */
	si->fd = socket(AF_UNIX, si->ue->type | SOCK_CLOEXEC | (si->ue->state == TCP_LISTEN ? SOCK_NONBLOCK : 0), 0);
	if (si->fd < 0)
		return pr_fail_errno("%s: socket", si->who);
	si->created = true;
	if (named(si)) {
		ret = bind_one(si);
		if (ret)
			return ret;
	}
	if (si->ue->state == TCP_LISTEN && listen(si->fd, si->ue->backlog))
		return pr_fail_errno("%s: listen", si->who);
	return 0;
}

/* Everything else that is not accepted from a listener: socket(), bind(), listen(). */
static int create_others(void)
{
	struct unix_sk_info *si;
	int ret;

	/* sockets whose file was removed first: a live socket may have its name since */
	for (int pass = 0; pass < 2; pass++)
		list_for_each_entry(si, &unix_sks, list) {
			if (si->created || listener_of(si) || si->via || is_deleted(si->ue) != !pass)
				continue;
			ret = create_one(si);
			if (ret)
				return ret;
		}
	return 0;
}

/* An accepted socket: connect its peer to the restored listener and accept. */
static int connect_accepted(struct unix_sk_info *si, struct unix_sk_info *l)
{
	struct unix_sk_info *c = si->peer;
	int ret;

	if (!c || c->peer != si || !c->created || c->ue->state != TCP_ESTABLISHED)
		return pr_fail(-EOPNOTSUPP, "%s: an accepted connection whose client is not in the image\n", si->who);
	ret = in_name_dir(l->ue, do_connect, c->fd, c->who, NULL);
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
static void find_lost_listeners(void)
{
	struct unix_sk_info *si, *p, *acc;

	list_for_each_entry(si, &unix_sks, list) {
		p = si->peer;
		if (si->created || si->via || si->ue->type == SOCK_DGRAM || si->ue->state != TCP_ESTABLISHED || !p ||
		    p->peer != si || p->via || (!named(si) && !named(p)) || listener_of(si) || listener_of(p))
			continue;
		acc = named(si) ? si : p;
		acc->via = acc == si ? p : si;
	}
}

static int connect_via_temp_listener(struct unix_sk_info *si)
{
	struct unix_sk_info *c = si->via;
	_cleanup_close_ int tmp = -1;
	int ret;

	if (!c->created)
		return pr_fail(-EINVAL, "%s: its client %s was not created\n", si->who, c->who);
	tmp = socket(AF_UNIX, si->ue->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (tmp < 0)
		return pr_fail_errno("%s: socket", si->who);
	ret = is_deleted(si->ue) ? 0 : free_name_for(si);
	ret = ret ?: bind_name(tmp, si->ue, si->who);
	if (ret)
		return ret;
	if (listen(tmp, 1))
		return pr_fail_errno("%s: listen", si->who);
	ret = in_name_dir(si->ue, do_connect, c->fd, c->who, NULL);
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
static int connect_all(void)
{
	struct unix_sk_info *si, *l;
	int ret;

	list_for_each_entry(si, &unix_sks, list) {
		l = listener_of(si);
		ret = 0;
		if (!si->created && l)
			ret = connect_accepted(si, l);
		else if (!si->created && si->via)
			ret = connect_via_temp_listener(si);
		if (ret)
			return ret;
	}
	list_for_each_entry(si, &unix_sks, list) {
		struct unix_sk_info *p = si->peer;

		if (si->ue->type != SOCK_DGRAM || !p || (p->peer == si && !named(si) && !named(p)))
			continue;
		if (!named(p))
			return pr_fail(-EOPNOTSUPP, "%s: connected to %s, which has no name to connect to\n", si->who,
				       p->who);
		ret = in_name_dir(p->ue, do_connect, si->fd, si->who, NULL);
		if (ret)
			return pr_fail(ret, "%s: can't connect to %s: %s\n", si->who, p->who, strerror(-ret));
	}
	/* connections not accepted yet, after every accept() above: they stay in their listener's queue */
	list_for_each_entry(si, &unix_sks, list) {
		struct unix_sk_info *l = si->peer;

		if (si->ue->type == SOCK_DGRAM || !l || l->ue->state != TCP_LISTEN)
			continue;
		if (l->ue->type != si->ue->type || !named(l))
			return pr_fail(-EINVAL, "%s: pending on %s, which it can't connect to\n", si->who, l->who);
		ret = in_name_dir(l->ue, do_connect, si->fd, si->who, NULL);
		if (ret)
			return pr_fail(ret, "%s: can't connect to %s: %s\n", si->who, l->who, strerror(-ret));
		pr_debug("%s: connected to %s, not accepted\n", si->who, l->who);
	}
	list_for_each_entry(si, &unix_sks, list)
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

	return in_name_dir(si->ue, do_sendto, fd, si->who, &a);
}

/* The restored datagram socket bound to the sender address of pkt, if the image has it. */
static struct unix_sk_info *named_sender(const struct sk_packet *pkt)
{
	size_t len = pkt->addr_len - offsetof(struct sockaddr_un, sun_path);
	struct unix_sk_info *x;

	list_for_each_entry(x, &unix_sks, list)
		if (x->created && x->ue->type == SOCK_DGRAM && x->ue->name.len == len &&
		    !memcmp(x->ue->name.data, pkt->addr.sun_path, len))
			return x;
	return NULL;
}

/* An unnamed socket connected to si: what it sent has no sender address. */
static struct unix_sk_info *anon_sender(struct unix_sk_info *si)
{
	struct unix_sk_info *x;

	list_for_each_entry(x, &unix_sks, list)
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
static int requeue_dgram_one(struct rst_ctx *ctx, struct unix_sk_info *si, struct list_head *one, const struct sk_packet *pkt)
{
	struct unix_sk_info *snd = pkt->addr_len ? named_sender(pkt) : anon_sender(si);
	_cleanup_close_ int tmp = -1;

	if (snd && snd->peer == si)
		return sk_queue_restore(ctx, sk_fd(ctx, snd), one, NULL, 0, si->who);
	if (!named(si))
		return pr_fail(-EOPNOTSUPP, "%s: has queued datagrams but no name to send them to\n", si->who);
	if (snd)
		return send_to_name(ctx, sk_fd(ctx, snd), si, one);
	tmp = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tmp < 0)
		return pr_fail_errno("can't create a socket");
	if (pkt->addr_len && !pkt->addr.sun_path[0] && bind(tmp, (const struct sockaddr *)&pkt->addr, pkt->addr_len))
		pr_debug("%s: the abstract name of a sender is taken: its datagram goes without it\n", si->who);
	return send_to_name(ctx, tmp, si, one);
}

static int requeue_dgrams(struct rst_ctx *ctx, struct unix_sk_info *si)
{
	struct sk_packet *pkt, *tmp;
	int ret;

	list_for_each_entry_safe(pkt, tmp, &si->queue, list) {
		LIST_HEAD(one);

		list_del(&pkt->list);
		list_add_tail(&pkt->list, &one);
		ret = requeue_dgram_one(ctx, si, &one, pkt);
		if (ret)
			return ret;
	}
	return 0;
}

static int requeue_one(struct rst_ctx *ctx, struct unix_sk_info *si)
{
	struct unix_sk_info *p = si->peer;

	if (list_empty(&si->queue))
		return 0;
	if (si->orphan_fd >= 0)
		return sk_queue_restore(ctx, si->orphan_fd, &si->queue, NULL, 0, si->who);
	if (si->ue->type == SOCK_DGRAM && !p)
		return requeue_dgrams(ctx, si);
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
	if (!ue->has_shutdown || !ue->shutdown)
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

static int requeue_all(struct rst_ctx *ctx)
{
	struct unix_sk_info *si;
	int ret;

	list_for_each_entry(si, &unix_sks, list) {
		ret = requeue_one(ctx, si);
		if (ret)
			return ret;
	}
	/* removed socket files go once nothing needs to connect or send to them */
	list_for_each_entry(si, &unix_sks, list) {
		ret = unlink_deleted(si);
		if (ret)
			return ret;
	}
	/* shutdowns last: a shut socket takes no more data */
	list_for_each_entry(si, &unix_sks, list) {
		ret = shutdown_one(ctx, si);
		if (ret)
			return ret;
	}
	return 0;
}

static int restore_all(struct rst_ctx *ctx)
{
	struct unix_sk_info *si;
	int ret;

	unix_restored = true;
	ret = sk_queues_read(ctx->img_dfd, add_packet, NULL);
	ret = ret ?: resolve_peers();
	ret = ret ?: create_pairs();
	if (!ret)
		find_lost_listeners();
	ret = ret ?: create_others();
	ret = ret ?: connect_all();
	if (ret)
		return ret;
	list_for_each_entry(si, &unix_sks, list) {
		ret = restore_opts(si);
		if (ret)
			return ret;
	}
	queues_deferred = false;
	list_for_each_entry(si, &unix_sks, list) {
		ret = set_flags_one(si);
		if (ret)
			return ret;
		if (sk_queue_has_files(&si->queue))
			queues_deferred = true;
	}
	return queues_deferred ? 0 : requeue_all(ctx);
}

static int unix_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	struct unix_sk_info *si = d->priv;
	int ret;

	if (!unix_restored) {
		ret = restore_all(ctx);
		if (ret)
			return ret;
	}
	if (si->fd < 0)
		return pr_fail(-EINVAL, "%s was not restored\n", si->who);
	*ret_fd = TAKE_FD(si->fd);
	return 0;
}

/* Once every file is open (before the tree runs): queues that pass files, and the shutdowns. */
static int unix_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	if (!queues_deferred)
		return 0;
	queues_deferred = false;
	pr_info("queueing the messages that pass files\n");
	return requeue_all(ctx);
}

static void unix_cleanup(struct rst_ctx *ctx)
{
	struct unix_sk_info *si, *tmp;

	list_for_each_entry_safe(si, tmp, &unix_sks, list) {
		if (si->fd >= 0)
			close(si->fd);
		if (si->orphan_fd >= 0)
			close(si->orphan_fd);
		sk_queue_free(&si->queue);
		list_del(&si->list);
		si->d->priv = NULL;
		free(si);
	}
	unix_restored = false;
	queues_deferred = false;
}

const struct file_type unix_sk_file_type = {
	.name = "unix socket",
	.type = FD_TYPES__UNIXSK,
	.detect = unix_detect,
	.dump = unix_dump,
	.collect = unix_collect,
	.open = unix_open,
	.late = unix_late,
	.cleanup = unix_cleanup,
	.stage = FILE_OPEN_EARLY,
};
