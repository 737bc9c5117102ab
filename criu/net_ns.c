// SPDX-License-Identifier: GPL-2.0
/*
 * Network namespaces as container runtimes use them (Documentation/
 * namespaces.md): a namespace holding only its loopback device is made
 * again, with the device up or down and its MTU (netns-ID.img, netdev-ID.img,
 * CRIU's NetnsEntry and NetDeviceEntry); its default addresses and routes
 * come back with it, made by the kernel. Anything more is refused at dump,
 * by name: another device, another address, a route or rule the kernel did
 * not make, an nftables or iptables table, a sysctl of /proc/sys/net that
 * differs from a new namespace's, a socket of a task in the namespace other
 * than a TCP or UDP one (those are made again in it, sk-inet-restore.c).
 *
 * A namespace named by --external net[INO]:KEY at dump is not looked into:
 * its NetnsEntry has the key, and the restore joins the namespace the
 * runtime hands over with --inherit-fd fd[N]:KEY (ns-restore.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/fib_rules.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "net: "
#include "common.h"
#include "cr_options.h"
#include "image.h"
#include "log.h"
#include "namespaces.h"
#include "protobuf.h"

#include "netdev.pb-c.h"

#ifndef NFPROTO_UNSPEC
#define NFPROTO_UNSPEC 0
#endif

/* ------------------------------------------------------ netlink dumps */

/*
 * Send a dump request, call fn for each answer. 0; 1 when fn refused an
 * answer (fn logged it, and returned 1); or the kernel's -errno.
 */
static int nl_dump(int proto, struct nlmsghdr *req, int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	_cleanup_close_ int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	_cleanup_free_ char *buf = xmalloc(32768);

	if (sk < 0 || !buf)
		return sk < 0 ? -errno : -ENOMEM;
	req->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req->nlmsg_seq = 1;
	if (send(sk, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(sk, buf, 32768, 0);

		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			int ret;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
			ret = fn(h, arg);
			if (ret)
				return ret;
		}
	}
}

/* ------------------------------------------------------ devices and addresses */

struct lo_state {
	unsigned flags;
	int mtu;
	int ifindex;
};

static int read_lo(struct lo_state *lo)
{
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {};

	if (sk < 0)
		return pr_fail_errno("can't make a socket to read the loopback device");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sk, SIOCGIFFLAGS, &ifr))
		return pr_fail_errno("can't read the flags of lo");
	lo->flags = (unsigned short)ifr.ifr_flags;
	if (ioctl(sk, SIOCGIFMTU, &ifr))
		return pr_fail_errno("can't read the MTU of lo");
	lo->mtu = ifr.ifr_mtu;
	lo->ifindex = if_nametoindex("lo");
	return lo->ifindex ? 0 : pr_fail_errno("no lo in the namespace");
}

static int check_links(uint32_t id)
{
	struct if_nameindex *ifs = if_nameindex();
	int ret = 0;

	if (!ifs)
		return pr_fail_errno("can't list the network devices of net namespace %u", id);
	for (struct if_nameindex *i = ifs; i->if_index && !ret; i++)
		if (strcmp(i->if_name, "lo"))
			ret = pr_fail(-EOPNOTSUPP, "the net namespace (id %u) has the network device %s (index %u): "
						   "only the loopback device is restored yet\n",
				      id, i->if_name, i->if_index);
	if_freenameindex(ifs);
	return ret;
}

/* The addresses the kernel gives lo when it comes up, and nothing else. */
static bool default_addr(const struct ifaddrs *a)
{
	static const struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	if (strcmp(a->ifa_name, "lo"))
		return false;
	if (a->ifa_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)a->ifa_addr, *mask = (const void *)a->ifa_netmask;

		return in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && mask &&
		       mask->sin_addr.s_addr == htonl(0xff000000);
	}
	if (a->ifa_addr->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, &lo6, sizeof(lo6));
	return false;
}

static int check_addrs(uint32_t id)
{
	struct ifaddrs *all;
	int ret = 0;

	if (getifaddrs(&all))
		return pr_fail_errno("can't list the addresses of net namespace %u", id);
	for (struct ifaddrs *a = all; a && !ret; a = a->ifa_next) {
		char txt[INET6_ADDRSTRLEN] = "?";
		const void *p;

		if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
			continue;	/* AF_PACKET: the device itself */
		if (default_addr(a))
			continue;
		p = a->ifa_addr->sa_family == AF_INET ? (const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
						      : (const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		inet_ntop(a->ifa_addr->sa_family, p, txt, sizeof(txt));
		ret = pr_fail(-EOPNOTSUPP, "the net namespace (id %u) has the address %s on %s: only lo's default "
					   "addresses are restored yet\n",
			      id, txt, a->ifa_name);
	}
	freeifaddrs(all);
	return ret;
}

/* ------------------------------------------------------ routes and rules */

struct nl_check {
	uint32_t id;
	int family;
};

static int route_one(struct nlmsghdr *h, void *arg)
{
	struct nl_check *c = arg;
	struct rtmsg *r = NLMSG_DATA(h);

	if (h->nlmsg_type != RTM_NEWROUTE || r->rtm_protocol == RTPROT_KERNEL)
		return 0;
	pr_err("the net namespace (id %u) has an IPv%d route to a /%u in table %u the kernel did not make (protocol "
	       "%u): routes are not restored yet\n",
	       c->id, c->family == AF_INET ? 4 : 6, r->rtm_dst_len, r->rtm_table, r->rtm_protocol);
	return 1;
}

/* the default rules (local, main, default) are the kernel's; FRA_PROTOCOL tells */
static int rule_one(struct nlmsghdr *h, void *arg)
{
	struct nl_check *c = arg;
	struct fib_rule_hdr *r = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*r));
	unsigned proto = 0, prio = 0;

	if (h->nlmsg_type != RTM_NEWRULE)
		return 0;
	for (struct rtattr *a = (void *)((char *)r + NLMSG_ALIGN(sizeof(*r))); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == FRA_PROTOCOL)
			proto = *(uint8_t *)RTA_DATA(a);
		if (a->rta_type == FRA_PRIORITY)
			prio = *(uint32_t *)RTA_DATA(a);
	}
	if (proto == RTPROT_KERNEL)
		return 0;
	pr_err("the net namespace (id %u) has an IPv%d rule (priority %u, table %u) the kernel did not make: rules "
	       "are not restored yet\n",
	       c->id, c->family == AF_INET ? 4 : 6, prio, r->table);
	return 1;
}

static int check_routes_rules(uint32_t id)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		struct {
			struct nlmsghdr h;
			struct rtmsg r;
		} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETROUTE },
			  .r = { .rtm_family = families[i] } };
		struct nl_check c = { id, families[i] };
		int ret;

		ret = nl_dump(NETLINK_ROUTE, &req.h, route_one, &c);
		if (!ret) {
			req.h.nlmsg_type = RTM_GETRULE;
			ret = nl_dump(NETLINK_ROUTE, &req.h, rule_one, &c);
		}
		if (ret == 1)
			return -EOPNOTSUPP;	/* logged */
		if (ret)
			return pr_fail(ret, "can't list the routes and rules of net namespace %u: %s\n", id,
				       strerror(-ret));
	}
	return 0;
}

/* ------------------------------------------------------ packet filters */

static int nft_table_one(struct nlmsghdr *h, void *arg)
{
	uint32_t *id = arg;
	struct nfgenmsg *g = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*g));
	const char *name = "?";

	for (struct rtattr *a = (void *)((char *)g + NLMSG_ALIGN(sizeof(*g))); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if ((a->rta_type & ~NLA_F_NESTED) == NFTA_TABLE_NAME)
			name = RTA_DATA(a);
	pr_err("the net namespace (id %u) has the nftables table %s: packet filters are not restored yet\n", *id,
	       name);
	return 1;
}

static int check_filters(uint32_t id)
{
	static const char *const legacy[] = { "ip_tables_names", "ip6_tables_names", "arp_tables_names" };
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE },
		  .g = { .nfgen_family = NFPROTO_UNSPEC, .version = NFNETLINK_V0 } };
	int ret;

	ret = nl_dump(NETLINK_NETFILTER, &req.h, nft_table_one, &id);
	if (ret == 1)
		return -EOPNOTSUPP;	/* logged */
	/* no nf_tables in the kernel (nfnetlink has no such subsystem): no table either */
	if (ret && ret != -EPROTONOSUPPORT && ret != -ENOENT && ret != -EOPNOTSUPP)
		return pr_fail(ret, "can't list the nftables tables of net namespace %u: %s\n", id, strerror(-ret));
	for (size_t i = 0; i < ARRAY_SIZE(legacy); i++) {
		char path[64], buf[64];
		_cleanup_close_ int fd = -1;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/net/%s", legacy[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* the module is not loaded: no tables */
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			return pr_fail(-EOPNOTSUPP, "the net namespace (id %u) has the %s table %s: packet filters are "
						    "not restored yet\n", id, legacy[i], buf);
		}
	}
	return 0;
}

/* ------------------------------------------------------ sysctls */

/*
 * Each value of /proc/sys/net the namespace's tasks may have changed, as
 * "path=value" lines, to compare with a new namespace's. Read-only entries
 * are the kernel's (counters), the TCP Fast Open key is random per namespace.
 */
struct sysctls {
	char *buf;
	size_t len, size;
};

static bool sysctl_skipped(const char *path)
{
	return strstr(path, "tcp_fastopen_key") != NULL;
}

static int sysctl_add(struct sysctls *s, const char *path, const char *val)
{
	size_t need = strlen(path) + strlen(val) + 3;

	if (s->len + need > s->size) {
		size_t size = (s->size + need) * 2;
		char *b = realloc(s->buf, size);

		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->size = size;
	}
	s->len += sprintf(s->buf + s->len, "%s=%s\n", path, val);
	return 0;
}

static int sysctl_walk(int dfd, const char *path, struct sysctls *s)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		char sub[512], val[256];
		struct stat st;
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, 0))
			continue;
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			ret = fd < 0 ? 0 : sysctl_walk(fd, sub, s);
			continue;
		}
		if (!(st.st_mode & 0222) || !(st.st_mode & 0444) || sysctl_skipped(sub))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n < 0)
			continue;	/* write-only in effect (flush) or unset (stable_secret) */
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		ret = sysctl_add(s, sub, val);
	}
	closedir(d);
	return ret;
}

static int read_sysctls(struct sysctls *s)
{
	int fd = open("/proc/sys/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return sysctl_walk(fd, "net", s);
}

/* In a child: a new namespace's sysctls, through a pipe. */
static int fresh_sysctls(struct sysctls *s)
{
	int p[2], status, ret = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		struct sysctls mine = {};

		close(p[0]);
		if (unshare(CLONE_NEWNET) || read_sysctls(&mine) ||
		    write(p[1], mine.buf ?: "", mine.len) != (ssize_t)mine.len)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(p[0], buf, sizeof(buf));

		if (n <= 0) {
			ret = n < 0 ? -errno : 0;
			break;
		}
		if (s->len + n + 1 > s->size) {
			char *b = realloc(s->buf, (s->len + n + 1) * 2);

			if (!b) {
				ret = -ENOMEM;
				break;
			}
			s->buf = b;
			s->size = (s->len + n + 1) * 2;
		}
		memcpy(s->buf + s->len, buf, n);
		s->len += n;
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status)))
		ret = -EIO;
	if (!ret && s->buf)
		s->buf[s->len] = '\0';
	return ret;
}

/* The value of path in a "path=value" list, or NULL. */
static const char *sysctl_find(const struct sysctls *s, const char *path, size_t plen, size_t *vlen)
{
	for (const char *l = s->buf; l && *l;) {
		const char *eol = strchr(l, '\n');

		if (!strncmp(l, path, plen) && l[plen] == '=') {
			*vlen = eol - l - plen - 1;
			return l + plen + 1;
		}
		l = eol + 1;
	}
	return NULL;
}

/* lo's IPv6 MTU follows the device's, which is restored */
static bool sysctl_follows_lo(const char *l, size_t plen, const char *v, size_t vlen, int lo_mtu)
{
	static const char mtu6[] = "net/ipv6/conf/lo/mtu";
	char want[16];

	snprintf(want, sizeof(want), "%d", lo_mtu);
	return plen == strlen(mtu6) && !strncmp(l, mtu6, plen) && vlen == strlen(want) && !strncmp(v, want, vlen);
}

static int check_sysctls(uint32_t id, int lo_mtu)
{
	struct sysctls ours = {}, fresh = {};
	int ret;

	ret = read_sysctls(&ours);
	if (!ret)
		ret = fresh_sysctls(&fresh);
	if (ret) {
		ret = pr_fail(ret, "can't compare the sysctls of net namespace %u with a new one's: %s\n", id,
			      strerror(-ret));
		goto out;
	}
	for (const char *l = ours.buf; l && *l && !ret;) {
		const char *eol = strchr(l, '\n'), *eq = strchr(l, '='), *v;
		size_t vlen = 0;

		v = sysctl_find(&fresh, l, eq - l, &vlen);
		if (sysctl_follows_lo(l, eq - l, eq + 1, eol - eq - 1, lo_mtu)) {
			l = eol + 1;
			continue;
		}
		if (!v || vlen != (size_t)(eol - eq - 1) || strncmp(v, eq + 1, vlen))
			ret = pr_fail(-EOPNOTSUPP, "the net namespace (id %u) has the sysctl %.*s set to '%.*s' (a new "
						   "namespace has '%.*s'): network sysctls are not restored yet\n",
				      id, (int)(eq - l), l, (int)(eol - eq - 1), eq + 1, v ? (int)vlen : 4,
				      v ?: "none");
		l = eol + 1;
	}
out:
	free(ours.buf);
	free(fresh.buf);
	return ret;
}

/* ------------------------------------------------------ dump */

/* --external net[INO]:KEY naming this namespace: its key, else NULL */
static const char *external_key(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return NULL;
	for (int i = 0; i < opts.nr_ext_net; i++)
		if (opts.ext_net[i].ino == st.st_ino)
			return opts.ext_net[i].key;
	return NULL;
}

static int write_one(int img_dfd, int type, uint32_t id, const void *msg, int pb_type)
{
	struct cr_img *img = open_image_at(img_dfd, type, O_DUMP, id);
	int ret;

	if (!img)
		return pr_fail_errno("can't create a net image of namespace %u", id);
	ret = msg ? pb_write_one(img, msg, pb_type) : 0;
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

int net_ns_dump(int img_dfd, uint32_t id)
{
	NetnsEntry ns = NETNS_ENTRY__INIT;
	NetDeviceEntry dev = NET_DEVICE_ENTRY__INIT;
	struct lo_state lo = {};
	int ret;

	ns.ext_key = (char *)external_key();
	if (ns.ext_key) {
		pr_info("net namespace %u is external (key %s): its contents are the runtime's\n", id, ns.ext_key);
		return write_one(img_dfd, CR_FD_NETNS, id, &ns, PB_NETNS);
	}
	ret = check_links(id);
	if (!ret)
		ret = check_addrs(id);
	if (!ret)
		ret = check_routes_rules(id);
	if (!ret)
		ret = check_filters(id);
	if (!ret)
		ret = read_lo(&lo);
	if (!ret)
		ret = check_sysctls(id, lo.mtu);
	if (ret)
		return ret;
	dev.type = ND_TYPE__LOOPBACK;
	dev.ifindex = lo.ifindex;
	dev.mtu = lo.mtu;
	dev.flags = lo.flags;
	dev.name = "lo";
	ret = write_one(img_dfd, CR_FD_NETNS, id, &ns, PB_NETNS);
	if (!ret)
		ret = write_one(img_dfd, CR_FD_NETDEV, id, &dev, PB_NETDEV);
	return ret;
}

/* the kernel's name of a socket's protocol ("TCP", "UNIX", ...), from its /proc/PID/fd link */
static int sock_proto_name(int fd_dfd, const char *name, char *buf, size_t size)
{
	char path[300];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", fd_dfd, name);
	n = getxattr(path, "system.sockprotoname", buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/*
 * Sockets of a task in a namespace of the tree: TCP and UDP ones (v4, v6)
 * and unix ones (the kernel names them UNIX-STREAM, and UNIX for datagram
 * and seqpacket) are made again in it (sk-inet-restore.c,
 * sk-unix-restore.c); any other is refused by name.
 */
int net_ns_check_task(struct pstree_item *item)
{
	static const char *const made_in_ns[] = { "TCP", "UDP", "TCPv6", "UDPv6", "UNIX", "UNIX-STREAM" };
	_cleanup_close_ int dfd = openat(item->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (dfd < 0)
		return pr_fail_errno("can't open /proc/%d/fd", item->pid);
	d = fdopendir(dup(dfd));
	if (!d)
		return pr_fail_errno("can't read /proc/%d/fd", item->pid);
	while (!ret && (de = readdir(d))) {
		char link[64] = "", proto[32] = "?";
		bool ok = false;

		if (de->d_name[0] == '.' || readlinkat(dfd, de->d_name, link, sizeof(link) - 1) < 0 ||
		    strncmp(link, "socket:", 7))
			continue;
		if (!sock_proto_name(dfd, de->d_name, proto, sizeof(proto)))
			for (size_t i = 0; i < ARRAY_SIZE(made_in_ns); i++)
				ok |= !strcmp(proto, made_in_ns[i]);
		if (!ok)
			ret = pr_fail(-EOPNOTSUPP,
				      "task %d has a %s socket (fd %s, %s) and is in a net namespace of its own: only TCP, "
				      "UDP and unix sockets are restored in the tree's network namespaces yet\n",
				      item->pid, proto, de->d_name, link);
	}
	closedir(d);
	return ret;
}

/* ------------------------------------------------------ restore */

struct net_ns_data {
	NetnsEntry *ns;
	NetDeviceEntry *lo;
};

void net_ns_free(void *data)
{
	struct net_ns_data *d = data;

	if (!d)
		return;
	if (d->ns)
		pb_free(d->ns, PB_NETNS);
	if (d->lo)
		pb_free(d->lo, PB_NETDEV);
	free(d);
}

static int read_devices(int img_dfd, uint32_t id, struct net_ns_data *d)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_NETDEV, O_RSTR, id);
	NetDeviceEntry *e;
	int ret;

	if (!img)
		return pr_fail_errno("can't open netdev-%u.img", id);
	while ((ret = pb_read_one_eof(img, (void **)&e, PB_NETDEV)) > 0) {
		if (e->type != ND_TYPE__LOOPBACK || d->lo) {
			ret = pr_fail(-EOPNOTSUPP, "netdev-%u.img: device %s (type %d): only one loopback device is "
						   "restored\n", id, e->name, e->type);
			pb_free(e, PB_NETDEV);
			break;
		}
		d->lo = e;
	}
	close_image(img);
	if (!ret && !d->lo)
		ret = pr_fail(-EINVAL, "netdev-%u.img: no loopback device\n", id);
	return ret;
}

int net_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd)
{
	struct net_ns_data *d = xzalloc(sizeof(*d));
	struct cr_img *img;
	int ret;

	if (!d)
		return -ENOMEM;
	img = open_image_at(img_dfd, CR_FD_NETNS, O_RSTR, id);
	if (!img) {
		net_ns_free(d);
		return pr_fail_errno("can't open netns-%u.img", id);
	}
	ret = pb_read_one(img, (void **)&d->ns, PB_NETNS);
	close_image(img);
	if (!ret && d->ns->ext_key) {
		int fd = inherit_fd_lookup(d->ns->ext_key);

		if (fd < 0)
			ret = pr_fail(-ENOENT, "net namespace %u was external (key %s): give it with --inherit-fd "
					       "fd[N]:%s\n", id, d->ns->ext_key, d->ns->ext_key);
		*ret_join_fd = fd;
	} else if (!ret && !(opts.empty_ns & CLONE_NEWNET)) {
		ret = read_devices(img_dfd, id, d);
	}
	if (ret) {
		net_ns_free(d);
		return ret;
	}
	*ret_data = d;
	return 0;
}

int net_ns_restore(void *data)
{
	struct net_ns_data *d = data;
	_cleanup_close_ int sk = -1;
	struct ifreq ifr = {};

	if (!d->lo)
		return 0;	/* --empty-ns net: the runtime fills it (setup-namespaces) */
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return pr_fail_errno("can't make a socket to set up lo");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sk, SIOCGIFMTU, &ifr))
		return pr_fail_errno("can't read the MTU of lo");
	if (ifr.ifr_mtu != (int)d->lo->mtu) {
		ifr.ifr_mtu = d->lo->mtu;
		if (ioctl(sk, SIOCSIFMTU, &ifr))
			return pr_fail_errno("can't set the MTU of lo to %u", d->lo->mtu);
	}
	if (!(d->lo->flags & IFF_UP))
		return 0;
	if (ioctl(sk, SIOCGIFFLAGS, &ifr))
		return pr_fail_errno("can't read the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		return pr_fail_errno("can't bring lo up");
	return 0;
}
