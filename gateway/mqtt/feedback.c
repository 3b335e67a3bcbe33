/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "case_engine.h"
#include "feedback.h"

static int fail(const char **ret_reason, const char *reason, char *detail, size_t detail_len, const char *text)
{
	*ret_reason = reason;
	snprintf(detail, detail_len, "%s", text);
	return strcmp(reason, "too_large") == 0 ? -EMSGSIZE : -EINVAL;
}

/* Case ids are printed in logs and used as sqlite keys: printable ASCII only. */
static int case_id_ok(const char *s, size_t n)
{
	if (n == 0 || n >= AGW_CASE_ID_SIZE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* by and note: optional strings (null or absent: none), 1..max bytes, without control characters
 * (C0, DEL, C1: they would break a log line or a grid worker's screen). jansson has already
 * refused invalid UTF-8 and \\u0000. */
static const char *text_bad(json_t *v, size_t max)
{
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		return "not a string";
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0)
		return "empty";
	if (n > max)
		return "too long";
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			return "has a control character";
	return NULL;
}

static void text_copy(char *dst, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	memcpy(dst, s, strlen(s) + 1);
}

int agw_feedback_parse(const void *payload, size_t len, struct agw_feedback *ret, const char **ret_reason,
		       char *detail, size_t detail_len)
{
	char text[160];
	if (len > AGW_FEEDBACK_MAX_BYTES) {
		snprintf(text, sizeof(text), "message of %zu bytes exceeds the %d byte limit", len,
			 AGW_FEEDBACK_MAX_BYTES);
		return fail(ret_reason, "too_large", detail, detail_len, text);
	}
	json_error_t jerr;
	json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(text, sizeof(text), "invalid JSON at byte %d: %.100s", jerr.position, jerr.text);
		return fail(ret_reason, "json", detail, detail_len, text);
	}
	int r;
	if (!json_is_object(root)) {
		r = fail(ret_reason, "not_object", detail, detail_len, "not a JSON object");
		goto out;
	}
	json_t *id = json_object_get(root, "case_id");
	if (!json_is_string(id) || !case_id_ok(json_string_value(id), json_string_length(id))) {
		r = fail(ret_reason, "case_id", detail, detail_len,
			 "case_id missing, not a string, empty, longer than 128 bytes or not printable ASCII");
		goto out;
	}
	/* The vocabulary is checked here; whether the case may move to it is the engine's (it knows
	 * the case's status). "open" is the gateway's own status, never feedback. */
	json_t *st = json_object_get(root, "status");
	enum agw_case_status s;
	if (!json_is_string(st) || agw_case_status_parse(json_string_value(st), &s) < 0 || s == AGW_CASE_OPEN) {
		r = fail(ret_reason, "status", detail, detail_len,
			 "status missing or not one of accepted, dispatched, on_site, resolved, closed, rejected, reopened");
		goto out;
	}
	json_t *by = json_object_get(root, "by"), *note = json_object_get(root, "note");
	const char *bad = text_bad(by, AGW_FEEDBACK_BY_MAX);
	if (bad) {
		snprintf(text, sizeof(text), "by %s (a string of 1 to %d bytes, no control characters)", bad,
			 AGW_FEEDBACK_BY_MAX);
		r = fail(ret_reason, "by", detail, detail_len, text);
		goto out;
	}
	if ((bad = text_bad(note, AGW_FEEDBACK_NOTE_MAX))) {
		snprintf(text, sizeof(text), "note %s (a string of 1 to %d bytes, no control characters)", bad,
			 AGW_FEEDBACK_NOTE_MAX);
		r = fail(ret_reason, "note", detail, detail_len, text);
		goto out;
	}
	const char *status = agw_case_status_name(s);
	memcpy(ret->case_id, json_string_value(id), json_string_length(id) + 1);
	ret->status = status;
	text_copy(ret->by, by);
	text_copy(ret->note, note);
	r = 0;
out:
	json_decref(root);
	return r;
}
