/* SPDX-License-Identifier: GPL-2.0 */
/* Parsed command line options: global, read-only after parsing. */
#ifndef CRIU_CR_OPTIONS_H
#define CRIU_CR_OPTIONS_H

#include <stdbool.h>
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

struct cr_options {
	int loglevel;
	const char *imgs_dir;
	const char *work_dir;
	const char *log_file;
	pid_t tree_id;
	bool leave_running;
	bool shell_job;
	bool restore_detached;
	const char *pidfile;
	const char *feature;
	enum pidfd_external_policy pidfd_external;
	struct pidfd_ext_map *pidfd_ext_maps;
	int nr_pidfd_ext_maps;
	const char *fault_inject;	/* test hook: name of a dump step to fail (CRIU_FAULT env) */
};

extern struct cr_options opts;

/* Test hook: true when opts.fault_inject names this step; the caller then fails with -EIO. */
bool fault_injected(const char *step);

#endif
