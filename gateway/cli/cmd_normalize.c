/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw normalize --adapter NAME FILE...`: shows what the gateway makes of a device's event
 * documents (an ONVIF PullMessages answer, a captured ISAPI or Dahua stream, a GB/T 28181 MESSAGE),
 * one JSON object per event, so an integrator can check a new vendor's captures (and extend the
 * adapter's event table) without a camera or a running daemon. The adapter's normalize hook does
 * the work; this file only reads files, sets the options and prints. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alarmgw/adapter.h"
#include "cli.h"
#include "options.h"

/* Input files are read up to this size; the normalizer has its own (larger) limit. */
#define NORMALIZE_MAX_INPUT (16u << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: alarmgw normalize --adapter NAME [--table FILE] [-c CONFIG] FILE...\n"
		   "Prints one JSON object per line per event found in each FILE, as the adapter would\n"
		   "emit it: topic, kind, active, operation, camera_time, source, key, data.\n"
		   "  --adapter NAME       the adapter whose normalization to apply:");
	for (size_t i = 0; agw_adapters[i]; i++)
		if (agw_adapters[i]->normalize)
			fprintf(f, " %s", agw_adapters[i]->name);
	fprintf(f, "\n"
		   "  --table FILE         extra event-type-to-kind lines, tried before the built-in table\n"
		   "                       (--topic-table is the same, for ONVIF)\n"
		   "  -c, --config FILE    use the configuration's adapters.NAME section (its table)\n"
		   "Exit status: 0 ok (a document without events prints nothing), 1 a file that could not be\n"
		   "read whole: the events before the fault are printed, the reason (file and line or byte\n"
		   "offset) goes to stderr; 2 usage.\n");
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

static int normalize_file(const char *path, const struct agw_adapter *adapter, const void *opts)
{
	char *buf = NULL;
	size_t len = 0;
	if (read_file(path, &buf, &len) < 0)
		return 1;
	char err[512] = "";
	int rc = adapter->normalize(opts, buf, len, print_alert, NULL, err, sizeof(err));
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
		fprintf(stderr, "%s: %s\n", path, err[0] ? err : strerror(-rc));
	return 1;
}

/* The adapter's options as the daemon would set them: its config section when -c is given, the
 * defaults otherwise; --table overrides the adapter's table option. */
static int load_options(const struct agw_adapter *a, const char *config_path, const char *table_path, void **ret)
{
	void *opts = calloc(1, a->priv_size ? a->priv_size : 1);
	if (!opts)
		return -ENOMEM;
	struct agw_config cfg;
	struct agw_errors errs = {0};
	int r = 0;
	if (config_path) {
		if (agw_cli_load_config(config_path, NULL, &cfg) != 0) {
			free(opts);
			return -EINVAL;
		}
		r = agw_options_parse(a, agw_config_adapter_section(&cfg, a->name), opts, cfg.path, &errs);
		agw_config_free(&cfg);
	} else {
		r = agw_options_parse(a, NULL, opts, NULL, &errs);
	}
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	agw_errors_clear(&errs);
	if (r >= 0 && table_path) {
		const struct agw_option *o = a->options;
		while (o && o->name && (!a->table_option || strcmp(o->name, a->table_option) != 0))
			o++;
		if (!o || !o->name || (o->type != AGW_OPT_PATH && o->type != AGW_OPT_STRING)) {
			fprintf(stderr, "normalize: adapter %s has no event table option\n", a->name);
			r = -EINVAL;
		} else {
			char **field = (char **)((char *)opts + o->offset);
			free(*field);
			*field = strdup(table_path);
			r = *field ? 0 : -ENOMEM;
		}
	}
	if (r < 0) {
		agw_options_free(a, opts);
		free(opts);
		return r;
	}
	*ret = opts;
	return 0;
}

int agw_cmd_normalize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"adapter", required_argument, NULL, 'a'},
		{"table", required_argument, NULL, 't'},
		{"topic-table", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *table_path = NULL, *config_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:t:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': name = optarg; break;
		case 't': table_path = optarg; break;
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const struct agw_adapter *adapter = name ? agw_adapter_find(name) : NULL;
	if (!adapter || !adapter->normalize || optind >= argc) {
		if (name && (!adapter || !adapter->normalize))
			fprintf(stderr, "normalize: unknown adapter '%s', or one without a normalization\n", name);
		usage(stderr);
		return 2;
	}
	void *opts = NULL;
	if (load_options(adapter, config_path, table_path, &opts) < 0)
		return 1;
	char err[512];
	if (adapter->check && adapter->check(opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err); /* a table that does not load: "path:line: what" */
		agw_options_free(adapter, opts);
		free(opts);
		return 1;
	}
	int ret = 0;
	for (int i = optind; i < argc; i++)
		if (normalize_file(argv[i], adapter, opts) != 0)
			ret = 1;
	agw_options_free(adapter, opts);
	free(opts);
	return ret;
}
