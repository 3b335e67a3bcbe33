/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP documents (GB/T 28181 annex A): the root (Notify, Query, Response, Control), CmdType,
 * SN, DeviceID, the other fields, and the DeviceList items of a Catalog. UTF-8 text in (see
 * gb_text.h), a plain struct out; libxml2 reads the XML, one parser context per call. */
#ifndef AGW_GB_MANSCDP_H
#define AGW_GB_MANSCDP_H

#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"

#define AGW_GB_MAX_FIELDS 512  /* leaf elements outside DeviceList */
#define AGW_GB_MAX_ITEMS 2048  /* DeviceList items in one document */
#define AGW_GB_MAX_ITEM_FIELDS 128

enum agw_gb_root {
	AGW_GB_ROOT_OTHER = 0,
	AGW_GB_ROOT_NOTIFY,
	AGW_GB_ROOT_QUERY,
	AGW_GB_ROOT_RESPONSE,
	AGW_GB_ROOT_CONTROL,
};

enum agw_gb_cmd {
	AGW_GB_CMD_OTHER = 0,
	AGW_GB_CMD_ALARM,
	AGW_GB_CMD_KEEPALIVE,
	AGW_GB_CMD_CATALOG,
	AGW_GB_CMD_DEVICE_STATUS,
	AGW_GB_CMD_DEVICE_INFO,
	AGW_GB_CMD_DEVICE_CONTROL,
	AGW_GB_CMD_MOBILE_POSITION,
};

/* One DeviceList Item: its leaf fields ("DeviceID", "Name", "Info/PTZType"...). */
struct agw_gb_item {
	struct agw_items fields;
};

struct agw_gb_doc {
	enum agw_gb_root root;
	enum agw_gb_cmd cmd;
	char *root_name;   /* as written */
	char *cmd_type;    /* as written, trimmed; "" when missing */
	char *sn;          /* "" when missing */
	char *device_id;   /* "" when missing */
	/* Leaf elements under the root outside DeviceList, in document order, named by their path
	 * below the root ("AlarmMethod", "Info/AlarmType", "Info/AlarmTypeParam/EventType"), values
	 * trimmed. */
	struct agw_items fields;
	struct agw_gb_item *items; /* DeviceList/Item, in document order */
	size_t n_items;
	long list_num;     /* DeviceList's Num attribute, -1 when absent */
};

/* Parses UTF-8 MANSCDP text without an XML declaration (agw_gb_text_to_utf8 makes it). Returns 0
 * and fills *ret (agw_gb_doc_clear frees it), or a negative errno with err = "line N: what":
 * -EINVAL XML that is not well-formed, a DOCTYPE, or a root that has no CmdType; -E2BIG over a
 * count limit; -ENOMEM. Element names are compared case-insensitively (<cmdType> is seen). */
int agw_gb_manscdp_parse(const char *utf8, size_t len, struct agw_gb_doc *ret, char *err, size_t errlen);
void agw_gb_doc_clear(struct agw_gb_doc *d);

/* A field by path, case-insensitively; NULL when absent. */
const char *agw_gb_doc_get(const struct agw_gb_doc *d, const char *path);
const char *agw_gb_item_get(const struct agw_gb_item *it, const char *path);

const char *agw_gb_cmd_name(enum agw_gb_cmd cmd);

/* The channels of a Catalog answer (GB/T 28181 A.2.6: <Response><CmdType>Catalog</CmdType>
 * <SumNum/><DeviceList><Item>...), read from a parsed document into bounded records, and the JSON
 * the gateway stores for each (adapter state, read by `alarmgw channels` and the status). */
#define AGW_GB_CHANNEL_TEXT_MAX 128 /* bytes kept of a name, model...: catalogs are device input */

struct agw_gb_channel {
	char id[21];
	char device[21];    /* the registered device whose catalog (or alarm) named it */
	char *name, *manufacturer, *model, *status, *parent_id, *civil_code;
	double lon, lat;    /* NAN when absent, unreadable, out of range, or 0,0 (devices' "no position") */
};

/* Reads the Items of a Catalog Response from device (an IP camera lists itself; an NVR its
 * channels; a platform its cameras and its tree's groups). Items without a 20-digit DeviceID (civil
 * codes, 2-8 digits, are tree nodes, not cameras) are skipped, counted in *ret_skipped. Returns the number of channels read into *ret (free with agw_gb_channels_free;
 * NULL when 0), -EINVAL when doc is not a Catalog Response, or -ENOMEM; *ret is set only on
 * success. */
int agw_gb_catalog_read(const struct agw_gb_doc *doc, const char *device, struct agw_gb_channel **ret,
			size_t *ret_skipped);
void agw_gb_channels_free(struct agw_gb_channel *v, size_t n);
void agw_gb_channel_clear(struct agw_gb_channel *c);

/* SumNum: how many Items the whole catalog has over all its messages; -1 when absent or not a
 * number in 0..1000000. */
long agw_gb_catalog_sum(const struct agw_gb_doc *doc);

/* The stored form: {"device":"...","name":"...",...,"longitude":..,"latitude":..} with the fields
 * present; first_alarm_ms (wall clock, 0: none) is when the channel first sent an alarm while no
 * ledger row had it. NULL on allocation failure. */
char *agw_gb_channel_json(const struct agw_gb_channel *c, int64_t first_alarm_ms);

#endif
