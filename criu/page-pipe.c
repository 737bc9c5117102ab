// SPDX-License-Identifier: GPL-2.0
/*
 * The page pipe (page-pipe.h): the seized task puts its own pages into a
 * pipe with a remote vmsplice(), criu moves them from the pipe to a socket
 * with splice(). vmsplice() takes references to the pages, it copies
 * nothing; the one copy is the socket's. The task is stopped the whole time
 * and the page server has every byte (its CLOSE answer) before the tree
 * runs again or dies, so the pages referenced hold what was dumped.
 *
 * Or the task sends them itself: it gets a copy of criu's socket to the
 * page server and sendmsg()s headers and pages in one remote call; the copy
 * into the socket is then the task's (page_pipe_give_socket(),
 * page_pipe_send()).
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "dump-core.h"
#include "page-pipe.h"
#include "pagemap.h"
#include "pstree.h"
#include "syscalls.h"

#undef LOG_PREFIX
#define LOG_PREFIX "page-pipe: "

#ifndef SPLICE_F_NONBLOCK
#define SPLICE_F_NONBLOCK 0x02
#endif

/* The scratch area: vmsplice()'s iovecs; or page_pipe_send()'s msghdr, iovecs and blob. */
#define SEND_IOV_OFF 64
#define SEND_BLOB_OFF (SEND_IOV_OFF + PP_SEND_IOV * sizeof(struct iovec))
#define SCRATCH_SIZE max(PC_MAX_IOV * sizeof(struct iovec), SEND_BLOB_OFF + PP_SEND_BLOB)

/* One remote call: its result (a negative errno from the syscall too), or the failure of the call itself. */
static long pp_rsys(struct page_pipe *pp, long nr, unsigned long a1, unsigned long a2, unsigned long a3,
		    unsigned long a4)
{
	long r;
	int err = compel_rsys(&pp->rs, &r, nr, a1, a2, a3, a4, 0, 0);

	return err ? err : r;
}

/* Pipe i in the task; criu takes its read end, the task keeps the write end. */
static int make_pipe(struct page_pipe *pp, struct pstree_item *item, int i, size_t want)
{
	int fds[2], sz;
	long r = pp_rsys(pp, __NR_pipe2, pp->rs.scratch, O_CLOEXEC, 0, 0);
	int err;

	if (r < 0)
		return (int)r;
	err = compel_mem_read(pp->rs.tid, pp->rs.mem_fd, pp->rs.scratch, fds, sizeof(fds));
	if (err)
		return err;	/* the fds are not known: the finish can't close them, the task keeps two */
	pp->task_wfd[i] = fds[1];
	pp->nr = i + 1;
	pp->rfd[i] = sys_pidfd_getfd(item->pidfd, fds[0], 0);
	err = pp->rfd[i] < 0 ? -errno : 0;
	pp_rsys(pp, __NR_close, fds[0], 0, 0, 0);
	if (err)
		return err;
	sz = fcntl(pp->rfd[i], F_SETPIPE_SZ, (int)want);
	if (sz < 0)
		return -errno;
	if (!pp->size || (size_t)sz < pp->size)
		pp->size = sz;
	return 0;
}

int page_pipe_open(struct page_pipe *pp, struct pstree_item *item, int nr, size_t want)
{
	unsigned long code;
	unsigned int flags;
	int ret;

	memset(pp, 0, sizeof(*pp));
	pp->task_sk = -1;
	for (int i = 0; i < PAGE_PIPES_MAX; i++)
		pp->rfd[i] = pp->task_wfd[i] = -1;
	pp->rs.mem_fd = -1;	/* the finish closes it: not fd 0 when the prepare is not reached */
	if (nr < 1 || nr > PAGE_PIPES_MAX)
		return -EINVAL;
	ret = task_rsys_code_flags(item, &code, &flags);
	if (ret)
		return ret;
	ret = compel_rsys_prepare_flags(&pp->rs, item->pid, code, COMPEL_RSYS_POKE | flags);
	/* one thread: nobody else writes the recovery code, it is written once, not before each call */
	pp->rs.sole_writer = item->nr_threads == 1;
	if (!ret)
		ret = compel_rsys_map_scratch(&pp->rs, SCRATCH_SIZE);
	for (int i = 0; !ret && i < nr; i++)
		ret = make_pipe(pp, item, i, want);
	if (ret) {
		page_pipe_close(pp);
		return ret;
	}
	pr_debug("task %d: %d pipes of %zu bytes\n", item->pid, pp->nr, pp->size);
	return 0;
}

ssize_t page_pipe_fill(struct page_pipe *pp, int i, const struct iovec *riov, int n)
{
	size_t len = 0;
	long r;
	int err;

	if ((size_t)n * sizeof(*riov) > pp->rs.scratch_size || i < 0 || i >= pp->nr)
		return -E2BIG;
	for (int k = 0; k < n; k++)
		len += riov[k].iov_len;
	if (len > pp->size)
		return -E2BIG;
	err = compel_mem_write(pp->rs.tid, pp->rs.mem_fd, pp->rs.scratch, riov, n * sizeof(*riov));
	if (err)
		return err;
	/* never blocks: the pipe is empty and holds len bytes of pages */
	r = pp_rsys(pp, __NR_vmsplice, pp->task_wfd[i], pp->rs.scratch, n, SPLICE_F_NONBLOCK);
	pp->nr_vmsplice++;
	return r;
}

/* Send fd over the unix socket u: one byte and the fd. */
static int send_fd(int u, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(u, &mh, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* What the task's recvmsg() of the fd reads and fills, as laid out in the scratch area. */
struct fd_msg {
	struct msghdr mh;
	struct iovec iov;
	char byte;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
};

/* The task receives the fd waiting on its end tfd of the socketpair: the fd's number in the task, or -errno. */
static int task_recv_fd(struct page_pipe *pp, int tfd)
{
	unsigned long at = pp->rs.scratch;
	struct fd_msg m = {};
	struct cmsghdr *cm;
	long r;
	int err, fd;

	m.iov = (struct iovec){ (void *)(at + offsetof(struct fd_msg, byte)), 1 };
	m.mh = (struct msghdr){ .msg_iov = (void *)(at + offsetof(struct fd_msg, iov)), .msg_iovlen = 1,
				.msg_control = (void *)(at + offsetof(struct fd_msg, cm)),
				.msg_controllen = sizeof(m.cm.buf) };
	err = compel_mem_write(pp->rs.tid, pp->rs.mem_fd, at, &m, sizeof(m));
	if (err)
		return err;
	r = pp_rsys(pp, __NR_recvmsg, tfd, at, MSG_CMSG_CLOEXEC | MSG_DONTWAIT, 0);
	if (r != 1)
		return r < 0 ? (int)r : -EPROTO;
	err = compel_mem_read(pp->rs.tid, pp->rs.mem_fd, at, &m, sizeof(m));
	if (err)
		return err;	/* the fd's number is not known: it stays in the task */
	/* the control data at its place in our copy: CMSG_FIRSTHDR reads msg_control */
	m.mh.msg_control = m.cm.buf;
	cm = CMSG_FIRSTHDR(&m.mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int page_pipe_give_socket(struct page_pipe *pp, struct pstree_item *item, int sk)
{
	long r = pp_rsys(pp, __NR_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pp->rs.scratch);
	int fds[2], mine, err, fd;

	if (r < 0)
		return (int)r;
	err = compel_mem_read(pp->rs.tid, pp->rs.mem_fd, pp->rs.scratch, fds, sizeof(fds));
	if (err)
		return err;
	mine = sys_pidfd_getfd(item->pidfd, fds[0], 0);
	err = mine < 0 ? -errno : 0;
	pp_rsys(pp, __NR_close, fds[0], 0, 0, 0);
	if (!err) {
		err = send_fd(mine, sk);
		close(mine);
	}
	fd = err ? err : task_recv_fd(pp, fds[1]);
	pp_rsys(pp, __NR_close, fds[1], 0, 0, 0);
	if (fd < 0)
		return fd;
	pp->task_sk = fd;
	return 0;
}

unsigned long page_pipe_blob_addr(const struct page_pipe *pp)
{
	return pp->rs.scratch + SEND_BLOB_OFF;
}

ssize_t page_pipe_send(struct page_pipe *pp, const struct iovec *iov, int n, const void *blob, size_t blob_len)
{
	struct msghdr mh = { .msg_iov = (void *)(pp->rs.scratch + SEND_IOV_OFF), .msg_iovlen = n };
	int err;

	if (pp->task_sk < 0 || n < 1 || n > PP_SEND_IOV || blob_len > PP_SEND_BLOB)
		return -EINVAL;
	err = compel_mem_write(pp->rs.tid, pp->rs.mem_fd, pp->rs.scratch, &mh, sizeof(mh)) ?:
	      compel_mem_write(pp->rs.tid, pp->rs.mem_fd, pp->rs.scratch + SEND_IOV_OFF, iov, n * sizeof(*iov));
	if (!err && blob_len)
		err = compel_mem_write(pp->rs.tid, pp->rs.mem_fd, page_pipe_blob_addr(pp), blob, blob_len);
	if (err)
		return err;
	pp->nr_send++;
	return pp_rsys(pp, __NR_sendmsg, pp->task_sk, pp->rs.scratch, MSG_NOSIGNAL, 0);
}

int page_pipe_close(struct page_pipe *pp)
{
	int ret = 0, fin;

	if (pp->task_sk >= 0) {
		long r = pp_rsys(pp, __NR_close, pp->task_sk, 0, 0, 0);

		if (r < 0)
			ret = (int)r;
		pp->task_sk = -1;
	}

	for (int i = 0; i < PAGE_PIPES_MAX; i++) {
		if (pp->task_wfd[i] >= 0) {
			long r = pp_rsys(pp, __NR_close, pp->task_wfd[i], 0, 0, 0);

			if (r < 0 && !ret)
				ret = (int)r;
			pp->task_wfd[i] = -1;
		}
		if (pp->rfd[i] >= 0)
			close(pp->rfd[i]);
		pp->rfd[i] = -1;
	}
	fin = compel_rsys_finish(&pp->rs);
	return ret ?: fin;
}
