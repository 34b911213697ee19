/* Cellular radio quality from the modem tools' output: the contract is in
 * radio.h. The formats follow the tools' sources (uqmi's commands-nas.c and
 * libubox's JSON writer, mmcli's JSON dumper; RutOS's gsm.modemN replies are
 * read leniently, their key names being less certain): every tool here
 * prints JSON, one value or several in a row, pretty or on one line.
 *
 * Two rules beyond the header's:
 *  - a signal answer is one measurement: when it holds anything it replaces
 *    tech and every signal value (values it lacks become unknown), so values
 *    of two technologies never mix;
 *  - the tech named by a modem/network answer (mmcli access technologies,
 *    RutOS get_network_info) only fills a tech the signal answer left
 *    unknown, since the signal's tech is what its values mean.
 * Implausible or non-numeric values are unknown, not errors. */
#include "collect/radio.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/util.h"

#define RADIO_MAX_TEXT		(64u << 10)	/* longer output is refused */
#define RADIO_MAX_VALUES	8		/* JSON values in one output */
#define RADIO_JSON_DEPTH	16		/* mmcli nests 6 deep */
#define RADIO_SLOT_MAX		8

static const char *const query_names[__RADIO_Q_MAX] = {
	[RADIO_Q_UQMI] = "uqmi",
	[RADIO_Q_MM_SIGNAL] = "mmcli signal",
	[RADIO_Q_MM_MODEM] = "mmcli modem",
	[RADIO_Q_UBUS_SIGNAL] = "ubus signal",
	[RADIO_Q_UBUS_NETWORK] = "ubus network",
	[RADIO_Q_UBUS_PROVIDER] = "ubus provider",
	[RADIO_Q_UBUS_REGSTAT] = "ubus regstat",
	[RADIO_Q_UBUS_SIMSLOT] = "ubus simslot",
};

static const char *const tech_names[__RADIO_TECH_MAX] = {
	[RADIO_TECH_UNKNOWN] = "unknown",
	[RADIO_TECH_2G] = "2g",
	[RADIO_TECH_3G] = "3g",
	[RADIO_TECH_LTE] = "lte",
	[RADIO_TECH_5G_NSA] = "5g-nsa",
	[RADIO_TECH_5G_SA] = "5g-sa",
};

/* What a value measures, and the range outside which it is taken as bogus. */
enum meas {
	M_RSSI,
	M_RSRP,		/* also RSCP */
	M_RSRQ,		/* also Ec/Io */
	M_SINR,
	__M_MAX
};

static const struct {
	double lo, hi;
} meas_range[__M_MAX] = {
	[M_RSSI] = { -130, 0 },
	[M_RSRP] = { -160, -30 },
	[M_RSRQ] = { -40, 10 },
	[M_SINR] = { -30, 50 },
};

/* One signal measurement, as a tool reported it. */
struct sig {
	enum radio_tech tech;
	double rssi, rsrp, rsrq, sinr;
	double nr_rsrp, nr_rsrq, nr_sinr;
};

struct values {
	struct json_object *v[RADIO_MAX_VALUES];
	int n;
};

/* ---- helpers --------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Member key of o when o is an object, else NULL. */
static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static struct json_object *get_obj(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_object) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A number written as text: "-91.00", " -91 ", "-91 dBm". Nothing else: no
 * hex, no "nan"/"inf", which strtod would take. */
static double number_text(const char *s)
{
	const char *p = s;
	char *end;
	double d;
	bool digit = false;

	while (isspace((unsigned char)*p))
		p++;
	for (const char *q = p; *q && !isspace((unsigned char)*q) && *q != 'd'; q++) {
		if (isdigit((unsigned char)*q))
			digit = true;
		else if (!strchr("+-.eE", *q))
			return NAN;
	}
	if (!digit)
		return NAN;
	d = strtod(p, &end);
	if (end == p)
		return NAN;
	while (isspace((unsigned char)*end))
		end++;
	if (!strcmp(end, "dBm") || !strcmp(end, "dB"))
		end += strlen(end);
	return *end ? NAN : d;
}

/* The value as a finite number (JSON number or numeric string), else NAN. */
static double number(struct json_object *v)
{
	double d;

	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		d = json_object_get_double(v);
		break;
	case json_type_string:
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
			return NAN;
		d = number_text(json_object_get_string(v));
		break;
	default:
		return NAN;
	}
	return isfinite(d) ? d : NAN;
}

static double plausible(double d, enum meas m)
{
	return d >= meas_range[m].lo && d <= meas_range[m].hi ? d : NAN;
}

static double measure(struct json_object *o, const char *key, enum meas m)
{
	return plausible(number(get(o, key)), m);
}

/* The first of two keys that holds a plausible value. */
static double measure2(struct json_object *o, const char *key, const char *alt, enum meas m)
{
	double d = measure(o, key, m);

	return isnan(d) ? measure(o, alt, m) : d;
}

/* An integer in [lo, hi] (JSON integer or digits in a string), or -1. */
static long long whole(struct json_object *v, long long lo, long long hi)
{
	double d = number(v);

	if (isnan(d) || d != floor(d) || d < (double)lo || d > (double)hi)
		return -1;
	return (long long)d;
}

/* Placeholders the tools print for "no value". */
static bool placeholder(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s || !strcmp(s, "--") || !strcasecmp(s, "n/a") || !strcasecmp(s, "unknown");
}

/* Copies string v into dst (truncated, printable ASCII only, others '?').
 * Returns false, leaving dst alone, if v is no string or a placeholder. */
static bool set_text(char *dst, size_t size, struct json_object *v)
{
	const char *s;
	size_t n, i;

	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!n || (strlen(s) == n && placeholder(s)))
		return false;
	for (i = 0; i < n && i + 1 < size; i++)
		dst[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	dst[i] = '\0';
	return true;
}

/* "24602" / "310260" (MCC + 2 or 3 digit MNC) from a string or a number. */
static bool set_mccmnc(char *dst, size_t size, struct json_object *v)
{
	char buf[24];
	const char *s;
	size_t n;
	long long x;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = strspn(s, "0123456789");
		if ((n != 5 && n != 6) || s[n] || (size_t)json_object_get_string_len(v) != n)
			return false;
		return strlcpy_ok(dst, s, size);
	}
	x = whole(v, 10000, 999999);
	if (x < 0 || !json_object_is_type(v, json_type_int))
		return false;
	snprintf(buf, sizeof(buf), "%lld", x);
	return strlcpy_ok(dst, buf, size);
}

/* Lower-case s without '-', '_', ' ', '+', '.' into buf; false if too long. */
static bool squash(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		if (strchr("-_ +.", *s))
			continue;
		if (n + 1 >= size)
			return false;
		buf[n++] = (char)tolower((unsigned char)*s);
	}
	buf[n] = '\0';
	return true;
}

struct word_tech {
	const char *word;
	enum radio_tech tech;
};

static enum radio_tech lookup_tech(const struct word_tech *t, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].word, word))
			return t[i].tech;
	return RADIO_TECH_UNKNOWN;
}

/* RutOS net_mode, squashed ("5G-NSA" → "5gnsa"). A bare "5G" says too little. */
static const struct word_tech net_modes[] = {
	{ "lte", RADIO_TECH_LTE }, { "4g", RADIO_TECH_LTE }, { "ltem", RADIO_TECH_LTE },
	{ "catm", RADIO_TECH_LTE }, { "catm1", RADIO_TECH_LTE }, { "nbiot", RADIO_TECH_LTE },
	{ "ltecatm1", RADIO_TECH_LTE }, { "ltenbiot", RADIO_TECH_LTE },
	{ "5gnsa", RADIO_TECH_5G_NSA }, { "nsa", RADIO_TECH_5G_NSA },
	{ "endc", RADIO_TECH_5G_NSA }, { "nr5gnsa", RADIO_TECH_5G_NSA },
	{ "5gsa", RADIO_TECH_5G_SA }, { "sa", RADIO_TECH_5G_SA }, { "nr5g", RADIO_TECH_5G_SA },
	{ "nr5gsa", RADIO_TECH_5G_SA }, { "nr", RADIO_TECH_5G_SA }, { "5gnr", RADIO_TECH_5G_SA },
	{ "wcdma", RADIO_TECH_3G }, { "umts", RADIO_TECH_3G }, { "hspa", RADIO_TECH_3G },
	{ "hsdpa", RADIO_TECH_3G }, { "hsupa", RADIO_TECH_3G }, { "tdscdma", RADIO_TECH_3G },
	{ "3g", RADIO_TECH_3G },
	{ "gsm", RADIO_TECH_2G }, { "edge", RADIO_TECH_2G }, { "gprs", RADIO_TECH_2G },
	{ "egprs", RADIO_TECH_2G }, { "2g", RADIO_TECH_2G },
};

static enum radio_tech net_mode_tech(const char *s)
{
	char buf[24];

	if (!s || !squash(s, buf, sizeof(buf)))
		return RADIO_TECH_UNKNOWN;
	return lookup_tech(net_modes, ARRAY_SIZE(net_modes), buf);
}

static void fill_tech(struct radio_info *r, enum radio_tech t)
{
	if (r->tech == RADIO_TECH_UNKNOWN)
		r->tech = t;
}

static void set_reg(struct radio_info *r, int registered, int roaming)
{
	r->registered = registered;
	if (roaming >= 0)
		r->roaming = roaming;
}

/* ---- signal measurements ---------------------------------------------------- */

static void sig_init(struct sig *s)
{
	s->tech = RADIO_TECH_UNKNOWN;
	s->rssi = s->rsrp = s->rsrq = s->sinr = NAN;
	s->nr_rsrp = s->nr_rsrq = s->nr_sinr = NAN;
}

static bool sig_any(const struct sig *s)
{
	return s->tech != RADIO_TECH_UNKNOWN || !isnan(s->rssi) || !isnan(s->rsrp) ||
	       !isnan(s->rsrq) || !isnan(s->sinr) || !isnan(s->nr_rsrp) ||
	       !isnan(s->nr_rsrq) || !isnan(s->nr_sinr);
}

static void sig_commit(const struct sig *s, struct radio_info *r)
{
	if (!sig_any(s))
		return;
	r->tech = s->tech;
	r->rssi = s->rssi;
	r->rsrp = s->rsrp;
	r->rsrq = s->rsrq;
	r->sinr = s->sinr;
	r->nr_rsrp = s->nr_rsrp;
	r->nr_rsrq = s->nr_rsrq;
	r->nr_sinr = s->nr_sinr;
}

/* ---- reading the JSON values ------------------------------------------------- */

static size_t skip_space(const char *s, size_t i, size_t len)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

static void values_free(struct values *vals)
{
	while (vals->n > 0)
		json_object_put(vals->v[--vals->n]);
}

static int tokener_fail(struct json_tokener *tok, char *why, size_t n)
{
	switch (json_tokener_get_error(tok)) {
	case json_tokener_continue:
	case json_tokener_error_parse_eof:
		return fail(why, n, "truncated JSON");
	case json_tokener_error_depth:
		return fail(why, n, "JSON nested too deeply");
	default:
		return fail(why, n, "not JSON");
	}
}

/* Every JSON value in text[0..len), at most max of them. json-c cannot tell
 * whether a bare number or word at the very end is complete: a NUL after the
 * input says it is. */
static int parse_values(struct json_tokener *tok, const char *text, size_t len,
			struct values *vals, int max, char *why, size_t n)
{
	struct json_object *o;
	size_t i = skip_space(text, 0, len), end;

	if (i == len)
		return fail(why, n, "empty output");
	while (i < len) {
		json_tokener_reset(tok);
		/* a literal null is a NULL object, which json-c treats as null */
		o = json_tokener_parse_ex(tok, text + i, (int)(len - i));
		end = i + json_tokener_get_parse_end(tok);
		if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
			o = json_tokener_parse_ex(tok, "", 1);
			end = len;
		}
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(o);
			return tokener_fail(tok, why, n);
		}
		if (vals->n == max) {
			json_object_put(o);
			return fail(why, n, "more than %d JSON value%s", max, max > 1 ? "s" : "");
		}
		vals->v[vals->n++] = o;
		i = skip_space(text, end, len);
	}
	return 0;
}

static int read_values(const char *text, size_t len, struct values *vals, int max,
		       char *why, size_t n)
{
	struct json_tokener *tok;
	int rc;

	if (!text && len)
		return fail(why, n, "no output");
	if (len > RADIO_MAX_TEXT)
		return fail(why, n, "output too large (%zu bytes, at most %u)", len,
			    RADIO_MAX_TEXT);
	if (len && memchr(text, '\0', len))
		return fail(why, n, "not JSON (NUL byte)");
	tok = json_tokener_new_ex(RADIO_JSON_DEPTH);
	if (!tok)
		return fail(why, n, "out of memory");
	rc = parse_values(tok, text ? text : "", len, vals, max, why, n);
	json_tokener_free(tok);
	if (rc < 0)
		values_free(vals);
	return rc;
}

/* ---- uqmi ---------------------------------------------------------------------- */

/* The legs of a --get-signal-info answer, by technology. */
struct uqmi_legs {
	struct json_object *lte, *nr, *g3, *g2;
};

static const struct word_tech uqmi_types[] = {
	{ "lte", RADIO_TECH_LTE }, { "5gnr", RADIO_TECH_5G_SA },
	{ "wcdma", RADIO_TECH_3G }, { "umts", RADIO_TECH_3G }, { "tdscdma", RADIO_TECH_3G },
	{ "td-scdma", RADIO_TECH_3G }, { "hdr", RADIO_TECH_3G },
	{ "gsm", RADIO_TECH_2G }, { "cdma", RADIO_TECH_2G }, { "tdma", RADIO_TECH_2G },
};

static void uqmi_leg(struct json_object *o, struct uqmi_legs *l)
{
	const char *type = get_str(o, "type");
	struct json_object **slot;

	if (!type)
		return;
	switch (lookup_tech(uqmi_types, ARRAY_SIZE(uqmi_types), type)) {
	case RADIO_TECH_LTE:
		slot = &l->lte;
		break;
	case RADIO_TECH_5G_SA:
		slot = &l->nr;
		break;
	case RADIO_TECH_3G:
		slot = &l->g3;
		break;
	case RADIO_TECH_2G:
		slot = &l->g2;
		break;
	default:
		return;
	}
	if (!*slot)
		*slot = o;
}

/* LTE snr: current uqmi prints dB as a double (raw × 0.1); before 2022 it
 * printed the raw value, tenths of a dB, as an integer. */
static double uqmi_lte_snr(struct json_object *o)
{
	struct json_object *v = get(o, "snr");
	double d = number(v);

	if (json_object_is_type(v, json_type_int))
		d /= 10;
	return plausible(d, M_SINR);
}

static void uqmi_nr(struct json_object *o, double *rsrp, double *rsrq, double *sinr)
{
	*rsrp = measure(o, "rsrp", M_RSRP);
	*rsrq = measure(o, "rsrq", M_RSRQ);
	*sinr = measure(o, "snr", M_SINR);
}

static void uqmi_signal(const struct uqmi_legs *l, struct sig *s)
{
	sig_init(s);
	if (l->lte) {
		s->tech = l->nr ? RADIO_TECH_5G_NSA : RADIO_TECH_LTE;
		s->rssi = measure(l->lte, "rssi", M_RSSI);
		s->rsrp = measure(l->lte, "rsrp", M_RSRP);
		s->rsrq = measure(l->lte, "rsrq", M_RSRQ);
		s->sinr = uqmi_lte_snr(l->lte);
		if (l->nr)
			uqmi_nr(l->nr, &s->nr_rsrp, &s->nr_rsrq, &s->nr_sinr);
	} else if (l->nr) {
		s->tech = RADIO_TECH_5G_SA;
		s->rssi = measure(l->nr, "rssi", M_RSSI);
		uqmi_nr(l->nr, &s->rsrp, &s->rsrq, &s->sinr);
	} else if (l->g3) {
		s->tech = RADIO_TECH_3G;
		s->rssi = measure(l->g3, "rssi", M_RSSI);
		s->rsrp = measure(l->g3, "rscp", M_RSRP);
		s->rsrq = measure(l->g3, "ecio", M_RSRQ);
	} else if (l->g2) {
		s->tech = RADIO_TECH_2G;
		s->rssi = measure2(l->g2, "signal", "rssi", M_RSSI);
	}
}

static bool uqmi_is_serving(struct json_object *o)
{
	static const char *const keys[] = {
		"registration", "plmn_mcc", "plmn_mnc", "plmn_description", "roaming",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (get(o, keys[i]))
			return true;
	return false;
}

static void uqmi_serving(struct json_object *o, struct radio_info *r)
{
	const char *reg = get_str(o, "registration");
	struct json_object *roam = get(o, "roaming");
	long long mcc = whole(get(o, "plmn_mcc"), 1, 999);
	long long mnc = whole(get(o, "plmn_mnc"), 0, 999);
	char buf[16];

	if (reg && !strcmp(reg, "registered"))
		r->registered = 1;
	else if (reg && (!strcmp(reg, "not_registered") || !strcmp(reg, "searching") ||
			 !strcmp(reg, "registering_denied")))
		r->registered = 0;
	if (json_object_is_type(roam, json_type_boolean))
		r->roaming = json_object_get_boolean(roam);
	else if (whole(roam, 0, 1) >= 0)
		r->roaming = (int)whole(roam, 0, 1);
	if (mcc >= 0 && mnc >= 0) {
		snprintf(buf, sizeof(buf), "%03lld%02lld", mcc, mnc);
		strlcpy_ok(r->mccmnc, buf, sizeof(r->mccmnc));
	}
	set_text(r->operator_name, sizeof(r->operator_name), get(o, "plmn_description"));
}

/* A JSON string is how uqmi reports a failed command. */
static int uqmi_error(struct json_object *v, char *why, size_t n)
{
	char msg[64];

	if (!set_text(msg, sizeof(msg), v))
		snprintf(msg, sizeof(msg), "empty error");
	return fail(why, n, "%s", msg);
}

static int uqmi_array(struct json_object *a, struct uqmi_legs *l, char *why, size_t n)
{
	size_t len = json_object_array_length(a);

	for (size_t i = 0; i < len; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		if (!json_object_is_type(o, json_type_object))
			return fail(why, n, "signal array holds a non-object");
		uqmi_leg(o, l);
	}
	return 0;
}

static int parse_uqmi(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct uqmi_legs legs = { 0 };
	struct sig s;

	for (int i = 0; i < vals->n; i++) {
		struct json_object *v = vals->v[i];

		if (json_object_is_type(v, json_type_string))
			return uqmi_error(v, why, n);
		if (json_object_is_type(v, json_type_array)) {
			if (uqmi_array(v, &legs, why, n) < 0)
				return -1;
		} else if (!json_object_is_type(v, json_type_object)) {
			return fail(why, n, "unexpected JSON (%s)",
				    json_type_to_name(json_object_get_type(v)));
		} else if (get(v, "type")) {
			uqmi_leg(v, &legs);
		} else if (uqmi_is_serving(v)) {
			uqmi_serving(v, r);
		} else if (get(v, "error")) {
			return uqmi_error(get(v, "error"), why, n);
		} else if (json_object_object_length(v)) {
			return fail(why, n, "unexpected object");
		}
	}
	uqmi_signal(&legs, &s);
	sig_commit(&s, r);
	return 0;
}

/* ---- ModemManager ------------------------------------------------------------- */

/* One section of modem.signal; values are strings like "-91.00" or "--". */
struct mm_section {
	double rssi, rsrp, rsrq, sinr;
	bool any;
};

static void mm_read_section(struct json_object *sig, const char *name, const char *rsrp_key,
		       const char *rsrq_key, const char *sinr_key, struct mm_section *s)
{
	struct json_object *o = get_obj(sig, name);

	s->rssi = measure(o, "rssi", M_RSSI);
	s->rsrp = rsrp_key ? measure(o, rsrp_key, M_RSRP) : NAN;
	s->rsrq = rsrq_key ? measure(o, rsrq_key, M_RSRQ) : NAN;
	s->sinr = sinr_key ? measure(o, sinr_key, M_SINR) : NAN;
	s->any = !isnan(s->rssi) || !isnan(s->rsrp) || !isnan(s->rsrq) || !isnan(s->sinr);
}

static void mm_main(const struct mm_section *m, enum radio_tech tech, struct sig *s)
{
	s->tech = tech;
	s->rssi = m->rssi;
	s->rsrp = m->rsrp;
	s->rsrq = m->rsrq;
	s->sinr = m->sinr;
}

static int parse_mm_signal(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct json_object *sig = get_obj(get_obj(vals->v[0], "modem"), "signal");
	struct mm_section lte, nr, umts, evdo, gsm, cdma;
	struct sig s;

	if (!sig)
		return fail(why, n, "no modem.signal object");
	mm_read_section(sig, "lte", "rsrp", "rsrq", "snr", &lte);
	mm_read_section(sig, "5g", "rsrp", "rsrq", "snr", &nr);
	mm_read_section(sig, "umts", "rscp", "ecio", NULL, &umts);
	mm_read_section(sig, "evdo", NULL, "ecio", NULL, &evdo);
	mm_read_section(sig, "gsm", NULL, NULL, NULL, &gsm);
	mm_read_section(sig, "cdma1x", NULL, "ecio", NULL, &cdma);
	sig_init(&s);
	if (lte.any && nr.any) {
		mm_main(&lte, RADIO_TECH_5G_NSA, &s);
		s.nr_rsrp = nr.rsrp;
		s.nr_rsrq = nr.rsrq;
		s.nr_sinr = nr.sinr;
	} else if (nr.any) {
		mm_main(&nr, RADIO_TECH_5G_SA, &s);
	} else if (lte.any) {
		mm_main(&lte, RADIO_TECH_LTE, &s);
	} else if (umts.any || evdo.any) {
		mm_main(umts.any ? &umts : &evdo, RADIO_TECH_3G, &s);
	} else if (gsm.any || cdma.any) {
		mm_main(gsm.any ? &gsm : &cdma, RADIO_TECH_2G, &s);
	}
	sig_commit(&s, r);
	return 0;
}

/* MMModemAccessTechnology nicks. */
static const struct word_tech mm_techs[] = {
	{ "gsm", RADIO_TECH_2G }, { "gsm-compact", RADIO_TECH_2G }, { "gprs", RADIO_TECH_2G },
	{ "edge", RADIO_TECH_2G }, { "1xrtt", RADIO_TECH_2G },
	{ "umts", RADIO_TECH_3G }, { "hsdpa", RADIO_TECH_3G }, { "hsupa", RADIO_TECH_3G },
	{ "hspa", RADIO_TECH_3G }, { "hspa-plus", RADIO_TECH_3G }, { "evdo0", RADIO_TECH_3G },
	{ "evdoa", RADIO_TECH_3G }, { "evdob", RADIO_TECH_3G },
	{ "lte", RADIO_TECH_LTE }, { "lte-cat-m", RADIO_TECH_LTE },
	{ "lte-nb-iot", RADIO_TECH_LTE }, { "5gnr", RADIO_TECH_5G_SA },
};

/* Notes one access technology word; "lte" with "5gnr" is EN-DC. */
static void mm_tech_word(const char *w, size_t len, bool *lte, enum radio_tech *best)
{
	char buf[24];
	enum radio_tech t;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, w, len);
	buf[len] = '\0';
	t = lookup_tech(mm_techs, ARRAY_SIZE(mm_techs), buf);
	if (t == RADIO_TECH_LTE)
		*lte = true;
	if (t > *best)
		*best = t;
}

/* A list item, or (older mmcli, other front ends) "lte, 5gnr" in one string. */
static void mm_tech_text(const char *s, bool *lte, enum radio_tech *best)
{
	while (*s) {
		size_t len;

		s += strspn(s, ", ");
		len = strcspn(s, ", ");
		if (len)
			mm_tech_word(s, len, lte, best);
		s += len;
	}
}

static enum radio_tech mm_access_tech(struct json_object *v)
{
	enum radio_tech best = RADIO_TECH_UNKNOWN;
	bool lte = false;

	if (json_object_is_type(v, json_type_string)) {
		mm_tech_text(json_object_get_string(v), &lte, &best);
	} else if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);

		for (size_t i = 0; i < len; i++) {
			struct json_object *w = json_object_array_get_idx(v, i);

			if (json_object_is_type(w, json_type_string))
				mm_tech_text(json_object_get_string(w), &lte, &best);
		}
	}
	return best == RADIO_TECH_5G_SA && lte ? RADIO_TECH_5G_NSA : best;
}

/* MMModem3gppRegistrationState nicks: registered, roaming. */
static const struct {
	const char *nick;
	int registered, roaming;
} mm_regs[] = {
	{ "home", 1, 0 }, { "home-sms-only", 1, 0 }, { "home-csfb-not-preferred", 1, 0 },
	{ "roaming", 1, 1 }, { "roaming-sms-only", 1, 1 },
	{ "roaming-csfb-not-preferred", 1, 1 },
	{ "idle", 0, -1 }, { "searching", 0, -1 }, { "denied", 0, -1 },
	{ "emergency-only", 0, -1 }, { "attached-rlos", 0, -1 },
};

static void mm_registration(const char *state, struct radio_info *r)
{
	for (size_t i = 0; state && i < ARRAY_SIZE(mm_regs); i++)
		if (!strcmp(state, mm_regs[i].nick))
			set_reg(r, mm_regs[i].registered, mm_regs[i].roaming);
}

static int parse_mm_modem(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct json_object *modem = get_obj(vals->v[0], "modem");
	struct json_object *generic = get_obj(modem, "generic");
	struct json_object *gpp = get_obj(modem, "3gpp");
	long long slot;

	if (!modem)
		return fail(why, n, "no modem object");
	fill_tech(r, mm_access_tech(get(generic, "access-technologies")));
	slot = whole(get(generic, "primary-sim-slot"), 1, RADIO_SLOT_MAX);
	if (slot > 0)
		r->sim_slot = (int)slot;
	mm_registration(get_str(gpp, "registration-state"), r);
	set_text(r->operator_name, sizeof(r->operator_name), get(gpp, "operator-name"));
	set_mccmnc(r->mccmnc, sizeof(r->mccmnc), get(gpp, "operator-code"));
	return 0;
}

/* ---- RutOS ubus (gsm.modemN) ------------------------------------------------------ */

static int ubus_root(struct values *vals, struct json_object **o, char *why, size_t n)
{
	*o = vals->v[0];
	if (!json_object_is_type(*o, json_type_object))
		return fail(why, n, "not a JSON object");
	return 0;
}

static const char *ubus_net_mode(struct json_object *o)
{
	const char *s = get_str(o, "net_mode");

	return s ? s : get_str(o, "net_mode_str");
}

static int parse_ubus_signal(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct json_object *o;
	struct sig s;

	if (ubus_root(vals, &o, why, n) < 0)
		return -1;
	sig_init(&s);
	s.tech = net_mode_tech(ubus_net_mode(o));
	s.rssi = measure(o, "rssi", M_RSSI);
	s.sinr = measure(o, "sinr", M_SINR);
	if (s.tech == RADIO_TECH_3G) {
		s.rsrp = measure2(o, "rscp", "rsrp", M_RSRP);
		s.rsrq = measure2(o, "ecio", "rsrq", M_RSRQ);
	} else if (s.tech != RADIO_TECH_2G) {
		s.rsrp = measure(o, "rsrp", M_RSRP);
		s.rsrq = measure(o, "rsrq", M_RSRQ);
	}
	sig_commit(&s, r);
	return 0;
}

/* "LTE B3", "LTE_B20", "NR5G N78", "n78" → "B3", "B20", "n78"; other
 * spellings ("WCDMA 2100") as printed. */
static void ubus_band(struct json_object *v, struct radio_info *r)
{
	char buf[64];
	const char *tok;
	size_t len;

	if (!set_text(buf, sizeof(buf), v))
		return;
	len = strlen(buf);
	while (len && strchr(" _-:", buf[len - 1]))
		buf[--len] = '\0';
	tok = buf + len;
	while (tok > buf && !strchr(" _-:", tok[-1]))
		tok--;
	if ((*tok == 'B' || *tok == 'b' || *tok == 'N' || *tok == 'n') && tok[1] &&
	    strspn(tok + 1, "0123456789") == strlen(tok + 1) && strlen(tok + 1) <= 3) {
		snprintf(r->band, sizeof(r->band), "%c%s",
			 *tok == 'B' || *tok == 'b' ? 'B' : 'n', tok + 1);
		return;
	}
	if (len)
		strlcpy_ok(r->band, buf, sizeof(r->band));
}

static int parse_ubus_network(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct json_object *o;

	if (ubus_root(vals, &o, why, n) < 0)
		return -1;
	fill_tech(r, net_mode_tech(ubus_net_mode(o)));
	ubus_band(get(o, "band"), r);
	set_mccmnc(r->mccmnc, sizeof(r->mccmnc), get(o, "opernum"));
	return 0;
}

static int parse_ubus_provider(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	static const char *const names[] = { "full_name", "name", "short_name" };
	struct json_object *o;

	if (ubus_root(vals, &o, why, n) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (set_text(r->operator_name, sizeof(r->operator_name), get(o, names[i])))
			break;
	set_mccmnc(r->mccmnc, sizeof(r->mccmnc), get(o, "plmn"));
	return 0;
}

/* A registration, ranked so the best of several domains wins. */
enum reg_rank { REG_NONE, REG_NOT, REG_HOME, REG_ROAMING };

/* "Registered, roaming", "Not registered, searching", "Registration denied". */
static enum reg_rank reg_text(const char *s)
{
	char low[64];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	if (strstr(low, "not registered") || strstr(low, "not_registered") ||
	    strstr(low, "unregistered") || strstr(low, "denied") || strstr(low, "searching"))
		return REG_NOT;
	if (strstr(low, "roam"))
		return REG_ROAMING;
	if (strstr(low, "home") || !strcmp(low, "registered"))
		return REG_HOME;
	return REG_NONE;
}

/* 3GPP 27.007 +CREG/+CEREG <stat>. */
static enum reg_rank reg_stat(long long stat)
{
	switch (stat) {
	case 1: case 6: case 9:
		return REG_HOME;
	case 5: case 7: case 10:
		return REG_ROAMING;
	case 0: case 2: case 3: case 8:
		return REG_NOT;
	default:
		return REG_NONE;
	}
}

static enum reg_rank reg_of(struct json_object *o)
{
	static const char *const texts[] = { "status", "stat_str", "state" };
	static const char *const stats[] = { "stat_id", "stat" };
	enum reg_rank rank;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		const char *s = get_str(o, texts[i]);

		if (s && (rank = reg_text(s)) != REG_NONE)
			return rank;
	}
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
		if ((rank = reg_stat(whole(get(o, stats[i]), 0, 99))) != REG_NONE)
			return rank;
	return REG_NONE;
}

static void ubus_cell_id(struct json_object *v, struct radio_info *r)
{
	char buf[24];
	long long x;

	if (set_text(r->cell_id, sizeof(r->cell_id), v))
		return;
	x = json_object_is_type(v, json_type_int) ? whole(v, 0, 0xFFFFFFFFFLL) : -1;
	if (x >= 0) {
		snprintf(buf, sizeof(buf), "%lld", x);
		strlcpy_ok(r->cell_id, buf, sizeof(r->cell_id));
	}
}

/* Flat ({"status": …, "ci": …}) or one object per domain ({"cereg": {…}, …}). */
static int parse_ubus_regstat(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	struct json_object *o, *best;
	enum reg_rank rank, best_rank;

	if (ubus_root(vals, &o, why, n) < 0)
		return -1;
	best = o;
	best_rank = reg_of(o);
	if (best_rank == REG_NONE) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (json_object_is_type(val, json_type_object) &&
			    (rank = reg_of(val)) > best_rank) {
				best = val;
				best_rank = rank;
			}
		}
	}
	if (best_rank == REG_ROAMING)
		set_reg(r, 1, 1);
	else if (best_rank == REG_HOME)
		set_reg(r, 1, 0);
	else if (best_rank == REG_NOT)
		set_reg(r, 0, -1);
	ubus_cell_id(get(best, "ci"), r);
	return 0;
}

/* 1, "1", "SIM1", "sim2": the last digits. */
static int slot_of(struct json_object *v)
{
	const char *s, *end;
	long x;

	if (!json_object_is_type(v, json_type_string))
		return (int)whole(v, 1, RADIO_SLOT_MAX);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return -1;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (end == s || !isdigit((unsigned char)end[-1]))
		return -1;
	while (end > s && isdigit((unsigned char)end[-1]))
		end--;
	if (strspn(end, "0123456789") > 2)
		return -1;
	x = strtol(end, NULL, 10);
	return x >= 1 && x <= RADIO_SLOT_MAX ? (int)x : -1;
}

static int parse_ubus_simslot(struct values *vals, struct radio_info *r, char *why, size_t n)
{
	static const char *const keys[] = { "index", "sim_slot", "slot", "sim", "id" };
	struct json_object *o;

	if (ubus_root(vals, &o, why, n) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct json_object *v = get(o, keys[i]);
		int slot;

		if (!v)
			continue;
		slot = slot_of(v);
		if (slot > 0)
			r->sim_slot = slot;
		break;
	}
	return 0;
}

/* ---- API ------------------------------------------------------------------------- */

typedef int (*radio_parser)(struct values *vals, struct radio_info *r, char *why, size_t n);

static const struct {
	radio_parser fn;
	int max_values;
} parsers[__RADIO_Q_MAX] = {
	[RADIO_Q_UQMI] = { parse_uqmi, RADIO_MAX_VALUES },
	[RADIO_Q_MM_SIGNAL] = { parse_mm_signal, 1 },
	[RADIO_Q_MM_MODEM] = { parse_mm_modem, 1 },
	[RADIO_Q_UBUS_SIGNAL] = { parse_ubus_signal, 1 },
	[RADIO_Q_UBUS_NETWORK] = { parse_ubus_network, 1 },
	[RADIO_Q_UBUS_PROVIDER] = { parse_ubus_provider, 1 },
	[RADIO_Q_UBUS_REGSTAT] = { parse_ubus_regstat, 1 },
	[RADIO_Q_UBUS_SIMSLOT] = { parse_ubus_simslot, 1 },
};

void radio_clear(struct radio_info *r)
{
	memset(r, 0, sizeof(*r));
	r->tech = RADIO_TECH_UNKNOWN;
	r->rssi = r->rsrp = r->rsrq = r->sinr = NAN;
	r->nr_rsrp = r->nr_rsrq = r->nr_sinr = NAN;
	r->roaming = -1;
	r->registered = -1;
	r->sim_slot = 0;
}

int radio_parse(enum radio_query q, const char *text, size_t len, struct radio_info *r,
		char *err, size_t errlen)
{
	struct values vals = { .n = 0 };
	struct radio_info copy;
	char why[RADIO_ERR_LEN];
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if ((unsigned)q >= __RADIO_Q_MAX)
		return fail(err, errlen, "radio: unknown query %d", (int)q);
	copy = *r;
	rc = read_values(text, len, &vals, parsers[q].max_values, why, sizeof(why));
	if (rc == 0)
		rc = parsers[q].fn(&vals, &copy, why, sizeof(why));
	values_free(&vals);
	if (rc < 0)
		return fail(err, errlen, "%s: %s", query_names[q], why);
	*r = copy;
	return 0;
}

const char *radio_tech_name(enum radio_tech t)
{
	return (unsigned)t < __RADIO_TECH_MAX ? tech_names[t] : "unknown";
}

const char *radio_query_name(enum radio_query q)
{
	return (unsigned)q < __RADIO_Q_MAX ? query_names[q] : "unknown";
}
