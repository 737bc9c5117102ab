// SPDX-License-Identifier: GPL-2.0
/*
 * criu page-server: listen (or take --ps-socket), optionally go to the
 * background, say it is ready (--status-fd, --pidfile), take one client and
 * write what it sends into the images dir (page-xfer.c), then exit; with
 * --lazy-pages, serve the lazy pages of the images dir instead
 * (lazy-images.c). The RPC
 * request PAGE_SERVER runs the same steps in a forked criu.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "cr_options.h"
#include "page-server.h"
#include "page-xfer.h"
#include "tls.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-server: "

void ps_conf_from_opts(struct ps_conf *c, struct tls_conf *t)
{
	*t = (struct tls_conf){
		.cacert = opts.tls_cacert,
		.cacrl = opts.tls_cacrl,
		.cert = opts.tls_cert,
		.key = opts.tls_key,
		.no_cn_verify = opts.tls_no_cn_verify,
		.hostname = opts.ps_addr,
	};
	*c = (struct ps_conf){
		.addr = opts.ps_addr,
		.port = opts.ps_port,
		.fd = opts.ps_socket,
		.tls = opts.tls,
		.tls_conf = t,
	};
}

int page_server_prepare(const struct ps_conf *conf, struct page_server *ret)
{
	ret->lsk = -1;
	ret->port = conf->port;
	if (conf->fd >= 0)
		return 0;	/* --ps-socket: the client is on it already */
	ret->lsk = ps_listen(conf, &ret->port);
	return ret->lsk < 0 ? ret->lsk : 0;
}

int page_server_run(int img_dfd, const struct ps_conf *conf, struct page_server *srv)
{
	struct ps_conn c;
	int ret;

	if (srv->lsk >= 0) {
		ret = ps_accept(srv->lsk, conf, &c);
		close(srv->lsk);
		srv->lsk = -1;
		if (ret)
			return ret;
	} else {
		memset(&c, 0, sizeof(c));
		c.sk = conf->fd;
		ret = conf->tls ? tls_start(c.sk, true, conf->tls_conf, &c.tls) : 0;
		if (ret)
			return ret;
	}
	ret = opts.lazy_pages ? lazy_images_serve(&c, img_dfd) : ps_serve(&c, img_dfd);
	tls_end(c.tls, ret != 0);
	c.tls = NULL;
	if (!ret && c.own_sk) {
		char ch;

		/* the client closes first (as CRIU's server waits): no TIME_WAIT left on this side */
		while (recv(c.sk, &ch, 1, 0) > 0)
			;
	}
	ps_conn_close(&c, ret != 0);
	return ret;
}

static int write_pidfile(const char *path, pid_t pid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = fd < 0 || dprintf(fd, "%d", pid) < 0 ? -EIO : 0;

	if (fd >= 0)
		close(fd);
	return ret ? pr_fail(ret, "can't write the pidfile %s\n", path) : 0;
}

/* The ready byte of --status-fd, as CRIU's: '\0', then the fd is closed. */
void ps_status_ready(void)
{
	char c = 0;

	if (opts.status_fd < 0)
		return;
	if (write(opts.status_fd, &c, 1) != 1)
		pr_warn("can't write to --status-fd %d: %s\n", opts.status_fd, strerror(errno));
	close(opts.status_fd);
	opts.status_fd = -1;
}

/* --daemon: the parent writes the pidfile and returns 1; the child (0) serves, without a terminal. */
static int go_background(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return pr_fail_errno("can't fork the page server");
	if (pid > 0) {
		if (opts.pidfile && write_pidfile(opts.pidfile, pid)) {
			kill(pid, SIGKILL);
			return -EIO;
		}
		return 1;
	}
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	return 0;
}

int cr_page_server(int img_dfd)
{
	struct page_server srv;
	struct tls_conf tc;
	struct ps_conf conf;
	int ret;

	ps_conf_from_opts(&conf, &tc);
	ret = page_server_prepare(&conf, &srv);
	if (ret)
		return ret;
	if (opts.restore_detached) {
		ret = go_background();
		if (ret) {
			if (srv.lsk >= 0)
				close(srv.lsk);
			return ret > 0 ? 0 : ret;
		}
	} else if (opts.pidfile && write_pidfile(opts.pidfile, getpid())) {
		return -EIO;
	}
	pr_info("serving on port %u %s the images dir\n", srv.port, opts.lazy_pages ? "lazy pages from" : "into");
	ps_status_ready();
	ret = page_server_run(img_dfd, &conf, &srv);
	if (opts.restore_detached)
		exit(ret ? 1 : 0);
	return ret;
}
