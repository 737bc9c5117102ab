// SPDX-License-Identifier: GPL-2.0
/* runner self-test: passes but leaves a child behind in its own session */
#include <unistd.h>
#include "zdtmtst.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (fork() == 0) {
		setsid();
		for (;;)
			pause();
	}
	test_daemon();
	test_waitsig();
	pass();
	return 0;
}
