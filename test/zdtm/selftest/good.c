// SPDX-License-Identifier: GPL-2.0
/* runner self-test: a test that passes */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	test_daemon();
	test_waitsig();
	pass();
	return 0;
}
