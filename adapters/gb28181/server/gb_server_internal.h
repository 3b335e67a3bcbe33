/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the SIP server, shared by its logic (gb_server.c) and its transports
 * (gb_transport.c). */
#ifndef AGW_GB_SERVER_INTERNAL_H
#define AGW_GB_SERVER_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "gb_manscdp.h"
#include "gb_digest.h"
#include "gb_server.h"
#include "gb_sip.h"

/* Where a request came from and where its answer goes: UDP (conn 0) or a TCP connection. */
struct gb_peer {
	struct sockaddr_storage addr;
	uint64_t conn;
};

#define COMPONENT "gb28181"
#define BUCKETS 4096u
#define TXN_LINGER_MS 32000     /* 64*T1: how long an answered transaction absorbs retransmissions */
#define NONCE_LIFETIME_S 300
#define SN_RING 64              /* alarms remembered per device, against repeats */
#define SWEEP_MS 250         /* timers' granularity: liveness, expiry, our retransmissions */
#define GB_ID_LEN 20

enum txn_state { TXN_PROCEEDING, TXN_COMPLETED };

struct txn {
	struct txn *hnext;      /* hash chain */
	struct txn *qnext;      /* expiry queue (completed ones) */
	struct agw_gb_server *srv;
	char *key;
	enum txn_state state;
	struct gb_peer peer;
	char *response;
	size_t response_len;
	int64_t expire_ms;
	struct agw_gb_sip_msg *req; /* kept while proceeding, to build the answer */
	char device[GB_ID_LEN + 1];
	uint64_t alarm_key;      /* see alarm_key() in gb_server.c; 0: none */
	uint64_t lost_key;       /* the same, also without an SN (gb_lost.c) */
	char sn[24], channel[GB_ID_LEN + 1]; /* for the Alarm Response */
	char method[8], type[8];             /* for ResetAlarm */
	bool orphan;            /* the server stopped before done() came */
};

struct device {
	struct device *hnext;
	char id[GB_ID_LEN + 1];
	struct gb_peer peer;
	bool registered, online;
	int64_t expires_ms, last_seen_ms;
	uint64_t alarm_keys[SN_RING]; /* alarms journaled lately (0: free slot) */
	unsigned alarm_pos;
	bool warned_password, warned_encoding, offline_pending;
	enum agw_active offline_state; /* last camera_offline emitted for this device's camera */
	char via_host[64];             /* how the device addresses us (its Request-URI's IP), or "" */
	/* what the gateway asks of it (gb_control.c) */
	int64_t next_catalog_ms, next_subscribe_ms; /* 0: not scheduled */
	uint32_t catalog_sn;           /* of the query whose answer is arriving */
	/* the alarm subscription's dialog (RFC 6665): the device's To-tag and Contact from its 2xx,
	 * so that refreshes go in the dialog; "" until one came. sub_dialog numbers the Call-ID: a
	 * subscription the device refused or forgot (481) starts a new dialog. */
	char sub_to_tag[64], sub_target[128];
	uint32_t sub_dialog;
	long catalog_sum;              /* its SumNum, -1 unknown */
	size_t catalog_got, catalog_unmatched;
	bool warned_control;
};

/* A channel some device's catalog (or alarm) named, as last stored (gb_control.c). */
struct chan {
	struct chan *hnext, *dnext; /* hash chain; queue of channels to store */
	struct chan *pnext;         /* channels whose camera_offline edge the core has yet to take */
	struct agw_gb_channel c;
	enum agw_active offline_state; /* the last camera_offline emitted for its camera from its Status */
	bool offline_pending;
	bool located;                  /* its position was offered to its camera (env.locate): at loc_* */
	double loc_lon, loc_lat;
	int64_t first_alarm_ms;     /* wall clock of its first alarm while unmatched, 0: none */
	char *stored;               /* the JSON last handed to channel_put, NULL: none */
	bool dirty;
};

/* A request of ours (RFC 3261 17.1.2, non-INVITE client transaction): sent again with Timer E
 * (500 ms doubling to 4 s) over UDP until a final answer comes or Timer F (32 s) runs out. */
struct creq {
	struct creq *next, *prev;
	struct creq *hnext;     /* in creqs_by_branch */
	char branch[48];
	char device[GB_ID_LEN + 1];
	bool subscribe;         /* its answer sets or ends the device's subscription dialog */
	struct gb_peer peer;
	char *data;
	size_t len;
	int64_t next_ms, deadline_ms, interval_ms;
};

/* A TCP connection (RFC 3261 18.3 framing). */
struct gb_conn {
	struct gb_conn *hnext;      /* by id */
	struct gb_conn *next, *prev; /* every connection, for the idle sweep */
	struct agw_gb_server *srv;
	uint64_t id;
	uv_tcp_t tcp;
	struct sockaddr_storage addr;
	char *buf;
	size_t len, cap;
	int64_t last_ms;
	bool closing;
};

/* Liveness notices of the current window (gb_notices.c) */
enum gb_notice_kind { GB_NOTICE_ONLINE, GB_NOTICE_OFFLINE, GB_NOTICE_EXPIRED, GB_NOTICE__COUNT };
struct gb_notices {
	int64_t window_start;            /* uv_now of its first change */
	unsigned named;                  /* changes logged by device in it */
	uint64_t more[GB_NOTICE__COUNT]; /* changes only counted */
};

struct agw_gb_server {
	uv_loop_t *loop;
	uv_udp_t *udp;          /* on the heap: a failed start closes them without the server */
	uv_tcp_t *listener;
	uv_timer_t sweep;
	struct gb_conn *conns_by_id[BUCKETS];
	struct gb_conn *conns;
	size_t n_conns;
	uint64_t next_conn;
	int closing;
	void (*stop_done)(void *arg);
	void *stop_arg;
	bool stopping;
	struct agw_gb_server_config cfg;
	char sip_id[GB_ID_LEN + 1], domain[32];
	char *password;
	struct agw_gb_server_env env;
	struct agw_gb_nonce_key nonce_key;
	struct txn *txns[BUCKETS];
	struct txn *q_head, *q_tail;
	size_t n_pending;           /* alarms handed to emit_durable without an answer yet */
	struct device *devices[BUCKETS];
	size_t n_devices;
	char rbuf[AGW_GB_SIP_MAX_MESSAGE + 1];
	struct agw_gb_server_stats stats;
	char tag[16];
	char via_host[64];          /* the address option, or the listen address when it is not a wildcard */
	int port;                   /* the port bound */
	struct creq *creqs;
	struct creq *creqs_by_branch[BUCKETS]; /* a device's answer finds its request without a walk */
	size_t n_creqs;
	uint32_t cseq, next_id, next_sn;
	char sub_event[32];
	char catalog_crs[16];
	struct chan *chans[BUCKETS];
	size_t n_chans;
	struct chan *dirty_head, *dirty_tail;
	struct chan *offline_pending;  /* see chan.pnext */
	struct refused *refused[BUCKETS], *refused_head, *refused_tail; /* gb_lost.c */
	size_t n_refused;
	bool warned_refused;
	struct gb_notices notices;
	int64_t udp_drops_logged_ms;
};

/* transports (gb_transport.c) */
int gb_transport_start(struct agw_gb_server *s, const char *listen, char *err, size_t errlen);
void gb_transport_close(struct agw_gb_server *s); /* each closed handle calls gb_server_handle_closed */
void gb_transport_send(struct agw_gb_server *s, const struct gb_peer *p, const char *data, size_t len);
void gb_transport_sweep(struct agw_gb_server *s, int64_t now);
void gb_peer_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port);
bool gb_peer_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* our requests (gb_request.c) */
/* Sends <Response><CmdType>Alarm</CmdType>...<Result>OK</Result></Response> to the device, the
 * answer GB/T 28181 asks a platform to give an alarm notification after its 200 OK. */
void gb_request_alarm_response(struct agw_gb_server *s, const struct device *d, const char *sn,
			       const char *channel);
/* <Query><CmdType>Catalog</CmdType>: returns its SN, 0 when it could not be sent. */
uint32_t gb_request_catalog(struct agw_gb_server *s, const struct device *d);
/* <Control><CmdType>DeviceControl</CmdType> to target (the device or a channel) with command, an
 * XML fragment ("<GuardCmd>SetGuard</GuardCmd>"). */
void gb_request_control(struct agw_gb_server *s, const struct device *d, const char *target, const char *command);
/* SUBSCRIBE to the device's alarms (Event per config, an Alarm query body), one dialog per device. */
void gb_request_subscribe(struct agw_gb_server *s, const struct device *d, int64_t expires_s);
/* An answer to one of our requests: stops its retransmissions. Returns whether it was ours. */
bool gb_request_answered(struct agw_gb_server *s, const struct agw_gb_sip_msg *m);
/* The same from the raw bytes of a response, reading only its status and top Via branch: true
 * when it answered one of our requests that needs nothing more from it (all but SUBSCRIBE, whose
 * answer makes a dialog); false: parse it whole and call gb_request_answered. */
bool gb_request_answered_raw(struct agw_gb_server *s, const char *buf, size_t len);
void gb_request_sweep(struct agw_gb_server *s, int64_t now);
void gb_request_free_all(struct agw_gb_server *s);

/* catalog, arming, subscriptions, channels (gb_control.c) */
/* A device registered anew: query its catalog, arm it, subscribe, as configured. */
void gb_control_registered(struct agw_gb_server *s, struct device *d, int64_t now);
/* Per device and sweep: the catalog schedule and the subscription refresh. */
void gb_control_sweep_device(struct agw_gb_server *s, struct device *d, int64_t now);
/* Stores a bounded number of changed channels (channel_put is a synchronous write). */
void gb_control_flush(struct agw_gb_server *s);
/* Per sweep: camera_offline edges the core refused before, then gb_control_flush. */
void gb_control_sweep(struct agw_gb_server *s);
/* A Response document from the device (Catalog, DeviceControl). */
void gb_control_response(struct agw_gb_server *s, struct device *d, const struct agw_gb_doc *doc);
/* An alarm from a channel no ledger row has: listed with the channels. */
void gb_control_unmatched_alarm(struct agw_gb_server *s, struct device *d, const char *channel);
/* After an alarm is journaled: ResetAlarm, when configured. */
void gb_control_alarm_journaled(struct agw_gb_server *s, struct device *d, const struct txn *t);
void gb_control_free_all(struct agw_gb_server *s);

/* device liveness notices (gb_notices.c): the first few of a window by device, then a count */
void gb_notice(struct agw_gb_server *s, const char *device, enum gb_notice_kind kind, int64_t now);
void gb_notices_sweep(struct agw_gb_server *s, int64_t now); /* ends a window that is over */
void gb_notices_flush(struct agw_gb_server *s);              /* at stop: what is still counted */

/* alarms not taken whose device will not send them again (gb_lost.c) */
struct gb_lost_alarm {
	const char *camera, *device, *channel, *sn;
};
/* An alarm (key: alarm_key() of gb_server.c) was not taken: error NULL for back-pressure (no
 * answer: the device retransmits until its Timer F), else the error of the answer it got. */
void gb_lost_refused(struct agw_gb_server *s, uint64_t key, const struct gb_lost_alarm *a, const char *error);
/* It was journaled after all (a retransmission got in). */
void gb_lost_journaled(struct agw_gb_server *s, uint64_t key);
/* events_lost for those whose device has given up (or was told an error). */
void gb_lost_sweep(struct agw_gb_server *s, int64_t now);
void gb_lost_free_all(struct agw_gb_server *s);

/* the server (gb_server.c) */
uint32_t gb_hash(const char *s); /* FNV-1a, for the tables of BUCKETS */
struct device *gb_server_device(const struct agw_gb_server *s, const char *id); /* NULL: none */
/* camera_offline (active: !online) for a ledger camera, through env.emit; returns its result. */
int gb_server_emit_offline(struct agw_gb_server *s, const char *camera, bool online, const char *topic);
void gb_server_dispatch(struct agw_gb_server *s, const char *buf, size_t len, unsigned sip_flags,
			const struct gb_peer *peer);
void gb_server_handle_closed(uv_handle_t *h); /* h->data is the server; frees nothing */
void gb_server_closed(struct agw_gb_server *s);  /* one more handle of the server is closed */

#endif
