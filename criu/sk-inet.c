// SPDX-License-Identifier: GPL-2.0
/*
 * inet sockets, dump side (Documentation/inet-sockets.md): AF_INET and
 * AF_INET6 (v4-mapped addresses included) TCP and UDP sockets, written as
 * CRIU's inet_sk_entry in files.img.
 *
 * Everything is read from criu's own copy of the socket (pidfd_getfd gives
 * the task's very socket): type and protocol, the bound and the peer
 * address, the TCP state and a listener's queue from TCP_INFO, and the
 * options a program sets (SOL_SOCKET, IP/IPv6 and TCP levels). An
 * established connection (--tcp-established) is locked (net-lock.c), put in
 * repair mode and saved with soccr into tcp-stream-<ino>.img (sk-tcp.c).
 *
 * Refused, naming the socket: raw, ICMP and other protocols; a listener
 * with connections not accepted yet (unless --skip-in-flight); a UDP socket
 * with datagrams queued; a socket filter; a TCP connection without
 * --tcp-established or --tcp-close, or in a state other than ESTABLISHED.
 *
 * Restore: sk-inet-restore.c.
 */
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common.h"
#include "cr_options.h"
#include "file-ext.h"
#include "files.h"
#include "image.h"
#include "namespaces.h"
#include "protobuf.h"
#include "sk-inet.h"
#include "sk-inet-opts.h"

#include "fdinfo.pb-c.h"
#include "sk-inet.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-inet: "

/* What criu sees of one inet socket. */
struct inet_view {
	int family, type, proto;
	uint32_t state;
	union soccr_addr src, dst;
	bool connected;		/* it has a peer address */
	struct tcp_info ti;	/* TCP only */
	char who[96];
};

static int sock_int(int fd, int level, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, level, opt, ret, &len) ? -errno : 0;
}

static bool inet_detect(const struct fd_parms *p)
{
	int family;

	if (!S_ISSOCK(p->stat.st_mode) || sock_int(p->lfd, SOL_SOCKET, SO_DOMAIN, &family))
		return false;
	return family == AF_INET || family == AF_INET6;
}

const char *inet_state_name(uint32_t state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT", [TCP_SYN_RECV] = "SYN_RECV",
		[TCP_FIN_WAIT1] = "FIN_WAIT1", [TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT", [TCP_LAST_ACK] = "LAST_ACK",
		[TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "unknown";
}

static int read_view(const struct fd_parms *p, struct inet_view *v)
{
	socklen_t len;
	int ret;

	snprintf(v->who, sizeof(v->who), "fd %d of task %d", p->fd, p->item ? p->item->pid : 0);
	ret = sock_int(p->lfd, SOL_SOCKET, SO_DOMAIN, &v->family);
	ret = ret ?: sock_int(p->lfd, SOL_SOCKET, SO_TYPE, &v->type);
	ret = ret ?: sock_int(p->lfd, SOL_SOCKET, SO_PROTOCOL, &v->proto);
	if (ret)
		return pr_fail(ret, "%s: can't tell the socket's kind: %s\n", v->who, strerror(-ret));
	len = sizeof(v->src);
	if (getsockname(p->lfd, &v->src.sa, &len))
		return pr_fail_errno("%s: getsockname", v->who);
	len = sizeof(v->dst);
	if (!getpeername(p->lfd, &v->dst.sa, &len))
		v->connected = true;
	else if (errno != ENOTCONN)
		return pr_fail_errno("%s: getpeername", v->who);
	if (v->proto == IPPROTO_TCP) {
		len = sizeof(v->ti);
		if (getsockopt(p->lfd, SOL_TCP, TCP_INFO, &v->ti, &len))
			return pr_fail_errno("%s: TCP_INFO", v->who);
		v->state = v->ti.tcpi_state;
	} else {
		v->state = v->connected ? TCP_ESTABLISHED : TCP_CLOSE;
	}
	return 0;
}

static const char *proto_name(const struct inet_view *v)
{
	if (v->proto == IPPROTO_TCP)
		return v->family == AF_INET ? "TCP" : "TCPv6";
	return v->family == AF_INET ? "UDP" : "UDPv6";
}

/* "127.0.0.1:80" or "[::1]:80" */
static const char *addr_str(const union soccr_addr *a, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN] = "?";

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->v4.sin_addr, s, sizeof(s));
		snprintf(buf, size, "%s:%u", s, ntohs(a->v4.sin_port));
	} else {
		inet_ntop(AF_INET6, &a->v6.sin6_addr, s, sizeof(s));
		snprintf(buf, size, "[%s]:%u", s, ntohs(a->v6.sin6_port));
	}
	return buf;
}

/* A UDP socket's queues: refused when anything is queued (criu can't send it again from its sender). */
static int check_udp_queues(int lfd, const struct inet_view *v)
{
	uint32_t mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);
	char a[80];

	if (getsockopt(lfd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return pr_fail_errno("%s: SO_MEMINFO", v->who);
	if (mem[SK_MEMINFO_RMEM_ALLOC])
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s socket %s has datagrams queued, not read yet (%u bytes of buffers); criu can't "
			       "dump them\n",
			       v->who, proto_name(v), addr_str(&v->src, a, sizeof(a)), mem[SK_MEMINFO_RMEM_ALLOC]);
	if (mem[SK_MEMINFO_WMEM_QUEUED] || mem[SK_MEMINFO_WMEM_ALLOC])
		return pr_fail(-EOPNOTSUPP, "%s: %s socket %s has datagrams being sent (corked?); criu can't dump them\n",
			       v->who, proto_name(v), addr_str(&v->src, a, sizeof(a)));
	return 0;
}

/* A listener's connections not accepted yet: refused, or dropped with --skip-in-flight (as CRIU). */
static int check_listener(const struct inet_view *v)
{
	char a[80];

	/* for a listener, tcp_info's unacked is its accept queue and sacked its backlog */
	if (!v->ti.tcpi_unacked)
		return 0;
	addr_str(&v->src, a, sizeof(a));
	if (opts.tcp_skip_in_flight) {
		pr_warn("%s: listening %s socket %s: %u connections not accepted yet are dropped (--skip-in-flight)\n",
			v->who, proto_name(v), a, v->ti.tcpi_unacked);
		return 0;
	}
	return pr_fail(-EOPNOTSUPP,
		       "%s: listening %s socket %s has %u connections not accepted yet; criu can't dump them "
		       "(--skip-in-flight drops them)\n",
		       v->who, proto_name(v), a, v->ti.tcpi_unacked);
}

static int check_dumpable(const struct fd_parms *p, const struct inet_view *v)
{
	char a[80], b[80];

	if (!(v->type == SOCK_STREAM && v->proto == IPPROTO_TCP) && !(v->type == SOCK_DGRAM && v->proto == IPPROTO_UDP))
		return pr_fail(-EOPNOTSUPP,
			       "%s: an inet socket of type %d, protocol %d (raw, ICMP, UDP-Lite, SCTP, ...); criu "
			       "dumps only TCP and UDP sockets yet\n",
			       v->who, v->type, v->proto);
	if (v->proto == IPPROTO_UDP)
		return check_udp_queues(p->lfd, v);
	switch (v->state) {
	case TCP_LISTEN:
		return check_listener(v);
	case TCP_CLOSE:
		return 0;
	default:
		break;
	}
	addr_str(&v->src, a, sizeof(a));
	addr_str(&v->dst, b, sizeof(b));
	if (!opts.tcp_established && !opts.tcp_close)
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s connection %s > %s (%s): criu dumps established connections only with "
			       "--tcp-established (or --tcp-close)\n",
			       v->who, proto_name(v), a, b, inet_state_name(v->state));
	if (!opts.tcp_close && !soccr_state_supported(v->state))
		return pr_fail(-EOPNOTSUPP, "%s: %s connection %s > %s is in state %s, which criu can't restore yet\n",
			       v->who, proto_name(v), a, b, inet_state_name(v->state));
	return 0;
}

/*
 * The id of the socket's network namespace (SIOCGSKNS), which must be its
 * task's: the restore makes it there (criu's or one of the tree's). A socket
 * made before its task moved to another namespace is refused, naming both.
 */
static int sock_netns_id(const struct fd_parms *p, const struct inet_view *v, uint32_t *ret_id)
{
	_cleanup_close_ int nsfd = ioctl(p->lfd, SIOCGSKNS);
	struct stat sk_ns, task_ns;

	if (nsfd < 0)
		return pr_fail_errno("%s: can't get the socket's network namespace (SIOCGSKNS)", v->who);
	if (fstat(nsfd, &sk_ns) || fstatat(p->item->proc_dfd, "ns/net", &task_ns, 0))
		return pr_fail_errno("%s: can't stat the network namespaces of the socket and its task", v->who);
	if (sk_ns.st_ino != task_ns.st_ino || sk_ns.st_dev != task_ns.st_dev)
		return pr_fail(-EOPNOTSUPP,
			       "%s: %s socket in network namespace net:[%lu], its task in net:[%lu]: criu restores a "
			       "socket only in its task's namespace\n",
			       v->who, proto_name(v), (unsigned long)sk_ns.st_ino, (unsigned long)task_ns.st_ino);
	*ret_id = p->item->ns_id[NS_NET];
	return 0;
}

/* words of an address as CRIU keeps them: the raw bytes, 1 word for IPv4, 4 for IPv6 */
static void put_addr(const union soccr_addr *a, uint32_t *words, size_t *n, uint32_t *port)
{
	if (a->sa.sa_family == AF_INET) {
		memcpy(words, &a->v4.sin_addr, 4);
		*n = 1;
		*port = ntohs(a->v4.sin_port);
	} else {
		memcpy(words, &a->v6.sin6_addr, 16);
		*n = 4;
		*port = ntohs(a->v6.sin6_port);
	}
}

static int inet_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	FileEntry fe = FILE_ENTRY__INIT;
	InetSkEntry ie = INET_SK_ENTRY__INIT;
	struct inet_opts_buf ob;
	uint32_t src[4], dst[4];
	char ifname[IF_NAMESIZE], a[80];
	struct inet_view v = {};
	FownEntry fown;
	int ret;

	ret = read_view(p, &v);
	ret = ret ?: check_dumpable(p, &v);
	ret = ret ?: fill_fown(ctx, p, &fown);
	ret = ret ?: inet_dump_opts(p->lfd, v.family, v.proto, &ob, v.who);
	ret = ret ?: sock_netns_id(p, &v, &ie.ns_id);
	if (ret)
		return ret;
	ie.has_ns_id = ie.ns_id != 0;
	ie.id = id;
	ie.ino = p->stat.st_ino;
	ie.family = v.family;
	ie.type = v.type;
	ie.proto = v.proto;
	ie.state = v.state;
	ie.flags = p->flags;
	ie.backlog = v.state == TCP_LISTEN ? v.ti.tcpi_sacked : 0;
	ie.fown = &fown;
	inet_opts_attach(&ob, &ie);
	put_addr(&v.src, src, &ie.n_src_addr, &ie.src_port);
	ie.src_addr = src;
	/* as CRIU: a peer address always, all zeros (port 0) when not connected; CRIU's restore requires it */
	memset(dst, 0, sizeof(dst));
	ie.n_dst_addr = ie.n_src_addr;
	ie.dst_addr = dst;
	if (v.connected)
		put_addr(&v.dst, dst, &ie.n_dst_addr, &ie.dst_port);
	if (v.family == AF_INET6 && v.src.v6.sin6_scope_id && ns_task_in_own(p->item, NS_NET))
		return pr_fail(-EOPNOTSUPP, "%s: a link-local IPv6 socket (scope id %u) in the tree's network namespace: "
					    "not restored yet\n",
			       v.who, v.src.v6.sin6_scope_id);
	if (v.family == AF_INET6 && v.src.v6.sin6_scope_id) {
		if (!if_indextoname(v.src.v6.sin6_scope_id, ifname))
			return pr_fail_errno("%s: the interface of scope id %u", v.who, v.src.v6.sin6_scope_id);
		ie.ifname = ifname;
	}
	if (v.proto == IPPROTO_TCP && v.state != TCP_LISTEN && v.state != TCP_CLOSE && !opts.tcp_close) {
		struct net_conn c = { .src = v.src, .dst = v.dst };

		ret = tcp_dump_conn(ctx, p, &c, v.state, ie.ino, v.who);
		if (ret)
			return ret;
	}
	pr_info("%s: %s socket %u, state %s, %s\n", v.who, proto_name(&v), ie.ino, inet_state_name(v.state),
		addr_str(&v.src, a, sizeof(a)));
	fe.type = FD_TYPES__INETSK;
	fe.id = id;
	fe.isk = &ie;
	return write_file_entry(ctx, &fe);
}

const struct file_type inet_sk_file_type = {
	.name = "inet socket",
	.type = FD_TYPES__INETSK,
	.detect = inet_detect,
	.dump = inet_dump,
	.collect = inet_collect,
	.open = inet_open,
	.late = inet_late,
	.cleanup = inet_cleanup,
	.stage = FILE_OPEN_EARLY,
};
