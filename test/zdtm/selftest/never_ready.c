// SPDX-License-Identifier: GPL-2.0
/* runner self-test: never calls test_daemon() */
#include <unistd.h>
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	for (;;)
		pause();
}
