/* MQTT telemetry: state, member samples, events and info published to a broker
 * with libmosquitto, driven by the daemon's loop (no thread of its own).
 *
 * Topics under mqtt_prefix: availability ("online"/"offline", retained; the
 * last will says "offline"), state (the `status` result, retained, at every
 * event and every mqtt_interval_s), member/NAME (the member object of
 * `members`, retained, every interval), event (each event-log entry, QoS 1, not
 * retained) and info (the `info` result, retained, on connect and every sixth
 * interval). Optional Home Assistant discovery configs under mqtt_ha_prefix.
 *
 * Contract: nothing here blocks a decision. Events reach the module through
 * evlog_listen() and are only queued (telem/mqtt_msg.h: bounded, samples
 * dropped before events); the queue is written out when the broker is
 * connected. Connecting never waits: IP literals connect at once, host names
 * are looked up in a child process (core/resolve.h). A failed or lost
 * connection is retried after 1 s, doubling to 60 s; a good connect resets it.
 *
 * mqtt_init() after eng_init(); mqtt_apply() whenever the configuration is
 * (re)applied; mqtt_fini() before eng_fini() sends what it can, publishes
 * "offline" and disconnects cleanly.
 */
#ifndef AUTONOMY_MQTT_H
#define AUTONOMY_MQTT_H

struct cfg_main;
struct ev_loop;
struct json_object;

/* Starts publishing if daemon_ctx's configuration names a broker. Returns 0. */
int mqtt_init(struct ev_loop *loop);
/* Applies c: off, on, reconnect (when the broker, credentials, TLS, client id,
 * prefix or interval changed), or only new discovery configs. */
void mqtt_apply(const struct cfg_main *c);
void mqtt_fini(void);

/* For `info`: {"state": "off"|"connecting"|"connected"|"error: …", "host", "port",
 * "client_id", "prefix", "queued", "inflight", "dropped", "published"}. */
struct json_object *mqtt_info_json(void);

#endif
