/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gateway's retained online/offline status (also the last will). Camera health is not here: it
 * goes through the journal and the outbox like every other message (gateway/mqtt/health_out.c). */
#include <string.h>

#include "alarmgw/log.h"
#include "publisher_internal.h"

void pub_publish_status(struct agw_publisher *p, const char *status)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = (void *)status;
	m.payloadlen = (int)strlen(status);
	m.qos = 1;
	m.retained = 1;
	ro.context = tag_ptr(tag_make(TAG_STATUS, p->slot, p->gen, 0));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_sent5;
		ro.onFailure5 = pub_on_send_fail5;
	} else {
		ro.onSuccess = pub_on_sent;
		ro.onFailure = pub_on_send_fail;
	}
	int rc = MQTTAsync_sendMessage(p->client, p->status_topic, &m, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_warn(COMP, NULL, "cannot publish status %s: %s", status, MQTTAsync_strerror(rc));
}
