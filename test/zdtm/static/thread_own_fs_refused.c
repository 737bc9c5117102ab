// SPDX-License-Identifier: GPL-2.0
/*
 * thread_own_fs_refused: thread_own_fdt_refused for the fs: a thread with a
 * cwd of its own (unshare(CLONE_FS), chdir) is refused at dump.
 */
#define OWN_FS
#include "thread_own_fdt_refused.c"
