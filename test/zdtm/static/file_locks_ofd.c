// SPDX-License-Identifier: GPL-2.0
/* file_locks_ofd: an open file description lock (F_OFD_SETLK); the dump must refuse it (file_locks.h). */
#include "file_locks.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_OFD, "file_locks_ofd.file");
}
