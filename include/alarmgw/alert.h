/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The normalized alert: what every adapter turns a camera event into, whatever the vendor.
 * All strings are owned by the alert (heap copies) and freed by agw_alert_clear(). */
#ifndef ALARMGW_ALERT_H
#define ALARMGW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_ALERT_KINDS(X)                                                                         \
	X(MOTION, "motion")                                                                        \
	X(INTRUSION, "intrusion")                                                                  \
	X(LINE_CROSSING, "line_crossing")                                                          \
	X(LOITERING, "loitering")                                                                  \
	X(TAMPER, "tamper")                                                                        \
	X(SCENE_CHANGE, "scene_change")                                                            \
	X(VIDEO_LOSS, "video_loss")                                                                \
	X(DIGITAL_INPUT, "digital_input")                                                          \
	X(RELAY, "relay")                                                                          \
	X(OBJECT_LEFT, "object_left")                                                              \
	X(OBJECT_REMOVED, "object_removed")                                                        \
	X(FACE, "face")                                                                            \
	X(PERSON, "person")                                                                        \
	X(VEHICLE, "vehicle")                                                                      \
	X(AUDIO, "audio")                                                                          \
	X(DOORBELL, "doorbell")                                                                    \
	X(STORAGE_FAILURE, "storage_failure")                                                      \
	X(DEVICE_HEALTH, "device_health")                                                          \
	X(CAMERA_OFFLINE, "camera_offline")                                                        \
	X(EVENT_CHANNEL_LOST, "event_channel_lost")                                                \
	X(EVENTS_LOST, "events_lost")                                                              \
	X(OTHER, "other")

enum agw_alert_kind {
#define AGW_KIND_ENUM(sym, str) AGW_KIND_##sym,
	AGW_ALERT_KINDS(AGW_KIND_ENUM)
#undef AGW_KIND_ENUM
	AGW_KIND__COUNT
};

/* State carried by the event's boolean item, when it has one. */
enum agw_active {
	AGW_ACTIVE_NONE = 0, /* the event has no boolean state (a pulse, or unknown) */
	AGW_ACTIVE_FALSE,
	AGW_ACTIVE_TRUE,
};

/* ONVIF PropertyOperation: Initialized messages are the current state, not new events. */
enum agw_operation {
	AGW_OP_NONE = 0,
	AGW_OP_INITIALIZED,
	AGW_OP_CHANGED,
	AGW_OP_DELETED,
};

struct agw_item {
	char *name;
	char *value;
};

struct agw_items {
	struct agw_item *v;
	size_t n;
};

#define AGW_TIME_UNKNOWN INT64_MIN

struct agw_alert {
	char *camera_id;           /* required */
	char *adapter;             /* "onvif", "rtsp", "replay", ... */
	enum agw_alert_kind kind;
	enum agw_active active;
	enum agw_operation operation;
	int64_t camera_time_ms;    /* camera clock, ms since the epoch (UTC), or AGW_TIME_UNKNOWN */
	int64_t gateway_time_ms;   /* gateway clock when received */
	int64_t clock_offset_ms;   /* camera clock minus gateway clock, as last measured; 0 if unknown */
	char *topic;               /* vendor's raw topic, as written (trimmed) */
	char *event_id;            /* an id the source gave the event (simulator, replay), or NULL */
	struct agw_items source;   /* tt:Source SimpleItems */
	struct agw_items key;      /* tt:Key SimpleItems */
	struct agw_items data;     /* tt:Data SimpleItems */
	char *payload;             /* vendor payload kept as text (XML), or NULL */
};

const char *agw_alert_kind_name(enum agw_alert_kind kind);
int agw_alert_kind_parse(const char *name, enum agw_alert_kind *ret_kind);
const char *agw_operation_name(enum agw_operation op); /* NULL for AGW_OP_NONE */
int agw_operation_parse(const char *name, enum agw_operation *ret_op);

void agw_alert_init(struct agw_alert *a);
void agw_alert_clear(struct agw_alert *a); /* frees contents, leaves an initialized alert */
int agw_alert_copy(struct agw_alert *dst, const struct agw_alert *src);

/* Appends a copy of name/value. */
int agw_items_add(struct agw_items *items, const char *name, const char *value);
const char *agw_items_get(const struct agw_items *items, const char *name);
void agw_items_clear(struct agw_items *items);

/* JSON form (jansson). to_json returns a malloc'd compact string in *ret_json.
 * from_json fills *ret_alert (initialized by the caller) only on success; on failure returns
 * -EINVAL and writes a one-line reason into err. */
int agw_alert_to_json(const struct agw_alert *a, char **ret_json);
int agw_alert_from_json(const char *json, size_t len, struct agw_alert *ret_alert, char *err, size_t errlen);

/* RFC 3339 UTC with milliseconds ("2026-11-22T16:21:08.123Z"); buf of at least 32 bytes. */
const char *agw_time_format_ms(int64_t ms, char *buf, size_t len);
/* Parses RFC 3339 / ISO 8601 date-times: with or without zone (no zone = UTC), fractions,
 * numeric offsets. Placeholder and out-of-range dates (year < 1971, 0000-00-00) are -EINVAL. */
int agw_time_parse_ms(const char *text, int64_t *ret_ms);
int64_t agw_now_ms(void); /* realtime clock */

#endif
