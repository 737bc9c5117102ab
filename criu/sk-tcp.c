// SPDX-License-Identifier: GPL-2.0
/*
 * Established TCP connections (--tcp-established), between sk-inet.c's
 * sockets and soccr (soccr/soccr.h).
 *
 * Dump: the connection is locked (net-lock.c), then put in repair mode
 * through criu's copy of the socket, and soccr saves it: a
 * tcp_stream_entry, then the receive queue's bytes, then the send queue's,
 * in tcp-stream-<ino>.img (CRIU's layout). The socket stays in repair mode
 * until the dump knows the tree's fate (tcp_dump_finish()): a tree that is
 * killed closes it without a FIN or RST and the lock stays until the
 * restore; a tree that runs on gets the connection back and the lock goes.
 *
 * Restore: a new socket in repair mode takes the image's addresses,
 * sequence numbers, options, queues and windows (tcp_restore_conn());
 * sk-inet-restore.c lets it leave repair mode right before the tree runs.
 */
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "files.h"
#include "image.h"
#include "protobuf.h"
#include "sk-inet.h"

#include "sk-inet.pb-c.h"
#include "tcp-stream.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-tcp: "

/* One connection in repair mode during a dump. */
struct tcp_dumped {
	struct tcp_dumped *next;
	struct soccr_sk *sk;
	int fd;			/* criu's own reference to the socket */
	struct net_conn conn;
	uint32_t state;		/* TCP_* */
	bool locked;
	int netns_fd;		/* the socket's network namespace, where its lock is; -1: criu's */
};

struct tcp_dump {
	struct tcp_dumped *conns;
	pid_t root;
};

/* soccr's messages, at debug level: the caller logs what failed, once */
static void soccr_log(int level, const char *msg)
{
	pr_debug("%s", msg);
}

static struct tcp_dump *tcp_dump_get(struct dump_files_ctx *ctx)
{
	if (!ctx->tcp) {
		ctx->tcp = xzalloc(sizeof(*ctx->tcp));
		if (ctx->tcp)
			ctx->tcp->root = item_vpid(ctx->tree->root);
		soccr_set_log(soccr_log);
	}
	return ctx->tcp;
}

static int write_stream(struct dump_files_ctx *ctx, uint32_t ino, const struct soccr_data *d, const char *inq,
			const char *outq, const char *who)
{
	TcpStreamEntry te = TCP_STREAM_ENTRY__INIT;
	struct cr_img *img = open_image_at(ctx->img_dfd, CR_FD_TCP_STREAM, O_DUMP, ino);
	int ret;

	if (!img)
		return pr_fail(-errno, "%s: %s\n", who, img_last_error());
	te.inq_len = d->inq_len;
	te.inq_seq = d->inq_seq;
	te.outq_len = d->outq_len;
	te.outq_seq = d->outq_seq;
	te.opt_mask = d->opt_mask;
	te.snd_wscale = d->snd_wscale;
	te.mss_clamp = d->mss_clamp;
	te.has_rcv_wscale = true;
	te.rcv_wscale = d->rcv_wscale;
	te.has_timestamp = true;
	te.timestamp = d->timestamp;
	te.has_unsq_len = true;
	te.unsq_len = d->unsq_len;
	if (d->has_window) {
		te.has_snd_wl1 = te.has_snd_wnd = te.has_max_window = te.has_rcv_wnd = te.has_rcv_wup = true;
		te.snd_wl1 = d->snd_wl1;
		te.snd_wnd = d->snd_wnd;
		te.max_window = d->max_window;
		te.rcv_wnd = d->rcv_wnd;
		te.rcv_wup = d->rcv_wup;
	}
	ret = pb_write_one(img, &te, PB_TCP_STREAM);
	ret = ret ?: write_img_buf(img, inq, d->inq_len);
	ret = ret ?: write_img_buf(img, outq, d->outq_len);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

static int save_conn(struct dump_files_ctx *ctx, struct tcp_dumped *t, uint32_t ino, const char *who)
{
	_cleanup_free_ char *inq = NULL, *outq = NULL;
	struct soccr_data d;
	int ret;

	ret = soccr_save(t->sk, &d);
	ret = ret ?: soccr_queue(t->sk, &d, SOCCR_RECV_QUEUE, &inq);
	ret = ret ?: soccr_queue(t->sk, &d, SOCCR_SEND_QUEUE, &outq);
	if (ret)
		return pr_fail(ret, "%s: can't save the connection: %s\n", who, strerror(-ret));
	pr_info("%s: connection saved: %u bytes to read, %u to send (%u never sent)\n", who, d.inq_len, d.outq_len,
		d.unsq_len);
	return write_stream(ctx, ino, &d, inq, outq, who);
}

/* The socket's network namespace, when it is not criu's (the lock's rules go there), else -1. */
static int sock_netns(int sk, int *ret_fd)
{
	_cleanup_close_ int fd = ioctl(sk, SIOCGSKNS);
	struct stat ns, own;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &ns) || stat("/proc/self/ns/net", &own))
		return -errno;
	if (ns.st_ino != own.st_ino || ns.st_dev != own.st_dev)
		*ret_fd = TAKE_FD(fd);
	return 0;
}

int tcp_dump_conn(struct dump_files_ctx *ctx, const struct fd_parms *p, const struct net_conn *c, uint32_t state,
		  uint32_t ino, const char *who)
{
	struct tcp_dump *td = tcp_dump_get(ctx);
	struct tcp_dumped *t;
	char buf[128];
	int ret;

	if (!td)
		return -ENOMEM;
	for (t = td->conns; t; t = t->next)
		if (!memcmp(&t->conn, c, sizeof(*c)))
			return pr_fail(-EINVAL, "%s: connection %s is dumped twice\n", who,
				       net_conn_str(c, buf, sizeof(buf)));
	t = xzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->conn = *c;
	t->state = state;
	t->netns_fd = -1;
	t->fd = fcntl(p->lfd, F_DUPFD_CLOEXEC, 0);
	t->next = td->conns;
	td->conns = t;
	if (t->fd < 0)
		return pr_fail_errno("%s: dup", who);
	ret = sock_netns(t->fd, &t->netns_fd);
	if (ret)
		return pr_fail(ret, "%s: can't get its network namespace: %s\n", who, strerror(-ret));
	ret = net_lock_conn(td->root, c, t->netns_fd);
	if (ret)
		return pr_fail(ret, "%s: can't lock connection %s\n", who, net_conn_str(c, buf, sizeof(buf)));
	t->locked = true;
	ret = soccr_pause(t->fd, &t->sk);
	if (ret)
		return pr_fail(ret, "%s: can't put connection %s in repair mode (TCP_REPAIR): %s\n", who,
			       net_conn_str(c, buf, sizeof(buf)), strerror(-ret));
	return save_conn(ctx, t, ino, who);
}

static bool same_addr(const union soccr_addr *a, const union soccr_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->v4.sin_port == b->v4.sin_port && a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
	return a->v6.sin6_port == b->v6.sin6_port && !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16);
}

/* the other end of c among the dumped connections (both ends in the tree), or NULL */
static const struct tcp_dumped *other_end(const struct tcp_dump *td, const struct net_conn *c)
{
	for (const struct tcp_dumped *t = td->conns; t; t = t->next)
		if (same_addr(&t->conn.src, &c->dst) && same_addr(&t->conn.dst, &c->src))
			return t;
	return NULL;
}

int tcp_dump_check(struct dump_files_ctx *ctx)
{
	const struct tcp_dump *td = ctx->tcp;
	char buf[128];

	for (const struct tcp_dumped *t = td ? td->conns : NULL; t; t = t->next) {
		const struct tcp_dumped *o;

		if (!soccr_state_fin_received(t->state))
			continue;
		o = other_end(td, &t->conn);
		if (!o || !soccr_state_fin_sent(o->state))
			return pr_fail(-EOPNOTSUPP,
				       "connection %s is in state %s (its peer shut it for writing) and its peer is "
				       "not in the dumped tree: criu can't give it the end of file again\n",
				       net_conn_str(&t->conn, buf, sizeof(buf)), inet_state_name(t->state));
	}
	return 0;
}

void tcp_dump_finish(struct dump_files_ctx *ctx, bool resume)
{
	struct tcp_dump *td = ctx->tcp;
	struct tcp_dumped *t;
	char buf[128];

	if (!td)
		return;
	while ((t = td->conns)) {
		td->conns = t->next;
		if (t->sk && resume && soccr_resume(t->sk))
			pr_err("connection %s: can't leave repair mode\n", net_conn_str(&t->conn, buf, sizeof(buf)));
		else if (t->sk && !resume)
			soccr_release(t->sk);
		if (t->locked && resume)
			net_unlock_conn(td->root, &t->conn, t->netns_fd);
		if (resume && t->netns_fd >= 0)
			net_unlock_all(td->root, t->netns_fd);	/* nftables: that namespace's table */
		if (t->fd >= 0)
			close(t->fd);	/* killed tree: the last reference, in repair mode: no FIN, no RST */
		if (t->netns_fd >= 0)
			close(t->netns_fd);
		free(t);
	}
	if (resume)
		net_unlock_all(td->root, -1);
	free(td);
	ctx->tcp = NULL;
}

/* ------------------------------------------------------------------ restore */

static int entry_addr(const uint32_t *words, size_t n, uint32_t port, int family, union soccr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET && n == 1) {
		a->v4.sin_family = AF_INET;
		memcpy(&a->v4.sin_addr, words, 4);
		a->v4.sin_port = htons(port);
		return 0;
	}
	if (family == AF_INET6 && n == 4) {
		a->v6.sin6_family = AF_INET6;
		memcpy(&a->v6.sin6_addr, words, 16);
		a->v6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

int inet_entry_addr(const InetSkEntry *ie, bool peer, union soccr_addr *ret)
{
	if (peer)
		return entry_addr(ie->dst_addr, ie->n_dst_addr, ie->dst_port, ie->family, ret);
	return entry_addr(ie->src_addr, ie->n_src_addr, ie->src_port, ie->family, ret);
}

int inet_entry_conn(const InetSkEntry *ie, struct net_conn *ret)
{
	return inet_entry_addr(ie, false, &ret->src) ?: inet_entry_addr(ie, true, &ret->dst);
}

static int read_stream(int img_dfd, uint32_t ino, TcpStreamEntry **ret_te, char **ret_buf, const char *who)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_TCP_STREAM, O_RSTR, ino);
	_cleanup_free_ char *buf = NULL;
	TcpStreamEntry *te;
	uint64_t len;
	int ret;

	if (!img)
		return pr_fail(-errno, "%s: %s\n", who, img_last_error());
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "%s: tcp-stream-%x.img is missing (dumped with --tcp-close? restore it with "
				       "--tcp-close)\n",
			       who, ino);
	}
	ret = pb_read_one(img, (void **)&te, PB_TCP_STREAM);
	if (ret) {
		close_image(img);
		return ret;
	}
	len = (uint64_t)te->inq_len + te->outq_len;
	if (len > IMG_ENTRY_MAX || (te->has_unsq_len && te->unsq_len > te->outq_len)) {
		close_image(img);
		pb_free(te, PB_TCP_STREAM);
		return pr_fail(-EINVAL, "%s: tcp-stream-%x.img: bad queue lengths\n", who, ino);
	}
	buf = malloc(len ?: 1);
	ret = !buf ? -ENOMEM : len ? read_img_buf(img, buf, len) : 0;
	close_image(img);
	if (ret < 0) {
		pb_free(te, PB_TCP_STREAM);
		return ret;
	}
	*ret_te = te;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

static void stream_data(const TcpStreamEntry *te, const InetSkEntry *ie, struct soccr_data *d)
{
	memset(d, 0, sizeof(*d));
	d->state = ie->state;
	d->inq_len = te->inq_len;
	d->inq_seq = te->inq_seq;
	d->outq_len = te->outq_len;
	d->outq_seq = te->outq_seq;
	d->unsq_len = te->has_unsq_len ? te->unsq_len : 0;
	d->opt_mask = te->opt_mask;
	d->snd_wscale = te->snd_wscale;
	d->rcv_wscale = te->has_rcv_wscale ? te->rcv_wscale : 0;
	d->mss_clamp = te->mss_clamp;
	d->timestamp = te->has_timestamp ? te->timestamp : 0;
	d->has_window = te->has_snd_wl1 && te->has_snd_wnd && te->has_max_window && te->has_rcv_wnd && te->has_rcv_wup;
	d->snd_wl1 = te->snd_wl1;
	d->snd_wnd = te->snd_wnd;
	d->max_window = te->max_window;
	d->rcv_wnd = te->rcv_wnd;
	d->rcv_wup = te->rcv_wup;
}

int tcp_restore_conn(int img_dfd, int fd, const InetSkEntry *ie, struct soccr_sk **ret_sk, const char *who)
{
	_cleanup_free_ char *buf = NULL;
	struct soccr_sk *sk = NULL;
	struct soccr_data d;
	struct net_conn c;
	TcpStreamEntry *te = NULL;
	int ret;

	soccr_set_log(soccr_log);
	if (inet_entry_conn(ie, &c))
		return pr_fail(-EINVAL, "%s: the image's addresses are not %s ones\n", who,
			       ie->family == AF_INET ? "IPv4" : "IPv6");
	ret = read_stream(img_dfd, ie->ino, &te, &buf, who);
	if (ret)
		return ret;
	stream_data(te, ie, &d);
	pb_free(te, PB_TCP_STREAM);
	ret = soccr_pause(fd, &sk);
	ret = ret ?: soccr_set_addr(sk, 1, &c.src);
	ret = ret ?: soccr_set_addr(sk, 0, &c.dst);
	ret = ret ?: soccr_set_queue(sk, SOCCR_RECV_QUEUE, buf, d.inq_len);
	ret = ret ?: soccr_set_queue(sk, SOCCR_SEND_QUEUE, buf + d.inq_len, d.outq_len);
	ret = ret ?: soccr_restore(sk, &d);
	if (ret) {
		soccr_release(sk);
		return pr_fail(ret, "%s: can't restore the connection: %s\n", who, strerror(-ret));
	}
	*ret_sk = sk;
	return 0;
}
