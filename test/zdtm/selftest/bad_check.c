// SPDX-License-Identifier: GPL-2.0
/* runner self-test: a check that fails */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	volatile int x = 1;

	test_init(argc, argv);
	test_daemon();
	test_waitsig();
	errno = 0;
	if (x != 2)
		fail("x is %d, expected 2", x);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
