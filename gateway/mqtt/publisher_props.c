/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MQTT 5 properties of an outbox row (outbox.props, written by gateway/evidence/): the content type
 * and the user properties, from {"content_type": "...", "user": [["name", "value"], ...]}. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "publisher_internal.h"

static int add_string(MQTTProperties *props, enum MQTTPropertyCodes code, const char *v)
{
	MQTTProperty p = {.identifier = code};
	p.value.data.data = (char *)v;
	p.value.data.len = (int)strlen(v);
	return MQTTProperties_add(props, &p) == 0 ? 0 : -EINVAL;
}

int pub_props_from_json(const char *json, MQTTProperties *ret)
{
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	MQTTProperties props = MQTTProperties_initializer;
	int rc = 0;
	const char *ct = json_string_value(json_object_get(o, "content_type"));
	if (ct)
		rc = add_string(&props, MQTTPROPERTY_CODE_CONTENT_TYPE, ct);
	size_t i;
	json_t *pair;
	json_array_foreach(json_object_get(o, "user"), i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));
		if (rc < 0 || !k || !v)
			continue;
		MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
		p.value.data.data = (char *)k;
		p.value.data.len = (int)strlen(k);
		p.value.value.data = (char *)v;
		p.value.value.len = (int)strlen(v);
		if (MQTTProperties_add(&props, &p) != 0)
			rc = -EINVAL;
	}
	json_decref(o); /* MQTTProperties_add copied every string */
	if (rc < 0) {
		MQTTProperties_free(&props);
		return rc;
	}
	*ret = props;
	return 0;
}
