// SPDX-License-Identifier: GPL-2.0
/* file_locks_flock: an flock() lock; the dump must refuse it (file_locks.h). */
#include "file_locks.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_FLOCK, "file_locks_flock.file");
}
