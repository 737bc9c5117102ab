// SPDX-License-Identifier: GPL-2.0
/* file_locks_refused: an flock() lock dumped without --file-locks: refused, as CRIU does (file_locks_refused.h). */
#include "file_locks_refused.h"

int main(int argc, char **argv)
{
	return file_locks_main(argc, argv, LK_FLOCK, "file_locks_refused.file");
}
