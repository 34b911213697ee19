#include "telem/mqtt_msg.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* ---- the queue ---------------------------------------------------------------- */

static void list_append(struct mqq_list *l, struct mqq_msg *m)
{
	m->next = NULL;
	m->prev = l->tail;
	if (l->tail)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
	l->n++;
}

static void list_prepend(struct mqq_list *l, struct mqq_msg *m)
{
	m->prev = NULL;
	m->next = l->head;
	if (l->head)
		l->head->prev = m;
	else
		l->tail = m;
	l->head = m;
	l->n++;
}

static void list_unlink(struct mqq_list *l, struct mqq_msg *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		l->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		l->tail = m->prev;
	m->prev = m->next = NULL;
	l->n--;
}

static void msg_free(struct mqq *q, struct mqq_list *l, struct mqq_msg *m)
{
	list_unlink(l, m);
	q->bytes -= m->cost;
	free(m);
}

void mqq_init(struct mqq *q, int max_msgs, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_msgs = max_msgs;
	q->max_bytes = max_bytes;
}

void mqq_clear(struct mqq *q)
{
	while (q->queued.head)
		msg_free(q, &q->queued, q->queued.head);
	while (q->inflight.head)
		msg_free(q, &q->inflight, q->inflight.head);
}

static struct mqq_msg *find_sample(const struct mqq *q, const char *topic)
{
	for (struct mqq_msg *m = q->queued.head; m; m = m->next)
		if (m->kind == MQQ_SAMPLE && !strcmp(m->topic, topic))
			return m;
	return NULL;
}

/* The oldest queued sample, else the oldest queued event. */
static struct mqq_msg *victim(const struct mqq *q)
{
	for (struct mqq_msg *m = q->queued.head; m; m = m->next)
		if (m->kind == MQQ_SAMPLE)
			return m;
	return q->queued.head;
}

static int enforce_limits(struct mqq *q)
{
	int dropped = 0;

	while (q->queued.n + q->inflight.n > q->max_msgs || q->bytes > q->max_bytes) {
		struct mqq_msg *m = victim(q);

		if (!m)
			break;	/* only in-flight messages left: they are the library's now */
		msg_free(q, &q->queued, m);
		dropped++;
	}
	q->dropped += (uint64_t)dropped;
	return dropped;
}

int mqq_push(struct mqq *q, enum mqq_kind kind, const char *topic, const void *payload,
	     size_t len)
{
	size_t tlen = strlen(topic), cost = sizeof(struct mqq_msg) + tlen + 1 + len;
	struct mqq_msg *m, *old;

	if (cost > q->max_bytes) {
		q->dropped++;
		return 1;
	}
	if (kind == MQQ_SAMPLE && (old = find_sample(q, topic))) {
		msg_free(q, &q->queued, old);
		q->superseded++;
	}
	m = xmalloc(sizeof(*m) + tlen + 1 + len);
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->cost = cost;
	m->len = len;
	memcpy(m->topic, topic, tlen + 1);
	m->payload = m->topic + tlen + 1;
	if (len)
		memcpy(m->payload, payload, len);
	list_append(&q->queued, m);
	q->bytes += cost;
	return enforce_limits(q);
}

struct mqq_msg *mqq_peek(const struct mqq *q)
{
	return q->queued.head;
}

void mqq_sent(struct mqq *q, struct mqq_msg *m, int mid)
{
	list_unlink(&q->queued, m);
	m->mid = mid;
	list_append(&q->inflight, m);
}

bool mqq_acked(struct mqq *q, int mid)
{
	for (struct mqq_msg *m = q->inflight.head; m; m = m->next) {
		if (m->mid == mid) {
			msg_free(q, &q->inflight, m);
			return true;
		}
	}
	return false;
}

void mqq_drop(struct mqq *q, struct mqq_msg *m)
{
	msg_free(q, &q->queued, m);
	q->dropped++;
}

int mqq_requeue(struct mqq *q)
{
	/* From the newest in flight to the oldest, each to the front: the order stays. */
	while (q->inflight.tail) {
		struct mqq_msg *m = q->inflight.tail;

		if (m->kind == MQQ_SAMPLE && find_sample(q, m->topic)) {
			msg_free(q, &q->inflight, m);
			q->superseded++;
			continue;
		}
		list_unlink(&q->inflight, m);
		m->mid = 0;
		list_prepend(&q->queued, m);
	}
	return enforce_limits(q);
}

/* ---- Home Assistant discovery ------------------------------------------------- */

struct ha_kind {
	const char *component;
	const char *object;	/* "active", or the suffix after "<member>_" */
	const char *name;	/* "%s" is the member */
	const char *tmpl;	/* value_template */
	const char *unit, *device_class, *icon;
	bool member;
};

static const struct ha_kind ha_kinds[__MQTT_HA_MAX] = {
	[MQTT_HA_ACTIVE] = { "sensor", "active", "Active uplink", "{{ value_json.active }}",
			     NULL, NULL, "mdi:router-network", false },
	[MQTT_HA_SCORE] = { "sensor", "score", "%s score", "{{ value_json.score.final }}",
			    NULL, NULL, "mdi:gauge", true },
	[MQTT_HA_LATENCY] = { "sensor", "latency", "%s latency", "{{ value_json.latency_ms }}",
			      "ms", "duration", NULL, true },
	[MQTT_HA_LOSS] = { "sensor", "loss", "%s loss", "{{ value_json.loss_pct }}",
			   "%", NULL, "mdi:lan-disconnect", true },
	/* unknown (no verdict yet) renders "None", which Home Assistant shows as unknown */
	[MQTT_HA_UP] = { "binary_sensor", "up", "%s up",
			 "{{ 'ON' if value_json.status in ['up', 'degraded'] else "
			 "('OFF' if value_json.status == 'down' else 'None') }}",
			 NULL, "connectivity", NULL, true },
};

void mqtt_node_id(char *dst, size_t size, const char *client_id)
{
	size_t i = 0;

	if (!size)
		return;
	for (; client_id[i] && i + 1 < size; i++) {
		char c = client_id[i];

		dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '_';
	}
	dst[i] = '\0';
}

static bool object_id(enum mqtt_ha_obj obj, const char *member, char *buf, size_t size)
{
	const struct ha_kind *k = &ha_kinds[obj];
	int n = k->member ? snprintf(buf, size, "%s_%s", member, k->object)
			  : snprintf(buf, size, "%s", k->object);

	return n >= 0 && (size_t)n < size;
}

bool mqtt_ha_topic(const struct mqtt_ha *h, enum mqtt_ha_obj obj, const char *member,
		   char *buf, size_t size)
{
	char object[96];
	int n;

	if (!object_id(obj, member, object, sizeof(object)))
		return false;
	n = snprintf(buf, size, "%s/%s/%s/%s/config", h->ha_prefix, ha_kinds[obj].component,
		     h->node, object);
	return n >= 0 && (size_t)n < size;
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

static struct json_object *device_json(const struct mqtt_ha *h)
{
	struct json_object *d = json_object_new_object(), *ids = json_object_new_array();

	json_object_array_add(ids, json_object_new_string(h->node));
	json_object_object_add(d, "identifiers", ids);
	add_str(d, "name", "autonomy");
	add_str(d, "model", "autonomyd multi-uplink failover");
	add_str(d, "manufacturer", "autonomy");
	add_str(d, "sw_version", h->version);
	return d;
}

struct json_object *mqtt_ha_config(const struct mqtt_ha *h, enum mqtt_ha_obj obj,
				   const char *member)
{
	const struct ha_kind *k = &ha_kinds[obj];
	struct json_object *o = json_object_new_object();
	char buf[256], object[96];

	if (k->member)
		snprintf(buf, sizeof(buf), k->name, member);
	else
		snprintf(buf, sizeof(buf), "%s", k->name);
	add_str(o, "name", buf);
	object_id(obj, member, object, sizeof(object));
	snprintf(buf, sizeof(buf), "%s_%s", h->node, object);
	add_str(o, "unique_id", buf);
	if (k->member)
		snprintf(buf, sizeof(buf), "%s/member/%s", h->prefix, member);
	else
		snprintf(buf, sizeof(buf), "%s/state", h->prefix);
	add_str(o, "state_topic", buf);
	add_str(o, "value_template", k->tmpl);
	if (obj == MQTT_HA_UP) {
		add_str(o, "payload_on", "ON");
		add_str(o, "payload_off", "OFF");
	} else if (k->member) {
		add_str(o, "state_class", "measurement");
	}
	add_str(o, "unit_of_measurement", k->unit);
	add_str(o, "device_class", k->device_class);
	add_str(o, "icon", k->icon);
	snprintf(buf, sizeof(buf), "%s/availability", h->prefix);
	add_str(o, "availability_topic", buf);
	add_str(o, "payload_available", "online");
	add_str(o, "payload_not_available", "offline");
	json_object_object_add(o, "device", device_json(h));
	return o;
}

bool mqtt_ha_wanted(const struct mqtt_ha *h, const char *topic, const char *const *members,
		    int nmembers)
{
	char want[512];

	for (int obj = 0; obj < __MQTT_HA_MAX; obj++) {
		int n = ha_kinds[obj].member ? nmembers : 1;

		for (int i = 0; i < n; i++) {
			const char *member = ha_kinds[obj].member ? members[i] : NULL;

			if (mqtt_ha_topic(h, (enum mqtt_ha_obj)obj, member, want, sizeof(want)) &&
			    !strcmp(want, topic))
				return true;
		}
	}
	return false;
}
