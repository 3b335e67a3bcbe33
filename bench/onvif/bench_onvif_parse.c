/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU per PullMessagesResponse read by the adapter's path (well-formedness check, the fast reader
 * or else gSOAP, normalization into alerts) on one reused gSOAP context as the adapter does, and
 * by the gSOAP path alone (agw_onvif_normalize_gsoap) for comparison.
 *
 * The document is what camsim answers (one NotificationMessage per answer, as at one event per
 * camera every 10 s with a 10 s long-poll), or the files given. Prints µs per document and per
 * message as the median of several runs, in this thread's CPU time; run it under
 * `valgrind --tool=callgrind` for instruction counts.
 * Usage: bench_onvif_parse [RUNS [DOCS [FILE...]]]   (defaults 5, 20,000, the camsim answer) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onvif_events.h"

static const char camsim_answer[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\""
	" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\""
	" xmlns:tt=\"http://www.onvif.org/ver10/schema\" xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\""
	" xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\""
	" xmlns:ter=\"http://www.onvif.org/ver10/error\" xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\""
	" xmlns:wstop=\"http://docs.oasis-open.org/wsn/t-1\" xmlns:wsrf-bf=\"http://docs.oasis-open.org/wsrf/bf-2\""
	" xmlns:wsrf-r=\"http://docs.oasis-open.org/wsrf/r-2\" xmlns:tns1=\"http://www.onvif.org/ver10/topics\">\n"
	"<env:Header><wsa:Action>http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesResponse"
	"</wsa:Action><wsa:RelatesTo>urn:uuid:4d2c8b36-1f0e-4c55-9a0b-1b6f3c1e2a77</wsa:RelatesTo></env:Header>\n"
	"<env:Body><tev:PullMessagesResponse><tev:CurrentTime>2026-12-03T13:30:00Z</tev:CurrentTime>"
	"<tev:TerminationTime>2026-12-03T13:31:00Z</tev:TerminationTime><wsnt:NotificationMessage>"
	"<wsnt:SubscriptionReference><wsa:Address>http://127.0.0.1:20001/onvif/subscription/7</wsa:Address>"
	"</wsnt:SubscriptionReference><wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">"
	"tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic><wsnt:Message>"
	"<tt:Message UtcTime=\"2026-12-03T13:29:59.512Z\" PropertyOperation=\"Changed\"><tt:Source>"
	"<tt:SimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"VideoSourceToken\"/>"
	"<tt:SimpleItem Name=\"VideoAnalyticsConfigurationToken\" Value=\"VideoAnalyticsToken\"/>"
	"<tt:SimpleItem Name=\"Rule\" Value=\"MyMotionDetectorRule\"/></tt:Source><tt:Data>"
	"<tt:SimpleItem Name=\"IsMotion\" Value=\"true\"/><tt:SimpleItem Name=\"EventId\" Value=\"cam-00007-000042\"/>"
	"</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage></tev:PullMessagesResponse></env:Body>\n"
	"</env:Envelope>\n";

struct doc {
	char *buf;
	size_t len;
	const char *name;
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count(void *arg, struct agw_alert *a)
{
	(void)a;
	(*(long *)arg)++;
	return 0;
}

static int load(const char *path, struct doc *d)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	d->buf = malloc(AGW_ONVIF_MAX_DOCUMENT);
	d->len = d->buf ? fread(d->buf, 1, AGW_ONVIF_MAX_DOCUMENT, f) : 0;
	d->name = path;
	fclose(f);
	return d->buf ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef int (*readepathfn)(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			 int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			 char *err, size_t errlen);

/* One run over docs: seconds of CPU, and the messages it gave in *ret_msgs. */
static double run(readepathfn read, struct soap *soap, const struct doc *d, long n, long *ret_msgs)
{
	char err[256];
	long msgs = 0;
	double t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		struct agw_onvif_pull_info info;
		if (read(soap, d->buf, d->len, NULL, count, &msgs, &info, err, sizeof(err)) < 0) {
			fprintf(stderr, "ERROR: %s: %s\n", d->name, err);
			exit(1);
		}
	}
	*ret_msgs = msgs;
	return cpu_s() - t0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	long n = argc > 2 ? atol(argv[2]) : 20000;
	if (runs < 1 || runs > 100 || n < 1) {
		fprintf(stderr, "usage: bench_onvif_parse [RUNS [DOCS [FILE...]]]\n");
		return 2;
	}
	struct soap *soap = agw_onvif_soap_new();
	if (!soap)
		return 1;
	int ndocs = argc > 3 ? argc - 3 : 1;
	for (int k = 0; k < ndocs; k++) {
		struct doc d = {(char *)camsim_answer, sizeof(camsim_answer) - 1, "camsim answer"};
		if (argc > 3 && load(argv[3 + k], &d) < 0) {
			fprintf(stderr, "ERROR: cannot read %s\n", argv[3 + k]);
			return 1;
		}
		/* the adapter's path (the fast reader first), then gSOAP alone */
		static const readepathfn readers[] = {agw_onvif_normalize_soap, agw_onvif_normalize_gsoap};
		static const char *const names[] = {"adapter path", "gSOAP only"};
		for (int path = 0; path < 2; path++) {
			double t[100];
			long msgs = 0;
			for (int r = 0; r < runs; r++)
				t[r] = run(readers[path], soap, &d, n, &msgs);
			qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
			double med = t[runs / 2];
			printf("%s (%zu bytes, %ld messages), %s: %.2f us per document, %.2f us per message\n", d.name, d.len,
			       msgs / n, names[path], med / (double)n * 1e6, msgs ? med / (double)msgs * 1e6 : 0.0);
		}
		if (argc > 3)
			free(d.buf);
	}
	agw_onvif_soap_free(soap);
	return 0;
}
