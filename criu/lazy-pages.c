// SPDX-License-Identifier: GPL-2.0
/*
 * `criu lazy-pages`: the daemon of a lazy restore (lazy-pages.h,
 * Documentation/migration.md "Lazy restore").
 *
 * It listens on lazy-pages.socket in the images dir, takes one restore's
 * connection and gets, per task, the task's userfaultfd, a pidfd of it, its
 * pages fd and the runs of pages still to come. One loop (epoll) then:
 *
 *   - serves page faults: a page still to come is copied in with UFFDIO_COPY
 *     (with up to FAULT_CHUNK bytes after it in its run), any other page of a
 *     registered VMA gets UFFDIO_ZEROPAGE;
 *   - follows the tasks' changes to their memory: UFFD_EVENT_FORK (the child
 *     gets its own userfaultfd and a copy of what was still to come),
 *     UFFD_EVENT_REMAP (mremap: the runs move), UFFD_EVENT_REMOVE
 *     (madvise DONTNEED/REMOVE) and UFFD_EVENT_UNMAP (the runs are dropped:
 *     those pages read as zeroes from then on, as without lazy pages);
 *   - once the restore says the tree runs, copies the rest in the background
 *     BG_CHUNK at a time, looking for faults between chunks;
 *   - exits when nothing is left to copy.
 *
 * A copy refused with EAGAIN (the task's memory is changing: an event is
 * queued) is tried again once the events are read.
 */
#define LOG_PREFIX "lazy-pages: "
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "image.h"
#include "image-check.h"
#include "protobuf.h"
#include "log.h"
#include "lazy-pages.h"
#include "page-server.h"
#include "page-source.h"
#include "syscalls.h"

#include "inventory.pb-c.h"

#define FAULT_CHUNK (64UL << 10)
#define BG_CHUNK (1UL << 20)
#define MAX_MSGS 64

/* Pages of a task still to come: [start, end) in its memory now; vaddr is where they were dumped. */
struct lazy_iov {
	uint64_t start, end;
	uint64_t vaddr, off;
};

struct lazy_task {
	struct lazy_task *next;
	pid_t pid;		/* in the images: the page source's key */
	int uffd;
	int pidfd;		/* -1 for a child forked in the lazy phase */
	char name[48];
	struct lazy_iov *iov;	/* sorted by start, not overlapping */
	size_t nr, cap;
	uint64_t *deferred;	/* faults to serve again (EAGAIN) */
	size_t nr_def, cap_def;
	bool gone;
};

struct lazy_stats {
	uint64_t fault_pages, bg_pages, zero_pages;
	unsigned long faults, forks, remaps, removes, unmaps;
};

struct lazy_daemon {
	int img_dfd, lsk, csk, epfd;
	struct lazy_task *tasks;
	struct lazy_task *cursor;	/* where the background copy goes on */
	struct page_source *src;
	void *buf;			/* BG_CHUNK */
	bool restore_done, again;
	bool remote;			/* src is a page server (--page-server) */
	struct lazy_msg hello;		/* sent to the restore on accept */
	int nr_children;
	struct lazy_stats st;
	struct timespec t_done;
};

/* ------------------------------------------------------------------ the runs */

static uint64_t pending_bytes(const struct lazy_task *t)
{
	uint64_t b = 0;

	for (size_t i = 0; i < t->nr; i++)
		b += t->iov[i].end - t->iov[i].start;
	return b;
}

static ssize_t iov_find(const struct lazy_task *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->iov[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nr && t->iov[lo].start <= addr ? (ssize_t)lo : -1;
}

static int iov_reserve(struct lazy_task *t, size_t more)
{
	struct lazy_iov *n;
	size_t cap;

	if (t->nr + more <= t->cap)
		return 0;
	cap = max(t->cap * 2, t->nr + more + 16);
	n = xrealloc(t->iov, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->iov = n;
	t->cap = cap;
	return 0;
}

/* Drop [a, b) from the runs (what was copied, removed, unmapped), splitting a run around it. */
static int iov_cut(struct lazy_task *t, uint64_t a, uint64_t b)
{
	size_t lo = 0, hi = t->nr, nk = 0;
	struct lazy_iov keep[2];

	while (lo < hi) {	/* the first run that ends after a */
		size_t mid = lo + (hi - lo) / 2;

		if (t->iov[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < t->nr && t->iov[hi].start < b; hi++)
		;
	if (lo == hi)
		return 0;
	if (t->iov[lo].start < a)
		keep[nk++] = (struct lazy_iov){ t->iov[lo].start, a, t->iov[lo].vaddr, t->iov[lo].off };
	if (t->iov[hi - 1].end > b) {
		const struct lazy_iov *v = &t->iov[hi - 1];
		uint64_t d = b - v->start;

		keep[nk++] = (struct lazy_iov){ b, v->end, v->vaddr + d, v->off + d };
	}
	if (nk > hi - lo && iov_reserve(t, 1))
		return -ENOMEM;
	memmove(&t->iov[lo + nk], &t->iov[hi], (t->nr - hi) * sizeof(*t->iov));
	memcpy(&t->iov[lo], keep, nk * sizeof(*keep));
	t->nr = t->nr - (hi - lo) + nk;
	return 0;
}

static int cmp_iov(const void *a, const void *b)
{
	const struct lazy_iov *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* mremap() moved [from, from + len) to to: so do the runs in it. */
static int iov_move(struct lazy_task *t, uint64_t from, uint64_t to, uint64_t len)
{
	_cleanup_free_ struct lazy_iov *moved = NULL;
	size_t nm = 0;
	int ret;

	moved = xmalloc((t->nr + 2) * sizeof(*moved));
	if (!moved)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++) {
		struct lazy_iov v = t->iov[i];
		uint64_t s = max(v.start, from), e = min(v.end, from + len);

		if (s >= e)
			continue;
		moved[nm++] = (struct lazy_iov){ s - from + to, e - from + to, v.vaddr + (s - v.start), v.off + (s - v.start) };
	}
	ret = iov_cut(t, from, from + len) ?: iov_cut(t, to, to + len) ?: iov_reserve(t, nm);
	if (ret)
		return ret;
	memcpy(&t->iov[t->nr], moved, nm * sizeof(*moved));
	t->nr += nm;
	qsort(t->iov, t->nr, sizeof(*t->iov), cmp_iov);
	return 0;
}

/* ------------------------------------------------------------------ tasks */

static void task_free(struct lazy_task *t)
{
	if (t->uffd >= 0)
		close(t->uffd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	free(t->iov);
	free(t->deferred);
	free(t);
}

/*
 * A task whose pages can't be had: it must not run on with zeroes where its
 * data was. Kill it through the pidfd the restore sent. A child forked in the
 * lazy phase has none (the fork event names no process): it is not killed,
 * a known gap (Documentation/migration.md).
 */
static void task_fail(struct lazy_task *t, int err, const char *what)
{
	pr_err("%s: %s: %s: killing it\n", t->name, what, strerror(-err));
	if (t->pidfd >= 0 && sys_pidfd_send_signal(t->pidfd, SIGKILL, NULL, 0))
		pr_perror("%s: can't kill it", t->name);
	t->gone = true;
}

static int task_add_epoll(struct lazy_daemon *d, struct lazy_task *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t };
	int fl = fcntl(t->uffd, F_GETFL);

	if (fl < 0 || fcntl(t->uffd, F_SETFL, fl | O_NONBLOCK))
		return pr_fail_errno("%s: its userfaultfd", t->name);
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, t->uffd, &ev))
		return pr_fail_errno("%s: epoll_ctl", t->name);
	t->next = d->tasks;
	d->tasks = t;
	return 0;
}

static int defer_fault(struct lazy_task *t, uint64_t page)
{
	if (t->nr_def == t->cap_def) {
		size_t cap = t->cap_def ? t->cap_def * 2 : 16;
		uint64_t *n = xrealloc(t->deferred, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->deferred = n;
		t->cap_def = cap;
	}
	t->deferred[t->nr_def++] = page;
	return 0;
}

/* ------------------------------------------------------------------ copying */

static void wake_range(struct lazy_task *t, uint64_t a, uint64_t len)
{
	struct uffdio_range r = { .start = a, .len = len };

	ioctl(t->uffd, UFFDIO_WAKE, &r);	/* nobody may be waiting: nothing to check */
}

/*
 * Copy [addr, addr + len), which starts in a run, into the task (up to the
 * end of that run). 0 (copied, or nothing to copy there any more), -EAGAIN
 * (its memory is changing: try again after the events), other -errno: the
 * task is failed or gone.
 *
 * UFFDIO_COPY wants the whole range in one VMA: a run may cross VMAs (the
 * task split one with mprotect(), or the dump had two neighbours), so a range
 * the kernel refuses with ENOENT is halved until it fits; a page it still
 * refuses is not registered any more (a child that did not inherit a
 * MADV_DONTFORK VMA): dropped, and whoever waits on it woken.
 */
static int copy_pages(struct lazy_daemon *d, struct lazy_task *t, uint64_t addr, uint64_t len, uint64_t *counter)
{
	for (;;) {
		ssize_t idx = iov_find(t, addr);
		const struct lazy_iov *v;
		struct uffdio_copy c;
		uint64_t delta, done;
		int ret, err = 0;

		if (idx < 0)
			return 0;
		v = &t->iov[idx];
		delta = addr - v->start;
		len = min(len, v->end - addr);
		ret = d->src->ops->read(d->src, t->pid, v->vaddr + delta, v->off + delta, len, d->buf);
		if (ret) {
			task_fail(t, ret, "can't read its pages");
			return ret;
		}
		c = (struct uffdio_copy){ .dst = addr, .src = (unsigned long)d->buf, .len = len };
		if (ioctl(t->uffd, UFFDIO_COPY, &c))
			err = errno;
		done = c.copy > 0 ? (uint64_t)c.copy : 0;
		if (done) {
			*counter += done / PAGE_SIZE;
			ret = iov_cut(t, addr, addr + done);
			if (ret)
				return ret;
		}
		if (!err || done == len)
			return 0;
		addr += done;
		len -= done;
		switch (err) {
		case EAGAIN:
		case EINTR:
			return -EAGAIN;
		case EEXIST:
			/* a page is there already (the task's own, not ours to overwrite) */
			wake_range(t, addr, PAGE_SIZE);
			return iov_cut(t, addr, addr + PAGE_SIZE);
		case ENOENT:
		case EFAULT:
			if (len > PAGE_SIZE) {
				len = max((len / 2) & ~(uint64_t)(PAGE_SIZE - 1), (uint64_t)PAGE_SIZE);
				continue;
			}
			pr_debug("%s: %#" PRIx64 " is not registered any more\n", t->name, addr);
			wake_range(t, addr, PAGE_SIZE);
			return iov_cut(t, addr, addr + PAGE_SIZE);
		case ESRCH:
			pr_info("%s: exited\n", t->name);
			t->gone = true;
			return -ESRCH;
		}
		task_fail(t, -err, "UFFDIO_COPY");
		return -err;
	}
}

static int zero_page(struct lazy_daemon *d, struct lazy_task *t, uint64_t page)
{
	struct uffdio_zeropage z = { .range = { .start = page, .len = PAGE_SIZE } };
	int ret;

	if (!ioctl(t->uffd, UFFDIO_ZEROPAGE, &z)) {
		d->st.zero_pages++;
		return 0;
	}
	switch (errno) {
	case EAGAIN:
	case EINTR:
		return -EAGAIN;
	case EEXIST:
	case ENOENT:
		wake_range(t, page, PAGE_SIZE);
		return 0;
	case ESRCH:
		t->gone = true;
		return -ESRCH;
	}
	ret = -errno;
	task_fail(t, ret, "UFFDIO_ZEROPAGE");
	return ret;
}

static int serve_fault(struct lazy_daemon *d, struct lazy_task *t, uint64_t addr)
{
	uint64_t page = addr & ~(uint64_t)(PAGE_SIZE - 1);
	ssize_t i = iov_find(t, page);
	int ret;

	if (i < 0)
		ret = zero_page(d, t, page);
	else
		ret = copy_pages(d, t, page, FAULT_CHUNK, &d->st.fault_pages);
	if (ret == -EAGAIN) {
		d->again = true;
		return defer_fault(t, page);
	}
	return ret == -ESRCH ? 0 : ret;
}

/* ------------------------------------------------------------------ events */

static int on_fork(struct lazy_daemon *d, struct lazy_task *parent, int ufd)
{
	struct lazy_task *t = xzalloc(sizeof(*t));
	int ret;

	if (!t) {
		close(ufd);
		return -ENOMEM;
	}
	t->pid = parent->pid;	/* its memory is its parent's: the same pages in the source */
	t->uffd = ufd;
	t->pidfd = -1;
	snprintf(t->name, sizeof(t->name), "child %d of %d", ++d->nr_children, parent->pid);
	ret = iov_reserve(t, parent->nr);
	if (!ret) {
		memcpy(t->iov, parent->iov, parent->nr * sizeof(*t->iov));
		t->nr = parent->nr;
		ret = task_add_epoll(d, t);
	}
	if (ret) {
		task_free(t);
		return ret;
	}
	d->st.forks++;
	pr_info("%s: forked with %" PRIu64 " KiB still to come\n", t->name, pending_bytes(t) >> 10);
	return 0;
}

static int on_msg(struct lazy_daemon *d, struct lazy_task *t, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		d->st.faults++;
		return serve_fault(d, t, m->arg.pagefault.address);
	case UFFD_EVENT_FORK:
		return on_fork(d, t, (int)m->arg.fork.ufd);
	case UFFD_EVENT_REMAP:
		d->st.remaps++;
		pr_debug("%s: mremap %#llx -> %#llx (%llu bytes)\n", t->name, m->arg.remap.from, m->arg.remap.to,
			 m->arg.remap.len);
		return iov_move(t, m->arg.remap.from, m->arg.remap.to, m->arg.remap.len);
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		if (m->event == UFFD_EVENT_REMOVE)
			d->st.removes++;
		else
			d->st.unmaps++;
		pr_debug("%s: %s %#llx-%#llx\n", t->name, m->event == UFFD_EVENT_REMOVE ? "remove" : "unmap",
			 m->arg.remove.start, m->arg.remove.end);
		return iov_cut(t, m->arg.remove.start, m->arg.remove.end);
	}
	return pr_fail(-EINVAL, "%s: unknown userfaultfd event %u\n", t->name, m->event);
}

/* Every message queued on a task's userfaultfd, in order. */
static int serve_task(struct lazy_daemon *d, struct lazy_task *t)
{
	struct uffd_msg msgs[MAX_MSGS];

	while (!t->gone) {
		ssize_t n = read(t->uffd, msgs, sizeof(msgs));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return pr_fail_errno("%s: reading its userfaultfd", t->name);
		if (n % sizeof(msgs[0]))
			return pr_fail(-EIO, "%s: a short userfaultfd message\n", t->name);
		for (size_t i = 0; i < n / sizeof(msgs[0]) && !t->gone; i++) {
			int ret = on_msg(d, t, &msgs[i]);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int retry_deferred(struct lazy_daemon *d, struct lazy_task *t)
{
	size_t nr = t->nr_def;
	_cleanup_free_ uint64_t *pages = NULL;
	int ret = 0;

	if (!nr)
		return 0;
	pages = t->deferred;
	t->deferred = NULL;
	t->nr_def = t->cap_def = 0;
	for (size_t i = 0; i < nr && !ret && !t->gone; i++)
		ret = serve_fault(d, t, pages[i]);
	return ret;
}

/* One chunk of the background copy, round robin over the tasks. */
static int bg_step(struct lazy_daemon *d)
{
	struct lazy_task *t = d->cursor ?: d->tasks;
	int ret;

	for (struct lazy_task *s = t; t && !t->nr;) {
		t = t->next ?: d->tasks;
		if (t == s)
			return 0;
	}
	if (!t)
		return 0;
	d->cursor = t->next;
	ret = copy_pages(d, t, t->iov[0].start, BG_CHUNK, &d->st.bg_pages);
	if (ret == -EAGAIN) {
		d->again = true;
		return 0;
	}
	return ret == -ESRCH ? 0 : ret;
}

/* ------------------------------------------------------------------ the restore's socket */

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		done += n;
	}
	return 0;
}

static int take_task(struct lazy_daemon *d, const struct lazy_msg *m, const int fds[3])
{
	struct lazy_task *t = xzalloc(sizeof(*t));
	_cleanup_free_ struct lazy_run *runs = NULL;
	int ret;

	if (!t) {
		for (int i = 0; i < 3; i++)
			close(fds[i]);
		return -ENOMEM;
	}
	t->pid = m->pid;
	t->uffd = fds[0];
	t->pidfd = fds[1];
	snprintf(t->name, sizeof(t->name), "task %d", m->pid);
	ret = d->src->ops->add_task(d->src, m->pid, fds[2]);
	if (ret && fds[2] >= 0)
		close(fds[2]);
	if (!ret && m->nr_runs > (1U << 24))
		ret = pr_fail(-E2BIG, "%s: %u runs of pages\n", t->name, m->nr_runs);
	if (!ret)
		runs = xmalloc(((size_t)m->nr_runs ?: 1) * sizeof(*runs));
	if (!ret && !runs)
		ret = -ENOMEM;
	if (!ret)
		ret = read_full(d->csk, runs, (size_t)m->nr_runs * sizeof(*runs));
	if (!ret)
		ret = iov_reserve(t, m->nr_runs);
	for (uint32_t i = 0; !ret && i < m->nr_runs; i++) {
		const struct lazy_run *r = &runs[i];

		if (r->start >= r->end || (r->start | r->end) & (PAGE_SIZE - 1) ||
		    (i && r->start < runs[i - 1].end))
			ret = pr_fail(-EINVAL, "%s: bad run %#" PRIx64 "-%#" PRIx64 "\n", t->name, r->start, r->end);
		else
			t->iov[t->nr++] = (struct lazy_iov){ r->start, r->end, r->start, r->off };
	}
	if (!ret)
		ret = task_add_epoll(d, t);
	if (ret) {
		task_fail(t, ret, "can't take it");
		task_free(t);
		return ret;
	}
	pr_info("%s: %zu runs, %" PRIu64 " KiB to come\n", t->name, t->nr, pending_bytes(t) >> 10);
	return 0;
}

static int read_restore(struct lazy_daemon *d)
{
	struct lazy_msg m;
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fds[3] = { -1, -1, -1 }, nfds = 0;
	ssize_t n = recvmsg(d->csk, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);

	for (c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), min(nfds, 3) * sizeof(int));
		}
	if (n != sizeof(m) || (m.type == LAZY_MSG_TASK) != (nfds == 3 || nfds == 2)) {
		for (int i = 0; i < min(nfds, 3); i++)
			close(fds[i]);
		if (n == 0 && !d->restore_done) {
			return pr_fail(-EPIPE, "the restore went away before the tree ran\n");
		}
		if (n == 0)
			return 0;
		return pr_fail(n < 0 ? -errno : -EPROTO, "a bad message from the restore\n");
	}
	switch (m.type) {
	case LAZY_MSG_TASK:
		return take_task(d, &m, fds);
	case LAZY_MSG_DONE:
		d->restore_done = true;
		clock_gettime(CLOCK_MONOTONIC, &d->t_done);
		pr_info("the tree runs: copying the rest in the background\n");
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->csk, NULL);
		return 0;
	case LAZY_MSG_FAILED:
		return pr_fail(-ECANCELED, "the restore failed: its tasks are killed\n");
	}
	return pr_fail(-EPROTO, "unknown message %u from the restore\n", m.type);
}

static int accept_restore(struct lazy_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->csk };

	d->csk = accept4(d->lsk, NULL, NULL, SOCK_CLOEXEC);
	if (d->csk < 0)
		return pr_fail_errno("accept");
	/* one restore per daemon: the name goes, a second restore finds no daemon */
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->lsk, NULL);
	close(d->lsk);
	d->lsk = -1;
	unlinkat(d->img_dfd, LAZY_SK_NAME, 0);
	pr_info("a restore connected\n");
	if (send(d->csk, &d->hello, sizeof(d->hello), MSG_NOSIGNAL) != sizeof(d->hello))
		return pr_fail_errno("can't greet the restore");
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->csk, &ev))
		return pr_fail_errno("epoll_ctl");
	return 0;
}

/* ------------------------------------------------------------------ the loop */

static void reap_gone(struct lazy_daemon *d)
{
	for (struct lazy_task **p = &d->tasks; *p;) {
		struct lazy_task *t = *p;

		if (!t->gone) {
			p = &t->next;
			continue;
		}
		*p = t->next;
		if (d->cursor == t)
			d->cursor = t->next;
		task_free(t);
	}
}

static bool work_left(const struct lazy_daemon *d, bool *deferred)
{
	bool left = false;

	*deferred = false;
	for (const struct lazy_task *t = d->tasks; t; t = t->next) {
		left |= t->nr > 0;
		*deferred |= t->nr_def > 0;
	}
	return left || *deferred;
}

/* Process-wide: set by the handler of SIGTERM, SIGINT and SIGHUP, which stop the daemon. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static int serve(struct lazy_daemon *d)
{
	for (;;) {
		if (stop_signal)
			return pr_fail(-EINTR, "stopped by signal %d\n", stop_signal);
		struct epoll_event evs[16];
		bool deferred, left = work_left(d, &deferred);
		int timeout = -1, n, ret = 0;

		if (d->restore_done && !left)
			return 0;
		if (deferred || (d->restore_done && left))
			timeout = d->again ? 1 : 0;
		d->again = false;
		n = epoll_wait(d->epfd, evs, ARRAY_SIZE(evs), timeout);
		if (n < 0 && errno != EINTR)
			return pr_fail_errno("epoll_wait");
		for (int i = 0; i < n && !ret; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->lsk)
				ret = accept_restore(d);
			else if (p == &d->csk)
				ret = read_restore(d);
			else
				ret = serve_task(d, p);
		}
		for (struct lazy_task *t = d->tasks; t && !ret; t = t->next)
			ret = retry_deferred(d, t);
		if (!ret && n == 0 && d->restore_done)
			ret = bg_step(d);
		reap_gone(d);
		if (ret)
			return ret;
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int listen_here(struct lazy_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->lsk };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", d->img_dfd, LAZY_SK_NAME);
	if (unlinkat(d->img_dfd, LAZY_SK_NAME, 0) && errno != ENOENT)
		return pr_fail_errno("can't remove the old %s", LAZY_SK_NAME);
	d->lsk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->lsk < 0)
		return pr_fail_errno("socket");
	if (bind(d->lsk, (struct sockaddr *)&sa, sizeof(sa)) || listen(d->lsk, 1))
		return pr_fail_errno("can't listen on %s in the images dir", LAZY_SK_NAME);
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->lsk, &ev))
		return pr_fail_errno("epoll_ctl");
	pr_info("waiting for a restore on %s\n", LAZY_SK_NAME);
	return 0;
}

/*
 * The pages images against the manifest (image-check.c), before anything
 * listens: the restore, told so in the hello, then checks only the rest, and
 * the tree does not wait for a read of all its memory.
 */
static int check_pages(struct lazy_daemon *d)
{
	struct cr_img *img = open_image_at(d->img_dfd, CR_FD_INVENTORY, O_RSTR);
	InventoryEntry *ie;
	uint64_t size;
	uint32_t crc;
	int ret;

	if (!img)
		return pr_fail_errno("can't open inventory.img");
	if (img_is_empty(img)) {
		close_image(img);
		return pr_fail(-ENOENT, "no inventory.img: not a complete dump\n");
	}
	ret = pb_read_one(img, (void **)&ie, PB_INVENTORY);
	close_image(img);
	if (ret)
		return ret;
	d->hello = (struct lazy_msg){ .type = LAZY_MSG_HELLO, .nr_runs = d->remote ? LAZY_HELLO_REMOTE : 0 };
	if (ie->has_pages_on_page_server && ie->pages_on_page_server) {
		/* a page server wrote them: the manifest has no CRC of them, the restore checks what it can */
		pr_warn("the pages came from a page server: not in the manifest, not checked here\n");
	} else if (!image_manifest_id(d->img_dfd, &size, &crc)) {
		struct image_check_how how;

		image_check_how_of(ie, IMG_CHECK_PAGES_ONLY, &how);
		ret = check_images(d->img_dfd, &how);
		d->hello.pid = !ret;
		d->hello.manifest_crc = crc;	/* the restore finds the same manifest by it */
	} else {
		pr_warn("the images have no manifest (written by CRIU?): the pages images are not checked\n");
	}
	pb_free(ie, PB_INVENTORY);
	return ret;
}

/* -d: the parent returns once the socket listens, with the daemon's pid in the pidfile. */
static int detach(const char *pidfile)
{
	pid_t pid = fork();

	if (pid < 0)
		return pr_fail_errno("fork");
	if (pid > 0) {
		if (pidfile) {
			FILE *f = fopen(pidfile, "we");

			if (!f || fprintf(f, "%d", pid) < 0 || fclose(f)) {
				kill(pid, SIGKILL);
				return pr_fail(-EIO, "can't write the pidfile %s\n", pidfile);
			}
		}
		return 1;
	}
	setsid();
	/* the caller may wait for the end of our stdout: let go of it (the log is a file or it is lost) */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (fd != log_get_fd())
				dup2(null, fd);
		close(null);
	}
	return 0;
}

/* --page-server: the pages left on the source come from there, connected before the restore can come. */
static int open_source(struct lazy_daemon *d, const struct ps_conf *ps)
{
	if (ps) {
		d->remote = true;
		return page_source_remote(ps, &d->src);
	}
	d->src = page_source_local();
	return d->src ? 0 : -ENOMEM;
}

int cr_lazy_pages(int img_dfd, bool detached, const char *pidfile, const struct ps_conf *ps)
{
	struct lazy_daemon d = { .img_dfd = img_dfd, .lsk = -1, .csk = -1 };
	int ret;

	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0)
		return pr_fail_errno("epoll_create1");
	d.buf = xmalloc(BG_CHUNK);
	ret = d.buf ? open_source(&d, ps) : -ENOMEM;
	if (!ret)
		ret = check_pages(&d);
	if (!ret)
		ret = listen_here(&d);
	if (!ret && detached)
		ret = detach(pidfile);
	if (ret == 1) {
		/* the parent */
		close(d.lsk);
		d.src->ops->destroy(d.src);
		free(d.buf);
		close(d.epfd);
		return 0;
	}
	if (!ret) {
		struct sigaction sa = { .sa_handler = on_stop };

		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		/* --status-fd: the restore may come now (upstream's zdtm.py waits for it) */
		ps_status_ready();
		ret = serve(&d);
	}
	/*
	 * Gone with pages still to come: once their userfaultfd is closed the
	 * tasks would read zeroes there. They are killed instead (but a child
	 * forked in the lazy phase: task_fail()).
	 */
	for (struct lazy_task *t = d.tasks; ret && t; t = t->next)
		if (!t->gone && t->nr)
			task_fail(t, ret, "the daemon stops before all its pages are in");
	if (d.src && d.src->ops->end) {
		int r = d.src->ops->end(d.src, !ret);

		ret = ret ?: r;
	}
	if (!ret) {
		pr_info("all pages in, %ld ms after the tree ran: %" PRIu64 " pages on %lu faults, %" PRIu64
			" in the background, %" PRIu64 " zero pages; %lu forks, %lu mremaps, %lu removes, %lu unmaps\n",
			ms_since(&d.t_done), d.st.fault_pages, d.st.faults, d.st.bg_pages, d.st.zero_pages, d.st.forks,
			d.st.remaps, d.st.removes, d.st.unmaps);
	}
	while (d.tasks) {
		struct lazy_task *t = d.tasks;

		d.tasks = t->next;
		task_free(t);
	}
	if (d.lsk >= 0) {
		close(d.lsk);
		unlinkat(img_dfd, LAZY_SK_NAME, 0);
	}
	if (d.csk >= 0)
		close(d.csk);
	if (d.src)
		d.src->ops->destroy(d.src);
	free(d.buf);
	close(d.epfd);
	return ret;
}
