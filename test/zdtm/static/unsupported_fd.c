// SPDX-License-Identifier: GPL-2.0
/*
 * unsupported_fd: the test holds an fd criu refuses to dump (a netlink
 * socket), so the dump must fail (crfail in the .desc) and leave the task
 * exactly as it was: running, no longer traced, socket and memory intact.
 */
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile unsigned long counter;

static int tracer_pid(void)
{
	char line[256];
	int pid = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static int sock_state(int fd, struct sockaddr_nl *ret_addr, int *ret_domain, int *ret_proto)
{
	socklen_t alen = sizeof(*ret_addr), olen = sizeof(int);

	if (getsockname(fd, (struct sockaddr *)ret_addr, &alen))
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, ret_domain, &olen))
		return -errno;
	olen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, ret_proto, &olen))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK }, before, after;
	int fd, dom, proto;

	test_init(argc, argv);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fail("netlink socket");
		return 1;
	}
	if (sock_state(fd, &before, &dom, &proto)) {
		fail("getsockname/getsockopt");
		return 1;
	}
	for (int i = 0; i < 1000; i++)
		counter++;

	test_daemon();
	test_waitsig();

	errno = 0;
	if (tracer_pid() != 0)
		fail("still traced by %d after the failed dump", tracer_pid());
	if (counter != 1000)
		fail("counter %lu, expected 1000", counter);
	if (sock_state(fd, &after, &dom, &proto)) {
		fail("the netlink socket is gone");
	} else {
		errno = 0;
		if (dom != AF_NETLINK || proto != NETLINK_ROUTE)
			fail("socket domain %d protocol %d, expected netlink route", dom, proto);
		if (after.nl_family != AF_NETLINK || after.nl_pid != before.nl_pid)
			fail("netlink port id %u, was %u", after.nl_pid, before.nl_pid);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
