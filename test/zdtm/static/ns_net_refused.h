/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ns_net_*_refused tests: the task makes a network namespace of
 * its own with lo up and something criu does not restore yet (setup()); the
 * dump must refuse it naming that (the .desc's crfail_log), and the task
 * must still be in its namespace with it (check()).
 */
#ifndef ZDTM_NS_NET_REFUSED_H
#define ZDTM_NS_NET_REFUSED_H

#include <sched.h>

#include "ns_refused.h"
#include "ns_net_lo.h"

static int setup(void);
static int check(void);

int main(int argc, char **argv)
{
	unsigned long ino;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET) || lo_set(1, 65536) || setup()) {
		fail("can't set up the network namespace");
		return 1;
	}
	ino = ns_ino("self", "net");
	test_daemon();
	test_waitsig();

	ns_same("self", "net", ino);
	if (check())
		fail("the namespace lost what the dump refused");
	if (test_failed())
		return 1;
	pass();
	return 0;
}

#endif
