/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An etcd v3 client on the loop, through etcd's JSON gateway (/v3/kv/range, /v3/kv/txn,
 * /v3/lease/grant, /v3/lease/keepalive, /v3/watch) over the loop's libcurl multi: no thread, no
 * blocking call. Keys and values travel base64-encoded (the gateway's JSON mapping of bytes);
 * agw_etcd_b64 and agw_etcd_unb64 convert. 64-bit numbers arrive as strings and default values
 * are left out of the answers (a false "succeeded", a PUT event's "type").
 *
 * etcd 3.4's quirks: one keepalive per request (no stream); a watch is cancelled by closing its
 * connection; a member without a leader refuses a request at once only with the
 * "Grpc-Metadata-hasleader: true" header (else a watch stays silent and a call times out), which
 * every request here sends. */
#ifndef AGW_CLUSTER_ETCD_H
#define AGW_CLUSTER_ETCD_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#define AGW_ETCD_MAX_RESPONSE (16u << 20) /* a range of every slot key is ~100 KiB */

struct agw_etcd;
struct agw_etcd_call;

/* endpoints: comma-separated http(s) URLs ("http://127.0.0.1:2379,http://..."). */
int agw_etcd_new(uv_loop_t *loop, const char *endpoints, struct agw_etcd **ret);
/* Cancels every call (their callbacks are not called) and closes; closed(arg) runs once the loop
 * handles are closed, then e is freed. */
void agw_etcd_close(struct agw_etcd *e, void (*closed)(void *arg), void *arg);

/* POST path with body (a JSON object; the client takes the reference). cb runs on the loop once:
 * status 0 with the parsed answer (borrowed: valid during cb), or a negative errno with NULL
 * (-ECONNREFUSED/-ETIMEDOUT: no endpoint answered; -ENOTCONN: the member answered that the
 * cluster has no leader; -EPROTO: another HTTP error or gRPC error body, whose message is logged by
 * the caller from `why`). On a connection failure the client moves to
 * the next endpoint for later calls. ret (optional) names the call for agw_etcd_cancel. */
int agw_etcd_call(struct agw_etcd *e, const char *path, json_t *body, int64_t timeout_ms,
		  void (*cb)(void *arg, int status, json_t *answer, const char *why), void *arg,
		  struct agw_etcd_call **ret);
/* A watch: each message of the stream ({"result": {...}}) is passed to on_result (borrowed);
 * on_end runs once when the stream ends (0 when closed by the server, negative errno otherwise). */
int agw_etcd_watch(struct agw_etcd *e, json_t *create_request, void (*on_result)(void *arg, json_t *result),
		   void (*on_end)(void *arg, int status), void *arg, struct agw_etcd_call **ret);
/* Ends a call or watch without calling its callbacks. */
void agw_etcd_cancel(struct agw_etcd_call *c);

/* The endpoint calls go to now (for status and logs). */
const char *agw_etcd_endpoint(const struct agw_etcd *e);

/* base64 of len bytes; malloc'd, NULL on allocation failure. */
char *agw_etcd_b64(const void *data, size_t len);
/* Decodes base64 text into a malloc'd NUL-terminated string (*ret_len bytes before the NUL), or
 * NULL when it is not base64. */
char *agw_etcd_unb64(const char *text, size_t *ret_len);
/* The int64 etcd wrote as a string (or a number); def when absent or malformed. */
int64_t agw_etcd_int(json_t *v, int64_t def);

#endif
