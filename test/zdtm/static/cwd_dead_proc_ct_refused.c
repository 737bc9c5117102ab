// SPDX-License-Identifier: GPL-2.0
/*
 * cwd_dead_proc_ct_refused: cwd_dead_proc in a tree with pid and mount
 * namespaces of its own (the ct flavour), where criu's /proc is not the
 * tree's: the dump refuses the cwd by name and the test goes on unchanged.
 */
#include "cwd_dead_proc.c"
