// SPDX-License-Identifier: GPL-2.0
/*
 * The options of an inet socket (sk-inet-opts.h). The integer and boolean
 * options are one table: level, option, which message and field keeps it,
 * and for which family or protocol; the rest (buffer sizes and their locks,
 * timeouts, linger, the bound device, filters) have code of their own.
 */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common.h"
#include "log.h"
#include "sk-inet-opts.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-inet: "

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#define BUF_LOCK_SND 1	/* SOCK_SNDBUF_LOCK */
#define BUF_LOCK_RCV 2	/* SOCK_RCVBUF_LOCK */

enum opt_msg { M_SK, M_IP, M_TCP };

/* has_off: offset of the has_ flag; val_off: of the 32-bit value (bool, uint32 or int32) */
struct int_opt {
	const char *name;
	int level, opt;
	enum opt_msg msg;
	size_t has_off, val_off;
	int family;		/* 0: both, AF_INET or AF_INET6 only */
	bool tcp_only;
	bool udp_only;		/* multicast: the kernel refuses it on stream sockets */
};

#define SK(o, f)	#o, SOL_SOCKET, o, M_SK, offsetof(SkOptsEntry, has_##f), offsetof(SkOptsEntry, f)
#define IP(l, o, f)	#o, l, o, M_IP, offsetof(IpOptsEntry, has_##f), offsetof(IpOptsEntry, f)
#define TCP(o, f)	#o, SOL_TCP, o, M_TCP, offsetof(TcpOptsEntry, has_##f), offsetof(TcpOptsEntry, f)

static const struct int_opt int_opts[] = {
	{ SK(SO_REUSEPORT, so_reuseport) },
	{ SK(SO_BROADCAST, so_broadcast) },
	{ SK(SO_KEEPALIVE, so_keepalive) },
	{ SK(SO_OOBINLINE, so_oobinline) },
	{ SK(SO_PRIORITY, so_priority) },
	{ SK(SO_RCVLOWAT, so_rcvlowat) },
	{ SK(SO_MARK, so_mark) },
	{ SK(SO_DONTROUTE, so_dontroute) },
	{ SK(SO_NO_CHECK, so_no_check) },
	{ SK(SO_PASSCRED, so_passcred) },
	{ IP(SOL_IP, IP_FREEBIND, freebind), AF_INET },
	{ IP(SOL_IPV6, IPV6_FREEBIND, freebind), AF_INET6 },
	{ IP(SOL_IP, IP_TOS, tos), AF_INET },
	{ IP(SOL_IP, IP_TTL, ttl), AF_INET },
	{ IP(SOL_IP, IP_PKTINFO, pktinfo), AF_INET },
	{ IP(SOL_IPV6, IPV6_TCLASS, tclass), AF_INET6 },
	{ IP(SOL_IPV6, IPV6_UNICAST_HOPS, hoplimit), AF_INET6 },
	{ IP(SOL_IPV6, IPV6_RECVPKTINFO, recvpktinfo6), AF_INET6 },
	{ TCP(TCP_NODELAY, nodelay), 0, true },
	{ TCP(TCP_CORK, cork), 0, true },
	{ TCP(TCP_KEEPCNT, keepcnt), 0, true },
	{ TCP(TCP_KEEPIDLE, keepidle), 0, true },
	{ TCP(TCP_KEEPINTVL, keepintvl), 0, true },
	/* fields of our own (>= 100) */
	{ SK(SO_TIMESTAMP, so_timestamp) },
	{ SK(SO_TIMESTAMPNS, so_timestampns) },
	{ SK(SO_RXQ_OVFL, so_rxq_ovfl) },
	{ SK(SO_BUSY_POLL, so_busy_poll) },
	{ SK(SO_PEEK_OFF, so_peek_off) },
	{ SK(SO_ZEROCOPY, so_zerocopy) },
	{ IP(SOL_IP, IP_MTU_DISCOVER, mtu_discover), AF_INET },
	{ IP(SOL_IP, IP_RECVERR, recverr), AF_INET },
	{ IP(SOL_IP, IP_TRANSPARENT, transparent), AF_INET },
	{ IP(SOL_IP, IP_BIND_ADDRESS_NO_PORT, bind_address_no_port), AF_INET },
	{ IP(SOL_IP, IP_RECVTOS, recvtos), AF_INET },
	{ IP(SOL_IP, IP_RECVTTL, recvttl), AF_INET },
	{ IP(SOL_IP, IP_MULTICAST_TTL, multicast_ttl), AF_INET, false, true },
	{ IP(SOL_IP, IP_MULTICAST_LOOP, multicast_loop), AF_INET, false, true },
	{ IP(SOL_IPV6, IPV6_MTU_DISCOVER, mtu_discover6), AF_INET6 },
	{ IP(SOL_IPV6, IPV6_RECVERR, recverr6), AF_INET6 },
	{ IP(SOL_IPV6, IPV6_TRANSPARENT, transparent6), AF_INET6 },
	{ IP(SOL_IPV6, IPV6_MULTICAST_HOPS, multicast_hops6), AF_INET6, false, true },
	{ IP(SOL_IPV6, IPV6_MULTICAST_LOOP, multicast_loop6), AF_INET6, false, true },
	{ IP(SOL_IPV6, IPV6_RECVTCLASS, recvtclass6), AF_INET6 },
	{ TCP(TCP_USER_TIMEOUT, user_timeout), 0, true },
	{ TCP(TCP_DEFER_ACCEPT, defer_accept), 0, true },
	{ TCP(TCP_FASTOPEN, fastopen), 0, true },
	{ TCP(TCP_NOTSENT_LOWAT, notsent_lowat), 0, true },
	{ TCP(TCP_SYNCNT, syncnt), 0, true },
	{ TCP(TCP_LINGER2, linger2), 0, true },
	{ TCP(TCP_FASTOPEN_CONNECT, fastopen_connect), 0, true },
};

static void *msg_of(enum opt_msg m, SkOptsEntry *sk, IpOptsEntry *ip, TcpOptsEntry *tcp)
{
	return m == M_SK ? (void *)sk : m == M_IP ? (void *)ip : (void *)tcp;
}

static bool applies(const struct int_opt *o, int family, bool is_tcp)
{
	return (!o->family || o->family == family) && (!o->tcp_only || is_tcp) && (!o->udp_only || !is_tcp);
}

static int get_int(int fd, int level, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, level, opt, ret, &len) ? -errno : 0;
}

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) ? -errno : 0;
}

/* a socket filter is not kept: refused */
static int check_filter(int lfd, const char *who)
{
	socklen_t len = 0;

	if (getsockopt(lfd, SOL_SOCKET, SO_GET_FILTER, NULL, &len)) {
		if (errno == EACCES)
			return pr_fail(-EOPNOTSUPP, "%s: the socket has an eBPF filter attached; criu can't dump it\n",
				       who);
		return pr_fail_errno("%s: SO_GET_FILTER", who);
	}
	if (len)
		return pr_fail(-EOPNOTSUPP, "%s: the socket has a filter (SO_ATTACH_FILTER, %u instructions); criu "
				       "can't dump it yet\n",
			       who, len);
	return 0;
}

static int dump_sk_misc(int lfd, struct inet_opts_buf *ob, const char *who)
{
	SkOptsEntry *o = &ob->sk;
	struct timeval tv = {};
	struct linger lg = {};
	socklen_t len;
	int v, ret;

	ret = get_int(lfd, SOL_SOCKET, SO_SNDBUF, &v);
	o->so_sndbuf = v;
	ret = ret ?: get_int(lfd, SOL_SOCKET, SO_RCVBUF, &v);
	o->so_rcvbuf = v;
	ret = ret ?: get_int(lfd, SOL_SOCKET, SO_REUSEADDR, &v);
	o->has_reuseaddr = true;
	o->reuseaddr = v;
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
	len = sizeof(lg);
	if (!ret && getsockopt(lfd, SOL_SOCKET, SO_LINGER, &lg, &len))
		ret = -errno;
	if (ret)
		return pr_fail(ret, "%s: can't read the socket options: %s\n", who, strerror(-ret));
	if (lg.l_onoff) {
		o->has_so_linger = true;
		o->so_linger = lg.l_linger;
	}
	if (!get_int(lfd, SOL_SOCKET, SO_BUF_LOCK, &v)) {
		o->has_so_buf_lock = true;
		o->so_buf_lock = v;
	}
	if (ob->is_tcp) {
		len = sizeof(ob->congestion) - 1;
		if (getsockopt(lfd, SOL_TCP, TCP_CONGESTION, ob->congestion, &len))
			return pr_fail_errno("%s: TCP_CONGESTION", who);
		ob->congestion[len] = '\0';
		if (ob->congestion[0])
			ob->tcp.congestion = ob->congestion;
	}
	len = sizeof(ob->bound_dev);
	if (getsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, ob->bound_dev, &len))
		return pr_fail_errno("%s: SO_BINDTODEVICE", who);
	if (len && ob->bound_dev[0])
		o->so_bound_dev = ob->bound_dev;
	return check_filter(lfd, who);
}

int inet_dump_opts(int lfd, int family, int proto, struct inet_opts_buf *ob, const char *who)
{
	int v;

	memset(ob, 0, sizeof(*ob));
	sk_opts_entry__init(&ob->sk);
	ip_opts_entry__init(&ob->ip);
	tcp_opts_entry__init(&ob->tcp);
	ob->is_tcp = proto == IPPROTO_TCP;
	for (size_t i = 0; i < ARRAY_SIZE(int_opts); i++) {
		const struct int_opt *o = &int_opts[i];
		char *m = msg_of(o->msg, &ob->sk, &ob->ip, &ob->tcp);

		if (!applies(o, family, ob->is_tcp))
			continue;
		if (get_int(lfd, o->level, o->opt, &v)) {
			if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
				continue;
			return pr_fail_errno("%s: getsockopt %s", who, o->name);
		}
		*(protobuf_c_boolean *)(m + o->has_off) = true;
		memcpy(m + o->val_off, &v, sizeof(v));
	}
	if (family == AF_INET6) {
		if (get_int(lfd, SOL_IPV6, IPV6_V6ONLY, &v))
			return pr_fail_errno("%s: IPV6_V6ONLY", who);
		ob->has_v6only = true;
		ob->v6only = v;
	}
	return dump_sk_misc(lfd, ob, who);
}

void inet_opts_attach(struct inet_opts_buf *ob, InetSkEntry *ie)
{
	ie->opts = &ob->sk;
	ie->ip_opts = &ob->ip;
	ie->tcp_opts = ob->is_tcp ? &ob->tcp : NULL;
	ie->has_v6only = ob->has_v6only;
	ie->v6only = ob->v6only;
}

/* set level/opt to v unless the socket has it already */
static int set_if_differs(int fd, int level, int opt, int v, const char *name, const char *who)
{
	int cur;

	if (!get_int(fd, level, opt, &cur) && cur == v)
		return 0;
	if (set_int(fd, level, opt, v))
		return pr_fail_errno("%s: can't set %s to %d", who, name, v);
	return 0;
}

static int restore_int_opts(int fd, const InetSkEntry *ie, const char *who)
{
	bool is_tcp = ie->proto == IPPROTO_TCP;
	IpOptsEntry no_ip = IP_OPTS_ENTRY__INIT;
	TcpOptsEntry no_tcp = TCP_OPTS_ENTRY__INIT;
	SkOptsEntry *sk = ie->opts;
	IpOptsEntry *ip = ie->ip_opts ?: &no_ip;
	TcpOptsEntry *tcp = ie->tcp_opts ?: &no_tcp;
	int ret, v;

	for (size_t i = 0; i < ARRAY_SIZE(int_opts); i++) {
		const struct int_opt *o = &int_opts[i];
		char *m = msg_of(o->msg, sk, ip, tcp);

		if (!applies(o, ie->family, is_tcp) || !*(protobuf_c_boolean *)(m + o->has_off))
			continue;
		memcpy(&v, m + o->val_off, sizeof(v));
		ret = set_if_differs(fd, o->level, o->opt, v, o->name, who);
		if (ret)
			return ret;
	}
	return 0;
}

/* the kernel doubles what it is given: give half of what it reported, past the sysctl limits (root) */
static int set_buf(int fd, int force, int plain, uint32_t v, const char *who)
{
	if (set_int(fd, SOL_SOCKET, force, v / 2) && set_int(fd, SOL_SOCKET, plain, v / 2))
		return pr_fail_errno("%s: can't set a buffer size to %u", who, v);
	return 0;
}

static int restore_sk_misc(int fd, const SkOptsEntry *o, const char *who)
{
	struct timeval tv;
	int lock = o->has_so_buf_lock ? (int)o->so_buf_lock : BUF_LOCK_SND | BUF_LOCK_RCV;
	int ret = 0;

	/* a size the program never set is the kernel's to tune: left as the new socket has it */
	if (lock & BUF_LOCK_SND)
		ret = set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, o->so_sndbuf, who);
	if (!ret && (lock & BUF_LOCK_RCV))
		ret = set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, o->so_rcvbuf, who);
	if (!ret && o->has_so_buf_lock)
		ret = set_if_differs(fd, SOL_SOCKET, SO_BUF_LOCK, o->so_buf_lock, "SO_BUF_LOCK", who);
	if (ret)
		return ret;
	tv = (struct timeval){ .tv_sec = o->so_snd_tmo_sec, .tv_usec = o->so_snd_tmo_usec };
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return pr_fail_errno("%s: SO_SNDTIMEO", who);
	tv = (struct timeval){ .tv_sec = o->so_rcv_tmo_sec, .tv_usec = o->so_rcv_tmo_usec };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return pr_fail_errno("%s: SO_RCVTIMEO", who);
	if (o->has_so_linger) {
		struct linger lg = { .l_onoff = 1, .l_linger = o->so_linger };

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			return pr_fail_errno("%s: SO_LINGER", who);
	}
	if (o->so_bound_dev && *o->so_bound_dev &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->so_bound_dev, strlen(o->so_bound_dev) + 1))
		return pr_fail_errno("%s: SO_BINDTODEVICE %s", who, o->so_bound_dev);
	if (o->n_so_filter)
		return pr_fail(-EOPNOTSUPP, "%s: the image has a socket filter, which criu can't restore\n", who);
	return 0;
}

/* a TCP congestion control other than the new socket's */
static int restore_congestion(int fd, const TcpOptsEntry *t, const char *who)
{
	char cur[32] = "";
	socklen_t len = sizeof(cur) - 1;

	if (!t || !t->congestion || !*t->congestion)
		return 0;
	if (!getsockopt(fd, SOL_TCP, TCP_CONGESTION, cur, &len) && !strncmp(cur, t->congestion, sizeof(cur)))
		return 0;
	if (setsockopt(fd, SOL_TCP, TCP_CONGESTION, t->congestion, strlen(t->congestion)))
		return pr_fail_errno("%s: can't set TCP_CONGESTION %s", who, t->congestion);
	return 0;
}

int inet_restore_opts(int fd, const InetSkEntry *ie, const char *who)
{
	int ret;

	if (ie->family == AF_INET6 && ie->has_v6only) {
		ret = set_if_differs(fd, SOL_IPV6, IPV6_V6ONLY, ie->v6only, "IPV6_V6ONLY", who);
		if (ret)
			return ret;
	}
	if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1))
		return pr_fail_errno("%s: SO_REUSEADDR", who);
	ret = restore_int_opts(fd, ie, who);
	ret = ret ?: restore_congestion(fd, ie->proto == IPPROTO_TCP ? ie->tcp_opts : NULL, who);
	return ret ?: restore_sk_misc(fd, ie->opts, who);
}

int inet_restore_conn_bufs(int fd, const InetSkEntry *ie, const char *who)
{
	const SkOptsEntry *o = ie->opts;

	return set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, o->so_sndbuf, who) ?:
	       set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, o->so_rcvbuf, who);
}

int inet_restore_buf_lock(int fd, const InetSkEntry *ie, const char *who)
{
	const SkOptsEntry *o = ie->opts;

	if (!o->has_so_buf_lock)
		return 0;
	return set_if_differs(fd, SOL_SOCKET, SO_BUF_LOCK, o->so_buf_lock, "SO_BUF_LOCK", who);
}

int inet_restore_reuseaddr(int fd, const InetSkEntry *ie, const char *who)
{
	int v = ie->opts->has_reuseaddr && ie->opts->reuseaddr;

	if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, v))
		return pr_fail_errno("%s: SO_REUSEADDR", who);
	return 0;
}
