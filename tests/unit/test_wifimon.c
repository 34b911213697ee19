/* A Wi-Fi member's link as the engine judges it, with a fake clock: the
 * weak-signal penalty, a fast fall as a risk that holds and ends, and
 * readings that are not there (not associated, no nl80211) costing nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "collect/wifimon.h"

static void reading(struct wifimon *w, int dbm, int64_t now)
{
	struct wifi_info i;

	wifi_info_clear(&i);
	i.connected = true;
	i.signal_dbm = dbm;
	i.have = WIFI_HAVE_SIGNAL;
	wifimon_update(w, 0, &i, now);
}

static struct wifimon fresh(void)
{
	struct wifimon w;

	memset(&w, 0, sizeof(w));
	wifi_info_clear(&w.info);
	w.signal_ok = -70;
	w.signal_bad = -85;
	return w;
}

static void test_penalty(void **state)
{
	struct wifimon w = fresh();

	(void)state;
	reading(&w, -60, 1000);
	assert_true(wifimon_penalty(&w, 1000) == 0);
	reading(&w, -77, 3000);				/* half way from ok to bad */
	assert_true(fabs(wifimon_penalty(&w, 3000) - 20 * 7.0 / 15) < 1e-9);
	reading(&w, -95, 5000);
	assert_true(wifimon_penalty(&w, 5000) == 20);
	/* a reading older than three polls is no longer acted on */
	assert_false(wifimon_fresh(&w, 5000 + 3 * WIFIMON_POLL_MS + 1));
	assert_true(wifimon_penalty(&w, 5000 + 3 * WIFIMON_POLL_MS + 1) == 0);
}

static void test_falling_signal_is_a_risk_that_ends(void **state)
{
	struct wifimon w = fresh();
	int64_t t = 1000;

	(void)state;
	reading(&w, -62, t);
	reading(&w, -66, t += 2000);
	assert_null(wifimon_risk(&w, t));		/* lower, but not below ok */
	reading(&w, -74, t += 2000);			/* 12 dB down from -62, below -70 */
	assert_string_equal(wifimon_risk(&w, t), "predict:wifi-signal");
	assert_non_null(strstr(w.risk_why, "-74 dBm from -62 dBm"));
	/* steady at -74: the fall leaves the 30 s window (the -62 was at 1 s), the
	 * risk is held WIFIMON_HOLD_MS after its condition last held, then ends */
	while (t < 1000 + WIFIMON_TREND_MS + WIFIMON_HOLD_MS - 2000) {
		reading(&w, -74, t += 2000);
		assert_non_null(wifimon_risk(&w, t));
	}
	reading(&w, -74, t += 2000);
	reading(&w, -74, t += 2000);
	assert_null(wifimon_risk(&w, t));
}

static void test_missing_readings_cost_nothing(void **state)
{
	struct wifimon w = fresh();
	struct wifi_info none;

	(void)state;
	reading(&w, -90, 1000);
	assert_true(wifimon_penalty(&w, 1000) == 20);
	wifi_info_clear(&none);
	wifimon_update(&w, -ENOENT, &none, 3000);	/* no nl80211 */
	assert_false(wifimon_fresh(&w, 3000));
	assert_true(wifimon_penalty(&w, 3000) == 0);
	assert_null(wifimon_risk(&w, 3000));
	wifimon_update(&w, 0, &none, 5000);		/* not associated */
	assert_false(w.info.connected);
	assert_true(wifimon_penalty(&w, 5000) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_penalty),
		cmocka_unit_test(test_falling_signal_is_a_risk_that_ends),
		cmocka_unit_test(test_missing_readings_cost_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
