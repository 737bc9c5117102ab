// SPDX-License-Identifier: LGPL-2.1
/*
 * soccr: one TCP connection through TCP_REPAIR (soccr.h).
 *
 * Kernel facts this relies on (net/ipv4/tcp.c):
 *  - TCP_REPAIR 1 needs CAP_NET_ADMIN over the socket's network namespace;
 *    a socket in repair mode transmits nothing, and bind() ignores port
 *    conflicts (so a connection can take the port of a listener).
 *  - TCP_REPAIR_QUEUE selects the queue that TCP_QUEUE_SEQ, recv(MSG_PEEK)
 *    and send() act on: TCP_QUEUE_SEQ reads rcv_nxt / write_seq, and, before
 *    connect(), sets them; send() to the receive queue queues bytes as if
 *    received, send() to the send queue queues bytes as sent-not-acked.
 *  - connect() in repair mode makes the socket ESTABLISHED with no packet.
 *  - TCP_REPAIR_OPTIONS sets the negotiated MSS, window scales, SACK and
 *    timestamps; TCP_TIMESTAMP the timestamp clock offset;
 *    TCP_REPAIR_WINDOW (>= 4.8) the windows.
 *  - TCP_REPAIR 0 on an ESTABLISHED socket sends a window probe: the peer
 *    learns the connection is alive and retransmissions start again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "soccr.h"

#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW 29
#endif

/* the kernel's struct tcp_repair_window (uapi linux/tcp.h) */
struct soccr_kwindow {
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
};

/* the kernel's struct tcp_repair_opt and option codes (TCPOPT_*) */
struct soccr_kopt {
	uint32_t code, val;
};
#define KOPT_MSS	2
#define KOPT_WINDOW	3
#define KOPT_SACK_PERM	4
#define KOPT_TIMESTAMP	8

struct soccr_sk {
	int fd;
	int reuseaddr;		/* SO_REUSEADDR before repair mode: leaving it clears the flag */
	union soccr_addr src, dst;
	int has_src, has_dst;
	const char *queue_buf[2];
	uint32_t queue_len[2];
	char *unsent;		/* restore: the never-sent tail, sent by soccr_resume() */
	uint32_t unsent_len;
	int shut_wr;		/* restore: this end had sent its FIN: soccr_resume() sends it again */
};

static void (*log_fn)(int level, const char *msg);

void soccr_set_log(void (*fn)(int level, const char *msg))
{
	log_fn = fn;
}

static int __attribute__((format(printf, 2, 3))) say(int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!log_fn)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(err ? 1 : 4, msg);
	return err;
}

static int set_int(int fd, int opt, int v)
{
	return setsockopt(fd, SOL_TCP, opt, &v, sizeof(v)) ? -errno : 0;
}

static int get_int(int fd, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, SOL_TCP, opt, ret, &len) ? -errno : 0;
}

int soccr_pause(int fd, struct soccr_sk **ret)
{
	struct soccr_sk *sk = calloc(1, sizeof(*sk));
	int err;

	if (!sk)
		return -ENOMEM;
	socklen_t len = sizeof(sk->reuseaddr);

	if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &sk->reuseaddr, &len))
		sk->reuseaddr = 0;
	err = set_int(fd, TCP_REPAIR, 1);
	if (err) {
		free(sk);
		return say(err, "soccr: TCP_REPAIR on fd %d: %s\n", fd, strerror(-err));
	}
	sk->fd = fd;
	*ret = sk;
	return 0;
}

void soccr_release(struct soccr_sk *sk)
{
	if (!sk)
		return;
	free(sk->unsent);
	free(sk);
}

int soccr_fd(const struct soccr_sk *sk)
{
	return sk->fd;
}

/* the tail of the send queue that was never sent, now that the socket may transmit */
static int send_unsent(struct soccr_sk *sk)
{
	uint32_t off = 0;

	while (off < sk->unsent_len) {
		ssize_t n = send(sk->fd, sk->unsent + off, sk->unsent_len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return say(-errno, "soccr: sending %u unsent bytes: %s\n", sk->unsent_len - off,
				   strerror(errno));
		off += n;
	}
	return 0;
}

int soccr_resume(struct soccr_sk *sk)
{
	int err = set_int(sk->fd, TCP_REPAIR, 0);

	if (err)
		say(err, "soccr: TCP_REPAIR off on fd %d: %s\n", sk->fd, strerror(-err));
	/* leaving repair mode drops SO_REUSEADDR: give it back */
	if (!err && setsockopt(sk->fd, SOL_SOCKET, SO_REUSEADDR, &sk->reuseaddr, sizeof(sk->reuseaddr)))
		err = say(-errno, "soccr: SO_REUSEADDR: %s\n", strerror(errno));
	if (!err)
		err = send_unsent(sk);
	if (!err && sk->shut_wr && shutdown(sk->fd, SHUT_WR))
		err = say(-errno, "soccr: shutdown: %s\n", strerror(errno));
	soccr_release(sk);
	return err;
}

int soccr_state_supported(uint32_t state)
{
	return state == TCP_ESTABLISHED || state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 ||
	       state == TCP_CLOSE_WAIT;
}

/* this end sent its FIN (shutdown for writing): it is the last sequence number of the send queue */
int soccr_state_fin_sent(uint32_t state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2;
}

/* the peer's FIN was received: it is the last sequence number received */
int soccr_state_fin_received(uint32_t state)
{
	return state == TCP_CLOSE_WAIT;
}

static int queue_select(int fd, enum soccr_queue q)
{
	return set_int(fd, TCP_REPAIR_QUEUE, q == SOCCR_RECV_QUEUE ? TCP_RECV_QUEUE : TCP_SEND_QUEUE);
}

/*
 * No queue selected: with the send queue selected, a socket in repair mode
 * that gets an ACK "sends" what the window allows without transmitting it
 * (the kernel's path for filling the queue), and that data would be lost.
 */
static int queue_none(int fd)
{
	return set_int(fd, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
}

static int save_queues(int fd, struct soccr_data *d)
{
	int v, err;

	err = queue_select(fd, SOCCR_RECV_QUEUE);
	err = err ?: get_int(fd, TCP_QUEUE_SEQ, &v);
	if (err)
		return say(err, "soccr: the receive queue's sequence: %s\n", strerror(-err));
	d->inq_seq = v;
	if (ioctl(fd, SIOCINQ, &v))
		return say(-errno, "soccr: SIOCINQ: %s\n", strerror(errno));
	d->inq_len = v;
	err = queue_select(fd, SOCCR_SEND_QUEUE);
	err = err ?: get_int(fd, TCP_QUEUE_SEQ, &v);
	if (err)
		return say(err, "soccr: the send queue's sequence: %s\n", strerror(-err));
	d->outq_seq = v;
	if (ioctl(fd, SIOCOUTQ, &v))
		return say(-errno, "soccr: SIOCOUTQ: %s\n", strerror(errno));
	d->outq_len = v;
	if (ioctl(fd, SIOCOUTQNSD, &v))
		return say(-errno, "soccr: SIOCOUTQNSD: %s\n", strerror(errno));
	d->unsq_len = v;
	/*
	 * The FIN this end sent takes a sequence number of the send queue:
	 * the queue's lengths count it until it is acknowledged (FIN_WAIT1;
	 * in FIN_WAIT2 nothing is left). The data lengths leave it out; the
	 * sequence numbers keep it (soccr_restore() knows it from the state).
	 */
	if (soccr_state_fin_sent(d->state) && d->outq_len) {
		d->outq_len--;
		if (d->unsq_len)
			d->unsq_len--;
	}
	return queue_none(fd);
}

static int save_options(int fd, const struct tcp_info *ti, struct soccr_data *d)
{
	struct soccr_kwindow w;
	socklen_t len;
	int v, err;

	d->opt_mask = ti->tcpi_options & (SOCCR_OPT_TIMESTAMPS | SOCCR_OPT_SACK | SOCCR_OPT_WSCALE);
	d->snd_wscale = ti->tcpi_snd_wscale;
	d->rcv_wscale = ti->tcpi_rcv_wscale;
	err = get_int(fd, TCP_MAXSEG, &v);
	if (err)
		return say(err, "soccr: TCP_MAXSEG: %s\n", strerror(-err));
	d->mss_clamp = v;
	if (d->opt_mask & SOCCR_OPT_TIMESTAMPS) {
		err = get_int(fd, TCP_TIMESTAMP, &v);
		if (err)
			return say(err, "soccr: TCP_TIMESTAMP: %s\n", strerror(-err));
		d->timestamp = v;
	}
	len = sizeof(w);
	if (!getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, &len)) {
		d->has_window = 1;
		d->snd_wl1 = w.snd_wl1;
		d->snd_wnd = w.snd_wnd;
		d->max_window = w.max_window;
		d->rcv_wnd = w.rcv_wnd;
		d->rcv_wup = w.rcv_wup;
	} else if (errno != ENOPROTOOPT) {
		return say(-errno, "soccr: TCP_REPAIR_WINDOW: %s\n", strerror(errno));
	}
	return 0;
}

int soccr_save(struct soccr_sk *sk, struct soccr_data *ret)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int err;

	memset(ret, 0, sizeof(*ret));
	if (getsockopt(sk->fd, SOL_TCP, TCP_INFO, &ti, &len))
		return say(-errno, "soccr: TCP_INFO: %s\n", strerror(errno));
	ret->state = ti.tcpi_state;
	if (!soccr_state_supported(ret->state))
		return say(-EOPNOTSUPP, "soccr: a connection in TCP state %u can't be saved\n", ret->state);
	err = save_queues(sk->fd, ret);
	return err ?: save_options(sk->fd, &ti, ret);
}

int soccr_queue(struct soccr_sk *sk, const struct soccr_data *data, enum soccr_queue q, char **ret)
{
	uint32_t len = q == SOCCR_RECV_QUEUE ? data->inq_len : data->outq_len;
	char *buf;
	ssize_t n;
	int err;

	*ret = NULL;
	if (!len)
		return 0;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	err = queue_select(sk->fd, q);
	if (err) {
		free(buf);
		return say(err, "soccr: TCP_REPAIR_QUEUE: %s\n", strerror(-err));
	}
	/* in repair mode one peek gives the whole selected queue */
	n = recv(sk->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
	queue_none(sk->fd);
	if (n != (ssize_t)len) {
		err = n < 0 ? -errno : -EIO;
		free(buf);
		return say(err, "soccr: peeked %zd of the %u bytes of the %s queue\n", n, len,
			   q == SOCCR_RECV_QUEUE ? "receive" : "send");
	}
	*ret = buf;
	return 0;
}

int soccr_set_addr(struct soccr_sk *sk, int self, const union soccr_addr *addr)
{
	if (addr->sa.sa_family != AF_INET && addr->sa.sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (self) {
		sk->src = *addr;
		sk->has_src = 1;
	} else {
		sk->dst = *addr;
		sk->has_dst = 1;
	}
	return 0;
}

int soccr_set_queue(struct soccr_sk *sk, enum soccr_queue q, const char *buf, uint32_t len)
{
	sk->queue_buf[q] = buf;
	sk->queue_len[q] = len;
	return 0;
}

static socklen_t addr_len(const union soccr_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->v4) : sizeof(a->v6);
}

/*
 * The sequence numbers of both queues, before connect(): where the restored
 * data starts. A connection is made ESTABLISHED: the FINs are not in the
 * queues (this end's is sent again by soccr_resume(); the peer's must come
 * again from the peer), so their sequence numbers are left out.
 */
static int restore_seqs(int fd, const struct soccr_data *d)
{
	uint32_t rcv_nxt = d->inq_seq - !!soccr_state_fin_received(d->state);
	uint32_t write_seq = d->outq_seq - !!soccr_state_fin_sent(d->state);
	int err;

	err = queue_select(fd, SOCCR_RECV_QUEUE);
	err = err ?: set_int(fd, TCP_QUEUE_SEQ, rcv_nxt - d->inq_len);
	err = err ?: queue_select(fd, SOCCR_SEND_QUEUE);
	err = err ?: set_int(fd, TCP_QUEUE_SEQ, write_seq - d->outq_len);
	err = err ?: queue_none(fd);
	return err ? say(err, "soccr: TCP_QUEUE_SEQ: %s\n", strerror(-err)) : 0;
}

static int restore_options(int fd, const struct soccr_data *d)
{
	struct soccr_kopt o[4];
	int n = 0, err;

	o[n++] = (struct soccr_kopt){ KOPT_MSS, d->mss_clamp };
	if (d->opt_mask & SOCCR_OPT_WSCALE)
		o[n++] = (struct soccr_kopt){ KOPT_WINDOW, d->snd_wscale | d->rcv_wscale << 16 };
	if (d->opt_mask & SOCCR_OPT_SACK)
		o[n++] = (struct soccr_kopt){ KOPT_SACK_PERM, 0 };
	if (d->opt_mask & SOCCR_OPT_TIMESTAMPS)
		o[n++] = (struct soccr_kopt){ KOPT_TIMESTAMP, 0 };
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, o, n * sizeof(o[0])))
		return say(-errno, "soccr: TCP_REPAIR_OPTIONS: %s\n", strerror(errno));
	if (d->opt_mask & SOCCR_OPT_TIMESTAMPS) {
		err = set_int(fd, TCP_TIMESTAMP, d->timestamp);
		if (err)
			return say(err, "soccr: TCP_TIMESTAMP: %s\n", strerror(-err));
	}
	return 0;
}

static int fill_queue(int fd, enum soccr_queue q, const char *buf, uint32_t len)
{
	uint32_t off = 0;
	int err;

	if (!len)
		return 0;
	err = queue_select(fd, q);
	if (err)
		return say(err, "soccr: TCP_REPAIR_QUEUE: %s\n", strerror(-err));
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			return say(n < 0 ? -errno : -EIO, "soccr: queueing %u bytes in the %s queue: %s\n", len - off,
				   q == SOCCR_RECV_QUEUE ? "receive" : "send", n < 0 ? strerror(errno) : "nothing taken");
		off += n;
	}
	return queue_none(fd);
}

static int restore_window(int fd, const struct soccr_data *d)
{
	struct soccr_kwindow w = { d->snd_wl1, d->snd_wnd, d->max_window, d->rcv_wnd, d->rcv_wup };
	uint32_t rcv_nxt = d->inq_seq - !!soccr_state_fin_received(d->state);

	if (!d->has_window)
		return 0;
	/* without the peer's FIN, nothing the window saw may lie beyond what was received */
	if ((int32_t)(w.rcv_wup - rcv_nxt) > 0)
		w.rcv_wup = rcv_nxt;
	if ((int32_t)(w.snd_wl1 - rcv_nxt) > 0)
		w.snd_wl1 = rcv_nxt;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)))
		return say(-errno, "soccr: TCP_REPAIR_WINDOW: %s\n", strerror(errno));
	return 0;
}

int soccr_restore(struct soccr_sk *sk, const struct soccr_data *d)
{
	uint32_t sent;
	int err;

	if (!soccr_state_supported(d->state))
		return say(-EOPNOTSUPP, "soccr: a connection in TCP state %u can't be restored\n", d->state);
	if (!sk->has_src || !sk->has_dst)
		return say(-EINVAL, "soccr: restore without both addresses\n");
	if (sk->queue_len[SOCCR_RECV_QUEUE] != d->inq_len || sk->queue_len[SOCCR_SEND_QUEUE] != d->outq_len ||
	    d->unsq_len > d->outq_len)
		return say(-EINVAL, "soccr: the queues given do not match the connection's lengths\n");
	err = restore_seqs(sk->fd, d);
	if (err)
		return err;
	if (bind(sk->fd, &sk->src.sa, addr_len(&sk->src)))
		return say(-errno, "soccr: bind: %s\n", strerror(errno));
	if (connect(sk->fd, &sk->dst.sa, addr_len(&sk->dst)))
		return say(-errno, "soccr: connect in repair mode: %s\n", strerror(errno));
	err = restore_options(sk->fd, d);
	err = err ?: fill_queue(sk->fd, SOCCR_RECV_QUEUE, sk->queue_buf[SOCCR_RECV_QUEUE], d->inq_len);
	sent = d->outq_len - d->unsq_len;
	err = err ?: fill_queue(sk->fd, SOCCR_SEND_QUEUE, sk->queue_buf[SOCCR_SEND_QUEUE], sent);
	err = err ?: restore_window(sk->fd, d);
	if (err)
		return err;
	if (d->unsq_len) {
		sk->unsent = malloc(d->unsq_len);
		if (!sk->unsent)
			return -ENOMEM;
		memcpy(sk->unsent, sk->queue_buf[SOCCR_SEND_QUEUE] + sent, d->unsq_len);
		sk->unsent_len = d->unsq_len;
	}
	sk->queue_buf[0] = sk->queue_buf[1] = NULL;
	sk->shut_wr = soccr_state_fin_sent(d->state);
	return 0;
}
