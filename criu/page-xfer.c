// SPDX-License-Identifier: GPL-2.0
/*
 * CRIU's page server protocol: the connection, the client's messages and the
 * server's loop (page-xfer.h says what goes over the wire).
 *
 * The server writes what it receives through the same page_xfer as a local
 * dump (pagemap.c), into its own images dir; entries a client marks
 * PE_PARENT must be found in that dir's parent chain (page-chain.h), so a
 * chain that does not match the client's is refused, not written.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "crtools.h"
#include "image.h"
#include "page-chain.h"
#include "page-digest.h"
#include "page-xfer.h"
#include "pagemap.h"
#include "tls.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-xfer: "

_Static_assert(sizeof(struct ps_iov) == 32, "CRIU's page_server_iov is 32 bytes");

/* ------------------------------------------------------------ the connection */

int ps_send(struct ps_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	c->bytes_sent += len;
	if (c->tls)
		return tls_send_all(c->tls, buf, len);
	while (len) {
		ssize_t n = send(c->sk, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* Header and pages in one go (plain TCP: one writev per batch). */
static int ps_send2(struct ps_conn *c, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = blen ? 2 : 1 };

	if (c->tls) {
		c->bytes_sent += alen + blen;
		return tls_send2(c->tls, a, alen, b, blen);
	}
	c->bytes_sent += alen + blen;
	while (mh.msg_iovlen) {
		ssize_t n = sendmsg(c->sk, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= n;
		}
	}
	return 0;
}

/* Up to len bytes, at least one; 0 at EOF. */
static ssize_t ps_recv_some(struct ps_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return tls_recv_some(c->tls, buf, len);
	do
		n = recv(c->sk, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int ps_recv(struct ps_conn *c, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = ps_recv_some(c, p, len);

		if (n < 0)
			return n;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

static void set_nodelay(int sk)
{
	int one = 1;

	/* our sends are big batches; the small ones (headers waiting for an answer) must not wait */
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void ps_conn_close(struct ps_conn *c, bool failed)
{
	tls_end(c->tls, failed);
	c->tls = NULL;
	if (c->own_sk && c->sk >= 0)
		close(c->sk);
	c->sk = -1;
}

static int start_tls(struct ps_conn *c, const struct ps_conf *conf, bool server)
{
	if (!conf->tls)
		return 0;
	return tls_start(c->sk, server, conf->tls_conf, &c->tls);
}

/* ------------------------------------------------------------ client */

static int tcp_connect(const char *addr, unsigned int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
	struct addrinfo *res, *ai;
	char service[16];
	int ret, sk = -1, err = 0;

	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(addr, service, &hints, &res);
	if (ret)
		return pr_fail(-EHOSTUNREACH, "page server address %s: %s\n", addr, gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		sk = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (sk < 0) {
			err = errno;
			continue;
		}
		if (!connect(sk, ai->ai_addr, ai->ai_addrlen))
			break;
		err = errno;
		close(sk);
		sk = -1;
	}
	freeaddrinfo(res);
	if (sk < 0)
		return pr_fail(-(err ?: ECONNREFUSED), "can't connect to the page server at %s port %u: %s\n", addr,
			       port, strerror(err ?: ECONNREFUSED));
	return sk;
}

/*
 * With TLS 1.3 the client's handshake ends before the server has checked the
 * client's certificate: one round trip (PS_IOV_PARENT, which every page server
 * answers, of a pagemap nobody has) makes sure the server took us, before
 * the dump touches the tree.
 */
static int tls_accepted(struct ps_conn *c)
{
	struct ps_iov iov = { .cmd = PS_IOV_PARENT, .dst_id = ps_dst_id(PS_TYPE_PID, 0) };
	int32_t answer;
	int ret = ps_send(c, &iov, sizeof(iov)) ?: ps_recv(c, &answer, sizeof(answer));

	if (ret)
		pr_err("the page server ended the TLS session: it does not take our certificate (see its log)\n");
	return ret;
}

int ps_connect(const struct ps_conf *conf, struct ps_conn *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	if (conf->fd >= 0) {
		c->sk = conf->fd;
		c->force_close = true;
		pr_info("page server: the socket %d (--ps-socket)\n", conf->fd);
	} else {
		if (!conf->addr)
			return pr_fail(-EINVAL, "--page-server needs --address\n");
		ret = tcp_connect(conf->addr, conf->port);
		if (ret < 0)
			return ret;
		c->sk = ret;
		c->own_sk = true;
		pr_info("page server: connected to %s port %u\n", conf->addr, conf->port);
	}
	set_nodelay(c->sk);
	ret = start_tls(c, conf, false);
	if (!ret && c->tls)
		ret = tls_accepted(c);
	if (ret) {
		pr_err("page server at %s port %u: TLS refused, nothing sent\n", conf->addr ?: "(socket)", conf->port);
		ps_conn_close(c, true);
	}
	return ret;
}

int ps_disconnect(struct ps_conn *c)
{
	struct ps_iov iov = { .cmd = c->force_close ? PS_IOV_FORCE_CLOSE : PS_IOV_CLOSE };
	int32_t status = -1;
	int ret = ps_send(c, &iov, sizeof(iov));

	if (!ret)
		ret = ps_recv(c, &status, sizeof(status));
	if (ret)
		pr_err("page server: the end of the session failed: %s\n", strerror(-ret));
	else if (status)
		ret = pr_fail(-EIO, "page server: it says the session failed (status %d)\n", status);
	ps_conn_close(c, ret != 0);
	return ret;
}

int ps_open_pagemap(struct ps_conn *c, uint64_t dst_id, bool *ret_has_parent)
{
	struct ps_iov iov = { .cmd = PS_IOV_OPEN2, .dst_id = dst_id };
	char has_parent;
	int ret = ps_send(c, &iov, sizeof(iov));

	if (!ret)
		ret = ps_recv(c, &has_parent, 1);
	if (ret)
		return pr_fail(ret, "page server: no answer to the opening of %#llx: %s\n", (unsigned long long)dst_id,
			       strerror(-ret));
	*ret_has_parent = has_parent;
	return 0;
}

int ps_send_entry(struct ps_conn *c, uint64_t dst_id, uint32_t flags, uint64_t vaddr, uint64_t nr_pages,
		  const void *pages)
{
	struct ps_iov iov = {
		.cmd = flags << PS_CMD_BITS | PS_IOV_ADD_F,
		.nr_pages = nr_pages,
		.vaddr = vaddr,
		.dst_id = dst_id,
	};

	return ps_send2(c, &iov, sizeof(iov), pages, (flags & PE_PRESENT) ? nr_pages * PAGE_SIZE : 0);
}

int ps_get_pages(struct ps_conn *c, int pid, uint64_t vaddr, uint64_t nr_pages, void *buf, uint64_t *ret_nr)
{
	struct ps_iov iov = { .cmd = PS_IOV_GET, .nr_pages = nr_pages, .vaddr = vaddr, .dst_id = pid };
	int ret = ps_send(c, &iov, sizeof(iov));

	if (!ret)
		ret = ps_recv(c, &iov, sizeof(iov));
	if (ret)
		return pr_fail(ret, "page server: no pages for %d at %#llx: %s\n", pid, (unsigned long long)vaddr,
			       strerror(-ret));
	if ((iov.cmd & PS_CMD_MASK) != PS_IOV_ADD_F || !iov.nr_pages || iov.nr_pages > nr_pages || iov.vaddr != vaddr ||
	    iov.dst_id != (uint64_t)pid)
		return pr_fail(-EPROTO, "page server: a bad answer to a request for pages of %d at %#llx\n", pid,
			       (unsigned long long)vaddr);
	ret = ps_recv(c, buf, iov.nr_pages * PAGE_SIZE);
	if (ret)
		return pr_fail(ret, "page server: the pages of %d at %#llx: %s\n", pid, (unsigned long long)vaddr,
			       strerror(-ret));
	*ret_nr = iov.nr_pages;
	return 0;
}

/* ------------------------------------------------------------ server */

int ps_serve_gets(struct ps_conn *c, ps_get_fn get, void *arg)
{
	for (;;) {
		struct ps_iov iov;
		int32_t answer = 0;
		int ret = ps_recv(c, &iov, sizeof(iov));

		if (ret)
			return pr_fail(ret, "the lazy-pages client went away before it had every page: %s\n",
				       strerror(-ret));
		switch (iov.cmd & PS_CMD_MASK) {
		case PS_IOV_GET:
			ret = get(arg, c, &iov);
			break;
		case PS_IOV_PARENT:
			ret = ps_send(c, &answer, sizeof(answer));
			break;
		case PS_IOV_CLOSE:
		case PS_IOV_FORCE_CLOSE:
			return ps_send(c, &answer, sizeof(answer));
		default:
			ret = pr_fail(-EPROTO, "command %#x: this page server serves lazy pages only (PS_IOV_GET)\n",
				      iov.cmd);
		}
		if (ret)
			return ret;
	}
}

int ps_listen(const struct ps_conf *conf, unsigned int *ret_port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addrinfo *res;
	char service[16];
	int sk, one = 1, ret;

	snprintf(service, sizeof(service), "%u", conf->port);
	ret = getaddrinfo(conf->addr, service, &hints, &res);
	if (ret)
		return pr_fail(-EINVAL, "page server: address %s: %s\n", conf->addr ?: "(any)", gai_strerror(ret));
	sk = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0) {
		freeaddrinfo(res);
		return pr_fail_errno("page server: can't make a socket");
	}
	setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ret = bind(sk, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ret || listen(sk, 1) || getsockname(sk, (struct sockaddr *)&ss, &sl)) {
		ret = pr_fail_errno("page server: can't listen on %s port %u", conf->addr ?: "(any)", conf->port);
		close(sk);
		return ret;
	}
	*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						     ((struct sockaddr_in *)&ss)->sin_port);
	pr_info("page server: listening on %s port %u\n", conf->addr ?: "(any)", *ret_port);
	return sk;
}

int ps_accept(int lsk, const struct ps_conf *conf, struct ps_conn *c)
{
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int ret;

	memset(c, 0, sizeof(*c));
	do
		c->sk = accept4(lsk, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	while (c->sk < 0 && errno == EINTR);
	if (c->sk < 0)
		return pr_fail_errno("page server: accept failed");
	c->own_sk = true;
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	pr_info("page server: connection from %s port %s\n", host, serv);
	set_nodelay(c->sk);
	ret = start_tls(c, conf, true);
	if (ret) {
		pr_err("page server: TLS with %s refused: nothing received\n", host);
		ps_conn_close(c, true);
	}
	return ret;
}

#define SRV_BUF_SIZE (4UL << 20)
#define SRV_PIPE_SIZE (1 << 20)	/* the default pipe-max-size */

/* What one session of the server holds. */
struct ps_session {
	struct ps_conn *c;
	int img_dfd;
	unsigned int next_pages_id;
	bool open;			/* x is an open pagemap */
	uint64_t dst_id;
	struct page_xfer x;
	struct page_chain chain;	/* the parent chain of x's pagemap (a task's), when has_parent */
	bool has_parent;
	char *buf;
	int pipe[2];			/* plain TCP: pages go socket -> pipe -> pages image by splice() */
	size_t pipe_size;
	unsigned long nr_pages, nr_parent;
};

/* dst_id to an image type and id; CRIU's older numbers for the types too (as its decode_pm() lists them). */
static int decode_dst(uint64_t dst_id, unsigned long *ret_id)
{
	*ret_id = dst_id >> PS_TYPE_BITS;
	switch (dst_id & PS_TYPE_MASK) {
	case PS_TYPE_PID:
	case 10: case 11: case 16: case 17:
		return CR_FD_PAGEMAP;
	case PS_TYPE_SHMEM:
	case 27: case 28: case 29: case 32: case 33: case 34:
		return CR_FD_SHMEM_PAGEMAP;
	}
	return -EPROTO;
}

static int session_close_xfer(struct ps_session *s)
{
	int ret = 0;

	if (!s->open)
		return 0;
	ret = page_xfer_close(&s->x);
	if (s->has_parent)
		page_chain_close(&s->chain);
	s->open = s->has_parent = false;
	if (ret)
		pr_err("page server: can't write the images of %#llx: %s\n", (unsigned long long)s->dst_id,
		       strerror(-ret));
	return ret;
}

/* Whether the images dir's parent chain holds the task's pagemap (CRIU's has_parent). */
static bool open_parent_chain(struct ps_session *s, int type, unsigned long id)
{
	char why[256] = "";
	int ret;

	if (type != CR_FD_PAGEMAP)
		return false;	/* shared memory is sent whole */
	ret = page_chain_open(&s->chain, s->img_dfd, id, false, why, sizeof(why));
	if (ret && ret != -ENOENT)
		pr_warn("page server: the parent images of %lu can't be used: %s\n", id, why);
	return !ret;
}

static int srv_open(struct ps_session *s, const struct ps_iov *iov, bool answer)
{
	unsigned long id;
	int type = decode_dst(iov->dst_id, &id), ret;
	char has_parent;

	if (type < 0)
		return pr_fail(-EPROTO, "page server: unknown pagemap type in %#llx\n", (unsigned long long)iov->dst_id);
	ret = session_close_xfer(s);
	if (ret)
		return ret;
	ret = page_xfer_open(&s->x, s->img_dfd, type, id, s->next_pages_id);
	if (ret)
		return pr_fail(ret, "page server: can't create the images of %s %lu: %s (%s)\n",
			       type == CR_FD_PAGEMAP ? "task" : "shmem", id, strerror(-ret), img_last_error());
	s->next_pages_id++;
	s->open = true;
	s->dst_id = iov->dst_id;
	s->has_parent = open_parent_chain(s, type, id);
	pr_debug("page server: %s %lu opened (parent: %s)\n", type == CR_FD_PAGEMAP ? "task" : "shmem", id,
		 s->has_parent ? "yes" : "no");
	if (!answer)
		return 0;
	has_parent = s->has_parent;
	return ps_send(s->c, &has_parent, 1);
}

static int srv_check_parent(struct ps_session *s, const struct ps_iov *iov)
{
	unsigned long id;
	int type = decode_dst(iov->dst_id, &id);
	struct page_chain chain;
	char why[256];
	int32_t yes = 0;

	if (type < 0)
		return pr_fail(-EPROTO, "page server: unknown pagemap type in %#llx\n", (unsigned long long)iov->dst_id);
	if (type == CR_FD_PAGEMAP && !page_chain_open(&chain, s->img_dfd, id, false, why, sizeof(why))) {
		yes = 1;
		page_chain_close(&chain);
	}
	return ps_send(s->c, &yes, sizeof(yes));
}

/* Every page of a PE_PARENT entry must be in the parent chain: else the restore would miss it. */
static int check_in_parent(struct ps_session *s, uint64_t vaddr, uint64_t nr)
{
	if (!s->has_parent)
		return pr_fail(-EPROTO, "page server: %#llx: pages said to be in the parent images, but there is "
				       "no parent with this pagemap (--prev-images-dir of the page server)\n",
			       (unsigned long long)vaddr);
	for (uint64_t i = 0; i < nr; i++) {
		off_t off;
		int fd;

		if (page_chain_find(&s->chain, vaddr + i * PAGE_SIZE, &fd, &off))
			return pr_fail(-EPROTO, "page server: the page at %#llx is said to be in the parent images, "
					       "which don't have it\n",
				       (unsigned long long)(vaddr + i * PAGE_SIZE));
	}
	return 0;
}

/*
 * Plain TCP: splice() the pages from the socket into the pipe and from the
 * pipe into the pages image; the bytes are copied once (into the file), not
 * through a buffer of ours.
 */
static int srv_splice_pages(struct ps_session *s, uint64_t len)
{
	int fd = s->x.pages_fd;

	while (len) {
		ssize_t in = splice(s->c->sk, NULL, s->pipe[1], NULL, min(len, (uint64_t)s->pipe_size), SPLICE_F_MOVE);

		if (in < 0 && errno == EINTR)
			continue;
		if (in <= 0)
			return pr_fail(in ? -errno : -ECONNRESET,
				       "page server: the connection broke in the middle of pages: %s\n",
				       in ? strerror(errno) : "closed");
		len -= in;
		while (in) {
			ssize_t out = splice(s->pipe[0], NULL, fd, NULL, in, SPLICE_F_MOVE);

			if (out < 0 && errno == EINTR)
				continue;
			if (out <= 0)
				return pr_fail(out ? -errno : -EIO, "page server: can't write the pages: %s\n",
					       out ? strerror(errno) : "short write");
			in -= out;
		}
	}
	return 0;
}

/* Receive the entry's pages into the pages image. */
static int srv_recv_pages(struct ps_session *s, uint64_t len)
{
	if (s->pipe[0] >= 0)
		return srv_splice_pages(s, len);
	while (len) {
		size_t chunk = min(len, (uint64_t)SRV_BUF_SIZE);
		int ret = ps_recv(s->c, s->buf, chunk);

		if (ret)
			return pr_fail(ret, "page server: the connection broke in the middle of pages: %s\n",
				       strerror(-ret));
		ret = page_xfer_write(&s->x, s->buf, chunk);
		if (ret)
			return pr_fail(ret, "page server: can't write the pages: %s\n", strerror(-ret));
		len -= chunk;
	}
	return 0;
}

static int srv_add(struct ps_session *s, const struct ps_iov *iov, uint32_t flags)
{
	int ret;

	if (!s->open || iov->dst_id != s->dst_id)
		return pr_fail(-EPROTO, "page server: pages for %#llx, which is not open\n",
			       (unsigned long long)iov->dst_id);
	if ((iov->vaddr & (PAGE_SIZE - 1)) || !iov->nr_pages || iov->nr_pages >= (1ULL << 40))
		return pr_fail(-EPROTO, "page server: a bad entry %#llx+%llu pages\n", (unsigned long long)iov->vaddr,
			       (unsigned long long)iov->nr_pages);
	if (flags & ~(PE_PRESENT | PE_PARENT | PE_LAZY) || !!(flags & PE_PRESENT) == !!(flags & PE_PARENT))
		return pr_fail(-EOPNOTSUPP, "page server: entry %#llx has flags %#x: only pages sent (PE_PRESENT) or "
					    "in the parent images (PE_PARENT) are supported, not lazy pages left on "
					    "the source\n",
			       (unsigned long long)iov->vaddr, flags);
	if (flags & PE_PARENT) {
		ret = check_in_parent(s, iov->vaddr, iov->nr_pages);
		if (ret)
			return ret;
	}
	s->x.flags = flags;
	ret = page_xfer_add(&s->x, iov->vaddr, iov->nr_pages);
	if (ret)
		return pr_fail(ret, "page server: can't write the pagemap: %s\n", strerror(-ret));
	if (flags & PE_PARENT) {
		s->x.nr_pages -= iov->nr_pages;
		s->x.nr_parent_pages += iov->nr_pages;
		s->nr_parent += iov->nr_pages;
		return 0;
	}
	s->nr_pages += iov->nr_pages;
	return srv_recv_pages(s, iov->nr_pages * PAGE_SIZE);
}

/*
 * CLOSE: every image is written; the client hears so at once (its dump goes
 * on), then the manifest (a CRC of every byte: 0.3 s a GiB) and the
 * inventory are written, which a restore through the chain checks.
 */
static int srv_finish(struct ps_session *s)
{
	int32_t status = 0;
	int ret = session_close_xfer(s);

	if (ret)
		status = -1;
	ret = ps_send(s->c, &status, sizeof(status)) ?: ret;
	if (!ret)
		ret = write_pre_dump_inventory(s->img_dfd);
	pr_info("page server: session over: %lu pages received, %lu left in the parent images\n", s->nr_pages,
		s->nr_parent);
	return ret;
}

static int srv_one(struct ps_session *s, const struct ps_iov *iov)
{
	uint32_t cmd = iov->cmd & PS_CMD_MASK;

	switch (cmd) {
	case PS_IOV_OPEN:
		return srv_open(s, iov, false);
	case PS_IOV_OPEN2:
		return srv_open(s, iov, true);
	case PS_IOV_PARENT:
		return srv_check_parent(s, iov);
	case PS_IOV_ADD_F:
		return srv_add(s, iov, iov->cmd >> PS_CMD_BITS);
	case PS_IOV_ADD:
		return srv_add(s, iov, PE_PRESENT);
	case PS_IOV_HOLE:
		return srv_add(s, iov, PE_PARENT);
	case PS_IOV_GET:
		return pr_fail(-EOPNOTSUPP, "page server: PS_IOV_GET (lazy pages from this server) is not supported\n");
	}
	return pr_fail(-EPROTO, "page server: unknown command %#x\n", iov->cmd);
}

int ps_serve(struct ps_conn *c, int img_dfd)
{
	struct ps_session s = { .c = c, .img_dfd = img_dfd, .next_pages_id = 1, .pipe = { -1, -1 } };
	int ret;

	s.buf = mmap(NULL, SRV_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.buf == MAP_FAILED)
		return pr_fail_errno("page server: no buffer");
	if (!c->tls && !pipe2(s.pipe, O_CLOEXEC)) {
		int sz = fcntl(s.pipe[1], F_SETPIPE_SZ, SRV_PIPE_SIZE);

		s.pipe_size = sz > 0 ? (size_t)sz : (size_t)fcntl(s.pipe[1], F_GETPIPE_SZ);
	}
	for (;;) {
		struct ps_iov iov;

		ret = ps_recv(c, &iov, sizeof(iov));
		if (ret) {
			pr_err("page server: the client went away before the end of the session: %s\n",
			       strerror(-ret));
			break;
		}
		if (iov.cmd == PS_IOV_CLOSE || iov.cmd == PS_IOV_FORCE_CLOSE) {
			ret = srv_finish(&s);
			break;
		}
		ret = srv_one(&s, &iov);
		if (ret)
			break;
	}
	if (s.open) {
		page_xfer_abort(&s.x);
		if (s.has_parent)
			page_chain_close(&s.chain);
	}
	munmap(s.buf, SRV_BUF_SIZE);
	if (s.pipe[0] >= 0) {
		close(s.pipe[0]);
		close(s.pipe[1]);
	}
	return ret;
}

/* ------------------------------------------------------------ a dump's pagemap on a page server */

struct ps_conn *page_server_conn;

/* An entry added but not sent: its pages are still on their way through the copier. */
struct ps_qent {
	uint64_t vaddr;
	uint64_t nr;
	uint32_t flags;
};

/*
 * The copier's writer thread sends (ps_xfer_write()) while the dumping thread
 * adds entries (ps_xfer_add()): the queue is the only thing they share.
 */
struct ps_queue {
	pthread_mutex_t lock;
	struct ps_qent *e;
	size_t head, nr, cap;	/* entries e[head .. nr) wait */
};

int ps_xfer_open(struct page_xfer *x, struct ps_conn *c, int pagemap_type, unsigned long id)
{
	int ret;

	memset(x, 0, sizeof(*x));
	x->pages_fd = -1;
	x->flags = PE_PRESENT;
	x->ps = c;
	x->ps_dst = ps_dst_id(pagemap_type == CR_FD_PAGEMAP ? PS_TYPE_PID : PS_TYPE_SHMEM, id);
	x->q = calloc(1, sizeof(*x->q));
	if (!x->q)
		return -ENOMEM;
	pthread_mutex_init(&x->q->lock, NULL);
	ret = ps_open_pagemap(c, x->ps_dst, &x->ps_has_parent);
	if (ret)
		ps_xfer_abort(x);
	return ret;
}

int ps_xfer_add(struct page_xfer *x, uint64_t vaddr, unsigned long nr_pages)
{
	struct ps_queue *q = x->q;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (q->nr > q->head) {
		struct ps_qent *t = &q->e[q->nr - 1];

		if (t->flags == x->flags && t->vaddr + t->nr * PAGE_SIZE == vaddr) {
			t->nr += nr_pages;
			goto out;
		}
	}
	if (q->head && q->head == q->nr)
		q->head = q->nr = 0;
	if (q->nr == q->cap && q->head) {	/* slide the waiting entries down */
		memmove(q->e, q->e + q->head, (q->nr - q->head) * sizeof(*q->e));
		q->nr -= q->head;
		q->head = 0;
	}
	if (q->nr == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 256;
		struct ps_qent *n = realloc(q->e, ncap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		q->e = n;
		q->cap = ncap;
	}
	q->e[q->nr++] = (struct ps_qent){ .vaddr = vaddr, .nr = nr_pages, .flags = x->flags };
out:
	if (!ret) {
		x->nr_pages += nr_pages;
		x->nr_entries++;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* The digests of a run: hashed from the bytes sent, or those of the parent for PE_PARENT pages. */
static int record_digests(struct page_xfer *x, const struct ps_qent *e, const char *pages)
{
	if (!x->digests)
		return 0;
	for (uint64_t i = 0; i < e->nr; i++) {
		uint64_t va = e->vaddr + i * PAGE_SIZE;
		const uint8_t *sha = NULL;
		int ret;

		if (!pages) {
			sha = x->parent_digests ? page_digests_find(x->parent_digests, va) : NULL;
			if (!sha)
				return -EINVAL;	/* a PE_PARENT page must come from a digest */
		}
		ret = page_digests_add(x->digests, va, pages ? pages + i * PAGE_SIZE : NULL, sha);
		if (ret)
			return ret;
	}
	return 0;
}

/* Take the next run off the queue: at most max_pages of a PE_PRESENT entry, a PE_PARENT entry whole. */
static bool queue_take(struct ps_queue *q, uint64_t max_pages, struct ps_qent *ret)
{
	struct ps_qent *h;
	bool got = false;

	pthread_mutex_lock(&q->lock);
	if (q->head < q->nr) {
		h = &q->e[q->head];
		*ret = *h;
		if (!(h->flags & PE_PARENT)) {
			ret->nr = min(h->nr, max_pages);
			h->vaddr += ret->nr * PAGE_SIZE;
			h->nr -= ret->nr;
		} else {
			h->nr = 0;
		}
		if (!h->nr)
			q->head++;
		got = ret->nr || (ret->flags & PE_PARENT);
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

static bool queue_head_is_parent(struct ps_queue *q)
{
	bool yes;

	pthread_mutex_lock(&q->lock);
	yes = q->head < q->nr && (q->e[q->head].flags & PE_PARENT);
	pthread_mutex_unlock(&q->lock);
	return yes;
}

/* Send the PE_PARENT entries at the head of the queue (they have no bytes to wait for). */
static int send_parent_entries(struct page_xfer *x)
{
	struct ps_qent e;

	while (queue_head_is_parent(x->q) && queue_take(x->q, 0, &e)) {
		int ret = ps_send_entry(x->ps, x->ps_dst, e.flags, e.vaddr, e.nr, NULL) ?: record_digests(x, &e, NULL);

		if (ret)
			return ret;
	}
	return 0;
}

int ps_xfer_write(struct page_xfer *x, const void *buf, size_t len)
{
	const char *p = buf;
	int ret = send_parent_entries(x);

	while (!ret && len) {
		struct ps_qent e;

		if (!queue_take(x->q, len / PAGE_SIZE, &e) || (e.flags & PE_PARENT))
			return -EIO;	/* bytes with no entry for them: a bug of the caller */
		ret = ps_send_entry(x->ps, x->ps_dst, e.flags, e.vaddr, e.nr, p) ?: record_digests(x, &e, p);
		p += e.nr * PAGE_SIZE;
		len -= e.nr * PAGE_SIZE;
		if (!ret)
			ret = send_parent_entries(x);
	}
	return ret;
}

/* The entry's header, then its bytes moved from the pipe to the socket (plain TCP). */
static int send_entry_spliced(struct page_xfer *x, const struct ps_qent *e, int pipe_fd)
{
	struct ps_iov iov = {
		.cmd = e->flags << PS_CMD_BITS | PS_IOV_ADD_F,
		.nr_pages = e->nr,
		.vaddr = e->vaddr,
		.dst_id = x->ps_dst,
	};
	size_t left = e->nr * PAGE_SIZE;
	int sk = x->ps->sk;

	while (send(sk, &iov, sizeof(iov), MSG_NOSIGNAL | MSG_MORE) != sizeof(iov))
		if (errno != EINTR)
			return -errno;	/* a short send of 32 bytes into a blocking socket: only with an error */
	x->ps->bytes_sent += sizeof(iov) + left;
	while (left) {
		ssize_t n = splice(pipe_fd, NULL, sk, NULL, left, SPLICE_F_MOVE | SPLICE_F_MORE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		left -= n;
	}
	return 0;
}

int ps_xfer_splice(struct page_xfer *x, int pipe_fd, size_t len)
{
	int ret = send_parent_entries(x);

	if (x->ps->tls || x->digests)
		return -EINVAL;	/* the bytes must pass through us: ps_xfer_write() */
	while (!ret && len) {
		struct ps_qent e;

		if (!queue_take(x->q, len / PAGE_SIZE, &e) || (e.flags & PE_PARENT))
			return -EIO;
		ret = send_entry_spliced(x, &e, pipe_fd);
		len -= e.nr * PAGE_SIZE;
		if (!ret)
			ret = send_parent_entries(x);
	}
	return ret;
}

int ps_xfer_task_iov(struct page_xfer *x, size_t len, unsigned long blob, struct iovec *iov, int max_iov,
		     struct ps_iov *hdr, int max_hdr, int *ret_nr_hdr, size_t *ret_bytes)
{
	size_t bytes = 0;
	int n = 0, h = 0;

	if (x->ps->tls || x->digests)
		return -EINVAL;	/* the bytes must pass through us: ps_xfer_write() */
	while (h < max_hdr && n + 2 <= max_iov) {
		struct ps_qent e;

		if (queue_head_is_parent(x->q)) {
			if (!queue_take(x->q, 0, &e))
				break;
		} else if (bytes < len) {
			if (!queue_take(x->q, (len - bytes) / PAGE_SIZE, &e) || (e.flags & PE_PARENT))
				return -EIO;	/* bytes with no entry for them */
		} else {
			break;
		}
		hdr[h] = (struct ps_iov){
			.cmd = e.flags << PS_CMD_BITS | PS_IOV_ADD_F,
			.nr_pages = e.nr,
			.vaddr = e.vaddr,
			.dst_id = x->ps_dst,
		};
		iov[n++] = (struct iovec){ (void *)(blob + h * sizeof(*hdr)), sizeof(*hdr) };
		if (!(e.flags & PE_PARENT)) {
			iov[n++] = (struct iovec){ (void *)(unsigned long)e.vaddr, e.nr * PAGE_SIZE };
			bytes += e.nr * PAGE_SIZE;
		}
		h++;
	}
	*ret_nr_hdr = h;
	*ret_bytes = bytes;
	return n;
}

static void ps_queue_free(struct page_xfer *x)
{
	if (!x->q)
		return;
	pthread_mutex_destroy(&x->q->lock);
	free(x->q->e);
	free(x->q);
	x->q = NULL;
}

int ps_xfer_close(struct page_xfer *x)
{
	int ret = send_parent_entries(x);

	if (!ret && x->q->head < x->q->nr)
		ret = -EIO;	/* entries whose pages never came */
	ps_queue_free(x);
	x->ps = NULL;
	return ret;
}

void ps_xfer_abort(struct page_xfer *x)
{
	ps_queue_free(x);
	x->ps = NULL;
}
