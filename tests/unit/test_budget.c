/* The data budget of a metered member with explicit times: billing periods
 * across months, years, leap years and DST (UTC, Europe/Berlin, and a zone
 * whose DST changes at midnight), counting with baselines and counter resets,
 * warnings once per period, rollover, JSON, save/load, and reading the
 * counters of "lo" on this machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/util.h"
#include "telem/budget.h"

/* Berlin's rule as a POSIX TZ string, so the test does not need tzdata. */
#define TZ_BERLIN	"CET-1CEST,M3.5.0,M10.5.0/3"
/* Brazil 2008-2017: DST began at 00:00 on the third Sunday of October (clocks
 * went to 01:00) and ended at 00:00 on the third Sunday of February (back to
 * 23:00 of the Saturday): midnights that do not exist or come late. */
#define TZ_BRAZIL	"BRT3BRST,M10.3.0/0,M2.3.0/0"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int tz_utc(void **state)
{
	(void)state;
	set_tz("UTC0");
	return 0;
}

static time_t at(const char *rfc3339)
{
	int64_t ms = parse_rfc3339(rfc3339);

	assert_true(ms >= 0);
	return (time_t)(ms / 1000);
}

static void period(time_t now, int reset_day, const char *start, const char *end)
{
	char got[RFC3339_LEN];

	assert_string_equal(fmt_rfc3339(got, (int64_t)budget_period_start(now, reset_day) * 1000),
			    start);
	assert_string_equal(fmt_rfc3339(got, (int64_t)budget_period_end(now, reset_day) * 1000),
			    end);
}

static struct budget_cfg cfg(uint64_t budget_bytes, int reset_day)
{
	return (struct budget_cfg){ .budget_bytes = budget_bytes, .reset_day = reset_day,
				    .warn_pct = { 80, 90, 100 }, .nwarn = 3 };
}

/* ---- periods ------------------------------------------------------------------ */

static void test_period_months(void **state)
{
	(void)state;
	/* the example of the contract */
	period(at("2026-03-03T12:00:00Z"), 5, "2026-02-05T00:00:00Z", "2026-03-05T00:00:00Z");
	period(at("2026-03-04T23:59:59Z"), 5, "2026-02-05T00:00:00Z", "2026-03-05T00:00:00Z");
	period(at("2026-03-05T00:00:00Z"), 5, "2026-03-05T00:00:00Z", "2026-04-05T00:00:00Z");
	period(at("2026-03-31T23:59:59Z"), 5, "2026-03-05T00:00:00Z", "2026-04-05T00:00:00Z");
	/* reset day 1: calendar months */
	period(at("2026-07-01T00:00:00Z"), 1, "2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z");
	period(at("2026-06-30T23:59:59Z"), 1, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z");
}

static void test_period_years(void **state)
{
	(void)state;
	period(at("2026-01-10T08:00:00Z"), 15, "2025-12-15T00:00:00Z", "2026-01-15T00:00:00Z");
	period(at("2025-12-31T23:59:59Z"), 15, "2025-12-15T00:00:00Z", "2026-01-15T00:00:00Z");
	period(at("2025-12-31T23:59:59Z"), 1, "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z");
	period(at("2026-01-01T00:00:00Z"), 1, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
	period(at("2026-12-28T00:00:00Z"), 28, "2026-12-28T00:00:00Z", "2027-01-28T00:00:00Z");
	period(at("2027-01-27T23:59:59Z"), 28, "2026-12-28T00:00:00Z", "2027-01-28T00:00:00Z");
}

static void test_period_leap_years(void **state)
{
	(void)state;
	/* reset day 28 in February: a leap year's 29th is still the February period */
	period(at("2024-02-29T12:00:00Z"), 28, "2024-02-28T00:00:00Z", "2024-03-28T00:00:00Z");
	period(at("2024-02-27T12:00:00Z"), 28, "2024-01-28T00:00:00Z", "2024-02-28T00:00:00Z");
	period(at("2025-03-01T00:00:00Z"), 28, "2025-02-28T00:00:00Z", "2025-03-28T00:00:00Z");
	period(at("2024-03-01T00:00:00Z"), 1, "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z");
	period(at("2024-02-29T23:59:59Z"), 1, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z");
	/* 2000 was a leap year, 2100 will not be */
	period(at("2100-02-28T23:59:59Z"), 1, "2100-02-01T00:00:00Z", "2100-03-01T00:00:00Z");
	period(at("2000-02-29T00:00:00Z"), 28, "2000-02-28T00:00:00Z", "2000-03-28T00:00:00Z");
}

static void test_period_clamped(void **state)
{
	(void)state;
	/* out of range reset days are clamped to 1..28 */
	period(at("2026-05-10T00:00:00Z"), 0, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z");
	period(at("2026-05-10T00:00:00Z"), -7, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z");
	period(at("2026-05-30T00:00:00Z"), 31, "2026-05-28T00:00:00Z", "2026-06-28T00:00:00Z");
}

static void berlin_periods(void)
{
	/* March 2026: from 1 March 00:00 CET to 1 April 00:00 CEST, an hour short */
	period(at("2026-03-30T12:00:00Z"), 1, "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z");
	period(at("2026-04-10T12:00:00Z"), 1, "2026-03-31T22:00:00Z", "2026-04-30T22:00:00Z");
	period(at("2026-11-10T12:00:00Z"), 1, "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z");
	/* 00:30 on New Year's Day in Berlin is still 2025 in UTC, but January here */
	period(at("2025-12-31T23:30:00Z"), 1, "2025-12-31T23:00:00Z", "2026-01-31T23:00:00Z");
	period(at("2025-12-31T22:59:59Z"), 1, "2025-11-30T23:00:00Z", "2025-12-31T23:00:00Z");
	/* reset on the very days the clocks change: 28 March 2027, 25 October 2026 */
	period(at("2027-03-28T12:00:00Z"), 28, "2027-03-27T23:00:00Z", "2027-04-27T22:00:00Z");
	period(at("2026-10-25T12:00:00Z"), 25, "2026-10-24T22:00:00Z", "2026-11-24T23:00:00Z");
	period(at("2026-10-24T21:59:59Z"), 25, "2026-09-24T22:00:00Z", "2026-10-24T22:00:00Z");
}

static void test_period_berlin(void **state)
{
	struct tm tm;

	(void)state;
	set_tz(TZ_BERLIN);
	berlin_periods();
	/* and with the system's tzdata */
	set_tz(":Europe/Berlin");
	if (localtime_r(&(time_t){ at("2026-01-01T00:00:00Z") }, &tm) && tm.tm_gmtoff == 3600)
		berlin_periods();
	else
		print_message("no tzdata for Europe/Berlin; only the POSIX rule was tested\n");
}

static void test_period_midnight_dst(void **state)
{
	(void)state;
	set_tz(TZ_BRAZIL);
	/* 16 October 2016 had no 00:00: the day began at 01:00 BRST (03:00 UTC) */
	period(at("2016-10-20T12:00:00Z"), 16, "2016-10-16T03:00:00Z", "2016-11-16T02:00:00Z");
	period(at("2016-10-16T03:00:00Z"), 16, "2016-10-16T03:00:00Z", "2016-11-16T02:00:00Z");
	period(at("2016-10-16T02:59:59Z"), 16, "2016-09-16T03:00:00Z", "2016-10-16T03:00:00Z");
	/* 19 February 2017: at 00:00 BRST clocks went back to 23:00 on the 18th, so
	 * the 19th began at 03:00 UTC; the repeated 23:xx is still the old period */
	period(at("2017-02-19T02:30:00Z"), 19, "2017-01-19T02:00:00Z", "2017-02-19T03:00:00Z");
	period(at("2017-02-19T03:00:00Z"), 19, "2017-02-19T03:00:00Z", "2017-03-19T03:00:00Z");
}

/* 21 August 1993 never happened on Kwajalein (it moved across the date line):
 * the period that starts on the 21st starts when the 22nd began. */
static void test_period_skipped_day(void **state)
{
	struct tm tm;

	(void)state;
	set_tz(":Pacific/Kwajalein");
	if (!localtime_r(&(time_t){ at("1993-09-01T00:00:00Z") }, &tm) || tm.tm_gmtoff != 43200)
		skip();		/* no tzdata */
	period(at("1993-09-01T00:00:00Z"), 21, "1993-08-21T12:00:00Z", "1993-09-20T12:00:00Z");
	period(at("1993-09-20T11:59:59Z"), 21, "1993-08-21T12:00:00Z", "1993-09-20T12:00:00Z");
	period(at("1993-08-21T11:59:59Z"), 21, "1993-07-21T12:00:00Z", "1993-08-21T12:00:00Z");
}

static void test_period_unrepresentable(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(1000, 1);
	time_t huge = sizeof(time_t) >= 8 ? (time_t)INT64_MAX : (time_t)INT32_MAX;
	int crossed = 5;

	(void)state;
	if (sizeof(time_t) < 8)
		skip();
	assert_true(budget_period_start(huge, 1) == (time_t)-1);
	assert_true(budget_period_end(huge, 1) == (time_t)-1);
	budget_init(&b);
	assert_int_equal(budget_update(&b, &c, huge, 1, 1, 1, &crossed), -EINVAL);
	assert_int_equal(crossed, 0);
	assert_false(b.have_period);
	assert_false(b.have_counters);
}

/* ---- counting ------------------------------------------------------------------ */

static void test_baseline(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(0, 1);
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	/* the first reading records the baseline: the interface's past is not ours */
	assert_int_equal(budget_update(&b, &c, t, 5000000, 7000000, 3000, NULL), 0);
	assert_true(b.have_period && b.used_bytes == 0 && b.probe_bytes == 0);
	assert_true(b.period_start == at("2026-03-01T00:00:00Z"));
	assert_int_equal(budget_update(&b, &c, t + 60, 5001000, 7000500, 3100, NULL), 0);
	assert_true(b.used_bytes == 1500 && b.probe_bytes == 100);
	assert_int_equal(budget_update(&b, &c, t + 120, 5001000, 7000500, 3100, NULL), 0);
	assert_true(b.used_bytes == 1500 && b.probe_bytes == 100);
}

static void test_counter_reset(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(0, 1);
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	budget_update(&b, &c, t, 1000000, 2000000, 50000, NULL);
	budget_update(&b, &c, t + 1, 1000100, 2000100, 50010, NULL);
	assert_true(b.used_bytes == 200 && b.probe_bytes == 10);
	/* the modem reconnected: the interface's counters start again from 0 */
	budget_update(&b, &c, t + 2, 300, 400, 50020, NULL);
	assert_true(b.used_bytes == 200 + 700 && b.probe_bytes == 20);
	/* only rx went back (a driver that resets one side); autonomy restarted its count */
	budget_update(&b, &c, t + 3, 100, 500, 5, NULL);
	assert_true(b.used_bytes == 900 + 100 + 100 && b.probe_bytes == 25);
	/* a 32-bit counter wrapping is indistinguishable from a reset: counted as one */
	budget_update(&b, &c, t + 4, 4294967000ULL, 500, 5, NULL);
	budget_update(&b, &c, t + 5, 200, 500, 5, NULL);
	assert_true(b.used_bytes == 1100 + (4294967000ULL - 100) + 200);
}

static void test_forget_counters(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(0, 1);
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	budget_update(&b, &c, t, 1000, 1000, 10, NULL);
	budget_update(&b, &c, t + 1, 2000, 2000, 20, NULL);
	assert_true(b.used_bytes == 2000 && b.probe_bytes == 10);
	budget_forget_counters(&b);
	budget_update(&b, &c, t + 2, 90000, 90000, 900, NULL);	/* a new baseline */
	assert_true(b.used_bytes == 2000 && b.probe_bytes == 10);
	budget_update(&b, &c, t + 3, 90001, 90001, 901, NULL);
	assert_true(b.used_bytes == 2002 && b.probe_bytes == 11);
	/* saturates rather than wraps */
	b.used_bytes = UINT64_MAX - 1;
	budget_update(&b, &c, t + 4, 90101, 90101, 901, NULL);
	assert_true(b.used_bytes == UINT64_MAX);
}

/* ---- thresholds ---------------------------------------------------------------- */

/* One reading with used bytes in total since the baseline of 0. */
static int use(struct budget *b, const struct budget_cfg *c, time_t t, uint64_t total)
{
	int crossed = -1;

	budget_update(b, c, t, total, 0, 0, &crossed);
	assert_true(crossed >= 0);
	return crossed;
}

static void test_thresholds_once(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(1000, 1);
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	assert_int_equal(use(&b, &c, t, 0), 0);
	assert_int_equal(use(&b, &c, t + 1, 799), 0);
	assert_int_equal(use(&b, &c, t + 2, 800), 80);
	assert_int_equal(b.warned_pct, 80);
	assert_int_equal(use(&b, &c, t + 3, 850), 0);
	assert_int_equal(use(&b, &c, t + 4, 899), 0);
	assert_int_equal(use(&b, &c, t + 5, 900), 90);
	assert_int_equal(use(&b, &c, t + 6, 999), 0);
	assert_int_equal(use(&b, &c, t + 7, 1000), 100);
	assert_int_equal(use(&b, &c, t + 8, 5000), 0);
	assert_int_equal(b.warned_pct, 100);
	assert_true(budget_left_bytes(&b, &c) == 0);
	assert_true(fabs(budget_used_pct(&b, &c) - 500.0) < 1e-9);
}

static void test_thresholds_several(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(10000, 1);
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	use(&b, &c, t, 0);
	/* 80 and 90 at once: only 90 is reported, both are spent */
	assert_int_equal(use(&b, &c, t + 1, 9500), 90);
	assert_int_equal(use(&b, &c, t + 2, 9600), 0);
	assert_int_equal(use(&b, &c, t + 3, 10000), 100);
	/* an unsorted list with values that are ignored */
	c = (struct budget_cfg){ .budget_bytes = 10000, .reset_day = 1,
				 .warn_pct = { 100, 0, 50, 2000 }, .nwarn = 4 };
	budget_init(&b);
	use(&b, &c, t, 0);
	assert_int_equal(use(&b, &c, t + 1, 4999), 0);
	assert_int_equal(use(&b, &c, t + 2, 5000), 50);
	assert_int_equal(use(&b, &c, t + 3, 1000000), 100);	/* 2000 % is not a threshold */
	/* nwarn out of range is bounded */
	c.nwarn = 99;
	assert_int_equal(use(&b, &c, t + 4, 2000000), 0);
	c.nwarn = -1;
	assert_int_equal(use(&b, &c, t + 5, 3000000), 0);
}

static void test_thresholds_exact(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(333, 1);	/* 80 % = 266.4 bytes: 267 reaches it */
	time_t t = at("2026-03-10T10:00:00Z");

	(void)state;
	budget_init(&b);
	use(&b, &c, t, 0);
	assert_int_equal(use(&b, &c, t + 1, 266), 0);
	assert_int_equal(use(&b, &c, t + 2, 267), 80);
	/* budgets near 2^64 do not overflow */
	c = cfg(UINT64_MAX, 1);
	budget_init(&b);
	use(&b, &c, t, 0);
	assert_int_equal(use(&b, &c, t + 1, UINT64_MAX - 1), 90);
	b.used_bytes = UINT64_MAX;
	assert_int_equal(use(&b, &c, t + 2, UINT64_MAX - 1), 100);
	c.warn_pct[0] = 1000;	/* 10 times 2^64 is beyond any count */
	c.nwarn = 1;
	b.warned_pct = 0;
	assert_int_equal(use(&b, &c, t + 3, UINT64_MAX - 1), 0);
}

static void test_rollover(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(1000, 5);
	int crossed;

	(void)state;
	budget_init(&b);
	assert_int_equal(budget_update(&b, &c, at("2026-03-04T23:00:00Z"), 0, 0, 0, NULL), 0);
	assert_int_equal(use(&b, &c, at("2026-03-04T23:59:00Z"), 950), 90);
	b.probe_bytes = 40;
	/* the new period starts from zero; the bytes of this reading count in it */
	crossed = -1;
	assert_int_equal(budget_update(&b, &c, at("2026-03-05T00:01:00Z"), 1050, 0, 0, &crossed),
			 BUDGET_ROLLED);
	assert_int_equal(crossed, 0);
	assert_true(b.used_bytes == 100 && b.probe_bytes == 0 && b.warned_pct == 0);
	assert_true(b.period_start == at("2026-03-05T00:00:00Z"));
	assert_true(b.period_end == at("2026-04-05T00:00:00Z"));
	/* and the thresholds fire again */
	assert_int_equal(use(&b, &c, at("2026-03-20T00:00:00Z"), 1050 + 700), 80);
	assert_int_equal(budget_update(&b, &c, at("2026-03-20T00:01:00Z"), 1750, 0, 0, NULL), 0);
	/* a wall clock stepped back into an earlier period is a period of its own */
	assert_int_equal(budget_update(&b, &c, at("2026-01-20T00:00:00Z"), 1750, 0, 0, NULL),
			 BUDGET_ROLLED);
	assert_true(b.used_bytes == 0 && b.period_start == at("2026-01-05T00:00:00Z"));
}

static void test_config_changes(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(1000, 5);
	time_t t = at("2026-03-20T12:00:00Z");

	(void)state;
	budget_init(&b);
	use(&b, &c, t, 0);
	assert_int_equal(use(&b, &c, t + 1, 950), 90);
	/* the budget raised: 47.5 % now, 80 and 90 are armed again */
	c.budget_bytes = 2000;
	assert_int_equal(use(&b, &c, t + 2, 960), 0);
	assert_int_equal(b.warned_pct, 0);
	assert_int_equal(use(&b, &c, t + 3, 1600), 80);
	/* a new threshold list below what was warned does not warn again */
	c.warn_pct[0] = 75;
	c.nwarn = 1;
	assert_int_equal(use(&b, &c, t + 4, 1610), 0);
	c = cfg(2000, 5);
	assert_int_equal(use(&b, &c, t + 5, 1620), 0);
	/* no budget any more: nothing fires, usage is still counted */
	c.budget_bytes = 0;
	assert_int_equal(use(&b, &c, t + 6, 5000), 0);
	assert_true(b.used_bytes == 5000);
	assert_true(isnan(budget_used_pct(&b, &c)));
	assert_true(budget_left_bytes(&b, &c) == UINT64_MAX);
	/* another reset day moves the period and keeps the count */
	c = cfg(0, 10);
	assert_int_equal(budget_update(&b, &c, t + 7, 5000, 0, 0, NULL), 0);
	assert_true(b.used_bytes == 5000 && b.reset_day == 10);
	assert_true(b.period_start == at("2026-03-10T00:00:00Z"));
	assert_true(b.period_end == at("2026-04-10T00:00:00Z"));
}

/* ---- JSON ---------------------------------------------------------------------- */

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v ? json_object_get_string(v) : "null";
}

static void test_json(void **state)
{
	struct budget b;
	struct budget_cfg c = cfg(5000 * BUDGET_MB, 5);
	time_t t = at("2026-03-10T12:00:00Z");
	struct json_object *o;

	(void)state;
	budget_init(&b);
	budget_update(&b, &c, t, 0, 0, 0, NULL);
	budget_update(&b, &c, t + 1, 1000000000, 234567890, 1234567, NULL);
	o = budget_json(&b, &c, t + 2);
	assert_string_equal(str(o, "budget_mb"), "5000");
	assert_string_equal(str(o, "used_mb"), "1234.6");
	assert_string_equal(str(o, "probe_mb"), "1.235");
	assert_string_equal(str(o, "left_mb"), "3765.4");
	assert_string_equal(str(o, "used_pct"), "24.7");
	assert_string_equal(str(o, "warned_pct"), "0");
	assert_string_equal(str(o, "period_start"), "2026-03-05T00:00:00Z");
	assert_string_equal(str(o, "period_end"), "2026-04-05T00:00:00Z");
	assert_string_equal(str(o, "reset_day"), "5");
	json_object_put(o);

	/* the month turned since the last update: those bytes are not this period's */
	o = budget_json(&b, &c, at("2026-04-05T00:00:10Z"));
	assert_string_equal(str(o, "used_mb"), "0.0");
	assert_string_equal(str(o, "period_start"), "2026-04-05T00:00:00Z");
	json_object_put(o);

	/* no budget: nulls, but the usage is reported */
	c.budget_bytes = 0;
	o = budget_json(&b, &c, t + 2);
	assert_string_equal(str(o, "budget_mb"), "null");
	assert_string_equal(str(o, "used_pct"), "null");
	assert_string_equal(str(o, "left_mb"), "null");
	assert_string_equal(str(o, "used_mb"), "1234.6");
	json_object_put(o);

	/* never updated: the period of now, nothing used */
	budget_init(&b);
	o = budget_json(&b, &c, t);
	assert_string_equal(str(o, "used_mb"), "0.0");
	assert_string_equal(str(o, "period_end"), "2026-04-05T00:00:00Z");
	json_object_put(o);
}

/* ---- persistence --------------------------------------------------------------- */

static void test_save_load(void **state)
{
	struct budget b, r;
	struct budget_cfg c = cfg(1000000, 5);
	time_t t = at("2026-03-10T12:00:00Z");
	struct json_object *o = json_object_new_object(), *back;
	int crossed;

	(void)state;
	budget_init(&b);
	budget_init(&r);
	assert_int_equal(budget_save(&b, o), -ENODATA);	/* nothing yet */
	assert_int_equal(json_object_object_length(o), 0);
	budget_update(&b, &c, t, 0, 0, 0, NULL);
	budget_update(&b, &c, t + 1, 850000, 10000, 777, NULL);
	assert_int_equal(b.warned_pct, 80);
	assert_int_equal(budget_save(&b, o), 0);
	assert_int_equal(budget_save(&b, NULL), -EINVAL);

	/* through text, as the state file does it */
	back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_PLAIN));
	assert_non_null(back);
	assert_int_equal(budget_load(&r, back, t + 3600, 5), 0);
	assert_true(r.have_period && r.period_start == b.period_start);
	assert_true(r.period_end == b.period_end && r.reset_day == 5);
	assert_true(r.used_bytes == 860000 && r.probe_bytes == 777 && r.warned_pct == 80);
	/* a restart re-baselines: the first reading adds nothing, 80 % does not repeat */
	assert_false(r.have_counters);
	assert_int_equal(budget_update(&r, &c, t + 3601, 5, 5, 5, &crossed), 0);
	assert_true(r.used_bytes == 860000 && crossed == 0);
	assert_int_equal(budget_update(&r, &c, t + 3602, 40005, 5, 5, &crossed), 0);
	assert_int_equal(crossed, 90);

	/* next month, or another reset day: the saved bytes belong to another period */
	budget_init(&r);
	assert_int_equal(budget_load(&r, back, at("2026-04-05T00:00:00Z"), 5), -ESTALE);
	assert_int_equal(budget_load(&r, back, t, 6), -ESTALE);
	assert_int_equal(budget_load(&r, back, at("2026-03-04T00:00:00Z"), 5), -ESTALE);
	assert_false(r.have_period);
	assert_true(r.used_bytes == 0);
	json_object_put(back);
	json_object_put(o);
}

static int load_text(const char *text, time_t now)
{
	struct json_object *o = json_tokener_parse(text);
	struct budget b;
	int ret;

	budget_init(&b);
	ret = budget_load(&b, o, now, 1);
	assert_true(ret == 0 || (!b.have_period && b.used_bytes == 0));
	json_object_put(o);
	return ret;
}

static void test_load_bad(void **state)
{
	time_t t = at("2026-03-10T12:00:00Z");
	char ok[160];

	(void)state;
	snprintf(ok, sizeof(ok), "{\"period_start\":%lld,\"used_bytes\":5,\"probe_bytes\":1,"
		 "\"warned_pct\":0}", (long long)at("2026-03-01T00:00:00Z"));
	assert_int_equal(load_text(ok, t), 0);
	assert_int_equal(budget_load(&(struct budget){ 0 }, NULL, t, 1), -ENOENT);
	assert_int_equal(load_text("{}", t), -ENOENT);
	assert_int_equal(load_text("[1,2]", t), -ENOENT);
	assert_int_equal(load_text("\"used_bytes\"", t), -ENOENT);
	assert_int_equal(load_text("{\"other\":1}", t), -ENOENT);
	assert_int_equal(load_text("{\"used_bytes\":5}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":\"2026-03-01T00:00:00Z\",\"used_bytes\":5,"
				   "\"probe_bytes\":1,\"warned_pct\":0}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":-5,"
				   "\"probe_bytes\":1,\"warned_pct\":0}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":5.5,"
				   "\"probe_bytes\":1,\"warned_pct\":0}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":5,"
				   "\"probe_bytes\":null,\"warned_pct\":0}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":5,"
				   "\"probe_bytes\":1,\"warned_pct\":5000}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":5,"
				   "\"probe_bytes\":1,\"warned_pct\":true}", t), -EINVAL);
	assert_int_equal(load_text("{\"period_start\":99999999999999999999999,\"used_bytes\":5,"
				   "\"probe_bytes\":1,\"warned_pct\":0}", t), -ESTALE);
	assert_int_equal(load_text("{\"period_start\":1772323200,\"used_bytes\":"
				   "99999999999999999999,\"probe_bytes\":1,\"warned_pct\":0}", t),
			 0);	/* saturated, not wrapped */
}

/* ---- interface counters ---------------------------------------------------------- */

static void test_read_counters(void **state)
{
	uint64_t rx = 1, tx = 1, rx2, tx2;
	static const char *const bad[] = { "", ".", "..", "a/b", "../lo", "lo/", "a:1", "a b",
					   "eth\n", "abcdefghijklmnop" };

	(void)state;
	assert_int_equal(budget_read_counters("lo", &rx, &tx), 0);
	assert_int_equal(budget_read_counters("lo", &rx2, &tx2), 0);
	assert_true(rx2 >= rx && tx2 >= tx);
	/* a 15-character name is fine, it just does not exist */
	assert_int_equal(budget_read_counters("abcdefghijklmno", &rx, &tx), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(budget_read_counters(bad[i], &rx, &tx), -EINVAL);
	assert_int_equal(budget_read_counters(NULL, &rx, &tx), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_period_months, tz_utc),
		cmocka_unit_test_setup(test_period_years, tz_utc),
		cmocka_unit_test_setup(test_period_leap_years, tz_utc),
		cmocka_unit_test_setup(test_period_clamped, tz_utc),
		cmocka_unit_test_setup_teardown(test_period_berlin, tz_utc, tz_utc),
		cmocka_unit_test_setup_teardown(test_period_midnight_dst, tz_utc, tz_utc),
		cmocka_unit_test_setup_teardown(test_period_skipped_day, tz_utc, tz_utc),
		cmocka_unit_test_setup(test_period_unrepresentable, tz_utc),
		cmocka_unit_test_setup(test_baseline, tz_utc),
		cmocka_unit_test_setup(test_counter_reset, tz_utc),
		cmocka_unit_test_setup(test_forget_counters, tz_utc),
		cmocka_unit_test_setup(test_thresholds_once, tz_utc),
		cmocka_unit_test_setup(test_thresholds_several, tz_utc),
		cmocka_unit_test_setup(test_thresholds_exact, tz_utc),
		cmocka_unit_test_setup(test_rollover, tz_utc),
		cmocka_unit_test_setup(test_config_changes, tz_utc),
		cmocka_unit_test_setup(test_json, tz_utc),
		cmocka_unit_test_setup(test_save_load, tz_utc),
		cmocka_unit_test_setup(test_load_bad, tz_utc),
		cmocka_unit_test(test_read_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
