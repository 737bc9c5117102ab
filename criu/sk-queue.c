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
#include <sys/un.h>

#include "common.h"
#include "files.h"
#include "image.h"
#include "protobuf.h"
#include "sockets.h"

#include "sk-packet.pb-c.h"

#undef LOG_PREFIX
#define LOG_PREFIX "sk-queue: "

#define PEEK_BUF_MIN (256u << 10)
#define PEEK_BUF_MAX (64u << 20)
#define QUEUE_MSGS_MAX (1u << 20)
/* room for the largest SCM_RIGHTS (253 fds) and credentials */
#define CMSG_BUF_SIZE (CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred)) + 64)

/* ---------- dump ---------- */

/* Close fds a peek received; true if the message carried any (SCM_RIGHTS). */
static bool drop_passed_fds(struct msghdr *mh)
{
	bool found = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		found = true;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
	return found;
}

static int write_packet(struct dump_files_ctx *ctx, struct cr_img **img, uint32_t id, const void *buf, size_t len)
{
	SkPacketEntry pe = SK_PACKET_ENTRY__INIT;
	int ret;

	if (!*img) {
		*img = open_image_at(ctx->img_dfd, CR_FD_SK_QUEUES, O_DUMP);
		if (!*img)
			return pr_fail(-errno, "can't create sk-queues.img: %s\n", strerror(errno));
	}
	pe.id_for = id;
	pe.length = len;
	ret = pb_write_one(*img, &pe, PB_SK_QUEUES);
	if (!ret && len)
		ret = write_img_buf(*img, buf, len);
	return ret;
}

struct peek_state {
	int lfd, type;
	bool rcv_shut;
	char *buf;
	size_t size;
	int offset;		/* our peek offset: bytes walked so far */
	char cbuf[CMSG_BUF_SIZE];
};

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
		/* MSG_TRUNC: a datagram's real length, even when it does not fit */
		n = recvmsg(ps->lfd, &mh,
			    MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (ps->type == SOCK_STREAM ? 0 : MSG_TRUNC));
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (drop_passed_fds(&mh) || (mh.msg_flags & MSG_CTRUNC))
			return pr_fail(-EOPNOTSUPP,
				       "%s: file descriptors are queued in the socket (SCM_RIGHTS in flight); "
				       "criu can't dump them yet\n",
				       who);
		if (ps->type == SOCK_STREAM || (!n && ps->rcv_shut))
			return n ? n : -ENODATA;
		if (!(mh.msg_flags & MSG_TRUNC) && (size_t)n <= ps->size)
			return n;
		/* a datagram larger than the buffer: walk back and peek it again whole */
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

static int walk_queue(struct dump_files_ctx *ctx, struct cr_img **img, struct peek_state *ps, uint32_t id,
		      const char *who, uint64_t *ret_bytes)
{
	uint64_t total = 0;
	unsigned int nr;
	int n;

	for (nr = 0; nr < QUEUE_MSGS_MAX; nr++) {
		n = peek_one(ps, who);
		if (n == -EAGAIN || n == -ENODATA)
			break;
		if (n < 0)
			return n == -EOPNOTSUPP || n == -EMSGSIZE || n == -ENOMEM
				       ? n
				       : pr_fail(n, "%s: can't peek at the queued data: %s\n", who, strerror(-n));
		ps->offset += n;
		total += n;
		n = write_packet(ctx, img, id, ps->buf, n);
		if (n)
			return n;
	}
	if (nr == QUEUE_MSGS_MAX)
		return pr_fail(-E2BIG, "%s: more than %u messages queued\n", who, QUEUE_MSGS_MAX);
	if (nr)
		pr_debug("%s: %u messages, %llu bytes queued\n", who, nr, (unsigned long long)total);
	*ret_bytes = total;
	return 0;
}

int sk_queue_dump(struct dump_files_ctx *ctx, struct cr_img **img, int lfd, int type, bool rcv_shut, uint32_t id,
		  const char *who, uint64_t *ret_bytes)
{
	struct peek_state *ps;
	socklen_t len = sizeof(int);
	int old_off = -1, zero = 0, ret;

	if (getsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &old_off, &len))
		return pr_fail(-errno, "%s: can't read SO_PEEK_OFF: %s\n", who, strerror(errno));
	ps = xzalloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->lfd = lfd;
	ps->type = type;
	ps->rcv_shut = rcv_shut;
	ps->size = PEEK_BUF_MIN;
	ps->buf = xmalloc(ps->size);
	if (!ps->buf) {
		free(ps);
		return -ENOMEM;
	}
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		ret = pr_fail(-errno, "%s: can't set SO_PEEK_OFF: %s\n", who, strerror(errno));
	else
		ret = walk_queue(ctx, img, ps, id, who, ret_bytes);
	/* the task's own peek offset, whatever happened */
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof(old_off)) && !ret)
		ret = pr_fail(-errno, "%s: can't put SO_PEEK_OFF back to %d: %s\n", who, old_off, strerror(errno));
	free(ps->buf);
	free(ps);
	return ret;
}

/* ---------- restore ---------- */

int sk_queues_read(int img_dfd, int (*add)(uint32_t id, struct sk_packet *pkt, void *arg), void *arg)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_SK_QUEUES, O_RSTR);
	SkPacketEntry *pe;
	int ret;

	if (!img)
		return pr_fail(-errno, "can't open sk-queues.img: %s\n", strerror(errno));
	while ((ret = pb_read_one_eof(img, (void **)&pe, PB_SK_QUEUES)) > 0) {
		struct sk_packet *pkt = NULL;
		uint32_t id = pe->id_for, len = pe->length;
		bool scm = pe->n_scm > 0;

		pb_free(pe, PB_SK_QUEUES);
		if (scm) {
			ret = pr_fail(-EOPNOTSUPP, "sk-queues.img: a packet for socket %u carries file descriptors\n", id);
			break;
		}
		if (len > PEEK_BUF_MAX) {
			ret = pr_fail(-EINVAL, "sk-queues.img: a packet for socket %u claims %u bytes\n", id, len);
			break;
		}
		pkt = xmalloc(sizeof(*pkt) + len);
		if (!pkt) {
			ret = -ENOMEM;
			break;
		}
		pkt->len = len;
		ret = len ? read_img_buf(img, pkt->data, len) : 0;
		if (ret < 0) {
			free(pkt);
			pr_err("sk-queues.img: the data of a packet for socket %u is truncated\n", id);
			break;
		}
		ret = add(id, pkt, arg);
		if (ret) {
			free(pkt);
			break;
		}
	}
	close_image(img);
	return ret < 0 ? ret : 0;
}

void sk_queue_free(struct list_head *queue)
{
	struct sk_packet *pkt, *tmp;

	list_for_each_entry_safe(pkt, tmp, queue, list) {
		list_del(&pkt->list);
		free(pkt);
	}
}

int sk_queue_restore(int sender, struct list_head *queue, const void *to, unsigned int to_len, const char *who)
{
	struct sk_packet *pkt;
	unsigned int nr = 0;

	list_for_each_entry(pkt, queue, list) {
		size_t done = 0;

		/* a stream chunk may go out in pieces; a datagram goes whole or fails */
		do {
			ssize_t n = sendto(sender, pkt->data + done, pkt->len - done, MSG_DONTWAIT | MSG_NOSIGNAL,
					   to, to ? to_len : 0);

			if (n < 0) {
				int err = errno;

				sk_queue_free(queue);
				return pr_fail(-err, "%s: can't queue message %u (%u bytes) again: %s\n", who, nr,
					       pkt->len, strerror(err));
			}
			done += n;
		} while (done < pkt->len);
		nr++;
	}
	if (nr)
		pr_debug("%s: %u messages queued again\n", who, nr);
	sk_queue_free(queue);
	return 0;
}
