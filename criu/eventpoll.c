// SPDX-License-Identifier: GPL-2.0
/*
 * epoll: the interest list, from fdinfo lines
 *   "tfd: N events: X data: Y pos: P ino: I sdev: D".
 * The kernel keys an item by (file, fd number in the task that added it), so
 * a restored item must be added with that fd number naming that file.
 *
 * Dump: for each item, find the watched file with kcmp(KCMP_EPOLL_TFD):
 * normally it is still the task's fd N; if fd N is closed or holds another
 * file now, any other fd of the file in the task, or in another task of the
 * tree, will do. The watched file is dumped then (it may come later in fd
 * order) and its files.img id kept in the item (target_id, our field). A
 * watched file that no task of the tree holds any more can't be restored: the
 * dump stops with an error.
 *
 * Restore: post_install, in a restored task, once all its fds are in place:
 * EPOLL_CTL_ADD of every item with the task's fd N when that fd is the watched
 * file (kcmp against a copy of the controller's); otherwise the file is put at
 * number N just for the epoll_ctl and whatever was there is put back.
 * A watched epoll has its own list filled first (nested epolls: inner first);
 * adds are idempotent (EEXIST is fine) since that epoll's own post_install
 * may run in another task.
 * An epoll no task holds (in flight in a unix socket's queue) is filled by
 * the controller before the tree runs (late).
 * Readiness is the kernel's to recompute; an edge-triggered item whose file is
 * ready reports one edge after restore even if that edge was already consumed.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "anon-fd.h"
#include "common.h"
#include "file-ext.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"
#include "restore.h"

#include "fdinfo.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "epoll: "

#ifndef KCMP_EPOLL_TFD
#define KCMP_EPOLL_TFD 7
#endif

struct kcmp_epoll_slot {
	uint32_t efd, tfd, toff;
};

static bool eventpoll_detect(const struct fd_parms *p)
{
	return anon_link_is(p, "anon_inode:[eventpoll]");
}

/* ---------- dump ---------- */

int eventpoll_parse_tfd(const char *val, EventpollTfdEntry *e)
{
	unsigned long long data, pos, ino;
	unsigned int events, dev;
	int tfd;

	if (sscanf(val, "%d events: %x data: %llx pos:%llu ino:%llx sdev:%x", &tfd, &events, &data, &pos, &ino,
		   &dev) != 6 || tfd < 0)
		return -EINVAL;
	e->tfd = tfd;
	e->events = events;
	e->data = data;
	e->has_dev = e->has_inode = e->has_pos = true;
	e->dev = dev;
	e->inode = ino;
	e->pos = pos;
	return 0;
}

/* Is fd of task pid the file of the epoll item slot (of the epoll's owner)? */
static bool is_target(pid_t pid, int fd, pid_t owner, struct kcmp_epoll_slot *slot)
{
	return sys_kcmp(pid, owner, KCMP_EPOLL_TFD, fd, (unsigned long)slot) == 0;
}

/* An fd of task t that is the watched file, or -ENOENT. */
static int find_in_task(struct pstree_item *t, pid_t owner, struct kcmp_epoll_slot *slot)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd;

	if (t->state == TASK_DEAD)
		return -ENOENT;
	dfd = openat(t->proc_dfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && is_target(t->pid, fd, owner, slot))
			return fd;
	}
	return -ENOENT;
}

/*
 * A task of the tree and an fd of it that is the watched file: normally the
 * epoll's owner at the item's number; else any fd of the owner; else any fd
 * of another task (the owner closed it, a child still has it).
 */
static int find_target(struct dump_files_ctx *ctx, const struct fd_parms *p, struct kcmp_epoll_slot *slot,
		       struct pstree_item **ret_task)
{
	struct pstree_item *t;
	int fd;

	*ret_task = p->item;
	if (is_target(p->item->pid, slot->tfd, p->item->pid, slot))
		return slot->tfd;
	fd = find_in_task(p->item, p->item->pid, slot);
	if (fd >= 0)
		return fd;
	for_each_pstree_item(ctx->tree, t) {
		if (t == p->item)
			continue;
		fd = find_in_task(t, p->item->pid, slot);
		if (fd >= 0) {
			*ret_task = t;
			return fd;
		}
	}
	return -ENOENT;
}

/* e is parsed; toff: how many items before it have the same fd number (kcmp wants that rank). */
static int dump_one_item(struct dump_files_ctx *ctx, const struct fd_parms *p, uint32_t toff,
			 EventpollTfdEntry *e)
{
	struct kcmp_epoll_slot slot = { .efd = p->fd, .tfd = e->tfd, .toff = toff };
	struct pstree_item *t;
	int ret, fd;

	fd = find_target(ctx, p, &slot, &t);
	if (fd < 0)
		return pr_fail(-EOPNOTSUPP,
			       "epoll fd %d of task %d watches a file added as fd %u that no task of the tree has "
			       "open any more; criu can't restore such an item\n",
			       p->fd, p->item->pid, e->tfd);
	if (t == p->item && fd == p->fd)
		return pr_fail(-EINVAL, "epoll fd %d of task %d watches itself\n", p->fd, p->item->pid);
	ret = dump_task_fd_object(ctx, t, fd, &e->target_id);
	if (ret)
		return ret;
	e->has_target_id = true;
	if (t == p->item && fd == (int)e->tfd)
		pr_debug("fd %d of task %d: item fd %u events %#x data %#llx -> file %u\n", p->fd, p->item->pid,
			 e->tfd, e->events, (unsigned long long)e->data, e->target_id);
	else
		pr_debug("fd %d of task %d: item fd %u events %#x data %#llx -> file %u, now fd %d of task %d\n",
			 p->fd, p->item->pid, e->tfd, e->events, (unsigned long long)e->data, e->target_id, fd, t->pid);
	return 0;
}

static int eventpoll_dump(struct dump_files_ctx *ctx, uint32_t id, const struct fd_parms *p)
{
	EventpollFileEntry efe = EVENTPOLL_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	_cleanup_free_ EventpollTfdEntry *items = NULL;
	_cleanup_free_ EventpollTfdEntry **ptrs = NULL;
	int n = 0, ret = 0;
	FownEntry fown;

	items = xzalloc(sizeof(*items) * (p->fdinfo.nr_extra + 1));
	ptrs = xzalloc(sizeof(*ptrs) * (p->fdinfo.nr_extra + 1));
	if (!items || !ptrs)
		return -ENOMEM;
	for (int i = 0; i < p->fdinfo.nr_extra && !ret; i++) {
		const struct fdinfo_kv *kv = &p->fdinfo.extra[i];
		uint32_t toff = 0;

		if (strcmp(kv->key, "tfd"))
			continue;
		eventpoll_tfd_entry__init(&items[n]);
		items[n].id = id;
		if (eventpoll_parse_tfd(kv->val, &items[n]))
			return pr_fail(-EINVAL, "fd %d of task %d: can't parse epoll item 'tfd: %s'\n", p->fd,
				       p->item->pid, kv->val);
		for (int j = 0; j < n; j++)
			toff += items[j].tfd == items[n].tfd;
		ret = dump_one_item(ctx, p, toff, &items[n]);
		ptrs[n] = &items[n];
		n++;
	}
	if (ret)
		return ret;

	ret = fill_fown(ctx, p, &fown);
	if (ret)
		return ret;
	efe.id = id;
	efe.flags = p->flags;
	efe.fown = &fown;
	efe.n_tfd = n;
	efe.tfd = ptrs;
	pr_debug("fd %d of task %d: %d items\n", p->fd, p->item->pid, n);

	fe.type = FD_TYPES__EVENTPOLL;
	fe.id = id;
	fe.epfd = &efe;
	return write_file_entry(ctx, &fe);
}

/* ---------- restore ---------- */

/*
 * One "filled" flag per epoll, in memory shared by the restored tasks (they
 * are forked after collect): an epoll's list is filled exactly once, by the
 * first task to claim it, either for itself or as a nested target.
 */
#define CLAIMS_PER_CHUNK (PAGE_SIZE / sizeof(int))

/* the chunk claims are taken from, in the ctx (rst_files_state()) */
struct epoll_rst {
	int *claim_chunk;
	size_t claim_used;
};
static const char epoll_rst_key;

static int *new_claim(struct rst_ctx *ctx)
{
	struct epoll_rst *st = rst_files_state(ctx, &epoll_rst_key, sizeof(struct epoll_rst));

	if (!st)
		return NULL;
	if (!st->claim_chunk || st->claim_used == CLAIMS_PER_CHUNK) {
		void *m = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		st->claim_chunk = m;
		st->claim_used = 0;
	}
	return &st->claim_chunk[st->claim_used++];
}

static bool claim(struct file_desc *d)
{
	return !__atomic_exchange_n((int *)d->priv, 1, __ATOMIC_SEQ_CST);
}

static int eventpoll_collect(struct rst_ctx *ctx, struct file_desc *d)
{
	EventpollFileEntry *efe = d->fe->epfd;

	if (!efe)
		return pr_fail(-EINVAL, "files.img: epoll %u has no eventpoll entry\n", d->id);
	for (size_t i = 0; i < efe->n_tfd; i++)
		if (efe->tfd[i]->has_target_id && efe->tfd[i]->target_id == d->id)
			return pr_fail(-EINVAL, "files.img: epoll %u watches itself\n", d->id);
	d->priv = new_claim(ctx);
	if (!d->priv)
		return pr_fail(-ENOMEM, "can't map shared memory for epoll %u\n", d->id);
	return 0;
}

static int eventpoll_open(struct rst_ctx *ctx, struct file_desc *d, int *ret_fd)
{
	EventpollFileEntry *efe = d->fe->epfd;
	_cleanup_close_ int fd = epoll_create1(EPOLL_CLOEXEC);
	int ret;

	if (fd < 0)
		return pr_fail_errno("can't create epoll %u", d->id);
	ret = anon_fd_restore_flags(fd, efe->flags, efe->fown);
	if (ret)
		return pr_fail(ret, "epoll %u: can't restore flags/owner: %s\n", d->id, strerror(-ret));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* State of one post_install call in a task. */
struct ep_ctx {
	struct rst_ctx *rst;	/* the task's copy: its ctl_pidfd is the stub's service fd of criu */
	int depth;
};

/* A new fd (any number) of the controller's copy of desc t. */
static int fetch(struct ep_ctx *c, struct file_desc *t)
{
	int cfd = file_desc_ctl_fd(c->rst, t), fd;

	if (cfd < 0)
		return -EBADF;
	/* criu's pidfd: in a pid namespace of its own, a task can't name criu by pid */
	fd = sys_pidfd_getfd(c->rst->ctl_pidfd, cfd, 0);
	return fd < 0 ? -errno : fd;
}

static int add_item(int epfd, int tfd, const EventpollTfdEntry *e)
{
	struct epoll_event ev = { .events = e->events, .data.u64 = e->data };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Add e with the number e->tfd naming file t for the call: whatever holds that number is put back after. */
static int add_item_placed(struct ep_ctx *c, int epfd, struct file_desc *t, const EventpollTfdEntry *e)
{
	int tfd, saved = -1, saved_fl, tmp, ret = 0;

	if (e->tfd >= (uint32_t)c->rst->sfd_base)
		return -EBUSY;
	tfd = e->tfd;
	saved_fl = fcntl(tfd, F_GETFD);
	tmp = fetch(c, t);
	if (tmp < 0)
		return tmp;
	if (saved_fl >= 0) {
		saved = fcntl(tfd, F_DUPFD_CLOEXEC, 0);
		if (saved < 0) {
			ret = -errno;
			close(tmp);
			return ret;
		}
	}
	if (tmp != tfd) {	/* the copy may have landed on the free number itself */
		if (dup3(tmp, tfd, O_CLOEXEC) < 0)
			ret = -errno;
		close(tmp);
	}
	if (!ret)	/* the epoll itself may be what sat at that number */
		ret = add_item(epfd == tfd ? saved : epfd, tfd, e);
	if (saved >= 0) {
		if (dup3(saved, tfd, (saved_fl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 && !ret)
			ret = -errno;
		close(saved);
	} else {
		close(tfd);
	}
	return ret;
}

/* Is our fd the controller's file t? (kcmp within this task: criu's pid may not be visible here) */
static bool holds_file(struct ep_ctx *c, uint32_t fd, struct file_desc *t)
{
	int tmp, ret;

	if (fcntl(fd, F_GETFD) < 0)
		return false;
	tmp = fetch(c, t);
	if (tmp < 0)
		return false;
	ret = sys_kcmp(getpid(), getpid(), KCMP_FILE, fd, tmp);
	close(tmp);
	return ret == 0;
}

static int fill_epoll(struct ep_ctx *c, struct file_desc *d, int epfd);

static int restore_item(struct ep_ctx *c, struct file_desc *d, int epfd, const EventpollTfdEntry *e)
{
	struct file_desc *t;
	int cfd, ret;

	if (!e->has_target_id) {
		/* a CRIU image: the task's fd number is all there is */
		ret = add_item(epfd, e->tfd, e);
		return ret ? pr_fail(ret, "epoll %u: can't add fd %u: %s\n", d->id, e->tfd, strerror(-ret)) : 0;
	}
	t = find_file_desc(c->rst, e->target_id);
	cfd = t ? file_desc_ctl_fd(c->rst, t) : -1;
	if (cfd < 0)
		return pr_fail(-EINVAL, "epoll %u watches file %u, which was not restored\n", d->id, e->target_id);
	if (t->type == &eventpoll_file_type) {
		int inner = fetch(c, t);

		if (inner < 0)
			return pr_fail(inner, "epoll %u: can't get epoll %u from criu: %s\n", d->id, t->id,
				       strerror(-inner));
		ret = fill_epoll(c, t, inner);
		close(inner);
		if (ret)
			return ret;
	}
	if (holds_file(c, e->tfd, t))
		ret = add_item(epfd, e->tfd, e);
	else
		ret = add_item_placed(c, epfd, t, e);
	if (ret)
		return pr_fail(ret, "epoll %u: can't add file %u as fd %u (events %#x): %s\n", d->id, t->id, e->tfd,
			       e->events, strerror(-ret));
	return 0;
}

/* A one-shot item that fired and was not re-armed: only its private bits are left. */
static bool is_disabled_oneshot(const EventpollTfdEntry *e)
{
	return (e->events & EPOLLONESHOT) && !(e->events & ~(EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE));
}

#define EP_ANY_EVENT                                                                                    \
	(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | \
	 EPOLLMSG)

/*
 * A disabled one-shot item can't be added as such: the kernel arms every
 * added item, at least for EPOLLERR|EPOLLHUP. If its file is ready for
 * something now, add it armed for anything so that it fires at once (the
 * epoll_wait in fill_epoll() takes that event, which disables it again, as
 * dumped); if not, add it armed for ERR/HUP only, the closest the kernel allows.
 */
static int restore_disabled_oneshot(struct ep_ctx *c, struct file_desc *d, int epfd, const EventpollTfdEntry *e,
				    bool *fired)
{
	EventpollTfdEntry tmp = *e;
	struct file_desc *t = e->has_target_id ? find_file_desc(c->rst, e->target_id) : NULL;
	struct pollfd pfd = { .events = EP_ANY_EVENT };

	*fired = false;
	/* a CRIU image names no file: the target is the task's fd tfd (we run in that task) */
	pfd.fd = e->has_target_id ? (t ? fetch(c, t) : -1) : (int)e->tfd;
	if (pfd.fd >= 0) {
		if (poll(&pfd, 1, 0) == 1 && pfd.revents) {
			tmp.events |= EP_ANY_EVENT;
			*fired = true;
		}
		if (e->has_target_id)
			close(pfd.fd);
	}
	return restore_item(c, d, epfd, &tmp);
}

/*
 * Disabled one-shot items go in first, into the still empty epoll, so that
 * the epoll_wait that disables them takes nothing else.
 */
static int fill_epoll(struct ep_ctx *c, struct file_desc *d, int epfd)
{
	EventpollFileEntry *efe = d->fe->epfd;
	struct epoll_event evs[64];
	int ret = 0, n, nr_disabled = 0;

	if (!claim(d))
		return 0;
	if (++c->depth > 8)
		return pr_fail(-ELOOP, "epoll %u: epolls nested too deep\n", d->id);
	for (size_t i = 0; i < efe->n_tfd && !ret; i++) {
		bool fired;

		if (is_disabled_oneshot(efe->tfd[i])) {
			ret = restore_disabled_oneshot(c, d, epfd, efe->tfd[i], &fired);
			nr_disabled += fired;
		}
	}
	while (!ret && nr_disabled && (n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), 0)) > 0)
		nr_disabled -= min(n, nr_disabled);
	for (size_t i = 0; i < efe->n_tfd && !ret; i++)
		if (!is_disabled_oneshot(efe->tfd[i]))
			ret = restore_item(c, d, epfd, efe->tfd[i]);
	c->depth--;
	return ret;
}

static int eventpoll_post_install(struct rst_ctx *ctx, struct file_desc *d, int fd)
{
	struct ep_ctx c = { .rst = ctx };
	int ret = fill_epoll(&c, d, fd);

	if (!ret)
		pr_debug("epoll %u: %zu items in place (fd %d of task %d)\n", d->id, d->fe->epfd->n_tfd, fd,
			 getpid());
	return ret;
}

/*
 * In the controller, before the tree runs: an epoll no task holds (one in
 * flight in a unix socket's queue) had no post_install; its items are added
 * here, each with its fd number naming its file for the call, in criu's own
 * fd table (the kernel keeps the item while the watched file lives).
 */
static int eventpoll_late(struct rst_ctx *ctx, struct file_desc *d, int ctl_fd)
{
	EventpollFileEntry *efe = d->fe->epfd;
	struct ep_ctx c = { .rst = ctx };

	if (__atomic_load_n((int *)d->priv, __ATOMIC_SEQ_CST))
		return 0;
	for (size_t i = 0; i < efe->n_tfd; i++)
		if (!efe->tfd[i]->has_target_id)
			return pr_fail(-EOPNOTSUPP,
				       "epoll %u is held by no task and its items name fd numbers only (a CRIU dump): "
				       "criu can't tell their files\n",
				       d->id);
	return fill_epoll(&c, d, ctl_fd);
}

const struct file_type eventpoll_file_type = {
	.name = "eventpoll",
	.type = FD_TYPES__EVENTPOLL,
	.detect = eventpoll_detect,
	.dump = eventpoll_dump,
	.collect = eventpoll_collect,
	.open = eventpoll_open,
	.post_install = eventpoll_post_install,
	.late = eventpoll_late,
	.stage = FILE_OPEN_EARLY,
};
