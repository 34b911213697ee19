/* What the MQTT publisher sends, without any network: the bounded outgoing
 * queue and its drop policy, and the Home Assistant discovery payloads.
 * Nothing here touches libmosquitto or the loop, so all of it is unit tested.
 *
 * The queue holds messages waiting for the broker (queued) and messages handed
 * to the client library but not yet acknowledged (in flight). Both count
 * against the limits, a number of messages and a number of bytes:
 *  - a sample (retained state, member, info) replaces any queued sample of the
 *    same topic: only the newest value of a topic waits;
 *  - over a limit, the oldest queued sample goes first; when only events are
 *    queued, the oldest event goes; in-flight messages are never dropped;
 *  - a message larger than the byte limit on its own is refused (and counted).
 * Every message is published with QoS 1; samples are retained, events are not.
 */
#ifndef AUTONOMY_MQTT_MSG_H
#define AUTONOMY_MQTT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum mqq_kind {
	MQQ_SAMPLE,		/* retained; newest per topic */
	MQQ_EVENT,		/* not retained; kept before samples */
};

struct mqq_msg {
	struct mqq_msg *prev, *next;
	enum mqq_kind kind;
	int mid;		/* the client library's message id while in flight */
	size_t cost;		/* what it counts against the byte limit */
	size_t len;		/* payload bytes */
	char *payload;		/* points into topic[], after its NUL */
	char topic[];
};

struct mqq_list {
	struct mqq_msg *head, *tail;
	int n;
};

struct mqq {
	struct mqq_list queued, inflight;
	int max_msgs;
	size_t max_bytes;
	size_t bytes;		/* cost of everything held, queued and in flight */
	uint64_t dropped;	/* dropped by the limits or refused */
	uint64_t superseded;	/* samples replaced by a newer one of the same topic */
};

void mqq_init(struct mqq *q, int max_msgs, size_t max_bytes);
/* Frees everything; the counters stay. */
void mqq_clear(struct mqq *q);

/* Appends a copy of the message and applies the limits. Returns how many
 * messages were dropped to make room (the new one may be among them). */
int mqq_push(struct mqq *q, enum mqq_kind kind, const char *topic, const void *payload,
	     size_t len);
/* The oldest queued message, NULL when none. */
struct mqq_msg *mqq_peek(const struct mqq *q);
/* m (queued) was handed to the library as mid: it is now in flight. */
void mqq_sent(struct mqq *q, struct mqq_msg *m, int mid);
/* The broker acknowledged mid: frees it. Returns false for a mid not in flight. */
bool mqq_acked(struct mqq *q, int mid);
/* m (queued) cannot be sent at all: frees it and counts it as dropped. */
void mqq_drop(struct mqq *q, struct mqq_msg *m);
/* The connection is gone: every in-flight message goes back to the front of
 * the queue in its order (a sample only if no newer one of its topic waits),
 * then the limits apply. Returns how many were dropped. */
int mqq_requeue(struct mqq *q);

static inline int mqq_queued(const struct mqq *q)
{
	return q->queued.n;
}

static inline int mqq_inflight(const struct mqq *q)
{
	return q->inflight.n;
}

/* ---- Home Assistant discovery ----------------------------------------------- */

enum mqtt_ha_obj {
	MQTT_HA_ACTIVE,		/* sensor: the active uplink (one per daemon) */
	MQTT_HA_SCORE,		/* sensor per member: final score */
	MQTT_HA_LATENCY,	/* sensor per member: ms */
	MQTT_HA_LOSS,		/* sensor per member: % */
	MQTT_HA_UP,		/* binary_sensor per member: connectivity */
	__MQTT_HA_MAX
};

struct mqtt_ha {
	const char *prefix;	/* our topic prefix (state topics, availability) */
	const char *ha_prefix;	/* Home Assistant's discovery prefix */
	const char *node;	/* node id: letters, digits, '_' and '-' (mqtt_node_id) */
	const char *version;	/* sw_version of the device */
};

/* An MQTT client id as a discovery node id: every character other than a
 * letter, digit, '_' or '-' becomes '_'. */
void mqtt_node_id(char *dst, size_t size, const char *client_id);

/* The discovery topic of one entity ("<ha_prefix>/sensor/<node>/<member>_score/config";
 * member is ignored for MQTT_HA_ACTIVE). Returns false if it does not fit. */
bool mqtt_ha_topic(const struct mqtt_ha *h, enum mqtt_ha_obj obj, const char *member,
		   char *buf, size_t size);
/* Its discovery payload (the caller puts it). */
struct json_object *mqtt_ha_config(const struct mqtt_ha *h, enum mqtt_ha_obj obj,
				   const char *member);
/* Is topic the discovery topic of an entity of these members? */
bool mqtt_ha_wanted(const struct mqtt_ha *h, const char *topic, const char *const *members,
		    int nmembers);

#endif
