// SPDX-License-Identifier: GPL-2.0
/*
 * The page pipe (page-pipe.h): the seized task puts its own pages into a
 * pipe with a remote vmsplice(), criu moves them from the pipe to a socket
 * with splice(). vmsplice() takes references to the pages, it copies
 * nothing; the one copy is the socket's. The task is stopped the whole time
 * and the page server has every byte (its CLOSE answer) before the tree
 * runs again or dies, so the pages referenced hold what was dumped.
 */
#include <fcntl.h>
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
		ret = compel_rsys_map_scratch(&pp->rs, PC_MAX_IOV * sizeof(struct iovec));
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

int page_pipe_close(struct page_pipe *pp)
{
	int ret = 0, fin;

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
