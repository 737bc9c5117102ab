// SPDX-License-Identifier: GPL-2.0
/* file_locks_posix: a POSIX record lock (fcntl F_SETLK); the dump must refuse it (file_locks.h). */
#include "file_locks.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_POSIX, "file_locks_posix.file");
}
