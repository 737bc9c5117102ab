/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The namespace kinds other than pid, as indexes of ns_kinds[] (namespaces.h)
 * and of the per-task id arrays (pstree_item.ns_id). A header of its own so
 * that pstree.h can size those arrays without the whole namespace API.
 */
#ifndef CRIU_NS_KINDS_H
#define CRIU_NS_KINDS_H

enum ns_kind {
	NS_MNT,
	NS_UTS,
	NS_IPC,
	NS_NET,
	NS_CGROUP,
	NS_TIME,
	NS_USER,
	NS_KIND_NR,
};

#endif
