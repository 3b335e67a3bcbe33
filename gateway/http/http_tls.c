/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTPS for the status server over memory BIOs (see http_tls.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "alarmgw/log.h"
#include "http_internal.h"
#include "http_tls.h"

static void tls_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[160] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s %s: %s", what, file, buf[0] ? buf : "unusable");
}

int agw_http_tls_ctx_new(const char *cert, const char *key, SSL_CTX **ret, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* TLS 1.2 and 1.3 only; no renegotiation (a client could make the loop do handshakes at will) */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	int r = -EINVAL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		tls_err(err, errlen, "http_tls_cert", cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		tls_err(err, errlen, "http_tls_key", key);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		tls_err(err, errlen, "http_tls_key does not match http_tls_cert:", key);
	else
		r = 0;
	if (r < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

void agw_http_tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int agw_http_tls_conn_start(struct agw_http_conn *c, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	if (!ssl || !rbio || !wbio) {
		SSL_free(ssl);
		BIO_free(rbio);
		BIO_free(wbio);
		return -ENOMEM;
	}
	SSL_set_bio(ssl, rbio, wbio); /* ssl owns both */
	SSL_set_accept_state(ssl);
	c->ssl = ssl;
	return 0;
}

void agw_http_tls_conn_free(struct agw_http_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}

int agw_http_tls_ready(const struct agw_http_conn *c)
{
	return c->ssl && SSL_is_init_finished(c->ssl);
}

/* One write of ciphertext, with its own request: handshake records and answers may overlap. */
struct tls_write {
	uv_write_t req;
	struct agw_http_conn *c;
	uv_write_cb cb;
	char data[];
};

static void tls_written(uv_write_t *req, int status)
{
	struct tls_write *w = (struct tls_write *)req;
	struct agw_http_conn *c = w->c;
	uv_write_cb cb = w->cb;
	free(w);
	if (cb) {
		c->write_req.data = c;
		cb(&c->write_req, status);
	}
}

/* Sends what the SSL has queued for the peer; cb (may be NULL) after it. */
static int flush(struct agw_http_conn *c, uv_write_cb cb)
{
	BIO *wbio = SSL_get_wbio(c->ssl);
	size_t n = (size_t)BIO_ctrl_pending(wbio);
	if (n == 0 && !cb)
		return 0;
	struct tls_write *w = malloc(sizeof(*w) + (n ? n : 1));
	if (!w)
		return -ENOMEM;
	w->c = c;
	w->cb = cb;
	if (n && BIO_read(wbio, w->data, (int)n) != (int)n) {
		free(w);
		return -EIO;
	}
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)n);
	int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, tls_written);
	if (r < 0)
		free(w);
	return r;
}

int agw_http_tls_feed(struct agw_http_conn *c, const char *data, size_t len)
{
	if (BIO_write(SSL_get_rbio(c->ssl), data, (int)len) != (int)len)
		return -ENOMEM;
	if (!SSL_is_init_finished(c->ssl)) {
		int r = SSL_do_handshake(c->ssl);
		int fr = flush(c, NULL); /* the server's flight, or an alert saying why */
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ && fr == 0)
				return 0;
			char why[160] = "";
			ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
			ERR_clear_error();
			agw_http_count_error("tls_handshake");
			agw_log_info(AGW_HTTP_COMPONENT, NULL, "TLS handshake failed: %s", why[0] ? why : "connection error");
			return -EPROTO;
		}
		if (fr < 0)
			return fr;
	}
	for (;;) {
		size_t room = sizeof(c->req) - c->len;
		if (room == 0)
			return 0; /* the head is too long: the caller refuses it */
		int n = SSL_read(c->ssl, c->req + c->len, (int)room);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		flush(c, NULL); /* TLS 1.3 session tickets */
		return e == SSL_ERROR_WANT_READ ? 0 : e == SSL_ERROR_ZERO_RETURN ? -ECONNRESET : -EPROTO;
	}
}

void agw_http_tls_close_notify(struct agw_http_conn *c)
{
	if (!c->ssl)
		return;
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	flush(c, NULL);
}

int agw_http_conn_write(struct agw_http_conn *c, const char *data, size_t len, uv_write_cb cb)
{
	if (!c->ssl) {
		uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
		c->write_req.data = c;
		return uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, cb);
	}
	/* a memory BIO takes all of it: SSL_write never stops half way */
	if (len && SSL_write(c->ssl, data, (int)len) != (int)len) {
		ERR_clear_error();
		return -EIO;
	}
	return flush(c, cb);
}
