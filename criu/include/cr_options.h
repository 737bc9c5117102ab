/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The options of one criu run: filled from the configuration files and the
 * command line (options.c, config.c) or from an RPC request, read-only after
 * that. Every option criu knows lives here, so the RPC side can map its
 * request fields onto the same struct.
 */
#ifndef CRIU_CR_OPTIONS_H
#define CRIU_CR_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "ns-kinds.h"

/* What to do with a pidfd whose target is outside the dumped tree and cannot be found again. */
enum pidfd_external_policy {
	PIDFD_EXT_DEAD = 0,	/* default: restore it as a pidfd of a process that has exited, and log it */
	PIDFD_EXT_STRICT,	/* make it a restore error */
};

/* --external net[INO]:KEY: the net namespace with this inode is the runtime's, named KEY */
struct ext_net_opt {
	unsigned long long ino;
	char *key;
};

/* --inherit-fd fd[N]:KEY: criu's fd N stands for the external resource KEY */
struct inherit_fd_opt {
	int fd;
	char *key;
};

struct pidfd_ext_map {
	unsigned long long key;	/* dumped target pid */
	pid_t pid;		/* live process to use instead */
};

/* --external mnt[A]:B, --ext-mount-map A:B: at dump A is a mountpoint, B its key; at restore A the key, B a path */
struct ext_mnt_map {
	char *key;
	char *val;
};

/* default --ghost-limit, CRIU's: a deleted file with more data than this is refused at dump */
#define DEFAULT_GHOST_LIMIT	(1ULL << 20)
/* CRIU's default --timeout (seconds) */
#define DEFAULT_TIMEOUT		10

/* --manage-cgroups modes: CRIU's (Documentation/cgroups.md) */
enum cg_mode {
	CG_MODE_SOFT = 0,	/* the default: create what is missing, with its properties */
	CG_MODE_IGNORE,		/* leave cgroups alone: no directories, tasks stay in criu's */
	CG_MODE_NONE,		/* move the tasks; every directory must exist; no properties */
	CG_MODE_PROPS,		/* every directory must exist; properties restored on them */
	CG_MODE_FULL,		/* create what is missing; properties on every directory */
	CG_MODE_STRICT,		/* create every directory: one that exists fails the restore */
};

/* --cgroup-root [CTL:]/PATH: ctl NULL for the default of every hierarchy, "" for cgroup2 */
struct cg_root_opt {
	char *ctl;
	char *path;
};

/* --network-lock, as CRIU's (iptables is CRIU's default); inventory.img's network_lock_method has these numbers */
enum network_lock_method {
	NETWORK_LOCK_IPTABLES,
	NETWORK_LOCK_NFTABLES,
	NETWORK_LOCK_SKIP,
};

struct cr_options {
	/* logging */
	int loglevel;
	const char *log_file;		/* -o: relative to the work dir; "-" is stderr */

	/* directories */
	const char *imgs_dir;		/* -D, default "." */
	const char *work_dir;		/* -W, default the images dir; criu chdir()s there */

	/* dump */
	pid_t tree_id;			/* -t */
	bool leave_running;		/* -R */
	bool track_mem;			/* --track-mem: accepted; pages are compared with the parent's (page-chain.h) */
	const char *prev_imgs_dir;	/* --prev-images-dir: the `parent` symlink's target */
	bool auto_dedup;		/* --auto-dedup: dump punches its parents' dead pages, restore the images it read (dedup.c) */
	bool lazy_pages;		/* --lazy-pages: restore private memory on demand (lazy-pages.c) */
	bool pre_dump;			/* the command is pre-dump: memory only, the tree runs on */
	unsigned long long ghost_limit;	/* --ghost-limit: biggest deleted file dumped with its contents */

	/* dump and restore */
	bool shell_job;			/* -j */
	bool skip_image_check;		/* --skip-image-check: restore hand-edited images (no manifest check) */
	bool unprivileged;		/* --unprivileged: run as non-root with the capabilities (privs.c) */
	bool file_locks;		/* --file-locks: dump and restore file locks and leases (file-lock.c) */
	bool ext_unix_sk;		/* --ext-unix-sk: sockets connected to a named datagram socket outside */
	uint32_t *ext_unix_inos;	/* --ext-unix-sk=INO,..., --external unix[INO]: these sockets' peers are outside */
	int nr_ext_unix_inos;
	char **ext_files;		/* --external file[MNT_ID:INO] (hex, as CRIU): files restored from --inherit-fd */
	int nr_ext_files;
	bool tcp_established;		/* --tcp-established: dump connections with soccr */
	bool tcp_close;			/* --tcp-close: dump connections, restore them closed */
	bool tcp_skip_in_flight;	/* --skip-in-flight: drop connections a listener has not accepted */
	enum network_lock_method network_lock;	/* --network-lock */
	char **scripts;			/* --action-script, in the order given */
	int nr_scripts;

	/* dump and restore: mounts */
	const char *root;		/* --root: restore: where the tree's root mount comes from */
	struct ext_mnt_map *ext_mnts;	/* --external mnt[]:, --ext-mount-map */
	int nr_ext_mnts;

	/* restore */
	bool restore_detached;		/* -d, --daemon */
	const char *pidfile;		/* --pidfile (ignored by dump, as in CRIU) */
	int status_fd;			/* --status-fd: '\0' written when the tree runs; -1: none */
	enum pidfd_external_policy pidfd_external;
	struct pidfd_ext_map *pidfd_ext_maps;
	int nr_pidfd_ext_maps;
	struct inherit_fd_opt *inherit_fds;	/* --inherit-fd */
	int nr_inherit_fds;
	unsigned int empty_ns;		/* --empty-ns net: CLONE_NEWNET */
	char *join_ns[NS_KIND_NR];	/* --join-ns KIND:PID|PATH: the file of the namespace to join, or NULL */

	/* dump */
	struct ext_net_opt *ext_net;	/* --external net[INO]:KEY */
	int nr_ext_net;
	const char *lsm_profile;	/* --lsm-profile TYPE:NAME (lsm.c) */
	const char *lsm_mount_context;	/* --lsm-mount-context CTX: for restored mounts (none yet) */

	/* cgroups (Documentation/cgroups.md) */
	enum cg_mode manage_cgroups;	/* --manage-cgroups */
	struct cg_root_opt *cg_roots;	/* --cgroup-root, in the order given */
	int nr_cg_roots;
	const char *freeze_cgroup;	/* --freeze-cgroup: dump freezes the tree through this cgroup */
	const char *cgroup_yard;	/* --cgroup-yard: the hierarchies are mounted under this directory */
	char **cg_dump_ctls;		/* --cgroup-dump-controller: dump only these hierarchies (NULL: all) */
	int nr_cg_dump_ctls;

	/* restore: a terminal whose master was outside the tree gets a new pty, master sent to the RPC client */
	bool orphan_pts_master;		/* --orphan-pts-master: a pty slave whose master is outside the tree (tty.c) */

	/* the page server (Documentation/migration.md): criu page-server, dump/pre-dump --page-server */
	bool use_page_server;		/* --page-server: dump and pre-dump send their pages to --address --port */
	const char *ps_addr;		/* --address */
	unsigned int ps_port;		/* --port (CRIU's default 27) */
	int ps_socket;			/* --ps-socket FD: an already connected socket; -1: none */
	bool tls;			/* --tls: the page server's connection through TLS (tls.h) */
	const char *tls_cacert, *tls_cacrl, *tls_cert, *tls_key;
	bool tls_no_cn_verify;

	/* check */
	const char *feature;		/* --feature NAME */
	bool check_extra;		/* --extra */
	bool check_experimental;	/* --experimental */

	/* accepted without effect (Documentation/criu.txt, "Accepted options") */
	int timeout;			/* --timeout */

	/* configuration files */
	bool no_default_config;		/* --no-default-config (or --config) */
	const char *config_file;	/* --config FILE */

	const char *fault_inject;	/* test hook: name of a dump step to fail (CRIU_FAULT env) */
};

extern struct cr_options opts;

/* Is the file on mount mnt_id with inode ino named by --external file[MNT_ID:INO]? Its key then, else NULL. */
const char *opts_ext_file(int mnt_id, unsigned long long ino);
/* Is the tree's unix socket ino named by --ext-unix-sk=INO or --external unix[INO]? */
bool opts_ext_unix_ino(uint32_t ino);
/* Add one --external mnt[KEY]:VAL / --ext-mount-map pair (also from RPC): 0, -EINVAL, -ENOMEM. */
int opts_add_ext_mnt(const char *key, size_t key_len, const char *val);

/* Reset opts to the defaults (CRIU's, where CRIU has one). */
void opts_init(void);

/*
 * Apply one source of options (a configuration file's or the command line's
 * argv; argv[0] is skipped). Non-option words go to ret_args (may be NULL:
 * then they are an error). 0 or -EINVAL after printing one line on stderr.
 */
int opts_parse(int argc, char **argv, const char *source, char ***ret_args, int *ret_nr_args);

/* --inherit-fd: criu's fd given for KEY, or -1. */
int inherit_fd_lookup(const char *key);
/* Add a --cgroup-root (ctl NULL: every hierarchy); -EINVAL when path is not absolute, -ENOMEM. */
int opts_add_cgroup_root(const char *ctl, const char *path);

/* Add a --cgroup-dump-controller NAME; -ENOMEM. */
int opts_add_cgroup_dump_ctl(const char *name);

/* Print --help on f. */
void opts_usage(FILE *f);

/* Test hook: true when opts.fault_inject names this step; the caller then fails with -EIO. */
bool fault_injected(const char *step);
/*
 * Fault injection at every step (CRIU_FAULT=NAME or CRIU_FAULT=N): each step
 * of dump and restore calls fault_step() first. It logs "fault step N: NAME"
 * (N counts the calls since fault_steps_reset(), which cr_dump_tasks() and
 * cr_restore_tasks() call first) and returns -EIO, logged, when CRIU_FAULT is
 * NAME or N; 0 otherwise. Steps inside a loop over tasks count once per task.
 */
int fault_step(const char *name);
void fault_steps_reset(void);

#endif
