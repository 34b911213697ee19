/* Resource monitoring: the /proc parsers on real and odd texts, and the
 * "resources" object of info on this machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "telem/resource.h"

static void test_statm(void **state)
{
	double kb = 0;

	(void)state;
	assert_true(res_parse_statm("2100 830 600 50 0 400 0\n", 4, &kb));
	assert_true(kb == 3320);
	assert_false(res_parse_statm("", 4, &kb));
	assert_false(res_parse_statm("2100\n", 4, &kb));
	assert_false(res_parse_statm("x 5", 4, &kb));
	assert_false(res_parse_statm("-1 -5", 4, &kb));
}

static void test_stat(void **state)
{
	uint64_t busy = 0, total = 0;

	(void)state;
	assert_true(res_parse_stat("cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4\n", &busy, &total));
	assert_true(total == 1000 && busy == 160);	/* guest (7) is already in user */
	assert_true(res_parse_stat("cpu 10 0 10 80\n", &busy, &total));	/* old kernels */
	assert_true(total == 100 && busy == 20);
	assert_false(res_parse_stat("cpu0 1 2 3 4\n", &busy, &total));
	assert_false(res_parse_stat("cpu 1 2 3\n", &busy, &total));
	assert_false(res_parse_stat("cpu 1 2 x 4\n", &busy, &total));
	assert_false(res_parse_stat("", &busy, &total));
	assert_false(res_parse_stat("cpu 99999999999999999999999 1 1 1\n", &busy, &total));
}

static void test_meminfo(void **state)
{
	double total, avail;

	(void)state;
	assert_true(res_parse_meminfo("MemTotal:       24684084 kB\nMemFree:        23000000 kB\n"
				      "MemAvailable:   24276696 kB\nBuffers: 1 kB\n", &total, &avail));
	assert_true(total == 24684084 && avail == 24276696);
	/* before Linux 3.14 there is no MemAvailable */
	assert_true(res_parse_meminfo("MemTotal: 1000 kB\nMemFree: 10 kB", &total, &avail));
	assert_true(total == 1000 && isnan(avail));
	assert_false(res_parse_meminfo("MemTotalx: 5 kB\nMemTotal: 5 MB\nMemAvailable: x kB\n",
				       &total, &avail));
	assert_true(isnan(total) && isnan(avail));
	assert_false(res_parse_meminfo("", &total, &avail));
}

static void test_loadavg(void **state)
{
	double l[3];

	(void)state;
	assert_true(res_parse_loadavg("0.11 0.10 0.09 1/123 4567\n", l));
	assert_true(l[0] == 0.11 && l[1] == 0.10 && l[2] == 0.09);
	assert_false(res_parse_loadavg("0.11 0.10\n", l));
	assert_true(isnan(l[0]) && isnan(l[2]));
	assert_false(res_parse_loadavg("nan 1 1", l));
	assert_false(res_parse_loadavg("1x 1 1", l));
	assert_false(res_parse_loadavg("", l));
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v ? json_object_get_double(v) : NAN;
}

static void test_json(void **state)
{
	struct json_object *o, *sys;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)state;
	res_init(NULL);
	o = res_json();
	/* the first reading: levels are known, rates are not yet */
	assert_true(num(o, "rss_kb") > 0);
	assert_true(num(o, "cpu_s") >= 0);
	assert_true(isnan(num(o, "cpu_pct")));
	assert_true(isnan(num(o, "wakeups_per_s")));
	assert_true(json_object_object_get_ex(o, "system", &sys));
	assert_true(num(sys, "mem_total_kb") > 0);
	assert_true(num(sys, "mem_available_kb") <= num(sys, "mem_total_kb"));
	assert_true(num(sys, "load1") >= 0 && num(sys, "load15") >= 0);
	assert_true(isnan(num(sys, "cpu_pct")));
	json_object_put(o);

	for (volatile unsigned long i = 0; i < 20000000; i++)
		;
	nanosleep(&ts, NULL);
	res_update();
	o = res_json();
	assert_true(num(o, "cpu_pct") > 0 && num(o, "cpu_pct") <= 100.5);
	assert_true(isnan(num(o, "wakeups_per_s")));	/* no loop */
	json_object_object_get_ex(o, "system", &sys);
	assert_true(num(sys, "cpu_pct") >= 0 && num(sys, "cpu_pct") <= 100);
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(o, "cpu_pct"), 0),
			    json_object_get_string(json_object_object_get(o, "cpu_pct")));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statm),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_loadavg),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
