/* autonomyctl history and the resource/history lines of info: request
 * building, SINCE parsing, and the human output, including replies of the
 * wrong shape (they must print "-", never crash). */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"

static char *capture(void (*printer)(FILE *, struct json_object *), const char *text)
{
	struct json_object *reply = text ? json_tokener_parse(text) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	printer(f, reply);
	fclose(f);
	json_object_put(reply);
	return buf;
}

static void expect_request(int argc, char **argv, const char *json)
{
	struct ctl_call call;
	char err[256];

	assert_int_equal(ctl_parse(argc, argv, &call, err, sizeof(err)), 0);
	assert_int_equal(call.cmd, CTL_CMD_HISTORY);
	assert_string_equal(json_object_to_json_string_ext(call.request, JSON_C_TO_STRING_PLAIN),
			    json);
	ctl_call_free(&call);
}

static void test_request(void **state)
{
	char *a[] = { "history", "fiber" };
	char *b[] = { "history", "fiber", "15m" };
	char *c[] = { "history", "system", "7d" };
	char *bad[] = { "history", "fiber", "soon" };
	char *none[] = { "history" };
	char *many[] = { "history", "a", "1", "2" };
	struct ctl_call call;
	char err[256];

	(void)state;
	expect_request(2, a, "{\"method\":\"history\",\"params\":{\"name\":\"fiber\"}}");
	expect_request(3, b, "{\"method\":\"history\",\"params\":{\"name\":\"fiber\",\"since_s\":900}}");
	expect_request(3, c,
		       "{\"method\":\"history\",\"params\":{\"name\":\"system\",\"since_s\":604800}}");
	assert_int_equal(ctl_parse(3, bad, &call, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not 'soon'"));
	assert_int_equal(ctl_parse(1, none, &call, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "history NAME [SINCE]"));
	assert_int_equal(ctl_parse(4, many, &call, err, sizeof(err)), -1);
}

static void test_since(void **state)
{
	static const struct { const char *s; long long v; } cases[] = {
		{ "1", 1 }, { "900", 900 }, { "90s", 90 }, { "15m", 900 }, { "6h", 21600 },
		{ "7d", 604800 }, { "0", -1 }, { "-5", -1 }, { "m", -1 }, { "5x", -1 },
		{ "5mm", -1 }, { "", -1 }, { " 5", -1 }, { "99999999999999999999", -1 },
		{ "999999999999999999d", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ctl_parse_since(cases[i].s), cases[i].v);
}

static void test_print(void **state)
{
	char *out;

	(void)state;
	out = capture(ctl_print_history,
		"{\"name\":\"fiber\",\"resolution\":\"10s\",\"step_s\":10,\"since_s\":3600,"
		"\"covered_s\":20,\"fields\":[\"ts\",\"n\",\"latency_ms\",\"status\"],"
		"\"points\":[[\"2026-11-27T14:05:40Z\",10,23.4,\"up\"],"
		"[\"2026-11-27T14:05:50Z\",3,null,\"down\"]]}");
	assert_string_equal(out,
		"fiber: 2 points at 10s resolution over the last 1h 00m 00s (samples cover 20s)\n"
		"\n"
		"TIME                   N  LATENCY_MS  STATUS\n"
		"2026-11-27T14:05:40Z  10        23.4      up\n"
		"2026-11-27T14:05:50Z   3           -    down\n");
	free(out);

	out = capture(ctl_print_history,
		"{\"name\":\"x\",\"resolution\":\"raw\",\"since_s\":60,\"covered_s\":0,"
		"\"fields\":[\"ts\"],\"points\":[]}");
	assert_string_equal(out,
			    "x: 0 points at raw resolution over the last 1m 00s (samples cover 0s)\n");
	free(out);

	/* wrong shapes: "-" everywhere, no crash */
	out = capture(ctl_print_history, NULL);
	assert_string_equal(out, "-: 0 points at - resolution over the last - (samples cover -)\n");
	free(out);
	out = capture(ctl_print_history, "{\"points\":[1,[2,\"\\u001b[31m\"]],\"fields\":[7,\"b\"]}");
	assert_non_null(strstr(out, "2 points"));
	assert_non_null(strstr(out, "?[31m"));
	free(out);
	out = capture(ctl_print_history, "{\"points\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]],"
				"\"fields\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\","
				"\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\"]}");
	assert_non_null(strstr(out, "16"));
	assert_null(strstr(out, "17"));
	free(out);
}

static void test_info_lines(void **state)
{
	char *out;

	(void)state;
	out = capture(ctl_print_info,
		"{\"resources\":{\"rss_kb\":3300,\"cpu_pct\":0.05,\"cpu_s\":1.5,\"wakeups_per_s\":12.5,"
		"\"system\":{\"cpu_pct\":3.5,\"mem_total_kb\":1000,\"mem_available_kb\":600,"
		"\"load1\":0.1,\"load5\":null,\"load15\":0.25}},"
		"\"history\":{\"max_ram_kb\":512,\"used_bytes\":524000,\"series\":3,"
		"\"span_s\":{\"raw\":540,\"10s\":12930,\"1m\":362100}}}");
	assert_non_null(strstr(out, "cpu now:   0.05 % of one core, 12.5 wakeups/s\n"));
	assert_non_null(strstr(out, "system:    cpu 3.5 %, 600 of 1000 kB memory available, "
				    "load 0.1 - 0.25\n"));
	assert_non_null(strstr(out, "history:   3 series, 524000 bytes of 512 kB; spans raw 9m 00s, "
				    "10s 3h 35m 30s, 1m 4d 04h 35m 00s\n"));
	free(out);
	/* an older daemon: no such lines */
	out = capture(ctl_print_info, "{\"version\":\"0.1.0\"}");
	assert_null(strstr(out, "history:"));
	assert_null(strstr(out, "cpu now:"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_info_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
