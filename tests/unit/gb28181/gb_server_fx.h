/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SIP server tests' fixture: the server on a real loop and a real UDP socket, with a fake core
 * (emit, emit_durable, the ledger's camera_of), and a device (an NVR with a ledger channel) that
 * registers with Digest and sends MESSAGEs. Shared by test_gb_server.c and test_gb_server_gaps.c. */
#ifndef AGW_TEST_GB_SERVER_FX_H
#define AGW_TEST_GB_SERVER_FX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "gb_server.h"

#define DEVICE "34020000001180000001"  /* an NVR */
#define CHANNEL "34020000001310000001" /* its channel, a ledger camera */
#define SERVER_ID "34020000002000000001"
#define CHANNEL5 "34020000001310000005" /* another of its channels in the ledger: cam-105 */

struct fake {
	int durable_rc;            /* what emit_durable returns */
	int durable_calls;
	void (*done)(void *, int);
	void *done_arg;
	char camera[64], topic[32], kind[32];
	int emits;
	enum agw_active last_offline;
	bool device_not_in_ledger;
	int64_t camera_time_ms;
	int channel_puts;
	char channels[8192]; /* "ID JSON\n" per channel_put */
	int emit_rc;               /* what emit returns (0: it takes the alert) */
	char emitted[8192];        /* "kind camera topic active\n" and "  name=value\n" per data item, per emit */
	int locates;
	char located[128];         /* the last locate: "camera lon lat crs" */
};


struct world {
	uv_loop_t loop;
	struct agw_gb_server *srv;
	struct fake fake;
	int sock;
	struct sockaddr_in to;
	char nonce[64];
	unsigned branch;
	char request[4096];   /* the last request the server sent us */
	char requests_seen[32768]; /* all of them */
	int requests;
	bool answer_requests; /* answer them 200 (else they are retransmitted) */
	struct agw_gb_zones *zones;
	const char *to_tag;   /* answer SUBSCRIBEs with this To-tag and a Contact (a dialog) */
};

/* What setup() builds the server with; tests set it in their own setup and reset it. */
struct gb_fx_opts {
	int64_t keepalive_ms;   /* keepalive_interval */
	bool control;           /* catalog, arming, ResetAlarm, SUBSCRIBE and a device zone */
	int64_t subscribe_s;    /* subscribe_expires_s, when not 0 */
	int64_t gave_up_ms;     /* as the config's */
};
extern struct gb_fx_opts gb_fx;
extern int stopped;

int setup(void **state);
int setup_control(void **state); /* with gb_fx.control */
int teardown(void **state);
void on_stopped(void *arg);
void sendmsg_(struct world *w, const char *msg);
void copy_header(const char *msg, const char *name, char *out, size_t len);
void answer_request(struct world *w, const char *req);
/* Runs the loop until an answer comes (or ms pass); returns its length, 0 for none. Requests
 * from the server are kept aside (and answered when w->answer_requests). */
size_t receive(struct world *w, char *buf, size_t len, int ms);
void expect_status(struct world *w, const char *status_line, char *buf, size_t len);
void register_msg(struct world *w, char *out, size_t len, const char *auth, int expires);
void authorization(const char *nonce, const char *password, char *out, size_t len);
void message(struct world *w, char *out, size_t len, unsigned branch, const char *body);
const char *alarm_body_at(const char *sn, const char *time);
const char *alarm_body(const char *sn);
void do_register(struct world *w);
const char *catalog_part(const char *sn, const char *items);
void run_ms(struct world *w, int ms);

#endif
