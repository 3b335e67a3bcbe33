/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon configuration: one human-edited libconfig file (docs/configuration.md documents every
 * key). Loading collects every error (unknown keys, bad values, missing files it references) as
 * "file:line: message" instead of stopping at the first. */
#ifndef ALARMGW_CONFIG_H
#define ALARMGW_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "alarmgw/log.h"

struct agw_errors {
	char **v; /* "file:line: message" */
	size_t n;
};
void agw_errors_add(struct agw_errors *errs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void agw_errors_clear(struct agw_errors *errs);

struct agw_mqtt_config {
	char *uri;            /* tcp://host:port, ssl://host:port, mqtts://..., ws:// not supported */
	char *client_id;      /* default: the gateway id */
	char *username;
	char *password;       /* never logged */
	int version;          /* 4 = MQTT 3.1.1, 5 = MQTT 5 */
	int64_t keepalive_ms;
	bool clean_session;   /* false: persistent session (the default) */
	char *ca_file;        /* TLS: CA bundle; verification is always on with TLS */
	char *cert_file;      /* TLS client certificate (optional) */
	char *key_file;
	char *topic_prefix;   /* e.g. "agw" */
	char *case_topic;     /* template: {prefix} {gateway} {district} {street} {community} {grid} {kind} */
	char *status_topic;   /* retained gateway online/offline + last will */
	char *health_topic;   /* template per camera: {prefix} {gateway} {camera} */
	char *feedback_topic; /* case status feedback from the platform (subscribed) */
	int64_t inflight;     /* in-flight window */
	int64_t outbox_max_rows;
	int64_t reconnect_min_ms, reconnect_max_ms;
	int64_t resend_window_ms; /* acknowledged rows kept and resent on reconnect (broker crash) */
};

/* The case topic when the configuration names none (the one default: config and decider share it). */
#define AGW_DEFAULT_CASE_TOPIC "{prefix}/cases/{district}/{grid}"

/* Scale-out through etcd (gateway/cluster/); etcd NULL: a single instance, as without a cluster. */
struct agw_cluster_settings {
	char *etcd;           /* comma-separated endpoint URLs */
	char *id;             /* cluster id (default: the gateway id) */
	int64_t slots;
	int64_t lease_ttl_ms;
	int64_t claim_rate;   /* slot claims per second */
};

/* Evidence pictures of cases (gateway/evidence/, docs/case-message.md "Evidence"). */
struct agw_evidence_settings {
	bool enabled;
	int64_t max_concurrent;   /* captures running at once on this instance */
	int64_t queue_max;        /* captures waiting; past it a capture fails "queue full" */
	int64_t min_interval_ms;  /* per camera: a capture sooner than this after the last one is skipped */
	int64_t max_bytes;        /* one picture */
	int64_t timeout_ms;       /* one capture, from its start */
	int64_t max_per_case;     /* pictures of one case */
	int64_t hold_ms;          /* a picture an event brought waits this long for its case */
	int64_t max_age_ms;       /* files older than this are pruned (0: keep) */
	int64_t max_total_bytes;  /* files kept at most, oldest pruned first (0: no limit) */
	int64_t min_free_bytes;   /* free space kept on the state volume: no picture is written below it */
	int64_t prune_interval_ms;
	char *topic;              /* template: {prefix} {gateway} {case} {n} */
	/* Signed links in evidence entries (docs/case-message.md "Signed links"): the status server's
	 * address as the platform reaches it ("https://gw-07.example:8443"), NULL: no links; signed
	 * with gateway.evidence_url_key_file, valid url_lifetime_ms from the message's writing. */
	char *url_base;
	int64_t url_lifetime_ms;
};

struct agw_config {
	char *path;           /* the file it was read from, NULL for defaults */
	/* gateway */
	char *gateway_id;
	char *state_dir;
	char *db_path;        /* absolute, or relative to state_dir */
	enum agw_log_level log_level;
	int64_t watchdog_ms;  /* 0: use WATCHDOG_USEC from systemd when present */
	int64_t queue_max;    /* alerts waiting for the journal; past it adapters are refused and it is counted */
	int64_t queue_max_bytes; /* the same bound in bytes (payloads can be large) */
	int64_t commit_window_ms; /* alerts wait at most this long for others to share their commit */
	int64_t commit_max;       /* ... or until this many are queued */
	char *http_listen;    /* metrics/status listen address "127.0.0.1:9108", or NULL for off */
	char *http_token_file;/* bearer token of the status server (required off loopback), or NULL */
	char *http_hosts;     /* Host names it answers to, comma separated; NULL: loopback names */
	char *http_time_zone; /* IANA zone of the page's times; NULL: Asia/Shanghai */
	char *http_tile_url;  /* map tile URL template; NULL: the grid alone is the map */
	char *http_tls_cert;  /* PEM certificate chain: the status server speaks HTTPS; NULL: HTTP */
	char *http_tls_key;   /* its PEM private key */
	char *evidence_url_key_file; /* key of signed evidence links (GET /evidence/... without the token), or NULL */
	int64_t case_retention_ms;    /* open cases idle this long end as expired (decider_expiry.c); 0: never */
	int64_t journal_retention_ms; /* alerts, decisions and closed cases older than this are deleted */
	int64_t journal_max_rows;     /* alerts beyond this many are deleted, oldest first */
	/* cameras */
	char *ledger_file;    /* optional CSV imported at start and on reload */
	/* rules and grid */
	char *rules_file;
	char *grid_layer;     /* grid layer name used for locating cameras */
	char *unassigned_cell;/* code used when a camera is outside every cell and has no owner cell */
	struct agw_mqtt_config mqtt;
	struct agw_cluster_settings cluster;
	struct agw_evidence_settings evidence;
	/* adapters: the parsed libconfig tree is kept so adapters parse their own option tables */
	config_t tree;
	bool has_tree;
	char **adapters;      /* names of the adapters enabled, in file order */
	size_t n_adapters;
};

/* Defaults for everything (used by --db PATH mode). */
void agw_config_defaults(struct agw_config *cfg);
/* Reads and validates path. Returns 0 when there are no errors; otherwise -EINVAL with every error
 * in errs. The config is filled as far as it could be either way; free it with agw_config_free. */
int agw_config_load(const char *path, struct agw_config *cfg, struct agw_errors *errs);
void agw_config_free(struct agw_config *cfg);
/* The adapter's section ("adapters.<name>") or NULL. */
config_setting_t *agw_config_adapter_section(struct agw_config *cfg, const char *name);
/* The string option `key` of adapter section `adapter`, resolved as a path like agw_config_resolve;
 * NULL when absent. malloc'd. */
char *agw_config_adapter_path(struct agw_config *cfg, const char *adapter, const char *key);
/* Full path of the database (state_dir joined with db_path); malloc'd. */
char *agw_config_db_path(const struct agw_config *cfg);
/* Resolves a path relative to the config file's directory; malloc'd. */
char *agw_config_resolve(const struct agw_config *cfg, const char *path);

/* Parses "500ms", "10s", "5m", "1h", "2d" or a bare number of seconds. */
int agw_duration_parse(const char *text, int64_t *ret_ms);

#endif
