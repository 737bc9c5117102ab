// SPDX-License-Identifier: GPL-2.0
/*
 * criu check: what the running kernel offers AND what this criu does with it.
 *
 * Two sets of names answer `criu check --feature NAME`:
 * - this criu's own (kerndat.c): the kernel parts criu relies on; a plain
 *   `criu check` prints one line for each;
 * - CRIU's (the table below), as CRIU's zdtm.py and tools ask them. Such a
 *   feature is supported only when criu checkpoints and restores what it
 *   stands for AND the kernel part is there: a working kernel part of
 *   something criu does not restore answers "not supported". --extra,
 *   --experimental (--all) print CRIU's extra and experimental ones.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "cr_options.h"
#include "crtools.h"
#include "kerndat.h"

enum criu_cat {
	CAT_EXTRA,		/* CRIU's category 2: criu check --extra */
	CAT_EXPERIMENTAL,	/* CRIU's category 3: criu check --experimental */
	CAT_NAMED,		/* only with --feature NAME */
};

struct criu_feature {
	const char *name;	/* CRIU's name */
	enum criu_cat cat;
	const char *kernel;	/* the kerndat probe it needs, or NULL */
	const char *missing;	/* NULL: criu does it; else what criu does not do yet */
};

static const struct criu_feature criu_features[] = {
	{ "mnt_id", CAT_EXTRA, NULL, NULL },
	/*
	 * pre-dump and incremental dumps (--track-mem, --prev-images-dir) work on any kernel: the
	 * changed pages are found by the write tracking where the kernel has it (pagemap-scan,
	 * mem-track.h), else by comparing with the parent images (page-chain.h, migration.md); no
	 * soft-dirty bits. CRIU's zdtm.py asks it before --pre and --snaps runs.
	 */
	{ "mem_dirty_track", CAT_EXTRA, NULL, NULL },
	{ "aio_remap", CAT_EXTRA, "aio-remap", NULL },	/* aio.c */
	{ "timerfd", CAT_EXTRA, "timerfd-ticks", NULL },
	{ "tun", CAT_EXTRA, NULL, "tun devices" },
	{ "tun_ns", CAT_NAMED, NULL, "tun devices" },
	{ "userns", CAT_EXTRA, NULL,
	  "a user namespace that owns the tree's pid or other namespaces (a container's), nested or several user "
	  "namespaces, threads in one (one user namespace, a child of criu's, is restored)" },
	{ "fdinfo_lock", CAT_EXTRA, NULL, NULL },	/* --file-locks (file-lock.c) */
	{ "seccomp_suspend", CAT_EXTRA, "seccomp-suspend", NULL },
	{ "seccomp_filters", CAT_EXTRA, "seccomp-filters", NULL },
	{ "loginuid", CAT_EXTRA, "loginuid", NULL },	/* morph.c restores it */
	{ "cgroupns", CAT_EXTRA, NULL, NULL },	/* cgroup-ns.c; every kernel criu runs on (>= 6.1) has them */
	{ "autofs", CAT_EXPERIMENTAL, NULL, "autofs mounts" },
	{ "tcp_half_closed", CAT_EXTRA, NULL,
	  "every half-closed TCP connection (FIN_WAIT1/2 and a CLOSE_WAIT whose peer is in the tree are restored; "
	  "LAST_ACK, CLOSING and a CLOSE_WAIT whose peer is outside are refused at dump)" },
	{ "compat_cr", CAT_EXPERIMENTAL, NULL, "32-bit (compat) tasks" },
	{ "uffd", CAT_EXTRA, "uffd", NULL },
	{ "uffd-noncoop", CAT_EXTRA, "uffd-noncoop", NULL },
	{ "can_map_vdso", CAT_EXTRA, NULL, "mapping a new vdso (criu moves the dumped one: see vdso)" },
	{ "sk_ns", CAT_EXTRA, NULL, "network namespaces" },
	{ "sk_unix_file", CAT_NAMED, NULL, NULL },	/* names bound in each mount namespace of the tree (mounts.md) */
	{ "net_diag_raw", CAT_EXTRA, NULL, "raw sockets (refused at dump)" },
	{ "nsid", CAT_NAMED, NULL, "network namespace ids" },
	{ "link_nsid", CAT_NAMED, NULL, "network namespace ids" },
	{ "kcmp_epoll", CAT_EXTRA, "kcmp-epoll", NULL },
	{ "timens", CAT_EXTRA, "ns-time", NULL },
	{ "external_net_ns", CAT_NAMED, NULL, NULL },
	{ "clone3_set_tid", CAT_EXTRA, "clone3-set-tid", NULL },
	{ "newifindex", CAT_EXTRA, NULL, "network devices" },
	{ "nftables", CAT_NAMED, "nft", NULL },
	{ "has_ipt_legacy", CAT_NAMED, NULL, "iptables-legacy (criu locks with the system's iptables)" },
	{ "pidfd_store", CAT_EXTRA, NULL,
	  "RPC pidfd_store_sk (a chain's tasks are told from a reused pid by the pidfds of its write tracking)" },
	{ "ns_pid", CAT_EXTRA, "ns-pid", NULL },
	{ "apparmor_stacking", CAT_NAMED, NULL, "LSM profiles" },
	{ "network_lock_nftables", CAT_EXTRA, "nft", NULL },
	{ "sockopt_buf_lock", CAT_EXTRA, "so-buf-lock", NULL },
	{ "memfd_hugetlb", CAT_EXTRA, "memfd-hugetlb", NULL },	/* memfd.c, 2 MiB pages */
	{ "move_mount_set_group", CAT_EXTRA, NULL, "mount namespaces" },
	{ "openat2", CAT_EXTRA, NULL, "openat2-based file restore" },
	{ "get_rseq_conf", CAT_EXTRA, "rseq", NULL },
	{ "ipv6_freebind", CAT_EXTRA, "ipv6-freebind", NULL },
	{ "pagemap_scan", CAT_EXTRA, "pagemap-scan", NULL },	/* the write tracking's scans (mem-track.c) */
	{ "timer_cr_ids", CAT_EXTRA, NULL, "POSIX timers" },
	{ "overlayfs_maps", CAT_EXTRA, NULL, "overlayfs mappings" },
	{ "breakpoints", CAT_NAMED, NULL, "hardware breakpoints" },
	{ "pagemap_scan_guard_pages", CAT_EXTRA, "guard-pages", NULL },
};

static const struct criu_feature *criu_feature_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(criu_features); i++)
		if (!strcmp(criu_features[i].name, name))
			return &criu_features[i];
	return NULL;
}

/* 0, or -errno with *ret_why saying what is missing: criu's part first, then the kernel's. */
static int criu_feature_has(const struct criu_feature *f, const char **ret_why)
{
	int ret;

	if (f->missing) {
		*ret_why = f->missing;
		return -EOPNOTSUPP;
	}
	ret = f->kernel ? kerndat_has(f->kernel) : 0;
	if (ret)
		*ret_why = kerndat_find(f->kernel)->what;
	return ret;
}

static int check_one(const char *name)
{
	const struct criu_feature *cf = criu_feature_find(name);
	const char *why = NULL;
	int ret;

	if (cf) {
		ret = criu_feature_has(cf, &why);
		if (ret == -EOPNOTSUPP && cf->missing)
			pr_msg("%s is not supported: not in criu (pidfd edition) yet: %s\n", name, why);
		else if (ret)
			pr_msg("%s is not supported: the kernel lacks %s (%s)\n", name, why, strerror(-ret));
		else
			pr_msg("%s is supported\n", name);
		return ret;
	}
	if (!kerndat_find(name)) {
		pr_msg("Unknown feature %s (criu check --feature list)\n", name);
		return -EINVAL;
	}
	ret = kerndat_has(name);
	if (ret)
		pr_msg("%s is not supported: %s\n", name, strerror(-ret));
	else
		pr_msg("%s is supported\n", name);
	return ret;
}

static void list_features(void)
{
	int nr;
	const struct kerndat_feature *f = kerndat_features(&nr);

	for (int i = 0; i < nr; i++)
		pr_msg("%s\n", f[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(criu_features); i++)
		pr_msg("%s\n", criu_features[i].name);
}

/* This criu's own lines; 1 when a required feature is missing, else 0; *ret_optional counts the others. */
static int check_own(int *ret_optional)
{
	int nr, missing_required = 0;
	const struct kerndat_feature *f = kerndat_features(&nr);

	for (int i = 0; i < nr; i++) {
		int ret = kerndat_has(f[i].name);

		pr_msg("%-18s %-55s %s\n", f[i].name, f[i].what, ret ? "no" : "yes");
		if (!ret)
			continue;
		pr_info("  %s: %s\n", f[i].name, strerror(-ret));
		if (f[i].required)
			missing_required++;
		else
			(*ret_optional)++;
	}
	return missing_required ? 1 : 0;
}

/* CRIU's features of one category; the number missing. */
static int check_criu_cat(enum criu_cat cat)
{
	int missing = 0;

	for (size_t i = 0; i < ARRAY_SIZE(criu_features); i++) {
		const struct criu_feature *cf = &criu_features[i];
		const char *why = NULL;

		if (cf->cat != cat)
			continue;
		if (criu_feature_has(cf, &why)) {
			pr_msg("%-24s no: %s\n", cf->name, why);
			missing++;
		} else {
			pr_msg("%-24s yes\n", cf->name);
		}
	}
	return missing;
}

int cr_check(const char *feature)
{
	int optional = 0, criu_missing = 0;

	if (feature && !strcmp(feature, "list")) {
		list_features();
		return 0;
	}
	if (feature)
		return check_one(feature);

	if (check_own(&optional)) {
		pr_msg("Does not look good: criu needs the features marked 'no' above.\n");
		return -EOPNOTSUPP;
	}
	if (opts.check_extra)
		criu_missing += check_criu_cat(CAT_EXTRA);
	if (opts.check_experimental)
		criu_missing += check_criu_cat(CAT_EXPERIMENTAL);
	if (criu_missing) {
		/* as CRIU's: missing extra or experimental features make the check fail */
		pr_msg("Looks good for what criu needs, but %d of CRIU's extra features are missing: "
		       "dump or restore may fail for some trees.\n",
		       criu_missing);
		return -EOPNOTSUPP;
	}
	if (optional)
		pr_msg("Looks good, but some optional features are missing.\n");
	else
		pr_msg("Looks good.\n");
	return 0;
}
