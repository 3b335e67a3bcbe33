/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agw-onvif-parse OPERATION FILE...: parses camera responses with the gateway's gSOAP bindings and
 * prints one line per file ("ok ..." or "error ..."). Used by the conformance test against the
 * responses captured from real cameras that the npm package onvif@0.8.1 ships.
 * Exit status: 0 when every file parsed (a SOAP Fault counts as parsed with --fault-ok), 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_events.h"
#include "onvif_requests.h"

static int count_event(void *arg, struct agw_alert *a)
{
	int *n = arg;
	(*n)++;
	printf("  event topic=%s kind=%s\n", a->topic, agw_alert_kind_name(a->kind));
	return 0;
}

int main(int argc, char **argv)
{
	int fault_ok = 0, first = 1;
	if (argc > 1 && !strcmp(argv[1], "--fault-ok")) {
		fault_ok = 1;
		first = 2;
	}
	enum agw_onvif_op op;
	if (argc < first + 2 || agw_onvif_op_parse(argv[first], &op) < 0) {
		fprintf(stderr, "usage: agw-onvif-parse [--fault-ok] OPERATION FILE...\n");
		return 2;
	}
	struct soap *soap = agw_onvif_soap_new();
	int bad = 0;
	static char buf[AGW_ONVIF_MAX_DOCUMENT];
	for (int i = first + 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			printf("error %s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		char err[512] = "";
		int rc;
		if (op == AGW_ONVIF_PULL_MESSAGES) {
			int n = 0;
			struct agw_onvif_pull_info info;
			rc = agw_onvif_normalize_soap(soap, buf, len, NULL, count_event, &n, &info, err, sizeof(err));
			if (rc >= 0)
				printf("ok %s %s: %d notifications, CurrentTime %s\n", argv[i], agw_onvif_op_name(op), rc,
				       info.current_time);
		} else {
			struct agw_onvif_response r;
			rc = agw_onvif_response_parse(soap, op, buf, len, &r, err, sizeof(err));
			if (rc == 0) {
				printf("ok %s %s: time=%lld events=%s sub=%s vendor=%s model=%s uri=%s profile=%s count=%d\n",
				       argv[i], agw_onvif_op_name(op), (long long)(r.camera_time_ms == AGW_TIME_UNKNOWN ? -1 : r.camera_time_ms),
				       r.events_xaddr ? r.events_xaddr : "-", r.subscription_address ? r.subscription_address : "-",
				       r.manufacturer ? r.manufacturer : "-", r.model ? r.model : "-", r.uri ? r.uri : "-",
				       r.profile_token ? r.profile_token : "-", r.count);
				if (r.reference_params)
					printf("  reference parameters: %s\n", r.reference_params);
				agw_onvif_response_clear(&r);
			}
		}
		if (rc == -EPROTO && fault_ok) {
			printf("ok %s %s: %s\n", argv[i], agw_onvif_op_name(op), err);
		} else if (rc < 0) {
			printf("error %s %s: %s\n", argv[i], agw_onvif_op_name(op), err);
			bad++;
		}
	}
	agw_onvif_soap_free(soap);
	return bad ? 1 : 0;
}
