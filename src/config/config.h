/* The typed configuration and the one schema table it is built from.
 *
 * A file is read with the UCI parser, then every option is looked up in the
 * schema. Problems come in two kinds:
 *  - warnings (unknown option or section, out-of-range or malformed value):
 *    one WARN line each, the default is used;
 *  - errors (UCI syntax, a member without a device, too many members, …):
 *    the whole file is refused. autonomyd --check exits 1; a reload keeps the
 *    running configuration.
 * Messages name the file and line: "autonomy.conf:12: member 'fiber': …".
 */
#ifndef AUTONOMY_CONFIG_H
#define AUTONOMY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct uci_file;

#define CFG_DEFAULT_PATH	"/etc/config/autonomy"
#define CFG_MAX_MEMBERS		32
#define CFG_MAX_TARGETS		8
#define CFG_NAME_LEN		32	/* member names: at most 31 characters */
#define CFG_DEV_LEN		16	/* IFNAMSIZ */
#define CFG_ADDR_LEN		46	/* INET6_ADDRSTRLEN */
#define CFG_PATH_LEN		256
#define CFG_ERR_LEN		512
#define CFG_HOST_LEN		254	/* a DNS name or an IP literal */
#define CFG_TOPIC_LEN		128	/* MQTT topic prefixes */
#define CFG_MAX_NOTIFIERS	8
#define CFG_URL_LEN		256

enum mem_class {
	MEM_CLASS_AUTO,
	MEM_CLASS_STARLINK,
	MEM_CLASS_CELLULAR,
	MEM_CLASS_WIFI,
	MEM_CLASS_WIRED,
	MEM_CLASS_OTHER,
	__MEM_CLASS_MAX
};

enum probe_type {
	PROBE_ICMP,
	PROBE_DNS,
	PROBE_TCP,
	__PROBE_MAX
};

/* notify/notify.c: where messages go */
enum notifier_type {
	NOTIFIER_WEBHOOK,
	NOTIFIER_NTFY,
	NOTIFIER_PUSHOVER,
	NOTIFIER_TELEGRAM,
	NOTIFIER_EMAIL,
	__NOTIFIER_MAX
};

/* Message priorities, lowest first (notify/rules.h). */
enum notify_prio {
	NOTIFY_PRIO_LOW,
	NOTIFY_PRIO_NORMAL,
	NOTIFY_PRIO_HIGH,
	NOTIFY_PRIO_URGENT,
	__NOTIFY_PRIO_MAX
};

enum cfg_data_cap_mode {
	CFG_CAP_CONSERVATIVE,
	CFG_CAP_BALANCED,
	CFG_CAP_AGGRESSIVE,
};

enum cfg_controller {
	CFG_CTL_AUTO,
	CFG_CTL_ROUTE,
	CFG_CTL_NONE,
	CFG_CTL_MWAN3,
};

struct cfg_main {
	int log_level;			/* enum log_level */
	char state_dir[CFG_PATH_LEN];
	int controller;			/* enum cfg_controller */
	int metric_base;
	bool conntrack_flush;		/* control/conntrack.c */
	char config_root[CFG_PATH_LEN];	/* where network, mwan3 and wireless live */
	char mwan3_hotplug_call[CFG_PATH_LEN];
	char mwan3_reload[CFG_PATH_LEN];	/* after mwan3 takeover/release */
	/* probing */
	int probe_interval_ms;
	int standby_interval_ms;
	int metered_interval_ms;	/* 0 = by data_cap_mode */
	int data_cap_mode;		/* enum cfg_data_cap_mode */
	bool traffic_proof;
	int burst_interval_ms;
	int probe_timeout_ms;
	int hard_fail_ms;
	/* scoring */
	int latency_ok_ms, latency_bad_ms;
	int loss_ok_pct, loss_bad_pct;
	int jitter_ok_ms, jitter_bad_ms;
	int degraded_score;
	/* decisions */
	int switch_margin;
	int fail_min_duration_s;
	int restore_min_duration_s;
	int cooldown_s;
	int min_uptime_s;
	int dampening_half_life_s;
	int dampening_suppress;
	int dampening_reuse;
	/* Starlink dish */
	int dish_poll_ms;
	int dish_timeout_ms;
	int dish_outage_grace_ms;
	/* cellular radio (collect/cell.c) and data budgets (telem/budget.c) */
	int radio_poll_ms;
	int radio_timeout_ms;
	int rsrp_ok_dbm, rsrp_bad_dbm;
	int sinr_ok_db, sinr_bad_db;
	char data_warn_pct[32];		/* "80 90 100" */
	int wifi_signal_ok_dbm, wifi_signal_bad_dbm;
	/* history (telem/history.c, telem/sampler.c) */
	int max_ram_kb;
	char history_file[CFG_PATH_LEN];	/* "" = RAM only */
	/* MQTT telemetry (telem/mqtt.c) */
	char mqtt_host[CFG_HOST_LEN];	/* "" = off */
	int mqtt_port;
	char mqtt_username[128];
	char mqtt_password[128];	/* secret */
	bool mqtt_tls;
	char mqtt_cafile[CFG_PATH_LEN];
	char mqtt_prefix[CFG_TOPIC_LEN];
	char mqtt_client_id[64];	/* "" = autonomy-<hostname> */
	int mqtt_interval_s;
	bool mqtt_ha_discovery;
	char mqtt_ha_prefix[CFG_TOPIC_LEN];
	/* HTTP server (api/http.c) */
	char http_listen[CFG_ADDR_LEN];	/* "" = off */
	int http_port;
	char http_token[128];		/* secret */
	char http_root[CFG_PATH_LEN];
	/* notifications (notify/): rules; the channels are notifier sections */
	char notify_events[256];	/* "failover:high member_up …" */
	char notify_quiet_hours[16];	/* "22:00-07:00", "" = none */
	int notify_quiet_priority;	/* enum notify_prio */
	int notify_cooldown_s;
	int notify_max_per_hour;
	int notify_dedup_s;
	int notify_timeout_s;
	int notify_deadline_s;
};

struct cfg_addrs {
	int n;
	char addr[CFG_MAX_TARGETS][CFG_ADDR_LEN];
};

struct cfg_member {
	char name[CFG_NAME_LEN];
	bool enabled;
	char device[CFG_DEV_LEN];
	int class;			/* enum mem_class */
	int weight;
	bool metered;
	int probe;			/* enum probe_type */
	int reliability;
	int mark;			/* SO_MARK for probes, 0 = none */
	char dish[64];			/* the dish's gRPC address; "" = the default for class starlink */
	int radio_source;		/* enum cell_source */
	char modem[64];			/* as the source names it; "" = its default */
	bool prefer_roaming;
	int data_budget_mb;		/* 0 = none */
	int data_reset_day;
	struct cfg_addrs targets;
};

struct cfg_notifier {
	char name[CFG_NAME_LEN];
	bool enabled;
	int type;			/* enum notifier_type */
	char url[CFG_URL_LEN];		/* "" = the service's public server */
	char to[128];			/* topic, user key, chat id or e-mail address */
	char token[256];		/* secret */
	char user[128];			/* SMTP user name */
	char from[128];			/* e-mail sender */
	int min_priority;		/* enum notify_prio */
	bool starttls;
	char cafile[CFG_PATH_LEN];
};

struct config {
	struct cfg_main main;
	int nmembers;
	struct cfg_member member[CFG_MAX_MEMBERS];
	int nnotifiers;
	struct cfg_notifier notifier[CFG_MAX_NOTIFIERS];
};

enum cfg_type {
	CFG_T_BOOL,
	CFG_T_INT,
	CFG_T_STRING,
	CFG_T_ENUM,
	CFG_T_IFNAME,
	CFG_T_ADDRS,		/* list of IPv4/IPv6 literals */
	CFG_T_HOST,		/* a host name or an IP literal; "" allowed */
	CFG_T_TOPIC,		/* an MQTT topic prefix: levels without + # or empty ones */
	CFG_T_ADDR,		/* one IPv4/IPv6 literal; "" allowed */
	CFG_T_EVENTS,		/* words from choices, each with an optional :PRIORITY */
	CFG_T_HOURS,		/* "HH:MM-HH:MM" (may wrap midnight); "" allowed */
	CFG_T_PCTS,		/* 1 to 4 ascending percentages 1..100: "80 90 100" */
};

#define CFG_F_SECRET	0x1	/* masked in config.get, never logged */
#define CFG_F_REQUIRED	0x2	/* no default: a section without it is an error */
#define CFG_F_RESTART	0x4	/* a reload only warns; applied at the next start */
#define CFG_F_OR_ZERO	0x8	/* an int that is 0 (off, or automatic) or in min..max */

struct cfg_opt {
	const char *section;	/* "autonomy" (the 'main' section), "member" or "notifier" */
	const char *name;
	enum cfg_type type;
	size_t off;		/* into struct cfg_main, cfg_member or cfg_notifier */
	size_t size;		/* strings: buffer size */
	const char *def;	/* default in UCI text form; NULL when required */
	long min, max;		/* CFG_T_INT range */
	const char *const *choices; /* CFG_T_ENUM, NULL-terminated; stored as the index */
	unsigned flags;
	const char *desc;
};

extern const char *const cfg_class_names[];	/* indexed by enum mem_class */
extern const char *const cfg_probe_names[];	/* indexed by enum probe_type */
extern const char *const cfg_notifier_names[];	/* indexed by enum notifier_type */
extern const char *const cfg_prio_names[];	/* indexed by enum notify_prio */
extern const char *const cfg_notify_event_names[]; /* what notify_events may name */

/* "22:00-07:00" into minutes of the day; false if s is not of that form. */
bool cfg_parse_hours(const char *s, int *start_min, int *end_min);
/* "80 90 100" into v (at most max, ascending, each 1..100): the count, or -1. */
int cfg_parse_pcts(const char *s, int *v, int max);

/* The schema table (ends with a NULL name). */
extern const struct cfg_opt cfg_schema[];
const struct cfg_opt *cfg_find_opt(const char *section_type, const char *name);

/* Defaults for everything; no members. */
void cfg_defaults(struct config *c);
/* Defaults of a member section (name and device stay empty). */
void cfg_member_defaults(struct cfg_member *m);

/* Converts UCI values (one, or several for a list) into the field of base
 * described by o. Returns 0, or -1 with a message in err (the field is then
 * unchanged). Used for files (where the caller falls back to the default) and
 * for config.set (where the caller refuses the request). */
int cfg_parse_value(const struct cfg_opt *o, void *base, const char *const *vals,
		    int nvals, char *err, size_t errlen);

/* Builds c from a parsed file (name is used in messages). Warnings and errors
 * are logged; the first error is copied into err. Returns the number of errors. */
int cfg_from_uci(struct config *c, const struct uci_file *f, const char *name,
		 char *err, size_t errlen);

/* Reads and builds; returns the number of errors (0 = usable), or -1 when the
 * file cannot be read (a message is in err either way). */
int cfg_load(struct config *c, const char *path, char *err, size_t errlen);

const struct cfg_member *cfg_find_member(const struct config *c, const char *name);

/* config.get: {"path":…, "values":{section:{".type",".name",opt:value…}}},
 * plus "schema":[…] when asked. Secrets are masked. */
struct json_object *cfg_to_json(const struct config *c, const char *path, bool schema);

/* config.set. Applies values ({"sec.opt": value|null, …}) to the file at path:
 * checks every value against the schema and the result as a whole, then writes
 * the file atomically in uci's own format. On success returns 0, fills *out with
 * the new configuration and *changed with the keys that changed (a JSON array).
 * On failure returns -1, writes nothing, and fills code ("invalid_argument" or
 * "internal"), field (the offending key, may be empty) and msg. */
struct cfg_set_error {
	const char *code;
	char field[CFG_NAME_LEN + 64];
	char msg[CFG_ERR_LEN];
};
int cfg_set(const char *path, struct json_object *values, struct config *out,
	    struct json_object **changed, struct cfg_set_error *e);

#endif
