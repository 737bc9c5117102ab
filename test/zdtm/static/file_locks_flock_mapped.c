// SPDX-License-Identifier: GPL-2.0
/* file_locks_flock_mapped: an flock() lock held only through a shared mapping of the file; the dump must refuse it (file_locks_refused.h). */
#include "file_locks_refused.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_FLOCK_MAPPED, "file_locks_flock_mapped.file");
}
