// SPDX-License-Identifier: GPL-2.0
/* runner self-test: fails during setup, before test_daemon() */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	errno = ENOENT;
	fail("setup failed");
	return 3;
}
