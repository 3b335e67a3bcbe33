/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Validation of a loaded configuration and everything it references: adapter sections (through
 * their option tables and check hooks), TLS files, the state directory, the ledger, the rules. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "decider.h"
#include "ledger.h"
#include "options.h"

static void check_readable(const struct agw_config *cfg, const char *key, const char *path, struct agw_errors *errs)
{
	if (!path)
		return;
	char *full = agw_config_resolve(cfg, path);
	if (full && access(full, R_OK) != 0)
		agw_errors_add(errs, cfg->path, 0, "%s: cannot read %s: %s", key, full, strerror(errno));
	free(full);
}

/* Ids that become etcd keys and case ids: letters, digits, '.', '_', '-'. */
static bool plain_id(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

static void check_cluster(const struct agw_config *cfg, struct agw_errors *errs)
{
	const struct agw_cluster_settings *c = &cfg->cluster;
	if (!c->etcd || !*c->etcd)
		return;
	if (!c->id)
		agw_errors_add(errs, cfg->path, 0, "cluster.id is required with cluster.etcd (the same on every instance)");
	else if (!plain_id(c->id))
		agw_errors_add(errs, cfg->path, 0, "cluster.id \"%s\": use 1-64 letters, digits, '.', '_' or '-'", c->id);
	if (!plain_id(cfg->gateway_id))
		agw_errors_add(errs, cfg->path, 0, "gateway.id \"%s\" names this instance in the cluster: use 1-64 "
			       "letters, digits, '.', '_' or '-'", cfg->gateway_id);
	if (strncmp(c->etcd, "http://", 7) != 0 && strncmp(c->etcd, "https://", 8) != 0)
		agw_errors_add(errs, cfg->path, 0, "cluster.etcd: comma-separated http:// or https:// URLs");
}

/* Parses every enabled adapter section through its option table, then lets the adapter check
 * what its options name (tables, certificates). */
static int check_adapters(struct agw_config *cfg, struct agw_errors *errs)
{
	size_t before = errs->n;
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		config_setting_t *section = agw_config_adapter_section(cfg, cfg->adapters[i]);
		const struct agw_adapter *a = agw_adapter_find(cfg->adapters[i]);
		if (!a) {
			agw_errors_add(errs, cfg->path, section ? (int)config_setting_source_line(section) : 0,
				       "unknown adapter \"%s\"", cfg->adapters[i]);
			continue;
		}
		void *priv = calloc(1, a->priv_size ? a->priv_size : 1);
		if (!priv)
			return -ENOMEM;
		char err[512];
		if (agw_options_parse(a, section, priv, cfg->path, errs) == 0 && a->check && a->check(priv, err, sizeof(err)) < 0)
			agw_errors_add(errs, NULL, 0, "adapters.%s: %s", a->name, err);
		agw_options_free(a, priv);
		free(priv);
	}
	return errs->n > before ? -EINVAL : 0;
}

int agw_check_config(struct agw_config *cfg, struct agw_errors *errs)
{
	size_t before = errs->n;
	check_adapters(cfg, errs);
	check_readable(cfg, "mqtt.ca_file", cfg->mqtt.ca_file, errs);
	check_readable(cfg, "mqtt.cert_file", cfg->mqtt.cert_file, errs);
	check_readable(cfg, "mqtt.key_file", cfg->mqtt.key_file, errs);
	check_readable(cfg, "rules.file", cfg->rules_file, errs);
	char *dir = agw_config_resolve(cfg, cfg->state_dir);
	struct stat st;
	if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		agw_errors_add(errs, cfg->path, 0, "gateway.state_dir: %s is not a directory", dir);
	else if (dir && access(dir, W_OK) != 0)
		agw_errors_add(errs, cfg->path, 0, "gateway.state_dir: %s is not writable", dir);
	free(dir);
	if (cfg->ledger_file) {
		char *ledger = agw_config_resolve(cfg, cfg->ledger_file);
		struct agw_camera *cams = NULL;
		size_t n = 0;
		if (ledger && agw_ledger_parse(ledger, &cams, &n, errs) >= 0)
			agw_cameras_free(cams, n);
		free(ledger);
	}
	check_cluster(cfg, errs);
	agw_decider_check(cfg, errs);
	return errs->n > before ? -EINVAL : 0;
}
