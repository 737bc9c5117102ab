/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_PAGE_PIPE_H
#define CRIU_PAGE_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "compel/compel.h"

struct pstree_item;

/*
 * A pipe whose write end is in the seized task and whose read end is
 * criu's: the task vmsplice()s its own pages into it (a remote syscall),
 * criu splice()s them on to the page server's socket. The pages are copied
 * once, into the socket, instead of twice (process_vm_readv() into the
 * staging buffer, then the send).
 */
#define PAGE_PIPES_MAX 4

/*
 * A few pipes, one per slot of the copier's ring: the task fills one
 * while the copier's writer thread splices another to the socket.
 */
struct page_pipe {
	struct compel_rsys rs;
	int nr;				/* pipes made */
	int rfd[PAGE_PIPES_MAX];	/* criu's read ends */
	int task_wfd[PAGE_PIPES_MAX];	/* the write ends' numbers in the task */
	size_t size;			/* each pipe's capacity, bytes */
	unsigned long nr_vmsplice;	/* remote vmsplice() calls made */
};

/*
 * Make nr pipes (at most PAGE_PIPES_MAX) in item (seized, stopped), each
 * with a capacity of want bytes; 0 or -errno (then nothing is left in
 * the task and the caller copies).
 */
int page_pipe_open(struct page_pipe *pp, struct pstree_item *item, int nr, size_t want);
/*
 * The task vmsplice()s the remote ranges riov[0..n) (page aligned, at most
 * pp->size bytes) into pipe i, which is empty: the bytes that went in (the
 * ranges' first bytes, in order; fewer than asked when a range can't be
 * spliced), or -errno.
 */
ssize_t page_pipe_fill(struct page_pipe *pp, int i, const struct iovec *riov, int n);
/* Close the task's end and criu's, end the remote syscalls; the first error. */
int page_pipe_close(struct page_pipe *pp);

#endif
