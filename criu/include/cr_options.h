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

/* What to do with a pidfd whose target is outside the dumped tree and cannot be found again. */
enum pidfd_external_policy {
	PIDFD_EXT_DEAD = 0,	/* default: restore it as a pidfd of a process that has exited, and log it */
	PIDFD_EXT_STRICT,	/* make it a restore error */
};

struct pidfd_ext_map {
	unsigned long long key;	/* dumped target pid */
	pid_t pid;		/* live process to use instead */
};

/* default --ghost-limit: deleted files bigger than this are refused at dump (CRIU's is 1M) */
#define DEFAULT_GHOST_LIMIT	(1ULL << 30)
/* CRIU's default --timeout (seconds) */
#define DEFAULT_TIMEOUT		10

/* --network-lock, as CRIU's (iptables is CRIU's default) */
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
	unsigned long long ghost_limit;	/* --ghost-limit: biggest deleted file dumped with its contents */

	/* dump and restore */
	bool shell_job;			/* -j */
	bool tcp_established;		/* --tcp-established: dump connections with soccr */
	bool tcp_close;			/* --tcp-close: dump connections, restore them closed */
	bool tcp_skip_in_flight;	/* --skip-in-flight: drop connections a listener has not accepted */
	enum network_lock_method network_lock;	/* --network-lock */
	char **scripts;			/* --action-script, in the order given */
	int nr_scripts;

	/* restore */
	bool restore_detached;		/* -d, --daemon */
	const char *pidfile;		/* --pidfile (ignored by dump, as in CRIU) */
	int status_fd;			/* --status-fd: '\0' written when the tree runs; -1: none */
	enum pidfd_external_policy pidfd_external;
	struct pidfd_ext_map *pidfd_ext_maps;
	int nr_pidfd_ext_maps;

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

/* Reset opts to the defaults (CRIU's, where CRIU has one). */
void opts_init(void);

/*
 * Apply one source of options (a configuration file's or the command line's
 * argv; argv[0] is skipped). Non-option words go to ret_args (may be NULL:
 * then they are an error). 0 or -EINVAL after printing one line on stderr.
 */
int opts_parse(int argc, char **argv, const char *source, char ***ret_args, int *ret_nr_args);

/* Print --help on f. */
void opts_usage(FILE *f);

/* Test hook: true when opts.fault_inject names this step; the caller then fails with -EIO. */
bool fault_injected(const char *step);

#endif
