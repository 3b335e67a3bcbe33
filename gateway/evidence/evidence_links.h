/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ready signed links in evidence entries (evidence.url_base, docs/case-message.md "Signed links"):
 * the decider puts one in each entry of a case message that has or will have a picture, the
 * scheduler in each picture's MQTT properties. Signed with evidence_url.h at the message's writing. */
#ifndef AGW_EVIDENCE_LINKS_H
#define AGW_EVIDENCE_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evidence_url.h"

/* The ready links of one gateway: evidence.url_base, the key of gateway.evidence_url_key_file and
 * evidence.url_lifetime. */
struct agw_evidence_links {
	struct agw_evidence_url_key key;
	char *base;
	int64_t lifetime_ms;
};

/* *ret NULL (and 0) when evidence.url_base is not set; else the key is read (a negative errno with
 * err saying why when it cannot be). */
int agw_evidence_links_new(const struct agw_config *cfg, struct agw_evidence_links **ret, char *err, size_t errlen);
/* The link of picture n of the case, signed at now_ms (wall clock) for the lifetime: malloc'd,
 * with its expiry (ms, whole seconds) in *ret_exp_ms; NULL when out of memory or the case id
 * cannot be in a link. */
char *agw_evidence_links_make(const struct agw_evidence_links *l, const char *case_id, int64_t n, int64_t now_ms,
			      int64_t *ret_exp_ms);
/* Gives each entry that has or will have a picture (stored, pending) its link, signed at now_ms.
 * An entry left without one (out of memory) keeps url NULL: the message still goes out. */
struct agw_evidence_entry;
void agw_evidence_links_fill(const struct agw_evidence_links *l, const char *case_id, struct agw_evidence_entry *v,
			     size_t n, int64_t now_ms);
void agw_evidence_links_free(struct agw_evidence_links *l);

#endif
