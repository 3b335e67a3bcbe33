/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine (see case_engine.h for the lifecycle it implements): the engine object (create,
 * free, accessors) and the names of decision actions and case statuses. The lifecycle itself lives
 * in the other rules/case_*.c files, which share rules/case_engine_internal.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

const char *agw_decision_action_name(enum agw_decision_action a)
{
	switch (a) {
	case AGW_DECISION_OPEN:
		return "open";
	case AGW_DECISION_UPDATE:
		return "update";
	case AGW_DECISION_CLOSE:
		return "close";
	case AGW_DECISION_STATUS:
		return "status";
	case AGW_DECISION_ESCALATE:
		return "escalate";
	case AGW_DECISION_END:
		return "end";
	case AGW_DECISION_DROP:
	default:
		return "drop";
	}
}

int agw_engine_new(const struct agw_engine_config *cfg, struct agw_ruleset *rules, struct agw_grid *grid,
		   struct agw_engine **ret)
{
	struct agw_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->gateway_id = strdup(cfg && cfg->gateway_id ? cfg->gateway_id : "alarmgw");
	e->unassigned = strdup(cfg && cfg->unassigned_cell && *cfg->unassigned_cell ? cfg->unassigned_cell
										      : "unassigned");
	if (!e->gateway_id || !e->unassigned) {
		free(e->gateway_id);
		free(e->unassigned);
		free(e);
		return -ENOMEM;
	}
	e->rules = rules;
	e->grid = grid;
	agw_strmap_init(&e->cams);
	agw_strmap_init(&e->incidents);
	agw_strmap_init(&e->ids);
	agw_strmap_init(&e->floods);
	agw_strmap_init(&e->rules_by_camera);
	agw_strmap_init(&e->rules_by_tag);
	agw_strmap_init(&e->rules_by_cell);
	if (engine_index_camera_rules(e) < 0) {
		e->rules = NULL; /* the caller keeps ownership on failure */
		e->grid = NULL;
		agw_engine_free(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

void agw_engine_free(struct agw_engine *e)
{
	if (!e)
		return;
	engine_txn_free(e); /* an open transaction is kept, as at commit */
	for (size_t i = agw_strmap_next(&e->ids, 0); i < e->ids.cap; i = agw_strmap_next(&e->ids, i + 1))
		engine_case_free(e->ids.slots[i].value);
	for (size_t i = agw_strmap_next(&e->cams, 0); i < e->cams.cap; i = agw_strmap_next(&e->cams, i + 1))
		engine_cam_free(e, e->cams.slots[i].value);
	for (size_t i = agw_strmap_next(&e->floods, 0); i < e->floods.cap; i = agw_strmap_next(&e->floods, i + 1)) {
		struct cell_flood *f = e->floods.slots[i].value;
		free(f->code);
		free(f);
	}
	agw_strmap_clear(&e->cams);
	agw_strmap_clear(&e->incidents);
	agw_strmap_clear(&e->ids);
	agw_strmap_clear(&e->floods);
	free(e->heap);
	engine_camera_rules_free(e);
	agw_ruleset_free(e->rules);
	agw_grid_free(e->grid);
	free(e->gateway_id);
	free(e->unassigned);
	free(e);
}

const struct agw_ruleset *agw_engine_rules(const struct agw_engine *e)
{
	return e->rules;
}

const struct agw_grid *agw_engine_grid(const struct agw_engine *e)
{
	return e->grid;
}

const char *agw_engine_gateway_id(const struct agw_engine *e)
{
	return e->gateway_id;
}

size_t agw_engine_open_incidents(const struct agw_engine *e)
{
	return e->incidents.live;
}

size_t agw_engine_cases(const struct agw_engine *e)
{
	return e->ids.live;
}

void agw_engine_set_store_expiry(struct agw_engine *e, bool on)
{
	e->store_expiry = on;
}
