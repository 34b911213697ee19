/* autonomyctl: command words -> request, reply -> human-readable text.
 *
 * The printers never trust the shape of a reply: the daemon and the CLI are
 * upgraded separately, so a field that is missing, null or of another type prints
 * as "-" and a container of the wrong type prints as empty. Strings from the
 * daemon have control characters replaced so a member name cannot drive the
 * terminal.
 */
#include <json-c/json.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_NONE	"-"
#define CTL_UCI_PACKAGE	"autonomy"
#define CTL_TABLE_COLS	16
#define CTL_KV_MAX	16

/* ---- small helpers ---------------------------------------------------- */

/* A CLI has nothing sensible to do without memory. */
static void *ctl_check_alloc(void *p)
{
	if (!p) {
		fputs("autonomyctl: out of memory\n", stderr);
		exit(CTL_EXIT_ERROR);
	}
	return p;
}

static char *ctl_strdup(const char *s)
{
	return ctl_check_alloc(strdup(s));
}

static void ctl_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static __attribute__((format(printf, 1, 2))) char *ctl_sprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		ctl_check_alloc(NULL);
	ctl_sanitize(s);
	return s;
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static int ctl_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void ctl_pad(FILE *out, int n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* ---- reading replies defensively ---------------------------------------- */

static struct json_object *ctl_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_get_ex(obj, key, &v);
	return v;
}

static const char *ctl_str(struct json_object *obj, const char *key)
{
	struct json_object *v = ctl_get(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *ctl_str_or_none(struct json_object *obj, const char *key)
{
	const char *s = ctl_str(obj, key);

	return s ? s : CTL_NONE;
}

/* Compact JSON for values that have no better text form. */
static const char *ctl_json_text(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

static bool ctl_num(struct json_object *v, double *d)
{
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*d = json_object_get_double(v);
	return isfinite(*d);
}

/* Numbers with one decimal (scores, latency, loss, jitter). */
static const char *ctl_fmt_dec(char *buf, size_t len, struct json_object *v)
{
	double d;

	if (!ctl_num(v, &d))
		return CTL_NONE;
	snprintf(buf, len, "%.1f", d);
	return buf;
}

/* Counters and ids: integers, but accept an integral double too. */
static const char *ctl_fmt_int(char *buf, size_t len, struct json_object *v)
{
	double d;

	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
		return buf;
	}
	if (!ctl_num(v, &d))
		return CTL_NONE;
	snprintf(buf, len, "%.0f", d);
	return buf;
}

static const char *ctl_fmt_bool(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_boolean))
		return CTL_NONE;
	return json_object_get_boolean(v) ? "yes" : "no";
}

void ctl_fmt_duration(char *buf, size_t len, long long s)
{
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (s < 0)
		snprintf(buf, len, CTL_NONE);
	else if (d)
		snprintf(buf, len, "%lldd %02lldh %02lldm %02llds", d, h, m, sec);
	else if (h)
		snprintf(buf, len, "%lldh %02lldm %02llds", h, m, sec);
	else if (m)
		snprintf(buf, len, "%lldm %02llds", m, sec);
	else
		snprintf(buf, len, "%llds", sec);
}

static const char *ctl_fmt_uptime(char *buf, size_t len, struct json_object *v)
{
	double d;

	/* Bounded so the conversion to long long is defined. */
	if (!ctl_num(v, &d) || d < 0 || d > 1e15)
		return CTL_NONE;
	ctl_fmt_duration(buf, len, (long long)d);
	return buf;
}

/* ---- tables ----------------------------------------------------------- */

/* Column widths come from the content; two spaces between columns; numbers are
 * right-aligned; no trailing blanks. head == NULL prints no header row. */
struct ctl_table {
	int ncols;
	const char *const *head;
	const bool *right;
	char **cells;		/* row-major, nrows * ncols, sanitized copies */
	int nrows;
	int cap;
};

static void ctl_table_add(struct ctl_table *t, const char *const *row)
{
	int i;

	if (t->nrows == t->cap) {
		/* No reallocarray: musl before 1.2.2 (OpenWrt 21.02) lacks it. */
		if (t->cap > INT_MAX / 2 / CTL_TABLE_COLS)
			ctl_check_alloc(NULL);
		t->cap = t->cap ? t->cap * 2 : 8;
		t->cells = ctl_check_alloc(realloc(t->cells, (size_t)t->cap * (size_t)t->ncols *
							  sizeof(*t->cells)));
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = ctl_strdup(row[i] ? row[i] : CTL_NONE);

		ctl_sanitize(c);
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

static void ctl_table_row(FILE *out, const struct ctl_table *t, const int *width,
			  const char *const *row)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		int gap = width[i] - ctl_width(row[i]);
		bool right = t->right && t->right[i];

		if (i)
			fputs("  ", out);
		if (right)
			ctl_pad(out, gap);
		fputs(row[i], out);
		if (!right && i < t->ncols - 1)
			ctl_pad(out, gap);
	}
	fputc('\n', out);
}

static void ctl_table_print(FILE *out, struct ctl_table *t)
{
	int width[CTL_TABLE_COLS] = { 0 };
	int r, i;

	for (i = 0; i < t->ncols; i++) {
		if (t->head)
			width[i] = ctl_width(t->head[i]);
		for (r = 0; r < t->nrows; r++) {
			int w = ctl_width(t->cells[r * t->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	}
	if (t->head)
		ctl_table_row(out, t, width, t->head);
	for (r = 0; r < t->nrows; r++)
		ctl_table_row(out, t, width, (const char *const *)&t->cells[r * t->ncols]);
}

static void ctl_table_free(struct ctl_table *t)
{
	int i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* ---- "key: value" blocks ------------------------------------------------ */

struct ctl_kv {
	int n;
	const char *key[CTL_KV_MAX];
	char *val[CTL_KV_MAX];
};

static __attribute__((format(printf, 3, 4)))
void ctl_kv_add(struct ctl_kv *kv, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (kv->n == CTL_KV_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		ctl_check_alloc(NULL);
	va_end(ap);
	ctl_sanitize(s);
	kv->key[kv->n] = key;
	kv->val[kv->n++] = s;
}

/* Values line up one column after the longest "key:". */
static void ctl_kv_print(FILE *out, struct ctl_kv *kv)
{
	int i, w = 0;

	for (i = 0; i < kv->n; i++)
		if ((int)strlen(kv->key[i]) > w)
			w = (int)strlen(kv->key[i]);
	for (i = 0; i < kv->n; i++) {
		fprintf(out, "%s:", kv->key[i]);
		ctl_pad(out, w - (int)strlen(kv->key[i]) + 1);
		fprintf(out, "%s\n", kv->val[i]);
		free(kv->val[i]);
	}
	kv->n = 0;
}

/* ---- members ---------------------------------------------------------- */

static const char *const ctl_member_head[] = {
	"NAME", "CLASS", "DEVICE", "STATUS", "ELIGIBLE", "SCORE",
	"LATENCY_MS", "LOSS_PCT", "JITTER_MS", "SENT", "RECEIVED",
};
static const bool ctl_member_right[] = {
	false, false, false, false, false, true,
	true, true, true, true, true,
};
#define CTL_STATUS_COLS		6
#define CTL_MEMBERS_COLS	11

/* The score column shows score.final; a bare number is accepted as well. */
static struct json_object *ctl_member_score(struct json_object *m)
{
	struct json_object *s = ctl_get(m, "score");

	return json_object_is_type(s, json_type_object) ? ctl_get(s, "final") : s;
}

static void ctl_member_row(struct ctl_table *t, struct json_object *m)
{
	struct json_object *probes = ctl_get(m, "probes");
	char num[6][32];
	const char *row[CTL_MEMBERS_COLS] = {
		ctl_str(m, "name"), ctl_str(m, "class"), ctl_str(m, "device"),
		ctl_str(m, "status"), ctl_fmt_bool(ctl_get(m, "eligible")),
		ctl_fmt_dec(num[0], sizeof(num[0]), ctl_member_score(m)),
		ctl_fmt_dec(num[1], sizeof(num[1]), ctl_get(m, "latency_ms")),
		ctl_fmt_dec(num[2], sizeof(num[2]), ctl_get(m, "loss_pct")),
		ctl_fmt_dec(num[3], sizeof(num[3]), ctl_get(m, "jitter_ms")),
		ctl_fmt_int(num[4], sizeof(num[4]), ctl_get(probes, "sent")),
		ctl_fmt_int(num[5], sizeof(num[5]), ctl_get(probes, "received")),
	};

	ctl_table_add(t, row);
}

static void ctl_member_table(FILE *out, struct json_object *list, int ncols)
{
	struct ctl_table t = { .ncols = ncols, .head = ctl_member_head,
			       .right = ctl_member_right };
	size_t i, n;

	n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	if (!n) {
		fputs("no members\n", out);
		return;
	}
	for (i = 0; i < n; i++)
		ctl_member_row(&t, json_object_array_get_idx(list, i));
	ctl_table_print(out, &t);
	ctl_table_free(&t);
}

static char *ctl_join(struct json_object *arr, const char *sep);

/* One line on a member's dish under the table: "starlink: dish …". Built in
 * memory first so what the dish said cannot bring control characters. */
static void ctl_dish_line(FILE *out, struct json_object *m, struct json_object *sl)
{
	const char *risk = ctl_str(sl, "risk"), *err = ctl_str(sl, "error");
	struct json_object *outage = ctl_get(sl, "outage");
	char a[32], b[32], c[32], *line = NULL, *alerts;
	size_t len = 0;
	FILE *f = ctl_check_alloc(open_memstream(&line, &len));

	fprintf(f, "%s: dish ", ctl_str_or_none(m, "name"));
	if (!json_object_get_boolean(ctl_get(sl, "reachable"))) {
		fprintf(f, "unreachable%s%s", err ? ": " : "", err ? err : "");
	} else {
		alerts = ctl_join(ctl_get(sl, "alerts"), ",");
		if (json_object_is_type(outage, json_type_object))	/* members: {cause, …} */
			fprintf(f, "outage %s", ctl_str_or_none(outage, "cause"));
		else
			fprintf(f, "%s%s", outage ? "outage " : "connected",
				outage ? json_object_get_string(outage) : "");
		fprintf(f, ", obstruction %s %%",
			ctl_fmt_dec(a, sizeof(a), ctl_get(sl, "obstruction_pct")));
		if (ctl_get(sl, "pop_latency_ms") || ctl_get(sl, "pop_drop_pct"))
			fprintf(f, ", PoP %s ms %s %% drop",
				ctl_fmt_dec(b, sizeof(b), ctl_get(sl, "pop_latency_ms")),
				ctl_fmt_dec(c, sizeof(c), ctl_get(sl, "pop_drop_pct")));
		fprintf(f, ", alerts %s", alerts);
		if (risk)
			fprintf(f, ", at risk: %s (%s)", risk, ctl_str_or_none(sl, "risk_reason"));
		free(alerts);
	}
	fclose(f);
	ctl_sanitize(line);
	fprintf(out, "%s\n", line);
	free(line);
}

/* The radio of a cellular member: "lte, RSRP -91 dBm, SINR 13.4 dB, Telia, home". */
static void ctl_radio_text(FILE *f, struct json_object *c)
{
	struct json_object *roam = ctl_get(c, "roaming");
	char a[32], b[32];

	if (!ctl_str(c, "tech")) {
		fprintf(f, "unknown%s%s", ctl_str(c, "error") ? ": " : "",
			ctl_str(c, "error") ? ctl_str(c, "error") : "");
		return;
	}
	fprintf(f, "%s, RSRP %s dBm, SINR %s dB, %s, %s", ctl_str(c, "tech"),
		ctl_fmt_int(a, sizeof(a), ctl_get(c, "rsrp_dbm")),
		ctl_fmt_dec(b, sizeof(b), ctl_get(c, "sinr_db")), ctl_str_or_none(c, "operator"),
		!roam ? "roaming unknown" : json_object_get_boolean(roam) ? "roaming" : "home");
	if (ctl_str(c, "risk"))
		fprintf(f, ", at risk: %s", ctl_str(c, "risk"));
}

static void ctl_wifi_text(FILE *f, struct json_object *w)
{
	char a[32], b[32];

	if (!json_object_get_boolean(ctl_get(w, "connected"))) {
		fprintf(f, "not connected%s%s", ctl_str(w, "error") ? ": " : "",
			ctl_str(w, "error") ? ctl_str(w, "error") : "");
		return;
	}
	double kbps;

	if (ctl_num(ctl_get(w, "tx_bitrate_kbps"), &kbps))
		snprintf(b, sizeof(b), "%.1f", kbps / 1000);
	else
		snprintf(b, sizeof(b), "%s", CTL_NONE);
	fprintf(f, "%s, signal %s dBm, %s Mbit/s", ctl_str_or_none(w, "ssid"),
		ctl_fmt_int(a, sizeof(a), ctl_get(w, "signal_dbm")), b);
}

/* "123.4 of 2000 MB (6.2 %) since 2026-11-01" or "123.4 MB since …" */
static void ctl_data_text(FILE *f, struct json_object *d)
{
	char a[32], b[32], c[32];
	const char *since = ctl_str_or_none(d, "period_start");

	if (ctl_get(d, "budget_mb"))
		fprintf(f, "%s of %s MB (%s %%)", ctl_fmt_dec(a, sizeof(a), ctl_get(d, "used_mb")),
			ctl_fmt_int(b, sizeof(b), ctl_get(d, "budget_mb")),
			ctl_fmt_dec(c, sizeof(c), ctl_get(d, "used_pct")));
	else
		fprintf(f, "%s MB", ctl_fmt_dec(a, sizeof(a), ctl_get(d, "used_mb")));
	fprintf(f, " since %.10s", since);
}

/* One line under the table, "NAME: WHAT TEXT", built in memory first so what a
 * modem or dish said cannot bring control characters. */
static void ctl_note_line(FILE *out, struct json_object *m, const char *what,
			  void (*text)(FILE *f, struct json_object *o), struct json_object *o)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = ctl_check_alloc(open_memstream(&line, &len));

	fprintf(f, "%s: %s ", ctl_str_or_none(m, "name"), what);
	text(f, o);
	fclose(f);
	ctl_sanitize(line);
	fprintf(out, "%s\n", line);
	free(line);
}

/* Class-specific lines under a member table. */
static void ctl_member_notes(FILE *out, struct json_object *list)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(list, i), *o;
		bool any = false;

		for (int k = 0; k < 4; k++) {
			o = ctl_get(m, k == 0 ? "starlink" : k == 1 ? "cellular" : k == 2 ? "wifi" : "data");
			if (!json_object_is_type(o, json_type_object))
				continue;
			if (first && !any)
				fputc('\n', out);
			any = true;
			first = false;
			if (k == 0)
				ctl_dish_line(out, m, o);
			else if (k == 1)
				ctl_note_line(out, m, "radio", ctl_radio_text, o);
			else if (k == 2)
				ctl_note_line(out, m, "wifi", ctl_wifi_text, o);
			else
				ctl_note_line(out, m, "data", ctl_data_text, o);
		}
	}
}

void ctl_print_members(FILE *out, struct json_object *reply)
{
	ctl_member_table(out, reply, CTL_MEMBERS_COLS);
	ctl_member_notes(out, reply);
}

/* ---- events ----------------------------------------------------------- */

#define CTL_EVENT_COLS	5

/* "from -> to" when the event names either end, else NULL; an event about one
 * member (only "from") shows just its name. */
static char *ctl_event_move(struct json_object *ev)
{
	const char *from = ctl_str(ev, "from"), *to = ctl_str(ev, "to");

	if (!from && !to)
		return NULL;
	if (!to)
		return ctl_sprintf("%s", from);
	return ctl_sprintf("%s -> %s", from ? from : CTL_NONE, to ? to : CTL_NONE);
}

/* ts, type, reason, [from -> to,] message; the from/to column exists only when
 * some event has it. */
static void ctl_event_table(FILE *out, struct json_object **evs, size_t n)
{
	struct ctl_table t = { .ncols = CTL_EVENT_COLS };
	char **move = ctl_check_alloc(calloc(n, sizeof(*move)));
	bool any_move = false;
	size_t i;

	for (i = 0; i < n; i++) {
		move[i] = ctl_event_move(evs[i]);
		any_move |= move[i] != NULL;
	}
	if (!any_move)
		t.ncols--;
	for (i = 0; i < n; i++) {
		const char *row[CTL_EVENT_COLS] = {
			ctl_str(evs[i], "ts"), ctl_str(evs[i], "type"), ctl_str(evs[i], "reason"),
		};

		if (any_move)
			row[3] = move[i] ? move[i] : "";
		row[t.ncols - 1] = ctl_str(evs[i], "message");
		ctl_table_add(&t, row);
		free(move[i]);
	}
	free(move);
	ctl_table_print(out, &t);
	ctl_table_free(&t);
}

void ctl_print_events(FILE *out, struct json_object *reply)
{
	struct json_object **evs;
	size_t i, n;

	n = json_object_is_type(reply, json_type_array) ? json_object_array_length(reply) : 0;
	if (!n) {
		fputs("no events\n", out);
		return;
	}
	evs = ctl_check_alloc(calloc(n, sizeof(*evs)));
	for (i = 0; i < n; i++)
		evs[i] = json_object_array_get_idx(reply, i);
	ctl_event_table(out, evs, n);
	free(evs);
}

/* ---- status ----------------------------------------------------------- */

static void ctl_status_config(struct ctl_kv *kv, struct json_object *cfg)
{
	const char *loaded = ctl_str(cfg, "loaded");
	struct json_object *err = ctl_get(cfg, "error");

	if (loaded)
		ctl_kv_add(kv, "config", "%s (loaded %s)", ctl_str_or_none(cfg, "path"), loaded);
	else
		ctl_kv_add(kv, "config", "%s", ctl_str_or_none(cfg, "path"));
	/* Only when the last reload was rejected: the running config is older. */
	if (err && !json_object_is_type(err, json_type_null))
		ctl_kv_add(kv, "config error", "%s", json_object_is_type(err, json_type_string) ?
			   json_object_get_string(err) : ctl_json_text(err));
}

void ctl_print_status(FILE *out, struct json_object *reply)
{
	struct json_object *last = ctl_get(reply, "last_event");
	const char *since = ctl_str(reply, "active_since");
	struct ctl_kv kv = { 0 };
	char up[64];

	ctl_kv_add(&kv, "version", "%s", ctl_str_or_none(reply, "version"));
	if (since)
		ctl_kv_add(&kv, "active", "%s (since %s)", ctl_str_or_none(reply, "active"), since);
	else
		ctl_kv_add(&kv, "active", "%s", ctl_str_or_none(reply, "active"));
	ctl_kv_add(&kv, "controller", "%s", ctl_str_or_none(reply, "controller"));
	ctl_kv_add(&kv, "state", "%s", ctl_str_or_none(reply, "state"));
	ctl_kv_add(&kv, "uptime", "%s", ctl_fmt_uptime(up, sizeof(up), ctl_get(reply, "uptime_s")));
	ctl_status_config(&kv, ctl_get(reply, "config"));
	if (ctl_get(reply, "mwan3"))
		ctl_kv_add(&kv, "mwan3 tracking", "%s",
			   ctl_str_or_none(ctl_get(reply, "mwan3"), "tracking"));
	ctl_kv_print(out, &kv);

	fputc('\n', out);
	ctl_member_table(out, ctl_get(reply, "members"), CTL_STATUS_COLS);
	ctl_member_notes(out, ctl_get(reply, "members"));
	fputc('\n', out);

	fputs("last event: ", out);
	if (json_object_is_type(last, json_type_object))
		ctl_event_table(out, &last, 1);
	else
		fputs(CTL_NONE "\n", out);
}

/* ---- info ------------------------------------------------------------- */

/* Comma-separated strings of an array; "-" when there are none. */
static char *ctl_join(struct json_object *arr, const char *sep)
{
	size_t i, n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	char *s = ctl_strdup("");

	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		char *t;

		if (!json_object_is_type(v, json_type_string))
			continue;
		t = ctl_sprintf("%s%s%s", s, *s ? sep : "", json_object_get_string(v));
		free(s);
		s = t;
	}
	if (!*s) {
		free(s);
		s = ctl_strdup(CTL_NONE);
	}
	return s;
}

/* Numbers as the daemon sent them; "-" for anything else. */
static const char *ctl_fmt_num(struct json_object *v)
{
	double d;

	return ctl_num(v, &d) ? ctl_json_text(v) : CTL_NONE;
}

/* "cpu now" and "system" lines from info.resources (left out when absent). */
static void ctl_info_resources(struct ctl_kv *kv, struct json_object *r)
{
	struct json_object *sys = ctl_get(r, "system");

	if (!json_object_is_type(r, json_type_object))
		return;
	ctl_kv_add(kv, "cpu now", "%s %% of one core, %s wakeups/s",
		   ctl_fmt_num(ctl_get(r, "cpu_pct")), ctl_fmt_num(ctl_get(r, "wakeups_per_s")));
	ctl_kv_add(kv, "system", "cpu %s %%, %s of %s kB memory available, load %s %s %s",
		   ctl_fmt_num(ctl_get(sys, "cpu_pct")),
		   ctl_fmt_num(ctl_get(sys, "mem_available_kb")),
		   ctl_fmt_num(ctl_get(sys, "mem_total_kb")), ctl_fmt_num(ctl_get(sys, "load1")),
		   ctl_fmt_num(ctl_get(sys, "load5")), ctl_fmt_num(ctl_get(sys, "load15")));
}

/* "3 series in 524208 of 512 kB; spans raw 8m 59s, 10s 3h 35m 30s, 1m 4d 04h 35m 00s" */
static void ctl_info_history(struct ctl_kv *kv, struct json_object *h)
{
	struct json_object *span = ctl_get(h, "span_s");
	char a[48], b[48], c[48];

	if (!json_object_is_type(h, json_type_object))
		return;
	ctl_kv_add(kv, "history", "%s series, %s bytes of %s kB; spans raw %s, 10s %s, 1m %s",
		   ctl_fmt_num(ctl_get(h, "series")), ctl_fmt_num(ctl_get(h, "used_bytes")),
		   ctl_fmt_num(ctl_get(h, "max_ram_kb")),
		   ctl_fmt_uptime(a, sizeof(a), ctl_get(span, "raw")),
		   ctl_fmt_uptime(b, sizeof(b), ctl_get(span, "10s")),
		   ctl_fmt_uptime(c, sizeof(c), ctl_get(span, "1m")));
}

/* "127.0.0.1 port 8080: listening, auth writes, 0 event streams", or the state alone. */
static void ctl_info_http(struct ctl_kv *kv, struct json_object *h)
{
	char port[32], streams[32];

	if (!json_object_is_type(h, json_type_object))
		return;
	if (!ctl_str(h, "listen")) {
		ctl_kv_add(kv, "http", "%s", ctl_str_or_none(h, "state"));
		return;
	}
	ctl_kv_add(kv, "http", "%s port %s: %s, auth %s, %s event streams",
		   ctl_str_or_none(h, "listen"), ctl_fmt_int(port, sizeof(port), ctl_get(h, "port")),
		   ctl_str_or_none(h, "state"), ctl_str_or_none(h, "auth"),
		   ctl_fmt_int(streams, sizeof(streams), ctl_get(h, "streams")));
}

void ctl_print_info(FILE *out, struct json_object *reply)
{
	struct json_object *build = ctl_get(reply, "build"), *cpu = ctl_get(reply, "cpu_ms");
	struct ctl_kv kv = { 0 };
	char a[64], b[64];
	char *features = ctl_join(ctl_get(reply, "features"), ", ");

	ctl_kv_add(&kv, "version", "%s", ctl_str_or_none(reply, "version"));
	ctl_kv_add(&kv, "build", "%s, git %s, built %s", ctl_str_or_none(build, "compiler"),
		   ctl_str_or_none(build, "git"), ctl_str_or_none(build, "date"));
	ctl_kv_add(&kv, "features", "%s", features);
	ctl_kv_add(&kv, "pid", "%s", ctl_fmt_int(a, sizeof(a), ctl_get(reply, "pid")));
	ctl_kv_add(&kv, "started", "%s", ctl_str_or_none(reply, "started"));
	ctl_kv_add(&kv, "uptime", "%s", ctl_fmt_uptime(a, sizeof(a), ctl_get(reply, "uptime_s")));
	ctl_kv_add(&kv, "rss", "%s kB", ctl_fmt_int(a, sizeof(a), ctl_get(reply, "rss_kb")));
	ctl_kv_add(&kv, "cpu", "%s ms user, %s ms system",
		   ctl_fmt_int(a, sizeof(a), ctl_get(cpu, "user")),
		   ctl_fmt_int(b, sizeof(b), ctl_get(cpu, "system")));
	ctl_info_resources(&kv, ctl_get(reply, "resources"));
	ctl_info_history(&kv, ctl_get(reply, "history"));
	ctl_info_http(&kv, ctl_get(reply, "http"));
	ctl_kv_add(&kv, "config", "%s", ctl_str_or_none(reply, "config_path"));
	ctl_kv_add(&kv, "state dir", "%s", ctl_str_or_none(reply, "state_dir"));
	ctl_kv_add(&kv, "log level", "%s", ctl_str_or_none(reply, "log_level"));
	ctl_kv_print(out, &kv);
	free(features);
}

/* ---- starlink ------------------------------------------------------------- */

static void ctl_dish_kv(struct ctl_kv *kv, struct json_object *sl)
{
	struct json_object *outage = ctl_get(sl, "outage"), *hist = ctl_get(sl, "history");
	char a[64], b[64], c[64], d[64];
	char *alerts = ctl_join(ctl_get(sl, "alerts"), ", ");

	ctl_kv_add(kv, "dish", "%s (%s)", ctl_str_or_none(sl, "address"),
		   json_object_get_boolean(ctl_get(sl, "reachable")) ? "reachable" : "unreachable");
	if (ctl_str(sl, "error"))
		ctl_kv_add(kv, "error", "%s", ctl_str(sl, "error"));
	if (!json_object_get_boolean(ctl_get(sl, "reachable"))) {
		free(alerts);
		return;
	}
	ctl_kv_add(kv, "device", "%s, hardware %s, software %s", ctl_str_or_none(sl, "id"),
		   ctl_str_or_none(sl, "hardware"), ctl_str_or_none(sl, "software"));
	ctl_kv_add(kv, "uptime", "%s", ctl_fmt_uptime(a, sizeof(a), ctl_get(sl, "uptime_s")));
	if (outage)
		ctl_kv_add(kv, "outage", "%s for %s s", ctl_str_or_none(outage, "cause"),
			   ctl_fmt_dec(a, sizeof(a), ctl_get(outage, "duration_s")));
	else
		ctl_kv_add(kv, "outage", "none");
	ctl_kv_add(kv, "PoP", "latency %s ms, drop %s %%",
		   ctl_fmt_dec(a, sizeof(a), ctl_get(sl, "pop_latency_ms")),
		   ctl_fmt_dec(b, sizeof(b), ctl_get(sl, "pop_drop_pct")));
	ctl_kv_add(kv, "obstruction", "%s %%%s", ctl_fmt_dec(a, sizeof(a), ctl_get(sl, "obstruction_pct")),
		   json_object_get_boolean(ctl_get(sl, "currently_obstructed")) ? ", obstructed now" : "");
	ctl_kv_add(kv, "alerts", "%s", alerts);
	ctl_kv_add(kv, "score penalty", "%s", ctl_fmt_dec(a, sizeof(a), ctl_get(sl, "penalty")));
	if (ctl_str(sl, "risk"))
		ctl_kv_add(kv, "at risk", "%s: %s", ctl_str(sl, "risk"), ctl_str_or_none(sl, "risk_reason"));
	if (hist)
		ctl_kv_add(kv, "history", "%s samples, drop %s %%, latency %s ms, %s outage(s)%s",
			   ctl_fmt_int(a, sizeof(a), ctl_get(hist, "samples")),
			   ctl_fmt_dec(b, sizeof(b), ctl_get(hist, "drop_pct")),
			   ctl_fmt_dec(c, sizeof(c), ctl_get(hist, "latency_ms")),
			   ctl_fmt_int(d, sizeof(d), ctl_get(hist, "outages")),
			   json_object_get_boolean(ctl_get(hist, "rebooted")) ? ", rebooted" : "");
	free(alerts);
}

/* The dish of every Starlink member, from a `members` reply. */
void ctl_print_starlink(FILE *out, struct json_object *reply)
{
	size_t n = json_object_is_type(reply, json_type_array) ? json_object_array_length(reply) : 0;
	int shown = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(reply, i), *sl = ctl_get(m, "starlink");
		struct ctl_kv kv = { 0 };

		if (!json_object_is_type(sl, json_type_object))
			continue;
		ctl_kv_add(&kv, "member", "%s (%s, %s)", ctl_str_or_none(m, "name"),
			   ctl_str_or_none(m, "device"), ctl_str_or_none(m, "status"));
		ctl_dish_kv(&kv, sl);
		if (shown++)
			fputc('\n', out);
		ctl_kv_print(out, &kv);
	}
	if (!shown)
		fprintf(out, "no member of class starlink\n");
}

/* ---- cellular ------------------------------------------------------------- */

static void ctl_cell_kv(struct ctl_kv *kv, struct json_object *c)
{
	struct json_object *nr = ctl_get(c, "nr"), *roam = ctl_get(c, "roaming");
	char a[32], b[32], d[32], e[32];

	ctl_kv_add(kv, "modem", "%s via %s", ctl_str_or_none(c, "modem"), ctl_str_or_none(c, "source"));
	if (!ctl_str(c, "tech")) {
		ctl_kv_add(kv, "radio", "unknown");
		if (ctl_str(c, "error"))
			ctl_kv_add(kv, "error", "%s", ctl_str(c, "error"));
		return;
	}
	ctl_kv_add(kv, "technology", "%s", ctl_str(c, "tech"));
	ctl_kv_add(kv, "signal", "RSSI %s dBm, RSRP %s dBm, RSRQ %s dB, SINR %s dB",
		   ctl_fmt_int(a, sizeof(a), ctl_get(c, "rssi_dbm")),
		   ctl_fmt_int(b, sizeof(b), ctl_get(c, "rsrp_dbm")),
		   ctl_fmt_dec(d, sizeof(d), ctl_get(c, "rsrq_db")),
		   ctl_fmt_dec(e, sizeof(e), ctl_get(c, "sinr_db")));
	if (json_object_is_type(nr, json_type_object))
		ctl_kv_add(kv, "5G NR", "RSRP %s dBm, RSRQ %s dB, SINR %s dB",
			   ctl_fmt_int(a, sizeof(a), ctl_get(nr, "rsrp_dbm")),
			   ctl_fmt_dec(b, sizeof(b), ctl_get(nr, "rsrq_db")),
			   ctl_fmt_dec(d, sizeof(d), ctl_get(nr, "sinr_db")));
	ctl_kv_add(kv, "operator", "%s (%s), %s", ctl_str_or_none(c, "operator"),
		   ctl_str_or_none(c, "mccmnc"),
		   !roam ? "roaming unknown" : json_object_get_boolean(roam) ? "roaming" : "home");
	ctl_kv_add(kv, "cell", "%s, band %s, %s change(s) in 2 min", ctl_str_or_none(c, "cell_id"),
		   ctl_str_or_none(c, "band"), ctl_fmt_int(a, sizeof(a), ctl_get(c, "cell_changes")));
	ctl_kv_add(kv, "SIM slot", "%s", ctl_fmt_int(a, sizeof(a), ctl_get(c, "sim_slot")));
	ctl_kv_add(kv, "signal drop", "%s dB within 60 s", ctl_fmt_int(a, sizeof(a), ctl_get(c, "signal_drop_db")));
	ctl_kv_add(kv, "score penalty", "%s", ctl_fmt_dec(a, sizeof(a), ctl_get(c, "penalty")));
	if (ctl_str(c, "risk"))
		ctl_kv_add(kv, "at risk", "%s: %s", ctl_str(c, "risk"), ctl_str_or_none(c, "risk_why"));
}

static void ctl_data_kv(struct ctl_kv *kv, struct json_object *d)
{
	char a[32], b[32], c[32];

	if (ctl_get(d, "budget_mb"))
		ctl_kv_add(kv, "data", "%s of %s MB (%s %%)", ctl_fmt_dec(a, sizeof(a), ctl_get(d, "used_mb")),
			   ctl_fmt_int(b, sizeof(b), ctl_get(d, "budget_mb")),
			   ctl_fmt_dec(c, sizeof(c), ctl_get(d, "used_pct")));
	else
		ctl_kv_add(kv, "data", "%s MB, no budget set", ctl_fmt_dec(a, sizeof(a), ctl_get(d, "used_mb")));
	ctl_kv_add(kv, "of which probes", "%s MB", ctl_fmt_dec(a, sizeof(a), ctl_get(d, "probe_mb")));
	ctl_kv_add(kv, "period", "%s to %s", ctl_str_or_none(d, "period_start"),
		   ctl_str_or_none(d, "period_end"));
}

/* The modem and data use of every cellular member, from a `members` reply. */
void ctl_print_cellular(FILE *out, struct json_object *reply)
{
	size_t n = json_object_is_type(reply, json_type_array) ? json_object_array_length(reply) : 0;
	int shown = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(reply, i), *c = ctl_get(m, "cellular");
		struct json_object *d = ctl_get(m, "data");
		struct ctl_kv kv = { 0 };

		if (!json_object_is_type(c, json_type_object))
			continue;
		ctl_kv_add(&kv, "member", "%s (%s, %s)", ctl_str_or_none(m, "name"),
			   ctl_str_or_none(m, "device"), ctl_str_or_none(m, "status"));
		ctl_cell_kv(&kv, c);
		if (json_object_is_type(d, json_type_object))
			ctl_data_kv(&kv, d);
		if (shown++)
			fputc('\n', out);
		ctl_kv_print(out, &kv);
	}
	if (!shown)
		fprintf(out, "no member of class cellular\n");
}

/* ---- history ------------------------------------------------------------- */

/* "latency_ms_min" -> "LATENCY_MS_MIN"; "ts" -> "TIME". */
static char *ctl_history_head(struct json_object *name)
{
	const char *s = json_object_is_type(name, json_type_string) ?
			json_object_get_string(name) : CTL_NONE;
	char *h = ctl_strdup(strcmp(s, "ts") ? s : "TIME");

	for (char *c = h; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	return h;
}

static const char *ctl_history_cell(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return ctl_json_text(v);
	return CTL_NONE;
}

static void ctl_history_table(FILE *out, struct json_object *fields, struct json_object *points)
{
	size_t ncols = json_object_is_type(fields, json_type_array) ?
		       json_object_array_length(fields) : 0, n, i, c;
	char *head[CTL_TABLE_COLS];
	bool right[CTL_TABLE_COLS];
	struct ctl_table t = { .head = (const char *const *)head, .right = right };

	if (ncols > CTL_TABLE_COLS)
		ncols = CTL_TABLE_COLS;	/* --json has them all */
	t.ncols = (int)ncols;
	for (c = 0; c < ncols; c++) {
		head[c] = ctl_history_head(json_object_array_get_idx(fields, c));
		right[c] = c > 0;
	}
	n = json_object_array_length(points);
	for (i = 0; i < n && ncols; i++) {
		struct json_object *p = json_object_array_get_idx(points, i);
		const char *row[CTL_TABLE_COLS];

		for (c = 0; c < ncols; c++)
			row[c] = ctl_history_cell(json_object_is_type(p, json_type_array) ?
						  json_object_array_get_idx(p, c) : NULL);
		ctl_table_add(&t, row);
	}
	ctl_table_print(out, &t);
	ctl_table_free(&t);
	for (c = 0; c < ncols; c++)
		free(head[c]);
}

void ctl_print_history(FILE *out, struct json_object *reply)
{
	struct json_object *points = ctl_get(reply, "points");
	size_t n = json_object_is_type(points, json_type_array) ?
		   json_object_array_length(points) : 0;
	char a[64], b[64];
	char *line;

	line = ctl_sprintf("%s: %zu point%s at %s resolution over the last %s (samples cover %s)",
			   ctl_str_or_none(reply, "name"), n, n == 1 ? "" : "s",
			   ctl_str_or_none(reply, "resolution"),
			   ctl_fmt_uptime(a, sizeof(a), ctl_get(reply, "since_s")),
			   ctl_fmt_uptime(b, sizeof(b), ctl_get(reply, "covered_s")));
	fprintf(out, "%s\n", line);
	free(line);
	if (!n)
		return;
	fputc('\n', out);
	ctl_history_table(out, ctl_get(reply, "fields"), points);
}

long long ctl_parse_since(const char *s)
{
	static const struct { char unit; long long mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	long long v, mult = 1;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -1;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *end; i++)
			;
		if (i == sizeof(units) / sizeof(units[0]) || end[1])
			return -1;
		mult = units[i].mult;
	}
	if (v > LLONG_MAX / mult)
		return -1;
	return v * mult;
}

/* ---- config get --------------------------------------------------------- */

/* One uci value: single quotes, an embedded ' as '\'' (as uci show does);
 * booleans as 1/0. Returns false for null (an unset option prints nothing). */
static bool ctl_uci_value(FILE *out, struct json_object *v)
{
	const char *s;
	char *c;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "1" : "0";
		break;
	case json_type_string:
		s = json_object_get_string(v);
		break;
	default:	/* numbers (as the daemon wrote them), objects as JSON */
		s = ctl_json_text(v);
		break;
	}
	c = ctl_strdup(s);
	ctl_sanitize(c);
	fputc('\'', out);
	for (s = c; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
	free(c);
	return true;
}

static void ctl_uci_option(FILE *out, const char *sec, const char *opt, struct json_object *v)
{
	size_t i, n;
	bool any = false;

	if (!json_object_is_type(v, json_type_array)) {
		if (json_object_is_type(v, json_type_null))
			return;
		fprintf(out, CTL_UCI_PACKAGE ".%s.%s=", sec, opt);
		ctl_uci_value(out, v);
		fputc('\n', out);
		return;
	}
	/* A list: items space-separated; an empty list prints nothing, as in uci. */
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(v, i);

		if (json_object_is_type(item, json_type_null))
			continue;
		fprintf(out, any ? " " : CTL_UCI_PACKAGE ".%s.%s=", sec, opt);
		any = ctl_uci_value(out, item);
	}
	if (any)
		fputc('\n', out);
}

static void ctl_uci_section(FILE *out, const char *sec, struct json_object *s)
{
	const char *type = ctl_str(s, ".type");

	fprintf(out, CTL_UCI_PACKAGE ".%s=%s\n", sec, type ? type : CTL_NONE);
	if (!json_object_is_type(s, json_type_object))
		return;
	json_object_object_foreach(s, opt, v) {
		if (opt[0] != '.')	/* .type, .name, .anonymous are uci metadata */
			ctl_uci_option(out, sec, opt, v);
	}
}

/* Section and option names never contain '.', so the first one splits them. */
static int ctl_config_one(FILE *out, struct json_object *values, const char *filter,
			  char *err, size_t errlen)
{
	const char *dot = strchr(filter, '.');
	char *sec = ctl_check_alloc(strndup(filter, dot ? (size_t)(dot - filter) : strlen(filter)));
	struct json_object *s = ctl_get(values, sec), *v = NULL;
	int ret = -1;

	/* get_ex: an option that is present but null (unset) still exists. */
	if (!s)
		snprintf(err, errlen, "no section '%s' in the configuration", sec);
	else if (dot && (dot[1] == '.' || !json_object_is_type(s, json_type_object) ||
			 !json_object_object_get_ex(s, dot + 1, &v)))
		snprintf(err, errlen, "section '%s' has no option '%s'", sec, dot + 1);
	else {
		if (out && dot)
			ctl_uci_option(out, sec, dot + 1, v);
		else if (out)
			ctl_uci_section(out, sec, s);
		ret = 0;
	}
	free(sec);
	return ret;
}

int ctl_print_config(FILE *out, struct json_object *reply, const char *filter,
		     char *err, size_t errlen)
{
	struct json_object *values = ctl_get(reply, "values");

	if (filter)
		return ctl_config_one(out, values, filter, err, errlen);
	if (out && json_object_is_type(values, json_type_object)) {
		json_object_object_foreach(values, sec, s) {
			ctl_uci_section(out, sec, s);
		}
	}
	return 0;
}

/* ---- action / config.set results, errors -------------------------------- */

void ctl_print_result(FILE *out, struct json_object *reply)
{
	struct json_object *changed = ctl_get(reply, "changed");
	const char *msg = ctl_str(reply, "message");
	char *s;

	if (msg) {
		s = ctl_sprintf("%s", msg);
		fprintf(out, "%s\n", s);
		free(s);
	} else if (json_object_is_type(changed, json_type_array)) {
		s = ctl_join(changed, ", ");
		fprintf(out, "changed: %s\n", s);
		free(s);
	} else {
		fputs(json_object_get_boolean(ctl_get(reply, "ok")) ? "ok\n" : CTL_NONE "\n", out);
	}
}

/* ---- mwan3 takeover / release / status ------------------------------------ */

static void ctl_mwan3_reload(FILE *out, struct json_object *r)
{
	const char *err = ctl_str(r, "error"), *result = ctl_str(r, "result");
	char *s;

	if (!json_object_is_type(r, json_type_object))
		return;
	if (json_object_is_type(ctl_get(r, "running"), json_type_boolean))
		/* status: the last reload */
		s = ctl_sprintf("last reload: %s (%s): %s", ctl_str_or_none(r, "command"),
				ctl_str_or_none(r, "started"),
				json_object_get_boolean(ctl_get(r, "running")) ? "running" :
				result ? result : CTL_NONE);
	else if (json_object_get_boolean(ctl_get(r, "started")))
		s = ctl_sprintf("reload: %s (started; 'autonomyctl mwan3 status' shows how it "
				"ended)", ctl_str_or_none(r, "command"));
	else if (err)
		s = ctl_sprintf("reload: not done: %s", err);
	else
		return;
	fprintf(out, "%s\n", s);
	free(s);
}

void ctl_print_mwan3(FILE *out, struct json_object *reply)
{
	struct json_object *changes = ctl_get(reply, "changes");
	bool dry = json_object_get_boolean(ctl_get(reply, "dry_run"));
	size_t n = json_object_is_type(changes, json_type_array) ?
		   json_object_array_length(changes) : 0;
	bool applied = json_object_get_boolean(ctl_get(reply, "applied"));
	const char *cmd = ctl_str_or_none(reply, "cmd"), *msg = ctl_str(reply, "message");
	char *s;

	if (n)
		fprintf(out, "%s\n", dry ? "would run (nothing is changed):" :
			     applied ? "changed:" : "changes:");
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);

		s = ctl_sprintf("  %s", json_object_is_type(c, json_type_string) ?
				json_object_get_string(c) : CTL_NONE);
		fprintf(out, "%s\n", s);
		free(s);
	}
	if (n && dry)
		fputs("  uci commit mwan3\n", out);
	if (msg) {
		s = ctl_sprintf("%s", msg);
		fprintf(out, "%s\n", s);
		free(s);
	}
	if (n && dry)
		s = ctl_sprintf("mwan3 tracking: %s (after %s: %s)",
				ctl_str_or_none(reply, "state"), cmd,
				ctl_str_or_none(reply, "planned_state"));
	else
		s = ctl_sprintf("mwan3 tracking: %s", ctl_str_or_none(reply, "state"));
	fprintf(out, "%s\n", s);
	free(s);
	ctl_mwan3_reload(out, ctl_get(reply, "reload"));
	if (ctl_str(reply, "warning")) {
		s = ctl_sprintf("warning: %s", ctl_str(reply, "warning"));
		fprintf(out, "%s\n", s);
		free(s);
	}
}

bool ctl_reply_is_error(struct json_object *reply)
{
	return ctl_get(reply, "error") != NULL;
}

void ctl_print_error(FILE *out, struct json_object *reply)
{
	struct json_object *e = ctl_get(reply, "error");
	const char *msg = json_object_is_type(e, json_type_string) ?
			  json_object_get_string(e) : ctl_str(e, "message");
	const char *code = ctl_str(e, "code");
	char *s = ctl_sprintf("autonomyctl: %s (%s)", msg ? msg : "error without a message",
			      code ? code : CTL_NONE);

	fprintf(out, "%s\n", s);
	free(s);
}

int ctl_print(FILE *out, const struct ctl_call *call, struct json_object *reply,
	      char *err, size_t errlen)
{
	switch (call->cmd) {
	case CTL_CMD_STATUS:
		ctl_print_status(out, reply);
		break;
	case CTL_CMD_MEMBERS:
		ctl_print_members(out, reply);
		break;
	case CTL_CMD_EVENTS:
		ctl_print_events(out, reply);
		break;
	case CTL_CMD_STARLINK:
		ctl_print_starlink(out, reply);
		break;
	case CTL_CMD_CELLULAR:
		ctl_print_cellular(out, reply);
		break;
	case CTL_CMD_INFO:
		ctl_print_info(out, reply);
		break;
	case CTL_CMD_HISTORY:
		ctl_print_history(out, reply);
		break;
	case CTL_CMD_MWAN3_TAKEOVER:
	case CTL_CMD_MWAN3_RELEASE:
	case CTL_CMD_MWAN3_STATUS:
		ctl_print_mwan3(out, reply);
		break;
	case CTL_CMD_CONFIG_GET:
		if (ctl_print_config(out, reply, call->arg, err, errlen) < 0)
			return CTL_EXIT_ERROR;
		break;
	case CTL_CMD_FAILOVER:
	case CTL_CMD_RESTORE:
	case CTL_CMD_RECHECK:
	case CTL_CMD_SETLOG:
	case CTL_CMD_CONFIG_SET:
	case CTL_CMD_CONFIG_UNSET:
		ctl_print_result(out, reply);
		break;
	default:
		break;
	}
	return CTL_EXIT_OK;
}

/* ---- usage ------------------------------------------------------------ */

void ctl_usage(FILE *out)
{
	fputs("usage: autonomyctl [--json] [--socket PATH] [--timeout S] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  status                    active member, state, members, last event\n"
	      "  members                   members with latency, loss, jitter, probe counts\n"
	      "  events [N]                the last N events, newest first\n"
	      "  history NAME [SINCE]      samples of member NAME (or system: resources) over\n"
	      "                            the last SINCE (seconds, or 15m, 6h, 7d; default 1h)\n"
	      "  failover [NAME]           move traffic away from the active member, or to NAME\n"
	      "  restore                   end a manual failover\n"
	      "  recheck [NAME]            re-probe every member, or NAME, at once\n"
	      "  setlog LEVEL              set the log level now (debug, info, warn, error)\n"
	      "  config get [SEC[.OPT]]    the running configuration, uci show style\n"
	      "  config set K=V [K=V...]   set options (K is SECTION.OPTION), write, reload\n"
	      "  config unset K [K...]     remove options so their defaults apply\n"
	      "  info                      version, build, features, resource use\n"
	      "  starlink                  the Starlink dish of each starlink member\n"
	      "  cellular                  the modem and data use of each cellular member\n"
	      "  notify test [CHANNEL]     send a test message to notifier CHANNEL (or every\n"
	      "                            enabled one) and print each channel's answer\n"
	      "  mwan3 status              who tracks mwan3's interfaces: autonomy, mwan3, mixed\n"
	      "                            or none\n"
	      "  mwan3 takeover            hand mwan3's tracking (track_ip) of the managed\n"
	      "                            interfaces to autonomy, reload mwan3; prints the uci\n"
	      "                            changes (--dry-run: only prints them)\n"
	      "  mwan3 release             give the tracking back to mwan3 (--dry-run too)\n"
	      "  rpcd list                 rpcd exec plugin: the method signatures\n"
	      "  rpcd call METHOD          rpcd exec plugin: call with ubus arguments on stdin\n"
	      "  help                      this text\n"
	      "\n"
	      "options:\n"
	      "  -j, --json          print the daemon's reply as JSON\n"
	      "  -s, --socket PATH   the daemon's socket (default: $AUTONOMY_SOCKET,\n"
	      "                      else " CTL_DEFAULT_SOCKET ")\n"
	      "  -t, --timeout S     seconds to wait for connect and reply (default 5)\n"
	      "  -n, --dry-run       mwan3 takeover/release: show the changes, change nothing\n"
	      "\n"
	      "exit codes:\n"
	      "  0  success\n"
	      "  1  the daemon answered an error (or config get: no such section/option)\n"
	      "  2  usage error\n"
	      "  3  autonomyd is not reachable (no socket, refused, timeout, reply not JSON)\n"
	      "  rpcd list/call always exit 0; errors are in the JSON they print.\n",
	      out);
}

/* ---- command words -> request --------------------------------------------- */

struct ctl_verb;
typedef int (*ctl_build_fn)(const struct ctl_verb *verb, struct ctl_call *call,
			    int argc, char **argv, char *err, size_t errlen);

struct ctl_verb {
	const char *word;
	const char *sub;	/* second word ("config get"), or NULL */
	enum ctl_cmd cmd;
	int min_args, max_args;
	const char *synopsis;
	const char *method;	/* the API method, or the action's cmd */
	ctl_build_fn build;
};

static struct json_object *ctl_new_request(const char *method, struct json_object *params)
{
	struct json_object *req = ctl_check_alloc(json_object_new_object());

	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", params ? params : json_object_new_object());
	return req;
}

static int ctl_build_plain(const struct ctl_verb *verb, struct ctl_call *call,
			   int argc, char **argv, char *err, size_t errlen)
{
	(void)argc; (void)argv; (void)err; (void)errlen;
	call->request = ctl_new_request(verb->method, NULL);
	return 0;
}

static int ctl_build_local(const struct ctl_verb *verb, struct ctl_call *call,
			   int argc, char **argv, char *err, size_t errlen)
{
	(void)verb; (void)err; (void)errlen;
	call->arg = argc ? argv[0] : NULL;
	return 0;
}

static int ctl_build_events(const struct ctl_verb *verb, struct ctl_call *call,
			    int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *params = json_object_new_object();
	char *end;
	long n;

	if (argc) {
		/* The range (1-1000 today) is the daemon's to enforce. */
		errno = 0;
		n = strtol(argv[0], &end, 10);
		if (argv[0][0] < '0' || argv[0][0] > '9' || *end || errno || n < 1 || n > INT32_MAX) {
			snprintf(err, errlen, "events: N must be a positive number, not '%s'", argv[0]);
			json_object_put(params);
			return -1;
		}
		json_object_object_add(params, "limit", json_object_new_int((int)n));
	}
	call->request = ctl_new_request(verb->method, params);
	return 0;
}

static int ctl_build_notify_test(const struct ctl_verb *verb, struct ctl_call *call,
				 int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *params = json_object_new_object();

	(void)err; (void)errlen;
	if (argc)
		json_object_object_add(params, "channel", json_object_new_string(argv[0]));
	call->request = ctl_new_request(verb->method, params);
	return 0;
}

static int ctl_build_history(const struct ctl_verb *verb, struct ctl_call *call,
			     int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *params = json_object_new_object();
	long long since;

	json_object_object_add(params, "name", json_object_new_string(argv[0]));
	if (argc > 1) {
		/* The range is the daemon's to enforce. */
		since = ctl_parse_since(argv[1]);
		if (since < 0 || since > INT32_MAX) {
			snprintf(err, errlen, "history: SINCE is seconds or a number with s, m, h "
				 "or d (900, 15m, 6h, 7d), not '%s'", argv[1]);
			json_object_put(params);
			return -1;
		}
		json_object_object_add(params, "since_s", json_object_new_int64(since));
	}
	call->request = ctl_new_request(verb->method, params);
	return 0;
}

static int ctl_build_action(const struct ctl_verb *verb, struct ctl_call *call,
			    int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *params = json_object_new_object();

	(void)err; (void)errlen;
	json_object_object_add(params, "cmd", json_object_new_string(verb->method));
	if (argc)
		json_object_object_add(params, verb->cmd == CTL_CMD_SETLOG ? "level" : "name",
				       json_object_new_string(argv[0]));
	call->request = ctl_new_request("action", params);
	return 0;
}

static int ctl_build_config_get(const struct ctl_verb *verb, struct ctl_call *call,
				int argc, char **argv, char *err, size_t errlen)
{
	ctl_build_local(verb, call, argc, argv, err, errlen);
	call->request = ctl_new_request(verb->method, NULL);
	return 0;
}

/* SECTION.OPTION with both parts non-empty; the daemon checks the names. */
static bool ctl_key_ok(const char *key, size_t len)
{
	const char *dot = memchr(key, '.', len);

	return dot && dot != key && dot != key + len - 1 && !memchr(key, '=', len);
}

/* One K=V (set) or K (unset) into values; the value goes as a string and the
 * daemon converts it to the option's type. */
static int ctl_config_value(struct json_object *values, bool set, const char *arg,
			    char *err, size_t errlen)
{
	const char *eq = set ? strchr(arg, '=') : NULL;
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	char *key;

	if ((set && !eq) || !ctl_key_ok(arg, klen)) {
		snprintf(err, errlen, "config %s: '%s' is not SECTION.OPTION%s",
			 set ? "set" : "unset", arg, set ? "=VALUE" : "");
		return -1;
	}
	key = ctl_check_alloc(strndup(arg, klen));
	json_object_object_add(values, key, set ? json_object_new_string(eq + 1) : NULL);
	free(key);
	return 0;
}

static int ctl_build_config_set(const struct ctl_verb *verb, struct ctl_call *call,
				int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *values = json_object_new_object(), *params;
	int i;

	for (i = 0; i < argc; i++) {
		if (ctl_config_value(values, verb->cmd == CTL_CMD_CONFIG_SET, argv[i],
				     err, errlen) < 0) {
			json_object_put(values);
			return -1;
		}
	}
	params = json_object_new_object();
	json_object_object_add(params, "values", values);
	call->request = ctl_new_request(verb->method, params);
	return 0;
}

static int ctl_build_mwan3(const struct ctl_verb *verb, struct ctl_call *call,
			   int argc, char **argv, char *err, size_t errlen)
{
	struct json_object *params = json_object_new_object();

	(void)argc; (void)argv; (void)err; (void)errlen;
	json_object_object_add(params, "cmd", json_object_new_string(verb->method));
	call->request = ctl_new_request("mwan3", params);
	return 0;
}

int ctl_set_dry_run(struct ctl_call *call, char *err, size_t errlen)
{
	struct json_object *params = NULL;

	if ((call->cmd != CTL_CMD_MWAN3_TAKEOVER && call->cmd != CTL_CMD_MWAN3_RELEASE) ||
	    !json_object_object_get_ex(call->request, "params", &params)) {
		snprintf(err, errlen, "--dry-run is only for mwan3 takeover and mwan3 release");
		return -1;
	}
	json_object_object_add(params, "dry_run", json_object_new_boolean(1));
	return 0;
}

#define CTL_MANY 1000000
static const struct ctl_verb ctl_verbs[] = {
	{ "status", NULL, CTL_CMD_STATUS, 0, 0, "status", "status", ctl_build_plain },
	{ "members", NULL, CTL_CMD_MEMBERS, 0, 0, "members", "members", ctl_build_plain },
	{ "events", NULL, CTL_CMD_EVENTS, 0, 1, "events [N]", "events", ctl_build_events },
	{ "history", NULL, CTL_CMD_HISTORY, 1, 2, "history NAME [SINCE]", "history",
	  ctl_build_history },
	{ "failover", NULL, CTL_CMD_FAILOVER, 0, 1, "failover [NAME]", "failover",
	  ctl_build_action },
	{ "restore", NULL, CTL_CMD_RESTORE, 0, 0, "restore", "restore", ctl_build_action },
	{ "recheck", NULL, CTL_CMD_RECHECK, 0, 1, "recheck [NAME]", "recheck", ctl_build_action },
	{ "setlog", NULL, CTL_CMD_SETLOG, 1, 1, "setlog LEVEL", "set_level", ctl_build_action },
	{ "config", "get", CTL_CMD_CONFIG_GET, 0, 1, "config get [SECTION[.OPTION]]",
	  "config.get", ctl_build_config_get },
	{ "config", "set", CTL_CMD_CONFIG_SET, 1, CTL_MANY, "config set K=V [K=V...]",
	  "config.set", ctl_build_config_set },
	{ "config", "unset", CTL_CMD_CONFIG_UNSET, 1, CTL_MANY, "config unset K [K...]",
	  "config.set", ctl_build_config_set },
	{ "info", NULL, CTL_CMD_INFO, 0, 0, "info", "info", ctl_build_plain },
	{ "starlink", NULL, CTL_CMD_STARLINK, 0, 0, "starlink", "members", ctl_build_plain },
	{ "cellular", NULL, CTL_CMD_CELLULAR, 0, 0, "cellular", "members", ctl_build_plain },
	{ "notify", "test", CTL_CMD_NOTIFY_TEST, 0, 1, "notify test [CHANNEL]", "notify.test",
	  ctl_build_notify_test },
	{ "mwan3", "takeover", CTL_CMD_MWAN3_TAKEOVER, 0, 0, "mwan3 takeover [--dry-run]",
	  "takeover", ctl_build_mwan3 },
	{ "mwan3", "release", CTL_CMD_MWAN3_RELEASE, 0, 0, "mwan3 release [--dry-run]",
	  "release", ctl_build_mwan3 },
	{ "mwan3", "status", CTL_CMD_MWAN3_STATUS, 0, 0, "mwan3 status", "status",
	  ctl_build_mwan3 },
	{ "rpcd", "list", CTL_CMD_RPCD_LIST, 0, 0, "rpcd list", NULL, ctl_build_local },
	{ "rpcd", "call", CTL_CMD_RPCD_CALL, 1, 1, "rpcd call METHOD", NULL, ctl_build_local },
	/* How rpcd itself runs us as /usr/libexec/rpcd/autonomy. */
	{ "list", NULL, CTL_CMD_RPCD_LIST, 0, 0, "list", NULL, ctl_build_local },
	{ "call", NULL, CTL_CMD_RPCD_CALL, 1, 1, "call METHOD", NULL, ctl_build_local },
	{ "help", NULL, CTL_CMD_HELP, 0, 0, "help", NULL, ctl_build_local },
};

static const struct ctl_verb *ctl_find_verb(int argc, char **argv, char *err, size_t errlen)
{
	char subs[128] = "";
	size_t i;

	for (i = 0; i < sizeof(ctl_verbs) / sizeof(ctl_verbs[0]); i++) {
		const struct ctl_verb *v = &ctl_verbs[i];

		if (strcmp(v->word, argv[0]))
			continue;
		if (!v->sub || (argc > 1 && !strcmp(v->sub, argv[1])))
			return v;
		/* Collect "get, set, unset" for the message below. */
		if (subs[0])
			strncat(subs, ", ", sizeof(subs) - strlen(subs) - 1);
		strncat(subs, v->sub, sizeof(subs) - strlen(subs) - 1);
	}
	if (subs[0]) {
		snprintf(err, errlen, "%s: expected one of %s", argv[0], subs);
	} else {
		snprintf(err, errlen, "unknown command '%s'", argv[0]);
	}
	return NULL;
}

int ctl_parse(int argc, char **argv, struct ctl_call *call, char *err, size_t errlen)
{
	const struct ctl_verb *v;
	int nargs;

	memset(call, 0, sizeof(*call));
	if (errlen)
		err[0] = 0;
	if (argc < 1) {
		snprintf(err, errlen, "no command given");
		return -1;
	}
	v = ctl_find_verb(argc, argv, err, errlen);
	if (!v)
		return -1;
	nargs = argc - (v->sub ? 2 : 1);
	if (nargs < v->min_args || nargs > v->max_args) {
		snprintf(err, errlen, "wrong number of arguments (usage: %s)", v->synopsis);
		return -1;
	}
	call->cmd = v->cmd;
	if (v->build(v, call, nargs, argv + argc - nargs, err, errlen) < 0) {
		call->cmd = CTL_CMD_NONE;
		return -1;
	}
	return 0;
}

void ctl_call_free(struct ctl_call *call)
{
	json_object_put(call->request);
	call->request = NULL;
}
