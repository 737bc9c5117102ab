// SPDX-License-Identifier: GPL-2.0
/*
 * file_locks_posix_mapped: a POSIX lock on a file the task also maps. The
 * restore opens and closes the file in the task to map it, which would drop
 * the lock: the dump must refuse it (file_locks_refused.h).
 */
#include "file_locks_refused.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_POSIX_MAPPED, "file_locks_posix_mapped.file");
}
