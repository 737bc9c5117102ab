// SPDX-License-Identifier: GPL-2.0
/* runner self-test: ready, but never finishes after SIGTERM */
#include <unistd.h>
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	test_daemon();
	for (;;)
		pause();
}
