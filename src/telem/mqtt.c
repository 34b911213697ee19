#include "telem/mqtt.h"
#include "api/api.h"
#include "config/config.h"
#include "core/daemon.h"
#include "core/dl.h"
#include "core/log.h"
#include "core/resolve.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/evlog.h"
#include "telem/mqtt_msg.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>
#include <mosquitto.h>

/* libmosquitto is loaded when MQTT is first configured (core/dl.h). */
#define MOSQ_SONAME	"libmosquitto.so.1"
#define MOSQ_FNS(X) \
	X(mosquitto_connack_string) X(mosquitto_connect_bind_async) \
	X(mosquitto_connect_callback_set) X(mosquitto_destroy) X(mosquitto_disconnect) \
	X(mosquitto_disconnect_callback_set) X(mosquitto_lib_cleanup) X(mosquitto_lib_init) \
	X(mosquitto_loop_misc) X(mosquitto_loop_read) X(mosquitto_loop_write) \
	X(mosquitto_message_callback_set) X(mosquitto_new) X(mosquitto_publish) \
	X(mosquitto_publish_callback_set) X(mosquitto_socket) X(mosquitto_strerror) \
	X(mosquitto_subscribe) X(mosquitto_tls_set) X(mosquitto_unsubscribe) \
	X(mosquitto_username_pw_set) X(mosquitto_want_write) X(mosquitto_will_set)

static struct {
	MOSQ_FNS(DL_MEMBER)
} Q;
static const char *const mosq_names[] = { MOSQ_FNS(DL_NAME) };

#define MQ_QUEUE_MSGS		256
#define MQ_QUEUE_BYTES		(256 * 1024)
#define MQ_INFLIGHT		16	/* handed to libmosquitto, not yet acknowledged */
#define MQ_BACKOFF_MAX_S	60
#define MQ_CONNECT_TIMEOUT_MS	10000	/* TCP, TLS and CONNACK together */
#define MQ_RESOLVE_TIMEOUT_S	5.0
#define MQ_INFO_EVERY		6	/* info goes out every this many intervals */
#define MQ_SWEEP_S		3.0	/* how long retained topics are read for stale ones */
#define MQ_STOP_DRAIN_MS	1000	/* at a stop, for what is queued */
#define MQ_CAPATH		"/etc/ssl/certs"
#define MQ_TOPIC_LEN		(CFG_TOPIC_LEN + 64)

enum mq_state { MQ_OFF, MQ_RESOLVING, MQ_CONNECTING, MQ_CONNECTED, MQ_BACKOFF };

/* What a connection is made with: any change means a new connection. */
struct mq_conn {
	char host[CFG_HOST_LEN];
	int port;
	char username[128];
	char password[128];
	bool tls;
	char cafile[CFG_PATH_LEN];
	char prefix[CFG_TOPIC_LEN];
	char client_id[96];
	int keepalive;
};

static struct {
	struct ev_loop *loop;
	bool inited, lib_inited;
	struct mq_conn conn;
	char node[96];			/* discovery node id, from the client id */
	int interval_s;
	bool ha;
	char ha_prefix[CFG_TOPIC_LEN];

	enum mq_state state;
	struct mosquitto *mosq;
	bool stopping;			/* tearing down: libmosquitto callbacks do nothing */
	int bye_mid;			/* the "offline" of a stop, and whether it arrived */
	bool bye_acked;
	bool failing;			/* no good connect since the last error */
	bool next_addr;			/* the retry tries the next address of the name */
	char error[192];
	char logged[192];		/* the last error logged at warn */
	char refused[128];		/* CONNACK refusal, for the disconnect that follows */
	int backoff_s;
	int64_t attempt_ms;
	struct resolve res;
	char addrs[RESOLVE_MAX][RESOLVE_ADDR_LEN];
	int naddrs, addr_i;

	ev_io io;
	ev_timer misc, retry, sample, kick, sweep;
	bool sweeping, state_dirty;
	unsigned ticks;

	struct mqq q;
	uint64_t published;
	char members[CFG_MAX_MEMBERS][CFG_NAME_LEN];
	int nmembers;
} M;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void flush(void);

static const char *describe(int rc, int err)
{
	switch (rc) {
	case MOSQ_ERR_ERRNO:
		return err ? strerror(err) : "connection failed";
	case MOSQ_ERR_CONN_LOST:
		return "the connection was lost";
	case MOSQ_ERR_KEEPALIVE:
		return "no answer within the keepalive";
	default:
		return Q.mosquitto_strerror(rc);
	}
}

static void topic_of(char *buf, const char *sub)
{
	snprintf(buf, MQ_TOPIC_LEN, "%s/%s", M.conn.prefix, sub);
}

/* ---- the socket on the loop --------------------------------------------------- */

static void io_update(void)
{
	int fd = M.mosq ? Q.mosquitto_socket(M.mosq) : -1, events;

	if (fd < 0) {
		ev_io_stop(M.loop, &M.io);
		return;
	}
	events = EV_READ | (Q.mosquitto_want_write(M.mosq) ? EV_WRITE : 0);
	if (ev_is_active(&M.io) && M.io.fd == fd && (M.io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(M.loop, &M.io);
	ev_io_set(&M.io, fd, events);
	ev_io_start(M.loop, &M.io);
}

static bool live(void)
{
	return M.state == MQ_CONNECTING || M.state == MQ_CONNECTED;
}

static void lost(int rc, int err)
{
	if (M.refused[0]) {
		fail("%s", M.refused);
		M.refused[0] = '\0';
	} else {
		fail("%s", describe(rc, err));
	}
}

/* After libmosquitto ran: a closed socket or an error ends the connection. */
static void after_loop(int rc)
{
	int err = errno;

	if (live() && (rc > 0 || Q.mosquitto_socket(M.mosq) < 0))
		lost(rc > 0 ? rc : MOSQ_ERR_CONN_LOST, err);
	else if (M.state == MQ_CONNECTED)
		flush();
	else if (M.state == MQ_CONNECTING)
		io_update();
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int rc = MOSQ_ERR_SUCCESS;

	(void)loop;
	(void)w;
	if (revents & EV_READ)
		rc = Q.mosquitto_loop_read(M.mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && (revents & EV_WRITE) && live() &&
	    Q.mosquitto_socket(M.mosq) >= 0)
		rc = Q.mosquitto_loop_write(M.mosq, 1);
	after_loop(rc);
}

/* Once a second: keepalive pings and the connect deadline. */
static void misc_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (M.state == MQ_CONNECTING && mono_ms() - M.attempt_ms > MQ_CONNECT_TIMEOUT_MS) {
		fail("no answer within %d s", MQ_CONNECT_TIMEOUT_MS / 1000);
		return;
	}
	if (live())
		after_loop(Q.mosquitto_loop_misc(M.mosq));
}

/* ---- publishing ------------------------------------------------------------------ */

/* Straight to libmosquitto, retained (availability and discovery: only sent
 * while connected, so they never wait in the queue). */
static void publish_now(const char *topic, const char *payload, size_t len)
{
	int rc = Q.mosquitto_publish(M.mosq, NULL, topic, (int)len, len ? payload : NULL, 1, true);

	if (rc != MOSQ_ERR_SUCCESS)
		log_debug("MQTT: cannot publish to %s: %s", topic, Q.mosquitto_strerror(rc));
}

/* Hands queued messages to libmosquitto, at most MQ_INFLIGHT unacknowledged. */
static void flush(void)
{
	struct mqq_msg *m;
	int rc = MOSQ_ERR_SUCCESS;

	while (M.state == MQ_CONNECTED && mqq_inflight(&M.q) < MQ_INFLIGHT &&
	       (m = mqq_peek(&M.q))) {
		int mid = 0;

		rc = Q.mosquitto_publish(M.mosq, &mid, m->topic, (int)m->len,
				       m->len ? m->payload : NULL, 1, m->kind == MQQ_SAMPLE);
		if (rc == MOSQ_ERR_SUCCESS) {
			mqq_sent(&M.q, m, mid);
			continue;
		}
		if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO ||
		    rc == MOSQ_ERR_NOMEM)
			break;	/* the connection is failing: the socket will tell */
		log_warn("MQTT: cannot publish %zu bytes to %s: %s; dropped", m->len, m->topic,
			 Q.mosquitto_strerror(rc));
		mqq_drop(&M.q, m);
	}
	if (M.state == MQ_CONNECTED && Q.mosquitto_socket(M.mosq) < 0)
		lost(rc > 0 ? rc : MOSQ_ERR_CONN_LOST, errno);
	else
		io_update();
}

static void push_json(enum mqq_kind kind, const char *sub, struct json_object *o)
{
	char topic[MQ_TOPIC_LEN];
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_PLAIN, &len);
	int dropped;

	topic_of(topic, sub);
	dropped = mqq_push(&M.q, kind, topic, s, len);
	if (dropped)
		log_debug("MQTT: queue full, %d message(s) dropped", dropped);
}

static void push_method(const char *method, const char *sub)
{
	struct json_object *o = api_call(method, NULL);

	push_json(MQQ_SAMPLE, sub, o);
	json_object_put(o);
}

static void push_members(void)
{
	struct json_object *arr = api_call("members", NULL), *name;
	char sub[CFG_NAME_LEN + 8];

	for (size_t i = 0; json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i);

		if (!json_object_object_get_ex(m, "name", &name))
			continue;
		snprintf(sub, sizeof(sub), "member/%s", json_object_get_string(name));
		push_json(MQQ_SAMPLE, sub, m);
	}
	json_object_put(arr);
}

static void push_state(void)
{
	push_method("status", "state");
	M.state_dirty = false;
}

/* ---- discovery and stale retained topics ----------------------------------------- */

/* Takes the registry's member names; returns true if they changed. */
static bool members_changed(void)
{
	int n = mem_count() < CFG_MAX_MEMBERS ? mem_count() : CFG_MAX_MEMBERS;
	bool changed = n != M.nmembers;

	for (int i = 0; i < n; i++) {
		const char *name = mem_get(i)->cfg.name;

		if (strcmp(M.members[i], name)) {
			strlcpy_ok(M.members[i], name, sizeof(M.members[i]));
			changed = true;
		}
	}
	M.nmembers = n;
	return changed;
}

static void ha_ctx(struct mqtt_ha *h, const char *ha_prefix)
{
	*h = (struct mqtt_ha){ .prefix = M.conn.prefix, .ha_prefix = ha_prefix, .node = M.node,
			       .version = AUTONOMY_VERSION };
}

/* Every entity's discovery config under ha_prefix, or with remove its removal. */
static void ha_publish(const char *ha_prefix, bool remove)
{
	struct mqtt_ha h;
	char topic[512];

	ha_ctx(&h, ha_prefix);
	for (int obj = 0; obj < __MQTT_HA_MAX; obj++) {
		int n = obj == MQTT_HA_ACTIVE ? 1 : M.nmembers;

		for (int i = 0; i < n; i++) {
			struct json_object *o;
			size_t len;
			const char *s;

			if (!mqtt_ha_topic(&h, (enum mqtt_ha_obj)obj, M.members[i], topic,
					   sizeof(topic)))
				continue;
			if (remove) {
				publish_now(topic, NULL, 0);
				continue;
			}
			o = mqtt_ha_config(&h, (enum mqtt_ha_obj)obj, M.members[i]);
			s = json_object_to_json_string_length(o, JSON_PLAIN, &len);
			publish_now(topic, s, len);
			json_object_put(o);
		}
	}
}

static void sweep_topics(char subs[3][MQ_TOPIC_LEN + 64])
{
	snprintf(subs[0], MQ_TOPIC_LEN + 64, "%s/member/+", M.conn.prefix);
	snprintf(subs[1], MQ_TOPIC_LEN + 64, "%s/sensor/%s/+/config", M.ha_prefix, M.node);
	snprintf(subs[2], MQ_TOPIC_LEN + 64, "%s/binary_sensor/%s/+/config", M.ha_prefix, M.node);
}

/* Reads our retained topics for a moment: member topics and discovery configs
 * that no current member explains are cleared (members removed while we were
 * away, or discovery turned off). Subscribing again re-sends retained messages. */
static void sweep_start(void)
{
	char subs[3][MQ_TOPIC_LEN + 64];

	sweep_topics(subs);
	for (int i = 0; i < 3; i++)
		Q.mosquitto_subscribe(M.mosq, NULL, subs[i], 0);
	M.sweeping = true;
	ev_timer_stop(M.loop, &M.sweep);
	ev_timer_set(&M.sweep, MQ_SWEEP_S, 0.);
	ev_timer_start(M.loop, &M.sweep);
}

static void sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char subs[3][MQ_TOPIC_LEN + 64];

	(void)loop;
	(void)w;
	(void)revents;
	M.sweeping = false;
	if (M.state != MQ_CONNECTED)
		return;
	sweep_topics(subs);
	for (int i = 0; i < 3; i++)
		Q.mosquitto_unsubscribe(M.mosq, NULL, subs[i]);
	io_update();
}

static bool stale(const char *topic)
{
	size_t plen = strlen(M.conn.prefix);
	const char *names[CFG_MAX_MEMBERS];
	struct mqtt_ha h;

	if (!strncmp(topic, M.conn.prefix, plen) && !strncmp(topic + plen, "/member/", 8)) {
		for (int i = 0; i < M.nmembers; i++)
			if (!strcmp(topic + plen + 8, M.members[i]))
				return false;
		return true;
	}
	for (int i = 0; i < M.nmembers; i++)
		names[i] = M.members[i];
	ha_ctx(&h, M.ha_prefix);
	return !M.ha || !mqtt_ha_wanted(&h, topic, names, M.nmembers);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	(void)mosq;
	(void)obj;
	/* live copies of what we publish come without the retain flag */
	if (M.stopping || !M.sweeping || !msg->retain || !msg->payloadlen || !stale(msg->topic))
		return;
	log_info("MQTT: clearing stale retained topic %s", msg->topic);
	publish_now(msg->topic, NULL, 0);
}

static void check_members(void)
{
	if (!members_changed() || M.state != MQ_CONNECTED)
		return;
	if (M.ha)
		ha_publish(M.ha_prefix, false);
	sweep_start();
}

/* ---- connecting -------------------------------------------------------------------- */

static void fail(const char *fmt, ...)
{
	bool was_connected = M.state == MQ_CONNECTED;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(M.error, sizeof(M.error), fmt, ap);
	va_end(ap);
	ev_io_stop(M.loop, &M.io);
	ev_timer_stop(M.loop, &M.sweep);
	M.sweeping = false;
	mqq_requeue(&M.q);
	M.state = MQ_BACKOFF;
	M.failing = true;
	if (!was_connected && M.addr_i + 1 < M.naddrs) {
		/* another address of the same name first, at once */
		log_debug("MQTT: %s: %s; trying %s", M.addrs[M.addr_i], M.error,
			  M.addrs[M.addr_i + 1]);
		M.addr_i++;
		M.next_addr = true;
		ev_timer_set(&M.retry, 0., 0.);
		ev_timer_start(M.loop, &M.retry);
		return;
	}
	if (was_connected)
		log_warn("MQTT: lost the connection to %s port %d: %s; reconnecting in %d s",
			 M.conn.host, M.conn.port, M.error, M.backoff_s);
	else if (strcmp(M.logged, M.error))
		log_warn("MQTT: cannot connect to %s port %d: %s; retrying in %d s "
			 "(then up to every %d s)", M.conn.host, M.conn.port, M.error, M.backoff_s,
			 MQ_BACKOFF_MAX_S);
	else
		log_debug("MQTT: cannot connect to %s port %d: %s; retrying in %d s",
			  M.conn.host, M.conn.port, M.error, M.backoff_s);
	strlcpy_ok(M.logged, M.error, sizeof(M.logged));
	ev_timer_set(&M.retry, M.backoff_s, 0.);
	ev_timer_start(M.loop, &M.retry);
	M.backoff_s = M.backoff_s * 2 > MQ_BACKOFF_MAX_S ? MQ_BACKOFF_MAX_S : M.backoff_s * 2;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	char topic[MQ_TOPIC_LEN];

	(void)mosq;
	(void)obj;
	if (M.stopping || M.state != MQ_CONNECTING)
		return;
	if (rc) {
		/* libmosquitto closes the connection and calls on_disconnect next */
		snprintf(M.refused, sizeof(M.refused), "the broker refused the connection: %s",
			 Q.mosquitto_connack_string(rc));
		return;
	}
	M.state = MQ_CONNECTED;
	M.backoff_s = 1;
	M.failing = false;
	M.error[0] = M.logged[0] = M.refused[0] = '\0';
	log_info("MQTT: connected to %s port %d as %s", M.conn.host, M.conn.port, M.conn.client_id);
	topic_of(topic, "availability");
	publish_now(topic, "online", 6);
	members_changed();
	if (M.ha)
		ha_publish(M.ha_prefix, false);
	sweep_start();
	push_method("info", "info");
	push_state();
	push_members();
	flush();
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	int err = errno;

	(void)mosq;
	(void)obj;
	if (M.stopping || !live())
		return;
	lost(rc, err);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	(void)mosq;
	(void)obj;
	if (M.stopping) {
		M.bye_acked |= mid == M.bye_mid;
		return;
	}
	mqq_acked(&M.q, mid);
	M.published++;
	flush();
}

/* Frees the client without a goodbye: the socket closes and the broker
 * publishes the last will. What was in flight goes back to the queue. */
static void client_destroy(void)
{
	if (!M.mosq)
		return;
	ev_io_stop(M.loop, &M.io);
	M.stopping = true;
	Q.mosquitto_destroy(M.mosq);
	M.stopping = false;
	M.mosq = NULL;
	mqq_requeue(&M.q);
}

static int client_new(void)
{
	const struct mq_conn *c = &M.conn;
	char topic[MQ_TOPIC_LEN];
	int rc;

	M.mosq = Q.mosquitto_new(c->client_id, true, NULL);
	if (!M.mosq) {
		fail("cannot create an MQTT client: %s", strerror(errno));
		return -1;
	}
	Q.mosquitto_connect_callback_set(M.mosq, on_connect);
	Q.mosquitto_disconnect_callback_set(M.mosq, on_disconnect);
	Q.mosquitto_publish_callback_set(M.mosq, on_publish);
	Q.mosquitto_message_callback_set(M.mosq, on_message);
	topic_of(topic, "availability");
	rc = Q.mosquitto_will_set(M.mosq, topic, 7, "offline", 1, true);
	if (rc == MOSQ_ERR_SUCCESS && c->username[0])
		rc = Q.mosquitto_username_pw_set(M.mosq, c->username,
					       c->password[0] ? c->password : NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fail("cannot set up the MQTT client: %s", Q.mosquitto_strerror(rc));
		return -1;
	}
	if (c->tls) {
		rc = Q.mosquitto_tls_set(M.mosq, c->cafile[0] ? c->cafile : NULL,
				       c->cafile[0] ? NULL : MQ_CAPATH, NULL, NULL, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			fail("TLS: cannot use the CA certificates in %s: %s",
			     c->cafile[0] ? c->cafile : MQ_CAPATH, Q.mosquitto_strerror(rc));
			return -1;
		}
	}
	return 0;
}

static void connect_addr(const char *addr)
{
	/* TLS checks the certificate against the name, so then libmosquitto gets
	 * the name and looks it up again (the resolver has just answered it). */
	const char *target = M.conn.tls ? M.conn.host : addr;
	int rc;

	M.state = MQ_CONNECTING;
	M.attempt_ms = mono_ms();
	errno = 0;
	rc = Q.mosquitto_connect_bind_async(M.mosq, target, M.conn.port, M.conn.keepalive, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fail("%s", describe(rc, errno));
		return;
	}
	log_debug("MQTT: connecting to %s port %d", target, M.conn.port);
	io_update();
}

static void resolved(struct resolve *r, int n, char addrs[][RESOLVE_ADDR_LEN], const char *err)
{
	(void)r;
	if (err) {
		fail("cannot resolve %s: %s", M.conn.host, err);
		return;
	}
	M.naddrs = M.conn.tls ? 1 : n;
	M.addr_i = 0;
	for (int i = 0; i < n; i++)
		strlcpy_ok(M.addrs[i], addrs[i], sizeof(M.addrs[i]));
	connect_addr(M.addrs[0]);
}

static void connect_start(void)
{
	int rc;

	client_destroy();
	if (client_new() < 0)
		return;
	if (M.next_addr) {
		M.next_addr = false;
		connect_addr(M.addrs[M.addr_i]);
		return;
	}
	M.naddrs = M.addr_i = 0;
	if (resolve_is_literal(M.conn.host)) {
		connect_addr(M.conn.host);
		return;
	}
	M.state = MQ_RESOLVING;
	M.attempt_ms = mono_ms();
	rc = resolve_start(&M.res, M.loop, M.conn.host, MQ_RESOLVE_TIMEOUT_S, resolved);
	if (rc < 0)
		fail("cannot resolve %s: %s", M.conn.host, strerror(-rc));
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (M.state == MQ_BACKOFF)
		connect_start();
}

/* ---- samples and events ------------------------------------------------------------ */

static void sample_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	check_members();
	push_state();
	push_members();
	if (++M.ticks % MQ_INFO_EVERY == 0)
		push_method("info", "info");
	flush();
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (M.state == MQ_OFF)
		return;
	if (M.state_dirty)
		push_state();
	flush();
}

/* Runs inside evlog_add, perhaps in the middle of a decision: only queue, and
 * let the state be read once the loop is back. */
static void on_event(const struct evlog_entry *e, void *ctx)
{
	struct json_object *o;

	(void)ctx;
	if (M.state == MQ_OFF)
		return;
	o = evlog_entry_json(e);
	push_json(MQQ_EVENT, "event", o);
	json_object_put(o);
	M.state_dirty = true;
	if (!ev_is_active(&M.kick)) {
		ev_timer_set(&M.kick, 0., 0.);
		ev_timer_start(M.loop, &M.kick);
	}
}

/* ---- configuration ------------------------------------------------------------------ */

static int keepalive_of(int interval_s)
{
	int k = 3 * interval_s;

	return k < 5 ? 5 : k > 60 ? 60 : k;
}

static void conn_from_cfg(const struct cfg_main *c, struct mq_conn *n)
{
	char host[HOST_NAME_MAX + 1] = "";

	memset(n, 0, sizeof(*n));
	strlcpy_ok(n->host, c->mqtt_host, sizeof(n->host));
	n->port = c->mqtt_port;
	strlcpy_ok(n->username, c->mqtt_username, sizeof(n->username));
	strlcpy_ok(n->password, c->mqtt_password, sizeof(n->password));
	n->tls = c->mqtt_tls;
	strlcpy_ok(n->cafile, c->mqtt_cafile, sizeof(n->cafile));
	strlcpy_ok(n->prefix, c->mqtt_prefix, sizeof(n->prefix));
	if (c->mqtt_client_id[0]) {
		strlcpy_ok(n->client_id, c->mqtt_client_id, sizeof(n->client_id));
	} else {
		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			strlcpy_ok(host, "router", sizeof(host));
		/* musl's HOST_NAME_MAX is 255, glibc's 64: cut the name, not the id */
		snprintf(n->client_id, sizeof(n->client_id), "autonomy-%.*s",
			 (int)(sizeof(n->client_id) - sizeof("autonomy-")), host);
	}
	n->keepalive = keepalive_of(c->mqtt_interval_s);
}

static void drop_all(const char *why)
{
	int n = mqq_queued(&M.q) + mqq_inflight(&M.q);

	if (!n)
		return;
	mqq_clear(&M.q);
	M.q.dropped += (uint64_t)n;
	log_info("MQTT: %s: %d unsent message(s) dropped", why, n);
}

static void stop_timers(void)
{
	ev_timer_stop(M.loop, &M.misc);
	ev_timer_stop(M.loop, &M.retry);
	ev_timer_stop(M.loop, &M.sample);
	ev_timer_stop(M.loop, &M.kick);
	ev_timer_stop(M.loop, &M.sweep);
	M.sweeping = false;
}

static void turn_off(void)
{
	resolve_cancel(&M.res);
	client_destroy();
	stop_timers();
	drop_all("MQTT turned off");
	M.state = MQ_OFF;
	M.failing = false;
	M.error[0] = M.logged[0] = '\0';
	log_info("MQTT: off");
}

static void ha_changed(bool old_on, const char *old_prefix)
{
	if (M.state != MQ_CONNECTED)
		return;	/* the next connect publishes and sweeps */
	if (old_on && (!M.ha || strcmp(old_prefix, M.ha_prefix)))
		ha_publish(old_prefix, true);
	if (M.ha)
		ha_publish(M.ha_prefix, false);
	sweep_start();
	io_update();
}

void mqtt_apply(const struct cfg_main *c)
{
	struct mq_conn next;
	bool was_on = M.state != MQ_OFF, old_ha = M.ha;
	char old_ha_prefix[CFG_TOPIC_LEN];

	if (!M.inited)
		return;
	conn_from_cfg(c, &next);
	strlcpy_ok(old_ha_prefix, M.ha_prefix, sizeof(old_ha_prefix));
	M.ha = c->mqtt_ha_discovery;
	strlcpy_ok(M.ha_prefix, c->mqtt_ha_prefix, sizeof(M.ha_prefix));
	if (!next.host[0]) {
		if (was_on)
			turn_off();
		M.conn = next;
		return;
	}
	if (!M.lib_inited) {
		char why[sizeof(M.error) - 32];

		if (dl_load(MOSQ_SONAME, mosq_names, (void **)&Q, ARRAY_SIZE(mosq_names), why,
			    sizeof(why)) < 0) {
			snprintf(M.error, sizeof(M.error), "MQTT needs libmosquitto: %s", why);
			log_err("%s", M.error);
			return;
		}
		Q.mosquitto_lib_init();
		M.lib_inited = true;
	}
	if (M.interval_s != c->mqtt_interval_s || !was_on) {
		M.interval_s = c->mqtt_interval_s;
		ev_timer_stop(M.loop, &M.sample);
		ev_timer_set(&M.sample, M.interval_s, M.interval_s);
		ev_timer_start(M.loop, &M.sample);
	}
	if (was_on && !memcmp(&next, &M.conn, sizeof(next))) {
		if (old_ha != M.ha || strcmp(old_ha_prefix, M.ha_prefix))
			ha_changed(old_ha, old_ha_prefix);
		check_members();
		return;
	}
	if (strcmp(next.prefix, M.conn.prefix))
		drop_all("the topic prefix changed");
	resolve_cancel(&M.res);
	client_destroy();
	M.conn = next;
	mqtt_node_id(M.node, sizeof(M.node), M.conn.client_id);
	M.state = MQ_BACKOFF;	/* until connect_start says otherwise */
	M.backoff_s = 1;
	M.failing = false;
	M.next_addr = false;
	M.error[0] = M.logged[0] = M.refused[0] = '\0';
	if (!ev_is_active(&M.misc))
		ev_timer_start(M.loop, &M.misc);
	ev_timer_stop(M.loop, &M.retry);
	log_info("MQTT: publishing to %s port %d%s under %s/ as %s", M.conn.host, M.conn.port,
		 M.conn.tls ? " (TLS)" : "", M.conn.prefix, M.conn.client_id);
	connect_start();
}

int mqtt_init(struct ev_loop *loop)
{
	M.loop = loop;
	ev_io_init(&M.io, io_cb, -1, EV_READ);
	ev_timer_init(&M.misc, misc_cb, 1., 1.);
	ev_timer_init(&M.retry, retry_cb, 1., 0.);
	ev_timer_init(&M.sample, sample_cb, 10., 10.);
	ev_timer_init(&M.kick, kick_cb, 0., 0.);
	ev_timer_init(&M.sweep, sweep_cb, MQ_SWEEP_S, 0.);
	mqq_init(&M.q, MQ_QUEUE_MSGS, MQ_QUEUE_BYTES);
	M.inited = true;
	if (evlog_listen(on_event, NULL) < 0)
		log_warn("MQTT: no room for another event listener: events are not published");
	mqtt_apply(&daemon_ctx.cfg.main);
	return 0;
}

static bool all_sent(void)
{
	return M.state != MQ_CONNECTED || (!mqq_queued(&M.q) && !mqq_inflight(&M.q));
}

static bool bye_sent(void)
{
	return M.bye_acked;
}

/* At a stop: runs the connection (blocking, until the deadline) until done().
 * libmosquitto closes the socket as soon as DISCONNECT is written, and closing
 * it with acknowledgements still unread would reset the connection: the broker
 * could lose the DISCONNECT and send the will. So the last message is waited for. */
static void run_until(bool (*done)(void), int64_t end)
{
	int fd;

	while (!done() && M.mosq && (fd = Q.mosquitto_socket(M.mosq)) >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - mono_ms());

		if (Q.mosquitto_want_write(M.mosq))
			p.events |= POLLOUT;
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (p.revents & POLLOUT)
			Q.mosquitto_loop_write(M.mosq, 1);
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && Q.mosquitto_socket(M.mosq) >= 0)
			Q.mosquitto_loop_read(M.mosq, 1);
	}
}

void mqtt_fini(void)
{
	char topic[MQ_TOPIC_LEN];

	if (!M.inited)
		return;
	evlog_unlisten(on_event, NULL);
	resolve_cancel(&M.res);
	if (M.state == MQ_CONNECTED) {
		int64_t end = mono_ms() + MQ_STOP_DRAIN_MS;

		flush();
		run_until(all_sent, end);
	}
	if (M.state == MQ_CONNECTED) {
		M.stopping = true;
		topic_of(topic, "availability");
		if (Q.mosquitto_publish(M.mosq, &M.bye_mid, topic, 7, "offline", 1, true) ==
		    MOSQ_ERR_SUCCESS)
			run_until(bye_sent, mono_ms() + MQ_STOP_DRAIN_MS / 2);
		Q.mosquitto_disconnect(M.mosq);
		M.stopping = false;
		log_info("MQTT: disconnected from %s port %d (%d message(s) left unsent)",
			 M.conn.host, M.conn.port, mqq_queued(&M.q) + mqq_inflight(&M.q));
	}
	client_destroy();
	stop_timers();
	mqq_clear(&M.q);
	if (M.lib_inited)
		Q.mosquitto_lib_cleanup();
	memset(&M, 0, sizeof(M));
}

/* ---- info ---------------------------------------------------------------------------- */

static const char *state_text(char *buf, size_t size)
{
	switch (M.state) {
	case MQ_OFF:
		return "off";
	case MQ_CONNECTED:
		return "connected";
	default:
		if (!M.failing || !M.error[0])
			return "connecting";
		snprintf(buf, size, "error: %s", M.error);
		return buf;
	}
}

struct json_object *mqtt_info_json(void)
{
	struct json_object *o = json_object_new_object();
	char buf[sizeof(M.error) + 16];

	bool on = M.conn.host[0];

	json_object_object_add(o, "state", json_object_new_string(state_text(buf, sizeof(buf))));
	json_object_object_add(o, "host", on ? json_object_new_string(M.conn.host) : NULL);
	json_object_object_add(o, "port", on ? json_object_new_int(M.conn.port) : NULL);
	json_object_object_add(o, "client_id",
			       on ? json_object_new_string(M.conn.client_id) : NULL);
	json_object_object_add(o, "prefix", on ? json_object_new_string(M.conn.prefix) : NULL);
	json_object_object_add(o, "queued", json_object_new_int(mqq_queued(&M.q)));
	json_object_object_add(o, "inflight", json_object_new_int(mqq_inflight(&M.q)));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)M.q.dropped));
	json_object_object_add(o, "published", json_object_new_int64((int64_t)M.published));
	return o;
}
