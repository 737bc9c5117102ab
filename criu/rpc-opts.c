// SPDX-License-Identifier: GPL-2.0
/*
 * RPC criu_opts -> `opts` (cr_options.h), the images directory and the log
 * of a request (Documentation/rpc.md has the table).
 *
 * Every field of criu_opts is looked at through the protobuf-c descriptor:
 * a field that is not in the table of fields we map and that is set to
 * something other than its default (a true bool, a non-default number, a
 * non-empty string, a message, a non-empty list) fails the request with an
 * error naming it. So a field added to rpc.proto is refused until it is
 * implemented, never dropped.
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "action-scripts.h"
#include "common.h"
#include "cr-config.h"
#include "cr-service.h"
#include "cr_options.h"
#include "lsm.h"

#undef LOG_PREFIX
#define LOG_PREFIX "rpc: "

#define RPC_DEFAULT_LOG "criu.log"

/* Process-wide: this criu is a swrk, serving one client over an inherited socket. */
bool rpc_swrk;

/* The criu_opts fields this criu maps onto its options. */
static const char *const mapped_fields[] = {
	"images_dir_fd", "images_dir", "work_dir_fd", "pid", "leave_running", "shell_job",
	"log_level", "log_file", "log_to_stderr", "notify_scripts", "rst_sibling",
	"external", "inherit_fd", "empty_ns", "join_ns", "root", "ext_mnt", "lsm_profile", "lsm_mount_context",
	"manage_cgroups", "manage_cgroups_mode", "cg_root", "cgroup_dump_controller",
	"freeze_cgroup", "cgroup_yard",
	"file_locks", "ext_unix_sk", "unix_sk_ino", "tcp_established", "tcp_close", "tcp_skip_in_flight", "network_lock",
	"orphan_pts_master", "config_file", "evasive_devices", "ghost_limit", "timeout",
	"track_mem", "auto_dedup", "parent_img", "pre_dump_mode", "lazy_pages", "status_fd",
	"ps", "tls", "tls_cacert", "tls_cacrl", "tls_cert", "tls_key", "tls_no_cn_verify",
};

/*
 * Fields the command line accepts as no-ops (options.c ACCEPT), taken the same way: what they
 * ask for criu does anyway or has only one way of doing (one mount engine: mntns_compat_mode,
 * which CRIU's zdtm.py --rpc sends with --mntns-compat-mode).
 */
static const char *const noop_fields[] = {
	"mntns_compat_mode", "link_remap", "force_irmap", "irmap_scan_paths", "weak_sysctls", "skip_file_rwx_check",
};

/* Fields where any value, 0 included, asks for something (an fd number). */
static const char *const fd_fields[] = { "status_fd", "pidfd_store_sk" };

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/* A 32-bit scalar (bool, enum, [u]int32) or 64-bit one, compared with the field's default. */
static bool scalar_differs(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean def = f->default_value ? *(const protobuf_c_boolean *)f->default_value : 0;

		return *(const protobuf_c_boolean *)p != def;
	}
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE: {
		uint64_t def = 0;

		if (f->default_value)
			memcpy(&def, f->default_value, sizeof(def));
		return memcmp(p, &def, sizeof(def)) != 0;
	}
	default: {
		uint32_t def = 0;

		if (f->default_value)
			memcpy(&def, f->default_value, sizeof(def));
		return memcmp(p, &def, sizeof(def)) != 0;
	}
	}
}

/* Does the request ask for something with this field? */
static bool field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)p;

		return s && *s && (!f->default_value || strcmp(s, *(char *const *)f->default_value));
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)p != NULL;
	if (f->type == PROTOBUF_C_TYPE_BYTES)
		return ((const ProtobufCBinaryData *)p)->len > 0;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return false;
	if (in_list(f->name, fd_fields, ARRAY_SIZE(fd_fields)))
		return true;
	return scalar_differs(f, p);
}

/* One error that names every field set that we don't implement. */
static int check_unsupported(const CriuOpts *ro)
{
	const ProtobufCMessageDescriptor *d = ro->base.descriptor;
	char names[1024] = "";
	size_t len = 0;
	int nr = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (in_list(f->name, mapped_fields, ARRAY_SIZE(mapped_fields)) || !field_is_set(&ro->base, f))
			continue;
		if (in_list(f->name, noop_fields, ARRAY_SIZE(noop_fields))) {
			pr_info("criu_opts.%s: accepted, nothing to change (as on the command line)\n", f->name);
			continue;
		}
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%scriu_opts.%s", nr ? ", " : "", f->name);
		nr++;
	}
	if (nr)
		return pr_fail(-EOPNOTSUPP, "%s %s not supported by this criu\n", names, nr > 1 ? "are" : "is");
	/* unknown fields (numbers rpc.proto does not have) are kept by protobuf-c: refuse them too */
	if (ro->base.n_unknown_fields)
		return pr_fail(-EOPNOTSUPP, "criu_opts field number %u is not known to this criu\n",
			       ro->base.unknown_fields[0].tag);
	return 0;
}

/* root and ext_mnt (key/val pairs): the mount options (external, mnt[] and net[]: setup_ns_opts()) */
static int map_mounts(const CriuOpts *ro)
{
	for (size_t i = 0; i < ro->n_ext_mnt; i++) {
		const ExtMountMap *m = ro->ext_mnt[i];

		if (opts_add_ext_mnt(m->key, strlen(m->key), m->val))
			return pr_fail(-EINVAL, "criu_opts.ext_mnt %zu: key and val must be non-empty\n", i);
	}
	if (ro->root && *ro->root)
		opts.root = ro->root;
	return 0;
}

static int peer_pid(int sk, pid_t *ret_pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return pr_fail_errno("can't learn who the client is");
	*ret_pid = cr.pid;
	return 0;
}

static int fd_path(char *buf, pid_t peer, int fd, const char *what)
{
	if (fd < 0)
		return pr_fail(-EBADF, "criu_opts.%s %d is not an fd\n", what, fd);
	snprintf(buf, PATH_MAX, "/proc/%d/fd/%d", peer, fd);
	return 0;
}

static int setup_dirs(const CriuOpts *ro, enum rpc_mode mode, pid_t peer, struct rpc_dirs *dirs)
{
	int ret;

	if (ro->images_dir_fd != -1)
		ret = fd_path(dirs->img_path, peer, ro->images_dir_fd, "images_dir_fd");
	else if (ro->images_dir && *ro->images_dir)
		ret = snprintf(dirs->img_path, PATH_MAX, "%s", ro->images_dir) >= PATH_MAX ?
			      pr_fail(-ENAMETOOLONG, "criu_opts.images_dir is too long\n") : 0;
	else if (mode == RPC_CHECK)
		ret = 0;
	else
		ret = pr_fail(-EINVAL, "the request names no images directory (images_dir_fd or images_dir)\n");
	if (ret)
		return ret;
	if (dirs->img_path[0] && mode != RPC_CHECK) {
		dirs->img_dfd = open(dirs->img_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirs->img_dfd < 0)
			return pr_fail_errno("can't open the images directory %s", dirs->img_path);
		opts.imgs_dir = dirs->img_path;
	}
	if (ro->has_work_dir_fd)
		ret = fd_path(dirs->work_path, peer, ro->work_dir_fd, "work_dir_fd");
	else
		snprintf(dirs->work_path, PATH_MAX, "%s", dirs->img_path);
	if (ret)
		return ret;
	if (dirs->work_path[0])
		opts.work_dir = dirs->work_path;
	return 0;
}

/* The log: log_file in the work dir (no '/' in it), stderr with log_to_stderr; criu.log by default. */
static int setup_log(const CriuOpts *ro, enum rpc_mode mode, struct rpc_dirs *dirs)
{
	const char *name = ro->log_file && *ro->log_file ? ro->log_file : NULL;
	int ret;

	opts.loglevel = ro->log_level;
	log_set_loglevel(opts.loglevel);
	if (ro->has_log_to_stderr && ro->log_to_stderr)
		return 0;
	if (!name && mode == RPC_CHECK)
		return 0;
	if (!name)
		name = RPC_DEFAULT_LOG;
	if (strchr(name, '/'))
		return pr_fail(-EINVAL, "criu_opts.log_file '%s' has a '/': name a file of the work directory\n",
			       name);
	if (!dirs->work_path[0])
		return pr_fail(-EINVAL, "criu_opts.log_file needs a work directory (work_dir_fd or the images dir)\n");
	if (snprintf(dirs->log_path, PATH_MAX, "%s/%s", dirs->work_path, name) >= PATH_MAX)
		return pr_fail(-ENAMETOOLONG, "the log path is too long\n");
	ret = log_init(dirs->log_path);
	if (ret)
		return ret;
	dirs->log_open = true;
	opts.log_file = dirs->log_path;
	return 0;
}

/* One option through the command line's parser, so that both front ends check it the same way. */
static int apply_opt(const char *field, const char *name, const char *val)
{
	char *argv[] = { "criu", (char *)name, (char *)val, NULL };

	if (opts_parse(3, argv, "RPC", NULL, NULL))
		return pr_fail(-EINVAL, "criu_opts.%s '%s' is not valid (%s)\n", field, val, name);
	return 0;
}

/* external, inherit_fd, empty_ns, join_ns: as --external, --inherit-fd, --empty-ns, --join-ns */
static int setup_ns_opts(const CriuOpts *ro)
{
	char buf[PATH_MAX + 32];
	int ret = 0;

	for (size_t i = 0; !ret && i < ro->n_external; i++)
		ret = apply_opt("external", "--external", ro->external[i]);
	for (size_t i = 0; !ret && i < ro->n_unix_sk_ino; i++) {
		snprintf(buf, sizeof(buf), "unix[%u]", ro->unix_sk_ino[i]->inode);
		ret = apply_opt("unix_sk_ino", "--external", buf);
	}
	/* the fds are criu's own: a swrk inherits them from its client, a service's child does not */
	if (ro->n_inherit_fd && !rpc_swrk)
		return pr_fail(-EINVAL, "criu_opts.inherit_fd needs criu swrk (the fds are inherited from the client)\n");
	for (size_t i = 0; !ret && i < ro->n_inherit_fd; i++) {
		snprintf(buf, sizeof(buf), "fd[%d]:%s", ro->inherit_fd[i]->fd, ro->inherit_fd[i]->key);
		ret = apply_opt("inherit_fd", "--inherit-fd", buf);
	}
	if (!ret && ro->has_empty_ns && ro->empty_ns) {
		if (ro->empty_ns != CLONE_NEWNET)
			return pr_fail(-EOPNOTSUPP, "criu_opts.empty_ns %#x: only CLONE_NEWNET is supported\n", ro->empty_ns);
		opts.empty_ns = CLONE_NEWNET;
	}
	for (size_t i = 0; !ret && i < ro->n_join_ns; i++) {
		const JoinNamespace *j = ro->join_ns[i];

		if (j->extra_opt && *j->extra_opt)
			return pr_fail(-EOPNOTSUPP, "criu_opts.join_ns %s: extra options are not supported\n", j->ns);
		snprintf(buf, sizeof(buf), "%s:%s", j->ns, j->ns_file);
		ret = apply_opt("join_ns", "--join-ns", buf);
	}
	return ret;
}

/* manage_cgroups (a bool: soft or ignore, as CRIU), manage_cgroups_mode, cg_root, cgroup_dump_controller */
static int rpc_cgroup_opts(CriuOpts *ro)
{
	static const enum cg_mode modes[] = {
		[CRIU_CG_MODE__IGNORE] = CG_MODE_IGNORE, [CRIU_CG_MODE__CG_NONE] = CG_MODE_NONE,
		[CRIU_CG_MODE__PROPS] = CG_MODE_PROPS, [CRIU_CG_MODE__SOFT] = CG_MODE_SOFT,
		[CRIU_CG_MODE__FULL] = CG_MODE_FULL, [CRIU_CG_MODE__STRICT] = CG_MODE_STRICT,
		[CRIU_CG_MODE__DEFAULT] = CG_MODE_SOFT,
	};

	if (ro->has_manage_cgroups)
		opts.manage_cgroups = ro->manage_cgroups ? CG_MODE_SOFT : CG_MODE_IGNORE;
	if (ro->has_manage_cgroups_mode) {
		if ((unsigned)ro->manage_cgroups_mode >= ARRAY_SIZE(modes))
			return pr_fail(-EINVAL, "criu_opts.manage_cgroups_mode %d is not a mode\n", ro->manage_cgroups_mode);
		opts.manage_cgroups = modes[ro->manage_cgroups_mode];
	}
	opts.freeze_cgroup = ro->freeze_cgroup;
	opts.cgroup_yard = ro->cgroup_yard;
	for (size_t i = 0; i < ro->n_cgroup_dump_controller; i++)
		if (opts_add_cgroup_dump_ctl(ro->cgroup_dump_controller[i]))
			return -ENOMEM;
	for (size_t i = 0; i < ro->n_cg_root; i++) {
		int ret = opts_add_cgroup_root(ro->cg_root[i]->ctrl, ro->cg_root[i]->path);

		if (ret)
			return pr_fail(ret, "criu_opts.cg_root: '%s' is not an absolute path\n", ro->cg_root[i]->path);
	}
	return 0;
}

/* criu_opts.network_lock (CRIU's default, iptables, when unset) */
static int rpc_network_lock(const CriuOpts *ro)
{
	if (!ro->has_network_lock)
		return 0;
	switch (ro->network_lock) {
	case CRIU_NETWORK_LOCK_METHOD__IPTABLES:
		opts.network_lock = NETWORK_LOCK_IPTABLES;
		return 0;
	case CRIU_NETWORK_LOCK_METHOD__NFTABLES:
		opts.network_lock = NETWORK_LOCK_NFTABLES;
		return 0;
	case CRIU_NETWORK_LOCK_METHOD__SKIP:
		opts.network_lock = NETWORK_LOCK_SKIP;
		return 0;
	default:
		return pr_fail(-EINVAL, "criu_opts.network_lock %d is not a method\n", ro->network_lock);
	}
}

/*
 * ps (criu_page_server_info) and the tls fields: DUMP and PRE_DUMP send their
 * pages to ps.address:ps.port (or the socket ps.fd, an fd of this swrk criu,
 * inherited from the client); PAGE_SERVER listens there. As CRIU's.
 */
static int rpc_page_server_opts(const CriuOpts *ro, enum rpc_mode mode)
{
	opts.tls = ro->has_tls && ro->tls;
	opts.tls_cacert = ro->tls_cacert;
	opts.tls_cacrl = ro->tls_cacrl;
	opts.tls_cert = ro->tls_cert;
	opts.tls_key = ro->tls_key;
	opts.tls_no_cn_verify = ro->has_tls_no_cn_verify && ro->tls_no_cn_verify;
	if (!ro->ps)
		return mode == RPC_PAGE_SERVER ? pr_fail(-EINVAL, "a page server request needs criu_opts.ps\n") : 0;
	if (mode == RPC_RESTORE && !opts.lazy_pages)
		return pr_fail(-EINVAL, "criu_opts.ps at restore is for lazy pages: it needs criu_opts.lazy_pages\n");
	if (mode == RPC_RESTORE) {
		/* as CRIU's: `criu lazy-pages --page-server`, not the restore, talks to the page server */
		pr_info("criu_opts.ps: the lazy-pages daemon fetches the pages, the restore does not use it\n");
		return 0;
	}
	if (ro->ps->has_port && (ro->ps->port < 0 || ro->ps->port > 65535))
		return pr_fail(-EINVAL, "criu_opts.ps.port %d is not a port\n", ro->ps->port);
	/* DUMP with lazy_pages: ps is where the dump itself serves the pages it leaves in the tree */
	opts.use_page_server = mode == RPC_DUMP && !opts.lazy_pages;
	opts.ps_addr = ro->ps->address;
	opts.ps_port = ro->ps->has_port ? (unsigned int)ro->ps->port : 0;
	if (ro->ps->has_fd) {
		if (!rpc_swrk)
			return pr_fail(-EINVAL, "criu_opts.ps.fd needs criu swrk (an fd the client passed down)\n");
		opts.ps_socket = ro->ps->fd;
	}
	return 0;
}

/*
 * status_fd (runc checkpoint --lazy-pages asks for it): an fd of the client,
 * reopened through its /proc as CRIU does; '\0' is written there when the
 * lazy dump serves its pages, the restored tree runs or the page server listens.
 */
static int rpc_status_fd(const CriuOpts *ro, pid_t peer)
{
	char path[PATH_MAX];
	int ret;

	if (!ro->has_status_fd)
		return 0;
	ret = fd_path(path, peer, ro->status_fd, "status_fd");
	if (ret)
		return ret;
	opts.status_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (opts.status_fd < 0)
		return pr_fail_errno("criu_opts.status_fd: can't open %s", path);
	return 0;
}

int rpc_setup_opts(int sk, CriuOpts *ro, enum rpc_mode mode, struct rpc_dirs *dirs)
{
	CriuOpts none = CRIU_OPTS__INIT;
	pid_t peer = 0;
	int ret;

	const char *fault = opts.fault_inject;	/* the test hook comes from criu's environment, not the request */
	opts_init();	/* every request starts from the defaults, whatever came before */
	opts.fault_inject = fault;
	dirs->img_dfd = -1;
	if (!ro) {
		if (mode != RPC_CHECK)
			return pr_fail(-EINVAL, "the request has no opts\n");
		ro = &none;
	}
	/* the log first, so that a refusal lands in the log the client will read */
	ret = peer_pid(sk, &peer);
	if (!ret)
		ret = setup_dirs(ro, mode, peer, dirs);
	if (!ret)
		ret = setup_log(ro, mode, dirs);
	if (!ret)
		ret = check_unsupported(ro);
	if (!ret)
		ret = map_mounts(ro);
	if (!ret && ro->rst_sibling && !rpc_swrk)
		ret = pr_fail(-EINVAL, "criu_opts.rst_sibling needs criu swrk (the client must be criu's parent)\n");
	if (!ret)
		ret = setup_ns_opts(ro);
	if (!ret && mode == RPC_DUMP && (!ro->has_pid || ro->pid <= 0))
		ret = pr_fail(-EINVAL, "criu_opts.pid is missing: dumping the requesting process itself is not "
				       "supported, name the root of the tree\n");
	if (ret)
		return ret;

	opts.tree_id = mode == RPC_DUMP ? ro->pid : 0;
	opts.leave_running = ro->leave_running;
	opts.track_mem = ro->has_track_mem && ro->track_mem;
	opts.auto_dedup = ro->has_auto_dedup && ro->auto_dedup;
	/*
	 * DUMP: the pages a lazy restore takes stay in the tree, served at ps (lazy-dump.c); RESTORE: lazy;
	 * PAGE_SERVER: it serves the lazy pages of the images dir (lazy-images.c), as page-server --lazy-pages
	 */
	opts.lazy_pages = ro->has_lazy_pages && ro->lazy_pages;
	if (opts.lazy_pages && mode != RPC_RESTORE && mode != RPC_DUMP && mode != RPC_PAGE_SERVER)
		return pr_fail(-EOPNOTSUPP, "criu_opts.lazy_pages: only a dump, a restore or a page server can be "
					    "lazy\n");
	if (opts.lazy_pages && mode == RPC_PAGE_SERVER && ro->parent_img)
		return pr_fail(-EINVAL, "criu_opts.parent_img with lazy_pages: a lazy page server serves the images "
					"dir as it is (a parent chain is not served), it receives nothing\n");
	ret = rpc_status_fd(ro, peer);
	if (ret)
		return ret;
	/* relative to the images dir, as CRIU's; a page server's too */
	opts.prev_imgs_dir = mode == RPC_DUMP || mode == RPC_PAGE_SERVER ? ro->parent_img : NULL;
	ret = rpc_page_server_opts(ro, mode);
	if (ret)
		return ret;
	opts.shell_job = ro->shell_job;
	opts.lsm_profile = ro->lsm_profile;
	opts.lsm_mount_context = ro->lsm_mount_context;
	if (opts.lsm_profile && lsm_parse_profile(opts.lsm_profile, &(enum lsm_kind){ 0 }, &(const char *){ NULL }))
		return pr_fail(-EINVAL, "criu_opts.lsm_profile '%s' is not apparmor:PROFILE or selinux:CONTEXT\n",
			       opts.lsm_profile);
	opts.restore_detached = mode == RPC_RESTORE;
	dirs->rst_sibling = ro->rst_sibling;
	ret = rpc_cgroup_opts(ro);
	if (ret)
		return ret;
	opts.file_locks = ro->has_file_locks && ro->file_locks;
	/* unset: the command line's default (1M, as the field's) or a config file's */
	if (ro->has_ghost_limit)
		opts.ghost_limit = ro->ghost_limit;
	/* as --timeout: seconds to seize the tree (seize.c), to freeze a cgroup; unset: the default */
	if (ro->has_timeout) {
		if (ro->timeout > INT_MAX)
			return pr_fail(-EINVAL, "criu_opts.timeout %u is too large\n", ro->timeout);
		opts.timeout = ro->timeout;
	}
	opts.ext_unix_sk = ro->has_ext_unix_sk && ro->ext_unix_sk;
	opts.tcp_established = ro->has_tcp_established && ro->tcp_established;
	opts.tcp_close = ro->has_tcp_close && ro->tcp_close;
	opts.tcp_skip_in_flight = ro->has_tcp_skip_in_flight && ro->tcp_skip_in_flight;
	ret = rpc_network_lock(ro);
	if (ret)
		return ret;
	opts.orphan_pts_master = ro->has_orphan_pts_master && ro->orphan_pts_master;
	/*
	 * evasive_devices (runc always asks): CRIU then opens another node of the same
	 * device when a device file's path is gone. Not implemented: such a restore
	 * fails on the missing path, as without the option, never silently.
	 */
	if (ro->has_evasive_devices && ro->evasive_devices)
		pr_info("criu_opts.evasive_devices: a device file's path must still exist (no fallback)\n");
	if (ro->notify_scripts)
		rpc_enable_notify();
	/* as in CRIU: the file's settings win over the request's; a missing file is no error */
	if (ro->config_file && *ro->config_file) {
		ret = config_apply_file(ro->config_file);
		if (ret)
			return pr_fail(ret, "criu_opts.config_file %s: can't apply it\n", ro->config_file);
	}
	pr_debug("request options: images %s, work dir %s, pid %d, leave_running %d, shell_job %d, rst_sibling %d\n",
		 dirs->img_path, dirs->work_path, ro->pid, ro->leave_running, ro->shell_job, ro->rst_sibling);
	return 0;
}

void rpc_dirs_close(struct rpc_dirs *dirs)
{
	if (opts.status_fd >= 0)
		close(opts.status_fd);	/* a request that failed before it said it was ready */
	opts.status_fd = -1;
	if (dirs->img_dfd >= 0)
		close(dirs->img_dfd);
	dirs->img_dfd = -1;
	if (dirs->log_open)
		log_fini();
	dirs->log_open = false;
	opts.imgs_dir = opts.work_dir = opts.log_file = NULL;
	opts.prev_imgs_dir = NULL;	/* the request's string */
}
