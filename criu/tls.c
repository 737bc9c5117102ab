// SPDX-License-Identifier: GPL-2.0
/*
 * TLS on the page server's connection, through GnuTLS (tls.h).
 *
 * Both ends load a CA, an optional CRL and their own certificate and key,
 * shake hands on the connected TCP socket, and check the peer's certificate:
 * the server asks the client for one, so a client the CA did not sign is
 * refused as surely as a server it did not sign. The default files are
 * CRIU's (/etc/pki/CA/cacert.pem, /etc/pki/CA/cacrl.pem,
 * /etc/pki/criu/cert.pem, /etc/pki/criu/private/key.pem).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common.h"
#include "tls.h"

#undef LOG_PREFIX
#define LOG_PREFIX "tls: "

#define DEF_CACERT "/etc/pki/CA/cacert.pem"
#define DEF_CACRL "/etc/pki/CA/cacrl.pem"
#define DEF_CERT "/etc/pki/criu/cert.pem"
#define DEF_KEY "/etc/pki/criu/private/key.pem"

struct tls_session {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	bool live;		/* the handshake succeeded: a bye is due */
};

static int tls_fail(int ret, const char *what)
{
	return pr_fail(-ECONNREFUSED, "%s: %s\n", what, gnutls_strerror(ret));
}

static int load_creds(struct tls_session *t, const struct tls_conf *c)
{
	const char *cacert = c->cacert ?: DEF_CACERT, *cacrl = c->cacrl ?: DEF_CACRL;
	const char *cert = c->cert ?: DEF_CERT, *key = c->key ?: DEF_KEY;
	int ret = gnutls_certificate_allocate_credentials(&t->cred);

	if (ret < 0)
		return tls_fail(ret, "can't allocate the credentials");
	ret = gnutls_certificate_set_x509_trust_file(t->cred, cacert, GNUTLS_X509_FMT_PEM);
	if (ret <= 0)
		return pr_fail(-EINVAL, "the CA certificate %s: %s\n", cacert,
			       ret < 0 ? gnutls_strerror(ret) : "no certificate in it");
	if (!access(cacrl, R_OK)) {
		ret = gnutls_certificate_set_x509_crl_file(t->cred, cacrl, GNUTLS_X509_FMT_PEM);
		if (ret < 0)
			return pr_fail(-EINVAL, "the revocation list %s: %s\n", cacrl, gnutls_strerror(ret));
	} else if (c->cacrl) {
		return pr_fail_errno("can't read the revocation list %s", cacrl);
	}
	ret = gnutls_certificate_set_x509_key_file(t->cred, cert, key, GNUTLS_X509_FMT_PEM);
	if (ret < 0)
		return pr_fail(-EINVAL, "the certificate %s with the key %s: %s\n", cert, key, gnutls_strerror(ret));
	return 0;
}

static int verify_peer(struct tls_session *t, const struct tls_conf *c, bool server)
{
	const char *host = c->no_cn_verify ? NULL : c->hostname;
	unsigned int status = 0;
	gnutls_datum_t txt;
	int ret = gnutls_certificate_verify_peers3(t->s, host, &status);

	if (ret < 0)
		return tls_fail(ret, "can't verify the peer's certificate");
	if (!status)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) == 0) {
		pr_err("the %s's certificate is refused: %s\n", server ? "client" : "page server", txt.data);
		gnutls_free(txt.data);
	} else {
		pr_err("the %s's certificate is refused (status %#x)\n", server ? "client" : "page server", status);
	}
	return -ECONNREFUSED;
}

static void tls_free(struct tls_session *t)
{
	if (t->s)
		gnutls_deinit(t->s);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

int tls_start(int sk, bool server, const struct tls_conf *conf, struct tls_session **ret_s)
{
	struct tls_session *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = load_creds(t, conf);
	if (ret)
		goto err;
	ret = gnutls_init(&t->s, server ? GNUTLS_SERVER : GNUTLS_CLIENT);
	if (ret < 0) {
		ret = tls_fail(ret, "can't make a session");
		goto err;
	}
	ret = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (ret >= 0)
		ret = gnutls_set_default_priority(t->s);
	if (ret < 0) {
		ret = tls_fail(ret, "can't set the session up");
		goto err;
	}
	if (server) {
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
		/* check the client's certificate in the handshake: a refused client hears why (an alert) */
		gnutls_session_set_verify_cert(t->s, conf->no_cn_verify ? NULL : conf->hostname, 0);
	}
	gnutls_transport_set_int(t->s, sk);
	gnutls_handshake_set_timeout(t->s, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	do
		ret = gnutls_handshake(t->s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		ret = tls_fail(ret, "the TLS handshake failed");
		goto err;
	}
	t->live = true;
	ret = verify_peer(t, conf, server);
	if (ret)
		goto err;
	{
		char *desc = gnutls_session_get_desc(t->s);

		pr_info("TLS session up (%s): %s\n", server ? "server" : "client", desc ?: "?");
		gnutls_free(desc);
	}
	*ret_s = t;
	return 0;
err:
	tls_end(t, true);
	return ret;
}

int tls_send_all(struct tls_session *t, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = gnutls_record_send(t->s, p, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			return -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int tls_send2(struct tls_session *t, const void *a, size_t alen, const void *b, size_t blen)
{
	int ret;

	/*
	 * a in a record of its own: CRIU's page server reads a header's record,
	 * then polls the socket for the pages, which must not be waiting in
	 * GnuTLS's buffer already (it would wait forever for the last entry).
	 * b corked: its records leave in few send()s, not one per 16 KiB record.
	 */
	ret = tls_send_all(t, a, alen);
	if (ret || !blen)
		return ret;
	gnutls_record_cork(t->s);
	ret = tls_send_all(t, b, blen);
	do {
		int n = gnutls_record_uncork(t->s, GNUTLS_RECORD_WAIT);

		if (n >= 0 || ret)
			break;
		if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
			ret = -ECONNRESET;
	} while (!ret);
	return ret;
}

ssize_t tls_recv_some(struct tls_session *t, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = gnutls_record_recv(t->s, buf, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)	/* the one error only this end can explain */
			pr_err("the peer ended the TLS session: %s\n",
			       gnutls_alert_get_name(gnutls_alert_get(t->s)) ?: "an alert");
		else if (n < 0)
			pr_debug("gnutls_record_recv: %s\n", gnutls_strerror(n));
		return n < 0 ? -ECONNRESET : n;
	}
}

void tls_end(struct tls_session *t, bool failed)
{
	if (!t)
		return;
	/* as CRIU's: a clean end waits for the peer's close_notify, so neither side closes on unread data */
	if (t->live && !failed) {
		int ret;

		do
			ret = gnutls_bye(t->s, GNUTLS_SHUT_RDWR);
		while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
	}
	tls_free(t);
}
