/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS for the page server's connection (GnuTLS, X.509 on both sides), as
 * CRIU's --tls: the client and the server each present a certificate and
 * check the other's against the CA file (and the CRL when there is one);
 * unless no_cn_verify, the peer's certificate must name `hostname` (the
 * --address given, on both sides, as CRIU does).
 *
 * tls_start() logs what failed (it is the one place that knows why); the
 * record calls log only a TLS alert from the peer.
 */
#ifndef CRIU_TLS_H
#define CRIU_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_conf {
	const char *cacert;	/* NULL: CRIU's default paths under /etc/pki */
	const char *cacrl;
	const char *cert;
	const char *key;
	bool no_cn_verify;
	const char *hostname;	/* checked against the peer's certificate; NULL: not checked */
};

struct tls_session;

/* Handshake on the connected socket sk and check the peer; 0 or -errno (logged). */
int tls_start(int sk, bool server, const struct tls_conf *conf, struct tls_session **ret);
/* Send/receive all of len bytes; 0, or -errno (-ECONNRESET: the peer closed). */
int tls_send_all(struct tls_session *s, const void *buf, size_t len);
/* Send a (a record of its own), then b as records gathered into few socket writes; 0 or -errno. */
int tls_send2(struct tls_session *s, const void *a, size_t alen, const void *b, size_t blen);
/* Up to len bytes (at least one); 0 at the end of the stream; -errno. */
ssize_t tls_recv_some(struct tls_session *s, void *buf, size_t len);
/* Close the session (a bye when !failed) and free it; NULL is fine. */
void tls_end(struct tls_session *s, bool failed);

#endif
