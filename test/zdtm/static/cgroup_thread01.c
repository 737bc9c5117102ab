// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_thread01: cgroup_thread00 in cgroup2 alone: the second thread is
 * in a threaded child cgroup (cgroup.type "threaded", cgroup.threads) of
 * the task's.
 */
#define CGT_THREAD_V2 1
#define TEST_NAME "cgroup_thread01"
#include "cgroup_thread00.c"
