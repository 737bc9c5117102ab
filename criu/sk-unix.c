// SPDX-License-Identifier: GPL-2.0
/*
 * Unix sockets (stream, datagram, seqpacket): socketpairs, named sockets
 * (path or abstract), listeners, accepted and pending connections, with the
 * data queued in them and the files passed in it.
 *
 * Dump: one sock_diag dump (NETLINK_SOCK_DIAG via libnl-3) of every unix
 * socket of criu's network namespace and of each of the tree's gives type,
 * state, name, the bound file (VFS), peer, pending connections, queue
 * lengths and shutdown; the socket inode from fstat() of criu's copy of the
 * fd finds its entry, SIOCGSKNS its namespace (ns_id). A name is a path as
 * the tree sees it (its own mount namespace: from its root). A connection not accepted yet is
 * recorded as its client with the listener for peer; a bound file that was
 * removed (or replaced) since bind() is recorded as deleted. Refused, with
 * an error naming the fd and task: a socket whose peer no task of the tree
 * holds, a connection not accepted yet on which the client sent data (or
 * whose client is closed or outside the tree), families other than AF_UNIX,
 * a socket of a network namespace no task of the tree is in.
 *
 * Restore: sk-unix-restore.c.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "common.h"
#include "cr_options.h"
#include "mount.h"
#include "namespaces.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"
#include "sockets.h"
#include "syscalls.h"
#include "sk-unix.h"

#include "fdinfo.pb-c.h"
#include "sk-unix.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-unix: "

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
/* what sock_diag and the tree's fds say, in the dump ctx (dump_files_state()) */
struct unix_dump {
	struct diag_sk *diag_hash[DIAG_HASH_SIZE];
	uint32_t *tree_socks;		/* inodes of every socket the tree holds */
	int nr_tree_socks;
	uint32_t *ext_peers;		/* sockets outside the tree written as external peers (USK_EXTERN) */
	int nr_ext_peers;
	ino_t *netns;			/* the network namespaces whose sockets are in diag_hash */
	int nr_netns;
	bool ready;			/* both collected */
};
static const char unix_dump_key;

static struct diag_sk *diag_find(const struct unix_dump *ud, uint32_t ino)
{
	for (struct diag_sk *s = ud->diag_hash[ino % DIAG_HASH_SIZE]; s; s = s->next)
		if (s->ino == ino)
			return s;
	return NULL;
}

static void diag_free(void *state)
{
	struct unix_dump *ud = state;

	for (int i = 0; i < DIAG_HASH_SIZE; i++) {
		while (ud->diag_hash[i]) {
			struct diag_sk *s = ud->diag_hash[i];

			ud->diag_hash[i] = s->next;
			sk_queue_snap_free(s->snap);
			free(s->icons);
			free(s);
		}
	}
	free(ud->tree_socks);
	ud->tree_socks = NULL;
	ud->nr_tree_socks = 0;
	free(ud->ext_peers);
	ud->ext_peers = NULL;
	ud->nr_ext_peers = 0;
	free(ud->netns);
	ud->netns = NULL;
	ud->nr_netns = 0;
	ud->ready = false;
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

struct diag_cb_arg {
	struct unix_dump *ud;
	int err;
};

static int diag_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	const struct unix_diag_msg *m;
	struct diag_cb_arg *a = arg;
	struct diag_sk **diag_hash = a->ud->diag_hash;
	int *err = &a->err;
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

/*
 * Open the sock_diag socket in the network namespace ns_fd (-1: criu's):
 * sock_diag lists the sockets of its own socket's namespace. criu goes back
 * to its own right after; failing that, the dump stops.
 */
static int nl_connect_in(struct nl_sock *sk, int ns_fd)
{
	_cleanup_close_ int back = -1;
	int ret;

	if (ns_fd < 0)
		return nl_connect(sk, NETLINK_SOCK_DIAG);
	back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return pr_fail_errno("can't open criu's network namespace");
	if (setns(ns_fd, CLONE_NEWNET))
		return pr_fail_errno("can't join a network namespace of the tree");
	ret = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (setns(back, CLONE_NEWNET))
		return pr_fail_errno("can't go back to criu's network namespace");
	return ret;
}

/* Every unix socket of one network namespace (ns_fd, -1: criu's), from one sock_diag dump. */
static int collect_diag(struct unix_dump *ud, int ns_fd)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			      UDIAG_SHOW_RQLEN,
	};
	struct nl_sock *sk = nl_socket_alloc();
	struct diag_cb_arg a = { .ud = ud };
	int ret;

	if (!sk)
		return pr_fail(-ENOMEM, "can't allocate a netlink socket\n");
	ret = nl_connect_in(sk, ns_fd);
	if (ret < 0) {
		nl_socket_free(sk);
		return pr_fail(-EIO, "can't open a NETLINK_SOCK_DIAG socket: %s\n", nl_geterror(ret));
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, diag_cb, &a);
	ret = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (ret >= 0)
		ret = nl_recvmsgs_default(sk);
	nl_socket_free(sk);
	if (a.err)
		return pr_fail(a.err, "bad unix sock_diag answer: %s\n", strerror(-a.err));
	if (ret < 0)
		return pr_fail(-EIO, "unix sock_diag dump failed: %s\n", nl_geterror(ret));
	return 0;
}

/* The sockets of the network namespace of task pid (0: criu), once per namespace. */
static int collect_netns(struct unix_dump *ud, int proc_dfd, pid_t pid)
{
	_cleanup_close_ int fd = openat(proc_dfd, "ns/net", O_RDONLY | O_CLOEXEC);
	struct stat st;
	ino_t *n;

	if (fd < 0 || fstat(fd, &st))
		return pr_fail_errno("can't open the network namespace of %s %d", pid ? "task" : "criu",
				     pid ?: getpid());
	for (int i = 0; i < ud->nr_netns; i++)
		if (ud->netns[i] == st.st_ino)
			return 0;
	n = xrealloc(ud->netns, (ud->nr_netns + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ud->netns = n;
	ud->netns[ud->nr_netns++] = st.st_ino;
	pr_debug("the unix sockets of net:[%lu]\n", (unsigned long)st.st_ino);
	return collect_diag(ud, pid ? fd : -1);
}

static int add_tree_sock(struct unix_dump *ud, uint32_t ino)
{
	uint32_t *n;

	if (ud->nr_tree_socks % 256 == 0) {
		n = xrealloc(ud->tree_socks, (ud->nr_tree_socks + 256) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ud->tree_socks = n;
	}
	ud->tree_socks[ud->nr_tree_socks++] = ino;
	return 0;
}

static int note_inflight_sock(int fd, void *arg)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	pr_debug("socket %lu is in flight in a queue of the tree\n", (unsigned long)st.st_ino);
	return add_tree_sock(arg, st.st_ino);
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
static int scan_inflight(struct unix_dump *ud, struct pstree_item *item, int fd, unsigned int ino)
{
	struct diag_sk *s = diag_find(ud, ino);
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
	return ret ?: sk_queue_snap_files(s->snap, note_inflight_sock, ud);
}

/* The socket inodes behind the fds of one task (links "socket:[INO]"), and the sockets in flight in them. */
static int collect_task_socks(struct unix_dump *ud, struct pstree_item *item)
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
		if (add_tree_sock(ud, ino))
			return -ENOMEM;
		n = scan_inflight(ud, item, atoi(de->d_name), ino);
		if (n)
			return n;
	}
	return 0;
}

static bool in_tree(const struct unix_dump *ud, uint32_t ino)
{
	for (int i = 0; i < ud->nr_tree_socks; i++)
		if (ud->tree_socks[i] == ino)
			return true;
	return false;
}

/* The sockets of the dump, collected on first use. */
static int diag_ready(struct dump_files_ctx *ctx, struct unix_dump **ret_ud)
{
	struct unix_dump *ud = dump_files_state(ctx, &unix_dump_key, sizeof(*ud), diag_free);
	struct pstree_item *item;
	int ret;

	if (!ud)
		return -ENOMEM;
	if (!ud->ready) {
		_cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

		diag_free(ud);
		/* criu's namespace first, then each namespace of the tree's tasks */
		ret = self < 0 ? pr_fail_errno("can't open /proc/self") : collect_netns(ud, self, 0);
		for_each_pstree_item(ctx->tree, item)
			if (!ret && item->state != TASK_DEAD && item->proc_dfd >= 0)
				ret = collect_netns(ud, item->proc_dfd, item->pid);
		if (ret)
			return ret;
		for_each_pstree_item(ctx->tree, item) {
			ret = collect_task_socks(ud, item);
			if (ret)
				return pr_fail(ret, "can't list the sockets of task %d: %s\n", item->pid,
					       strerror(-ret));
		}
		ud->ready = true;
	}
	*ret_ud = ud;
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
 * A socket whose file was removed is bound to its name again at restore, and
 * its file moved aside at once (a file at the name now is moved away for
 * that moment and put back; several sockets of the tree bound in turn to
 * the name each get it so): the name's directory must be there, or have
 * been removed too (it is made again for the moment).
 */
static int check_rebindable(const struct pstree *t, const struct pstree_item *item, const char *name_dir,
			    const char *name, const char *who)
{
	char path[PATH_MAX], *slash;
	struct stat st;
	int ret;

	if (snprintf(path, sizeof(path), "%s%s%s", name_dir ?: "", name_dir ? "/" : "", name) >= (int)sizeof(path))
		return pr_fail(-ENAMETOOLONG, "%s: the name %s is too long\n", who, name);
	/* restore binds a relative name from the task's cwd, which must be there */
	if (name_dir && (mntns_tree_stat(t, item, name_dir, &st, true) || !S_ISDIR(st.st_mode)))
		return pr_fail(-EOPNOTSUPP,
			       "%s: bound to the relative name %s, whose socket file was removed and the directory %s it "
			       "is relative to (the task's cwd) too: criu can't bind the socket to that name again\n",
			       who, name, name_dir);
	if (!mntns_tree_stat(t, item, path, &st, false))
		return 0;
	/* directories removed too are made again for bind() and removed after; the nearest one left must be one */
	while ((slash = strrchr(path, '/')) && slash != path) {
		*slash = '\0';
		ret = mntns_tree_stat(t, item, path, &st, true);
		if (!ret) {
			if (S_ISDIR(st.st_mode))
				return 0;
			return pr_fail(-EOPNOTSUPP,
				       "%s: bound to a name under %s, whose socket file was removed and %s is not a "
				       "directory any more: criu can't bind the socket to that name again\n",
				       who, path, path);
		}
		if (ret != -ENOENT)
			return pr_fail(ret, "%s: can't look at %s: %s\n", who, path, strerror(-ret));
	}
	return 0;
}

/*
 * A bound path: the file must still be the socket's (same inode). A relative
 * name is taken from the task's cwd, recorded in name_dir; an absolute one
 * is looked up as the tree sees it (its own mount namespace: from its root).
 */
static int dump_name_path(struct pstree *t, UnixSkEntry *ue, FilePermsEntry *perms, const struct diag_sk *s,
			  const struct fd_parms *p, const char *who, char *dir, size_t dir_size)
{
	_cleanup_close_ int cwd = -1;
	struct stat st;
	ssize_t n;
	int err;

	/* restore binds a path from the root of the task's namespace */
	if (s->name[0] == '/' && p->item && mntns_of(t, p->item) && !mntns_task_at_root(p->item))
		return pr_fail(-EOPNOTSUPP,
			       "%s: bound to %s by a task whose root is not its mount namespace's (chroot): criu would "
			       "bind it again from the namespace's root\n",
			       who, s->name);
	if (s->name[0] != '/') {
		cwd = openat(p->item->proc_dfd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		n = readlinkat(p->item->proc_dfd, "cwd", dir, dir_size - 1);
		if (cwd < 0 || n < 0)
			return pr_fail_errno("%s: can't read the cwd of the task for the relative name %s",
				       who, s->name);
		dir[n] = '\0';
		ue->name_dir = dir;
	}
	/* the name is the task's mount namespace's: restore binds it there (as CRIU: a mount of it) */
	if (p->item && mntns_of(t, p->item)) {
		const struct mnt_ns *ns = mntns_of(t, p->item);

		ue->has_mnt_id = true;
		ue->mnt_id = ns->m[ns->root].mnt_id;
	}
	err = cwd >= 0 ? (fstatat(cwd, s->name, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0)
		       : mntns_tree_stat(t, p->item, s->name, &st, false);
	if (err || !S_ISSOCK(st.st_mode) || !s->has_vfs || st.st_ino != s->vfs_ino) {
		/* restore binds to the name and removes the file again */
		int ret = check_rebindable(t, p->item, ue->name_dir, s->name, who);

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
	/* a tmpfs of the tree's mount namespace: its image leaves the file out, bind() makes it again */
	return mntns_note_socket_file(t, &st);
}

/* The listener whose queue holds a connection from client (not accepted yet), or NULL. */
static const struct diag_sk *pending_on(const struct unix_dump *ud, uint32_t client)
{
	for (int i = 0; i < DIAG_HASH_SIZE; i++)
		for (const struct diag_sk *l = ud->diag_hash[i]; l; l = l->next)
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
static int check_pending(const struct unix_dump *ud, const struct diag_sk *s, const char *who)
{
	if (s->rqueue != s->nr_icons)
		return pr_fail(-EOPNOTSUPP, "%s: listening unix socket %u: %u connections pending, %u known\n", who,
			       s->ino, s->rqueue, s->nr_icons);
	for (uint32_t k = 0; k < s->nr_icons; k++) {
		const struct diag_sk *c = s->icons[k] ? diag_find(ud, s->icons[k]) : NULL;

		if (!c)
			return pr_fail(-EOPNOTSUPP,
				       "%s: listening unix socket %u has a pending connection whose client is closed\n",
				       who, s->ino);
		if (!in_tree(ud, c->ino))
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

/*
 * A socket whose peer is outside the tree (CRIU's --ext-unix-sk): named by
 * --ext-unix-sk=INO or --external unix[INO], anything (restore takes it from
 * --inherit-fd fd[N]:socket:[INO], or connects a datagram socket to its
 * peer's name again); with a bare --ext-unix-sk, a datagram socket connected
 * to a named datagram socket, with nothing queued from it (restore connects
 * it to that name again). The rest is refused, saying which option would do.
 */
static int check_ext_peer(const struct unix_dump *ud, const struct diag_sk *s, const char *who)
{
	const struct diag_sk *peer = diag_find(ud, s->peer);

	if (opts_ext_unix_ino(s->ino))
		return 0;
	if (!opts.ext_unix_sk)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u is connected to socket %u, which no task of the dumped tree "
			       "holds (its peer is outside the tree; see --ext-unix-sk and --external unix[%u])\n",
			       who, s->ino, s->peer, s->ino);
	if (!peer || peer->type != SOCK_DGRAM)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u is one end of a %s connection whose other end, socket %u, is "
			       "outside the tree: --ext-unix-sk keeps only datagram peers (--external unix[%u] "
			       "with --inherit-fd fd[N]:socket:[%u] at restore)\n",
			       who, s->ino, s->type == SOCK_STREAM ? "stream" : "seqpacket", s->peer, s->ino, s->ino);
	if (!peer->name_len || (peer->name[0] && peer->name[0] != '/'))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u is connected to datagram socket %u outside the tree, which has %s "
			       "to connect to again\n",
			       who, s->ino, s->peer, peer->name_len ? "a relative path (no directory known)" : "no name");
	/* (an empty datagram first in the queue shows as 0: restore refuses it then) */
	if (s->rqueue)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u has datagrams queued from socket %u outside the tree: criu can't "
			       "send them again from there\n",
			       who, s->ino, s->peer);
	return 0;
}

/*
 * The peer outside the tree of a socket dumped with it, once: CRIU's
 * external entry (USK_EXTERN), with the peer's type and name; restore
 * connects to that name (a datagram peer) and never creates it.
 */
static int dump_ext_peer(struct dump_files_ctx *ctx, struct unix_dump *ud, const struct diag_sk *s)
{
	const struct diag_sk *peer = diag_find(ud, s->peer);
	FileEntry fe = FILE_ENTRY__INIT;
	UnixSkEntry ue = UNIX_SK_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	SkOptsEntry skopts = SK_OPTS_ENTRY__INIT;
	uint32_t *v;

	for (int i = 0; i < ud->nr_ext_peers; i++)
		if (ud->ext_peers[i] == s->peer)
			return 0;
	v = xrealloc(ud->ext_peers, (ud->nr_ext_peers + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ud->ext_peers = v;
	v[ud->nr_ext_peers++] = s->peer;

	ue.id = ctx->next_id++;
	ue.ino = s->peer;
	ue.type = peer ? peer->type : s->type;
	ue.state = TCP_LISTEN;	/* as CRIU writes its external entries */
	ue.uflags = USK_EXTERN;
	ue.fown = &fown;
	ue.opts = &skopts;
	if (peer) {
		ue.name.len = peer->name_len;
		ue.name.data = (uint8_t *)peer->name;
	}
	fe.type = FD_TYPES__UNIXSK;
	fe.id = ue.id;
	fe.usk = &ue;
	pr_info("unix socket %u outside the tree (peer of %u): written as external, file %u\n", s->peer, s->ino,
		ue.id);
	return write_file_entry(ctx, &fe);
}

/* States and connections criu can't restore, and peers outside the tree. */
static int check_dumpable(const struct unix_dump *ud, const struct diag_sk *s, const char *who)
{
	const struct diag_sk *pend;
	int ret;

	if (s->state != TCP_LISTEN && s->state != TCP_ESTABLISHED && s->state != TCP_CLOSE)
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u is in state %u, which criu can't restore\n", who,
			       s->ino, s->state);
	if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u has type %u\n", who, s->ino, s->type);
	if (s->state == TCP_LISTEN) {
		ret = check_pending(ud, s, who);
		if (ret)
			return ret;
	}
	if (s->state == TCP_ESTABLISHED && !s->peer && s->type != SOCK_DGRAM &&
	    s->shutdown != (SK_RCV_SHUTDOWN | SK_SEND_SHUTDOWN) && !pending_on(ud, s->ino))
		return pr_fail(-EOPNOTSUPP, "%s: unix socket %u is connected, but criu can't find to what\n", who,
			       s->ino);
	pend = s->state == TCP_ESTABLISHED && !s->peer ? pending_on(ud, s->ino) : NULL;
	if (pend && !in_tree(ud, pend->ino))
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u waits to be accepted by socket %u, which no task of the dumped "
			       "tree holds\n",
			       who, s->ino, pend->ino);
	if (pend && s->wqueue)
		return pr_fail(-EOPNOTSUPP,
			       "%s: unix socket %u sent data (%u bytes of buffers) on a connection not accepted "
			       "yet; criu can't dump it\n",
			       who, s->ino, s->wqueue);
	if (s->peer && !in_tree(ud, s->peer))
		return check_ext_peer(ud, s, who);
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

/*
 * The id of the socket's network namespace (SIOCGSKNS): restore makes it
 * there. A namespace no task of the tree is in can't be made again (0 and
 * no id: criu's own, in which no task of the tree is; the socket was passed
 * from outside).
 */
static int sock_netns_id(struct dump_files_ctx *ctx, int lfd, const char *who, uint32_t *ret_id)
{
	_cleanup_close_ int ns = ioctl(lfd, SIOCGSKNS);
	struct stat sk_ns, mine;
	int ret;

	*ret_id = 0;
	if (ns < 0)
		return pr_fail_errno("%s: can't get the socket's network namespace (SIOCGSKNS)", who);
	ret = ctx->tree ? ns_id_of_fd(ctx->tree, NS_NET, ns, ret_id) : -ENOENT;
	if (ret != -ENOENT)
		return ret ? pr_fail(ret, "%s: can't read the network namespaces of the tree: %s\n", who,
				     strerror(-ret))
			   : 0;
	if (fstat(ns, &sk_ns) || stat("/proc/self/ns/net", &mine))
		return pr_fail_errno("%s: can't stat the socket's network namespace", who);
	if (sk_ns.st_ino == mine.st_ino && sk_ns.st_dev == mine.st_dev)
		return 0;
	return pr_fail(-EOPNOTSUPP,
		       "%s: unix socket in network namespace net:[%lu], in which no task of the tree is: criu makes "
		       "sockets again only in the tree's namespaces and its own\n",
		       who, (unsigned long)sk_ns.st_ino);
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
	struct unix_dump *ud;
	struct diag_sk *s;
	SkOptsEntry opts;
	FownEntry fown;
	int family, ret;

	snprintf(who, sizeof(who), "fd %d of task %d", p->fd, p->item ? p->item->pid : 0);
	ret = get_int_opt(p->lfd, SOL_SOCKET, SO_DOMAIN, &family);
	if (ret)
		return pr_fail(ret, "%s: can't tell the socket's family: %s\n", who, strerror(-ret));
	if (family != AF_UNIX)
		return pr_fail(-EOPNOTSUPP, "%s: %s socket (family %d); criu dumps only unix, TCP and UDP sockets yet\n", who,
			       family_name(family), family);
	/* first: a socket of a namespace no task is in is unknown to sock_diag too */
	ret = sock_netns_id(ctx, p->lfd, who, &ue.ns_id);
	if (ret)
		return ret;
	ue.has_ns_id = ue.ns_id != 0;
	ret = diag_ready(ctx, &ud);
	if (ret)
		return ret;
	s = diag_find(ud, p->stat.st_ino);
	if (!s)
		return pr_fail(-ENOENT, "%s: unix socket %lu is unknown to sock_diag (in a network namespace no task of "
					"the tree is in?)\n",
			       who, (unsigned long)p->stat.st_ino);
	ret = check_dumpable(ud, s, who);
	if (ret)
		return ret;

	ret = fill_fown(ctx, p, &fown);
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
	if (!s->peer && s->state == TCP_ESTABLISHED && s->type != SOCK_DGRAM && pending_on(ud, s->ino))
		ue.peer = pending_on(ud, s->ino)->ino;
	ue.fown = &fown;
	ue.opts = &opts;
	ue.name.len = s->name_len;
	ue.name.data = (uint8_t *)s->name;
	if (s->shutdown) {
		ue.has_shutdown = true;
		ue.shutdown = s->shutdown & (SK_RCV_SHUTDOWN | SK_SEND_SHUTDOWN);
	}
	if (s->name_len && s->name[0]) {
		ret = dump_name_path(ctx->tree, &ue, &perms, s, p, who, dir, sizeof(dir));
		if (ret)
			return ret;
	}
	ret = dump_queue(ctx, s, p->lfd, id, who);
	if (ret)
		return ret;
	if (s->peer && !in_tree(ud, s->peer)) {
		ret = dump_ext_peer(ctx, ud, s);
		if (ret)
			return ret;
	}

	pr_info("%s: unix socket %u, type %u, state %u, peer %u, name %s%.*s\n", who, s->ino, s->type, s->state,
		s->peer, s->name_len && !s->name[0] ? "@" : "", s->name_len ? s->name_len - !s->name[0] : 0,
		s->name + (s->name_len && !s->name[0]));
	fe.type = FD_TYPES__UNIXSK;
	fe.id = id;
	fe.usk = &ue;
	return write_file_entry(ctx, &fe);
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
