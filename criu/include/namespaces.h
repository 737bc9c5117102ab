/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Namespaces other than the pid namespace (pidns.h has that one); see
 * Documentation/namespaces.md.
 *
 * One descriptor per kind, in one table (namespaces.c), indexed by enum
 * ns_kind (ns-kinds.h). A kind whose contents criu does not dump and restore
 * yet is refused at dump: a task of the tree in a namespace of that kind
 * other than criu's own would otherwise come back in criu's namespace
 * without a word (its hostname, its mounts, its private network gone).
 *
 * Every namespace seen gets an id (CRIU numbers them, all kinds together,
 * from 1; the pid namespaces have 1 and 2, pidns.h). Each task's ids go into
 * its core's TaskKobjIdsEntry, criu's own into InventoryEntry.root_ids. A
 * namespace's contents are dumped once, by a helper that joined it
 * (setns() on the ns file of the first task seen in it), into images named
 * by its id. Restore: the first task of the tree (in tree order) in a
 * namespace creates it (unshare() in its stub, before its children are
 * made) and fills it with the kind's restore hook; the others inherit it
 * from their parent or join it (setns()) - ns-restore.c.
 */
#ifndef CRIU_NAMESPACES_H
#define CRIU_NAMESPACES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ns-kinds.h"
#include "pstree.h"

struct TaskKobjIdsEntry;

struct ns_desc {
	const char *name;	/* the /proc/PID/ns/ entry and the name in messages */
	const char *what;	/* what a task in such a namespace would lose, for the error */
	int clone_flag;
	bool supported;		/* dumped and restored: a task may be in its own */
	/*
	 * dumped and restored by a module of its own (mount namespaces:
	 * mount.c, mount-restore.c), which numbers its namespaces itself:
	 * the generic code only checks the tree and leaves its ids and its
	 * restore alone
	 */
	bool elsewhere;
	/*
	 * dump, optional: a task of the tree is in a namespace of this kind
	 * other than criu's: refuse (-EOPNOTSUPP, logged) what restore would
	 * not give back (a socket of a task in its own network namespace)
	 */
	int (*check_task)(struct pstree_item *item);
	/*
	 * dump: run in a helper process that joined the namespace: write its
	 * images (named by id) or refuse what is in it. 0 or -errno, logged.
	 */
	int (*dump)(int img_dfd, uint32_t id);
	/*
	 * restore: read (and check) the namespace's images in the controller,
	 * before anything starts. *ret_join_fd (-1 before) may be set to an fd of
	 * criu naming a namespace to join instead of making one (an external one).
	 */
	int (*read)(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd);
	/* restore: run in the stub that just made the namespace, inside it. 0 or -errno, logged. */
	int (*restore)(void *data);
	void (*free)(void *data);
};

/* The kinds' hooks, each kind in its own file. */
int uts_ns_dump(int img_dfd, uint32_t id);		/* uts_ns.c */
int uts_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd);
int uts_ns_restore(void *data);
void uts_ns_free(void *data);
int ipc_ns_dump(int img_dfd, uint32_t id);		/* ipc_ns.c */
int ipc_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd);
int ipc_ns_restore(void *data);
void ipc_ns_free(void *data);
int net_ns_dump(int img_dfd, uint32_t id);		/* net_ns.c */
int net_ns_check_task(struct pstree_item *item);
int net_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd);
int net_ns_restore(void *data);
void net_ns_free(void *data);
int time_ns_dump(int img_dfd, uint32_t id);		/* time_ns.c */
int time_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd);
int time_ns_restore(void *data);
void time_ns_free(void *data);

/* The kinds, indexed by enum ns_kind. */
extern const struct ns_desc ns_kinds[NS_KIND_NR];

/* ------------------------------------------------------ dump (namespaces.c) */

/* One namespace seen at dump. */
struct ns_seen {
	enum ns_kind kind;
	dev_t dev;
	ino_t ino;
	uint32_t id;
	struct pstree_item *owner;	/* the first task seen in it; NULL: criu's own */
};

/* Every namespace seen by one dump, criu's own first. */
struct ns_set {
	struct ns_seen *v;
	int nr;
	uint32_t next_id;
	uint32_t criu_id[NS_KIND_NR];	/* criu's namespace of each kind, 0 when the kernel lacks the kind */
};

/*
 * Give every task (pstree_item.ns_id) and criu its namespace ids; refuse
 * (-EOPNOTSUPP, one error naming the task, the kind and both namespace
 * inodes) a live thread in a namespace of an unsupported kind other than
 * criu's, a thread in another namespace than its thread group leader, a
 * task the kind's check_task() refuses, or a thread that unshared a pid or
 * time namespace for the children it has not made yet (pid_for_children,
 * time_for_children). Zombies have no namespaces left: they get their
 * parent's ids.
 */
int ns_collect_tree(struct pstree *t, struct ns_set *set);
/* Dump the contents of every namespace of the tree that is not criu's (the kinds' dump hooks). */
int ns_dump_contents(int img_dfd, struct ns_set *set);
void ns_set_free(struct ns_set *set);

/* 1 when the task is in a namespace of this kind other than criu's, 0 when in criu's, or -errno. */
int ns_task_in_own(const struct pstree_item *item, enum ns_kind k);

/*
 * The id (pstree_item.ns_id) of the namespace of kind k that ns_fd names
 * (an nsfs file, e.g. SIOCGSKNS of a socket), when a task of the tree is in
 * it (criu's own when one of the tree's tasks is in criu's); -ENOENT if none.
 */
int ns_id_of_fd(struct pstree *t, enum ns_kind k, int ns_fd, uint32_t *ret_id);

/* TaskKobjIdsEntry's *_ns_id of a kind (CRIU's field numbers 6 to 12). */
void ns_ids_set(struct TaskKobjIdsEntry *ids, enum ns_kind k, uint32_t id);
uint32_t ns_ids_get(const struct TaskKobjIdsEntry *ids, enum ns_kind k);
/* Fill every kind's id of ids from ns_id[] (0: the kernel has no such kind, left out). */
void ns_ids_fill(struct TaskKobjIdsEntry *ids, const uint32_t *ns_id);

#endif
