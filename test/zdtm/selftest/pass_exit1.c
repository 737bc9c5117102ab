// SPDX-License-Identifier: GPL-2.0
/* runner self-test: writes PASS but exits 1 */
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	test_daemon();
	test_waitsig();
	pass();
	return 1;
}
