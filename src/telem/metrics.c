#include "telem/metrics.h"
#include "api/api.h"
#include "core/util.h"
#include "telem/evlog.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static struct metrics_switches switches;

void metrics_count_switch(struct metrics_switches *sw, const char *reason)
{
	int i;

	for (i = 0; i < sw->n; i++)
		if (!strcmp(sw->r[i].reason, reason))
			break;
	if (i == sw->n) {
		/* The last slot is kept for "other", so the series stay bounded. */
		if (sw->n >= METRICS_MAX_REASONS - 1) {
			reason = "other";
			for (i = 0; i < sw->n && strcmp(sw->r[i].reason, reason); i++)
				;
		}
		if (i == sw->n) {
			strlcpy_ok(sw->r[i].reason, reason, sizeof(sw->r[i].reason));
			sw->r[i].count = 0;
			sw->n++;
		}
	}
	sw->r[i].count++;
}

static void on_event(const struct evlog_entry *e, void *ctx)
{
	(void)ctx;
	if (!strcmp(e->type, "switch"))
		metrics_count_switch(&switches, e->reason);
}

void metrics_init(void)
{
	memset(&switches, 0, sizeof(switches));
	evlog_listen(on_event, NULL);
}

void metrics_fini(void)
{
	evlog_unlisten(on_event, NULL);
}

/* ---- output ------------------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
};

static void out_reserve(struct out *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return;
	o->cap = (o->len + n + 1) * 2;
	if (o->cap < 4096)
		o->cap = 4096;
	o->p = xrealloc(o->p, o->cap);
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	out_reserve(o, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* Label values escape \ " and newline; HELP text escapes \ and newline. */
static void out_escaped(struct out *o, const char *s, bool label)
{
	out_reserve(o, 2 * strlen(s));
	for (; *s; s++) {
		if (*s == '\\' || (*s == '"' && label))
			o->p[o->len++] = '\\';
		if (*s == '\n') {
			o->p[o->len++] = '\\';
			o->p[o->len++] = 'n';
			continue;
		}
		o->p[o->len++] = *s;
	}
	o->p[o->len] = '\0';
}

static void out_label(struct out *o, const char *name, const char *value)
{
	out_printf(o, "%s%s=\"", o->len ? "," : "", name);
	out_escaped(o, value, true);
	out_printf(o, "\"");
}

static void out_header(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s ", name);
	out_escaped(o, help, false);
	out_printf(o, "\n# TYPE %s %s\n", name, type);
}

/* labels: already escaped, without braces; may be "" or NULL. */
static void out_sample(struct out *o, const char *name, const char *labels, double v)
{
	out_printf(o, "%s", name);
	if (labels && *labels)
		out_printf(o, "{%s}", labels);
	if (isnan(v))
		out_printf(o, " NaN\n");
	else if (isinf(v))
		out_printf(o, " %sInf\n", v > 0 ? "+" : "-");
	else
		out_printf(o, " %.15g\n", v);
}

/* ---- reading the API's JSON --------------------------------------------------------- */

/* Follows "a.b.c"; true when every key exists (the value may be null). */
static bool jpath(struct json_object *o, const char *path, struct json_object **out)
{
	char key[48];

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		if (!json_object_is_type(o, json_type_object) || len >= sizeof(key))
			return false;
		memcpy(key, path, len);
		key[len] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return false;
		if (!dot) {
			*out = o;
			return true;
		}
		path = dot + 1;
	}
}

static bool jnum(struct json_object *o, const char *path, double *v)
{
	struct json_object *j;

	if (!jpath(o, path, &j) ||
	    !(json_object_is_type(j, json_type_double) || json_object_is_type(j, json_type_int)))
		return false;
	*v = json_object_get_double(j);
	return true;
}

static const char *jstr(struct json_object *o, const char *path)
{
	struct json_object *j;

	if (!jpath(o, path, &j) || !json_object_is_type(j, json_type_string))
		return NULL;
	return json_object_get_string(j);
}

/* An API result that is an error object renders nothing. */
static bool usable(struct json_object *o, enum json_type want)
{
	struct json_object *err;

	if (!json_object_is_type(o, want))
		return false;
	return want != json_type_object || !json_object_object_get_ex(o, "error", &err);
}

/* ---- per member --------------------------------------------------------------------- */

enum mkind {
	MK_NUM,		/* a number, times scale */
	MK_BOOL,	/* true/false as 1/0 */
	MK_COUNT,	/* the length of an array */
	MK_SET,		/* 1 when the key holds something, 0 when it is null */
};

struct mfamily {
	const char *name, *type, *help, *path;
	enum mkind kind;
	double scale;
};

static const struct mfamily member_families[] = {
	{ "autonomy_member_score", "gauge",
	  "Final score of the member, 0 to 100 (higher is better).", "score.final", MK_NUM, 1 },
	{ "autonomy_member_latency_seconds", "gauge",
	  "Probe round-trip time over the probe window.", "latency_ms", MK_NUM, 1e-3 },
	{ "autonomy_member_loss_ratio", "gauge",
	  "Probe loss over the probe window, 0 to 1.", "loss_pct", MK_NUM, 1e-2 },
	{ "autonomy_member_jitter_seconds", "gauge",
	  "Probe jitter over the probe window.", "jitter_ms", MK_NUM, 1e-3 },
	{ "autonomy_member_eligible", "gauge",
	  "1 when the member can be chosen now (up long enough, not suppressed).", "eligible",
	  MK_BOOL, 1 },
	{ "autonomy_member_active", "gauge",
	  "1 for the member that carries the default traffic.", "active", MK_BOOL, 1 },
	{ "autonomy_member_enabled", "gauge",
	  "1 when the member takes part in decisions (option enabled).", "enabled", MK_BOOL, 1 },
	{ "autonomy_member_dampening_penalty", "gauge",
	  "Flap dampening penalty (1000 per down, decaying).", "dampening.penalty", MK_NUM, 1 },
	{ "autonomy_member_probes_sent_total", "counter",
	  "Probes sent since the daemon started.", "probes.sent", MK_NUM, 1 },
	{ "autonomy_member_probes_received_total", "counter",
	  "Probe replies received since the daemon started.", "probes.received", MK_NUM, 1 },
	{ "autonomy_member_probe_sent_bytes_total", "counter",
	  "IP bytes of the probes sent since the daemon started.", "probes.bytes_sent", MK_NUM, 1 },
	{ "autonomy_member_probe_received_bytes_total", "counter",
	  "IP bytes of the probe replies received since the daemon started.",
	  "probes.bytes_received", MK_NUM, 1 },
	{ "autonomy_starlink_reachable", "gauge",
	  "1 when the Starlink dish answered within its last three polls.", "starlink.reachable",
	  MK_BOOL, 1 },
	{ "autonomy_starlink_outage", "gauge",
	  "1 while the dish reports an outage.", "starlink.outage", MK_SET, 1 },
	{ "autonomy_starlink_obstruction_ratio", "gauge",
	  "Fraction of the dish's sky view that is obstructed, 0 to 1.", "starlink.obstruction_pct",
	  MK_NUM, 1e-2 },
	{ "autonomy_starlink_currently_obstructed", "gauge",
	  "1 while the dish says it is obstructed right now.", "starlink.currently_obstructed",
	  MK_BOOL, 1 },
	{ "autonomy_starlink_pop_latency_seconds", "gauge",
	  "Latency from the dish to the Starlink point of presence.", "starlink.pop_latency_ms",
	  MK_NUM, 1e-3 },
	{ "autonomy_starlink_pop_drop_ratio", "gauge",
	  "Ping drop rate from the dish to the point of presence, 0 to 1.", "starlink.pop_drop_pct",
	  MK_NUM, 1e-2 },
	{ "autonomy_starlink_alerts", "gauge",
	  "Number of alerts the dish raises.", "starlink.alerts", MK_COUNT, 1 },
	{ "autonomy_starlink_penalty", "gauge",
	  "Score points taken off for obstruction, alerts and SNR.", "starlink.penalty",
	  MK_NUM, 1 },
	{ "autonomy_cellular_rssi_dbm", "gauge",
	  "Received signal strength of the modem, dBm.", "cellular.rssi_dbm", MK_NUM, 1 },
	{ "autonomy_cellular_rsrp_dbm", "gauge",
	  "Reference signal received power (RSCP on 3G), dBm.", "cellular.rsrp_dbm", MK_NUM, 1 },
	{ "autonomy_cellular_rsrq_db", "gauge",
	  "Reference signal received quality (Ec/Io on 3G), dB.", "cellular.rsrq_db", MK_NUM, 1 },
	{ "autonomy_cellular_sinr_db", "gauge",
	  "Signal to interference and noise ratio, dB.", "cellular.sinr_db", MK_NUM, 1 },
	{ "autonomy_cellular_roaming", "gauge",
	  "1 while the modem is registered on a roaming network.", "cellular.roaming", MK_BOOL, 1 },
	{ "autonomy_cellular_cell_changes", "gauge",
	  "Serving cell changes within the last 2 minutes.", "cellular.cell_changes", MK_NUM, 1 },
	{ "autonomy_cellular_penalty", "gauge",
	  "Score points taken off for weak signal, roaming and 2G.", "cellular.penalty", MK_NUM, 1 },
	{ "autonomy_wifi_signal_dbm", "gauge",
	  "Signal of the access point a Wi-Fi member is a client of, dBm.", "wifi.signal_dbm",
	  MK_NUM, 1 },
	{ "autonomy_wifi_tx_bitrate_bits_per_second", "gauge",
	  "Transmit bitrate towards the access point.", "wifi.tx_bitrate_kbps", MK_NUM, 1e3 },
	{ "autonomy_wifi_penalty", "gauge",
	  "Score points taken off for a weak Wi-Fi signal.", "wifi.penalty", MK_NUM, 1 },
	{ "autonomy_member_data_used_bytes", "gauge",
	  "Bytes through the member's device in its current data period (metered or budgeted members).",
	  "data.used_mb", MK_NUM, 1e6 },
	{ "autonomy_member_data_budget_bytes", "gauge",
	  "The member's data budget per period (data_budget_mb).", "data.budget_mb", MK_NUM, 1e6 },
};

static bool member_value(struct json_object *m, const struct mfamily *f, double *v)
{
	struct json_object *j;

	switch (f->kind) {
	case MK_NUM:
		if (!jnum(m, f->path, v))
			return false;
		*v *= f->scale;
		return true;
	case MK_BOOL:
		if (!jpath(m, f->path, &j) || !json_object_is_type(j, json_type_boolean))
			return false;
		*v = json_object_get_boolean(j);
		return true;
	case MK_COUNT:
		if (!jpath(m, f->path, &j) || !json_object_is_type(j, json_type_array))
			return false;
		*v = (double)json_object_array_length(j);
		return true;
	case MK_SET:
		if (!jpath(m, f->path, &j))
			return false;
		*v = j != NULL;
		return true;
	}
	return false;
}

/* member="…",class="…",device="…" for each member; the caller frees. */
static char **member_labels(struct json_object *members, size_t n)
{
	static const char *const keys[] = { "name", "class", "device" };
	static const char *const labels[] = { "member", "class", "device" };
	char **out = xcalloc(n ? n : 1, sizeof(char *));

	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(members, i);
		struct out l = { 0 };

		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			const char *v = jstr(m, keys[k]);

			out_label(&l, labels[k], v ? v : "");
		}
		out[i] = l.p;
	}
	return out;
}

static void member_family(struct out *o, const struct mfamily *f, struct json_object *members,
			  char **labels, size_t n)
{
	bool header = false;

	for (size_t i = 0; i < n; i++) {
		double v;

		if (!member_value(json_object_array_get_idx(members, i), f, &v))
			continue;
		if (!header)
			out_header(o, f->name, f->type, f->help);
		header = true;
		out_sample(o, f->name, labels[i], v);
	}
}

/* A state set: one series per state, 1 for the current one. A state this
 * code does not know yet still gets its series. */
static void state_set(struct out *o, const char *name, const char *label, const char *labels,
		      const char *const *states, const char *cur)
{
	bool known = false;
	struct out l = { 0 };

	for (int i = 0; states[i]; i++) {
		l.len = 0;
		if (labels && *labels)
			out_printf(&l, "%s", labels);
		out_label(&l, label, states[i]);
		out_sample(o, name, l.p, cur && !strcmp(cur, states[i]));
		known |= cur && !strcmp(cur, states[i]);
	}
	if (cur && !known) {
		l.len = 0;
		if (labels && *labels)
			out_printf(&l, "%s", labels);
		out_label(&l, label, cur);
		out_sample(o, name, l.p, 1);
	}
	free(l.p);
}

static void member_status(struct out *o, struct json_object *members, char **labels, size_t n)
{
	static const char *const states[] = { "unknown", "up", "degraded", "down", NULL };

	if (!n)
		return;
	out_header(o, "autonomy_member_status", "gauge",
		   "Member status as a state set: one series per status "
		   "(unknown, up, degraded, down), 1 for the current one.");
	for (size_t i = 0; i < n; i++)
		state_set(o, "autonomy_member_status", "status", labels[i], states,
			  jstr(json_object_array_get_idx(members, i), "status"));
}

static void members_metrics(struct out *o, struct json_object *members)
{
	size_t n;
	char **labels;

	if (!usable(members, json_type_array))
		return;
	n = json_object_array_length(members);
	labels = member_labels(members, n);
	member_status(o, members, labels, n);
	for (size_t f = 0; f < ARRAY_SIZE(member_families); f++)
		member_family(o, &member_families[f], members, labels, n);
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

/* ---- the daemon --------------------------------------------------------------------- */

struct dfamily {
	const char *name, *type, *help, *path;
	double scale;
};

static const struct dfamily info_families[] = {
	{ "process_resident_memory_bytes", "gauge", "Resident memory of autonomyd.",
	  "resources.rss_kb", 1024 },
	{ "process_cpu_seconds_total", "counter", "User and system CPU time autonomyd used.",
	  "resources.cpu_s", 1 },
	{ "autonomy_process_cpu_usage_ratio", "gauge",
	  "CPU autonomyd used over the last sampling interval, as a fraction of one core.",
	  "resources.cpu_pct", 1e-2 },
	{ "autonomy_process_wakeups_per_second", "gauge",
	  "Event loop wakeups of autonomyd per second over the last sampling interval.",
	  "resources.wakeups_per_s", 1 },
	{ "autonomy_system_cpu_usage_ratio", "gauge",
	  "CPU used on the router over the last sampling interval, as a fraction of all cores.",
	  "resources.system.cpu_pct", 1e-2 },
	{ "autonomy_system_memory_total_bytes", "gauge", "Memory of the router (MemTotal).",
	  "resources.system.mem_total_kb", 1024 },
	{ "autonomy_system_memory_available_bytes", "gauge",
	  "Memory available for new work on the router (MemAvailable).",
	  "resources.system.mem_available_kb", 1024 },
	{ "autonomy_system_load1", "gauge", "Load average of the router over 1 minute.",
	  "resources.system.load1", 1 },
	{ "autonomy_system_load5", "gauge", "Load average of the router over 5 minutes.",
	  "resources.system.load5", 1 },
	{ "autonomy_system_load15", "gauge", "Load average of the router over 15 minutes.",
	  "resources.system.load15", 1 },
};

static void info_metrics(struct out *o, struct json_object *info)
{
	const char *version, *git, *started;
	struct out l = { 0 };
	int64_t start_ms;
	double v;

	if (!usable(info, json_type_object))
		return;
	version = jstr(info, "version");
	git = jstr(info, "build.git");
	out_label(&l, "version", version ? version : "");
	out_label(&l, "git", git ? git : "");
	out_header(o, "autonomy_build_info", "gauge",
		   "Always 1; the labels say which autonomyd runs.");
	out_sample(o, "autonomy_build_info", l.p, 1);
	free(l.p);
	started = jstr(info, "started");
	start_ms = started ? parse_rfc3339(started) : -1;
	if (start_ms > 0) {
		out_header(o, "process_start_time_seconds", "gauge",
			   "When autonomyd started, in seconds since the epoch.");
		out_sample(o, "process_start_time_seconds", NULL, (double)(start_ms / 1000));
	}
	for (size_t i = 0; i < ARRAY_SIZE(info_families); i++) {
		const struct dfamily *f = &info_families[i];

		if (!jnum(info, f->path, &v))
			continue;
		out_header(o, f->name, f->type, f->help);
		out_sample(o, f->name, NULL, v * f->scale);
	}
}

static void status_metrics(struct out *o, struct json_object *status)
{
	static const char *const states[] = {
		"starting", "normal", "failover", "manual", "all-down", "observing", NULL
	};
	struct json_object *err;

	if (!usable(status, json_type_object))
		return;
	out_header(o, "autonomy_state", "gauge",
		   "Overall state as a state set (starting, normal, failover, manual, all-down, "
		   "observing), 1 for the current one.");
	state_set(o, "autonomy_state", "state", NULL, states, jstr(status, "state"));
	if (jpath(status, "config.error", &err)) {
		out_header(o, "autonomy_config_last_reload_successful", "gauge",
			   "0 when the last reload was refused "
			   "(the previous configuration still runs).");
		out_sample(o, "autonomy_config_last_reload_successful", NULL, err == NULL);
	}
}

static void switch_metrics(struct out *o, const struct metrics_switches *sw)
{
	struct out l = { 0 };

	if (!sw || !sw->n)
		return;
	out_header(o, "autonomy_switches_total", "counter",
		   "Changes of the active member since the daemon started, by reason "
		   "(initial, hard:CAUSE, soft:score, failback, manual).");
	for (int i = 0; i < sw->n; i++) {
		l.len = 0;
		out_label(&l, "reason", sw->r[i].reason);
		out_sample(o, "autonomy_switches_total", l.p, (double)sw->r[i].count);
	}
	free(l.p);
}

char *metrics_render(struct json_object *status, struct json_object *members,
		     struct json_object *info, const struct metrics_switches *sw, size_t *len)
{
	struct out o = { 0 };

	out_reserve(&o, 0);
	o.p[0] = '\0';
	info_metrics(&o, info);
	status_metrics(&o, status);
	switch_metrics(&o, sw);
	members_metrics(&o, members);
	*len = o.len;
	return o.p;
}

char *metrics_text(size_t *len)
{
	struct json_object *status = api_call("status", NULL), *members = api_call("members", NULL),
			   *info = api_call("info", NULL);
	char *text = metrics_render(status, members, info, &switches, len);

	json_object_put(status);
	json_object_put(members);
	json_object_put(info);
	return text;
}
