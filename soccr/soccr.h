/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * soccr: save and restore one TCP connection through the kernel's TCP repair
 * mode (TCP_REPAIR, Linux >= 3.5; windows >= 4.8).
 *
 * A socket in repair mode sends nothing: closing it drops the connection
 * without a FIN or RST, and its queues, sequence numbers and negotiated
 * options can be read (save) or written before connect() (restore).
 *
 * Dump:    soccr_pause(fd) -> soccr_save() -> soccr_queue() x2 ->
 *          soccr_resume() to let the connection go on, or soccr_release()
 *          to keep the socket in repair mode (closing it then is silent).
 * Restore: soccr_pause(new socket) -> soccr_set_addr() x2 -> soccr_set_queue()
 *          x2 -> soccr_restore() -> soccr_resume() when the owner may run.
 *
 * Every call returns 0 or a negative errno; nothing here knows about images.
 * Messages go to the function given to soccr_set_log() (none by default).
 */
#ifndef SOCCR_H
#define SOCCR_H

#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

union soccr_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* tcp_info's tcpi_options bits (TCPI_OPT_*), as the kernel reports them */
#define SOCCR_OPT_TIMESTAMPS	1
#define SOCCR_OPT_SACK		2
#define SOCCR_OPT_WSCALE	4

/* What one connection is, apart from its data. */
struct soccr_data {
	uint32_t state;		/* TCP_ESTABLISHED, ... (tcp_info) */
	uint32_t inq_len;	/* bytes received, not read yet */
	uint32_t inq_seq;	/* rcv_nxt: the sequence number after them */
	uint32_t outq_len;	/* bytes in the send queue, sent or not */
	uint32_t outq_seq;	/* write_seq: the sequence number after them */
	uint32_t unsq_len;	/* of those, not sent yet */
	uint32_t opt_mask;	/* SOCCR_OPT_* */
	uint32_t snd_wscale;
	uint32_t rcv_wscale;
	uint32_t mss_clamp;
	uint32_t timestamp;	/* the TCP timestamp clock */
	/* the windows (TCP_REPAIR_WINDOW); has_window false on kernels without it */
	int has_window;
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
};

enum soccr_queue {
	SOCCR_RECV_QUEUE,
	SOCCR_SEND_QUEUE,
};

struct soccr_sk;

/* Put fd in repair mode; *ret holds it (the fd stays the caller's). */
int soccr_pause(int fd, struct soccr_sk **ret);
/* Leave repair mode (the connection runs on) and free sk. */
int soccr_resume(struct soccr_sk *sk);
/* Free sk, leaving the socket in repair mode. */
void soccr_release(struct soccr_sk *sk);
int soccr_fd(const struct soccr_sk *sk);

/*
 * Dump: the connection's state (soccr_state_supported(); other states give
 * -EOPNOTSUPP). The queue lengths are of data: a FIN is not counted.
 */
int soccr_save(struct soccr_sk *sk, struct soccr_data *ret);
/*
 * Dump, after soccr_save(): a malloc()ed copy of a queue's bytes
 * (data->inq_len or ->outq_len of them; NULL for an empty queue).
 */
int soccr_queue(struct soccr_sk *sk, const struct soccr_data *data, enum soccr_queue q, char **ret);

/* Restore: the local (self 1) and remote (self 0) address, before soccr_restore(). */
int soccr_set_addr(struct soccr_sk *sk, int self, const union soccr_addr *addr);
/* Restore: the bytes of a queue (kept by reference until soccr_restore() returns). */
int soccr_set_queue(struct soccr_sk *sk, enum soccr_queue q, const char *buf, uint32_t len);
/*
 * Restore: bind, set the sequence numbers, connect in repair mode, the
 * options, timestamp, the queues and the windows. The part of the send
 * queue that was never sent (data->unsq_len) is sent by soccr_resume().
 */
int soccr_restore(struct soccr_sk *sk, const struct soccr_data *data);

/*
 * The states soccr_save() accepts: 1 or 0. ESTABLISHED; FIN_WAIT1 and
 * FIN_WAIT2 (this end shut for writing: soccr_resume() sends its FIN
 * again, which the peer takes as a repeat); CLOSE_WAIT (the peer's FIN
 * received: the connection comes back ESTABLISHED and gets to CLOSE_WAIT
 * only when the peer sends its FIN again, as a restored FIN_WAIT1/2 peer
 * does: the caller must make sure of that).
 */
int soccr_state_supported(uint32_t state);
int soccr_state_fin_sent(uint32_t state);
int soccr_state_fin_received(uint32_t state);

void soccr_set_log(void (*fn)(int level, const char *msg));

#endif
