/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon configuration: libconfig syntax, a table of known keys, every error collected with
 * its file and line so `alarmgw check` can print them all at once. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "libconfig_text.h"
#include "alarmgw/str.h"

void agw_errors_add(struct agw_errors *errs, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], full[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file && line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", file, line, msg);
	else if (file)
		snprintf(full, sizeof(full), "%s: %s", file, msg);
	else
		snprintf(full, sizeof(full), "%s", msg);
	char **v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
	if (!v)
		return;
	errs->v = v;
	v[errs->n] = strdup(full);
	if (v[errs->n])
		errs->n++;
}

void agw_errors_clear(struct agw_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

int agw_duration_parse(const char *text, int64_t *ret_ms)
{
	if (!text || !*text)
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || !isfinite(v) || v < 0) /* strtod accepts "nan" and "inf" */
		return -EINVAL;
	double mult;
	if (!*end || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else if (strcmp(end, "d") == 0)
		mult = 86400000;
	else
		return -EINVAL;
	double ms = v * mult;
	if (ms > 9.0e15)
		return -ERANGE;
	*ret_ms = (int64_t)(ms + 0.5);
	return 0;
}

enum key_type { K_STR, K_INT, K_BOOL, K_DURATION, K_LOGLEVEL, K_MQTT_VERSION };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	int64_t min, max; /* INT: value; DURATION: ms */
	const char *help;
};

#define C(field) offsetof(struct agw_config, field)
static const struct key keys[] = {
	{"gateway", "id", K_STR, C(gateway_id), 0, 0, "gateway id, part of case ids and topics"},
	{"gateway", "state_dir", K_STR, C(state_dir), 0, 0, "directory for the database and evidence"},
	{"gateway", "db", K_STR, C(db_path), 0, 0, "database file, relative to state_dir"},
	{"gateway", "log_level", K_LOGLEVEL, C(log_level), 0, 0, "err, warning, notice, info or debug"},
	{"gateway", "watchdog", K_DURATION, C(watchdog_ms), 0, 3600000, "watchdog ping interval (0: from systemd)"},
	{"gateway", "queue_max", K_INT, C(queue_max), 100, 10000000, "alerts waiting for the journal"},
	{"gateway", "queue_max_bytes", K_INT, C(queue_max_bytes), 1 << 20, 1LL << 36,
	 "bytes of alerts waiting for the journal"},
	{"gateway", "commit_window", K_DURATION, C(commit_window_ms), 0, 1000,
	 "longest wait of an alert for others to share its journal commit (0: every loop turn)"},
	{"gateway", "commit_max", K_INT, C(commit_max), 1, 5000, "alerts that make a commit at once"},
	{"gateway", "http_listen", K_STR, C(http_listen), 0, 0, "metrics and status page address, host:port"},
	{"gateway", "http_token_file", K_STR, C(http_token_file), 0, 0,
	 "file holding the bearer token of the status server (required off loopback)"},
	{"gateway", "http_hosts", K_STR, C(http_hosts), 0, 0,
	 "Host names the status server answers to (default: loopback names)"},
	{"gateway", "http_time_zone", K_STR, C(http_time_zone), 0, 0,
	 "time zone the status page shows times in (default Asia/Shanghai)"},
	{"gateway", "http_tile_url", K_STR, C(http_tile_url), 0, 0,
	 "map tile URL template of the status page, http(s)://host/{z}/{x}/{y}.png (default: none)"},
	{"gateway", "http_tls_cert", K_STR, C(http_tls_cert), 0, 0,
	 "PEM certificate chain: the status server speaks HTTPS (TLS 1.2+) with it (default: plain HTTP)"},
	{"gateway", "http_tls_key", K_STR, C(http_tls_key), 0, 0, "the PEM private key of http_tls_cert"},
	{"gateway", "evidence_url_key_file", K_STR, C(evidence_url_key_file), 0, 0,
	 "key file (32 to 1024 bytes) of signed, expiring evidence links: GET /evidence/<case>/<n>?exp=&sig= without the token"},
	{"gateway", "journal_retention", K_DURATION, C(journal_retention_ms), 0, 3650LL * 86400000,
	 "age after which journal rows are deleted (0: keep)"},
	{"gateway", "case_retention", K_DURATION, C(case_retention_ms), 0, 3650LL * 86400000,
	 "a case not ended with no alert, feedback or escalation for this long ends as expired (0: never)"},
	{"gateway", "journal_max_rows", K_INT, C(journal_max_rows), 0, 10000000000LL,
	 "alerts kept at most (0: no limit)"},
	{"cameras", "ledger", K_STR, C(ledger_file), 0, 0, "camera ledger CSV imported at start and on reload"},
	{"rules", "file", K_STR, C(rules_file), 0, 0, "the rules file"},
	{"rules", "grid_layer", K_STR, C(grid_layer), 0, 0, "grid layer used to locate cameras"},
	{"rules", "unassigned_cell", K_STR, C(unassigned_cell), 0, 0, "cell code for cameras outside every cell"},
	{"mqtt", "uri", K_STR, C(mqtt.uri), 0, 0, "broker, tcp://host:port or ssl://host:port"},
	{"mqtt", "client_id", K_STR, C(mqtt.client_id), 0, 0, "MQTT client id (default: gateway id)"},
	{"mqtt", "username", K_STR, C(mqtt.username), 0, 0, "broker user"},
	{"mqtt", "password", K_STR, C(mqtt.password), 0, 0, "broker password"},
	{"mqtt", "version", K_MQTT_VERSION, C(mqtt.version), 0, 0, "\"3.1.1\" or \"5\""},
	{"mqtt", "keepalive", K_DURATION, C(mqtt.keepalive_ms), 1000, 3600000, "keep-alive interval"},
	{"mqtt", "clean_session", K_BOOL, C(mqtt.clean_session), 0, 0, "false keeps a persistent session"},
	{"mqtt", "ca_file", K_STR, C(mqtt.ca_file), 0, 0, "TLS CA bundle (server verification is always on)"},
	{"mqtt", "cert_file", K_STR, C(mqtt.cert_file), 0, 0, "TLS client certificate"},
	{"mqtt", "key_file", K_STR, C(mqtt.key_file), 0, 0, "TLS client key"},
	{"mqtt", "topic_prefix", K_STR, C(mqtt.topic_prefix), 0, 0, "first level of every topic"},
	{"mqtt", "case_topic", K_STR, C(mqtt.case_topic), 0, 0, "case topic template"},
	{"mqtt", "status_topic", K_STR, C(mqtt.status_topic), 0, 0, "retained gateway status topic"},
	{"mqtt", "health_topic", K_STR, C(mqtt.health_topic), 0, 0, "retained camera health topic template"},
	{"mqtt", "feedback_topic", K_STR, C(mqtt.feedback_topic), 0, 0, "case status feedback topic"},
	{"mqtt", "inflight", K_INT, C(mqtt.inflight), 1, 65535, "messages awaiting PUBACK at once"},
	{"mqtt", "outbox_max_rows", K_INT, C(mqtt.outbox_max_rows), 1000, 100000000, "outbox size limit"},
	{"mqtt", "reconnect_min", K_DURATION, C(mqtt.reconnect_min_ms), 100, 3600000, "first reconnect delay"},
	{"mqtt", "reconnect_max", K_DURATION, C(mqtt.reconnect_max_ms), 100, 3600000, "longest reconnect delay"},
	{"mqtt", "resend_window", K_DURATION, C(mqtt.resend_window_ms), 0, 600000,
	 "acknowledged messages resent after a reconnect"},
	{"evidence", "enabled", K_BOOL, C(evidence.enabled), 0, 0, "capture a picture for each case"},
	{"evidence", "max_concurrent", K_INT, C(evidence.max_concurrent), 1, 100000, "captures running at once"},
	{"evidence", "queue_max", K_INT, C(evidence.queue_max), 1, 10000000, "captures waiting to start"},
	{"evidence", "min_interval", K_DURATION, C(evidence.min_interval_ms), 0, 3600000,
	 "per camera: captures closer than this are skipped (floods)"},
	{"evidence", "max_bytes", K_INT, C(evidence.max_bytes), 1024, 64LL << 20, "largest picture accepted"},
	{"evidence", "timeout", K_DURATION, C(evidence.timeout_ms), 100, 600000, "deadline of one capture"},
	{"evidence", "max_per_case", K_INT, C(evidence.max_per_case), 1, 1000, "pictures of one case at most"},
	{"evidence", "hold", K_DURATION, C(evidence.hold_ms), 0, 600000,
	 "how long a picture an event brought waits for its case"},
	{"evidence", "max_age", K_DURATION, C(evidence.max_age_ms), 0, 3650LL * 86400000,
	 "picture files older than this are deleted (0: keep)"},
	{"evidence", "max_total_bytes", K_INT, C(evidence.max_total_bytes), 0, 1LL << 50,
	 "picture files kept at most, oldest deleted first (0: no limit)"},
	{"evidence", "min_free_bytes", K_INT, C(evidence.min_free_bytes), 0, 1LL << 50,
	 "free space kept on the state directory's volume: below it no picture is written"},
	{"evidence", "prune_interval", K_DURATION, C(evidence.prune_interval_ms), 1000, 86400000,
	 "how often pictures are pruned"},
	{"evidence", "topic", K_STR, C(evidence.topic), 0, 0, "evidence topic template ({prefix} {gateway} {case} {n})"},
	{"evidence", "url_base", K_STR, C(evidence.url_base), 0, 0,
	 "the status server as the platform reaches it (https://host:port): each evidence entry gets a signed link (needs gateway.evidence_url_key_file)"},
	{"evidence", "url_lifetime", K_DURATION, C(evidence.url_lifetime_ms), 60000, 366LL * 86400000,
	 "how long a signed evidence link stays valid after its message is written"},
	{"cluster", "etcd", K_STR, C(cluster.etcd), 0, 0, "etcd endpoints, comma-separated URLs (unset: one instance)"},
	{"cluster", "id", K_STR, C(cluster.id), 0, 0, "cluster id: the etcd key prefix and the case id base"},
	{"cluster", "slots", K_INT, C(cluster.slots), 1, 65536, "camera slots (the same on every instance)"},
	{"cluster", "lease_ttl", K_DURATION, C(cluster.lease_ttl_ms), 2000, 300000,
	 "an instance silent this long loses its cameras to the others"},
	{"cluster", "claim_rate", K_INT, C(cluster.claim_rate), 1, 1000000, "slot claims per second at most"},
};
#undef C

void agw_config_defaults(struct agw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->gateway_id = agw_strdup_or_null("alarmgw");
	cfg->state_dir = agw_strdup_or_null("/var/lib/alarmgw");
	cfg->db_path = agw_strdup_or_null("alarmgw.db");
	cfg->log_level = AGW_LOG_INFO;
	cfg->queue_max = 100000;
	cfg->queue_max_bytes = 64LL << 20;
	cfg->commit_window_ms = 5;
	cfg->commit_max = 1000;
	cfg->journal_retention_ms = 30LL * 86400000;
	cfg->case_retention_ms = 30LL * 86400000;
	cfg->journal_max_rows = 10000000;
	cfg->grid_layer = agw_strdup_or_null("default");
	cfg->unassigned_cell = agw_strdup_or_null("unassigned");
	struct agw_mqtt_config *m = &cfg->mqtt;
	m->uri = agw_strdup_or_null("tcp://127.0.0.1:1883");
	m->version = 4;
	m->keepalive_ms = 30000;
	m->topic_prefix = agw_strdup_or_null("agw");
	m->case_topic = agw_strdup_or_null(AGW_DEFAULT_CASE_TOPIC);
	m->status_topic = agw_strdup_or_null("{prefix}/gateways/{gateway}/status");
	m->health_topic = agw_strdup_or_null("{prefix}/cameras/{camera}/health");
	m->feedback_topic = agw_strdup_or_null("{prefix}/case-status/{gateway}");
	m->inflight = 64;
	m->outbox_max_rows = 1000000;
	m->reconnect_min_ms = 1000;
	m->reconnect_max_ms = 60000;
	m->resend_window_ms = 2000;
	struct agw_evidence_settings *ev = &cfg->evidence;
	ev->enabled = true;
	ev->max_concurrent = 64;
	ev->queue_max = 10000;
	ev->min_interval_ms = 2000;
	ev->max_bytes = 4LL << 20;
	ev->timeout_ms = 5000;
	/* one picture, when the case opens: at 10,000 cameras a picture per case update made a standing
	 * backlog (docs/performance.md, "Evidence at 10,000 cameras") */
	ev->max_per_case = 1;
	ev->hold_ms = 10000;
	ev->max_age_ms = 7LL * 86400000;
	ev->max_total_bytes = 10LL << 30;
	ev->min_free_bytes = 1LL << 30;
	ev->prune_interval_ms = 60000;
	ev->topic = agw_strdup_or_null("{prefix}/evidence/{case}/{n}");
	ev->url_lifetime_ms = 7LL * 86400000; /* a week: a grid task often stays open for days */
	cfg->cluster.slots = 1024;
	cfg->cluster.lease_ttl_ms = 10000;
	cfg->cluster.claim_rate = 200;
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "a number";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "a value";
	}
}

/* The file a setting came from: the config is read from its text (libconfig_text.h), so libconfig
 * knows no file name; every setting comes from cfg->path. */
static const char *setting_file(const struct agw_config *cfg, const config_setting_t *s)
{
	const char *file = config_setting_source_file(s);
	return file ? file : cfg->path;
}

/* Sets one known key from its setting; records an error and leaves the default otherwise. */
static void set_key(struct agw_config *cfg, const struct key *k, config_setting_t *s, struct agw_errors *errs)
{
	void *field = (char *)cfg + k->offset;
	const char *file = setting_file(cfg, s);
	int line = (int)config_setting_source_line(s);
	int t = config_setting_type(s);
	switch (k->type) {
	case K_STR:
		if (t != CONFIG_TYPE_STRING) {
			agw_errors_add(errs, file, line, "%s.%s must be a string, not %s", k->section, k->name, type_name(t));
			return;
		}
		free(*(char **)field);
		*(char **)field = strdup(config_setting_get_string(s));
		return;
	case K_BOOL:
		if (t != CONFIG_TYPE_BOOL) {
			agw_errors_add(errs, file, line, "%s.%s must be true or false", k->section, k->name);
			return;
		}
		*(bool *)field = config_setting_get_bool(s);
		return;
	case K_INT: {
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			agw_errors_add(errs, file, line, "%s.%s must be a whole number, not %s", k->section, k->name,
				       type_name(t));
			return;
		}
		long long v = config_setting_get_int64(s);
		if (v < k->min || v > k->max) {
			agw_errors_add(errs, file, line, "%s.%s = %lld is out of range [%lld, %lld]", k->section, k->name, v,
				       (long long)k->min, (long long)k->max);
			return;
		}
		*(int64_t *)field = v;
		return;
	}
	case K_DURATION: {
		int64_t ms;
		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			long long v = config_setting_get_int64(s);
			if (v < 0 || v > 9000000000000LL) {
				agw_errors_add(errs, file, line, "%s.%s must be a positive duration", k->section, k->name);
				return;
			}
			ms = v * 1000;
		} else if (t != CONFIG_TYPE_STRING || agw_duration_parse(config_setting_get_string(s), &ms) < 0) {
			agw_errors_add(errs, file, line, "%s.%s must be a duration such as \"500ms\", \"10s\", \"5m\", \"1h\"",
				       k->section, k->name);
			return;
		}
		if (ms < k->min || ms > k->max) {
			agw_errors_add(errs, file, line, "%s.%s is out of range [%lldms, %lldms]", k->section, k->name,
				       (long long)k->min, (long long)k->max);
			return;
		}
		*(int64_t *)field = ms;
		return;
	}
	case K_LOGLEVEL:
		if (t != CONFIG_TYPE_STRING || agw_log_level_parse(config_setting_get_string(s), field) < 0)
			agw_errors_add(errs, file, line, "%s.%s must be one of err, warning, notice, info, debug", k->section,
				       k->name);
		return;
	case K_MQTT_VERSION: {
		const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
		if (v && (strcmp(v, "3.1.1") == 0 || strcmp(v, "4") == 0))
			*(int *)field = 4;
		else if (v && strcmp(v, "5") == 0)
			*(int *)field = 5;
		else if ((t == CONFIG_TYPE_INT) && (config_setting_get_int(s) == 4 || config_setting_get_int(s) == 5))
			*(int *)field = config_setting_get_int(s);
		else
			agw_errors_add(errs, file, line, "%s.%s must be \"3.1.1\" or \"5\"", k->section, k->name);
		return;
	}
	}
}

static const char *const sections[] = {"gateway", "cameras", "rules", "mqtt", "cluster", "evidence", "adapters"};

static bool known_section(const char *name)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(name, sections[i]) == 0)
			return true;
	return false;
}

static void load_section(struct agw_config *cfg, config_setting_t *group, struct agw_errors *errs)
{
	const char *section = config_setting_name(group);
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k = NULL;
		for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			if (strcmp(keys[j].section, section) == 0 && strcmp(keys[j].name, name) == 0)
				k = &keys[j];
		if (!k) {
			agw_errors_add(errs, setting_file(cfg, s), (int)config_setting_source_line(s),
				       "unknown key %s.%s", section, name);
			continue;
		}
		set_key(cfg, k, s, errs);
	}
}

static void load_adapters(struct agw_config *cfg, config_setting_t *group, struct agw_errors *errs)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		if (!config_setting_is_group(s)) {
			agw_errors_add(errs, setting_file(cfg, s), (int)config_setting_source_line(s),
				       "adapters.%s must be a group { ... }", config_setting_name(s));
			continue;
		}
		/* "enabled = false;" keeps a section around without running the adapter. */
		int enabled = 1;
		config_setting_t *en = config_setting_get_member(s, "enabled");
		if (en && config_setting_type(en) != CONFIG_TYPE_BOOL)
			agw_errors_add(errs, setting_file(cfg, en), (int)config_setting_source_line(en),
				       "adapters.%s.enabled must be true or false", config_setting_name(s));
		else if (en)
			enabled = config_setting_get_bool(en);
		if (!enabled)
			continue;
		char **v = realloc(cfg->adapters, (cfg->n_adapters + 1) * sizeof(*v));
		if (!v)
			return;
		cfg->adapters = v;
		v[cfg->n_adapters++] = strdup(config_setting_name(s));
	}
}

/* evidence.url_base: an http(s) base the links are appended to, signed with the gateway's key. */
static void check_url_base(const struct agw_config *cfg, const char *path, struct agw_errors *errs)
{
	const char *b = cfg->evidence.url_base;
	if (!b || !*b)
		return;
	if ((strncmp(b, "http://", 7) != 0 && strncmp(b, "https://", 8) != 0) || strpbrk(b, "?# \t\r\n@"))
		agw_errors_add(errs, path, 0, "evidence.url_base must be an http:// or https:// address without "
					      "query, fragment, credentials or spaces (\"%s\")", b);
	if (!cfg->evidence_url_key_file || !*cfg->evidence_url_key_file)
		agw_errors_add(errs, path, 0, "evidence.url_base needs gateway.evidence_url_key_file (the key the links are signed with)");
}

int agw_config_load(const char *path, struct agw_config *cfg, struct agw_errors *errs)
{
	agw_config_defaults(cfg);
	cfg->path = strdup(path);
	config_init(&cfg->tree);
	cfg->has_tree = true;
	size_t before = errs->n;
	char *text = NULL, why[160];
	int text_line = 0;
	if (agw_libconfig_text_read(path, &text, &text_line, why, sizeof(why)) < 0) {
		agw_errors_add(errs, path, text_line, "%s", why);
		return -EINVAL;
	}
	int read_ok = config_read_string(&cfg->tree, text);
	free(text);
	if (!read_ok) {
		agw_errors_add(errs, config_error_file(&cfg->tree) ? config_error_file(&cfg->tree) : path,
			       config_error_line(&cfg->tree), "syntax error: %s", config_error_text(&cfg->tree));
		return -EINVAL;
	}
	config_setting_t *root = config_root_setting(&cfg->tree);
	int n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		int line = (int)config_setting_source_line(s);
		if (!known_section(name)) {
			agw_errors_add(errs, path, line, "unknown section \"%s\" (expected gateway, cameras, rules, mqtt, cluster, evidence, adapters)",
				       name);
			continue;
		}
		if (!config_setting_is_group(s)) {
			agw_errors_add(errs, path, line, "%s must be a group { ... }", name);
			continue;
		}
		if (strcmp(name, "adapters") == 0)
			load_adapters(cfg, s, errs);
		else
			load_section(cfg, s, errs);
	}
	if (cfg->mqtt.reconnect_min_ms > cfg->mqtt.reconnect_max_ms)
		agw_errors_add(errs, path, 0, "mqtt.reconnect_min is larger than mqtt.reconnect_max");
	if ((cfg->mqtt.cert_file == NULL) != (cfg->mqtt.key_file == NULL))
		agw_errors_add(errs, path, 0, "mqtt.cert_file and mqtt.key_file go together");
	if (!cfg->gateway_id || !*cfg->gateway_id || strpbrk(cfg->gateway_id, "/+#"))
		agw_errors_add(errs, path, 0, "gateway.id must be non-empty without / + #");
	check_url_base(cfg, path, errs);
	agw_log_set_level(cfg->log_level);
	return errs->n > before ? -EINVAL : 0;
}

void agw_config_free(struct agw_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].type == K_STR)
			free(*(char **)((char *)cfg + keys[i].offset));
	for (size_t i = 0; i < cfg->n_adapters; i++)
		free(cfg->adapters[i]);
	free(cfg->adapters);
	free(cfg->path);
	if (cfg->has_tree)
		config_destroy(&cfg->tree);
	memset(cfg, 0, sizeof(*cfg));
}

config_setting_t *agw_config_adapter_section(struct agw_config *cfg, const char *name)
{
	if (!cfg->has_tree)
		return NULL;
	config_setting_t *adapters = config_lookup(&cfg->tree, "adapters");
	return adapters ? config_setting_get_member(adapters, name) : NULL;
}

static char *join(const char *dir, const char *path)
{
	char *out = NULL;
	if (!path)
		return NULL;
	if (path[0] == '/' || !dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

char *agw_config_resolve(const struct agw_config *cfg, const char *path)
{
	if (!path)
		return NULL;
	if (!cfg->path)
		return strdup(path);
	char *copy = strdup(cfg->path);
	if (!copy)
		return NULL;
	char *out = join(dirname(copy), path);
	free(copy);
	return out;
}

char *agw_config_db_path(const struct agw_config *cfg)
{
	char *dir = agw_config_resolve(cfg, cfg->state_dir);
	char *out = join(dir, cfg->db_path);
	free(dir);
	return out;
}

char *agw_config_adapter_path(struct agw_config *cfg, const char *adapter, const char *key)
{
	config_setting_t *section = agw_config_adapter_section(cfg, adapter);
	const char *value = NULL;
	if (!section || !config_setting_lookup_string(section, key, &value))
		return NULL;
	return agw_config_resolve(cfg, value);
}
