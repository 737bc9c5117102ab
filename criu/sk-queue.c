// SPDX-License-Identifier: GPL-2.0
/*
 * Data queued in sockets (sk-queues.img).
 *
 * Dump reads a receive queue without taking anything out of it: with
 * SO_PEEK_OFF set, every MSG_PEEK read starts where the previous one ended,
 * so a loop of peeks walks the whole queue (datagrams one message at a time);
 * the task's own peek offset is put back afterwards. criu's copy of the
 * socket (pidfd_getfd) is the task's very struct file, so this is the task's
 * queue. Restore sends the messages again, in order, from the sending side.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/un.h>

#include "common.h"
#include "files.h"
#include "rst-ctx.h"
#include "image.h"
#include "protobuf.h"
#include "sockets.h"
#include "syscalls.h"

#include "sk-packet.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-queue: "

#define PEEK_BUF_MIN (256u << 10)
#define PEEK_BUF_MAX (64u << 20)
#define QUEUE_MSGS_MAX (1u << 20)
/* room for the largest SCM_RIGHTS (253 fds) and credentials */
#define CMSG_BUF_SIZE (CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred)) + 64)

/* ---------- dump ---------- */

#define SCM_FDS_MAX 253	/* the kernel's limit of fds in one message (SCM_MAX_FD) */

/*
 * criu itself, as a task whose fds can be dumped like a task's: the fds a
 * peek received (SCM_RIGHTS) are dumped through it. They stay open until
 * the dump ends, so a task's fd of the same file, dumped later, is recognised
 * (kcmp) as the same object.
 */
static const char self_item_key;

static void self_item_fini(void *state)
{
	struct pstree_item *self = state;

	if (!self->pid)
		return;
	close(self->proc_dfd);
	close(self->pidfd);
}

/* criu as a task, in the dump ctx (dump_files_state()); NULL, logged, when it can't be had. */
static struct pstree_item *self_item(struct dump_files_ctx *ctx)
{
	struct pstree_item *self = dump_files_state(ctx, &self_item_key, sizeof(*self), self_item_fini);
	int dfd, pfd;

	if (!self) {
		pr_err("no memory for criu's own /proc dir and pidfd\n");
		return NULL;
	}
	if (self->pid)
		return self;
	dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfd = sys_pidfd_open(getpid(), 0);
	if (dfd < 0 || pfd < 0) {
		pr_perror("can't open /proc/self or a pidfd of criu");
		if (dfd >= 0)
			close(dfd);
		if (pfd >= 0)
			close(pfd);
		return NULL;
	}
	*self = (struct pstree_item){ .pid = getpid(), .proc_dfd = dfd, .pidfd = pfd };
	return self;
}

/* Take the fds a peek received (SCM_RIGHTS) into fds[]; returns their number. */
static int take_passed_fds(struct msghdr *mh, int *fds)
{
	int nr = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (nr == SCM_FDS_MAX) {
				close(fd);
				continue;
			}
			fds[nr++] = fd;
		}
	}
	return nr;
}

/* Dump the files passed with one message; ids[] gets their files.img ids. */
static int dump_passed_fds(struct dump_files_ctx *ctx, const int *fds, int nr, uint32_t *ids, const char *who)
{
	struct pstree_item *self = self_item(ctx);
	int ret = self ? 0 : -EIO;

	for (int i = 0; i < nr && !ret; i++) {
		pr_info("%s: a file passed in a queued message (SCM_RIGHTS), criu's fd %d\n", who, fds[i]);
		ret = dump_task_fd_object(ctx, self, fds[i], &ids[i]);
		if (ret)
			pr_err("%s: can't dump a file queued in the socket (SCM_RIGHTS in flight)\n", who);
	}
	return ret;
}

/* One message peeked from a queue, with the files passed with it (criu's fds). */
struct sk_msg {
	struct sk_msg *next;
	struct sockaddr_un addr;	/* a datagram's sender, addr_len 0 if it has none */
	socklen_t addr_len;
	int nr_fds;
	int *fds;
	bool fds_held;			/* dumped: the fds stay open until criu exits */
	uint32_t len;
	char data[];
};

struct sk_queue_snap {
	struct sk_msg *head, **tail;
	unsigned int nr;
	uint64_t bytes;
	bool files;
};

static int write_packet(struct dump_files_ctx *ctx, uint32_t id, const struct sk_msg *m,
			uint32_t *files)
{
	SkPacketEntry pe = SK_PACKET_ENTRY__INIT;
	struct cr_img *img;
	ScmEntry scm = SCM_ENTRY__INIT, *scms[1] = { &scm };
	int ret;

	img = dump_files_img(ctx, CR_FD_SK_QUEUES);
	if (!img)
		return -EIO;
	pe.id_for = id;
	pe.length = m->len;
	if (m->addr_len > offsetof(struct sockaddr_un, sun_path)) {
		pe.has_addr = true;
		pe.addr.len = m->addr_len;
		pe.addr.data = (uint8_t *)&m->addr;
	}
	if (m->nr_fds) {
		scm.type = SCM_RIGHTS;
		scm.n_rights = m->nr_fds;
		scm.rights = files;
		pe.n_scm = 1;
		pe.scm = scms;
	}
	ret = pb_write_one(img, &pe, PB_SK_QUEUES);
	if (!ret && m->len)
		ret = write_img_buf(img, m->data, m->len);
	return ret;
}

struct peek_state {
	int lfd, type;
	bool rcv_shut;
	char *buf;
	size_t size;
	int offset;		/* our peek offset: bytes walked so far */
	int old_off;		/* the task's own SO_PEEK_OFF */
	struct sockaddr_un addr;	/* the sender of the datagram just peeked */
	socklen_t addr_len;
	int nr_fds;		/* fds passed with the message just peeked */
	int fds[SCM_FDS_MAX];
	char cbuf[CMSG_BUF_SIZE] __attribute__((aligned(__alignof__(struct cmsghdr))));
};

static void close_fds(struct peek_state *ps)
{
	for (int i = 0; i < ps->nr_fds; i++)
		close(ps->fds[i]);
	ps->nr_fds = 0;
}

/*
 * One peek at the queue: >0 bytes, 0 for an empty datagram, -EAGAIN at the
 * end of the queue, -ENODATA at the end of a stream or of a socket shut for
 * reading, other -errno on errors.
 */
static int peek_one(struct peek_state *ps, const char *who)
{
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	for (;;) {
		iov = (struct iovec){ .iov_base = ps->buf, .iov_len = ps->size };
		mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ps->cbuf,
				      .msg_controllen = sizeof(ps->cbuf) };
		if (ps->type == SOCK_DGRAM) {
			mh.msg_name = &ps->addr;
			mh.msg_namelen = sizeof(ps->addr);
		}
		/* MSG_TRUNC: a datagram's real length, even when it does not fit */
		n = recvmsg(ps->lfd, &mh,
			    MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (ps->type == SOCK_STREAM ? 0 : MSG_TRUNC));
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		ps->addr_len = ps->type == SOCK_DGRAM ? min(mh.msg_namelen, (socklen_t)sizeof(ps->addr)) : 0;
		ps->nr_fds = take_passed_fds(&mh, ps->fds);
		if (mh.msg_flags & MSG_CTRUNC) {
			close_fds(ps);
			return pr_fail(-EOPNOTSUPP, "%s: a queued message carries more control data than criu reads\n",
				       who);
		}
		if (ps->type == SOCK_STREAM || (!n && ps->rcv_shut))
			return n ? n : -ENODATA;
		if (!(mh.msg_flags & MSG_TRUNC) && (size_t)n <= ps->size)
			return n;
		/* a datagram larger than the buffer: walk back and peek it again whole */
		close_fds(ps);
		if ((size_t)n > PEEK_BUF_MAX)
			return pr_fail(-EMSGSIZE, "%s: a queued message of %zd bytes is too big\n", who, n);
		free(ps->buf);
		ps->size = n;
		ps->buf = xmalloc(ps->size);
		if (!ps->buf)
			return -ENOMEM;
		if (setsockopt(ps->lfd, SOL_SOCKET, SO_PEEK_OFF, &ps->offset, sizeof(ps->offset)))
			return -errno;
	}
}

/* Keep the message just peeked (n bytes) in the snapshot; its fds move there. */
static int keep_msg(struct sk_queue_snap *q, struct peek_state *ps, int n)
{
	struct sk_msg *m = xzalloc(sizeof(*m) + n);

	if (!m)
		return -ENOMEM;
	m->len = n;
	memcpy(m->data, ps->buf, n);
	m->addr = ps->addr;
	m->addr_len = ps->addr_len;
	if (ps->nr_fds) {
		m->fds = xmalloc(ps->nr_fds * sizeof(int));
		if (!m->fds) {
			free(m);
			return -ENOMEM;
		}
		memcpy(m->fds, ps->fds, ps->nr_fds * sizeof(int));
		m->nr_fds = ps->nr_fds;
		ps->nr_fds = 0;
		q->files = true;
	}
	*q->tail = m;
	q->tail = &m->next;
	q->nr++;
	q->bytes += n;
	return 0;
}

static int walk_queue(struct sk_queue_snap *q, struct peek_state *ps, const char *who)
{
	int n;

	for (;;) {
		if (q->nr == QUEUE_MSGS_MAX)
			return pr_fail(-E2BIG, "%s: more than %u messages queued\n", who, QUEUE_MSGS_MAX);
		n = peek_one(ps, who);
		if (n == -EAGAIN || n == -ENODATA)
			return 0;
		if (n < 0)
			return n == -EOPNOTSUPP || n == -EMSGSIZE || n == -ENOMEM
				       ? n
				       : pr_fail(n, "%s: can't peek at the queued data: %s\n", who, strerror(-n));
		ps->offset += n;
		n = keep_msg(q, ps, n);
		if (n) {
			close_fds(ps);
			return n;
		}
	}
}

/* Start walking the queue of lfd from its head; NULL on failure (logged). */
static struct peek_state *peek_begin(int lfd, int type, bool rcv_shut, const char *who, int *ret_err)
{
	struct peek_state *ps = xzalloc(sizeof(*ps));
	socklen_t len = sizeof(int);
	int zero = 0;

	*ret_err = -ENOMEM;
	if (!ps)
		return NULL;
	ps->lfd = lfd;
	ps->type = type;
	ps->rcv_shut = rcv_shut;
	ps->size = PEEK_BUF_MIN;
	ps->old_off = -1;
	ps->buf = xmalloc(ps->size);
	if (!ps->buf) {
		free(ps);
		return NULL;
	}
	if (getsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &ps->old_off, &len)) {
		*ret_err = pr_fail_errno("%s: can't read SO_PEEK_OFF", who);
	} else if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		*ret_err = pr_fail_errno("%s: can't set SO_PEEK_OFF", who);
	} else {
		*ret_err = 0;
		return ps;
	}
	free(ps->buf);
	free(ps);
	return NULL;
}

/* Put the task's own peek offset back, whatever happened. */
static int peek_end(struct peek_state *ps, int ret, const char *who)
{
	if (setsockopt(ps->lfd, SOL_SOCKET, SO_PEEK_OFF, &ps->old_off, sizeof(ps->old_off)) && !ret)
		ret = pr_fail_errno("%s: can't put SO_PEEK_OFF back to %d", who, ps->old_off);
	free(ps->buf);
	free(ps);
	return ret;
}

void sk_queue_snap_free(struct sk_queue_snap *q)
{
	if (!q)
		return;
	while (q->head) {
		struct sk_msg *m = q->head;

		q->head = m->next;
		for (int i = 0; i < m->nr_fds && !m->fds_held; i++)
			close(m->fds[i]);
		free(m->fds);
		free(m);
	}
	free(q);
}

int sk_queue_snap(int lfd, int type, bool rcv_shut, const char *who, struct sk_queue_snap **ret)
{
	struct sk_queue_snap *q = xzalloc(sizeof(*q));
	struct peek_state *ps;
	int err;

	if (!q)
		return -ENOMEM;
	q->tail = &q->head;
	ps = peek_begin(lfd, type, rcv_shut, who, &err);
	if (!ps) {
		free(q);
		return err;
	}
	err = peek_end(ps, walk_queue(q, ps, who), who);
	if (err) {
		sk_queue_snap_free(q);
		return err;
	}
	if (q->nr)
		pr_debug("%s: %u messages, %llu bytes queued\n", who, q->nr, (unsigned long long)q->bytes);
	*ret = q;
	return 0;
}

uint64_t sk_queue_snap_bytes(const struct sk_queue_snap *q)
{
	return q->bytes;
}

int sk_queue_snap_files(struct sk_queue_snap *q, int (*fn)(int fd, void *arg), void *arg)
{
	for (struct sk_msg *m = q->head; m; m = m->next)
		for (int i = 0; i < m->nr_fds; i++) {
			int ret = fn(m->fds[i], arg);

			if (ret)
				return ret;
		}
	return 0;
}

int sk_queue_snap_dump(struct dump_files_ctx *ctx, struct sk_queue_snap *q, uint32_t id,
		       const char *who)
{
	uint32_t ids[SCM_FDS_MAX];
	int ret;

	for (struct sk_msg *m = q->head; m; m = m->next) {
		if (m->nr_fds) {
			m->fds_held = true;
			if (dump_passed_fds(ctx, m->fds, m->nr_fds, ids, who))
				return -EOPNOTSUPP;
		}
		ret = write_packet(ctx, id, m, ids);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---------- restore ---------- */

/* The files an image packet passes (SCM_RIGHTS); other control messages are refused. */
static int packet_files(const SkPacketEntry *pe, struct sk_packet *pkt)
{
	size_t nr = 0;

	for (size_t i = 0; i < pe->n_scm; i++) {
		if (pe->scm[i]->type != SCM_RIGHTS)
			return pr_fail(-EOPNOTSUPP, "sk-queues.img: a packet for socket %u has control message type %u\n",
				       pe->id_for, pe->scm[i]->type);
		nr += pe->scm[i]->n_rights;
	}
	if (!nr)
		return 0;
	if (nr > SCM_FDS_MAX)
		return pr_fail(-EINVAL, "sk-queues.img: a packet for socket %u passes %zu files\n", pe->id_for, nr);
	pkt->files = xmalloc(nr * sizeof(*pkt->files));
	if (!pkt->files)
		return -ENOMEM;
	for (size_t i = 0; i < pe->n_scm; i++)
		for (size_t k = 0; k < pe->scm[i]->n_rights; k++)
			pkt->files[pkt->nr_files++] = pe->scm[i]->rights[k];
	return 0;
}

static void packet_free(struct sk_packet *pkt)
{
	if (pkt)
		free(pkt->files);
	free(pkt);
}

static int read_packet(struct cr_img *img, const SkPacketEntry *pe, struct sk_packet **ret)
{
	struct sk_packet *pkt;
	int err;

	if (pe->length > PEEK_BUF_MAX)
		return pr_fail(-EINVAL, "sk-queues.img: a packet for socket %u claims %u bytes\n", pe->id_for,
			       pe->length);
	pkt = xzalloc(sizeof(*pkt) + pe->length);
	if (!pkt)
		return -ENOMEM;
	pkt->len = pe->length;
	if (pe->has_addr) {
		if (pe->addr.len > sizeof(pkt->addr) || pe->addr.len <= offsetof(struct sockaddr_un, sun_path)) {
			free(pkt);
			return pr_fail(-EINVAL, "sk-queues.img: a packet for socket %u has a %zu-byte address\n",
				       pe->id_for, pe->addr.len);
		}
		memcpy(&pkt->addr, pe->addr.data, pe->addr.len);
		pkt->addr_len = pe->addr.len;
	}
	err = packet_files(pe, pkt);
	if (!err && pkt->len && read_img_buf(img, pkt->data, pkt->len) < 0)
		err = pr_fail(-EINVAL, "sk-queues.img: the data of a packet for socket %u is truncated\n", pe->id_for);
	if (err) {
		packet_free(pkt);
		return err;
	}
	*ret = pkt;
	return 0;
}

int sk_queues_read(int img_dfd, int (*add)(uint32_t id, struct sk_packet *pkt, void *arg), void *arg)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_SK_QUEUES, O_RSTR);
	SkPacketEntry *pe;
	int ret;

	if (!img)
		return pr_fail_errno("can't open sk-queues.img");
	while ((ret = pb_read_one_eof(img, (void **)&pe, PB_SK_QUEUES)) > 0) {
		struct sk_packet *pkt = NULL;
		uint32_t id = pe->id_for;

		ret = read_packet(img, pe, &pkt);
		pb_free(pe, PB_SK_QUEUES);
		if (!ret) {
			ret = add(id, pkt, arg);
			if (ret)
				packet_free(pkt);
		}
		if (ret)
			break;
	}
	close_image(img);
	return ret < 0 ? ret : 0;
}

void sk_queue_free(struct list_head *queue)
{
	struct sk_packet *pkt, *tmp;

	list_for_each_entry_safe(pkt, tmp, queue, list) {
		list_del(&pkt->list);
		packet_free(pkt);
	}
}

bool sk_queue_has_files(const struct list_head *queue)
{
	const struct sk_packet *pkt;

	list_for_each_entry(pkt, queue, list)
		if (pkt->nr_files)
			return true;
	return false;
}

/* The control message passing pkt's files: the controller's copies of them. */
static int packet_cmsg(struct rst_ctx *ctx, const struct sk_packet *pkt, char *cbuf, struct msghdr *mh, const char *who)
{
	struct cmsghdr *c;

	mh->msg_control = cbuf;
	mh->msg_controllen = CMSG_SPACE(pkt->nr_files * sizeof(int));
	memset(cbuf, 0, mh->msg_controllen);
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(pkt->nr_files * sizeof(int));
	for (uint32_t i = 0; i < pkt->nr_files; i++) {
		struct file_desc *d = find_file_desc(ctx, pkt->files[i]);
		int fd = d ? file_desc_ctl_fd(ctx, d) : -1;

		if (fd < 0)
			return pr_fail(-EINVAL, "%s: file %u, passed in a queued message, is %s\n", who, pkt->files[i],
				       d ? "not open" : "not in files.img");
		memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(fd));
	}
	return 0;
}

/* Send one packet whole (a stream chunk may go out in pieces; then the files go with the first). */
static int send_packet(struct rst_ctx *ctx, int sender, const struct sk_packet *pkt, const void *to, unsigned int to_len,
		       const char *who)
{
	static char cbuf[CMSG_SPACE(sizeof(int) * SCM_FDS_MAX)] __attribute__((aligned(__alignof__(struct cmsghdr))));
	size_t done = 0;
	int ret;

	do {
		struct iovec iov = { .iov_base = (char *)pkt->data + done, .iov_len = pkt->len - done };
		struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = to ? to_len : 0, .msg_iov = &iov,
				     .msg_iovlen = 1 };
		ssize_t n;

		if (!done && pkt->nr_files) {
			ret = packet_cmsg(ctx, pkt, cbuf, &mh, who);
			if (ret)
				return ret;
		}
		n = sendmsg(sender, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return -errno;
		done += n;
	} while (done < pkt->len);
	return 0;
}

int sk_queue_restore(struct rst_ctx *ctx, int sender, struct list_head *queue, const void *to, unsigned int to_len, const char *who)
{
	struct sk_packet *pkt;
	unsigned int nr = 0;
	int ret = 0;

	list_for_each_entry(pkt, queue, list) {
		ret = send_packet(ctx, sender, pkt, to, to_len, who);
		if (ret) {
			if (ret != -EINVAL)
				pr_err("%s: can't queue message %u (%u bytes) again: %s\n", who, nr, pkt->len,
				       strerror(-ret));
			break;
		}
		nr++;
	}
	if (nr)
		pr_debug("%s: %u messages queued again\n", who, nr);
	sk_queue_free(queue);
	return ret;
}
