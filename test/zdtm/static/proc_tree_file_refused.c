// SPDX-License-Identifier: GPL-2.0
/*
 * proc_tree_file_refused: proc_tree_file's program (tasks hold /proc files
 * of tasks of the tree: a child's /proc/<pid>/status and the task's own
 * /proc/<pid>/maps), run in a tree with pid and mount namespaces of its own
 * (the ct flavour): the paths name pids of the tree's namespace, which
 * criu's /proc does not show as the same tasks, so the dump must refuse,
 * and both fds must still read their task's file after.
 */
#include "proc_tree_file.c"
