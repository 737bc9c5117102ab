/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ns_*_refused tests: a task in a namespace criu does not dump
 * yet. The dump must refuse the tree, naming the namespace, and leave it
 * running in the very same namespace with its contents.
 */
#ifndef ZDTM_NS_REFUSED_H
#define ZDTM_NS_REFUSED_H

#include <stdio.h>
#include <sys/stat.h>

#include "zdtmtst.h"

/* The inode naming the namespace of /proc/<where>/ns/<entry>; 0 on error (with fail()). */
static inline unsigned long ns_ino(const char *where, const char *entry)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", where, entry);
	if (stat(path, &st)) {
		fail("stat %s", path);
		return 0;
	}
	return st.st_ino;
}

/* fail() unless /proc/<where>/ns/<entry> is still the namespace it was. */
static inline void ns_same(const char *where, const char *entry, unsigned long before)
{
	unsigned long now = ns_ino(where, entry);

	if (now && now != before)
		fail("/proc/%s/ns/%s is [%lu] after the refused dump, [%lu] before", where, entry, now, before);
}

#endif
