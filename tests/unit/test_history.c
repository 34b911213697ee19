/* The history store: tier roll-ups, min/avg/max, missing values, wrap-around,
 * the resolution a query picks, the memory cap for 1..64 series, resizing,
 * clock jumps, and the snapshot (round trip, old samples, damaged files). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.h"
#include "core/log.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/history.h"
#include "telem/series.h"

static const char *const st_names[] = { "unknown", "up", "degraded", "down" };

/* lat: min/avg/max, loss: avg/max, st: worst */
static const struct hist_layout small = { 3, {
	{ "lat", 1, HIST_MIN | HIST_MAX, NULL, 0 },
	{ "loss", 2, HIST_MAX, NULL, 0 },
	{ "st", 0, HIST_WORST, st_names, 4 },
} };
/* the same first field, another second one */
static const struct hist_layout other = { 2, {
	{ "lat", 1, HIST_MIN | HIST_MAX, NULL, 0 },
	{ "extra", 0, 0, NULL, 0 },
} };

#define T0	1000000020	/* a whole minute */

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static int setup(void **state)
{
	struct hist_want w = { "a", &small };

	(void)state;
	log_set_hook(quiet);
	hist_set_cap(512 << 10);
	hist_set(&w, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hist_fini();
	return 0;
}

static void put(const char *name, int64_t ts, double lat, double loss, double st)
{
	double v[3] = { lat, loss, st };

	hist_append(hist_find(name), ts, v);
}

/* The answer, serialized and parsed again as a client sees it. */
static struct json_object *query(const char *name, int64_t since, int res, int64_t now)
{
	struct json_object *o = hist_query(name, since, res, now), *back;

	assert_non_null(o);
	back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_PLAIN));
	assert_non_null(back);
	json_object_put(o);
	return back;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static struct json_object *point(struct json_object *q, size_t i)
{
	struct json_object *pts = get(q, "points");

	assert_true(i < json_object_array_length(pts));
	return json_object_array_get_idx(pts, i);
}

static size_t npoints(struct json_object *q)
{
	return json_object_array_length(get(q, "points"));
}

static double cell(struct json_object *pt, size_t i)
{
	struct json_object *v = json_object_array_get_idx(pt, i);

	return v ? json_object_get_double(v) : NAN;
}

static bool is_null(struct json_object *pt, size_t i)
{
	return json_object_array_get_idx(pt, i) == NULL;
}

static const char *str(struct json_object *pt, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(pt, i));
}

static const char *ts(int64_t sec, char *buf)
{
	return fmt_rfc3339(buf, sec * 1000);
}

/* ---- roll-ups ------------------------------------------------------------------ */

static void test_rollup_10s(void **state)
{
	struct json_object *q, *p;
	char buf[RFC3339_LEN];

	(void)state;
	for (int i = 0; i < 20; i++)
		put("a", T0 + i, i, i % 2 ? 1.5 : 0.5, i == 13 ? 3 : 1);
	q = query("a", 30, HIST_10S, T0 + 19);
	assert_string_equal(json_object_get_string(get(q, "resolution")), "10s");
	assert_int_equal(npoints(q), 2);
	assert_string_equal(json_object_to_json_string_ext(get(q, "fields"), JSON_PLAIN),
			    "[\"ts\",\"n\",\"lat_min\",\"lat\",\"lat_max\",\"loss\",\"loss_max\",\"st\"]");
	p = point(q, 0);
	assert_string_equal(str(p, 0), ts(T0, buf));
	assert_int_equal((int)cell(p, 1), 10);
	assert_true(cell(p, 2) == 0 && cell(p, 3) == 4.5 && cell(p, 4) == 9);
	assert_true(cell(p, 5) == 1 && cell(p, 6) == 1.5);
	assert_string_equal(str(p, 7), "up");
	p = point(q, 1);
	assert_string_equal(str(p, 0), ts(T0 + 10, buf));
	assert_true(cell(p, 2) == 10 && cell(p, 3) == 14.5 && cell(p, 4) == 19);
	assert_string_equal(str(p, 7), "down");	/* the worst of the ten */
	json_object_put(q);

	/* the minute holds all twenty */
	q = query("a", 60, HIST_1M, T0 + 19);
	assert_int_equal(npoints(q), 1);
	p = point(q, 0);
	assert_true(cell(p, 1) == 20 && cell(p, 2) == 0 && cell(p, 3) == 9.5 && cell(p, 4) == 19);
	json_object_put(q);
}

static void test_rollup_boundaries(void **state)
{
	struct json_object *q;

	(void)state;
	/* 59, 60, 61 s after a whole minute: two minutes, two 10 s buckets */
	for (int i = 59; i <= 61; i++)
		put("a", T0 + i, 10, 0, 1);
	q = query("a", 600, HIST_1M, T0 + 61);
	assert_int_equal(npoints(q), 2);
	assert_int_equal((int)cell(point(q, 0), 1), 1);
	assert_int_equal((int)cell(point(q, 1), 1), 2);
	json_object_put(q);
	q = query("a", 600, HIST_10S, T0 + 61);
	assert_int_equal(npoints(q), 2);
	assert_int_equal((int)cell(point(q, 0), 1), 1);
	assert_int_equal((int)cell(point(q, 1), 1), 2);
	json_object_put(q);
}

static void test_missing_values(void **state)
{
	struct json_object *q, *p;

	(void)state;
	/* latency unknown in half the samples, loss in all of them */
	for (int i = 0; i < 10; i++)
		put("a", T0 + i, i % 2 ? NAN : 20 + i, NAN, 1);
	q = query("a", 10, HIST_10S, T0 + 9);
	p = point(q, 0);
	assert_int_equal((int)cell(p, 1), 10);
	assert_true(cell(p, 2) == 20 && cell(p, 3) == 24 && cell(p, 4) == 28);
	assert_true(is_null(p, 5) && is_null(p, 6));
	json_object_put(q);

	/* raw: an unknown value is null, a zero is 0, a second without a sample is no point */
	put("a", T0 + 12, 0, 0, 0);
	q = query("a", 3, HIST_RAW, T0 + 12);
	assert_int_equal(npoints(q), 2);	/* T0+9 and T0+12: nothing at 10 and 11 */
	p = point(q, 0);
	assert_true(is_null(p, 1) && is_null(p, 2));
	p = point(q, 1);
	assert_false(is_null(p, 1));
	assert_true(cell(p, 1) == 0 && cell(p, 2) == 0);
	assert_string_equal(str(p, 3), "unknown");
	assert_int_equal(json_object_get_int(get(q, "covered_s")), 3);
	json_object_put(q);
}

static void test_quantization(void **state)
{
	struct json_object *q, *p;

	(void)state;
	put("a", T0, 23.44, 12.345, 2);
	put("a", T0 + 1, 1e9, -5, 99);		/* clamped; an unknown status value */
	q = query("a", 10, HIST_RAW, T0 + 1);
	p = point(q, 0);
	assert_true(cell(p, 1) == 23.4);
	assert_true(fabs(cell(p, 2) - 12.35) < 1e-9 || fabs(cell(p, 2) - 12.34) < 1e-9);
	assert_string_equal(str(p, 3), "degraded");
	p = point(q, 1);
	assert_true(cell(p, 1) == 6553.4 && cell(p, 2) == 0);
	assert_true(is_null(p, 3));
	json_object_put(q);
}

static void test_wraparound(void **state)
{
	struct json_object *q;
	char buf[RFC3339_LEN];
	int64_t end = T0 + 2000;

	(void)state;
	assert_int_equal(hist_capacity_s(HIST_RAW), 900);
	for (int64_t t = T0; t <= end; t++)
		put("a", t, (double)(t % 1000) / 10, 0, 1);
	q = query("a", 5000, HIST_RAW, end);
	assert_int_equal(npoints(q), 900);
	assert_string_equal(str(point(q, 0), 0), ts(end - 899, buf));
	assert_true(cell(point(q, 0), 1) == (double)((end - 899) % 1000) / 10);
	assert_string_equal(str(point(q, 899), 0), ts(end, buf));
	assert_int_equal(json_object_get_int(get(q, "covered_s")), 899);
	json_object_put(q);
	q = query("a", 5000, HIST_10S, end);
	assert_int_equal(npoints(q), 201);
	json_object_put(q);
}

/* ---- resolution --------------------------------------------------------------------- */

static void check_pick(int64_t since)
{
	enum hist_tier_id t = hist_pick(since, HIST_AUTO);

	if (hist_capacity_s(t) >= since) {
		for (int f = 0; f < (int)t; f++)
			assert_true(hist_capacity_s(f) < since);
	} else {
		for (int o = 0; o < __HIST_TIERS; o++)
			assert_true(hist_capacity_s(o) < since && hist_capacity_s(o) <= hist_capacity_s(t));
	}
}

static void test_pick(void **state)
{
	static const int64_t since[] = { 1, 60, 900, 901, 3600, 21600, 21601, 86400, 604800,
					 604801, HIST_MAX_SINCE_S };
	struct hist_want many[40];
	char names[40][16];

	(void)state;
	assert_int_equal(hist_pick(60, HIST_AUTO), HIST_RAW);
	assert_int_equal(hist_pick(900, HIST_AUTO), HIST_RAW);
	assert_int_equal(hist_pick(901, HIST_AUTO), HIST_10S);
	assert_int_equal(hist_pick(21600, HIST_AUTO), HIST_10S);
	assert_int_equal(hist_pick(21601, HIST_AUTO), HIST_1M);
	assert_int_equal(hist_pick(604800, HIST_AUTO), HIST_1M);
	assert_int_equal(hist_pick(HIST_MAX_SINCE_S, HIST_AUTO), HIST_1M);
	assert_int_equal(hist_pick(HIST_MAX_SINCE_S, HIST_RAW), HIST_RAW);
	assert_int_equal(hist_pick(1, HIST_1M), HIST_1M);
	assert_int_equal(hist_res_parse("raw"), HIST_RAW);
	assert_int_equal(hist_res_parse("1m"), HIST_1M);
	assert_int_equal(hist_res_parse("auto"), HIST_AUTO);
	assert_int_equal(hist_res_parse("1h"), -2);

	/* shrunk spans: the rule still holds */
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "m%d", i);
		many[i] = (struct hist_want){ names[i], series_member_layout(MEM_CLASS_STARLINK) };
	}
	for (size_t cap = 64 << 10; cap <= (8u << 20); cap *= 2) {
		hist_set_cap(cap);
		hist_set(many, 40);
		assert_true(hist_capacity_s(HIST_RAW) <= 900);
		for (size_t i = 0; i < ARRAY_SIZE(since); i++)
			check_pick(since[i]);
	}
	hist_set_cap(512 << 10);
}

/* ---- the cap ------------------------------------------------------------------------ */

static void test_cap(void **state)
{
	static const size_t caps[] = { 64 << 10, 100 << 10, 512 << 10, 4u << 20, 64u << 20 };
	const struct hist_layout *kinds[] = {
		series_member_layout(MEM_CLASS_WIRED), series_member_layout(MEM_CLASS_STARLINK),
		series_system_layout(), &small, &other,
	};
	const struct hist_layout *layouts[HIST_MAX_SERIES];
	struct hist_want want[HIST_MAX_SERIES];
	char names[HIST_MAX_SERIES][16];
	struct hist_plan p, prev;

	(void)state;
	for (int i = 0; i < HIST_MAX_SERIES; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		layouts[i] = kinds[i % ARRAY_SIZE(kinds)];
		want[i] = (struct hist_want){ names[i], layouts[i] };
	}
	for (size_t c = 0; c < ARRAY_SIZE(caps); c++) {
		hist_set_cap(caps[c]);
		for (int n = 1; n <= HIST_MAX_SERIES; n++) {
			hist_plan(layouts, n, caps[c], &p);
			assert_true(p.bytes <= caps[c]);
			for (int t = 0; t < __HIST_TIERS; t++) {
				assert_true(p.len[t] <= hist_full_len[t]);
				/* the daemon's most: every member and the system */
				if (n <= CFG_MAX_MEMBERS + 1)
					assert_true(p.len[t] > 0);
				if (n > 1)
					assert_true(p.len[t] <= prev.len[t]);
			}
			hist_set(want, n);
			assert_int_equal(hist_count(), n);
			assert_true(hist_used_bytes() == p.bytes);
			prev = p;
		}
	}
	/* a big cap never grows a tier past its full span */
	hist_plan(layouts, 1, 64u << 20, &p);
	assert_int_equal(p.len[HIST_1M], 10080);
	assert_int_equal(p.permille, 1000);
	hist_set_cap(512 << 10);
}

static void test_resize_keeps_newest(void **state)
{
	struct hist_want want[41];
	char names[41][16];
	struct json_object *q;
	int64_t end = T0 + 1000, cap;
	char buf[RFC3339_LEN];

	(void)state;
	for (int64_t t = T0; t <= end; t++)
		put("a", t, (double)(t - T0), 0, 1);
	want[0] = (struct hist_want){ "a", &small };
	for (int i = 1; i < 41; i++) {
		snprintf(names[i], sizeof(names[i]), "x%d", i);
		want[i] = (struct hist_want){ names[i], &small };
	}
	hist_set_cap(64 << 10);
	assert_true(hist_set(want, 41));
	assert_false(hist_set(want, 41));
	cap = hist_capacity_s(HIST_RAW);
	assert_true(cap < 900);
	q = query("a", 900, HIST_RAW, end);
	assert_int_equal(npoints(q), cap);
	assert_string_equal(str(point(q, 0), 0), ts(end - cap + 1, buf));
	assert_true(cell(point(q, (size_t)cap - 1), 1) == 1000);
	json_object_put(q);

	/* back to one series: what survived is still there; new samples go on */
	hist_set(want, 1);
	put("a", end + 1, 5, 0, 1);
	q = query("a", 900, HIST_RAW, end + 1);
	assert_int_equal(npoints(q), cap + 1);
	json_object_put(q);
	/* the running 10 s aggregate went on across the resize */
	q = query("a", 10, HIST_10S, end + 1);
	assert_int_equal((int)cell(point(q, npoints(q) - 1), 1), 2);	/* T0+1000 and +1001 */
	json_object_put(q);
	hist_set_cap(512 << 10);
}

static void test_layout_change(void **state)
{
	struct hist_want w = { "a", &other };
	struct json_object *q, *p;
	double v[2] = { 40, 7 };

	(void)state;
	put("a", T0, 30, 1, 1);
	hist_set(&w, 1);
	hist_append(0, T0 + 1, v);
	q = query("a", 10, HIST_RAW, T0 + 1);
	assert_int_equal(npoints(q), 2);
	p = point(q, 0);
	assert_true(cell(p, 1) == 30 && is_null(p, 2));	/* lat kept, extra unknown */
	p = point(q, 1);
	assert_true(cell(p, 1) == 40 && cell(p, 2) == 7);
	json_object_put(q);
	/* the aggregate of the bucket is taken up from the slot */
	q = query("a", 10, HIST_10S, T0 + 1);
	p = point(q, 0);
	assert_true(cell(p, 1) == 2 && cell(p, 3) == 35);
	json_object_put(q);
	assert_null(hist_query("nope", 10, HIST_AUTO, T0));
}

/* ---- the wall clock ------------------------------------------------------------------ */

static void test_clock_jumps(void **state)
{
	struct json_object *q;

	(void)state;
	for (int i = 0; i < 30; i++)
		put("a", T0 + i, 10, 0, 1);
	/* back 5 s: the raw second is taken, the aggregate counts it in the newest bucket */
	put("a", T0 + 24, 99, 0, 1);
	q = query("a", 60, HIST_RAW, T0 + 29);
	assert_int_equal(npoints(q), 30);
	assert_true(cell(point(q, 24), 1) == 10);
	json_object_put(q);
	q = query("a", 60, HIST_10S, T0 + 29);
	assert_int_equal((int)cell(point(q, 2), 1), 11);
	assert_true(cell(point(q, 2), 4) == 99);
	json_object_put(q);

	/* forward a day: the raw and 10 s tiers hold only the new sample */
	put("a", T0 + 86400, 20, 0, 1);
	q = query("a", 900, HIST_RAW, T0 + 86400);
	assert_int_equal(npoints(q), 1);
	json_object_put(q);
	q = query("a", 86400 * 2, HIST_1M, T0 + 86400);
	assert_int_equal(npoints(q), 2);	/* the old minute and the new one */
	json_object_put(q);

	/* back a day: every tier starts again */
	put("a", T0 + 100, 30, 0, 1);
	for (int t = 0; t < __HIST_TIERS; t++) {
		q = query("a", 86400 * 3, t, T0 + 100);
		assert_int_equal(npoints(q), 1);
		assert_true(cell(point(q, 0), t == HIST_RAW ? 1 : 3) == 30);
		json_object_put(q);
	}
}

/* ---- snapshots --------------------------------------------------------------------------- */

static char *all_tiers(const char *name, int64_t now)
{
	char *s = NULL, *t;

	for (int r = 0; r < __HIST_TIERS; r++) {
		struct json_object *o = hist_query(name, 8 * 86400, r, now);

		assert_non_null(o);
		assert_true(asprintf(&t, "%s%s\n", s ? s : "",
				     json_object_to_json_string_ext(o, JSON_PLAIN)) > 0);
		free(s);
		s = t;
		json_object_put(o);
	}
	return s;
}

static void fill_two(int64_t end, int64_t seconds)
{
	struct hist_want w[2] = { { "a", &small }, { "b", &other } };
	unsigned seed = 7;

	hist_set(w, 2);
	for (int64_t t = end - seconds; t <= end; t++) {
		double v[3] = { (rand_r(&seed) % 5000) / 10.0, (rand_r(&seed) % 100) / 7.0,
				rand_r(&seed) % 4 };

		if (t % 97 == 0)
			v[0] = NAN;
		if (t % 300 < 20)
			continue;	/* gaps */
		hist_append(0, t, v);
		hist_append(1, t, v);
	}
}

static void test_snapshot_round_trip(void **state)
{
	int64_t end = T0 + 7200;
	char *before_a, *before_b, *after, *buf, err[256];
	size_t len;
	struct json_object *q;

	(void)state;
	fill_two(end, 7200);
	before_a = all_tiers("a", end);
	before_b = all_tiers("b", end);
	buf = hist_save(end, &len);
	hist_clear();
	after = all_tiers("a", end);
	assert_string_not_equal(after, before_a);
	free(after);
	assert_int_equal(hist_load(buf, len, end, err, sizeof(err)), 2);
	after = all_tiers("a", end);
	assert_string_equal(after, before_a);
	free(after);
	after = all_tiers("b", end);
	assert_string_equal(after, before_b);
	free(after);
	/* loading into a series that holds samples is refused, quietly */
	assert_int_equal(hist_load(buf, len, end, err, sizeof(err)), 0);

	/* after a restart inside a bucket the bucket goes on: n grows */
	q = query("a", 60, HIST_1M, end);
	len = (size_t)cell(point(q, npoints(q) - 1), 1);
	json_object_put(q);
	put("a", end + 2, 1, 1, 1);
	q = query("a", 60, HIST_1M, end + 2);
	assert_int_equal((size_t)cell(point(q, npoints(q) - 1), 1), len + 1);
	json_object_put(q);

	free(before_a);
	free(before_b);
	free(buf);
}

static void test_snapshot_old_samples_dropped(void **state)
{
	int64_t end = T0 + 7200;
	char *buf, err[256];
	size_t len;
	struct json_object *q;

	(void)state;
	fill_two(end, 7200);
	buf = hist_save(end, &len);

	/* an hour later: no raw samples left, the aggregates are */
	hist_clear();
	assert_int_equal(hist_load(buf, len, end + 3600, err, sizeof(err)), 2);
	q = query("a", 900, HIST_RAW, end + 3600);
	assert_int_equal(npoints(q), 0);
	assert_true(json_object_get_type(get(q, "from")) == json_type_null);
	json_object_put(q);
	q = query("a", 7200, HIST_10S, end + 3600);
	assert_true(npoints(q) > 100);
	json_object_put(q);

	/* eight days later: nothing is recent enough */
	hist_clear();
	assert_int_equal(hist_load(buf, len, end + 8 * 86400, err, sizeof(err)), 2);
	for (int t = 0; t < __HIST_TIERS; t++) {
		q = query("a", HIST_MAX_SINCE_S, t, end + 8 * 86400);
		assert_int_equal(npoints(q), 0);
		json_object_put(q);
	}
	free(buf);
}

static void fix_crc(char *buf, size_t len)
{
	uint32_t c = crc32_ieee((uint8_t *)buf, len - 4);

	for (int i = 0; i < 4; i++)
		buf[len - 4 + (size_t)i] = (char)(c >> (8 * i));
}

static void expect_refused(char *buf, size_t len, int64_t now, const char *why)
{
	char err[256], *before = all_tiers("a", now), *after;

	assert_int_equal(hist_load(buf, len, now, err, sizeof(err)), -1);
	if (why && !strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
	after = all_tiers("a", now);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_snapshot_refused(void **state)
{
	int64_t end = T0 + 600;
	char *buf, *copy, err[256];
	size_t len;

	(void)state;
	fill_two(end, 600);
	buf = hist_save(end, &len);
	hist_clear();
	copy = xmalloc(len);

	/* cut short anywhere */
	for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 97)
		expect_refused(buf, cut, end, NULL);
	/* any flipped byte fails the checksum */
	for (size_t at = 0; at < len; at += 41) {
		memcpy(copy, buf, len);
		copy[at] ^= 0x10;
		expect_refused(copy, len, end, at < 8 ? "not a history snapshot" : "checksum");
	}
	/* well-formed checksums over bad content */
	memcpy(copy, buf, len);
	copy[8] = 2;
	fix_crc(copy, len);
	expect_refused(copy, len, end, "format version 2");
	memcpy(copy, buf, len);
	copy[24] = 0;		/* the first series' name length */
	fix_crc(copy, len);
	expect_refused(copy, len, end, "bad series name");
	memcpy(copy, buf, len);
	copy[24 + 1 + 1] = 0;	/* nfields of series "a" */
	fix_crc(copy, len);
	expect_refused(copy, len, end, "0 fields");
	memcpy(copy, buf, len);
	copy[24 + 1 + 1 + 1 + 1 + 3] = 9;	/* "lat": decimals */
	fix_crc(copy, len);
	expect_refused(copy, len, end, "field lat");
	/* from the future: the clock is not set */
	expect_refused(buf, len, end - 3600, "is the clock set");
	/* something else altogether */
	expect_refused((char *)"config autonomy 'main'\n", 23, end, "not a history snapshot");
	/* and the good file still loads */
	memcpy(copy, buf, len);
	assert_int_equal(hist_load(copy, len, end, err, sizeof(err)), 2);
	free(copy);
	free(buf);
}

static void test_snapshot_other_series(void **state)
{
	struct hist_want w[2] = { { "b", &small }, { "c", &small } };
	int64_t end = T0 + 100;
	char *buf, err[256];
	size_t len, lat;
	struct json_object *q;

	(void)state;
	fill_two(end, 100);
	buf = hist_save(end, &len);
	/* a is gone, b has another layout now (lat is kept), c is new */
	hist_set(w, 2);
	hist_clear();
	assert_int_equal(hist_load(buf, len, end, err, sizeof(err)), 1);
	q = query("b", 100, HIST_RAW, end);
	assert_true(npoints(q) > 50);
	lat = 0;
	for (size_t i = 0; i < npoints(q); i++) {
		lat += !is_null(point(q, i), 1);
		assert_true(is_null(point(q, i), 2) && is_null(point(q, i), 3));
	}
	assert_true(lat > 50);
	json_object_put(q);
	q = query("c", 100, HIST_RAW, end);
	assert_int_equal(npoints(q), 0);
	json_object_put(q);
	free(buf);
}

/* The API method: arguments checked, the answer is the store's. */
static struct json_object *call(const char *params)
{
	struct json_object *p = json_tokener_parse(params), *r, *back;

	r = api_call("history", p);
	back = json_tokener_parse(json_object_to_json_string_ext(r, JSON_PLAIN));
	json_object_put(p);
	json_object_put(r);
	return back;
}

static const char *error_code(struct json_object *r)
{
	struct json_object *e;

	if (!json_object_object_get_ex(r, "error", &e))
		return NULL;
	return json_object_get_string(json_object_object_get(e, "code"));
}

static void test_api(void **state)
{
	static const struct { const char *params, *code; } bad[] = {
		{ "{}", "invalid_argument" },
		{ "{\"name\":\"b\"}", "not_found" },
		{ "{\"name\":\"a\",\"since_s\":0}", "invalid_argument" },
		{ "{\"name\":\"a\",\"since_s\":2678401}", "invalid_argument" },
		{ "{\"name\":\"a\",\"since_s\":-5}", "invalid_argument" },
		{ "{\"name\":\"a\",\"resolution\":\"5m\"}", "invalid_argument" },
		{ "{\"name\":\"a\",\"resolution\":7}", "invalid_argument" },
		{ "{\"name\":[\"a\"]}", "invalid_argument" },
	};
	int64_t now = wall_ms() / 1000;
	struct json_object *r;

	(void)state;
	for (int i = 5; i >= 0; i--)
		put("a", now - i, 10, 0, 1);
	r = call("{\"name\":\"a\",\"since_s\":60}");
	assert_null(error_code(r));
	assert_string_equal(json_object_get_string(get(r, "resolution")), "raw");
	assert_true(npoints(r) >= 5);
	json_object_put(r);
	r = call("{\"name\":\"a\"}");
	assert_string_equal(json_object_get_string(get(r, "resolution")), "10s");
	assert_int_equal(json_object_get_int(get(r, "since_s")), 3600);
	json_object_put(r);
	r = call("{\"name\":\"a\",\"resolution\":\"1m\",\"since_s\":1}");
	assert_string_equal(json_object_get_string(get(r, "resolution")), "1m");
	json_object_put(r);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = call(bad[i].params);
		assert_non_null(error_code(r));
		assert_string_equal(error_code(r), bad[i].code);
		json_object_put(r);
	}
}

static void test_member_layouts(void **state)
{
	const struct hist_layout *l = series_member_layout(MEM_CLASS_STARLINK);

	(void)state;
	assert_int_equal(l->nfields, 8);
	assert_string_equal(l->field[4].name, "status");
	for (int i = 0; i < __MEM_STATUS_MAX; i++)
		assert_string_equal(l->field[4].names[i], mem_status_name((enum mem_status)i));
	assert_int_equal(series_member_layout(MEM_CLASS_WIRED)->nfields, 5);
	assert_true(series_system_layout()->nfields <= HIST_MAX_FIELDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rollup_10s, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollup_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quantization, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_keeps_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_jumps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_old_samples_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_other_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api, setup, teardown),
		cmocka_unit_test(test_member_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
