#include "telem/budget.h"
#include "core/jsonnum.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

/* How far from mktime's guess the first instant of a day is searched for: a
 * DST change at midnight moves it by an hour or so, a skipped calendar day
 * (Samoa, December 2011) by a day. */
#define DAY_SEARCH_S	(36 * 3600)
#define COUNTER_FILE_MAX	32	/* "18446744073709551615\n" */

/* ---- period math ------------------------------------------------------------- */

static int clamp_day(int day)
{
	if (day < BUDGET_RESET_DAY_MIN)
		return BUDGET_RESET_DAY_MIN;
	if (day > BUDGET_RESET_DAY_MAX)
		return BUDGET_RESET_DAY_MAX;
	return day;
}

struct ymd {
	int y, m, d;		/* struct tm's: years since 1900, month 0..11 */
};

static void ymd_add_months(struct ymd *v, int months)
{
	int m = v->m + months;

	v->y += m >= 0 ? m / 12 : -((11 - m) / 12);
	v->m = ((m % 12) + 12) % 12;
}

/* The local calendar day of t compared with v: <0, 0, >0; -2 if t has none. */
static int local_cmp(time_t t, const struct ymd *v, struct tm *tm)
{
	if (!localtime_r(&t, tm))
		return -2;
	if (tm->tm_year != v->y)
		return tm->tm_year < v->y ? -1 : 1;
	if (tm->tm_mon != v->m)
		return tm->tm_mon < v->m ? -1 : 1;
	if (tm->tm_mday != v->d)
		return tm->tm_mday < v->d ? -1 : 1;
	return 0;
}

static bool fits_time_t(int64_t v)
{
	return (int64_t)(time_t)v == v;
}

/* The first instant whose local date is v or later: after a DST change at
 * midnight that is 01:00 (or the end of a repeated 23:xx), not mktime's guess. */
static time_t day_start(const struct ymd *v)
{
	struct tm tm = { .tm_year = v->y, .tm_mon = v->m, .tm_mday = v->d, .tm_isdst = -1 };
	time_t guess = mktime(&tm), lo, hi;

	if (guess == (time_t)-1)
		return -1;
	if (local_cmp(guess, v, &tm) == 0 && !tm.tm_hour && !tm.tm_min && !tm.tm_sec &&
	    local_cmp(guess - 1, v, &tm) == -1)
		return guess;
	if (!fits_time_t((int64_t)guess - DAY_SEARCH_S) ||
	    !fits_time_t((int64_t)guess + DAY_SEARCH_S))
		return -1;
	lo = guess - DAY_SEARCH_S;
	hi = guess + DAY_SEARCH_S;
	if (local_cmp(lo, v, &tm) != -1 || local_cmp(hi, v, &tm) < 0)
		return -1;
	while (hi - lo > 1) {	/* invariant: lo is before day v, hi on or after it */
		time_t mid = lo + (hi - lo) / 2;
		int r = local_cmp(mid, v, &tm);

		if (r == -2)
			return -1;
		if (r >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The period containing now: its start, and in *end the next one's. */
static time_t period_bounds(time_t now, int reset_day, time_t *end)
{
	struct ymd v;
	struct tm tm;
	time_t start;

	if (!localtime_r(&now, &tm))
		return -1;
	v = (struct ymd){ tm.tm_year, tm.tm_mon, clamp_day(reset_day) };
	if (tm.tm_mday < v.d)
		ymd_add_months(&v, -1);
	start = day_start(&v);
	if (start != (time_t)-1 && start > now) {	/* cannot happen with sane zones */
		ymd_add_months(&v, -1);
		start = day_start(&v);
	}
	if (start == (time_t)-1)
		return -1;
	ymd_add_months(&v, 1);
	*end = day_start(&v);
	if (*end != (time_t)-1 && *end <= now) {
		ymd_add_months(&v, 1);
		*end = day_start(&v);
	}
	return *end == (time_t)-1 ? -1 : start;
}

time_t budget_period_start(time_t now, int reset_day)
{
	time_t end;

	return period_bounds(now, reset_day, &end);
}

time_t budget_period_end(time_t now, int reset_day)
{
	time_t end;

	return period_bounds(now, reset_day, &end) == (time_t)-1 ? -1 : end;
}

/* ---- counting ---------------------------------------------------------------- */

void budget_init(struct budget *b)
{
	memset(b, 0, sizeof(*b));
}

void budget_forget_counters(struct budget *b)
{
	b->have_counters = false;
	b->have_probe = false;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* What a cumulative counter moved since last; a lower value started from 0. */
static uint64_t delta(uint64_t last, uint64_t now)
{
	return now >= last ? now - last : now;
}

/* Sets or moves the period to the one containing now. */
static int advance(struct budget *b, int reset_day, time_t now)
{
	time_t start, end;
	bool inside = b->have_period && now >= b->period_start && now < b->period_end;

	reset_day = clamp_day(reset_day);
	if (inside && b->reset_day == reset_day)
		return 0;
	start = period_bounds(now, reset_day, &end);
	if (start == (time_t)-1)
		return -EINVAL;
	if (b->have_period && !inside) {
		b->used_bytes = 0;
		b->probe_bytes = 0;
		b->warned_pct = 0;
	}
	b->period_start = start;
	b->period_end = end;
	b->reset_day = reset_day;
	if (!b->have_period) {
		b->have_period = true;
		return 0;
	}
	return inside ? 0 : BUDGET_ROLLED;
}

static void count(struct budget *b, uint64_t rx, uint64_t tx, uint64_t probe)
{
	if (b->have_counters)
		b->used_bytes = add_sat(b->used_bytes, add_sat(delta(b->last_rx, rx),
							       delta(b->last_tx, tx)));
	if (b->have_probe)
		b->probe_bytes = add_sat(b->probe_bytes, delta(b->last_probe, probe));
	b->last_rx = rx;
	b->last_tx = tx;
	b->last_probe = probe;
	b->have_counters = true;
	b->have_probe = true;
}

static bool pct_valid(int pct)
{
	return pct >= 1 && pct <= BUDGET_WARN_PCT_MAX;
}

/* used >= budget * pct / 100, exactly and without overflow (no __int128 on
 * 32-bit routers): the threshold is ceil(budget * pct / 100). */
static bool reached(uint64_t used, uint64_t budget, int pct)
{
	uint64_t q = budget / 100, r = budget % 100, p = (uint64_t)pct, part;

	if (!budget || !pct_valid(pct) || q > UINT64_MAX / p)
		return false;
	part = (r * p + 99) / 100;
	if (q * p > UINT64_MAX - part)
		return false;	/* a threshold above any count */
	return used >= q * p + part;
}

/* The highest newly reached threshold, or 0. */
static int check_warn(struct budget *b, const struct budget_cfg *c)
{
	int top = 0, n = c->nwarn < 0 ? 0 : c->nwarn;

	if (!c->budget_bytes)
		return 0;
	if (n > BUDGET_WARN_MAX)
		n = BUDGET_WARN_MAX;
	for (int i = 0; i < n; i++)
		if (c->warn_pct[i] > top && reached(b->used_bytes, c->budget_bytes, c->warn_pct[i]))
			top = c->warn_pct[i];
	/* The budget was raised: what the usage is below again is re-armed. */
	if (b->warned_pct && !reached(b->used_bytes, c->budget_bytes, b->warned_pct))
		b->warned_pct = top;
	if (top <= b->warned_pct)
		return 0;
	b->warned_pct = top;
	return top;
}

int budget_update(struct budget *b, const struct budget_cfg *c, time_t now, uint64_t if_rx,
		  uint64_t if_tx, uint64_t probe_total, int *crossed_pct)
{
	int rolled, top;

	if (crossed_pct)
		*crossed_pct = 0;
	rolled = advance(b, c->reset_day, now);
	if (rolled < 0)
		return rolled;
	count(b, if_rx, if_tx, probe_total);
	top = check_warn(b, c);
	if (crossed_pct)
		*crossed_pct = top;
	return rolled;
}

double budget_used_pct(const struct budget *b, const struct budget_cfg *c)
{
	if (!c->budget_bytes)
		return NAN;
	return (double)b->used_bytes * 100.0 / (double)c->budget_bytes;
}

uint64_t budget_left_bytes(const struct budget *b, const struct budget_cfg *c)
{
	if (!c->budget_bytes)
		return UINT64_MAX;
	return b->used_bytes >= c->budget_bytes ? 0 : c->budget_bytes - b->used_bytes;
}

/* ---- JSON -------------------------------------------------------------------- */

static struct json_object *mb(uint64_t bytes, int decimals)
{
	if (bytes % BUDGET_MB == 0)
		return json_object_new_int64((int64_t)(bytes / BUDGET_MB));
	return json_fixed((double)bytes / (double)BUDGET_MB, decimals);
}

static struct json_object *time_json(time_t t)
{
	char buf[RFC3339_LEN];

	if (t == (time_t)-1)
		return NULL;
	return json_object_new_string(fmt_rfc3339(buf, (int64_t)t * 1000));
}

struct json_object *budget_json(const struct budget *b, const struct budget_cfg *c, time_t now)
{
	struct json_object *o = json_object_new_object();
	int reset_day = clamp_day(c->reset_day);
	struct budget cur = *b;

	if (!b->have_period || now < b->period_start || now >= b->period_end) {
		budget_init(&cur);
		cur.period_start = period_bounds(now, reset_day, &cur.period_end);
		if (cur.period_start == (time_t)-1)
			cur.period_end = -1;
	}
	json_object_object_add(o, "budget_mb", c->budget_bytes ? mb(c->budget_bytes, 1) : NULL);
	json_object_object_add(o, "used_mb", json_fixed((double)cur.used_bytes / BUDGET_MB, 1));
	json_object_object_add(o, "probe_mb", json_fixed((double)cur.probe_bytes / BUDGET_MB, 3));
	json_object_object_add(o, "left_mb", c->budget_bytes ?
			       json_fixed((double)budget_left_bytes(&cur, c) / BUDGET_MB, 1) : NULL);
	json_object_object_add(o, "used_pct", json_fixed(budget_used_pct(&cur, c), 1));
	json_object_object_add(o, "warned_pct", json_object_new_int(cur.warned_pct));
	json_object_object_add(o, "period_start", time_json(cur.period_start));
	json_object_object_add(o, "period_end", time_json(cur.period_end));
	json_object_object_add(o, "reset_day", json_object_new_int(reset_day));
	return o;
}

/* ---- persistence ------------------------------------------------------------- */

static const char *const saved_keys[] = { "period_start", "used_bytes", "probe_bytes",
					  "warned_pct" };

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

int budget_save(const struct budget *b, struct json_object *into)
{
	if (!json_object_is_type(into, json_type_object))
		return -EINVAL;
	if (!b->have_period)
		return -ENODATA;
	json_object_object_add(into, "period_start", json_object_new_int64(b->period_start));
	json_object_object_add(into, "used_bytes", u64_json(b->used_bytes));
	json_object_object_add(into, "probe_bytes", u64_json(b->probe_bytes));
	json_object_object_add(into, "warned_pct", json_object_new_int(b->warned_pct));
	return 0;
}

/* An integer field in min..max (json-c saturates what does not fit an int64). */
static bool get_int(struct json_object *from, const char *key, int64_t min, int64_t max,
		    int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(from, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*out = json_object_get_int64(v);
	return !errno && *out >= min && *out <= max;
}

int budget_load(struct budget *b, struct json_object *from, time_t now, int reset_day)
{
	int64_t start, used, probe, warned;
	time_t cur, end;
	bool any = false;

	if (!json_object_is_type(from, json_type_object))
		return -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(saved_keys); i++)
		any |= json_object_object_get_ex(from, saved_keys[i], NULL);
	if (!any)
		return -ENOENT;
	if (!get_int(from, "period_start", INT64_MIN, INT64_MAX, &start) || !fits_time_t(start) ||
	    !get_int(from, "used_bytes", 0, INT64_MAX, &used) ||
	    !get_int(from, "probe_bytes", 0, INT64_MAX, &probe) ||
	    !get_int(from, "warned_pct", 0, BUDGET_WARN_PCT_MAX, &warned) ||
	    probe > used)	/* the probes' bytes are part of the device's */
		return -EINVAL;
	cur = period_bounds(now, reset_day, &end);
	if (cur == (time_t)-1)
		return -EINVAL;
	if ((time_t)start != cur)
		return -ESTALE;
	budget_init(b);
	b->have_period = true;
	b->period_start = cur;
	b->period_end = end;
	b->reset_day = clamp_day(reset_day);
	b->used_bytes = (uint64_t)used;
	b->probe_bytes = (uint64_t)probe;
	b->warned_pct = (int)warned;
	return 0;
}

/* ---- interface counters -------------------------------------------------------- */

/* What the kernel's dev_valid_name() accepts. */
static bool ifname_valid(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return false;
	return true;
}

static int read_u64_file(const char *path, uint64_t *out)
{
	char buf[COUNTER_FILE_MAX], *end;
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n > 0)
			len += (size_t)n;
	} while ((n > 0 && len < sizeof(buf) - 1) || (n < 0 && errno == EINTR));
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[len] = '\0';
	if (len == sizeof(buf) - 1 || buf[0] < '0' || buf[0] > '9')
		return -EBADMSG;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	if (errno || (*end && strcmp(end, "\n")))
		return -EBADMSG;
	return 0;
}

int budget_read_counters(const char *ifname, uint64_t *rx, uint64_t *tx)
{
	char path[96];
	int err;

	if (!ifname || !ifname_valid(ifname))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_bytes", ifname);
	err = read_u64_file(path, rx);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_bytes", ifname);
	return read_u64_file(path, tx);
}
