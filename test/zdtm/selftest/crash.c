// SPDX-License-Identifier: GPL-2.0
/* runner self-test: dies of SIGSEGV instead of giving a verdict */
#include <signal.h>
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	test_daemon();
	test_waitsig();
	raise(SIGSEGV);
	pass();
	return 0;
}
