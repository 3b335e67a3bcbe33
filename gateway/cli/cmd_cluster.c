/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw cluster status -c FILE [--json]`: the cluster as etcd sees it: members, the slots each
 * holds and would hold, slots without a holder and slots moving (held by another member than
 * rendezvous hashing chooses, or by nobody), and, when the ledger is in the store, the cameras
 * behind them. It reads etcd with the daemon's own client on a private loop. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "etcd.h"
#include "slots.h"

struct reading {
	int status;
	char why[256];
	json_t *answer;
};

static void answered(void *arg, int status, json_t *answer, const char *why)
{
	struct reading *r = arg;
	r->status = status;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
	r->answer = json_incref(answer);
}

/* One range of the cluster's prefix. */
static int read_cluster(const char *endpoints, const char *prefix, struct reading *ret)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct agw_etcd *etcd = NULL;
	int r = agw_etcd_new(&loop, endpoints, &etcd);
	if (r == 0) {
		char *b = agw_etcd_b64(prefix, strlen(prefix));
		char *end = strdup(prefix);
		end[strlen(end) - 1]++;
		char *e = agw_etcd_b64(end, strlen(end));
		json_t *body = json_pack("{s:s,s:s}", "key", b, "range_end", e);
		free(b);
		free(end);
		free(e);
		r = agw_etcd_call(etcd, "/v3/kv/range", body, 5000, answered, ret, NULL);
		if (r == 0)
			uv_run(&loop, UV_RUN_DEFAULT);
		agw_etcd_close(etcd, NULL, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&loop);
	return r < 0 ? r : ret->status;
}

struct view {
	char **members;
	size_t n_members;
	char **holder; /* per slot, NULL when free */
	uint32_t slots;
};

static void view_add(struct view *v, json_t *kv, const char *prefix)
{
	char *key = agw_etcd_unb64(json_string_value(json_object_get(kv, "key")), NULL);
	char *value = agw_etcd_unb64(json_string_value(json_object_get(kv, "value")), NULL);
	size_t plen = strlen(prefix);
	if (key && value && strncmp(key, prefix, plen) == 0) {
		const char *rest = key + plen;
		if (strncmp(rest, "members/", 8) == 0) {
			char **m = realloc(v->members, (v->n_members + 1) * sizeof(*m));
			if (m && (m[v->n_members] = strdup(rest + 8)))
				v->n_members++;
			if (m)
				v->members = m;
		} else if (strncmp(rest, "slots/", 6) == 0) {
			unsigned long s = strtoul(rest + 6, NULL, 10);
			if (s < v->slots && !v->holder[s]) {
				v->holder[s] = value;
				value = NULL;
			}
		}
	}
	free(key);
	free(value);
}

static json_t *summary(const struct view *v, struct agw_camera *cams, size_t n_cams)
{
	json_t *members = json_array();
	size_t moving = 0, free_slots = 0;
	size_t *held = calloc(v->n_members + 1, sizeof(size_t)), *wanted = calloc(v->n_members + 1, sizeof(size_t));
	size_t *cameras = calloc(v->n_members + 1, sizeof(size_t));
	size_t cameras_moving = 0;
	for (uint32_t s = 0; held && wanted && cameras && s < v->slots; s++) {
		int owner = agw_slot_owner(s, (const char *const *)v->members, v->n_members);
		int holder = -1;
		for (size_t i = 0; v->holder[s] && i < v->n_members; i++)
			if (strcmp(v->members[i], v->holder[s]) == 0)
				holder = (int)i;
		if (owner >= 0)
			wanted[owner]++;
		if (holder >= 0)
			held[holder]++;
		if (!v->holder[s])
			free_slots++;
		bool moves = !v->holder[s] || holder != owner;
		moving += moves;
		for (size_t i = 0; i < n_cams; i++) {
			if (agw_slot_of(cams[i].id, v->slots) != s)
				continue;
			if (holder >= 0)
				cameras[holder]++;
			cameras_moving += moves;
		}
	}
	for (size_t i = 0; held && wanted && cameras && i < v->n_members; i++)
		json_array_append_new(members, json_pack("{s:s,s:I,s:I,s:I}", "id", v->members[i], "slots_held",
							 (json_int_t)held[i], "slots_wanted", (json_int_t)wanted[i],
							 "cameras", (json_int_t)cameras[i]));
	free(held);
	free(wanted);
	free(cameras);
	return json_pack("{s:I,s:o,s:I,s:I,s:I,s:I}", "slots", (json_int_t)v->slots, "members", members,
			 "slots_free", (json_int_t)free_slots, "slots_moving", (json_int_t)moving, "cameras",
			 (json_int_t)n_cams, "cameras_moving", (json_int_t)cameras_moving);
}

static void print_text(const char *cluster, const char *endpoints, json_t *s)
{
	printf("cluster %s (etcd %s): %lld members, %lld slots\n", cluster, endpoints,
	       (long long)json_array_size(json_object_get(s, "members")),
	       (long long)json_integer_value(json_object_get(s, "slots")));
	size_t i;
	json_t *m;
	printf("  %-24s %10s %12s %8s\n", "member", "slots held", "slots wanted", "cameras");
	json_array_foreach(json_object_get(s, "members"), i, m)
		printf("  %-24s %10lld %12lld %8lld\n", json_string_value(json_object_get(m, "id")),
		       (long long)json_integer_value(json_object_get(m, "slots_held")),
		       (long long)json_integer_value(json_object_get(m, "slots_wanted")),
		       (long long)json_integer_value(json_object_get(m, "cameras")));
	printf("slots without a holder: %lld; slots moving: %lld (%lld of %lld cameras)\n",
	       (long long)json_integer_value(json_object_get(s, "slots_free")),
	       (long long)json_integer_value(json_object_get(s, "slots_moving")),
	       (long long)json_integer_value(json_object_get(s, "cameras_moving")),
	       (long long)json_integer_value(json_object_get(s, "cameras")));
}

static int status(const struct agw_config *cfg, bool as_json)
{
	const char *cluster = cfg->cluster.id;
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "/alarmgw/%s/", cluster);
	struct reading rd = {0};
	int r = read_cluster(cfg->cluster.etcd, prefix, &rd);
	if (r < 0) {
		fprintf(stderr, "cluster: etcd %s: %s\n", cfg->cluster.etcd, rd.why[0] ? rd.why : strerror(-r));
		json_decref(rd.answer);
		return 1;
	}
	struct view v = {.slots = (uint32_t)cfg->cluster.slots};
	v.holder = calloc(v.slots, sizeof(char *));
	size_t i;
	json_t *kv;
	json_array_foreach(json_object_get(rd.answer, "kvs"), i, kv)
		view_add(&v, kv, prefix);
	/* the cameras behind the slots, when the ledger is in the store */
	struct agw_store *store = NULL;
	struct agw_camera *cams = NULL;
	size_t n_cams = 0;
	if (agw_cli_open_store(cfg, &store) == 0 && agw_store_cameras_load(store, &cams, &n_cams) < 0)
		n_cams = 0;
	json_t *s = summary(&v, cams, n_cams);
	if (as_json) {
		char *text = json_dumps(s, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text ? text : "{}");
		free(text);
	} else {
		print_text(cluster, cfg->cluster.etcd, s);
	}
	json_decref(s);
	agw_cameras_free(cams, n_cams);
	agw_store_close(store);
	for (i = 0; i < v.n_members; i++)
		free(v.members[i]);
	free(v.members);
	for (uint32_t k = 0; k < v.slots; k++)
		free(v.holder[k]);
	free(v.holder);
	json_decref(rd.answer);
	return 0;
}

int agw_cmd_cluster(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool as_json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'j': as_json = true; break;
		case 'h':
			printf("usage: alarmgw cluster status -c FILE [--json]\n"
			       "Shows the cluster as etcd sees it: members, the slots each holds and would hold,\n"
			       "slots without a holder, slots and cameras moving.\n");
			return 0;
		default: return 2;
		}
	}
	if (!config_path || optind != argc - 1 || strcmp(argv[optind], "status") != 0) {
		fprintf(stderr, "usage: alarmgw cluster status -c FILE [--json]\n");
		return 2;
	}
	struct agw_config cfg;
	if (agw_cli_load_config(config_path, NULL, &cfg) != 0)
		return 1;
	int r = 2;
	if (!cfg.cluster.etcd || !*cfg.cluster.etcd)
		fprintf(stderr, "cluster: %s sets no cluster.etcd: this gateway runs alone\n", config_path);
	else if (!cfg.cluster.id)
		fprintf(stderr, "cluster: %s sets no cluster.id\n", config_path);
	else
		r = status(&cfg, as_json);
	agw_config_free(&cfg);
	return r;
}
