/* MQTT without a broker: the outgoing queue and its drop policy (fixed cases
 * and a random walk with a printed seed that checks the invariants), the
 * validation of the mqtt_* options, and the Home Assistant discovery payloads.
 * Includes mqtt_msg.c to reach its static parts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/telem/mqtt_msg.c"

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned seed;

#define COST(topic, len)	(sizeof(struct mqq_msg) + strlen(topic) + 1 + (len))

static void push_str(struct mqq *q, enum mqq_kind kind, const char *topic, const char *payload)
{
	mqq_push(q, kind, topic, payload, strlen(payload));
}

/* "topic=payload" of every queued message, in order, then "|" and the in-flight ones. */
static const char *dump(const struct mqq *q)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (const struct mqq_msg *m = q->queued.head; m; m = m->next)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%.*s", len ? " " : "",
					m->topic, (int)m->len, m->payload);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, " |");
	for (const struct mqq_msg *m = q->inflight.head; m; m = m->next)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s=%.*s", m->topic,
					(int)m->len, m->payload);
	return buf;
}

/* ---- the queue ------------------------------------------------------------------ */

static void test_samples_coalesce(void **state)
{
	struct mqq q;

	(void)state;
	mqq_init(&q, 8, 65536);
	push_str(&q, MQQ_SAMPLE, "a/state", "1");
	push_str(&q, MQQ_EVENT, "a/event", "e1");
	push_str(&q, MQQ_SAMPLE, "a/member/x", "x1");
	push_str(&q, MQQ_SAMPLE, "a/state", "2");
	push_str(&q, MQQ_EVENT, "a/event", "e2");
	/* the newest value of a topic waits, at the place of the newest; events never merge */
	assert_string_equal(dump(&q), "a/event=e1 a/member/x=x1 a/state=2 a/event=e2 |");
	assert_int_equal(q.superseded, 1);
	assert_int_equal(q.dropped, 0);
	assert_int_equal(q.bytes, COST("a/event", 2) * 2 + COST("a/member/x", 2) +
				  COST("a/state", 1));
	mqq_clear(&q);
	assert_int_equal(q.bytes, 0);
	assert_null(mqq_peek(&q));
}

static void test_samples_dropped_before_events(void **state)
{
	struct mqq q;

	(void)state;
	mqq_init(&q, 4, 65536);
	push_str(&q, MQQ_EVENT, "p/event", "e1");
	push_str(&q, MQQ_SAMPLE, "p/s1", "s1");
	push_str(&q, MQQ_EVENT, "p/event", "e2");
	push_str(&q, MQQ_SAMPLE, "p/s2", "s2");
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "p/event", "e3", 2), 1);
	assert_string_equal(dump(&q), "p/event=e1 p/event=e2 p/s2=s2 p/event=e3 |");
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "p/event", "e4", 2), 1);
	assert_string_equal(dump(&q), "p/event=e1 p/event=e2 p/event=e3 p/event=e4 |");
	/* only events: the oldest event goes */
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "p/event", "e5", 2), 1);
	assert_string_equal(dump(&q), "p/event=e2 p/event=e3 p/event=e4 p/event=e5 |");
	/* a new sample is the oldest sample there is: it is the one dropped */
	assert_int_equal(mqq_push(&q, MQQ_SAMPLE, "p/s3", "s3", 2), 1);
	assert_string_equal(dump(&q), "p/event=e2 p/event=e3 p/event=e4 p/event=e5 |");
	assert_int_equal(q.dropped, 4);
	mqq_clear(&q);
}

static void test_byte_limit(void **state)
{
	char big[600];
	struct mqq q;

	(void)state;
	memset(big, 'x', sizeof(big));
	mqq_init(&q, 100, 3 * COST("t/e", 100));
	for (int i = 0; i < 3; i++)
		assert_int_equal(mqq_push(&q, MQQ_EVENT, "t/e", big, 100), 0);
	assert_int_equal(mqq_queued(&q), 3);
	/* one more of the same size: the oldest event makes room */
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "t/e", big, 100), 1);
	assert_int_equal(mqq_queued(&q), 3);
	assert_true(q.bytes <= q.max_bytes);
	/* larger than the whole limit on its own: refused, nothing else lost */
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "t/e", big, sizeof(big)), 1);
	assert_int_equal(mqq_queued(&q), 3);
	assert_int_equal(q.dropped, 2);
	/* not even an empty sample (a retained topic's removal) pushes out an event */
	assert_int_equal(mqq_push(&q, MQQ_SAMPLE, "t/s", NULL, 0), 1);
	assert_int_equal(mqq_queued(&q), 3);
	assert_string_equal(mqq_peek(&q)->topic, "t/e");
	mqq_clear(&q);
	assert_int_equal(q.bytes, 0);
}

static void test_inflight_and_requeue(void **state)
{
	struct mqq q;

	(void)state;
	mqq_init(&q, 5, 65536);
	push_str(&q, MQQ_SAMPLE, "a/state", "s1");
	push_str(&q, MQQ_EVENT, "a/event", "e1");
	push_str(&q, MQQ_SAMPLE, "a/member/x", "x1");
	mqq_sent(&q, mqq_peek(&q), 10);
	mqq_sent(&q, mqq_peek(&q), 11);
	mqq_sent(&q, mqq_peek(&q), 12);
	assert_int_equal(mqq_inflight(&q), 3);
	assert_int_equal(mqq_queued(&q), 0);
	assert_true(mqq_acked(&q, 12));
	assert_false(mqq_acked(&q, 12));
	assert_false(mqq_acked(&q, 99));
	/* while in flight, a newer state waits; an event and a member sample too */
	push_str(&q, MQQ_SAMPLE, "a/state", "s2");
	push_str(&q, MQQ_EVENT, "a/event", "e2");
	assert_string_equal(dump(&q), "a/state=s2 a/event=e2 | a/state=s1 a/event=e1");
	/* the connection drops: in-flight go back in front, the old state is superseded */
	assert_int_equal(mqq_requeue(&q), 0);
	assert_string_equal(dump(&q), "a/event=e1 a/state=s2 a/event=e2 |");
	assert_int_equal(q.superseded, 1);
	assert_int_equal(mqq_peek(&q)->mid, 0);
	mqq_clear(&q);
}

static void test_inflight_never_dropped(void **state)
{
	struct mqq q;

	(void)state;
	mqq_init(&q, 2, 65536);
	push_str(&q, MQQ_SAMPLE, "a/s1", "1");
	push_str(&q, MQQ_SAMPLE, "a/s2", "2");
	mqq_sent(&q, mqq_peek(&q), 1);
	mqq_sent(&q, mqq_peek(&q), 2);
	/* full with in-flight messages: a new one cannot stay, they are not touched */
	assert_int_equal(mqq_push(&q, MQQ_EVENT, "a/event", "e", 1), 1);
	assert_string_equal(dump(&q), " | a/s1=1 a/s2=2");
	/* requeue over the limit: the limits apply to what is queued again */
	push_str(&q, MQQ_EVENT, "a/event", "e");
	assert_int_equal(mqq_queued(&q), 0);
	assert_int_equal(mqq_requeue(&q), 0);
	assert_string_equal(dump(&q), "a/s1=1 a/s2=2 |");
	mqq_drop(&q, mqq_peek(&q));
	assert_string_equal(dump(&q), "a/s2=2 |");
	assert_int_equal(q.dropped, 3);
	mqq_clear(&q);
}

/* Random pushes, sends, acks and requeues; after every step: the limits hold
 * (unless in-flight messages alone exceed them), bytes add up, no topic has two
 * samples queued, and events keep their order. */
static void check_invariants(const struct mqq *q)
{
	size_t bytes = 0;
	int n = 0, last = -1;

	for (const struct mqq_msg *m = q->queued.head; m; m = m->next, n++) {
		bytes += m->cost;
		if (m->kind == MQQ_SAMPLE) {
			for (const struct mqq_msg *o = m->next; o; o = o->next)
				assert_false(o->kind == MQQ_SAMPLE && !strcmp(o->topic, m->topic));
		} else {
			int id = atoi(m->payload);

			assert_true(id > last);
			last = id;
		}
	}
	assert_int_equal(n, q->queued.n);
	n = 0;
	for (const struct mqq_msg *m = q->inflight.head; m; m = m->next, n++)
		bytes += m->cost;
	assert_int_equal(n, q->inflight.n);
	assert_int_equal(bytes, q->bytes);
	if (q->queued.n)
		assert_true(q->queued.n + q->inflight.n <= q->max_msgs && q->bytes <= q->max_bytes);
}

static void test_random_walk(void **state)
{
	static const char *const topics[] = { "p/state", "p/info", "p/member/a", "p/member/b" };
	char payload[400];
	struct mqq q;
	int mids[64], nmids = 0, next_mid = 1, event_id = 0;

	(void)state;
	srand(seed);
	memset(payload, 'y', sizeof(payload));
	mqq_init(&q, 20, 4000);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 10;

		if (op < 4) {
			int len = snprintf(payload, 16, "%d", event_id++);

			payload[len] = ' ';	/* ends the number inside the payload */
			mqq_push(&q, MQQ_EVENT, "p/event", payload,
				 (size_t)(len + 1 + rand() % 300));
		} else if (op < 7) {
			mqq_push(&q, MQQ_SAMPLE, topics[rand() % 4], payload,
				 (size_t)(rand() % 300));
		} else if (op < 8 && mqq_peek(&q) && nmids < 8) {
			mids[nmids++] = next_mid;
			mqq_sent(&q, mqq_peek(&q), next_mid++);
		} else if (op < 9 && nmids) {
			int i = rand() % nmids;

			assert_true(mqq_acked(&q, mids[i]));
			mids[i] = mids[--nmids];
		} else if (rand() % 20 == 0) {
			mqq_requeue(&q);
			nmids = 0;
		}
		check_invariants(&q);
	}
	mqq_clear(&q);
	assert_int_equal(q.bytes, 0);
}

/* ---- options ---------------------------------------------------------------------- */

static int parse_opt(const char *name, const char *value, char *err, size_t errlen)
{
	static struct config c;
	const struct cfg_opt *o = cfg_find_opt("autonomy", name);

	assert_non_null(o);
	return cfg_parse_value(o, &c.main, &value, 1, err, errlen);
}

static void test_topic_prefix_validation(void **state)
{
	static const char *const good[] = {
		"autonomy", "home/router-1", "a_b.c/d", "homeassistant", "x",
	};
	static const struct { const char *value, *why; } bad[] = {
		{ "", "must not be empty" },
		{ "a/+/b", "wildcard '+'" },
		{ "site/#", "wildcard '#'" },
		{ "a//b", "empty topic level" },
		{ "/autonomy", "empty topic level" },
		{ "autonomy/", "empty topic level" },
		{ "$SYS/x", "reserved for the broker" },
		{ "my router", "printable ASCII" },
		{ "caf\xc3\xa9", "printable ASCII" },
	};
	char err[256], longp[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(parse_opt("mqtt_prefix", good[i], err, sizeof(err)), 0);
		assert_int_equal(parse_opt("mqtt_ha_prefix", good[i], err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(parse_opt("mqtt_prefix", bad[i].value, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].value, err, bad[i].why);
		assert_int_equal(parse_opt("mqtt_ha_prefix", bad[i].value, err, sizeof(err)), -1);
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(parse_opt("mqtt_prefix", longp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
}

static void test_host_and_numbers(void **state)
{
	static const char *const good[] = {
		"", "192.168.1.10", "fd00::1", "broker.local", "mqtt-1.example.com.", "ha_box",
	};
	static const char *const bad[] = {
		"a b", "a..b", ".example", "mqtt://broker", "broker:1883", "host/x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(parse_opt("mqtt_host", good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse_opt("mqtt_host", bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is not a host name or an IP address"));
	}
	assert_int_equal(parse_opt("mqtt_port", "0", err, sizeof(err)), -1);
	assert_int_equal(parse_opt("mqtt_port", "65536", err, sizeof(err)), -1);
	assert_int_equal(parse_opt("mqtt_port", "8883", err, sizeof(err)), 0);
	assert_int_equal(parse_opt("mqtt_interval_s", "0", err, sizeof(err)), -1);
	assert_int_equal(parse_opt("mqtt_tls", "maybe", err, sizeof(err)), -1);
}

static void test_defaults_and_secret(void **state)
{
	static struct config c;
	struct json_object *j, *main, *v;
	const char *pw = "s3cret-pw";

	(void)state;
	cfg_defaults(&c);
	assert_string_equal(c.main.mqtt_host, "");
	assert_int_equal(c.main.mqtt_port, 1883);
	assert_string_equal(c.main.mqtt_prefix, "autonomy");
	assert_string_equal(c.main.mqtt_ha_prefix, "homeassistant");
	assert_int_equal(c.main.mqtt_interval_s, 10);
	assert_false(c.main.mqtt_tls);
	assert_false(c.main.mqtt_ha_discovery);
	assert_true(cfg_find_opt("autonomy", "mqtt_password")->flags & CFG_F_SECRET);
	assert_int_equal(cfg_parse_value(cfg_find_opt("autonomy", "mqtt_password"), &c.main, &pw, 1,
					 NULL, 0), 0);
	j = cfg_to_json(&c, "/x", false);
	assert_true(json_object_object_get_ex(json_object_object_get(j, "values"), "main", &main));
	assert_true(json_object_object_get_ex(main, "mqtt_password", &v));
	assert_string_equal(json_object_get_string(v), "********");
	assert_null(strstr(json_object_to_json_string(j), pw));
	json_object_put(j);
}

/* ---- Home Assistant discovery -------------------------------------------------------- */

static const struct mqtt_ha ha = {
	.prefix = "site/router", .ha_prefix = "homeassistant", .node = "autonomy-gw",
	.version = "1.2.3",
};

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(o));
	return json_object_get_string(v);
}

static void test_node_id(void **state)
{
	char buf[16];

	(void)state;
	mqtt_node_id(buf, sizeof(buf), "autonomy-my.router");
	assert_string_equal(buf, "autonomy-my_rou");	/* cut to the buffer */
	mqtt_node_id(buf, sizeof(buf), "a b+c#d/e_F-9");
	assert_string_equal(buf, "a_b_c_d_e_F-9");
	mqtt_node_id(buf, sizeof(buf), "");
	assert_string_equal(buf, "");
}

static void test_ha_topics(void **state)
{
	static const struct { enum mqtt_ha_obj obj; const char *topic; } want[] = {
		{ MQTT_HA_ACTIVE, "homeassistant/sensor/autonomy-gw/active/config" },
		{ MQTT_HA_SCORE, "homeassistant/sensor/autonomy-gw/fiber_score/config" },
		{ MQTT_HA_LATENCY, "homeassistant/sensor/autonomy-gw/fiber_latency/config" },
		{ MQTT_HA_LOSS, "homeassistant/sensor/autonomy-gw/fiber_loss/config" },
		{ MQTT_HA_UP, "homeassistant/binary_sensor/autonomy-gw/fiber_up/config" },
	};
	const char *members[] = { "fiber", "lte" };
	char topic[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_true(mqtt_ha_topic(&ha, want[i].obj, "fiber", topic, sizeof(topic)));
		assert_string_equal(topic, want[i].topic);
		assert_true(mqtt_ha_wanted(&ha, topic, members, 2));
		/* without fiber only the active sensor is still wanted */
		assert_int_equal(mqtt_ha_wanted(&ha, topic, members + 1, 1),
				 want[i].obj == MQTT_HA_ACTIVE);
	}
	/* the active sensor is wanted with no members at all; nothing else is */
	assert_true(mqtt_ha_wanted(&ha, "homeassistant/sensor/autonomy-gw/active/config", NULL, 0));
	assert_false(mqtt_ha_wanted(&ha, "homeassistant/sensor/autonomy-gw/fiber_score/config",
				    NULL, 0));
	assert_false(mqtt_ha_wanted(&ha, "homeassistant/sensor/other-node/fiber_score/config",
				    members, 2));
	assert_false(mqtt_ha_wanted(&ha,
				    "homeassistant/binary_sensor/autonomy-gw/fiber_score/config",
				    members, 2));
	assert_false(mqtt_ha_topic(&ha, MQTT_HA_SCORE, "fiber", topic, 20));
}

static void test_ha_payloads(void **state)
{
	struct json_object *o, *dev, *ids, *v;
	char uids[__MQTT_HA_MAX * 2][128];
	int nuid = 0;

	(void)state;
	for (int obj = 0; obj < __MQTT_HA_MAX; obj++) {
		for (int m = 0; m < 2; m++) {
			const char *member = m ? "lte" : "fiber";

			if (obj == MQTT_HA_ACTIVE && m)
				continue;
			o = mqtt_ha_config(&ha, (enum mqtt_ha_obj)obj, member);
			/* valid JSON once printed, as Home Assistant reads it */
			v = json_tokener_parse(json_object_to_json_string(o));
			assert_non_null(v);
			json_object_put(v);
			assert_string_equal(jstr(o, "availability_topic"),
					    "site/router/availability");
			assert_string_equal(jstr(o, "payload_available"), "online");
			assert_string_equal(jstr(o, "payload_not_available"), "offline");
			assert_non_null(strstr(jstr(o, "value_template"), "value_json."));
			snprintf(uids[nuid], sizeof(uids[nuid]), "%s", jstr(o, "unique_id"));
			assert_non_null(strstr(uids[nuid], "autonomy-gw_"));
			for (int i = 0; i < nuid; i++)
				assert_string_not_equal(uids[i], uids[nuid]);
			nuid++;
			assert_true(json_object_object_get_ex(o, "device", &dev));
			assert_string_equal(jstr(dev, "name"), "autonomy");
			assert_string_equal(jstr(dev, "sw_version"), "1.2.3");
			assert_non_null(jstr(dev, "model"));
			assert_true(json_object_object_get_ex(dev, "identifiers", &ids));
			v = json_object_array_get_idx(ids, 0);
			assert_string_equal(json_object_get_string(v), "autonomy-gw");
			if (obj == MQTT_HA_ACTIVE) {
				assert_string_equal(jstr(o, "state_topic"), "site/router/state");
				assert_string_equal(jstr(o, "value_template"),
						    "{{ value_json.active }}");
			} else {
				char want[64];

				snprintf(want, sizeof(want), "site/router/member/%s", member);
				assert_string_equal(jstr(o, "state_topic"), want);
				assert_non_null(strstr(jstr(o, "name"), member));
			}
			if (obj == MQTT_HA_UP) {
				assert_string_equal(jstr(o, "device_class"), "connectivity");
				assert_string_equal(jstr(o, "payload_on"), "ON");
			}
			if (obj == MQTT_HA_LATENCY)
				assert_string_equal(jstr(o, "unit_of_measurement"), "ms");
			if (obj == MQTT_HA_LOSS)
				assert_string_equal(jstr(o, "unit_of_measurement"), "%");
			if (obj == MQTT_HA_SCORE)
				assert_string_equal(jstr(o, "value_template"),
						    "{{ value_json.score.final }}");
			json_object_put(o);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_coalesce),
		cmocka_unit_test(test_samples_dropped_before_events),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_inflight_and_requeue),
		cmocka_unit_test(test_inflight_never_dropped),
		cmocka_unit_test(test_random_walk),
		cmocka_unit_test(test_topic_prefix_validation),
		cmocka_unit_test(test_host_and_numbers),
		cmocka_unit_test(test_defaults_and_secret),
		cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_ha_topics),
		cmocka_unit_test(test_ha_payloads),
	};
	const char *env = getenv("TEST_SEED");

	seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	printf("test_mqtt: seed %u (TEST_SEED=%u to repeat)\n", seed, seed);
	return cmocka_run_group_tests_name("mqtt", tests, NULL, NULL);
}
