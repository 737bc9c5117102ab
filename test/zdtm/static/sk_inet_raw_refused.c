// SPDX-License-Identifier: GPL-2.0
/*
 * sk_inet_raw_refused: a raw (ICMP) socket is not restored yet: the dump
 * must fail naming the kind and leave the task running with its socket.
 */
#include <netinet/ip_icmp.h>

#include "sk_inet.h"

int main(int argc, char **argv)
{
	int raw;

	test_init(argc, argv);
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (raw < 0) {
		fail("raw socket");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_get_int(raw, SOL_SOCKET, SO_TYPE) != SOCK_RAW)
		fail("the raw socket changed");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
