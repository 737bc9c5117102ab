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
 * The task can also send its pages itself: it gets a copy of criu's socket to
 * the page server (page_pipe_give_socket()) and sendmsg()s the page server's
 * headers (written to the scratch area) and its own pages in one remote call
 * (page_pipe_send()). The copy into the socket is then made by the task, on
 * whatever CPU it runs, and the page server gets bytes the sender just wrote.
 * At most PP_SEND_IOV iovecs, PP_SEND_BLOB bytes of headers a call.
 */
#define PP_SEND_IOV 512
#define PP_SEND_BLOB (256 * 32)
#define PP_SEND_BATCH (8UL << 20)	/* bytes of pages a remote send takes: few remote calls */

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
	int task_sk;			/* the page server's socket in the task (page_pipe_give_socket()), or -1 */
	unsigned long nr_send;		/* remote sendmsg() calls made */
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
/*
 * Put a copy of sk (criu's socket to the page server) into the task: the task
 * makes a socketpair, criu takes one end and passes sk over it (SCM_RIGHTS),
 * the task receives it (pp->task_sk). 0 or -errno (nothing left in the task).
 */
int page_pipe_give_socket(struct page_pipe *pp, struct pstree_item *item, int sk);
/* The task address where page_pipe_send() puts the blob: iovecs may point into it. */
unsigned long page_pipe_blob_addr(const struct page_pipe *pp);
/*
 * The task sendmsg()s iov[0..n) (its own addresses, or the blob's) on
 * task_sk, MSG_NOSIGNAL; blob (blob_len <= PP_SEND_BLOB bytes) is written
 * to the scratch area first. The bytes sent (fewer than asked when the send
 * was cut short), or -errno.
 */
ssize_t page_pipe_send(struct page_pipe *pp, const struct iovec *iov, int n, const void *blob, size_t blob_len);
/* Close the task's end and criu's, end the remote syscalls; the first error. */
int page_pipe_close(struct page_pipe *pp);

#endif
