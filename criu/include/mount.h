/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mount namespace of a tree (Documentation/mounts.md).
 *
 * Dump (mount.c): when the tree's mount namespace is not criu's, its mounts
 * are read from /proc/PID/mountinfo of the root task, checked (what restore
 * can't build is refused, naming the mount) and written to
 * mountpoints-ID.img; the files of each tmpfs go to tmpfs-dev-N.tar.gz.img
 * (tmpfs-tar.c). A file of the tree names its mount (RegFileEntry.mnt_id).
 *
 * Restore (mount-restore.c): a helper process builds the tree in a new mount
 * namespace, keeping an O_PATH fd of every mount it made; the controller
 * takes those fds (files are opened relative to their mount) and the root
 * stub joins the namespace before it forks the others.
 */
#ifndef CRIU_MOUNT_H
#define CRIU_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pstree;
struct pstree_item;
struct rst_ctx;
struct fd_parms;
struct stat;

/*
 * TaskKobjIdsEntry.mnt_ns_id: criu's own (also InventoryEntry.root_ids), then
 * the tree's own namespaces from 2 on, in tree order (the root's first)
 */
#define MNTNS_ID_CRIU 1
#define MNTNS_ID_TREE 2

/* One mount, as in MntEntry (images/mnt.proto). */
struct mnt_info {
	uint32_t mnt_id, parent_id;
	uint32_t s_dev;			/* (major << 20) | minor: root_dev */
	char *root;			/* within the filesystem */
	char *mountpoint;		/* from the namespace's root */
	char *fsname, *source, *options;
	uint32_t flags, sb_flags;	/* MS_* per mount, of the superblock */
	uint32_t shared_id, master_id;
	bool unbindable;
	int fstype;			/* FSTYPE__* */
	char *ext_key;			/* an external mount: the runtime's key; NULL */
	int parent;			/* index of the parent, -1 for the root mount */
	bool tar;			/* dump: this mount's files are the tmpfs image of its superblock */
};

/* A file (device, inode), as stat() gives it. */
struct file_key {
	dev_t dev;
	ino_t ino;
};

struct mnt_ns {
	uint32_t id;
	dev_t ns_dev;			/* dump: the namespace file's device and inode */
	ino_t ns_ino;
	struct pstree_item *item;	/* dump: a task in it, at its root if one is (mountinfo, ns file) */
	struct mnt_ns *next;		/* dump: the next of the tree's namespaces (pstree.mntns_list) */
	struct mnt_info *m;
	int nr;
	int root;			/* index of the root mount */
	void *buf;			/* dump: the mountinfo text the strings point into */
	struct file_key *sock_files;	/* dump: socket files a socket of the tree is bound to (sk-unix.c) */
	int nr_sock_files;
};

/* ---- dump (mount.c) ---- */

/*
 * Every mount namespace of the tree's tasks that is not criu's: read each,
 * check them (what restore can't build is refused with an error naming the
 * mount) and keep them in t->mntns_list, the root's in t->mntns (NULL:
 * criu's); each task's item->mnt_ns_id. 0 or -errno.
 */
int mntns_collect(struct pstree *t);
/* mountpoints-ID.img of each namespace and the tmpfs images. */
int mntns_dump(int img_dfd, struct pstree *t);
/* the namespace and those linked after it */
void mntns_free(struct mnt_ns *ns);
/* The namespace item is in (NULL: criu's); item NULL: the root's. */
struct mnt_ns *mntns_of(const struct pstree *t, const struct pstree_item *item);
/*
 * A file of the tree on a mount: *ret_mnt_id is its mount (-1 in criu's
 * namespace); an fd whose mount is not in its task's namespace is refused.
 */
int mntns_file_mount(const struct pstree *t, const struct fd_parms *p, int *ret_mnt_id);

/*
 * stat() (lstat() unless follow) of an absolute path as task item sees it
 * (NULL: the root task): in its mount namespace, from the namespace's root
 * (the root of a task there that is not chrooted; -EOPNOTSUPP when every
 * task is). 0 or -errno.
 */
int mntns_tree_stat(const struct pstree *t, const struct pstree_item *item, const char *path, struct stat *st,
		    bool follow);
/* open() of an absolute path as task item sees it (as mntns_tree_stat()): an fd or -errno. */
int mntns_tree_open(const struct pstree *t, const struct pstree_item *item, const char *path, int flags);
/* Whether the task's root is the root of its mount namespace (not chrooted). */
bool mntns_task_at_root(const struct pstree_item *item);
/*
 * The inode of file handle fh on device s_dev (an inotify watch), opened by
 * handle through a mount of task item's mount namespace (NULL: the root
 * task's), one of the tree's own: its path there
 * (from the namespace's root, to ret_path) must lead to that very inode, and
 * the mount it leads through (*ret_mnt_id) is the one restore reopens it
 * below; *ret_fd is the inode reached by that path (O_PATH). A removed inode
 * (st_nlink 0) is given as opened by handle, for the caller to refuse. 0, or
 * -ENOENT when no mount of the tree reaches it.
 */
struct file_handle;
int mntns_open_handle(const struct pstree *t, const struct pstree_item *item, uint32_t s_dev, struct file_handle *fh,
		      int *ret_fd, int *ret_mnt_id, char *ret_path, size_t size);
/* Whether path (from the namespace's root) is at or below the mountpoint of mount mnt_id of the tree's. */
bool mntns_path_on_mount(const struct pstree *t, int mnt_id, const char *path);

/*
 * A socket of the tree is bound to the socket file st (in a mount namespace
 * of the tree's own): the restore binds it there again, so a tmpfs image
 * need not hold the file. 0 or -ENOMEM; nothing without a mount namespace.
 */
int mntns_note_socket_file(struct pstree *t, const struct stat *st);
/* Whether the socket file st is one a socket of the tree is bound to. */
bool mntns_socket_file_bound(const struct mnt_ns *ns, const struct stat *st);

/* ---- tmpfs contents (tmpfs-tar.c) ---- */

/*
 * Write the files under dfd (a tmpfs's root, same device only) as a gzip tar
 * to out_fd. A socket file is left out when a socket of the tree is bound to
 * it (ns: the restore binds it again), else refused: a tar can't hold it.
 */
int tmpfs_tar_write(int dfd, int out_fd, const char *what, const struct mnt_ns *ns);
/* Extract a gzip tar read from in_fd under dfd. */
int tmpfs_tar_read(int dfd, int in_fd, const char *what);

/* ---- restore (mount-restore.c) ---- */

#define MNT_MAX_PTYS 8
/* a pty made for a bind of its slave: the devpts superblock (root_dev), its index, its master */
struct mnt_pty {
	uint32_t dev;
	int index;
	int fd;
};

/* Read mountpoints-ID.img when the tasks' mnt_ns_id says the tree had its own. */
int mntns_read_images(struct rst_ctx *ctx);
/* Build the tree in a new mount namespace (before any file is opened). */
int mntns_restore_prepare(struct rst_ctx *ctx);
/*
 * In each stub, first: the root stub makes the late mounts and joins the
 * root task's namespace, another stub joins its own when it is not its
 * parent's.
 */
int mntns_stub_enter(struct rst_ctx *ctx, struct pstree_item *me);
/*
 * Open path (a dumped name, from the namespace's root) of a file on mount
 * mnt_id: relative to the mount criu made, never crossing another. An fd or
 * -errno (not logged).
 */
int mntns_open_file(struct rst_ctx *ctx, int mnt_id, const char *path, int flags);
/*
 * The master of pty index of the devpts of mount mnt_id, made by the mount
 * tree's build for a bind of its slave (mount-restore.c); the caller owns
 * it. -ENOENT when none was made.
 */
int mntns_take_pty(struct rst_ctx *ctx, int mnt_id, int index);
void mntns_restore_fini(struct rst_ctx *ctx);
/*
 * The controller goes into the tree's mount namespace (nothing to do without
 * one), so that paths resolve as the tree sees them (unix socket names), and
 * comes back to its own, with its root and cwd. The controller must have no
 * other thread. 0 or -errno, logged; a failed mntns_visit_end() leaves criu
 * in the tree's namespace: the restore must stop.
 */
struct mntns_visit {
	int ns, root, cwd;
};
int mntns_visit(struct rst_ctx *ctx, struct mntns_visit *v);
int mntns_visit_end(struct mntns_visit *v);
/*
 * Within a visit: into the namespace of mount mnt_id (-1: the root task's)
 * when it is another; 1 when it went (mntns_visit_mount_end() comes back to
 * the root task's; the root and cwd are that namespace's root then), 0 when
 * not, or -errno, logged.
 */
int mntns_visit_mount(struct rst_ctx *ctx, int mnt_id);
int mntns_visit_mount_end(struct rst_ctx *ctx);


/* The filesystem name of a mnt_entry fstype restore makes from nothing (proc, tmpfs, ...), else NULL. */
const char *fstype_name(int fstype);

#endif
