// SPDX-License-Identifier: GPL-2.0
/*
 * criu swrk FD and criu service: the RPC server (Documentation/rpc.md).
 *
 * A session is a SOCK_SEQPACKET socket; every packet is one message: the
 * client sends a criu_req (images/rpc.proto), criu answers with a criu_resp
 * of the same type (NOTIFY messages may come first, each answered by the
 * client). A session serves one request, or more while the client sets
 * keep_open; DUMP and RESTORE always end it, as in CRIU.
 *
 * The options of a request (criu_opts) are mapped onto `opts`
 * (cr_options.h) by rpc-opts.c; a field we do not implement, set to
 * anything but its default, fails the request with an error naming it.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "action-scripts.h"
#include "common.h"
#include "kerndat.h"
#include "mem-track.h"
#include "mem-track-holder.h"
#include "compel/compel.h"
#include "config.h"
#include "cr_options.h"
#include "dedup.h"
#include "cr-service.h"
#include "crtools.h"
#include "page-server.h"
#include "page-xfer.h"
#include "tls.h"
#include "protobuf.h"
#include "restore.h"
#include "version.h"

#include "rpc.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "rpc: "

#define RPC_MAX_PACKET (1 << 20)
#define SERVICE_DEFAULT_ADDRESS "criu_service.socket"

/*
 * The session socket while a request with notify_scripts runs. File scope:
 * one request at a time per service process; the action scripts run deep in
 * dump and restore, which know nothing of the session.
 */
static int notify_sk = -1;

/* ------------------------------------------------------------ messages */

/* One packet, one criu_req. -ECONNRESET when the client closed the session, -EBADMSG for garbage. */
static int rpc_recv(int sk, CriuReq **ret_req)
{
	_cleanup_free_ uint8_t *buf = NULL;
	ssize_t len;

	len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (len < 0)
		return pr_fail_errno("can't read a request");
	if (len > RPC_MAX_PACKET)
		len = RPC_MAX_PACKET;
	buf = xmalloc(len ?: 1);
	if (!buf)
		return -ENOMEM;
	len = recv(sk, buf, len, MSG_TRUNC);
	if (len < 0)
		return pr_fail_errno("can't read a request");
	if (len == 0)
		return -ECONNRESET;
	if (len > RPC_MAX_PACKET)
		return pr_fail(-EMSGSIZE, "a request of %zd bytes is too long (at most %d)\n", len, RPC_MAX_PACKET);
	*ret_req = (CriuReq *)protobuf_c_message_unpack(pb_desc(PB_CRIU_REQ), NULL, len, buf);
	if (!*ret_req)
		return pr_fail(-EBADMSG, "malformed request: %zd bytes that are not a criu_req message\n", len);
	return 0;
}

/* One answer in one packet; with fd >= 0, the fd rides along it (SCM_RIGHTS), as go-criu reads it. */
static int rpc_send_with_fd(int sk, CriuResp *resp, int fd)
{
	size_t len = protobuf_c_message_get_packed_size(&resp->base);
	_cleanup_free_ uint8_t *buf = xmalloc(len ?: 1);
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(&resp->base, buf);
	iov.iov_base = buf;
	iov.iov_len = len;
	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	n = sendmsg(sk, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return pr_fail_errno("can't send the answer");
	if ((size_t)n != len)
		return pr_fail(-EIO, "the answer was cut (%zd of %zu bytes)\n", n, len);
	return 0;
}

static int rpc_send(int sk, CriuResp *resp)
{
	return rpc_send_with_fd(sk, resp, -1);
}

/* Answer a request: success when err is 0, else cr_errno and the first error logged. */
static int rpc_answer(int sk, CriuResp *resp, int err)
{
	resp->success = !err;
	if (err) {
		resp->has_cr_errno = true;
		resp->cr_errno = -err;
		resp->cr_errmsg = (char *)(log_first_err() ?: strerror(-err));
	}
	return rpc_send(sk, resp);
}

static int rpc_answer_type(int sk, CriuReqType type, int err)
{
	CriuResp resp = CRIU_RESP__INIT;

	resp.type = type;
	return rpc_answer(sk, &resp, err);
}

/* The action-script hook: tell the client (with fd when >= 0), wait for its answer. */
static int rpc_notify(enum script_action act, pid_t pid, int fd)
{
	const char *script = script_action_name(act);
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify n = CRIU_NOTIFY__INIT;
	CriuReq *req = NULL;
	int ret;

	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	resp.notify = &n;
	n.script = (char *)script;
	if (pid > 0) {
		n.has_pid = true;
		n.pid = pid;
	}
	ret = rpc_send_with_fd(notify_sk, &resp, fd);
	if (ret)
		return ret;
	ret = rpc_recv(notify_sk, &req);
	if (ret == -ECONNRESET)
		return pr_fail(ret, "the client closed the session instead of answering the %s notification\n", script);
	if (ret)
		return ret;
	if (req->type != CRIU_REQ_TYPE__NOTIFY || !req->notify_success)
		ret = pr_fail(-ECANCELED, "the client failed the %s notification\n", script);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	return ret;
}

/* ------------------------------------------------------------ requests */

/*
 * PRE_DUMP and SINGLE_PRE_DUMP: criu pre-dump. As in CRIU, a PRE_DUMP session
 * goes on after the answer (more pre-dumps, then the DUMP); a SINGLE_PRE_DUMP
 * one ends unless keep_open.
 */
static int do_pre_dump(int sk, CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	struct rpc_dirs dirs = { .img_dfd = -1 };
	int ret;

	ret = rpc_setup_opts(sk, req->opts, RPC_DUMP, &dirs);
	if (!ret) {
		pr_info("Version: %s (pidfd edition), pre-dump over RPC\n", CRIU_VERSION);
		/* a pre-dump tracks writes: for the next PRE_DUMP of this session, or a next criu (a holder) */
		mem_track_allow(mem_track_wanted(true));
		ret = dedup_dump_allowed() ?: link_parent_dir(dirs.img_dfd, opts.prev_imgs_dir) ?:
		      cr_pre_dump_tasks(dirs.img_dfd, opts.tree_id);
		if (ret)
			pr_err("Pre-dumping FAILED.\n");
		else
			ret = dedup_after_dump(dirs.img_dfd);
	}
	rpc_dirs_close(&dirs);
	resp.type = req->type;
	return rpc_answer(sk, &resp, ret);
}

static int do_dump(int sk, CriuOpts *ro)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dr = CRIU_DUMP_RESP__INIT;
	struct rpc_dirs dirs = { .img_dfd = -1 };
	int ret;

	ret = rpc_setup_opts(sk, ro, RPC_DUMP, &dirs);
	if (!ret) {
		pr_info("Version: %s (pidfd edition), dump over RPC\n", CRIU_VERSION);
		if (mem_track_wanted(false))	/* a swrk of its own: the tracking may be a holder's */
			mem_track_allow(true);
		ret = dedup_dump_allowed() ?: link_parent_dir(dirs.img_dfd, opts.prev_imgs_dir) ?:
		      cr_dump_tasks(dirs.img_dfd, opts.tree_id);
		mem_track_pass_done(dirs.img_dfd, false);	/* the session ends with the DUMP */
		if (ret)
			pr_err("Dumping FAILED.\n");
		else
			ret = dedup_after_dump(dirs.img_dfd);
	}
	rpc_dirs_close(&dirs);
	resp.type = CRIU_REQ_TYPE__DUMP;
	resp.dump = &dr;
	dr.has_restored = true;
	dr.restored = false;
	return rpc_answer(sk, &resp, ret);
}

static int do_restore(int sk, CriuOpts *ro)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuRestoreResp rr = CRIU_RESTORE_RESP__INIT;
	struct rpc_dirs dirs = { .img_dfd = -1 };
	struct restore_opts o = {};
	pid_t root = -1;
	int ret;

	ret = rpc_setup_opts(sk, ro, RPC_RESTORE, &dirs);
	if (!ret) {
		pr_info("Version: %s (pidfd edition), restore over RPC\n", CRIU_VERSION);
		/* as in CRIU: criu answers and goes, the tree stays (a child of the client with rst_sibling) */
		o.img_dfd = dirs.img_dfd;
		o.detached = true;
		o.shell_job = opts.shell_job;
		o.lsm_profile = opts.lsm_profile;
		o.skip_image_check = opts.skip_image_check;
		o.lazy_pages = opts.lazy_pages;
		o.auto_dedup = opts.auto_dedup;
		o.sibling = dirs.rst_sibling;
		o.ret_pid = &root;
		ret = cr_restore_tasks(&o);
		if (ret < 0)
			pr_err("Restoring FAILED.\n");
		else
			ret = 0;
	}
	rpc_dirs_close(&dirs);
	resp.type = CRIU_REQ_TYPE__RESTORE;
	resp.restore = &rr;
	rr.pid = ret ? -1 : root;
	return rpc_answer(sk, &resp, ret);
}

/*
 * The page server's process: PAGE_SERVER_CHLD serves in the forked child of
 * this criu; PAGE_SERVER in a grandchild of its own session, so it is nobody's
 * child here (CRIU's daemon). Its pid goes up the pipe first.
 */
static void page_server_child(int sk, int pfd, bool daemon, int img_dfd, const struct ps_conf *conf,
			      struct page_server *srv)
{
	pid_t pid;
	int ret;

	close(sk);	/* the client's session ends with our answer, not with the page server */
	if (daemon) {
		pid = fork();
		if (pid != 0) {
			if (pid < 0)
				pr_perror("can't fork the page server");
			_exit(pid < 0);
		}
		setsid();
	}
	pid = getpid();
	if (write(pfd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
	close(pfd);
	ret = page_server_run(img_dfd, conf, srv);
	_exit(ret ? 1 : 0);
}

/*
 * PAGE_SERVER, PAGE_SERVER_CHLD: listen, start the server, answer with its pid
 * and port. With lazy_pages it serves the lazy pages of images_dir to a
 * `criu lazy-pages --page-server` instead of receiving (page-server --lazy-pages).
 */
static int do_page_server(int sk, CriuReq *req)
{
	bool daemon = req->type == CRIU_REQ_TYPE__PAGE_SERVER;
	CriuPageServerInfo info = CRIU_PAGE_SERVER_INFO__INIT;
	CriuResp resp = CRIU_RESP__INIT;
	struct rpc_dirs dirs = { .img_dfd = -1 };
	struct page_server srv = { .lsk = -1 };
	struct tls_conf tc;
	struct ps_conf conf;
	pid_t pid = -1, child;
	int p[2] = { -1, -1 }, ret;

	ret = rpc_setup_opts(sk, req->opts, RPC_PAGE_SERVER, &dirs);
	/* lazy_pages: the dir is a finished dump's, its `parent` link is the dump's (left alone) */
	if (!ret && !opts.lazy_pages)
		ret = link_parent_dir(dirs.img_dfd, opts.prev_imgs_dir);
	if (!ret) {
		ps_conf_from_opts(&conf, &tc);
		ret = page_server_prepare(&conf, &srv);
	}
	if (!ret && pipe2(p, O_CLOEXEC))
		ret = pr_fail_errno("can't make a pipe");
	if (!ret) {
		child = fork();
		if (child == 0) {
			close(p[0]);
			page_server_child(sk, p[1], daemon, dirs.img_dfd, &conf, &srv);
		}
		if (child < 0)
			ret = pr_fail_errno("can't fork the page server");
		close(p[1]);
		if (!ret && read(p[0], &pid, sizeof(pid)) != sizeof(pid))
			ret = pr_fail(-EIO, "the page server did not start\n");
		if (child > 0 && daemon)
			waitpid(child, NULL, 0);
		close(p[0]);
	}
	if (srv.lsk >= 0)
		close(srv.lsk);
	if (!ret)
		pr_info("page server %d on port %u%s\n", pid, srv.port, opts.lazy_pages ? ", serving lazy pages" : "");
	rpc_dirs_close(&dirs);
	resp.type = req->type;
	if (!ret) {
		info.has_pid = true;
		info.pid = pid;
		info.has_port = true;
		info.port = srv.port;
		resp.ps = &info;
	}
	return rpc_answer(sk, &resp, ret);
}

/* criu check in a child: kerndat's probes leave nothing behind in the session's criu. */
static int do_check(int sk, CriuOpts *ro)
{
	struct rpc_dirs dirs = { .img_dfd = -1 };
	int status, ret;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return rpc_answer_type(sk, CRIU_REQ_TYPE__CHECK, pr_fail_errno("can't fork"));
	if (pid == 0) {
		ret = rpc_setup_opts(sk, ro, RPC_CHECK, &dirs);
		/* the check's table goes to the log, never to the client's stdout */
		if (!ret && dup2(log_get_fd(), STDOUT_FILENO) < 0)
			ret = pr_fail_errno("can't redirect the check's output");
		if (!ret)
			ret = cr_check(NULL);
		rpc_answer_type(sk, CRIU_REQ_TYPE__CHECK, ret);
		_exit(ret ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rpc_answer_type(sk, CRIU_REQ_TYPE__CHECK,
					       pr_fail_errno("can't wait for the check"));
	if (WIFSIGNALED(status))
		return rpc_answer_type(sk, CRIU_REQ_TYPE__CHECK,
				       pr_fail(-EIO, "the check was killed by signal %d\n", WTERMSIG(status)));
	return 0;
}

static int do_version(int sk)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuVersion v = CRIU_VERSION__INIT;

	v.major_number = CRIU_VERSION_MAJOR;
	v.minor_number = CRIU_VERSION_MINOR;
	v.has_sublevel = true;
	v.sublevel = CRIU_VERSION_SUBLEVEL;
	/* no gitid: go-criu would round a git build up to the next minor */
	v.name = "criu (pidfd edition) " CRIU_VERSION;
	resp.type = CRIU_REQ_TYPE__VERSION;
	resp.version = &v;
	return rpc_answer(sk, &resp, 0);
}

/*
 * mem_track is answered true: pre-dump and track_mem work (unchanged pages
 * are found by comparing them with the parent images' copies, page-chain.h,
 * as this kernel has no soft-dirty bits), which is what clients such as runc
 * ask it for. lazy_pages: a restore can be lazy (`criu lazy-pages`) when the
 * kernel has the userfaultfd events it needs. No pidfd store: false.
 */
static int do_feature_check(int sk, CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuFeatures f = CRIU_FEATURES__INIT;

	f.has_mem_track = true;
	f.mem_track = true;
	f.has_lazy_pages = true;
	f.lazy_pages = kerndat_has("uffd-noncoop") == 0;
	f.has_pidfd_store = true;
	resp.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	resp.features = &f;
	return rpc_answer(sk, &resp, 0);
}

static int do_wait_pid(int sk, CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	int status, ret = 0;

	resp.type = CRIU_REQ_TYPE__WAIT_PID;
	if (!req->has_pid || !req->pid || req->pid > INT32_MAX)
		return rpc_answer(sk, &resp, pr_fail(-EINVAL, "WAIT_PID needs the pid of a child of criu\n"));
	while (waitpid(req->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = pr_fail_errno("can't wait for %u", req->pid);
			break;
		}
	}
	if (!ret) {
		resp.has_status = true;
		resp.status = status;
	}
	return rpc_answer(sk, &resp, ret);
}

static const char *req_type_name(int type)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	return v ? v->name : "unknown";
}

static int do_not_supported(int sk, CriuReq *req)
{
	return rpc_answer_type(sk, req->type,
			       pr_fail(-EOPNOTSUPP, "%s requests are not supported by this criu\n",
				       req_type_name(req->type)));
}

/* Serve one request. 0 or -errno of the transport (the answer could not be sent). */
static int serve_one(int sk, CriuReq *req)
{
	log_first_err_reset();
	if (req->keep_open && (req->type == CRIU_REQ_TYPE__DUMP || req->type == CRIU_REQ_TYPE__RESTORE))
		return rpc_answer_type(sk, req->type,
				       pr_fail(-EINVAL, "keep_open is not supported with %s: it ends the session\n",
					       req_type_name(req->type)));

	switch (req->type) {
	case CRIU_REQ_TYPE__DUMP:
		return do_dump(sk, req->opts);
	case CRIU_REQ_TYPE__RESTORE:
		return do_restore(sk, req->opts);
	case CRIU_REQ_TYPE__CHECK:
		return do_check(sk, req->opts);
	case CRIU_REQ_TYPE__VERSION:
		return do_version(sk);
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		return do_feature_check(sk, req);
	case CRIU_REQ_TYPE__WAIT_PID:
		return do_wait_pid(sk, req);
	case CRIU_REQ_TYPE__PRE_DUMP:
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		return do_pre_dump(sk, req);
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
		return do_page_server(sk, req);
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return do_not_supported(sk, req);
	case CRIU_REQ_TYPE__NOTIFY:
		return rpc_answer_type(sk, CRIU_REQ_TYPE__EMPTY,
				       pr_fail(-EINVAL, "a NOTIFY request only answers a notification of criu\n"));
	default:
		return rpc_answer_type(sk, CRIU_REQ_TYPE__EMPTY,
				       pr_fail(-EINVAL, "invalid request type %d\n", req->type));
	}
}

/* A session: requests until one without keep_open. 0 when every request succeeded. */
int cr_service_work(int sk)
{
	bool failed = false;

	for (;;) {
		CriuReq *req = NULL;
		bool more;
		int ret;

		log_first_err_reset();
		ret = rpc_recv(sk, &req);
		if (ret == -ECONNRESET) {
			track_holder_leave();	/* runc's swrk per pre-dump: the next swrk takes the tracking */
			mem_track_allow(false);
			pr_info("the client closed the session\n");
			return failed ? -EIO : 0;
		}
		if (ret) {
			/* garbage: say so, then end the session (its framing can't be trusted) */
			rpc_answer_type(sk, CRIU_REQ_TYPE__EMPTY, ret);
			mem_track_allow(false);
			return ret;
		}
		pr_debug("request %s\n", req_type_name(req->type));
		notify_sk = sk;
		ret = serve_one(sk, req);
		notify_sk = -1;
		script_notify = NULL;
		more = (req->keep_open && req->type != CRIU_REQ_TYPE__DUMP && req->type != CRIU_REQ_TYPE__RESTORE) ||
		       (req->type == CRIU_REQ_TYPE__PRE_DUMP && !log_first_err());	/* CRIU's pre-dump loop */
		protobuf_c_message_free_unpacked(&req->base, NULL);
		if (ret) {
			mem_track_allow(false);
			return ret;
		}
		if (log_first_err())
			failed = true;
		if (!more) {
			track_holder_leave();
			mem_track_allow(false);
			return failed ? -EIO : 0;
		}
	}
}

/* rpc-opts.c: the client asked for action-script notifications. */
void rpc_enable_notify(void)
{
	script_notify = rpc_notify;
}

/* ------------------------------------------------------------ commands */

static int parse_fd(const char *s, int *ret_fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > INT32_MAX)
		return -EINVAL;
	*ret_fd = v;
	return 0;
}

static int check_seqpacket(int sk)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &len))
		return pr_fail_errno("fd %d is not a socket", sk);
	if (type != SOCK_SEQPACKET)
		return pr_fail(-EINVAL, "fd %d is not a SOCK_SEQPACKET socket\n", sk);
	return 0;
}

/* criu swrk FD: serve the session on FD (a socket the client created, usually one end of a socketpair). */
static int cr_swrk(int argc, char **argv)
{
	int sk, ret;

	if (argc != 2 || parse_fd(argv[1], &sk)) {
		fprintf(stderr, "Usage: criu swrk FD (a SOCK_SEQPACKET socket)\n");
		return 1;
	}
	rpc_swrk = true;
	ret = check_seqpacket(sk);
	if (ret)
		return 1;
	if (fcntl(sk, F_SETFD, FD_CLOEXEC))
		return pr_fail(1, "can't set FD_CLOEXEC on %d: %s\n", sk, strerror(errno));
	ret = cr_service_work(sk);
	close(sk);
	return ret ? 1 : 0;
}

static int service_listen(const char *address, int *ret_sk)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sk;

	if (strlen(address) >= sizeof(addr.sun_path))
		return pr_fail(-ENAMETOOLONG, "the service address %s is too long\n", address);
	strcpy(addr.sun_path, address);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return pr_fail_errno("can't create the service socket");
	/* a stale socket file of an earlier service */
	unlink(address);
	if (bind(sk, (struct sockaddr *)&addr, sizeof(addr)) || listen(sk, 16)) {
		int err = -errno;

		close(sk);
		return pr_fail(err, "can't listen on %s: %s\n", address, strerror(-err));
	}
	*ret_sk = sk;
	return 0;
}

static void reap_workers(int sig)
{
	int e = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

/* Accept clients forever; each one is served by a criu of its own. */
static int service_loop(int lsk)
{
	struct sigaction sa = { .sa_handler = reap_workers, .sa_flags = SA_RESTART | SA_NOCLDSTOP };

	if (sigaction(SIGCHLD, &sa, NULL))
		return pr_fail_errno("can't set the SIGCHLD handler");
	for (;;) {
		int sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (sk < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return pr_fail_errno("can't accept a client");
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			close(lsk);
			_exit(cr_service_work(sk) ? 1 : 0);
		}
		if (pid < 0)
			pr_perror("can't fork a worker for a client");
		else
			pr_info("client served by worker %d\n", pid);
		close(sk);
	}
}

static int write_service_pidfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || dprintf(fd, "%d", getpid()) < 0) {
		pr_perror("can't write the pidfile %s", path);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* criu service [--address PATH] [-d] [--pidfile FILE] [-o LOG] [-v[N]] */
static int cr_service(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "log-file", required_argument, NULL, 'o' },
		{},
	};
	const char *address = SERVICE_DEFAULT_ADDRESS, *pidfile = NULL, *log = NULL;
	bool daemonize = false;
	int opt, lsk = -1, ret;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "a:dp:o:v::", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			address = optarg;
			break;
		case 'd':
			daemonize = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'o':
			log = optarg;
			break;
		case 'v':
			opts.loglevel = optarg ? atoi(optarg) : opts.loglevel + 1;
			break;
		default:
			fprintf(stderr, "Usage: criu service [--address PATH] [-d] [--pidfile FILE] [-o LOG] [-v[N]]\n");
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	log_set_loglevel(opts.loglevel);
	if (log && log_init(log))
		return 1;
	ret = service_listen(address, &lsk);
	if (ret)
		return 1;
	pr_info("serving on %s\n", address);
	if (daemonize && daemon(1, 0))
		return pr_fail(1, "can't go to the background: %s\n", strerror(errno));
	if (pidfile && write_service_pidfile(pidfile))
		return 1;
	ret = service_loop(lsk);
	close(lsk);
	return ret ? 1 : 0;
}

int cr_service_main(int argc, char **argv)
{
	log_init(NULL);
	log_set_loglevel(opts.loglevel);
	compel_log_init(vprint_on_level);
	opts.fault_inject = getenv("CRIU_FAULT");
	if (!strcmp(argv[0], "swrk"))
		return cr_swrk(argc, argv);
	return cr_service(argc, argv);
}
