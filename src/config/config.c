#include "config/config.h"
#include "config/uci.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

static const char *const level_choices[] = { "debug", "info", "warn", "error", NULL };
const char *const cfg_class_names[] = {
	"auto", "starlink", "cellular", "wifi", "wired", "other", NULL
};
const char *const cfg_probe_names[] = { "icmp", "dns", "tcp", NULL };
static const char *const controller_choices[] = { "auto", "route", "none", "mwan3", NULL };
const char *const cfg_notifier_names[] = {
	"webhook", "ntfy", "pushover", "telegram", "email", NULL
};
static const char *const cap_choices[] = { "conservative", "balanced", "aggressive", NULL };
static const char *const radio_choices[] = { "auto", "ubus", "uqmi", "mmcli", "off", NULL };
const char *const cfg_prio_names[] = { "low", "normal", "high", "urgent", NULL };
const char *const cfg_notify_event_names[] = {
	"failover", "failback", "member_down", "member_up", "dish_alert", "crash", "data_budget",
	NULL
};

#define MAIN_INT(name, def, min, max, desc) \
	{ "autonomy", #name, CFG_T_INT, MAIN(name), def, min, max, NULL, 0, desc }

#define MAIN(f)	offsetof(struct cfg_main, f), sizeof(((struct cfg_main *)0)->f)
#define MEMB(f)	offsetof(struct cfg_member, f), sizeof(((struct cfg_member *)0)->f)
#define NOTI(f)	offsetof(struct cfg_notifier, f), sizeof(((struct cfg_notifier *)0)->f)

const struct cfg_opt cfg_schema[] = {
	{ "autonomy", "log_level", CFG_T_ENUM, MAIN(log_level), "info", 0, 0,
	  level_choices, 0, "How much autonomyd logs: debug, info, warn or error." },
	{ "autonomy", "state_dir", CFG_T_STRING, MAIN(state_dir), "/var/run/autonomy", 0, 0,
	  NULL, CFG_F_RESTART,
	  "Directory for the pid file, the control socket and the state file." },
	{ "autonomy", "controller", CFG_T_ENUM, MAIN(controller), "auto", 0, 0, controller_choices,
	  CFG_F_RESTART,
	  "What moves traffic: route (default-route metrics), mwan3 (mwan3's hotplug events), none (observe only); auto = mwan3 when config_root/mwan3 has enabled interfaces, else route." },
	{ "autonomy", "conntrack_flush", CFG_T_BOOL, MAIN(conntrack_flush), "1", 0, 0, NULL, 0,
	  "1: when the route controller moves traffic off a member, delete the conntrack entries "
	  "of connections that left through it, so they start again over the new member at once." },
	{ "autonomy", "config_root", CFG_T_STRING, MAIN(config_root), "/etc/config", 0, 0, NULL, 0,
	  "Directory holding the router's network, mwan3 and wireless files (member discovery, controller auto)." },
	{ "autonomy", "mwan3_hotplug_call", CFG_T_STRING, MAIN(mwan3_hotplug_call),
	  "/sbin/hotplug-call", 0, 0, NULL, CFG_F_RESTART,
	  "Program the mwan3 controller runs as '<program> iface' with ACTION, INTERFACE and DEVICE set." },
	{ "autonomy", "mwan3_reload", CFG_T_STRING, MAIN(mwan3_reload),
	  "/etc/init.d/mwan3 reload", 0, 0, NULL, 0,
	  "Command (words split on spaces) run after mwan3 takeover/release changed the mwan3 file; empty = none." },
	{ "autonomy", "metric_base", CFG_T_INT, MAIN(metric_base), "10", 0, 100000, NULL,
	  CFG_F_RESTART,
	  "Metric of the active member's default route; the others get metric_base+1, +2, …" },
	MAIN_INT(probe_interval_ms, "1000", 100, 60000,
		 "The active member probes each target this often."),
	MAIN_INT(standby_interval_ms, "5000", 100, 600000,
		 "Standby members probe each target this often."),
	{ "autonomy", "metered_interval_ms", CFG_T_INT, MAIN(metered_interval_ms), "0", 1000, 3600000,
	  NULL, CFG_F_OR_ZERO,
	  "Metered standby members send one probe (to one target, in turn) this often; "
	  "0 = by data_cap_mode." },
	{ "autonomy", "data_cap_mode", CFG_T_ENUM, MAIN(data_cap_mode), "balanced", 0, 0,
	  cap_choices, 0,
	  "Probing of metered standby members: conservative (one probe every 5 min), balanced "
	  "(every 60 s) or aggressive (every 15 s)." },
	{ "autonomy", "traffic_proof", CFG_T_BOOL, MAIN(traffic_proof), "0", 0, 0, NULL, 0,
	  "1: a metered standby member whose interface keeps receiving traffic (beyond the "
	  "probes' replies) skips its probes until it goes quiet." },
	MAIN_INT(burst_interval_ms, "200", 50, 5000,
		 "Probe spacing while a reply is overdue, until the member is decided."),
	MAIN_INT(probe_timeout_ms, "1000", 100, 10000,
		 "A probe without reply after this long is lost."),
	MAIN_INT(hard_fail_ms, "2000", 200, 60000,
		 "No reply from a quorum of targets for this long, while probing at burst rate, is a hard failure."),
	MAIN_INT(latency_ok_ms, "100", 1, 10000, "Latency without penalty."),
	MAIN_INT(latency_bad_ms, "1000", 2, 60000, "Latency with the full penalty (30 points)."),
	MAIN_INT(loss_ok_pct, "1", 0, 99, "Loss without penalty."),
	MAIN_INT(loss_bad_pct, "20", 1, 100, "Loss with the full penalty (50 points)."),
	MAIN_INT(jitter_ok_ms, "10", 0, 10000, "Jitter without penalty."),
	MAIN_INT(jitter_bad_ms, "200", 1, 60000, "Jitter with the full penalty (20 points)."),
	MAIN_INT(degraded_score, "70", 0, 100, "Below this final score a member that is up shows as degraded."),
	MAIN_INT(switch_margin, "15", 1, 100,
		 "Score points another member must lead the active one by for a soft switch."),
	MAIN_INT(fail_min_duration_s, "10", 0, 3600, "How long that lead must last."),
	MAIN_INT(restore_min_duration_s, "30", 0, 86400,
		 "How long a preferred (higher weight) member must stay good before failback."),
	MAIN_INT(cooldown_s, "20", 0, 3600,
		 "Minimum time between a switch and the next soft switch or failback."),
	MAIN_INT(min_uptime_s, "10", 0, 3600,
		 "A member must be up this long before it is chosen, unless nothing else is up."),
	MAIN_INT(dampening_half_life_s, "60", 1, 86400,
		 "Half-life of the flap penalty (1000 points each time a member goes down)."),
	MAIN_INT(dampening_suppress, "2000", 100, 1000000,
		 "Above this penalty a member is not chosen unless nothing else is up."),
	MAIN_INT(dampening_reuse, "750", 1, 1000000,
		 "A suppressed member is usable again when its penalty decays below this."),
	MAIN_INT(dish_poll_ms, "1000", 200, 60000, "How often a Starlink member's dish is asked for its status."),
	MAIN_INT(dish_timeout_ms, "1500", 100, 10000, "Deadline of every call to the dish."),
	MAIN_INT(dish_outage_grace_ms, "1000", 0, 60000,
		 "A dish outage lasting longer than this is a hard failure (hard:dish-outage:CAUSE)."),
	MAIN_INT(radio_poll_ms, "10000", 1000, 600000,
		 "How often a cellular member's modem is asked for its signal (one short tool run)."),
	MAIN_INT(radio_timeout_ms, "3000", 200, 30000,
		 "A modem tool still running after this long is killed and the radio counts as unknown."),
	MAIN_INT(rsrp_ok_dbm, "-100", -160, -30, "RSRP without penalty."),
	MAIN_INT(rsrp_bad_dbm, "-120", -160, -30, "RSRP with the full penalty (20 points)."),
	MAIN_INT(sinr_ok_db, "5", -30, 50, "SINR without penalty."),
	MAIN_INT(sinr_bad_db, "-5", -30, 50, "SINR with the full penalty (15 points)."),
	MAIN_INT(wifi_signal_ok_dbm, "-70", -127, -1, "Wi-Fi client signal without penalty."),
	MAIN_INT(wifi_signal_bad_dbm, "-85", -127, -1,
		 "Wi-Fi client signal with the full penalty (20 points)."),
	{ "autonomy", "data_warn_pct", CFG_T_PCTS, MAIN(data_warn_pct), "80 90 100", 0, 0, NULL, 0,
	  "Percentages of a member's data budget that raise a member/data-budget event, each once a period (up to 4)." },
	MAIN_INT(max_ram_kb, "512", 64, 65536,
		 "RAM for the history of every member and the system; the spans shrink to fit."),
	{ "autonomy", "history_file", CFG_T_STRING, MAIN(history_file), "", 0, 0, NULL, 0,
	  "Absolute path: the history is saved there at a clean stop and read at start; "
	  "empty = RAM only." },
	{ "autonomy", "mqtt_host", CFG_T_HOST, MAIN(mqtt_host), "", 0, 0, NULL, 0,
	  "MQTT broker (IP address or host name); empty turns MQTT off." },
	MAIN_INT(mqtt_port, "1883", 1, 65535, "MQTT broker port (8883 is usual with TLS)."),
	{ "autonomy", "mqtt_username", CFG_T_STRING, MAIN(mqtt_username), "", 0, 0, NULL, 0,
	  "MQTT user name; empty connects without one." },
	{ "autonomy", "mqtt_password", CFG_T_STRING, MAIN(mqtt_password), "", 0, 0, NULL,
	  CFG_F_SECRET, "MQTT password (secret: masked in config.get, never logged)." },
	{ "autonomy", "mqtt_tls", CFG_T_BOOL, MAIN(mqtt_tls), "0", 0, 0, NULL, 0,
	  "1 connects to the broker over TLS and verifies its certificate." },
	{ "autonomy", "mqtt_cafile", CFG_T_STRING, MAIN(mqtt_cafile), "", 0, 0, NULL, 0,
	  "CA certificate (PEM) for mqtt_tls; empty = the system CAs in /etc/ssl/certs." },
	{ "autonomy", "mqtt_prefix", CFG_T_TOPIC, MAIN(mqtt_prefix), "autonomy", 0, 0, NULL, 0,
	  "Topic prefix: PREFIX/state, PREFIX/member/NAME, PREFIX/event, PREFIX/info, PREFIX/availability." },
	{ "autonomy", "mqtt_client_id", CFG_T_STRING, MAIN(mqtt_client_id), "", 0, 0, NULL, 0,
	  "MQTT client id; empty = autonomy-HOSTNAME." },
	MAIN_INT(mqtt_interval_s, "10", 1, 3600,
		 "State and member samples are published this often (and state at every change)."),
	{ "autonomy", "mqtt_ha_discovery", CFG_T_BOOL, MAIN(mqtt_ha_discovery), "0", 0, 0, NULL, 0,
	  "1 publishes Home Assistant MQTT discovery configs for the uplinks." },
	{ "autonomy", "mqtt_ha_prefix", CFG_T_TOPIC, MAIN(mqtt_ha_prefix), "homeassistant", 0, 0,
	  NULL, 0, "Home Assistant's discovery prefix." },
	{ "autonomy", "http_listen", CFG_T_ADDR, MAIN(http_listen), "127.0.0.1", 0, 0, NULL, 0,
	  "Address of the HTTP server (API, event stream, /metrics, dashboard); empty turns it off." },
	MAIN_INT(http_port, "8080", 1, 65535, "TCP port of the HTTP server."),
	{ "autonomy", "http_token", CFG_T_STRING, MAIN(http_token), "", 0, 0, NULL, CFG_F_SECRET,
	  "Bearer token for HTTP writes, and for every API request when listening beyond loopback." },
	{ "autonomy", "http_root", CFG_T_STRING, MAIN(http_root), "/usr/share/autonomy/www", 0, 0,
	  NULL, 0, "Directory of the dashboard's files, served at /." },
	{ "autonomy", "notify_events", CFG_T_EVENTS, MAIN(notify_events),
	  "failover:high failback member_down:high member_up dish_alert:high crash:high data_budget",
	  0, 0,
	  cfg_notify_event_names, 0,
	  "Events that notify, each with an optional :low, :normal (default), :high or :urgent "
	  "priority." },
	{ "autonomy", "notify_quiet_hours", CFG_T_HOURS, MAIN(notify_quiet_hours), "", 0, 0, NULL, 0,
	  "Local time span (e.g. 22:00-07:00) when only notify_quiet_priority and above go out; "
	  "empty = none." },
	{ "autonomy", "notify_quiet_priority", CFG_T_ENUM, MAIN(notify_quiet_priority), "high", 0, 0,
	  cfg_prio_names, 0,
	  "During quiet hours only messages of this priority or higher are sent at once." },
	MAIN_INT(notify_cooldown_s, "300", 0, 86400,
		 "After a message of one event type, more of that type wait this long and go out as one digest."),
	MAIN_INT(notify_max_per_hour, "20", 1, 100,
		 "At most this many messages in any hour; the rest go into digests."),
	MAIN_INT(notify_dedup_s, "3600", 0, 86400,
		 "A message identical to the last one of its type within this long is not sent again."),
	MAIN_INT(notify_timeout_s, "10", 1, 300, "Deadline of one delivery attempt."),
	MAIN_INT(notify_deadline_s, "600", 5, 86400,
		 "A message not delivered this long after the event is dropped (retries back off up to 60 s)."),
	{ "member", "enabled", CFG_T_BOOL, MEMB(enabled), "1", 0, 0, NULL, 0,
	  "0 keeps the member in the config but out of every decision." },
	{ "member", "device", CFG_T_IFNAME, MEMB(device), NULL, 0, 0, NULL, CFG_F_REQUIRED,
	  "Linux network device of the uplink, e.g. eth1 or wwan0." },
	{ "member", "class", CFG_T_ENUM, MEMB(class), "auto", 0, 0, cfg_class_names, 0,
	  "Kind of uplink; auto classifies it from the device." },
	{ "member", "weight", CFG_T_INT, MEMB(weight), "100", 1, 1000, NULL, 0,
	  "Preference when scores are close: higher is preferred." },
	{ "member", "metered", CFG_T_BOOL, MEMB(metered), "0", 0, 0, NULL, 0,
	  "1 for uplinks that cost per byte: probed less while on standby." },
	{ "member", "probe", CFG_T_ENUM, MEMB(probe), "icmp", 0, 0, cfg_probe_names, 0,
	  "How the member is probed: icmp echo, dns query or tcp connect." },
	{ "member", "target", CFG_T_ADDRS, MEMB(targets), "1.1.1.1 8.8.8.8", 0, 0, NULL, 0,
	  "Probe targets (IP addresses, at most 8)." },
	{ "member", "reliability", CFG_T_INT, MEMB(reliability), "1", 1, CFG_MAX_TARGETS,
	  NULL, 0, "How many targets must answer for the member to count as reachable." },
	{ "member", "mark", CFG_T_INT, MEMB(mark), "0", 0, 0x7fffffff, NULL, 0,
	  "SO_MARK for this member's probes (e.g. 0x3f00 to bypass mwan3), 0 = none." },
	{ "member", "dish", CFG_T_STRING, MEMB(dish), "", 0, 0, NULL, 0,
	  "gRPC address of the Starlink dish (host:port) for a starlink member; empty = 192.168.100.1:9200." },
	{ "member", "radio_source", CFG_T_ENUM, MEMB(radio_source), "auto", 0, 0, radio_choices, 0,
	  "Where a cellular member's radio quality comes from: ubus (RutOS gsm.modemN), uqmi, "
	  "mmcli, auto (the first of them that answers) or off." },
	{ "member", "modem", CFG_T_STRING, MEMB(modem), "", 0, 0, NULL, 0,
	  "The modem as the source names it (gsm.modem1, /dev/cdc-wdm1, ModemManager index 1); "
	  "empty = the first one." },
	{ "member", "prefer_roaming", CFG_T_BOOL, MEMB(prefer_roaming), "0", 0, 0, NULL, 0,
	  "1: no score penalty while the modem roams (a roaming-only SIM)." },
	{ "member", "data_budget_mb", CFG_T_INT, MEMB(data_budget_mb), "0", 0, 100000000, NULL, 0,
	  "Monthly data allowance in MB (all traffic of the device); 0 = none." },
	{ "member", "data_reset_day", CFG_T_INT, MEMB(data_reset_day), "1", 1, 28, NULL, 0,
	  "Day of the month (local time) the data budget period starts." },
	{ "notifier", "type", CFG_T_ENUM, NOTI(type), NULL, 0, 0, cfg_notifier_names, CFG_F_REQUIRED,
	  "Channel: webhook, ntfy, pushover, telegram or email." },
	{ "notifier", "enabled", CFG_T_BOOL, NOTI(enabled), "1", 0, 0, NULL, 0,
	  "0 keeps the notifier in the config but sends nothing to it." },
	{ "notifier", "url", CFG_T_STRING, NOTI(url), "", 0, 0, NULL, 0,
	  "Base URL (http:// or https://; smtp:// or smtps:// for email); empty = the service's "
	  "public server." },
	{ "notifier", "to", CFG_T_STRING, NOTI(to), "", 0, 0, NULL, 0,
	  "Recipient: ntfy topic, Pushover user key, Telegram chat id or e-mail address." },
	{ "notifier", "token", CFG_T_STRING, NOTI(token), "", 0, 0, NULL, CFG_F_SECRET,
	  "Secret: webhook HMAC key, ntfy access token, Pushover app token, Telegram bot token or "
	  "SMTP password." },
	{ "notifier", "user", CFG_T_STRING, NOTI(user), "", 0, 0, NULL, 0,
	  "SMTP user name; empty = no login." },
	{ "notifier", "from", CFG_T_STRING, NOTI(from), "", 0, 0, NULL, 0, "Sender address of e-mail." },
	{ "notifier", "min_priority", CFG_T_ENUM, NOTI(min_priority), "low", 0, 0, cfg_prio_names, 0,
	  "Only messages of this priority or higher go to this notifier." },
	{ "notifier", "starttls", CFG_T_BOOL, NOTI(starttls), "1", 0, 0, NULL, 0,
	  "email over smtp://: 1 requires STARTTLS, 0 sends in the clear (only for a local relay)." },
	{ "notifier", "cafile", CFG_T_STRING, NOTI(cafile), "", 0, 0, NULL, 0,
	  "CA certificate (PEM) to verify the server with; empty = the system CAs." },
	{ NULL, NULL, 0, 0, 0, NULL, 0, 0, NULL, 0, NULL }
};

static const char *const type_names[] = {
	[CFG_T_BOOL] = "bool", [CFG_T_INT] = "int", [CFG_T_STRING] = "string",
	[CFG_T_ENUM] = "enum", [CFG_T_IFNAME] = "device", [CFG_T_ADDRS] = "list",
	[CFG_T_HOST] = "string", [CFG_T_TOPIC] = "string", [CFG_T_ADDR] = "string",
	[CFG_T_EVENTS] = "string", [CFG_T_HOURS] = "string", [CFG_T_PCTS] = "string",
};

const struct cfg_opt *cfg_find_opt(const char *section_type, const char *name)
{
	for (const struct cfg_opt *o = cfg_schema; o->name; o++)
		if (!strcmp(o->section, section_type) && !strcmp(o->name, name))
			return o;
	return NULL;
}

/* ---- values -------------------------------------------------------------- */

static int choice_index(const char *const *choices, const char *s)
{
	for (int i = 0; choices[i]; i++)
		if (!strcmp(choices[i], s))
			return i;
	return -1;
}

static void join_choices(const char *const *choices, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; choices[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", choices[i]);
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= CFG_DEV_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s > '~')
			return false;
	return true;
}

static bool valid_addr(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Lists may come as several values or as one value of items separated by
 * spaces or commas (as `option target '1.1.1.1 8.8.8.8'`). */
static int parse_addrs(struct cfg_addrs *out, const char *const *vals, int nvals,
		       char *err, size_t errlen)
{
	struct cfg_addrs a = { 0 };

	for (int i = 0; i < nvals; i++) {
		char *copy = xstrdup(vals[i]), *save = NULL;

		for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
			if (!valid_addr(t)) {
				snprintf(err, errlen, "'%s' is not an IP address", t);
				free(copy);
				return -1;
			}
			if (a.n == CFG_MAX_TARGETS) {
				snprintf(err, errlen, "more than %d addresses", CFG_MAX_TARGETS);
				free(copy);
				return -1;
			}
			strlcpy_ok(a.addr[a.n++], t, CFG_ADDR_LEN);
		}
		free(copy);
	}
	if (!a.n) {
		snprintf(err, errlen, "needs at least one address");
		return -1;
	}
	*out = a;
	return 0;
}

static int parse_int(const struct cfg_opt *o, int *out, const char *s, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, !strncmp(s, "0x", 2) || !strncmp(s, "0X", 2) ? 16 : 10);
	if (!*s || *end || errno) {
		snprintf(err, errlen, "'%s' is not a whole number", s);
		return -1;
	}
	if ((v < o->min || v > o->max) && !(v == 0 && (o->flags & CFG_F_OR_ZERO))) {
		snprintf(err, errlen, "'%s' is out of range (%s%ld to %ld)", s,
			 o->flags & CFG_F_OR_ZERO ? "0, or " : "", o->min, o->max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_string(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c < ' ') {
			snprintf(err, errlen, "control characters are not allowed");
			return -1;
		}
	}
	if (strlen(s) >= o->size) {
		if (o->flags & CFG_F_SECRET)
			snprintf(err, errlen, "is too long (at most %zu characters)", o->size - 1);
		else
			snprintf(err, errlen, "'%s' is too long (at most %zu characters)", s, o->size - 1);
		return -1;
	}
	strlcpy_ok(out, s, o->size);
	return 0;
}

/* A DNS name (letters, digits, '-', '_', dot-separated labels of 1 to 63) or an
 * IP literal; empty is allowed (it turns the feature off). */
static int parse_host(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	size_t label = 0;

	if (!valid_addr(s)) {
		for (const char *c = s; *c; c++) {
			if (*c == '.' && label) {
				label = 0;
			} else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_') {
				if (++label > 63)
					break;
			} else {
				label = 64;
				break;
			}
		}
		if (label > 63 || (*s && !label && s[strlen(s) - 1] != '.')) {
			snprintf(err, errlen, "'%s' is not a host name or an IP address", s);
			return -1;
		}
	}
	return parse_string(o, out, s, err, errlen);
}

/* An MQTT topic prefix: printable ASCII without spaces, no wildcard, no empty
 * level (leading, trailing or doubled '/'), no leading '$' (the broker's own). */
static int parse_topic(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (!len) {
		snprintf(err, errlen, "must not be empty");
		return -1;
	}
	for (const char *c = s; *c; c++) {
		if (*c == '+' || *c == '#') {
			snprintf(err, errlen, "'%s' contains the wildcard '%c'", s, *c);
			return -1;
		}
		if (*c <= ' ' || *c > '~') {
			snprintf(err, errlen, "'%s': use printable ASCII without spaces", s);
			return -1;
		}
	}
	if (s[0] == '/' || s[len - 1] == '/' || strstr(s, "//")) {
		snprintf(err, errlen, "'%s' has an empty topic level", s);
		return -1;
	}
	if (s[0] == '$') {
		snprintf(err, errlen, "'%s' starts with '$' (reserved for the broker)", s);
		return -1;
	}
	return parse_string(o, out, s, err, errlen);
}

static bool parse_hhmm(const char *s, int *min)
{
	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
	      s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
		return false;
	*min = ((s[0] - '0') * 10 + s[1] - '0') * 60 + (s[3] - '0') * 10 + s[4] - '0';
	return *min < 24 * 60;
}

bool cfg_parse_hours(const char *s, int *start_min, int *end_min)
{
	return strlen(s) == 11 && s[5] == '-' && parse_hhmm(s, start_min) &&
	       parse_hhmm(s + 6, end_min) && *start_min != *end_min;
}

static int parse_hours(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	int a, b;

	if (*s && !cfg_parse_hours(s, &a, &b)) {
		snprintf(err, errlen, "'%s' is not a time span like 22:00-07:00", s);
		return -1;
	}
	return parse_string(o, out, s, err, errlen);
}

int cfg_parse_pcts(const char *s, int *v, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		long x;

		if (*s == ' ' || *s == '\t' || *s == ',') {
			s++;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		x = strtol(s, &end, 10);
		if (x < 1 || x > 100 || n == max || (n && x <= v[n - 1]))
			return -1;
		v[n++] = (int)x;
		s = end;
	}
	return n;
}

static int parse_pcts(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	int v[4];

	if (cfg_parse_pcts(s, v, 4) < 0) {
		snprintf(err, errlen, "'%s' is not up to 4 ascending percentages like '80 90 100'", s);
		return -1;
	}
	return parse_string(o, out, s, err, errlen);
}

/* "failover:high member_up": every word from o->choices at most once, each with
 * an optional priority. */
static int parse_events(const struct cfg_opt *o, char *out, const char *s, char *err, size_t errlen)
{
	char *copy = xstrdup(s), *save = NULL, choices[256];
	unsigned seen = 0;
	int rc = 0;

	for (char *t = strtok_r(copy, " \t,", &save); t && !rc; t = strtok_r(NULL, " \t,", &save)) {
		char *prio = strchr(t, ':');
		int i;

		if (prio)
			*prio++ = '\0';
		i = choice_index(o->choices, t);
		if (i < 0) {
			join_choices(o->choices, choices, sizeof(choices));
			snprintf(err, errlen, "'%s' is not one of %s", t, choices);
			rc = -1;
		} else if (seen & (1u << i)) {
			snprintf(err, errlen, "'%s' is named twice", t);
			rc = -1;
		} else if (prio && choice_index(cfg_prio_names, prio) < 0) {
			snprintf(err, errlen,
				 "'%s': priority '%s' is not one of low, normal, high, urgent", t, prio);
			rc = -1;
		}
		seen |= 1u << (i < 0 ? 0 : i);
	}
	free(copy);
	return rc ? rc : parse_string(o, out, s, err, errlen);
}

int cfg_parse_value(const struct cfg_opt *o, void *base, const char *const *vals,
		    int nvals, char *err, size_t errlen)
{
	void *p = (char *)base + o->off;
	char choices[256];
	int v;

	if (o->type == CFG_T_ADDRS)
		return parse_addrs(p, vals, nvals, err, errlen);
	if (nvals != 1) {
		snprintf(err, errlen, "takes one value, not a list");
		return -1;
	}
	switch (o->type) {
	case CFG_T_BOOL:
		v = uci_parse_bool(vals[0]);
		if (v < 0) {
			snprintf(err, errlen, "'%s' is not a boolean (use 1 or 0)", vals[0]);
			return -1;
		}
		*(bool *)p = v;
		return 0;
	case CFG_T_INT:
		return parse_int(o, p, vals[0], err, errlen);
	case CFG_T_ENUM:
		v = choice_index(o->choices, vals[0]);
		if (v < 0) {
			join_choices(o->choices, choices, sizeof(choices));
			snprintf(err, errlen, "'%s' is not one of %s", vals[0], choices);
			return -1;
		}
		*(int *)p = v;
		return 0;
	case CFG_T_IFNAME:
		if (!valid_ifname(vals[0])) {
			snprintf(err, errlen, "'%s' is not a valid device name", vals[0]);
			return -1;
		}
		strlcpy_ok(p, vals[0], o->size);
		return 0;
	case CFG_T_STRING:
		return parse_string(o, p, vals[0], err, errlen);
	case CFG_T_HOST:
		return parse_host(o, p, vals[0], err, errlen);
	case CFG_T_TOPIC:
		return parse_topic(o, p, vals[0], err, errlen);
	case CFG_T_ADDR:
		if (vals[0][0] && !valid_addr(vals[0])) {
			snprintf(err, errlen, "'%s' is not an IP address", vals[0]);
			return -1;
		}
		return parse_string(o, p, vals[0], err, errlen);
	case CFG_T_EVENTS:
		return parse_events(o, p, vals[0], err, errlen);
	case CFG_T_HOURS:
		return parse_hours(o, p, vals[0], err, errlen);
	case CFG_T_PCTS:
		return parse_pcts(o, p, vals[0], err, errlen);
	default:
		snprintf(err, errlen, "unsupported option type");
		return -1;
	}
}

static void set_default(const struct cfg_opt *o, void *base)
{
	const char *def = o->def ? o->def : "";
	char err[CFG_ERR_LEN];

	if (!o->def) {
		memset((char *)base + o->off, 0, o->size);
		return;
	}
	if (cfg_parse_value(o, base, &def, 1, err, sizeof(err)) < 0)
		abort();	/* a bad default in the table is a programming error */
}

static void section_defaults(const char *type, void *base)
{
	for (const struct cfg_opt *o = cfg_schema; o->name; o++)
		if (!strcmp(o->section, type))
			set_default(o, base);
}

void cfg_member_defaults(struct cfg_member *m)
{
	section_defaults("member", m);
}

void cfg_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	section_defaults("autonomy", &c->main);
}

/* ---- building from a file ------------------------------------------------- */

struct build {
	const char *name;	/* file name for messages */
	int nerrors;
	char *err;
	size_t errlen;
};

static void build_error(struct build *b, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void build_error(struct build *b, int line, const char *fmt, ...)
{
	char msg[CFG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s:%d: %s", b->name, line, msg);
	if (!b->nerrors++ && b->err)
		snprintf(b->err, b->errlen, "%s:%d: %s", b->name, line, msg);
}

static const char *section_label(const struct uci_section *s, char *buf, size_t size)
{
	if (!strcmp(s->type, "member") || !strcmp(s->type, "notifier"))
		snprintf(buf, size, "%s '%s'", s->type, s->name ? s->name : "?");
	else
		snprintf(buf, size, "section '%s'", s->name ? s->name : s->type);
	return buf;
}

static void apply_options(struct build *b, const struct uci_section *s, void *base)
{
	char label[CFG_NAME_LEN + 16], err[CFG_ERR_LEN];

	section_label(s, label, sizeof(label));
	for (int i = 0; i < s->nopts; i++) {
		const struct uci_option *u = &s->opts[i];
		const struct cfg_opt *o = cfg_find_opt(s->type, u->name);

		if (!o) {
			log_warn("%s:%d: %s: unknown option '%s' ignored", b->name, u->line,
				 label, u->name);
			continue;
		}
		if (cfg_parse_value(o, base, (const char *const *)u->values, u->nvalues,
				    err, sizeof(err)) == 0)
			continue;
		if (o->flags & CFG_F_REQUIRED)
			build_error(b, u->line, "%s: %s: %s", label, o->name, err);
		else
			log_warn("%s:%d: %s: %s: %s; using the default '%s'", b->name, u->line,
				 label, o->name, err, o->def);
	}
}

static bool section_has(const struct uci_section *s, const char *opt)
{
	for (int i = 0; i < s->nopts; i++)
		if (!strcmp(s->opts[i].name, opt))
			return true;
	return false;
}

/* A required option that is present but bad was reported by apply_options. */
static void check_required(struct build *b, const struct uci_section *s)
{
	char label[CFG_NAME_LEN + 16];

	for (const struct cfg_opt *o = cfg_schema; o->name; o++) {
		if (strcmp(o->section, s->type) || !(o->flags & CFG_F_REQUIRED))
			continue;
		if (!section_has(s, o->name))
			build_error(b, s->line, "%s: option '%s' is required",
				    section_label(s, label, sizeof(label)), o->name);
	}
}

static void build_member(struct build *b, struct config *c, const struct uci_section *s)
{
	struct cfg_member *m;

	if (!s->name) {
		build_error(b, s->line, "member sections need a name, e.g. config member 'wan'");
		return;
	}
	if (strlen(s->name) >= CFG_NAME_LEN) {
		build_error(b, s->line, "member name '%s' is longer than %d characters",
			    s->name, CFG_NAME_LEN - 1);
		return;
	}
	if (c->nmembers == CFG_MAX_MEMBERS) {
		build_error(b, s->line, "too many members (at most %d)", CFG_MAX_MEMBERS);
		return;
	}
	m = &c->member[c->nmembers++];
	memset(m, 0, sizeof(*m));
	section_defaults("member", m);
	strlcpy_ok(m->name, s->name, sizeof(m->name));
	apply_options(b, s, m);
	check_required(b, s);
	if (m->reliability > m->targets.n) {
		log_warn("%s:%d: member '%s': reliability %d is more than its %d target(s); using %d",
			 b->name, s->line, m->name, m->reliability, m->targets.n, m->targets.n);
		m->reliability = m->targets.n;
	}
}

static bool name_taken(const struct config *c, const char *name)
{
	for (int i = 0; i < c->nnotifiers; i++)
		if (!strcmp(c->notifier[i].name, name))
			return true;
	return !strcmp(name, "main") || cfg_find_member(c, name);
}

/* Section names are the keys of config.set, so a notifier's name must differ
 * from every member's and from "main". */
static void build_notifier(struct build *b, struct config *c, const struct uci_section *s)
{
	struct cfg_notifier *n;

	if (!s->name || strlen(s->name) >= CFG_NAME_LEN) {
		build_error(b, s->line, "notifier sections need a name of 1 to %d characters, "
			    "e.g. config notifier 'phone'", CFG_NAME_LEN - 1);
		return;
	}
	if (name_taken(c, s->name)) {
		build_error(b, s->line, "notifier '%s': the name is already used by another section",
			    s->name);
		return;
	}
	if (c->nnotifiers == CFG_MAX_NOTIFIERS) {
		build_error(b, s->line, "too many notifiers (at most %d)", CFG_MAX_NOTIFIERS);
		return;
	}
	n = &c->notifier[c->nnotifiers++];
	memset(n, 0, sizeof(*n));
	section_defaults("notifier", n);
	strlcpy_ok(n->name, s->name, sizeof(n->name));
	apply_options(b, s, n);
	check_required(b, s);
}

int cfg_from_uci(struct config *c, const struct uci_file *f, const char *name,
		 char *err, size_t errlen)
{
	struct build b = { .name = name, .err = err, .errlen = errlen };
	const struct uci_section *main_sec = NULL;

	if (err && errlen)
		err[0] = '\0';
	cfg_defaults(c);
	for (int i = 0; i < f->nsecs; i++) {
		const struct uci_section *s = &f->secs[i];

		if (!strcmp(s->type, "member")) {
			build_member(&b, c, s);
		} else if (!strcmp(s->type, "notifier")) {
			continue;	/* after the members: their names come first */
		} else if (!strcmp(s->type, "autonomy")) {
			if (main_sec) {
				log_warn("%s:%d: a second 'autonomy' section is ignored (the one on line %d is used)",
					 name, s->line, main_sec->line);
				continue;
			}
			main_sec = s;
			apply_options(&b, s, &c->main);
		} else {
			log_warn("%s:%d: unknown section type '%s' ignored", name, s->line, s->type);
		}
	}
	for (int i = 0; i < f->nsecs; i++)
		if (!strcmp(f->secs[i].type, "notifier"))
			build_notifier(&b, c, &f->secs[i]);
	return b.nerrors;
}

int cfg_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct uci_parser p;
	struct uci_file f = { 0 };
	int rc;

	uci_parser_init(&p, path);
	rc = uci_parse_path(&p, path, &f);
	if (rc < 0) {
		snprintf(err, errlen, "%s", p.nerrors ? p.errors[0] : "cannot read the file");
		log_err("%s", err);
		uci_parser_free(&p);
		cfg_defaults(c);
		return -1;
	}
	if (rc > 0) {
		for (int i = 0; i < p.nerrors && i < UCI_MAX_ERRORS; i++)
			log_err("%s", p.errors[i]);
		if (rc > 1)
			snprintf(err, errlen, "%s (and %d more errors)", p.errors[0], rc - 1);
		else
			snprintf(err, errlen, "%s", p.errors[0]);
		uci_parser_free(&p);
		uci_file_free(&f);
		return rc;
	}
	uci_parser_free(&p);
	rc = cfg_from_uci(c, &f, path, err, errlen);
	uci_file_free(&f);
	return rc;
}

const struct cfg_member *cfg_find_member(const struct config *c, const char *name)
{
	for (int i = 0; i < c->nmembers; i++)
		if (!strcmp(c->member[i].name, name))
			return &c->member[i];
	return NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static struct json_object *value_json(const struct cfg_opt *o, const void *base)
{
	const void *p = (const char *)base + o->off;
	const struct cfg_addrs *a;
	struct json_object *arr;

	switch (o->type) {
	case CFG_T_BOOL:
		return json_object_new_boolean(*(const bool *)p);
	case CFG_T_INT:
		return json_object_new_int(*(const int *)p);
	case CFG_T_ENUM:
		return json_object_new_string(o->choices[*(const int *)p]);
	case CFG_T_ADDRS:
		a = p;
		arr = json_object_new_array();
		for (int i = 0; i < a->n; i++)
			json_object_array_add(arr, json_object_new_string(a->addr[i]));
		return arr;
	default:
		if ((o->flags & CFG_F_SECRET) && *(const char *)p)
			return json_object_new_string("********");
		return json_object_new_string(p);
	}
}

static struct json_object *section_json(const char *type, const char *name, const void *base)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, ".type", json_object_new_string(type));
	json_object_object_add(obj, ".name", json_object_new_string(name));
	for (const struct cfg_opt *o = cfg_schema; o->name; o++)
		if (!strcmp(o->section, type))
			json_object_object_add(obj, o->name, value_json(o, base));
	return obj;
}

static struct json_object *opt_schema_json(const struct cfg_opt *o)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "section", json_object_new_string(o->section));
	json_object_object_add(obj, "option", json_object_new_string(o->name));
	json_object_object_add(obj, "type", json_object_new_string(type_names[o->type]));
	json_object_object_add(obj, "default", o->def ? json_object_new_string(o->def) : NULL);
	if (o->type == CFG_T_INT) {
		json_object_object_add(obj, "min", json_object_new_int64(o->min));
		json_object_object_add(obj, "max", json_object_new_int64(o->max));
		json_object_object_add(obj, "or_zero", json_object_new_boolean(o->flags & CFG_F_OR_ZERO));
	}
	if (o->choices) {
		struct json_object *arr = json_object_new_array();

		for (int i = 0; o->choices[i]; i++)
			json_object_array_add(arr, json_object_new_string(o->choices[i]));
		json_object_object_add(obj, "choices", arr);
	}
	json_object_object_add(obj, "secret", json_object_new_boolean(o->flags & CFG_F_SECRET));
	json_object_object_add(obj, "required", json_object_new_boolean(o->flags & CFG_F_REQUIRED));
	json_object_object_add(obj, "restart", json_object_new_boolean(o->flags & CFG_F_RESTART));
	json_object_object_add(obj, "description", json_object_new_string(o->desc));
	return obj;
}

struct json_object *cfg_to_json(const struct config *c, const char *path, bool schema)
{
	struct json_object *res = json_object_new_object(), *vals = json_object_new_object();

	json_object_object_add(res, "path", json_object_new_string(path));
	json_object_object_add(vals, "main", section_json("autonomy", "main", &c->main));
	for (int i = 0; i < c->nmembers; i++)
		json_object_object_add(vals, c->member[i].name,
				       section_json("member", c->member[i].name, &c->member[i]));
	for (int i = 0; i < c->nnotifiers; i++) {
		const struct cfg_notifier *n = &c->notifier[i];

		json_object_object_add(vals, n->name, section_json("notifier", n->name, n));
	}
	json_object_object_add(res, "values", vals);
	if (schema) {
		struct json_object *arr = json_object_new_array();

		for (const struct cfg_opt *o = cfg_schema; o->name; o++)
			json_object_array_add(arr, opt_schema_json(o));
		json_object_object_add(res, "schema", arr);
	}
	return res;
}

/* ---- config.set ------------------------------------------------------------- */

static void set_err(struct cfg_set_error *e, const char *code, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_err(struct cfg_set_error *e, const char *code, const char *field,
		    const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static struct uci_section *model_section(struct uci_file *f, const char *name)
{
	struct uci_section *first_main = NULL;

	for (int i = 0; i < f->nsecs; i++) {
		struct uci_section *s = &f->secs[i];

		if (s->name && !strcmp(s->name, name))
			return s;
		if (!first_main && !strcmp(s->type, "autonomy"))
			first_main = s;
	}
	if (strcmp(name, "main"))
		return NULL;
	if (first_main)
		return first_main;
	/* No main section yet: create one in front, as a user would write it. */
	f->secs = xreallocarray(f->secs, (size_t)f->nsecs + 1, sizeof(*f->secs));
	memmove(&f->secs[1], &f->secs[0], (size_t)f->nsecs * sizeof(*f->secs));
	f->nsecs++;
	memset(&f->secs[0], 0, sizeof(f->secs[0]));
	f->secs[0].type = xstrdup("autonomy");
	f->secs[0].name = xstrdup("main");
	return &f->secs[0];
}

static void model_unset(struct uci_section *s, const char *opt)
{
	for (int i = 0; i < s->nopts; i++) {
		if (strcmp(s->opts[i].name, opt))
			continue;
		uci_option_clear(&s->opts[i]);
		free(s->opts[i].name);
		memmove(&s->opts[i], &s->opts[i + 1], (size_t)(s->nopts - i - 1) * sizeof(*s->opts));
		s->nopts--;
		return;
	}
}

static void model_set(struct uci_section *s, const char *opt, char **vals, int n, bool is_list)
{
	struct uci_option *u = NULL;

	for (int i = 0; i < s->nopts; i++)
		if (!strcmp(s->opts[i].name, opt))
			u = &s->opts[i];
	if (!u) {
		s->opts = xreallocarray(s->opts, (size_t)s->nopts + 1, sizeof(*s->opts));
		u = &s->opts[s->nopts++];
		memset(u, 0, sizeof(*u));
		u->name = xstrdup(opt);
	}
	uci_option_clear(u);
	u->values = xcalloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++)
		u->values[i] = xstrdup(vals[i]);
	u->nvalues = n;
	u->is_list = is_list;
}

/* A JSON value as UCI text values (n of them in vals, caller frees). */
static int json_to_texts(const struct cfg_opt *o, struct json_object *v, char ***vals, int *n)
{
	char buf[64];
	const char *s = NULL;

	*vals = NULL;
	*n = 0;
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		break;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "1" : "0";
		break;
	case json_type_int:
		snprintf(buf, sizeof(buf), "%" PRId64, json_object_get_int64(v));
		s = buf;
		break;
	case json_type_array:
		if (o->type != CFG_T_ADDRS)
			return -1;
		*n = (int)json_object_array_length(v);
		*vals = xcalloc((size_t)*n, sizeof(char *));
		for (int i = 0; i < *n; i++) {
			struct json_object *item = json_object_array_get_idx(v, (size_t)i);

			if (!json_object_is_type(item, json_type_string)) {
				for (int j = 0; j < i; j++)
					free((*vals)[j]);
				free(*vals);
				*vals = NULL;
				*n = 0;
				return -1;
			}
			(*vals)[i] = xstrdup(json_object_get_string(item));
		}
		return 0;
	default:
		return -1;
	}
	*vals = xcalloc(1, sizeof(char *));
	(*vals)[0] = xstrdup(s);
	*n = 1;
	return 0;
}

static void free_texts(char **vals, int n)
{
	for (int i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
}

/* Lists are written one item per `list` line, as uci does. */
static int split_list(char **vals, int n, char ***out)
{
	int cnt = 0;

	*out = NULL;
	for (int i = 0; i < n; i++) {
		char *copy = xstrdup(vals[i]), *save = NULL;

		for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
			*out = xreallocarray(*out, (size_t)cnt + 1, sizeof(char *));
			(*out)[cnt++] = xstrdup(t);
		}
		free(copy);
	}
	return cnt;
}

static bool same_values(const struct uci_option *u, char **vals, int n)
{
	if (!u)
		return n < 0;
	if (n < 0 || u->nvalues != n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(u->values[i], vals[i]))
			return false;
	return true;
}

/* Checks one key/value and applies it to the model; returns 0 or -1 (e filled). */
static int set_one(struct uci_file *f, const char *key, struct json_object *v,
		   struct json_object *changed, struct cfg_set_error *e)
{
	char sec[CFG_NAME_LEN + 1], err[CFG_ERR_LEN], **vals = NULL;
	const char *dot = strchr(key, '.'), *opt;
	union { struct cfg_main m; struct cfg_member b; struct cfg_notifier n; } scratch;
	const struct cfg_opt *o;
	struct uci_section *s;
	int n = 0, rc = 0;

	if (!dot || dot == key || !dot[1] || (size_t)(dot - key) >= sizeof(sec)) {
		set_err(e, "invalid_argument", key, "'%s' is not of the form section.option", key);
		return -1;
	}
	memcpy(sec, key, (size_t)(dot - key));
	sec[dot - key] = '\0';
	opt = dot + 1;
	s = model_section(f, sec);
	if (!s) {
		set_err(e, "invalid_argument", key, "there is no section '%s'", sec);
		return -1;
	}
	o = cfg_find_opt(s->type, opt);
	if (!o) {
		set_err(e, "invalid_argument", key, "'%s' is not an option of %s sections",
			opt, s->type);
		return -1;
	}
	if (json_object_is_type(v, json_type_null)) {
		if (o->flags & CFG_F_REQUIRED) {
			set_err(e, "invalid_argument", key, "%s is required and cannot be removed", key);
			return -1;
		}
		if (uci_find_option(s, opt))
			json_object_array_add(changed, json_object_new_string(key));
		model_unset(s, opt);
		return 0;
	}
	if (json_to_texts(o, v, &vals, &n) < 0) {
		set_err(e, "invalid_argument", key, "%s: wrong type of value", key);
		return -1;
	}
	memset(&scratch, 0, sizeof(scratch));
	if (cfg_parse_value(o, &scratch, (const char *const *)vals, n, err, sizeof(err)) < 0) {
		set_err(e, "invalid_argument", key, "%s: %s", key, err);
		rc = -1;
	} else {
		char **items = vals;
		int nitems = n;

		if (o->type == CFG_T_ADDRS)
			nitems = split_list(vals, n, &items);
		if (!same_values(uci_find_option(s, opt), items, nitems))
			json_object_array_add(changed, json_object_new_string(key));
		model_set(s, opt, items, nitems, o->type == CFG_T_ADDRS);
		if (items != vals)
			free_texts(items, nitems);
	}
	free_texts(vals, n);
	return rc;
}

static int write_model(const char *path, const struct uci_file *f, struct cfg_set_error *e)
{
	char real[PATH_MAX];
	struct stat st;
	size_t len;
	char *text;
	int rc;

	/* /etc/config/autonomy may be a link: replace what it points to, keep its mode. */
	if (!realpath(path, real) || stat(real, &st) < 0) {
		set_err(e, "internal", NULL, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	text = uci_export(f, &len);
	rc = write_file_atomic(real, text, len, st.st_mode & 07777);
	free(text);
	if (rc < 0) {
		set_err(e, "internal", NULL, "cannot write %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

int cfg_set(const char *path, struct json_object *values, struct config *out,
	    struct json_object **changed, struct cfg_set_error *e)
{
	struct uci_parser p;
	struct uci_file f = { 0 };
	char err[CFG_ERR_LEN];
	int rc = -1;

	*changed = NULL;
	if (!json_object_is_type(values, json_type_object) || !json_object_object_length(values)) {
		set_err(e, "invalid_argument", NULL, "values must be a non-empty object of section.option keys");
		return -1;
	}
	uci_parser_init(&p, path);
	if (uci_parse_path(&p, path, &f) != 0) {
		set_err(e, "internal", NULL, "the config file cannot be changed until it is fixed: %s",
			p.nerrors ? p.errors[0] : path);
		goto out;
	}
	*changed = json_object_new_array();
	json_object_object_foreach(values, key, val) {
		if (set_one(&f, key, val, *changed, e) < 0)
			goto out;
	}
	if (cfg_from_uci(out, &f, path, err, sizeof(err)) > 0) {
		set_err(e, "invalid_argument", NULL, "the result would be invalid: %s", err);
		goto out;
	}
	if (json_object_array_length(*changed) && write_model(path, &f, e) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		json_object_put(*changed);
		*changed = NULL;
	}
	uci_parser_free(&p);
	uci_file_free(&f);
	return rc;
}
