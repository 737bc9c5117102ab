// SPDX-License-Identifier: GPL-2.0
/*
 * ns_uts_refused: the task has a UTS namespace of its own with its own host
 * and domain names. criu does not dump UTS namespaces yet: the dump must fail
 * naming it, and the task must still be in its namespace with its names.
 */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "ns_refused.h"

#define HOST "zdtm-uts-own"
#define DOMAIN "zdtm-domain"

int main(int argc, char **argv)
{
	char host[64] = "", domain[64] = "";
	unsigned long ino;

	test_init(argc, argv);
	if (unshare(CLONE_NEWUTS) || sethostname(HOST, strlen(HOST)) || setdomainname(DOMAIN, strlen(DOMAIN))) {
		fail("can't make a UTS namespace with its own names");
		return 1;
	}
	ino = ns_ino("self", "uts");
	test_daemon();
	test_waitsig();

	ns_same("self", "uts", ino);
	if (gethostname(host, sizeof(host)) || strcmp(host, HOST))
		fail("hostname is '%s' after the refused dump, expected '%s'", host, HOST);
	if (getdomainname(domain, sizeof(domain)) || strcmp(domain, DOMAIN))
		fail("domain name is '%s' after the refused dump, expected '%s'", domain, DOMAIN);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
