/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

static bool owns_string(const struct agw_option *o)
{
	return o->type == AGW_OPT_STRING || o->type == AGW_OPT_PATH;
}

/* A relative file name in a config file means "beside the config file", whatever the working
 * directory of the process that reads it (the daemon, `check`, `normalize -c`). */
static char *resolve_path(const char *value, const char *config_file)
{
	const char *slash = config_file ? strrchr(config_file, '/') : NULL;
	if (!*value || value[0] == '/' || !slash)
		return strdup(value);
	char *out = NULL;
	if (asprintf(&out, "%.*s/%s", (int)(slash - config_file), config_file, value) < 0)
		return NULL;
	return out;
}

/* A duration: a number of seconds, or text such as "500ms" (the default, or a string setting).
 * t: the setting's type (CONFIG_TYPE_STRING for a default given as text). */
static int set_duration(const struct agw_option *o, void *field, const char *text, config_setting_t *s, int t,
			char *why, size_t whylen)
{
	bool is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64, is_num = is_int || t == CONFIG_TYPE_FLOAT;
	double num = 0;
	int64_t ms;
	if (s && is_num) {
		num = config_setting_get_float(s);
		if (is_int)
			num = (double)config_setting_get_int64(s);
		ms = (int64_t)llround(num * 1000);
	} else if (t != CONFIG_TYPE_STRING ||
		   agw_duration_parse(s ? config_setting_get_string(s) : text, &ms) < 0) {
		snprintf(why, whylen, "must be a duration such as \"500ms\", \"10s\", \"5m\"");
		return -EINVAL;
	}
	num = (double)ms;
	if ((o->min || o->max) && (num < o->min || num > o->max)) {
		snprintf(why, whylen, "must be between %.0fms and %.0fms", o->min, o->max);
		return -ERANGE;
	}
	*(int64_t *)field = ms;
	return 0;
}

static int set_number(const struct agw_option *o, void *field, const char *text, config_setting_t *s, int t, char *why,
		      size_t whylen)
{
	bool is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64, is_num = is_int || t == CONFIG_TYPE_FLOAT;
	double num = 0;
	if (s) {
		if (!is_num || (o->type == AGW_OPT_INT && !is_int)) {
			snprintf(why, whylen, "must be %s", o->type == AGW_OPT_INT ? "a whole number" : "a number");
			return -EINVAL;
		}
		num = is_int ? (double)config_setting_get_int64(s) : config_setting_get_float(s);
	} else {
		char *end;
		num = strtod(text, &end);
		if (end == text || *end) {
			snprintf(why, whylen, "default \"%s\" is not a number", text);
			return -EINVAL;
		}
	}
	if ((o->min || o->max) && (num < o->min || num > o->max)) {
		snprintf(why, whylen, "must be between %g and %g", o->min, o->max);
		return -ERANGE;
	}
	if (o->type == AGW_OPT_INT)
		*(int64_t *)field = (int64_t)num;
	else
		*(double *)field = num;
	return 0;
}

/* Applies a value given as text (defaults) or as a libconfig setting. */
static int set_value(const struct agw_option *o, void *priv, const char *text, config_setting_t *s,
		     const char *config_file, char *why, size_t whylen)
{
	void *field = (char *)priv + o->offset;
	int t = s ? config_setting_type(s) : CONFIG_TYPE_STRING;
	switch (o->type) {
	case AGW_OPT_STRING:
		if (s && t != CONFIG_TYPE_STRING) {
			snprintf(why, whylen, "must be a string");
			return -EINVAL;
		}
		free(*(char **)field);
		*(char **)field = strdup(s ? config_setting_get_string(s) : text);
		return *(char **)field ? 0 : -ENOMEM;
	case AGW_OPT_PATH:
		if (s && t != CONFIG_TYPE_STRING) {
			snprintf(why, whylen, "must be a file name (a string)");
			return -EINVAL;
		}
		free(*(char **)field);
		*(char **)field = resolve_path(s ? config_setting_get_string(s) : text, s ? config_file : NULL);
		return *(char **)field ? 0 : -ENOMEM;
	case AGW_OPT_BOOL:
		if (s && t != CONFIG_TYPE_BOOL) {
			snprintf(why, whylen, "must be true or false");
			return -EINVAL;
		}
		*(bool *)field = s ? config_setting_get_bool(s) : (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0);
		return 0;
	case AGW_OPT_DURATION:
		return set_duration(o, field, text, s, t, why, whylen);
	case AGW_OPT_INT:
	case AGW_OPT_DOUBLE:
		return set_number(o, field, text, s, t, why, whylen);
	}
	return -EINVAL;
}

int agw_options_parse(const struct agw_adapter *adapter, config_setting_t *section, void *priv, const char *file,
		      struct agw_errors *errs)
{
	size_t before = errs->n;
	char why[200];
	for (const struct agw_option *o = adapter->options; o && o->name; o++)
		if (o->def && set_value(o, priv, o->def, NULL, NULL, why, sizeof(why)) < 0)
			agw_errors_add(errs, file, 0, "adapters.%s.%s: bad built-in default: %s", adapter->name, o->name, why);
	int n = section ? config_setting_length(section) : 0;
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(section, (unsigned)i);
		const char *name = config_setting_name(s);
		int line = (int)config_setting_source_line(s);
		if (strcmp(name, "enabled") == 0)
			continue;
		const struct agw_option *o = adapter->options;
		while (o && o->name && strcmp(o->name, name) != 0)
			o++;
		if (!o || !o->name) {
			agw_errors_add(errs, file, line, "unknown option adapters.%s.%s (see `alarmgw run --help-adapter %s`)",
				       adapter->name, name, adapter->name);
			continue;
		}
		if (set_value(o, priv, NULL, s, file, why, sizeof(why)) < 0)
			agw_errors_add(errs, file, line, "adapters.%s.%s %s", adapter->name, name, why);
	}
	for (const struct agw_option *o = adapter->options; o && o->name; o++)
		if (o->required && !(section && config_setting_get_member(section, o->name)))
			agw_errors_add(errs, file, section ? (int)config_setting_source_line(section) : 0,
				       "adapters.%s.%s is required", adapter->name, o->name);
	return errs->n > before ? -EINVAL : 0;
}

void agw_options_free(const struct agw_adapter *adapter, void *priv)
{
	for (const struct agw_option *o = adapter->options; priv && o && o->name; o++)
		if (owns_string(o)) {
			char **field = (char **)((char *)priv + o->offset);
			free(*field);
			*field = NULL;
		}
}

void agw_options_print_help(const struct agw_adapter *adapter, FILE *out)
{
	static const char *const types[] = {"string", "integer", "boolean", "duration", "number", "file"};
	fprintf(out, "adapter %s: %s\n", adapter->name, adapter->description ? adapter->description : "");
	if (adapter->protocol)
		fprintf(out, "  serves ledger cameras with protocol \"%s\"\n", adapter->protocol);
	fprintf(out, "  options (config section adapters.%s):\n", adapter->name);
	for (const struct agw_option *o = adapter->options; o && o->name; o++) {
		fprintf(out, "    %-22s %-9s %s", o->name, types[o->type], o->help ? o->help : "");
		if (o->required)
			fprintf(out, " (required)");
		else if (o->def)
			fprintf(out, " (default %s)", o->def);
		fprintf(out, "\n");
	}
}

bool agw_options_equal(const struct agw_adapter *adapter, const void *a, const void *b)
{
	for (const struct agw_option *o = adapter->options; o && o->name; o++) {
		const void *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
		switch (o->type) {
		case AGW_OPT_STRING:
		case AGW_OPT_PATH: {
			const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
			if ((sa == NULL) != (sb == NULL) || (sa && strcmp(sa, sb) != 0))
				return false;
			break;
		}
		case AGW_OPT_BOOL:
			if (*(const bool *)fa != *(const bool *)fb)
				return false;
			break;
		case AGW_OPT_INT:
		case AGW_OPT_DURATION:
			if (*(const int64_t *)fa != *(const int64_t *)fb)
				return false;
			break;
		case AGW_OPT_DOUBLE:
			if (*(const double *)fa != *(const double *)fb)
				return false;
			break;
		}
	}
	return true;
}
