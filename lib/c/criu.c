// SPDX-License-Identifier: LGPL-2.1
/*
 * libcriu: option sets, the way to criu (a forked `criu swrk`, a `criu
 * service` socket, or a socket of the caller's) and the requests.
 *
 * One request is one session: connect (for CRIU_COMM_BIN, fork and exec
 * `criu swrk FD` on one end of a SOCK_SEQPACKET socketpair), send a
 * criu_req, answer the NOTIFY messages through the callback, read the
 * criu_resp of the request's type, close, and reap the swrk criu.
 * Documentation/libcriu.md describes the calls; Documentation/rpc.md the
 * protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcriu-internal.h"

criu_opts *libcriu_global;

/* the fd that came with an 'orphan-pts-master' notification */
static int orphan_pts_master_fd = -1;

/* ------------------------------------------------------------ option sets */

static void free_service(criu_opts *o)
{
	free(o->service_address);
	free(o->service_binary);
	o->service_address = NULL;
	o->service_binary = NULL;
	o->service_fd = -1;
}

void criu_local_free_opts(criu_opts *opts)
{
	if (!opts)
		return;
	/* every string, list and message of rpc was malloc()ed, as protobuf-c frees them */
	if (opts->rpc)
		criu_opts__free_unpacked(opts->rpc, NULL);
	free_service(opts);
	free(opts->last_error);
	free(opts);
}

int criu_local_init_opts(criu_opts **ret_opts)
{
	criu_opts *o;

	if (!ret_opts)
		return -EINVAL;
	criu_local_free_opts(*ret_opts);
	*ret_opts = NULL;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->service_fd = -1;
	o->comm = CRIU_COMM_BIN;
	o->rpc = malloc(sizeof(*o->rpc));
	o->service_binary = strdup(LIBCRIU_DEFAULT_BINARY);
	if (!o->rpc || !o->service_binary) {
		free(o->rpc);
		o->rpc = NULL;
		criu_local_free_opts(o);
		return -ENOMEM;
	}
	criu_opts__init(o->rpc);
	*ret_opts = o;
	return 0;
}

int criu_init_opts(void)
{
	return criu_local_init_opts(&libcriu_global);
}

void criu_free_opts(void)
{
	criu_local_free_opts(libcriu_global);
	libcriu_global = NULL;
}

int criu_local_set_service_address(criu_opts *opts, const char *path)
{
	char *copy;

	if (!opts)
		return -EINVAL;
	copy = strdup(path ?: LIBCRIU_DEFAULT_ADDRESS);
	if (!copy)
		return -ENOMEM;
	free_service(opts);
	opts->comm = CRIU_COMM_SK;
	opts->service_address = copy;
	return 0;
}

int criu_set_service_address(const char *path)
{
	return criu_local_set_service_address(libcriu_global, path);
}

void criu_local_set_service_fd(criu_opts *opts, int fd)
{
	if (!opts)
		return;
	free_service(opts);
	opts->comm = CRIU_COMM_FD;
	opts->service_fd = fd;
}

void criu_set_service_fd(int fd)
{
	criu_local_set_service_fd(libcriu_global, fd);
}

int criu_local_set_service_binary(criu_opts *opts, const char *path)
{
	char *copy;

	if (!opts)
		return -EINVAL;
	copy = strdup(path ?: LIBCRIU_DEFAULT_BINARY);
	if (!copy)
		return -ENOMEM;
	free_service(opts);
	opts->comm = CRIU_COMM_BIN;
	opts->service_binary = copy;
	return 0;
}

int criu_set_service_binary(const char *path)
{
	return criu_local_set_service_binary(libcriu_global, path);
}

void criu_local_set_notify_cb(criu_opts *opts, int (*cb)(char *action, criu_notify_arg_t na))
{
	if (!opts)
		return;
	opts->notify = cb;
	opts->rpc->has_notify_scripts = true;
	opts->rpc->notify_scripts = cb != NULL;
}

void criu_set_notify_cb(int (*cb)(char *action, criu_notify_arg_t na))
{
	criu_local_set_notify_cb(libcriu_global, cb);
}

int criu_notify_pid(criu_notify_arg_t na)
{
	return na && na->has_pid ? na->pid : 0;
}

int criu_get_orphan_pts_master_fd(void)
{
	return orphan_pts_master_fd;
}

const char *criu_local_get_last_error(criu_opts *opts)
{
	return opts ? opts->last_error : NULL;
}

const char *criu_get_last_error(void)
{
	return criu_local_get_last_error(libcriu_global);
}

/* ------------------------------------------------------------ the way to criu */

/*
 * fork + exec `BIN swrk FD`. A close-on-exec pipe tells whether the exec
 * worked: it reads EOF then, or the child's errno.
 */
static int spawn_swrk(criu_opts *o, const char *bin, int *ret_sk)
{
	int sv[2], ep[2], child_errno = 0;
	char fd_arg[16];
	sigset_t chld;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	if (pipe2(ep, O_CLOEXEC)) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	snprintf(fd_arg, sizeof(fd_arg), "%d", sv[1]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);

	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)bin, "swrk", fd_arg, NULL };

		/* criu waits for its own children: SIGCHLD as a fresh process has it */
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		/* criu's end stays open across exec, under its own number */
		if (fcntl(sv[1], F_SETFD, 0) == 0)
			execvp(bin, argv);
		child_errno = errno;
		/* nothing more to do if even this fails: the parent then sees criu gone */
		if (write(ep[1], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
			child_errno = 0;
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	if (pid < 0) {
		child_errno = errno;
		close(sv[0]);
		close(ep[0]);
		return -child_errno;
	}
	do
		n = read(ep[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	o->swrk_pid = pid;
	if (n > 0) {
		close(sv[0]);
		return -(child_errno ?: ENOEXEC);
	}
	*ret_sk = sv[0];
	return 0;
}

static void reap_swrk(criu_opts *o)
{
	if (o->swrk_pid <= 0)
		return;
	while (waitpid(o->swrk_pid, NULL, 0) < 0 && errno == EINTR)
		;
	o->swrk_pid = 0;
}

static int connect_service(const char *path, int *ret_sk)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sk, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	if (connect(sk, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		close(sk);
		return err;
	}
	*ret_sk = sk;
	return 0;
}

/* A socket to a criu for one request; force_bin: a swrk of our own whatever the setting. */
static int criu_connect(criu_opts *o, bool force_bin, int *ret_sk)
{
	if (force_bin || o->comm == CRIU_COMM_BIN)
		return spawn_swrk(o, o->comm == CRIU_COMM_BIN ? o->service_binary : LIBCRIU_DEFAULT_BINARY,
				  ret_sk);
	if (o->comm == CRIU_COMM_FD) {
		if (o->service_fd < 0)
			return -EBADF;
		*ret_sk = o->service_fd;
		return 0;
	}
	return connect_service(o->service_address, ret_sk);
}

/* ------------------------------------------------------------ messages */

static int send_req(int sk, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf = malloc(len ?: 1);
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	do
		n = send(sk, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : (size_t)n == len ? 0 : -EMSGSIZE;
	free(buf);
	return err;
}

/* Keep an fd criu sent along (orphan-pts-master); close any other. */
static void take_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t nr;
		int fds[4];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nr > 4)
			nr = 4;
		memcpy(fds, CMSG_DATA(c), nr * sizeof(int));
		for (size_t i = 0; i < nr; i++) {
			if (orphan_pts_master_fd < 0)
				orphan_pts_master_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

static int recv_resp(int sk, CriuResp **ret_resp)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {};
	struct iovec iov;
	uint8_t *buf;
	ssize_t len;

	/* the size of the next packet, without taking it */
	do
		len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	if (len == 0)
		return -ECONNRESET;	/* criu closed the session without an answer */

	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		len = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	while (len < 0 && errno == EINTR);
	if (len < 0) {
		int err = -errno;

		free(buf);
		return err;
	}
	take_fds(&mh);
	*ret_resp = criu_resp__unpack(NULL, len, buf);
	free(buf);
	return *ret_resp ? 0 : -EBADMSG;
}

/* Tell criu whether the client is happy with a notification. */
static int send_notify_ack(int sk, bool ok)
{
	CriuReq ack = CRIU_REQ__INIT;

	ack.type = CRIU_REQ_TYPE__NOTIFY;
	ack.has_notify_success = true;
	ack.notify_success = ok;
	return send_req(sk, &ack);
}

/* ------------------------------------------------------------ requests */

/* A request under way: what it returns and the errno it leaves. */
struct call {
	criu_opts *o;
	int err;	/* errno for the caller: criu's cr_errno, or what failed here */
};

static void call_begin(struct call *c, criu_opts *o)
{
	c->o = o;
	c->err = 0;
	free(o->last_error);
	o->last_error = NULL;
}

/* Ends a request: the caller's errno, and ret passed through. */
static int call_end(struct call *c, int ret)
{
	errno = c->err;
	return ret;
}

static void note_failure(struct call *c, const CriuResp *resp)
{
	if (resp->has_cr_errno)
		c->err = resp->cr_errno;
	if (resp->cr_errmsg) {
		free(c->o->last_error);
		c->o->last_error = strdup(resp->cr_errmsg);
	}
}

/*
 * The client failed a notification: tell criu, and take its answer (the
 * request failed) for criu_get_last_error(). The caller returns the
 * callback's value whatever comes.
 */
static void refuse_notify(struct call *c, int sk)
{
	CriuResp *resp;

	if (send_notify_ack(sk, false) || recv_resp(sk, &resp))
		return;
	if (!resp->success)
		note_failure(c, resp);
	criu_resp__free_unpacked(resp, NULL);
}

/*
 * Send req on sk and read until its answer, going through the
 * notifications. 0 with *ret_resp (of req's type), or one of the
 * negative codes of criu.h, or the callback's non-zero value.
 */
static int exchange(struct call *c, int sk, const CriuReq *req, CriuResp **ret_resp)
{
	CriuResp *resp = NULL;
	int ret;

	ret = send_req(sk, req);
	if (ret) {
		c->err = -ret;
		return -ECOMM;
	}
	for (;;) {
		ret = recv_resp(sk, &resp);
		if (ret) {
			c->err = -ret;
			return -ECOMM;
		}
		if (resp->type != CRIU_REQ_TYPE__NOTIFY)
			break;

		ret = c->o->notify ? c->o->notify(resp->notify ? resp->notify->script : "", resp->notify) : 0;
		criu_resp__free_unpacked(resp, NULL);
		if (ret) {
			refuse_notify(c, sk);
			return ret;
		}
		ret = send_notify_ack(sk, true);
		if (ret) {
			c->err = -ret;
			return -ECOMM;
		}
	}

	if (resp->type != req->type) {
		ret = resp->type == CRIU_REQ_TYPE__EMPTY && !resp->success ? -EINVAL : -EBADMSG;
		note_failure(c, resp);
		criu_resp__free_unpacked(resp, NULL);
		return ret;
	}
	if (!resp->success)
		note_failure(c, resp);
	*ret_resp = resp;
	return 0;
}

/* One request in a session of its own. */
static int request(struct call *c, const CriuReq *req, bool force_bin, CriuResp **ret_resp)
{
	int sk, ret;

	ret = criu_connect(c->o, force_bin, &sk);
	if (ret) {
		c->err = -ret;
		reap_swrk(c->o);
		return -ECONNREFUSED;
	}
	ret = exchange(c, sk, req, ret_resp);
	close(sk);
	reap_swrk(c->o);
	return ret;
}

int criu_local_check(criu_opts *opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	struct call c;
	int ret;

	if (!opts)
		return -EINVAL;
	call_begin(&c, opts);
	/* as in CRIU's libcriu, CHECK goes without the options */
	req.type = CRIU_REQ_TYPE__CHECK;
	ret = request(&c, &req, false, &resp);
	if (!ret) {
		ret = resp->success ? 0 : -EBADE;
		criu_resp__free_unpacked(resp, NULL);
	}
	return call_end(&c, ret);
}

int criu_check(void)
{
	return criu_local_check(libcriu_global);
}

static int do_dump(criu_opts *opts, CriuReqType type)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	struct call c;
	int ret;

	if (!opts)
		return -EINVAL;
	call_begin(&c, opts);
	req.type = type;
	req.opts = opts->rpc;
	ret = request(&c, &req, false, &resp);
	if (!ret) {
		if (!resp->success)
			ret = -EBADE;
		else
			ret = type == CRIU_REQ_TYPE__DUMP && resp->dump && resp->dump->has_restored &&
			      resp->dump->restored;
		criu_resp__free_unpacked(resp, NULL);
	}
	return call_end(&c, ret);
}

int criu_local_dump(criu_opts *opts)
{
	return do_dump(opts, CRIU_REQ_TYPE__DUMP);
}

int criu_dump(void)
{
	return criu_local_dump(libcriu_global);
}

int criu_local_pre_dump(criu_opts *opts)
{
	return do_dump(opts, CRIU_REQ_TYPE__SINGLE_PRE_DUMP);
}

int criu_pre_dump(void)
{
	return criu_local_pre_dump(libcriu_global);
}

/* PRE_DUMP requests on one session while more() asks for them, then the DUMP. */
static int dump_iters_on(struct call *c, int sk, int (*more)(criu_predump_info pi))
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret, again;

	req.opts = c->o->rpc;
	do {
		req.type = CRIU_REQ_TYPE__PRE_DUMP;
		ret = exchange(c, sk, &req, &resp);
		if (ret)
			return ret;
		ret = resp->success ? 0 : -EBADE;
		criu_resp__free_unpacked(resp, NULL);
		if (ret)
			return ret;
		again = more(NULL);
		if (again < 0)
			return again;
	} while (again > 0);

	req.type = CRIU_REQ_TYPE__DUMP;
	ret = exchange(c, sk, &req, &resp);
	if (ret)
		return ret;
	ret = resp->success ? 0 : -EBADE;
	criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_local_dump_iters(criu_opts *opts, int (*more)(criu_predump_info pi))
{
	struct call c;
	int sk, ret;

	/* a dump of the caller itself can't be iterated */
	if (!opts || !more || !opts->rpc->has_pid)
		return -EINVAL;
	call_begin(&c, opts);
	ret = criu_connect(opts, false, &sk);
	if (ret) {
		c.err = -ret;
		reap_swrk(opts);
		return call_end(&c, -ECONNREFUSED);
	}
	ret = dump_iters_on(&c, sk, more);
	close(sk);
	reap_swrk(opts);
	return call_end(&c, ret);
}

int criu_dump_iters(int (*more)(criu_predump_info pi))
{
	return criu_local_dump_iters(libcriu_global, more);
}

static int do_restore(criu_opts *opts, bool child)
{
	CriuReq req = CRIU_REQ__INIT;
	protobuf_c_boolean had_sibling, sibling;
	CriuResp *resp;
	struct call c;
	int ret;

	if (!opts)
		return -EINVAL;
	call_begin(&c, opts);
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = opts->rpc;
	/* the restored root becomes our child: only a swrk criu of ours can do that */
	had_sibling = opts->rpc->has_rst_sibling;
	sibling = opts->rpc->rst_sibling;
	if (child)
		opts->rpc->has_rst_sibling = opts->rpc->rst_sibling = true;
	ret = request(&c, &req, child, &resp);
	opts->rpc->has_rst_sibling = had_sibling;
	opts->rpc->rst_sibling = sibling;
	if (!ret) {
		if (!resp->success)
			ret = -EBADE;
		else
			ret = resp->restore ? resp->restore->pid : -EBADMSG;
		criu_resp__free_unpacked(resp, NULL);
	}
	return call_end(&c, ret);
}

int criu_local_restore(criu_opts *opts)
{
	return do_restore(opts, false);
}

int criu_restore(void)
{
	return criu_local_restore(libcriu_global);
}

int criu_local_restore_child(criu_opts *opts)
{
	return do_restore(opts, true);
}

int criu_restore_child(void)
{
	return criu_local_restore_child(libcriu_global);
}

int criu_local_get_version(criu_opts *opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	struct call c;
	int ret;

	if (!opts)
		return -EINVAL;
	call_begin(&c, opts);
	req.type = CRIU_REQ_TYPE__VERSION;
	req.opts = opts->rpc;
	ret = request(&c, &req, false, &resp);
	if (ret)
		return call_end(&c, ret);

	if (!resp->success) {
		ret = -EBADE;
	} else if (!resp->version) {
		ret = -EBADMSG;
	} else {
		const CriuVersion *v = resp->version;

		ret = v->major_number * 10000 + v->minor_number * 100 + (v->has_sublevel ? v->sublevel : 0);
		/* a build from git between releases counts as the next minor (as runc does) */
		if (v->gitid)
			ret = ret - ret % 100 + 100;
	}
	criu_resp__free_unpacked(resp, NULL);
	return call_end(&c, ret);
}

int criu_get_version(void)
{
	return criu_local_get_version(libcriu_global);
}

int criu_local_check_version(criu_opts *opts, int minimum)
{
	int version = criu_local_get_version(opts);

	if (version < 0)
		return version;
	return version >= minimum;
}

int criu_check_version(int minimum)
{
	return criu_local_check_version(libcriu_global, minimum);
}

int criu_local_feature_check(criu_opts *opts, struct criu_feature_check *features, size_t size)
{
	struct criu_feature_check want = {}, got = {};
	CriuFeatures asked = CRIU_FEATURES__INIT;
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	struct call c;
	int ret;

	/* a caller built against an older, shorter struct passes its own size */
	if (!opts || !features || size > sizeof(want))
		return -EINVAL;
	call_begin(&c, opts);
	memcpy(&want, features, size);
	asked.has_mem_track = asked.mem_track = want.mem_track;
	asked.has_lazy_pages = asked.lazy_pages = want.lazy_pages;
	asked.has_pidfd_store = asked.pidfd_store = want.pidfd_store;
	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	req.opts = opts->rpc;
	req.features = &asked;
	ret = request(&c, &req, false, &resp);
	if (ret)
		return call_end(&c, ret);

	if (!resp->success) {
		ret = -EBADE;
	} else if (!resp->features) {
		ret = -EBADMSG;
	} else {
		got.mem_track = resp->features->has_mem_track && resp->features->mem_track;
		got.lazy_pages = resp->features->has_lazy_pages && resp->features->lazy_pages;
		got.pidfd_store = resp->features->has_pidfd_store && resp->features->pidfd_store;
		memcpy(features, &got, size);
	}
	criu_resp__free_unpacked(resp, NULL);
	return call_end(&c, ret);
}

int criu_feature_check(struct criu_feature_check *features, size_t size)
{
	return criu_local_feature_check(libcriu_global, features, size);
}
