// SPDX-License-Identifier: LGPL-2.1
/*
 * libcriu: the setters. Each one fills a field of the criu_opts message
 * (images/rpc.proto) that goes with the requests; criu_X() is
 * criu_local_X() on the option set of criu_init_opts(). Nothing is checked
 * here against what criu implements: criu refuses a field it does not
 * implement with an error naming it (criu_get_last_error()).
 *
 * Strings are copied; setting one again replaces it. The add_ calls append
 * to a list. Every string, list and message is malloc()ed, so that
 * criu_opts__free_unpacked() frees the whole message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcriu-internal.h"

/* void criu_[local_]set_NAME(bool): the optional bool field FIELD */
#define OPT_BOOL(name, field)							\
	void criu_local_set_##name(criu_opts *opts, bool val)			\
	{									\
		if (!opts)							\
			return;							\
		opts->rpc->has_##field = true;					\
		opts->rpc->field = val;						\
	}									\
	void criu_set_##name(bool val)						\
	{									\
		criu_local_set_##name(libcriu_global, val);			\
	}

/* void criu_[local_]set_NAME(TYPE): an optional number (or enum) field */
#define OPT_NUM(name, field, type, rpc_type)					\
	void criu_local_set_##name(criu_opts *opts, type val)			\
	{									\
		if (!opts)							\
			return;							\
		opts->rpc->has_##field = true;					\
		opts->rpc->field = (rpc_type)val;				\
	}									\
	void criu_set_##name(type val)						\
	{									\
		criu_local_set_##name(libcriu_global, val);			\
	}

/* int criu_local_NAME(const char *): a string field, replaced */
#define OPT_STR_LOCAL(name, field)						\
	int criu_local_##name(criu_opts *opts, const char *val)			\
	{									\
		return opts ? set_str(&opts->rpc->field, val) : -EINVAL;	\
	}

#define OPT_STR(name, field)							\
	OPT_STR_LOCAL(name, field)						\
	int criu_##name(const char *val)					\
	{									\
		return criu_local_##name(libcriu_global, val);			\
	}

/* int criu_[local_]NAME(const char *): appended to a repeated string field */
#define OPT_STRV(name, field)							\
	int criu_local_##name(criu_opts *opts, const char *val)			\
	{									\
		if (!opts)							\
			return -EINVAL;						\
		return strv_add(&opts->rpc->field, &opts->rpc->n_##field, val);	\
	}									\
	int criu_##name(const char *val)					\
	{									\
		return criu_local_##name(libcriu_global, val);			\
	}

static int set_str(char **field, const char *val)
{
	char *copy;

	if (!val)
		return -EINVAL;
	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* Append item to the array *v of *n pointers. */
static int ptrv_add(void ***v, size_t *n, void *item)
{
	void **grown = realloc(*v, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = item;
	*v = grown;
	return 0;
}

static int strv_add(char ***v, size_t *n, const char *val)
{
	char *copy;

	if (!val)
		return -EINVAL;
	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	if (ptrv_add((void ***)v, n, copy)) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

/* Append the message m to a repeated message field, or free it. */
static int msgv_add(void ***v, size_t *n, ProtobufCMessage *m)
{
	if (ptrv_add(v, n, m)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------ plain fields */

OPT_BOOL(leave_running, leave_running)
OPT_BOOL(ext_unix_sk, ext_unix_sk)
OPT_BOOL(tcp_established, tcp_established)
OPT_BOOL(tcp_skip_in_flight, tcp_skip_in_flight)
OPT_BOOL(tcp_close, tcp_close)
OPT_BOOL(weak_sysctls, weak_sysctls)
OPT_BOOL(evasive_devices, evasive_devices)
OPT_BOOL(shell_job, shell_job)
OPT_BOOL(skip_file_rwx_check, skip_file_rwx_check)
OPT_BOOL(unprivileged, unprivileged)
OPT_BOOL(orphan_pts_master, orphan_pts_master)
OPT_BOOL(file_locks, file_locks)
OPT_BOOL(track_mem, track_mem)
OPT_BOOL(auto_dedup, auto_dedup)
OPT_BOOL(force_irmap, force_irmap)
OPT_BOOL(link_remap, link_remap)
OPT_BOOL(manage_cgroups, manage_cgroups)
OPT_BOOL(auto_ext_mnt, auto_ext_mnt)
OPT_BOOL(ext_sharing, ext_sharing)
OPT_BOOL(ext_masters, ext_masters)
OPT_BOOL(mntns_compat_mode, mntns_compat_mode)
/* not in CRIU's libcriu: the rest of criu_opts */
OPT_BOOL(lazy_pages, lazy_pages)
OPT_BOOL(leave_stopped, leave_stopped)
OPT_BOOL(display_stats, display_stats)
OPT_BOOL(log_to_stderr, log_to_stderr)
OPT_BOOL(tls, tls)
OPT_BOOL(tls_no_cn_verify, tls_no_cn_verify)

OPT_NUM(pid, pid, int, int32_t)
OPT_NUM(work_dir_fd, work_dir_fd, int, int32_t)
OPT_NUM(log_level, log_level, int, int32_t)
OPT_NUM(cpu_cap, cpu_cap, unsigned int, uint32_t)
OPT_NUM(timeout, timeout, unsigned int, uint32_t)
OPT_NUM(ghost_limit, ghost_limit, unsigned int, uint32_t)
OPT_NUM(pidfd_store_sk, pidfd_store_sk, int, int32_t)
OPT_NUM(empty_ns, empty_ns, int, uint32_t)
OPT_NUM(manage_cgroups_mode, manage_cgroups_mode, enum criu_cg_mode, CriuCgMode)
OPT_NUM(status_fd, status_fd, int, int32_t)

OPT_STR(set_parent_images, parent_img)
OPT_STR(set_log_file, log_file)
OPT_STR(set_root, root)
OPT_STR(set_freeze_cgroup, freeze_cgroup)
OPT_STR(set_lsm_profile, lsm_profile)
OPT_STR(set_lsm_mount_context, lsm_mount_context)
OPT_STR(set_config_file, config_file)
OPT_STR_LOCAL(add_cg_props, cgroup_props)
OPT_STR_LOCAL(add_cg_props_file, cgroup_props_file)
OPT_STR_LOCAL(add_cg_yard, cgroup_yard)
/* not in CRIU's libcriu */
OPT_STR(set_images_dir, images_dir)
OPT_STR(set_tls_cacert, tls_cacert)
OPT_STR(set_tls_cacrl, tls_cacrl)
OPT_STR(set_tls_cert, tls_cert)
OPT_STR(set_tls_key, tls_key)

OPT_STRV(add_enable_fs, enable_fs)
OPT_STRV(add_skip_mnt, skip_mnt)
OPT_STRV(add_irmap_path, irmap_scan_paths)
OPT_STRV(add_external, external)

int criu_local_add_cg_dump_controller(criu_opts *opts, const char *name)
{
	if (!opts)
		return -EINVAL;
	return strv_add(&opts->rpc->cgroup_dump_controller, &opts->rpc->n_cgroup_dump_controller, name);
}

/* images_dir_fd is a required field: no has_ flag */
void criu_local_set_images_dir_fd(criu_opts *opts, int fd)
{
	if (opts)
		opts->rpc->images_dir_fd = fd;
}

void criu_set_images_dir_fd(int fd)
{
	criu_local_set_images_dir_fd(libcriu_global, fd);
}

int criu_local_set_pre_dump_mode(criu_opts *opts, enum criu_pre_dump_mode mode)
{
	if (!opts || (mode != CRIU_PRE_DUMP_SPLICE && mode != CRIU_PRE_DUMP_READ))
		return -EINVAL;
	opts->rpc->has_pre_dump_mode = true;
	opts->rpc->pre_dump_mode = (CriuPreDumpMode)mode;
	return 0;
}

int criu_set_pre_dump_mode(enum criu_pre_dump_mode mode)
{
	return criu_local_set_pre_dump_mode(libcriu_global, mode);
}

int criu_local_set_network_lock(criu_opts *opts, enum criu_network_lock_method method)
{
	if (!opts || method < CRIU_NETWORK_LOCK_IPTABLES || method > CRIU_NETWORK_LOCK_SKIP)
		return -EINVAL;
	opts->rpc->has_network_lock = true;
	opts->rpc->network_lock = (CriuNetworkLockMethod)method;
	return 0;
}

int criu_set_network_lock(enum criu_network_lock_method method)
{
	return criu_local_set_network_lock(libcriu_global, method);
}

/* The whole command line, replacing an earlier one. */
int criu_local_set_exec_cmd(criu_opts *opts, int argc, char *argv[])
{
	char **v = NULL;
	size_t n = 0;

	if (!opts || argc < 0 || (argc && !argv))
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		int ret = strv_add(&v, &n, argv[i]);

		if (ret) {
			while (n)
				free(v[--n]);
			free(v);
			return ret;
		}
	}
	while (opts->rpc->n_exec_cmd)
		free(opts->rpc->exec_cmd[--opts->rpc->n_exec_cmd]);
	free(opts->rpc->exec_cmd);
	opts->rpc->exec_cmd = v;
	opts->rpc->n_exec_cmd = n;
	return 0;
}

int criu_set_exec_cmd(int argc, char *argv[])
{
	return criu_local_set_exec_cmd(libcriu_global, argc, argv);
}

/* ------------------------------------------------------------ lists of messages */

/* Copies of a and b into the two string fields, or -ENOMEM (nothing kept). */
static int dup_pair(char **fa, const char *a, char **fb, const char *b)
{
	*fa = a ? strdup(a) : NULL;
	*fb = b ? strdup(b) : NULL;
	if ((a && !*fa) || (b && !*fb))
		return -ENOMEM;
	return 0;
}

int criu_local_add_ext_mount(criu_opts *opts, const char *key, const char *val)
{
	ExtMountMap *m;

	if (!opts || !key || !val)
		return -EINVAL;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ext_mount_map__init(m);
	if (dup_pair(&m->key, key, &m->val, val)) {
		ext_mount_map__free_unpacked(m, NULL);
		return -ENOMEM;
	}
	return msgv_add((void ***)&opts->rpc->ext_mnt, &opts->rpc->n_ext_mnt, &m->base);
}

int criu_add_ext_mount(const char *key, const char *val)
{
	return criu_local_add_ext_mount(libcriu_global, key, val);
}

int criu_local_add_veth_pair(criu_opts *opts, const char *in, const char *out)
{
	CriuVethPair *p;

	if (!opts || !in || !out)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	criu_veth_pair__init(p);
	if (dup_pair(&p->if_in, in, &p->if_out, out)) {
		criu_veth_pair__free_unpacked(p, NULL);
		return -ENOMEM;
	}
	return msgv_add((void ***)&opts->rpc->veths, &opts->rpc->n_veths, &p->base);
}

int criu_add_veth_pair(const char *in, const char *out)
{
	return criu_local_add_veth_pair(libcriu_global, in, out);
}

/* ctrl may be NULL: the root for every controller */
int criu_local_add_cg_root(criu_opts *opts, const char *ctrl, const char *path)
{
	CgroupRoot *r;

	if (!opts || !path)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	cgroup_root__init(r);
	if (dup_pair(&r->ctrl, ctrl, &r->path, path)) {
		cgroup_root__free_unpacked(r, NULL);
		return -ENOMEM;
	}
	return msgv_add((void ***)&opts->rpc->cg_root, &opts->rpc->n_cg_root, &r->base);
}

int criu_add_cg_root(const char *ctrl, const char *path)
{
	return criu_local_add_cg_root(libcriu_global, ctrl, path);
}

/* An external unix socket by inode: turns ext_unix_sk on, unless it was turned off. */
int criu_local_add_unix_sk(criu_opts *opts, unsigned int inode)
{
	UnixSk *u;

	if (!opts || (opts->rpc->has_ext_unix_sk && !opts->rpc->ext_unix_sk))
		return -EINVAL;
	u = malloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	unix_sk__init(u);
	u->inode = inode;
	opts->rpc->has_ext_unix_sk = opts->rpc->ext_unix_sk = true;
	return msgv_add((void ***)&opts->rpc->unix_sk_ino, &opts->rpc->n_unix_sk_ino, &u->base);
}

int criu_add_unix_sk(unsigned int inode)
{
	return criu_local_add_unix_sk(libcriu_global, inode);
}

/* fd is the caller's: only a criu swrk the library forks inherits it. */
int criu_local_add_inherit_fd(criu_opts *opts, int fd, const char *key)
{
	InheritFd *f;

	if (!opts || !key || opts->comm != CRIU_COMM_BIN)
		return -EINVAL;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	inherit_fd__init(f);
	f->fd = fd;
	f->key = strdup(key);
	if (!f->key) {
		free(f);
		return -ENOMEM;
	}
	return msgv_add((void ***)&opts->rpc->inherit_fd, &opts->rpc->n_inherit_fd, &f->base);
}

int criu_add_inherit_fd(int fd, const char *key)
{
	return criu_local_add_inherit_fd(libcriu_global, fd, key);
}

int criu_local_join_ns_add(criu_opts *opts, const char *ns, const char *ns_file, const char *extra_opt)
{
	JoinNamespace *j;

	if (!opts || !ns || !ns_file)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	join_namespace__init(j);
	if (dup_pair(&j->ns, ns, &j->ns_file, ns_file) || (extra_opt && !(j->extra_opt = strdup(extra_opt)))) {
		join_namespace__free_unpacked(j, NULL);
		return -ENOMEM;
	}
	return msgv_add((void ***)&opts->rpc->join_ns, &opts->rpc->n_join_ns, &j->base);
}

int criu_join_ns_add(const char *ns, const char *ns_file, const char *extra_opt)
{
	return criu_local_join_ns_add(libcriu_global, ns, ns_file, extra_opt);
}

int criu_local_set_page_server_address_port(criu_opts *opts, const char *address, int port)
{
	CriuPageServerInfo *ps;

	if (!opts || !address)
		return -EINVAL;
	ps = malloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	criu_page_server_info__init(ps);
	ps->address = strdup(address);
	if (!ps->address) {
		free(ps);
		return -ENOMEM;
	}
	ps->has_port = true;
	ps->port = port;
	if (opts->rpc->ps)
		criu_page_server_info__free_unpacked(opts->rpc->ps, NULL);
	opts->rpc->ps = ps;
	return 0;
}

int criu_set_page_server_address_port(const char *address, int port)
{
	return criu_local_set_page_server_address_port(libcriu_global, address, port);
}
