/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTPS for the status server (gateway.http_tls_cert, http_tls_key): OpenSSL over memory BIOs, so
 * the connection stays a libuv stream on the loop. Ciphertext read from the socket is fed to the
 * connection's SSL; what it has to send (handshake records, encrypted answers) goes out through
 * agw_http_conn_write. TLS 1.2 or later, no renegotiation; the handshake must finish within the
 * request timeout; a failed one is counted (agw_http_errors_total{reason="tls_handshake"}) and
 * the connection closed. */
#ifndef AGW_HTTP_TLS_H
#define AGW_HTTP_TLS_H

#include <stddef.h>
#include <uv.h>

struct agw_http_conn;
struct ssl_ctx_st;

/* The server context from a PEM certificate chain and its key. Returns 0, or -EINVAL with err
 * saying which file and why. */
int agw_http_tls_ctx_new(const char *cert, const char *key, struct ssl_ctx_st **ret, char *err, size_t errlen);
void agw_http_tls_ctx_free(struct ssl_ctx_st *ctx);

/* A new accepted connection of a TLS server. 0 or -ENOMEM. */
int agw_http_tls_conn_start(struct agw_http_conn *c, struct ssl_ctx_st *ctx);
void agw_http_tls_conn_free(struct agw_http_conn *c);
/* Ciphertext from the socket: advances the handshake, then appends plaintext to c->req (up to its
 * size) and c->len. Returns 0 (maybe no plaintext yet), or a negative errno when the connection
 * must close (handshake failed: counted). */
int agw_http_tls_feed(struct agw_http_conn *c, const char *data, size_t len);
/* After the answer: the TLS close_notify, so the client knows the answer is whole. No-op on plain
 * connections. */
void agw_http_tls_close_notify(struct agw_http_conn *c);
/* Whether the handshake is over. */
int agw_http_tls_ready(const struct agw_http_conn *c);

/* Writes data (plaintext) to the connection, encrypted when it is TLS; cb(&c->write_req, status)
 * follows with c->write_req.data = c. Plain connections write data in place (it must live until
 * cb); TLS ones copy. Returns 0 or a negative errno (cb will not run). */
int agw_http_conn_write(struct agw_http_conn *c, const char *data, size_t len, uv_write_cb cb);

#endif
