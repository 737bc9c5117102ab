// SPDX-License-Identifier: GPL-2.0
/*
 * inet sockets, restore side (Documentation/inet-sockets.md). The controller
 * makes each socket of files.img on its own: socket(), the options (with
 * SO_REUSEADDR on while it binds), bind() to the dumped address and port,
 * then listen() with the dumped backlog, connect() for a connected UDP
 * socket, or the connection through soccr in repair mode (sk-tcp.c). A
 * connection leaves repair mode in late(), right before the tree runs; the
 * network lock the dump left goes in cleanup(), after the tree runs or on
 * failure.
 *
 * A socket of one of the tree's network namespaces (inet_sk_entry.ns_id
 * other than criu's) is opened once the tree exists: the controller joins
 * the namespace through a pidfd of the task that made it (rst_ns_fd()),
 * makes and sets up the socket there, and goes back to its own.
 */
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "rst-ctx.h"
#include "sk-inet.h"
#include "sk-inet-opts.h"

#include "fdinfo.pb-c.h"
#include "sk-inet.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-inet: "

struct inet_rst_sk {
	InetSkEntry *ie;
	struct soccr_sk *repair;	/* a connection in repair mode until late() */
	bool conn_locked;		/* its lock (iptables rules) is still there */
	uint32_t netns;			/* the dumped id of its network namespace, 0: criu's */
	char who[64];
};

/* the restore's state (rst_files_state()): whether a connection was restored, to lift the lock */
struct inet_rst {
	bool had_conns;
};
static const char inet_rst_key;

static bool is_conn(const InetSkEntry *ie)
{
	return ie->proto == IPPROTO_TCP && ie->state != TCP_LISTEN && ie->state != TCP_CLOSE;
}

int inet_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	InetSkEntry *ie = d->fe->isk;
	struct inet_rst_sk *s;

	if (!ie || !ie->opts || !ie->fown)
		return pr_fail(-EINVAL, "files.img: inet socket %u has no socket entry\n", d->id);
	if (ie->family != AF_INET && ie->family != AF_INET6)
		return pr_fail(-EINVAL, "files.img: inet socket %u has family %u\n", d->id, ie->family);
	if (!(ie->type == SOCK_STREAM && ie->proto == IPPROTO_TCP) && !(ie->type == SOCK_DGRAM && ie->proto == IPPROTO_UDP))
		return pr_fail(-EOPNOTSUPP, "files.img: inet socket %u has type %u, protocol %u: not restored yet\n",
			       d->id, ie->type, ie->proto);
	if (ie->n_src_addr != (ie->family == AF_INET ? 1u : 4u) ||
	    (ie->n_dst_addr && ie->n_dst_addr != ie->n_src_addr) || ie->src_port > 65535 || ie->dst_port > 65535)
		return pr_fail(-EINVAL, "files.img: inet socket %u has a bad address\n", d->id);
	s = xzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ie = ie;
	snprintf(s->who, sizeof(s->who), "inet socket %u (file %u)", ie->ino, d->id);
	d->priv = s;
	/* no id (an older image) or criu's: made in criu's namespace, before the tree */
	if (!ie->has_ns_id || !ie->ns_id || ie->ns_id == ctx->dump_criu_ns_id[NS_NET])
		return 0;
	/* every task is in criu's or in one the restore makes: any other is no task's */
	if (!rst_ns_of_tree(ctx, NS_NET, ie->ns_id))
		return pr_fail(-EINVAL, "files.img: %s is in network namespace %u, which is neither criu's (%u) nor "
					"a task's of the tree\n",
			       s->who, ie->ns_id, ctx->dump_criu_ns_id[NS_NET]);
	s->netns = ie->ns_id;
	d->stage = FILE_OPEN_AFTER_TREE;
	return 0;
}

/* an address of the entry, with the IPv6 scope of its interface */
static int entry_sockaddr(const InetSkEntry *ie, bool peer, union soccr_addr *a)
{
	if (inet_entry_addr(ie, peer, a))
		return -EINVAL;
	if (ie->family == AF_INET6 && ie->ifname && *ie->ifname) {
		a->v6.sin6_scope_id = if_nametoindex(ie->ifname);
		if (!a->v6.sin6_scope_id)
			return -ENODEV;
	}
	return 0;
}

static bool addr_any(const union soccr_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return !a->v4.sin_port && a->v4.sin_addr.s_addr == htonl(INADDR_ANY);
	return !a->v6.sin6_port && IN6_IS_ADDR_UNSPECIFIED(&a->v6.sin6_addr);
}

static socklen_t sa_len(const union soccr_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->v4) : sizeof(a->v6);
}

/* A socket that is not a TCP connection: bind, then listen or connect as dumped. */
static int restore_plain(int fd, struct inet_rst_sk *s)
{
	const InetSkEntry *ie = s->ie;
	union soccr_addr a;

	if (entry_sockaddr(ie, false, &a))
		return pr_fail(-EINVAL, "%s: bad local address (interface %s?)\n", s->who, ie->ifname ?: "-");
	if (!addr_any(&a) && bind(fd, &a.sa, sa_len(&a)))
		return pr_fail_errno("%s: can't bind it to its address again", s->who);
	if (ie->proto == IPPROTO_TCP && ie->state == TCP_LISTEN && listen(fd, ie->backlog))
		return pr_fail_errno("%s: listen", s->who);
	/* connected: a peer port (CRIU writes a zero peer address for an unconnected socket) */
	if (ie->proto == IPPROTO_UDP && ie->n_dst_addr && ie->dst_port) {
		if (entry_sockaddr(ie, true, &a))
			return pr_fail(-EINVAL, "%s: bad peer address\n", s->who);
		if (connect(fd, &a.sa, sa_len(&a)))
			return pr_fail_errno("%s: can't connect it to its peer again", s->who);
	}
	return 0;
}

static int restore_one(struct rst_ctx *ctx, struct inet_rst_sk *s, int fd)
{
	const InetSkEntry *ie = s->ie;
	struct inet_rst *st;
	int ret;

	ret = inet_restore_opts(fd, ie, s->who);
	if (ret)
		return ret;
	if (is_conn(ie) && opts.tcp_close) {
		/*
		 * as CRIU's --tcp-close: a connection comes back closed, a socket that
		 * was never connected and is shut down both ways (reads end of file)
		 */
		pr_info("%s: connection restored closed (--tcp-close)\n", s->who);
		if (shutdown(fd, SHUT_RDWR) && errno != ENOTCONN)
			return pr_fail_errno("%s: can't shut the closed connection down", s->who);
	} else if (is_conn(ie)) {
		if (!opts.tcp_established)
			return pr_fail(-EINVAL, "%s: a TCP connection (state %s): restore it with --tcp-established "
					       "(or --tcp-close)\n",
				       s->who, inet_state_name(ie->state));
		st = rst_files_state(ctx, &inet_rst_key, sizeof(*st));
		if (!st)
			return -ENOMEM;
		st->had_conns = true;
		/*
		 * locked at dump in the socket's namespace: criu's, where the rules
		 * are now; one of the tree's took them with it, this one is new
		 */
		s->conn_locked = !s->netns;
		/*
		 * SO_REUSEADDR as dumped before repair mode, which binds without it
		 * and whose end puts back the value it found (soccr_resume())
		 */
		ret = inet_restore_reuseaddr(fd, ie, s->who);
		ret = ret ?: inet_restore_conn_bufs(fd, ie, s->who);
		ret = ret ?: tcp_restore_conn(ctx->img_dfd, fd, ie, &s->repair, s->who);
		ret = ret ?: inet_restore_buf_lock(fd, ie, s->who);
	} else {
		ret = restore_plain(fd, s);
		ret = ret ?: inet_restore_reuseaddr(fd, ie, s->who);
	}
	/* O_ASYNC comes with the owner, in the task (fown.c) */
	if (!ret && fcntl(fd, F_SETFL, ie->flags & O_NONBLOCK))
		ret = pr_fail_errno("%s: F_SETFL", s->who);
	return ret;
}

static int make_one(struct rst_ctx *ctx, struct inet_rst_sk *s, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	int ret;

	fd = socket(s->ie->family, s->ie->type | SOCK_CLOEXEC, s->ie->proto);
	if (fd < 0)
		return pr_fail_errno("%s: socket", s->who);
	ret = restore_one(ctx, s, fd);
	if (ret)
		return ret;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* In the tree's network namespace s->netns (the names of interfaces are looked up there too). */
static int make_in_netns(struct rst_ctx *ctx, struct inet_rst_sk *s, int *ret_fd)
{
	_cleanup_close_ int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), to = -1;
	int ret;

	if (back < 0)
		return pr_fail_errno("%s: can't open criu's network namespace", s->who);
	to = rst_ns_fd(ctx, NS_NET, s->netns);
	if (to == -ENOENT)
		return pr_fail(-EINVAL, "%s: files.img: its network namespace %u is none of the tree's\n", s->who,
			       s->netns);
	if (to < 0)
		return to;
	if (setns(to, CLONE_NEWNET))
		return pr_fail_errno("%s: can't join its network namespace %u", s->who, s->netns);
	ret = make_one(ctx, s, ret_fd);
	/* failing, criu would make its next sockets in the tree's namespace: the restore stops */
	if (setns(back, CLONE_NEWNET))
		return pr_fail_errno("%s: can't go back to criu's network namespace", s->who);
	return ret;
}

int inet_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	struct inet_rst_sk *s = d->priv;
	int ret;

	ret = s->netns ? make_in_netns(ctx, s, ret_fd) : make_one(ctx, s, ret_fd);
	if (ret)
		return ret;
	pr_info("%s: restored, state %s%s\n", s->who, inet_state_name(s->ie->state),
		s->netns ? ", in the tree's network namespace" : "");
	return 0;
}

/* Right before the tree runs: the connection leaves repair mode; its iptables rules go. */
int inet_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	struct inet_rst_sk *s = d->priv;
	struct soccr_sk *sk = s ? TAKE_PTR(s->repair) : NULL;
	struct net_conn c;
	int ret;

	if (!sk)
		return 0;
	ret = soccr_resume(sk);
	if (ret)
		return pr_fail(ret, "%s: can't take the connection out of repair mode: %s\n", s->who, strerror(-ret));
	if (s->conn_locked && !inet_entry_conn(s->ie, &c) && !net_unlock_conn(ctx->tree.root->pid, &c, -1))
		s->conn_locked = false;
	return 0;
}

void inet_cleanup(struct rst_ctx *ctx)
{
	struct inet_rst *st = rst_files_state(ctx, &inet_rst_key, sizeof(*st));
	struct file_desc *d;
	struct net_conn c;

	for_each_file_desc(ctx, d) {
		struct inet_rst_sk *s = d->priv;

		if (d->type != &inet_sk_file_type || !s)
			continue;
		/* a failed restore: its socket is closed in repair mode, silently */
		soccr_release(TAKE_PTR(s->repair));
		if (s->conn_locked && !inet_entry_conn(s->ie, &c))
			net_unlock_conn(ctx->tree.root->pid, &c, -1);
		free(s);
		d->priv = NULL;
	}
	if (st && st->had_conns)
		net_unlock_all(ctx->tree.root->pid, -1);
}
