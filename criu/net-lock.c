// SPDX-License-Identifier: GPL-2.0
/*
 * The network lock (--network-lock, as CRIU's): while an established TCP
 * connection is dumped, and from then until it is restored, its packets are
 * dropped both ways, so the peer's kernel never meets a socket that is gone
 * (it would answer with a RST) and nothing arrives that the dump would miss.
 * The peer retransmits once the lock goes.
 *
 * nftables: one table "inet CRIU-<root pid>" with an input and an output
 * chain, one drop rule per connection and direction; unlocking deletes the
 * table (restoring a CRIU dump: CRIU's table, "inet CRIU-<its run id>").
 * iptables (CRIU's default): one DROP rule per connection in INPUT and in
 * OUTPUT (ip6tables for IPv6), CRIU's rules exactly, so that either tool's
 * restore removes the other's, one by one. skip: nothing.
 * Both through their command-line tools (Debian's nftables and iptables,
 * scripts/install-deps.sh); their output goes to criu's log.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "log.h"
#include "sk-inet.h"

#undef LOG_PREFIX
#define LOG_PREFIX "net-lock: "

/*
 * Run argv (a NULL-terminated list) in the network namespace netns_fd (-1:
 * criu's), its output to the log. 0, or -EIO when it fails.
 */
static int run_tool(char *const argv[], int netns_fd)
{
	int status, log_fd = log_get_fd();
	pid_t pid = fork();

	if (pid < 0)
		return pr_fail_errno("can't fork for %s", argv[0]);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET))
			_exit(126);
		if (null >= 0)
			dup2(null, 0);
		if (log_fd >= 0) {
			dup2(log_fd, 1);
			dup2(log_fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return pr_fail_errno("can't wait for %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_debug("%s %s %s ... failed (status %#x)\n", argv[0], argv[1] ?: "", argv[1] && argv[2] ? argv[2] : "",
			 status);
		return -EIO;
	}
	return 0;
}

/* An address as the packets carry it: a v4-mapped IPv6 address is IPv4 on the wire. */
static int addr_str(const union soccr_addr *a, char *buf, size_t size, int *ret_family)
{
	const struct in6_addr *in6 = &a->v6.sin6_addr;

	if (a->sa.sa_family == AF_INET) {
		*ret_family = AF_INET;
		return inet_ntop(AF_INET, &a->v4.sin_addr, buf, size) ? 0 : -EINVAL;
	}
	if (IN6_IS_ADDR_V4MAPPED(in6)) {
		*ret_family = AF_INET;
		return inet_ntop(AF_INET, &in6->s6_addr[12], buf, size) ? 0 : -EINVAL;
	}
	*ret_family = AF_INET6;
	return inet_ntop(AF_INET6, in6, buf, size) ? 0 : -EINVAL;
}

static unsigned int port_of(const union soccr_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->v4.sin_port : a->v6.sin6_port);
}

const char *net_conn_str(const struct net_conn *c, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN] = "?", d[INET6_ADDRSTRLEN] = "?";
	int f;

	addr_str(&c->src, s, sizeof(s), &f);
	addr_str(&c->dst, d, sizeof(d), &f);
	snprintf(buf, size, "%s%s%s:%u > %s%s%s:%u", f == AF_INET6 ? "[" : "", s, f == AF_INET6 ? "]" : "",
		 port_of(&c->src), f == AF_INET6 ? "[" : "", d, f == AF_INET6 ? "]" : "", port_of(&c->dst));
	return buf;
}

/* The rule text of one direction: packets from a:ap to b:bp. */
struct conn_words {
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char sport[8], dport[8];
	int family;
};

static int conn_words(const struct net_conn *c, struct conn_words *w)
{
	int f2, ret;

	ret = addr_str(&c->src, w->src, sizeof(w->src), &w->family);
	ret = ret ?: addr_str(&c->dst, w->dst, sizeof(w->dst), &f2);
	if (ret || f2 != w->family)
		return pr_fail(-EINVAL, "a connection with addresses of two families can't be locked\n");
	snprintf(w->sport, sizeof(w->sport), "%u", port_of(&c->src));
	snprintf(w->dport, sizeof(w->dport), "%u", port_of(&c->dst));
	return 0;
}

/* the run id of a CRIU dump being restored: its table's name (CRIU's nftables_get_table()) */
static char dump_run_id[64];
#define TABLE_MAX (sizeof("CRIU-") + sizeof(dump_run_id))

int net_lock_set_run_id(const char *id)
{
	dump_run_id[0] = 0;
	if (!id)
		return 0;
	if (strlen(id) >= sizeof(dump_run_id) || strspn(id, "0123456789abcdefABCDEF-") != strlen(id))
		return pr_fail(-EINVAL, "inventory.img: dump_criu_run_id '%.64s' is not a run id\n", id);
	strcpy(dump_run_id, id);
	return 0;
}

static void table_name(pid_t root, char *buf, size_t size)
{
	if (dump_run_id[0])
		snprintf(buf, size, "CRIU-%s", dump_run_id);
	else
		snprintf(buf, size, "CRIU-%d", root);
}

static int nft_table(pid_t root, int netns_fd)
{
	char table[TABLE_MAX];
	char *add[] = { "nft", "add", "table", "inet", table, NULL };
	char *in[] = { "nft", "add", "chain", "inet", table, "input",
		       "{ type filter hook input priority -150 ; policy accept ; }", NULL };
	char *out[] = { "nft", "add", "chain", "inet", table, "output",
			"{ type filter hook output priority -150 ; policy accept ; }", NULL };

	table_name(root, table, sizeof(table));
	if (run_tool(add, netns_fd) || run_tool(in, netns_fd) || run_tool(out, netns_fd))
		return pr_fail(-EIO, "can't make the nftables table inet %s (is nft there?)\n", table);
	return 0;
}

static int nft_lock(pid_t root, const struct conn_words *w, int netns_fd)
{
	const char *ip = w->family == AF_INET ? "ip" : "ip6";
	char table[TABLE_MAX], rule_in[256], rule_out[256];
	char *in[] = { "nft", "add", "rule", "inet", table, "input", rule_in, NULL };
	char *out[] = { "nft", "add", "rule", "inet", table, "output", rule_out, NULL };
	int ret = nft_table(root, netns_fd);

	if (ret)
		return ret;
	table_name(root, table, sizeof(table));
	snprintf(rule_in, sizeof(rule_in), "%s saddr %s %s daddr %s tcp sport %s tcp dport %s drop", ip, w->dst, ip,
		 w->src, w->dport, w->sport);
	snprintf(rule_out, sizeof(rule_out), "%s saddr %s %s daddr %s tcp sport %s tcp dport %s drop", ip, w->src,
		 ip, w->dst, w->sport, w->dport);
	if (run_tool(in, netns_fd) || run_tool(out, netns_fd))
		return pr_fail(-EIO, "can't add the nftables rules of the connection to table %s\n", table);
	return 0;
}

/*
 * CRIU's rules, match for match (its IPTABLES_CONN_CMD): each tool deletes
 * the other's with -D. Packets marked SOCCR_MARK pass, as CRIU has it.
 */
#define IPT_MARK "-m", "mark", "!", "--mark", "0xC114"

static int ipt_rules(const char *op, const struct conn_words *w, int netns_fd)
{
	char *tool = w->family == AF_INET ? "iptables" : "ip6tables";
	char *in[] = { tool, "-w", "-t", "filter", (char *)op, "INPUT", "-p", "tcp", IPT_MARK, "-s", (char *)w->dst,
		       "--sport", (char *)w->dport, "-d", (char *)w->src, "--dport", (char *)w->sport, "-j", "DROP",
		       NULL };
	char *out[] = { tool, "-w", "-t", "filter", (char *)op, "OUTPUT", "-p", "tcp", IPT_MARK, "-s", (char *)w->src,
			"--sport", (char *)w->sport, "-d", (char *)w->dst, "--dport", (char *)w->dport, "-j", "DROP",
			NULL };
	int r1 = run_tool(in, netns_fd), r2 = run_tool(out, netns_fd);

	return r1 ?: r2;
}

int net_lock_conn(pid_t root, const struct net_conn *c, int netns_fd)
{
	struct conn_words w;
	char buf[128];
	int ret;

	if (opts.network_lock == NETWORK_LOCK_SKIP)
		return 0;
	ret = conn_words(c, &w);
	if (ret)
		return ret;
	pr_info("locking %s (%s)\n", net_conn_str(c, buf, sizeof(buf)),
		opts.network_lock == NETWORK_LOCK_NFTABLES ? "nftables" : "iptables");
	if (opts.network_lock == NETWORK_LOCK_NFTABLES)
		return nft_lock(root, &w, netns_fd);
	ret = ipt_rules("-I", &w, netns_fd);
	if (ret) {
		ipt_rules("-D", &w, netns_fd);
		return pr_fail(ret, "can't lock %s with %s (is it there?)\n", buf,
			       w.family == AF_INET ? "iptables" : "ip6tables");
	}
	return 0;
}

int net_unlock_conn(pid_t root, const struct net_conn *c, int netns_fd)
{
	struct conn_words w;
	char buf[128];
	int ret;

	if (opts.network_lock != NETWORK_LOCK_IPTABLES)
		return 0;	/* nftables: the table goes at once (net_unlock_all) */
	ret = conn_words(c, &w);
	if (ret)
		return ret;
	pr_info("unlocking %s\n", net_conn_str(c, buf, sizeof(buf)));
	ret = ipt_rules("-D", &w, netns_fd);
	if (ret)
		return pr_fail(ret, "can't remove the iptables rules of %s\n", buf);
	return 0;
}

int net_unlock_all(pid_t root, int netns_fd)
{
	char table[TABLE_MAX];
	char *list[] = { "nft", "list", "table", "inet", table, NULL };
	char *del[] = { "nft", "delete", "table", "inet", table, NULL };

	if (opts.network_lock != NETWORK_LOCK_NFTABLES)
		return 0;
	table_name(root, table, sizeof(table));
	if (run_tool(list, netns_fd))
		return 0;	/* no table: nothing was locked */
	pr_info("unlocking: deleting table inet %s\n", table);
	if (run_tool(del, netns_fd))
		return pr_fail(-EIO, "can't delete the nftables table inet %s\n", table);
	return 0;
}
