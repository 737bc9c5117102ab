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
struct page_pipe {
	struct compel_rsys rs;
	int rfd;			/* criu's read end */
	int task_wfd;			/* the write end's number in the task */
	size_t size;			/* the pipe's capacity, bytes */
	unsigned long nr_vmsplice;	/* remote vmsplice() calls made */
};

/*
 * Make the pipe in item (seized, stopped) with a capacity of want bytes;
 * 0 or -errno (then nothing is left in the task and the caller copies).
 */
int page_pipe_open(struct page_pipe *pp, struct pstree_item *item, size_t want);
/*
 * The task vmsplice()s the remote ranges riov[0..n) (page aligned, at most
 * pp->size bytes, the pipe empty) into the pipe: the bytes that went in
 * (the ranges' first bytes, in order; fewer than asked when a range
 * can't be spliced), or -errno.
 */
ssize_t page_pipe_fill(struct page_pipe *pp, const struct iovec *riov, int n);
/* Close the task's end and criu's, end the remote syscalls; the first error. */
int page_pipe_close(struct page_pipe *pp);

#endif
