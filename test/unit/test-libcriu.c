// SPDX-License-Identifier: GPL-2.0
/*
 * libcriu (lib/c), linked as a program would link it (-lcriu, criu.h only).
 *
 * Without criu: a fake server on a socketpair (criu_local_set_service_fd)
 * whose answers are queued before the call. Every setter must land in its
 * criu_opts field, every field of criu_opts must have a setter, and the
 * notifications, failures and broken answers must give criu.h's codes.
 *
 * With criu/criu: VERSION (>= 4.2), CHECK, FEATURE_CHECK, a DUMP refused
 * for an option criu does not implement (named in the error, the tree keeps
 * running), then the zdtm test env00 dumped with criu_dump(), restored with
 * criu_local_restore(), dumped again and restored with
 * criu_local_restore_child() (the root is our child without a subreaper);
 * it must then pass its own check.
 *
 * Needs root; TAP output; exit 77 when criu/criu or env00 is not built.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu.h>

#include "tap.h"

#define CRIU "criu/criu"
#define ENV00 "test/build/zdtm/static/env00"

static char tmp[] = "/tmp/test-libcriu.XXXXXX";
static char criu_path[4096];

/* ------------------------------------------------------------ fake server */

/* Queue one answer on the server's end before the library asks. */
static void queue_resp(int sk, const CriuResp *resp)
{
	size_t len = criu_resp__get_packed_size(resp);
	uint8_t buf[len ?: 1];

	criu_resp__pack(resp, buf);
	if (send(sk, buf, len, 0) != (ssize_t)len)
		check(0, "queue an answer: %s", strerror(errno));
}

static void queue_simple(int sk, CriuReqType type, bool success)
{
	CriuResp r = CRIU_RESP__INIT;

	r.type = type;
	r.success = success;
	queue_resp(sk, &r);
}

/* The next request the library sent, or NULL. */
static CriuReq *take_req(int sk)
{
	uint8_t buf[65536];
	ssize_t n = recv(sk, buf, sizeof(buf), MSG_DONTWAIT);

	return n > 0 ? criu_req__unpack(NULL, n, buf) : NULL;
}

/* A fresh option set talking to a new fake server; its end in *ret_srv. */
static criu_opts *fake_opts(int *ret_srv)
{
	criu_opts *o = NULL;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || criu_local_init_opts(&o))
		return NULL;
	criu_local_set_service_fd(o, sv[0]);
	*ret_srv = sv[1];
	return o;
}

static char *argv_cmd[] = { "/bin/true", "-x" };

/* Call every setter of criu.h once, with a value other than the field's default. */
static void set_everything(criu_opts *o)
{
	int ret = 0;

	criu_local_set_pid(o, 4242);
	criu_local_set_images_dir_fd(o, 7);
	criu_local_set_work_dir_fd(o, 8);
	criu_local_set_leave_running(o, true);
	criu_local_set_ext_unix_sk(o, true);
	ret |= criu_local_add_unix_sk(o, 1234);
	criu_local_set_tcp_established(o, true);
	criu_local_set_tcp_skip_in_flight(o, true);
	criu_local_set_tcp_close(o, true);
	criu_local_set_weak_sysctls(o, true);
	criu_local_set_evasive_devices(o, true);
	criu_local_set_shell_job(o, true);
	criu_local_set_skip_file_rwx_check(o, true);
	criu_local_set_unprivileged(o, true);
	criu_local_set_orphan_pts_master(o, true);
	criu_local_set_file_locks(o, true);
	criu_local_set_track_mem(o, true);
	criu_local_set_auto_dedup(o, true);
	criu_local_set_force_irmap(o, true);
	criu_local_set_link_remap(o, true);
	criu_local_set_log_level(o, CRIU_LOG_DEBUG);
	ret |= criu_local_set_log_file(o, "first.log");
	ret |= criu_local_set_log_file(o, "x.log");	/* replaces */
	criu_local_set_cpu_cap(o, 3);
	ret |= criu_local_set_root(o, "/root-dir");
	criu_local_set_manage_cgroups(o, true);
	criu_local_set_manage_cgroups_mode(o, CRIU_CG_MODE_SOFT);
	ret |= criu_local_set_freeze_cgroup(o, "/freezer/x");
	ret |= criu_local_set_lsm_profile(o, "apparmor:x");
	ret |= criu_local_set_lsm_mount_context(o, "ctx");
	criu_local_set_timeout(o, 9);
	criu_local_set_auto_ext_mnt(o, true);
	criu_local_set_ext_sharing(o, true);
	criu_local_set_ext_masters(o, true);
	ret |= criu_local_set_exec_cmd(o, 2, argv_cmd);
	ret |= criu_local_add_ext_mount(o, "mk", "mv");
	ret |= criu_local_add_veth_pair(o, "vin", "vout");
	ret |= criu_local_add_cg_root(o, NULL, "/cg");
	ret |= criu_local_add_enable_fs(o, "fuse");
	ret |= criu_local_add_skip_mnt(o, "/skip");
	criu_local_set_ghost_limit(o, 5);
	ret |= criu_local_add_irmap_path(o, "/irmap");
	ret |= criu_local_add_cg_props(o, "props");
	ret |= criu_local_add_cg_props_file(o, "/props.yaml");
	ret |= criu_local_add_cg_dump_controller(o, "cpu");
	ret |= criu_local_add_cg_yard(o, "/yard");
	ret |= criu_local_add_inherit_fd(o, 0, "key");	/* only for a swrk of ours: refused here */
	ret |= criu_local_set_parent_images(o, "../parent");
	ret |= criu_local_add_external(o, "ext");
	ret |= criu_local_set_page_server_address_port(o, "127.0.0.1", 1234);
	ret |= criu_local_set_pre_dump_mode(o, CRIU_PRE_DUMP_READ);
	criu_local_set_pidfd_store_sk(o, 11);
	ret |= criu_local_set_network_lock(o, CRIU_NETWORK_LOCK_SKIP);
	ret |= criu_local_join_ns_add(o, "net", "/proc/1/ns/net", NULL);
	criu_local_set_mntns_compat_mode(o, true);
	ret |= criu_local_set_config_file(o, "/criu.conf");
	criu_local_set_empty_ns(o, 0x40000000);
	ret |= criu_local_set_images_dir(o, "/imgs");
	criu_local_set_lazy_pages(o, true);
	criu_local_set_leave_stopped(o, true);
	criu_local_set_display_stats(o, true);
	criu_local_set_log_to_stderr(o, true);
	criu_local_set_status_fd(o, 12);
	criu_local_set_tls(o, true);
	criu_local_set_tls_no_cn_verify(o, true);
	ret |= criu_local_set_tls_cacert(o, "/ca");
	ret |= criu_local_set_tls_cacrl(o, "/crl");
	ret |= criu_local_set_tls_cert(o, "/cert");
	ret |= criu_local_set_tls_key(o, "/key");
	check(ret == -EINVAL, "every setter but add_inherit_fd (not a swrk of ours) succeeds (%d)", ret);
	check(criu_local_set_network_lock(o, 7) == -EINVAL && criu_local_set_pre_dump_mode(o, 9) == -EINVAL,
	      "bad enum values are refused");
}

/* Is every field of the request's criu_opts set (rst_sibling is criu_restore_child's)? */
static void check_all_fields_set(const CriuOpts *ro)
{
	const ProtobufCMessageDescriptor *d = &criu_opts__descriptor;
	char missing[1024] = "";

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)ro;
		bool set;

		if (!strcmp(f->name, "rst_sibling") || !strcmp(f->name, "notify_scripts"))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			set = *(const size_t *)(base + f->quantifier_offset) > 0;
		else if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			set = *(void *const *)(base + f->offset) != NULL;
		else if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			set = true;
		else
			set = *(const protobuf_c_boolean *)(base + f->quantifier_offset);
		if (!set)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s", f->name);
	}
	check(!missing[0], "every field of criu_opts has a setter; none for:%s", missing[0] ? missing : " -");
}

static void check_field_values(const CriuOpts *ro)
{
	check(ro->has_pid && ro->pid == 4242 && ro->images_dir_fd == 7 && ro->work_dir_fd == 8,
	      "pid, images_dir_fd, work_dir_fd");
	check(ro->leave_running && ro->tcp_established && ro->shell_job && ro->lazy_pages && ro->log_to_stderr,
	      "bools are true");
	check(ro->log_level == 4 && ro->cpu_cap == 3 && ro->timeout == 9 && ro->ghost_limit == 5 &&
		      ro->empty_ns == 0x40000000 && ro->status_fd == 12 && ro->pidfd_store_sk == 11,
	      "numbers");
	check(!strcmp(ro->log_file, "x.log") && !strcmp(ro->root, "/root-dir") && !strcmp(ro->images_dir, "/imgs") &&
		      !strcmp(ro->tls_key, "/key"),
	      "strings, a string set twice keeps the last one");
	check(ro->manage_cgroups_mode == CRIU_CG_MODE__SOFT && ro->network_lock == CRIU_NETWORK_LOCK_METHOD__SKIP &&
		      ro->pre_dump_mode == CRIU_PRE_DUMP_MODE__VM_READ,
	      "enums map onto rpc.proto's values");
	check(ro->n_exec_cmd == 2 && !strcmp(ro->exec_cmd[1], "-x") && ro->n_unix_sk_ino == 1 &&
		      ro->unix_sk_ino[0]->inode == 1234 && ro->n_ext_mnt == 1 && !strcmp(ro->ext_mnt[0]->val, "mv") &&
		      ro->n_cg_root == 1 && !ro->cg_root[0]->ctrl && ro->n_join_ns == 1 &&
		      !strcmp(ro->join_ns[0]->ns_file, "/proc/1/ns/net") && ro->ps && ro->ps->port == 1234 &&
		      ro->n_inherit_fd == 1 &&
		      !strcmp(ro->inherit_fd[0]->key, "stdin") && !strcmp(ro->parent_img, "../parent"),
	      "lists and messages");
}

static void test_setters(void)
{
	CriuReq *req;
	criu_opts *o;
	int sv[2], srv, ret;

	o = NULL;
	criu_local_init_opts(&o);
	/* inherited fds go with a swrk criu of ours only, so add one before choosing the fake server */
	check(criu_local_add_inherit_fd(o, 0, "stdin") == 0, "add_inherit_fd while criu is a swrk of ours");
	if (!check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "a fake server"))
		return;
	criu_local_set_service_fd(o, sv[0]);
	srv = sv[1];
	set_everything(o);
	{
		CriuResp r = CRIU_RESP__INIT;

		r.type = CRIU_REQ_TYPE__DUMP;
		r.has_cr_errno = true;
		r.cr_errno = EPROTO;
		r.cr_errmsg = "fake: refused";
		queue_resp(srv, &r);
	}
	errno = 0;
	ret = criu_local_dump(o);
	check(ret == -EBADE && errno == EPROTO, "a failed DUMP: -EBADE, errno is criu's (%d, %d)", ret, errno);
	check(criu_local_get_last_error(o) && !strcmp(criu_local_get_last_error(o), "fake: refused"),
	      "criu_local_get_last_error() has criu's message");
	req = take_req(srv);
	if (check(req && req->type == CRIU_REQ_TYPE__DUMP && req->opts, "the DUMP request carries the options")) {
		check_all_fields_set(req->opts);
		check_field_values(req->opts);
	}
	if (req)
		criu_req__free_unpacked(req, NULL);
	criu_local_free_opts(o);
	close(srv);
}

static char notified[256];
static int notified_pid;

static int record_cb(char *action, criu_notify_arg_t na)
{
	snprintf(notified + strlen(notified), sizeof(notified) - strlen(notified), "%s%s", notified[0] ? "," : "",
		 action);
	if (!strcmp(action, "post-restore"))
		notified_pid = criu_notify_pid(na);
	return 0;
}

static int refuse_cb(char *action, criu_notify_arg_t na)
{
	return -ENOTSUP;
}

static void queue_notify(int srv, const char *script, int pid)
{
	CriuResp r = CRIU_RESP__INIT;
	CriuNotify n = CRIU_NOTIFY__INIT;

	n.script = (char *)script;
	n.has_pid = pid != 0;
	n.pid = pid;
	r.type = CRIU_REQ_TYPE__NOTIFY;
	r.success = true;
	r.notify = &n;
	queue_resp(srv, &r);
}

static void test_fake_protocol(void)
{
	CriuResp r = CRIU_RESP__INIT;
	CriuRestoreResp rr = CRIU_RESTORE_RESP__INIT;
	CriuReq *req, *ack;
	criu_opts *o;
	int srv, ret;

	/* a restore with two notifications, both acknowledged */
	o = fake_opts(&srv);
	if (!o)
		return;
	criu_local_set_notify_cb(o, record_cb);
	queue_notify(srv, "pre-restore", 0);
	queue_notify(srv, "post-restore", 777);
	rr.pid = 777;
	r.type = CRIU_REQ_TYPE__RESTORE;
	r.success = true;
	r.restore = &rr;
	queue_resp(srv, &r);
	notified[0] = '\0';
	ret = criu_local_restore(o);
	check(ret == 777, "criu_local_restore() returns the root's pid (%d)", ret);
	check(!strcmp(notified, "pre-restore,post-restore") && notified_pid == 777,
	      "the callback saw %s, criu_notify_pid() %d", notified, notified_pid);
	req = take_req(srv);
	check(req && req->type == CRIU_REQ_TYPE__RESTORE && req->opts->notify_scripts && !req->opts->has_rst_sibling,
	      "RESTORE asked for notifications, without rst_sibling");
	ack = take_req(srv);
	check(ack && ack->type == CRIU_REQ_TYPE__NOTIFY && ack->has_notify_success && ack->notify_success,
	      "a notification is acknowledged with notify_success");
	criu_req__free_unpacked(req, NULL);
	criu_req__free_unpacked(ack, NULL);
	close(srv);

	/* a callback that refuses: its value is returned, criu is told */
	criu_local_free_opts(o);
	o = fake_opts(&srv);
	if (!o)
		return;
	criu_local_set_notify_cb(o, refuse_cb);
	queue_notify(srv, "pre-dump", 0);
	{
		CriuResp f = CRIU_RESP__INIT;

		f.type = CRIU_REQ_TYPE__DUMP;
		f.cr_errmsg = "fake: the client failed pre-dump";
		queue_resp(srv, &f);
	}
	ret = criu_local_dump(o);
	check(ret == -ENOTSUP, "a refusing callback fails the DUMP with its value (%d)", ret);
	check(criu_local_get_last_error(o) && strstr(criu_local_get_last_error(o), "failed pre-dump"),
	      "criu's answer to the refusal is read: '%s'", criu_local_get_last_error(o) ?: "");
	req = take_req(srv);
	ack = take_req(srv);
	check(ack && ack->type == CRIU_REQ_TYPE__NOTIFY && ack->has_notify_success && !ack->notify_success,
	      "criu is told notify_success = false");
	if (req)
		criu_req__free_unpacked(req, NULL);
	if (ack)
		criu_req__free_unpacked(ack, NULL);
	close(srv);
	criu_local_free_opts(o);

	/* broken answers */
	o = fake_opts(&srv);
	if (!o)
		return;
	queue_simple(srv, CRIU_REQ_TYPE__EMPTY, false);
	check(criu_local_check(o) == -EINVAL, "an EMPTY failure answer: -EINVAL (criu does not know the request)");
	close(srv);
	{
		int sv[2];

		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
		criu_local_set_service_fd(o, sv[0]);
		queue_simple(sv[1], CRIU_REQ_TYPE__DUMP, true);
		check(criu_local_check(o) == -EBADMSG, "an answer of another type: -EBADMSG");
		close(sv[1]);

		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
		criu_local_set_service_fd(o, sv[0]);
		close(sv[1]);
		check(criu_local_get_version(o) == -ECOMM, "criu gone before answering: -ECOMM");
	}
	criu_local_set_service_binary(o, "/nonexistent/criu");
	errno = 0;
	ret = criu_local_check(o);
	check(ret == -ECONNREFUSED && errno == ENOENT, "a missing criu binary: -ECONNREFUSED, errno ENOENT (%d, %d)",
	      ret, errno);
	criu_local_set_service_address(o, "/nonexistent/criu.socket");
	check(criu_local_check(o) == -ECONNREFUSED, "no criu service at the address: -ECONNREFUSED");
	{
		struct criu_feature_check fc = {};

		check(criu_local_feature_check(NULL, &fc, sizeof(fc)) == -EINVAL &&
			      criu_local_feature_check(o, &fc, sizeof(fc) + 1) == -EINVAL,
		      "feature check: no options or a larger struct than ours: -EINVAL");
	}
	criu_local_free_opts(o);
	check(criu_dump() == -EINVAL, "criu_dump() before criu_init_opts(): -EINVAL, no crash");
}

/* ------------------------------------------------------------ env00 */

static void path_in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmp, name);
}

static pid_t start_env00(void)
{
	char pidf[256], outf[256], a1[300], a2[300], buf[32] = "";
	pid_t launcher;
	int st, fd;

	path_in_tmp(pidf, sizeof(pidf), "env00.pid");
	path_in_tmp(outf, sizeof(outf), "env00.out");
	snprintf(a1, sizeof(a1), "--pidfile=%s", pidf);
	snprintf(a2, sizeof(a2), "--outfile=%s", outf);
	launcher = fork();
	if (launcher == 0) {
		int dn = open("/dev/null", O_RDWR);

		dup2(dn, 0);
		dup2(dn, 1);
		dup2(dn, 2);
		execl(ENV00, ENV00, a1, a2, NULL);
		_exit(127);
	}
	/* the launcher exits 0 once the test runs and its pidfile is written */
	if (launcher < 0 || waitpid(launcher, &st, 0) != launcher || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	fd = open(pidf, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = '\0';
	close(fd);
	return atoi(buf);
}

/* State letter and parent of a process from /proc/PID/stat; 0 when it is gone. */
static char proc_stat(pid_t pid, pid_t *ret_ppid)
{
	char path[64], buf[512], state = 0, *p;
	int fd, n, ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return 0;
	if (ret_ppid)
		*ret_ppid = ppid;
	return state;
}

static bool killed_by_dump(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static bool log_names(const char *file, const char *what)
{
	char path[300], buf[65536];
	ssize_t n;
	int fd;

	path_in_tmp(path, sizeof(path), file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, what) != NULL;
}

static void test_version_check(void)
{
	struct criu_feature_check fc = { .mem_track = true, .lazy_pages = true };
	int v;

	check(criu_init_opts() == 0, "criu_init_opts()");
	check(criu_set_service_binary(criu_path) == 0, "criu_set_service_binary(%s)", criu_path);
	v = criu_get_version();
	check(v >= 40200, "criu_get_version() = %d (>= 40200)", v);
	check(criu_check_version(40200) == 1 && criu_check_version(v + 100) == 0, "criu_check_version()");
	check(criu_check() == 0, "criu_check() (%s)", criu_get_last_error() ?: "");
	check(criu_feature_check(&fc, sizeof(fc)) == 0 && fc.mem_track && fc.lazy_pages && !fc.pidfd_store,
	      "criu_feature_check(): mem_track (pre-dump), lazy_pages (userfaultfd), no pidfd_store");
	fc.mem_track = true;
	fc.lazy_pages = true;
	check(criu_feature_check(&fc, sizeof(bool)) == 0 && fc.mem_track && fc.lazy_pages,
	      "criu_feature_check() with an older, shorter struct (fields past it untouched)");
}

/* The process-wide options for a dump of pid into dfd, with notifications. */
static void global_dump_opts(int dfd, pid_t pid)
{
	criu_init_opts();
	criu_set_service_binary(criu_path);
	criu_set_images_dir_fd(dfd);
	criu_set_pid(pid);
	criu_set_log_file("dump.log");
	criu_set_log_level(CRIU_LOG_DEBUG);
	criu_set_notify_cb(record_cb);
}

static void test_dump_restore(void)
{
	char imgs[256], outf[256], verdict[16] = "";
	criu_opts *o = NULL;
	pid_t pid, ret, ppid = 0;
	int dfd, st, fd;

	pid = start_env00();
	if (!check(pid > 0, "env00 started (pid %d)", pid))
		return;
	path_in_tmp(imgs, sizeof(imgs), "");
	dfd = open(imgs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* an option criu does not implement: refused by name, the tree untouched */
	global_dump_opts(dfd, pid);
	criu_set_auto_ext_mnt(true);
	errno = 0;
	ret = criu_dump();
	check(ret == -EBADE && errno == EOPNOTSUPP, "criu_dump() with auto_ext_mnt: -EBADE, EOPNOTSUPP (%d, %d)",
	      ret, errno);
	check(criu_get_last_error() && strstr(criu_get_last_error(), "criu_opts.auto_ext_mnt"),
	      "the error names the field: '%s'", criu_get_last_error() ?: "");
	check(log_names("dump.log", "auto_ext_mnt"), "dump.log names it too");
	st = proc_stat(pid, NULL);
	check(st == 'S' || st == 'R', "env00 still runs, not stopped (state %c)", st ?: '-');

	/* the dump */
	global_dump_opts(dfd, pid);
	notified[0] = '\0';
	ret = criu_dump();
	check(ret == 0, "criu_dump() of env00 (%d: %s)", ret, criu_get_last_error() ?: "");
	check(!strcmp(notified, "pre-dump,post-dump"), "dump notifications: %s", notified);
	check(killed_by_dump(pid), "the dumped env00 was killed");
	criu_free_opts();

	/* criu_local_restore: the root is swrk criu's child, then ours (we are a subreaper) */
	criu_local_init_opts(&o);
	criu_local_set_service_binary(o, criu_path);
	criu_local_set_images_dir_fd(o, dfd);
	criu_local_set_log_file(o, "restore.log");
	criu_local_set_notify_cb(o, record_cb);
	notified[0] = '\0';
	notified_pid = 0;
	ret = criu_local_restore(o);
	check(ret == pid, "criu_local_restore() returns the dumped pid (%d, %d: %s)", ret, pid,
	      criu_local_get_last_error(o) ?: "");
	check(notified_pid == pid && strstr(notified, "post-restore") && strstr(notified, "post-resume"),
	      "restore notifications: %s (post-restore pid %d)", notified, notified_pid);
	st = proc_stat(pid, NULL);
	check(st == 'S' || st == 'R', "restored env00 runs (state %c)", st ?: '-');

	/* dump it again, then criu_local_restore_child: our child even without a subreaper */
	criu_local_set_pid(o, pid);
	criu_local_set_log_file(o, "dump2.log");
	ret = criu_local_dump(o);
	check(ret == 0, "criu_local_dump() of the restored env00 (%d: %s)", ret, criu_local_get_last_error(o) ?: "");
	check(killed_by_dump(pid), "it was killed");
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	criu_local_set_log_file(o, "restore2.log");
	ret = criu_local_restore_child(o);
	check(ret == pid, "criu_local_restore_child() returns the pid (%d: %s)", ret, criu_local_get_last_error(o) ?: "");
	st = proc_stat(pid, &ppid);
	check((st == 'S' || st == 'R') && ppid == getpid(), "the restored root is our child (state %c, parent %d, we %d)",
	      st ?: '-', ppid, getpid());
	criu_local_free_opts(o);
	close(dfd);

	kill(pid, SIGTERM);
	st = -1;
	ret = waitpid(pid, &st, 0);
	check(ret == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "restored env00 exits 0 after SIGTERM (status 0x%x)",
	      st);
	path_in_tmp(outf, sizeof(outf), "env00.out");
	fd = open(outf, O_RDONLY);
	if (fd >= 0) {
		if (read(fd, verdict, sizeof(verdict) - 1) < 0)
			verdict[0] = '\0';
		close(fd);
	}
	check(!strcmp(verdict, "PASS\n"), "env00's own check after two restores: %s", verdict);
}

int main(void)
{
	char cmd[300];

	test_setters();
	test_fake_protocol();

	if (access(CRIU, X_OK) || access(ENV00, X_OK)) {
		printf("# SKIP: %s or %s is not built\n", CRIU, ENV00);
		return 77;
	}
	if (geteuid()) {
		printf("# SKIP: needs root\n");
		return 77;
	}
	if (!realpath(CRIU, criu_path) || !mkdtemp(tmp))
		return 1;
	/* the roots of dumps and of criu_local_restore come back to us */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	test_version_check();
	test_dump_restore();

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (!nr_fail && system(cmd))
		printf("# can't remove %s\n", tmp);
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
