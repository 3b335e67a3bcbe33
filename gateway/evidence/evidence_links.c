/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ready signed links (evidence_links.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alarmgw/evidence.h"
#include "evidence_links.h"

int agw_evidence_links_new(const struct agw_config *cfg, struct agw_evidence_links **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!cfg->evidence.url_base || !*cfg->evidence.url_base)
		return 0;
	if (!cfg->evidence_url_key_file) {
		snprintf(err, errlen, "evidence.url_base needs gateway.evidence_url_key_file");
		return -EINVAL;
	}
	struct agw_evidence_links *l = calloc(1, sizeof(*l));
	char *path = agw_config_resolve(cfg, cfg->evidence_url_key_file);
	int r = -ENOMEM;
	if (!l || !path || !(l->base = strdup(cfg->evidence.url_base)))
		goto fail;
	if ((r = agw_evidence_url_key_load(path, &l->key, err, errlen)) < 0)
		goto fail;
	l->lifetime_ms = cfg->evidence.url_lifetime_ms;
	free(path);
	*ret = l;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(path);
	agw_evidence_links_free(l);
	return r;
}

char *agw_evidence_links_make(const struct agw_evidence_links *l, const char *case_id, int64_t n, int64_t now_ms,
			      int64_t *ret_exp_ms)
{
	/* whole seconds, rounded up: the link lives at least the lifetime */
	int64_t exp = (now_ms + l->lifetime_ms + 999) / 1000;
	char *url = n <= 1000000 ? agw_evidence_url_make(&l->key, l->base, case_id, (int)n, exp) : NULL;
	if (url)
		*ret_exp_ms = exp * 1000;
	return url;
}

void agw_evidence_links_fill(const struct agw_evidence_links *l, const char *case_id, struct agw_evidence_entry *v,
			     size_t n, int64_t now_ms)
{
	for (size_t i = 0; l && i < n; i++) {
		const char *st = v[i].status;
		/* a pending picture's link works once it is stored (404 "still being captured" until then):
		 * the case's first message carries it, so the platform need not wait for the next one */
		if (!st || (strcmp(st, "stored") != 0 && strcmp(st, "pending") != 0))
			continue;
		v[i].url = agw_evidence_links_make(l, case_id, v[i].n, now_ms, &v[i].url_expires);
	}
}

void agw_evidence_links_free(struct agw_evidence_links *l)
{
	if (!l)
		return;
	OPENSSL_cleanse(&l->key, sizeof(l->key));
	free(l->base);
	free(l);
}
