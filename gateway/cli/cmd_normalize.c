/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw normalize --adapter onvif FILE...`: shows what the gateway makes of a camera's event XML,
 * one JSON object per NotificationMessage, so an integrator can check a new vendor's captures
 * (and extend the topic table) without a camera or a running daemon. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "onvif_normalize.h"

/* Input files are read up to this size; the normalizer has its own (larger) limit. */
#define NORMALIZE_MAX_INPUT (16u << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: alarmgw normalize --adapter onvif [--topic-table FILE] [-c CONFIG] FILE...\n"
		   "Prints one JSON object per line per ONVIF NotificationMessage found in each FILE (a\n"
		   "PullMessagesResponse envelope, a wsnt:NotificationMessage or a tt:MetadataStream):\n"
		   "topic, kind, active, operation, camera_time, source, key, data.\n"
		   "  --adapter NAME       the adapter whose normalization to apply (onvif)\n"
		   "  --topic-table FILE   extra topic-to-kind lines, tried before the default table\n"
		   "  -c, --config FILE    use the configuration's adapters.onvif.topic_table\n"
		   "Exit status: 0 ok, 1 a SOAP Fault or XML that is not well-formed (reason on stderr), 2 usage.\n");
}

static json_t *items_json(const struct agw_items *items)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < items->n; i++)
		json_object_set_new(o, items->v[i].name, json_string(items->v[i].value ? items->v[i].value : ""));
	return o;
}

static json_t *camera_time_json(int64_t ms)
{
	if (ms == AGW_TIME_UNKNOWN)
		return json_null();
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	char buf[40];
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

static int print_alert(void *arg, struct agw_alert *a)
{
	(void)arg;
	const char *op = agw_operation_name(a->operation);
	json_t *o = json_object();
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "topic", json_string(a->topic ? a->topic : ""));
	json_object_set_new(o, "kind", json_string(agw_alert_kind_name(a->kind)));
	json_object_set_new(o, "active", a->active == AGW_ACTIVE_NONE ? json_null() : json_boolean(a->active == AGW_ACTIVE_TRUE));
	json_object_set_new(o, "operation", op ? json_string(op) : json_null());
	json_object_set_new(o, "camera_time", camera_time_json(a->camera_time_ms));
	json_object_set_new(o, "source", items_json(&a->source));
	json_object_set_new(o, "key", items_json(&a->key));
	json_object_set_new(o, "data", items_json(&a->data));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
}

static int read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	char *buf = malloc(NORMALIZE_MAX_INPUT + 1);
	size_t n = buf ? fread(buf, 1, NORMALIZE_MAX_INPUT + 1, f) : 0;
	int rc = 0;
	if (!buf) {
		rc = -ENOMEM;
		fprintf(stderr, "%s: out of memory\n", path);
	} else if (ferror(f)) {
		rc = -EIO;
		fprintf(stderr, "%s: read error\n", path);
	} else if (n > NORMALIZE_MAX_INPUT) {
		rc = -EMSGSIZE;
		fprintf(stderr, "%s: larger than %u bytes\n", path, NORMALIZE_MAX_INPUT);
	}
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*ret_buf = buf;
	*ret_len = n;
	return 0;
}

static int normalize_file(const char *path, const struct agw_onvif_topic_table *table)
{
	char *buf = NULL;
	size_t len = 0;
	if (read_file(path, &buf, &len) < 0)
		return 1;
	char err[512] = "";
	int rc = agw_onvif_normalize(buf, len, table, print_alert, NULL, err, sizeof(err));
	free(buf);
	fflush(stdout);
	if (rc >= 0)
		return 0;
	unsigned line;
	int off = 0;
	/* "line N: what" becomes "FILE:N: what", the form editors jump to */
	if (sscanf(err, "line %u: %n", &line, &off) == 1 && off > 0)
		fprintf(stderr, "%s:%u: %s\n", path, line, err + off);
	else
		fprintf(stderr, "%s: %s\n", path, err);
	return 1;
}

int agw_cmd_normalize(int argc, char **argv)
{
	static const struct option opts[] = {
		{"adapter", required_argument, NULL, 'a'},
		{"topic-table", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *adapter = NULL, *table_path = NULL, *config_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:t:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': adapter = optarg; break;
		case 't': table_path = optarg; break;
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!adapter || strcmp(adapter, "onvif") != 0 || optind >= argc) {
		if (adapter && strcmp(adapter, "onvif") != 0)
			fprintf(stderr, "normalize: unknown adapter '%s' (known: onvif)\n", adapter);
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	char *cfg_table = NULL;
	if (config_path) {
		if (agw_cli_load_config(config_path, NULL, &cfg) != 0)
			return 1;
		cfg_table = agw_config_adapter_path(&cfg, "onvif", "topic_table");
		agw_config_free(&cfg);
		if (!table_path)
			table_path = cfg_table;
	}
	struct agw_onvif_topic_table *table = NULL;
	if (table_path) {
		char err[512];
		if (agw_onvif_topic_table_load(table_path, &table, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			free(cfg_table);
			return 1;
		}
	}
	int ret = 0;
	for (int i = optind; i < argc; i++)
		if (normalize_file(argv[i], table ? table : agw_onvif_topic_table_default()) != 0)
			ret = 1;
	agw_onvif_topic_table_free(table);
	free(cfg_table);
	return ret;
}
