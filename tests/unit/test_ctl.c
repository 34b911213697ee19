/* autonomyctl: request building, human output, rpcd plugin logic.
 *
 * Output is captured with open_memstream and compared byte for byte, so a change
 * of layout shows up here first; the replies include nulls, missing fields and
 * values of the wrong type, which must print "-" and never crash.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"

/* ---- helpers ---------------------------------------------------------- */

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

/* Run printer on the reply parsed from text (NULL text: a NULL reply). */
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

static void expect_output(void (*printer)(FILE *, struct json_object *), const char *reply,
			  const char *expected)
{
	char *out = capture(printer, reply);

	assert_string_equal(out, expected);
	free(out);
}

/* config get through ctl_print_config; returns its result, output in *out. */
static int config_get(const char *reply, const char *filter, char **out, char *err,
		      size_t errlen)
{
	struct json_object *r = parse(reply);
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int ret;

	err[0] = 0;
	ret = ctl_print_config(f, r, filter, err, errlen);
	fclose(f);
	json_object_put(r);
	return ret;
}

/* ---- canned replies (docs/API.md shapes) ------------------------------ */

static const char status_reply[] =
	"{\"version\":\"0.1.0\",\"active\":\"fiber\",\"active_since\":\"2026-11-27T14:05:47Z\","
	"\"controller\":\"none\",\"state\":\"observing\",\"uptime_s\":12,"
	"\"members\":[{\"name\":\"fiber\",\"class\":\"wired\",\"device\":\"eth1\","
	"\"status\":\"unknown\",\"eligible\":false,\"weight\":100,\"metered\":false,"
	"\"score\":{\"instant\":null,\"ewma\":null,\"final\":null}},"
	"{\"name\":\"starlink\",\"class\":\"starlink\",\"device\":\"eth2\",\"status\":\"up\","
	"\"eligible\":true,\"score\":{\"instant\":80,\"ewma\":79.96,\"final\":79.94},"
	"\"starlink\":{\"reachable\":true,\"risk\":\"predict:obstruction\","
	"\"risk_reason\":\"obstruction rising\",\"outage\":null,\"obstruction_pct\":2.5,"
	"\"alerts\":[]}}],"
	"\"last_event\":{\"ts\":\"2026-11-27T14:05:47Z\",\"type\":\"daemon\",\"reason\":\"start\","
	"\"from\":null,\"to\":null,\"message\":\"autonomyd 0.1.0 started\"},"
	"\"config\":{\"path\":\"/etc/config/autonomy\",\"loaded\":\"2026-11-27T14:05:47Z\","
	"\"error\":null}}";

static const char members_reply[] =
	"[{\"name\":\"fiber\",\"class\":\"wired\",\"device\":\"eth1\",\"status\":\"up\","
	"\"eligible\":true,\"score\":{\"instant\":95,\"ewma\":94.5,\"final\":94.47},"
	"\"latency_ms\":23.44,\"loss_pct\":0,\"jitter_ms\":1.5,\"targets\":[\"1.1.1.1\"],"
	"\"probes\":{\"sent\":1200,\"received\":1198,\"bytes_sent\":0,\"bytes_received\":0}},"
	"{\"name\":\"lte\",\"class\":\"cellular\",\"device\":\"wwan0\",\"status\":\"unknown\","
	"\"eligible\":false,\"score\":{\"instant\":null,\"ewma\":null,\"final\":null},"
	"\"latency_ms\":null,\"loss_pct\":null,\"jitter_ms\":null,"
	"\"probes\":{\"sent\":0,\"received\":0}}]";

static const char events_reply[] =
	"[{\"ts\":\"2026-11-27T14:07:00Z\",\"type\":\"switch\",\"reason\":\"score\","
	"\"from\":\"fiber\",\"to\":\"lte\",\"message\":\"fiber degraded\"},"
	"{\"ts\":\"2026-11-27T14:05:47Z\",\"type\":\"config\",\"reason\":\"reload\","
	"\"from\":null,\"to\":null,\"message\":\"configuration reloaded\"}]";

static const char info_reply[] =
	"{\"version\":\"0.1.0\",\"build\":{\"compiler\":\"gcc 12.2.0\",\"date\":\"2026-11-27\","
	"\"git\":\"abc123\"},\"features\":[\"unix-socket\",\"http\"],\"pid\":1234,"
	"\"started\":\"2026-11-27T14:05:47Z\",\"uptime_s\":90061,\"rss_kb\":1412,"
	"\"cpu_ms\":{\"user\":4,\"system\":2},\"config_path\":\"/etc/config/autonomy\","
	"\"state_dir\":\"/var/run/autonomy\",\"log_level\":\"info\"}";

static const char config_reply[] =
	"{\"path\":\"/etc/config/autonomy\",\"values\":{"
	"\"main\":{\".type\":\"autonomy\",\".name\":\"main\",\"log_level\":\"info\","
	"\"enabled\":true,\"debug\":false,\"note\":\"it's\",\"gone\":null},"
	"\"fiber\":{\".type\":\"member\",\".name\":\"fiber\",\"device\":\"eth1\","
	"\"weight\":100,\"ratio\":0.5,\"target\":[\"1.1.1.1\",\"8.8.8.8\"],\"empty\":[],"
	"\"secret\":\"********\"}}}";

/* ---- status ----------------------------------------------------------- */

static void test_status(void **state)
{
	(void)state;
	expect_output(ctl_print_status, status_reply,
		      "version:    0.1.0\n"
		      "active:     fiber (since 2026-11-27T14:05:47Z)\n"
		      "controller: none\n"
		      "state:      observing\n"
		      "uptime:     12s\n"
		      "config:     /etc/config/autonomy (loaded 2026-11-27T14:05:47Z)\n"
		      "\n"
		      "NAME      CLASS     DEVICE  STATUS   ELIGIBLE  SCORE\n"
		      "fiber     wired     eth1    unknown  no            -\n"
		      "starlink  starlink  eth2    up       yes        79.9\n"
		      "\n"
		      "starlink: dish connected, obstruction 2.5 %, alerts -, "
		      "at risk: predict:obstruction (obstruction rising)\n"
		      "\n"
		      "last event: 2026-11-27T14:05:47Z  daemon  start  autonomyd 0.1.0 started\n");
}

static void test_status_config_error(void **state)
{
	(void)state;
	expect_output(ctl_print_status,
		      "{\"active\":null,\"active_since\":null,\"controller\":\"route\","
		      "\"state\":\"observing\",\"uptime_s\":3725,\"members\":[],\"last_event\":null,"
		      "\"config\":{\"path\":\"/etc/config/autonomy\",\"loaded\":null,"
		      "\"error\":\"line 3: bad weight 'x'\"}}",
		      "version:      -\n"
		      "active:       -\n"
		      "controller:   route\n"
		      "state:        observing\n"
		      "uptime:       1h 02m 05s\n"
		      "config:       /etc/config/autonomy\n"
		      "config error: line 3: bad weight 'x'\n"
		      "\n"
		      "no members\n"
		      "\n"
		      "last event: -\n");
}

static const char status_empty[] =
	"version:    -\n"
	"active:     -\n"
	"controller: -\n"
	"state:      -\n"
	"uptime:     -\n"
	"config:     -\n"
	"\n"
	"no members\n"
	"\n"
	"last event: -\n";

static void test_status_wrong_shapes(void **state)
{
	(void)state;
	expect_output(ctl_print_status, NULL, status_empty);
	expect_output(ctl_print_status, "[]", status_empty);
	expect_output(ctl_print_status, "42", status_empty);
	expect_output(ctl_print_status, "\"status\"", status_empty);
	expect_output(ctl_print_status,
		      "{\"version\":1,\"active\":true,\"active_since\":5,\"controller\":{},"
		      "\"state\":[],\"uptime_s\":\"12\",\"members\":{\"a\":1},\"last_event\":[1],"
		      "\"config\":\"x\"}",
		      status_empty);
	/* Members and the last event of the wrong inner shape. */
	expect_output(ctl_print_status,
		      "{\"uptime_s\":-5,\"members\":[1,null,{\"name\":7,\"eligible\":\"yes\","
		      "\"score\":12.25}],\"last_event\":{\"type\":\"x\"},"
		      "\"config\":{\"error\":{\"line\":3}}}",
		      "version:      -\n"
		      "active:       -\n"
		      "controller:   -\n"
		      "state:        -\n"
		      "uptime:       -\n"
		      "config:       -\n"
		      "config error: {\"line\":3}\n"
		      "\n"
		      "NAME  CLASS  DEVICE  STATUS  ELIGIBLE  SCORE\n"
		      "-     -      -       -       -             -\n"
		      "-     -      -       -       -             -\n"
		      "-     -      -       -       -          12.2\n"
		      "\n"
		      "last event: -  x  -  -\n");
}

/* ---- members ---------------------------------------------------------- */

static void test_members(void **state)
{
	(void)state;
	expect_output(ctl_print_members, members_reply,
		      "NAME   CLASS     DEVICE  STATUS   ELIGIBLE  SCORE  LATENCY_MS  LOSS_PCT"
		      "  JITTER_MS  SENT  RECEIVED\n"
		      "fiber  wired     eth1    up       yes        94.5        23.4       0.0"
		      "        1.5  1200      1198\n"
		      "lte    cellular  wwan0   unknown  no            -           -         -"
		      "          -     0         0\n");
}

static void test_members_wrong_shapes(void **state)
{
	(void)state;
	expect_output(ctl_print_members, "[]", "no members\n");
	expect_output(ctl_print_members, "{\"members\":[]}", "no members\n");
	expect_output(ctl_print_members, NULL, "no members\n");
	expect_output(ctl_print_members,
		      "[{\"name\":\"x\",\"probes\":[1,2],\"latency_ms\":\"12\",\"loss_pct\":true,"
		      "\"jitter_ms\":{},\"score\":{\"final\":\"9\"}},"
		      "{\"name\":\"y\",\"probes\":{\"sent\":2.0,\"received\":null},\"loss_pct\":100}]",
		      "NAME  CLASS  DEVICE  STATUS  ELIGIBLE  SCORE  LATENCY_MS  LOSS_PCT"
		      "  JITTER_MS  SENT  RECEIVED\n"
		      "x     -      -       -       -             -           -         -"
		      "          -     -         -\n"
		      "y     -      -       -       -             -           -     100.0"
		      "          -     2         -\n");
}

/* Control characters are replaced; UTF-8 names keep the columns aligned. */
static void test_members_sanitized(void **state)
{
	(void)state;
	expect_output(ctl_print_members,
		      "[{\"name\":\"a\\u001b[31mb\",\"class\":\"wired\"},"
		      "{\"name\":\"\\u00e9t\\u00e9\",\"class\":\"wifi\"}]",
		      "NAME     CLASS  DEVICE  STATUS  ELIGIBLE  SCORE  LATENCY_MS  LOSS_PCT"
		      "  JITTER_MS  SENT  RECEIVED\n"
		      "a?[31mb  wired  -       -       -             -           -         -"
		      "          -     -         -\n"
		      "\xc3\xa9t\xc3\xa9      wifi   -       -       -             -           -"
		      "         -          -     -         -\n");
}

/* ---- events ----------------------------------------------------------- */

static void test_events(void **state)
{
	(void)state;
	expect_output(ctl_print_events, events_reply,
		      "2026-11-27T14:07:00Z  switch  score   fiber -> lte  fiber degraded\n"
		      "2026-11-27T14:05:47Z  config  reload                configuration reloaded\n");
	/* No event names an end: no from/to column at all. */
	expect_output(ctl_print_events,
		      "[{\"ts\":\"2026-11-27T14:05:47Z\",\"type\":\"log\",\"reason\":\"level\","
		      "\"from\":null,\"to\":null,\"message\":\"log level set to debug\"}]",
		      "2026-11-27T14:05:47Z  log  level  log level set to debug\n");
}

static void test_events_wrong_shapes(void **state)
{
	(void)state;
	expect_output(ctl_print_events, "[]", "no events\n");
	expect_output(ctl_print_events, "{}", "no events\n");
	expect_output(ctl_print_events, NULL, "no events\n");
	expect_output(ctl_print_events,
		      "[null,{\"ts\":1,\"to\":\"lte\",\"message\":\"m\\nx\"},\"e\"]",
		      "-  -  -            -\n"
		      "-  -  -  - -> lte  m?x\n"
		      "-  -  -            -\n");
}

/* ---- info ------------------------------------------------------------- */

static void test_info(void **state)
{
	(void)state;
	expect_output(ctl_print_info, info_reply,
		      "version:   0.1.0\n"
		      "build:     gcc 12.2.0, git abc123, built 2026-11-27\n"
		      "features:  unix-socket, http\n"
		      "pid:       1234\n"
		      "started:   2026-11-27T14:05:47Z\n"
		      "uptime:    1d 01h 01m 01s\n"
		      "rss:       1412 kB\n"
		      "cpu:       4 ms user, 2 ms system\n"
		      "config:    /etc/config/autonomy\n"
		      "state dir: /var/run/autonomy\n"
		      "log level: info\n");
}

static void test_info_wrong_shapes(void **state)
{
	static const char empty[] =
		"version:   -\n"
		"build:     -, git -, built -\n"
		"features:  -\n"
		"pid:       -\n"
		"started:   -\n"
		"uptime:    -\n"
		"rss:       - kB\n"
		"cpu:       - ms user, - ms system\n"
		"config:    -\n"
		"state dir: -\n"
		"log level: -\n";

	(void)state;
	expect_output(ctl_print_info, NULL, empty);
	expect_output(ctl_print_info, "[1,2]", empty);
	expect_output(ctl_print_info,
		      "{\"build\":\"x\",\"features\":\"unix-socket\",\"pid\":\"1\",\"rss_kb\":null,"
		      "\"cpu_ms\":[4,2],\"uptime_s\":1e300}", empty);
	expect_output(ctl_print_info,
		      "{\"features\":[1,\"a\",null,\"b\"],\"pid\":12.0,\"cpu_ms\":{\"user\":4}}",
		      "version:   -\n"
		      "build:     -, git -, built -\n"
		      "features:  a, b\n"
		      "pid:       12\n"
		      "started:   -\n"
		      "uptime:    -\n"
		      "rss:       - kB\n"
		      "cpu:       4 ms user, - ms system\n"
		      "config:    -\n"
		      "state dir: -\n"
		      "log level: -\n");
}

/* ---- config get ------------------------------------------------------- */

static void test_config_get_all(void **state)
{
	char err[128], *out;

	(void)state;
	assert_int_equal(config_get(config_reply, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out,
			    "autonomy.main=autonomy\n"
			    "autonomy.main.log_level='info'\n"
			    "autonomy.main.enabled='1'\n"
			    "autonomy.main.debug='0'\n"
			    "autonomy.main.note='it'\\''s'\n"
			    "autonomy.fiber=member\n"
			    "autonomy.fiber.device='eth1'\n"
			    "autonomy.fiber.weight='100'\n"
			    "autonomy.fiber.ratio='0.5'\n"
			    "autonomy.fiber.target='1.1.1.1' '8.8.8.8'\n"
			    "autonomy.fiber.secret='********'\n");
	free(out);
}

static void test_config_get_filter(void **state)
{
	char err[128], *out;

	(void)state;
	assert_int_equal(config_get(config_reply, "fiber", &out, err, sizeof(err)), 0);
	assert_string_equal(out,
			    "autonomy.fiber=member\n"
			    "autonomy.fiber.device='eth1'\n"
			    "autonomy.fiber.weight='100'\n"
			    "autonomy.fiber.ratio='0.5'\n"
			    "autonomy.fiber.target='1.1.1.1' '8.8.8.8'\n"
			    "autonomy.fiber.secret='********'\n");
	free(out);

	assert_int_equal(config_get(config_reply, "fiber.target", &out, err, sizeof(err)), 0);
	assert_string_equal(out, "autonomy.fiber.target='1.1.1.1' '8.8.8.8'\n");
	free(out);

	assert_int_equal(config_get(config_reply, "main.enabled", &out, err, sizeof(err)), 0);
	assert_string_equal(out, "autonomy.main.enabled='1'\n");
	free(out);

	/* Known but unset: nothing to show, not an error. */
	assert_int_equal(config_get(config_reply, "main.gone", &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_config_get_unknown(void **state)
{
	char err[128], *out;

	(void)state;
	assert_int_equal(config_get(config_reply, "nosuch", &out, err, sizeof(err)), -1);
	assert_string_equal(err, "no section 'nosuch' in the configuration");
	assert_string_equal(out, "");
	free(out);

	assert_int_equal(config_get(config_reply, "main.nosuch", &out, err, sizeof(err)), -1);
	assert_string_equal(err, "section 'main' has no option 'nosuch'");
	free(out);

	/* uci metadata is not an option */
	assert_int_equal(config_get(config_reply, "main..type", &out, err, sizeof(err)), -1);
	free(out);

	assert_int_equal(config_get("{\"values\":[]}", "main", &out, err, sizeof(err)), -1);
	free(out);

	/* out == NULL only checks (used by --json) */
	{
		struct json_object *r = parse(config_reply);

		assert_int_equal(ctl_print_config(NULL, r, "fiber.weight", err, sizeof(err)), 0);
		assert_int_equal(ctl_print_config(NULL, r, "fiber.x", err, sizeof(err)), -1);
		assert_int_equal(ctl_print_config(NULL, r, NULL, err, sizeof(err)), 0);
		json_object_put(r);
	}
}

static void test_config_get_wrong_shapes(void **state)
{
	char err[128], *out;

	(void)state;
	assert_int_equal(config_get("{}", NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);

	assert_int_equal(config_get("[1]", NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);

	assert_int_equal(config_get("{\"values\":{\"a\":5,\"b\":{\".type\":7,\"l\":[null,true,"
				    "{\"k\":\"v\"},\"x\\ty\"],\"o\":{\"k\":1},\"n\":[null]}}}",
				    NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out,
			    "autonomy.a=-\n"
			    "autonomy.b=-\n"
			    "autonomy.b.l='1' '{\"k\":\"v\"}' 'x?y'\n"
			    "autonomy.b.o='{\"k\":1}'\n");
	free(out);
}

/* ---- results and errors ----------------------------------------------- */

static void test_result(void **state)
{
	(void)state;
	expect_output(ctl_print_result, "{\"ok\":true,\"message\":\"log level set to debug\"}",
		      "log level set to debug\n");
	expect_output(ctl_print_result, "{\"ok\":true,\"changed\":[\"main.log_level\",\"a.b\"]}",
		      "changed: main.log_level, a.b\n");
	expect_output(ctl_print_result, "{\"ok\":true,\"changed\":[]}", "changed: -\n");
	expect_output(ctl_print_result, "{\"ok\":true}", "ok\n");
	expect_output(ctl_print_result, "{\"message\":5}", "-\n");
	expect_output(ctl_print_result, "[]", "-\n");
	expect_output(ctl_print_result, NULL, "-\n");
}

static void test_error(void **state)
{
	(void)state;
	expect_output(ctl_print_error,
		      "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"unknown log level "
		      "'loud' (debug, info, warn, error)\"}}",
		      "autonomyctl: unknown log level 'loud' (debug, info, warn, error) "
		      "(invalid_argument)\n");
	expect_output(ctl_print_error, "{\"error\":\"boom\"}", "autonomyctl: boom (-)\n");
	expect_output(ctl_print_error, "{\"error\":{}}",
		      "autonomyctl: error without a message (-)\n");
	expect_output(ctl_print_error, "{\"error\":null}",
		      "autonomyctl: error without a message (-)\n");
}

static void test_reply_is_error(void **state)
{
	struct json_object *r;

	(void)state;
	r = parse("{\"error\":{\"code\":\"internal\",\"message\":\"x\"}}");
	assert_true(ctl_reply_is_error(r));
	json_object_put(r);
	r = parse("{\"ok\":true}");
	assert_false(ctl_reply_is_error(r));
	json_object_put(r);
	r = parse("[{\"error\":1}]");
	assert_false(ctl_reply_is_error(r));
	json_object_put(r);
	assert_false(ctl_reply_is_error(NULL));
}

static void test_print_dispatch(void **state)
{
	struct ctl_call call = { .cmd = CTL_CMD_CONFIG_GET, .arg = "nosuch" };
	struct json_object *r = parse(config_reply);
	char err[128] = "", *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(ctl_print(f, &call, r, err, sizeof(err)), CTL_EXIT_ERROR);
	assert_string_equal(err, "no section 'nosuch' in the configuration");
	call.arg = "main.log_level";
	assert_int_equal(ctl_print(f, &call, r, err, sizeof(err)), CTL_EXIT_OK);
	call.cmd = CTL_CMD_SETLOG;
	assert_int_equal(ctl_print(f, &call, r, err, sizeof(err)), CTL_EXIT_OK);
	fclose(f);
	assert_string_equal(buf, "autonomy.main.log_level='info'\n-\n");
	free(buf);
	json_object_put(r);
}

/* ---- request building --------------------------------------------------- */

/* Parse a space-separated command line; expect the request (or NULL) and cmd. */
static void expect_request(const char *line, enum ctl_cmd cmd, const char *request,
			   const char *arg)
{
	char copy[256], *argv[16], err[256];
	struct ctl_call call;
	int argc = 0;
	char *w, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	assert_int_equal(ctl_parse(argc, argv, &call, err, sizeof(err)), 0);
	assert_int_equal(call.cmd, cmd);
	if (request)
		assert_string_equal(json_object_to_json_string_ext(call.request,
								   JSON_C_TO_STRING_PLAIN), request);
	else
		assert_null(call.request);
	if (arg)
		assert_string_equal(call.arg, arg);
	else
		assert_null(call.arg);
	ctl_call_free(&call);
}

static void expect_usage_error(int argc, char **argv, const char *msg)
{
	struct ctl_call call;
	char err[256];

	assert_int_equal(ctl_parse(argc, argv, &call, err, sizeof(err)), -1);
	assert_int_equal(call.cmd, CTL_CMD_NONE);
	assert_null(call.request);
	assert_string_equal(err, msg);
}

static void test_request_simple(void **state)
{
	(void)state;
	expect_request("status", CTL_CMD_STATUS, "{\"method\":\"status\",\"params\":{}}", NULL);
	expect_request("members", CTL_CMD_MEMBERS, "{\"method\":\"members\",\"params\":{}}", NULL);
	expect_request("info", CTL_CMD_INFO, "{\"method\":\"info\",\"params\":{}}", NULL);
	expect_request("notify test", CTL_CMD_NOTIFY_TEST,
		       "{\"method\":\"notify.test\",\"params\":{}}", NULL);
	expect_request("notify test phone", CTL_CMD_NOTIFY_TEST,
		       "{\"method\":\"notify.test\",\"params\":{\"channel\":\"phone\"}}", NULL);
	expect_request("events", CTL_CMD_EVENTS, "{\"method\":\"events\",\"params\":{}}", NULL);
	expect_request("events 20", CTL_CMD_EVENTS,
		       "{\"method\":\"events\",\"params\":{\"limit\":20}}", NULL);
	/* The range is the daemon's to check. */
	expect_request("events 5000", CTL_CMD_EVENTS,
		       "{\"method\":\"events\",\"params\":{\"limit\":5000}}", NULL);
}

static void test_request_actions(void **state)
{
	(void)state;
	expect_request("failover", CTL_CMD_FAILOVER,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"failover\"}}", NULL);
	expect_request("failover lte", CTL_CMD_FAILOVER,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"failover\",\"name\":\"lte\"}}",
		       NULL);
	expect_request("restore", CTL_CMD_RESTORE,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"restore\"}}", NULL);
	expect_request("recheck", CTL_CMD_RECHECK,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"recheck\"}}", NULL);
	expect_request("recheck fiber", CTL_CMD_RECHECK,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"recheck\",\"name\":\"fiber\"}}",
		       NULL);
	/* The level is the daemon's to check, so its message lists the choices. */
	expect_request("setlog loud", CTL_CMD_SETLOG,
		       "{\"method\":\"action\",\"params\":{\"cmd\":\"set_level\",\"level\":\"loud\"}}",
		       NULL);
}

static void test_request_config(void **state)
{
	(void)state;
	expect_request("config get", CTL_CMD_CONFIG_GET,
		       "{\"method\":\"config.get\",\"params\":{}}", NULL);
	expect_request("config get main", CTL_CMD_CONFIG_GET,
		       "{\"method\":\"config.get\",\"params\":{}}", "main");
	expect_request("config get main.log_level", CTL_CMD_CONFIG_GET,
		       "{\"method\":\"config.get\",\"params\":{}}", "main.log_level");
	expect_request("config set main.log_level=debug fiber.target=1.1.1.1,8.8.8.8 a.b=x=y c.d=",
		       CTL_CMD_CONFIG_SET,
		       "{\"method\":\"config.set\",\"params\":{\"values\":{\"main.log_level\":"
		       "\"debug\",\"fiber.target\":\"1.1.1.1,8.8.8.8\",\"a.b\":\"x=y\",\"c.d\":\"\"}}}",
		       NULL);
	expect_request("config set fiber.weight=5", CTL_CMD_CONFIG_SET,
		       "{\"method\":\"config.set\",\"params\":{\"values\":{\"fiber.weight\":\"5\"}}}",
		       NULL);
	expect_request("config unset main.note fiber.weight", CTL_CMD_CONFIG_UNSET,
		       "{\"method\":\"config.set\",\"params\":{\"values\":{\"main.note\":null,"
		       "\"fiber.weight\":null}}}", NULL);
}

static void test_request_local(void **state)
{
	(void)state;
	expect_request("help", CTL_CMD_HELP, NULL, NULL);
	expect_request("rpcd list", CTL_CMD_RPCD_LIST, NULL, NULL);
	expect_request("rpcd call status", CTL_CMD_RPCD_CALL, NULL, "status");
	expect_request("rpcd call no.such", CTL_CMD_RPCD_CALL, NULL, "no.such");
	/* as rpcd runs /usr/libexec/rpcd/autonomy */
	expect_request("list", CTL_CMD_RPCD_LIST, NULL, NULL);
	expect_request("call events", CTL_CMD_RPCD_CALL, NULL, "events");
}

static void test_request_usage_errors(void **state)
{
	char *none[] = { NULL };
	char *bogus[] = { "bogus" };
	char *status[] = { "status", "x" };
	char *members[] = { "members", "x" };
	char *info[] = { "info", "x" };
	char *restore[] = { "restore", "x" };
	char *events_x[] = { "events", "x" };
	char *events_0[] = { "events", "0" };
	char *events_neg[] = { "events", "-3" };
	char *events_big[] = { "events", "99999999999" };
	char *events_2[] = { "events", "1", "2" };
	char *failover[] = { "failover", "a", "b" };
	char *recheck[] = { "recheck", "a", "b" };
	char *setlog[] = { "setlog" };
	char *setlog2[] = { "setlog", "a", "b" };
	char *config[] = { "config" };
	char *config_x[] = { "config", "show" };
	char *get2[] = { "config", "get", "a", "b" };
	char *set0[] = { "config", "set" };
	char *set_noeq[] = { "config", "set", "a.b" };
	char *set_nodot[] = { "config", "set", "ab=1" };
	char *set_lead[] = { "config", "set", ".b=1" };
	char *set_trail[] = { "config", "set", "a.=1" };
	char *set_second[] = { "config", "set", "a.b=1", "c=2" };
	char *unset0[] = { "config", "unset" };
	char *unset_eq[] = { "config", "unset", "a.b=1" };
	char *unset_nodot[] = { "config", "unset", "ab" };
	char *rpcd[] = { "rpcd" };
	char *rpcd_call[] = { "rpcd", "call" };
	char *rpcd_list[] = { "rpcd", "list", "x" };
	char *help[] = { "help", "x" };

	(void)state;
	expect_usage_error(0, none, "no command given");
	expect_usage_error(1, bogus, "unknown command 'bogus'");
	expect_usage_error(2, status, "wrong number of arguments (usage: status)");
	expect_usage_error(2, members, "wrong number of arguments (usage: members)");
	expect_usage_error(2, info, "wrong number of arguments (usage: info)");
	expect_usage_error(2, restore, "wrong number of arguments (usage: restore)");
	expect_usage_error(2, events_x, "events: N must be a positive number, not 'x'");
	expect_usage_error(2, events_0, "events: N must be a positive number, not '0'");
	expect_usage_error(2, events_neg, "events: N must be a positive number, not '-3'");
	expect_usage_error(2, events_big,
			   "events: N must be a positive number, not '99999999999'");
	expect_usage_error(3, events_2, "wrong number of arguments (usage: events [N])");
	expect_usage_error(3, failover, "wrong number of arguments (usage: failover [NAME])");
	expect_usage_error(3, recheck, "wrong number of arguments (usage: recheck [NAME])");
	expect_usage_error(1, setlog, "wrong number of arguments (usage: setlog LEVEL)");
	expect_usage_error(3, setlog2, "wrong number of arguments (usage: setlog LEVEL)");
	expect_usage_error(1, config, "config: expected one of get, set, unset");
	expect_usage_error(2, config_x, "config: expected one of get, set, unset");
	expect_usage_error(4, get2,
			   "wrong number of arguments (usage: config get [SECTION[.OPTION]])");
	expect_usage_error(2, set0,
			   "wrong number of arguments (usage: config set K=V [K=V...])");
	expect_usage_error(3, set_noeq, "config set: 'a.b' is not SECTION.OPTION=VALUE");
	expect_usage_error(3, set_nodot, "config set: 'ab=1' is not SECTION.OPTION=VALUE");
	expect_usage_error(3, set_lead, "config set: '.b=1' is not SECTION.OPTION=VALUE");
	expect_usage_error(3, set_trail, "config set: 'a.=1' is not SECTION.OPTION=VALUE");
	expect_usage_error(4, set_second, "config set: 'c=2' is not SECTION.OPTION=VALUE");
	expect_usage_error(2, unset0, "wrong number of arguments (usage: config unset K [K...])");
	expect_usage_error(3, unset_eq, "config unset: 'a.b=1' is not SECTION.OPTION");
	expect_usage_error(3, unset_nodot, "config unset: 'ab' is not SECTION.OPTION");
	expect_usage_error(1, rpcd, "rpcd: expected one of list, call");
	expect_usage_error(2, rpcd_call, "wrong number of arguments (usage: rpcd call METHOD)");
	expect_usage_error(3, rpcd_list, "wrong number of arguments (usage: rpcd list)");
	expect_usage_error(2, help, "wrong number of arguments (usage: help)");
}

/* ---- usage, durations --------------------------------------------------- */

static void test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char *const words[] = {
		"status", "members", "events [N]", "failover [NAME]", "restore", "recheck [NAME]",
		"setlog LEVEL", "config get", "config set K=V", "config unset K", "info",
		"rpcd list", "rpcd call METHOD", "help", "--json", "--socket PATH",
		"--timeout S", "AUTONOMY_SOCKET", CTL_DEFAULT_SOCKET, "exit codes:",
		"  0  success", "  1  ", "  2  usage error", "  3  autonomyd is not reachable",
	};
	size_t i;

	(void)state;
	ctl_usage(f);
	fclose(f);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_non_null(strstr(buf, words[i]));
	free(buf);
}

static void test_duration(void **state)
{
	static const struct { long long s; const char *text; } cases[] = {
		{ 0, "0s" }, { 59, "59s" }, { 60, "1m 00s" }, { 3599, "59m 59s" },
		{ 3600, "1h 00m 00s" }, { 86399, "23h 59m 59s" }, { 86400, "1d 00h 00m 00s" },
		{ 10 * 86400 + 5, "10d 00h 00m 05s" }, { -1, "-" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_fmt_duration(buf, sizeof(buf), cases[i].s);
		assert_string_equal(buf, cases[i].text);
	}
}

/* ---- rpcd ------------------------------------------------------------- */

static void test_rpcd_list(void **state)
{
	static const struct { const char *method; const char *arg; enum json_type type; } sig[] = {
		{ "status", NULL, json_type_object }, { "members", NULL, json_type_object },
		{ "events", "limit", json_type_int }, { "action", "cmd", json_type_string },
		{ "history", "name", json_type_string }, { "history", "since_s", json_type_int },
		{ "history", "resolution", json_type_string },
		{ "action", "name", json_type_string }, { "action", "level", json_type_string },
		{ "config.get", "schema", json_type_boolean },
		{ "config.set", "values", json_type_object }, { "info", NULL, json_type_object },
		{ "notify.test", "channel", json_type_string },
		{ "notify.status", "id", json_type_int },
		{ "mwan3", "cmd", json_type_string }, { "mwan3", "dry_run", json_type_boolean },
	};
	struct json_object *list, *m, *a;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	ctl_rpcd_list(f);
	fclose(f);
	/* One JSON object on one line. */
	assert_non_null(strchr(buf, '\n'));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	list = parse(buf);
	assert_true(json_object_is_type(list, json_type_object));
	assert_int_equal(json_object_object_length(list), 11);
	for (i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		assert_true(json_object_object_get_ex(list, sig[i].method, &m));
		assert_true(json_object_is_type(m, json_type_object));
		if (!sig[i].arg)
			continue;
		assert_true(json_object_object_get_ex(m, sig[i].arg, &a));
		assert_int_equal(json_object_get_type(a), sig[i].type);
	}
	json_object_object_get_ex(list, "status", &m);
	assert_int_equal(json_object_object_length(m), 0);
	json_object_put(list);
	free(buf);
}

static void expect_args(const char *text, const char *expected)
{
	char err[128] = "";
	struct json_object *a = ctl_rpcd_args(text, strlen(text), err, sizeof(err));

	if (!expected) {
		assert_null(a);
		assert_true(err[0] != 0);
		return;
	}
	assert_non_null(a);
	assert_string_equal(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), expected);
	json_object_put(a);
}

static void test_rpcd_args(void **state)
{
	(void)state;
	expect_args("", "{}");
	expect_args(" \n\t", "{}");
	expect_args("{}", "{}");
	expect_args("{\"limit\":5}\n", "{\"limit\":5}");
	expect_args("  {\"a\":[1,2]}  \n", "{\"a\":[1,2]}");
	expect_args("[1]", NULL);
	expect_args("5", NULL);
	expect_args("null", NULL);
	expect_args("\"s\"", NULL);
	expect_args("{\"a\":", NULL);
	expect_args("{}{}", NULL);
	expect_args("{} x", NULL);
	expect_args("nope", NULL);
	/* an embedded NUL is not JSON text */
	{
		char err[64];

		assert_null(ctl_rpcd_args("{}\0{}", 5, err, sizeof(err)));
	}
}

static void test_rpcd_wrap(void **state)
{
	struct json_object *r, *w;

	(void)state;
	r = parse("{\"ok\":true}");
	w = ctl_rpcd_wrap("action", r);
	assert_ptr_equal(w, r);
	json_object_put(w);
	json_object_put(r);

	r = parse("[{\"ts\":\"x\"}]");
	w = ctl_rpcd_wrap("events", r);
	assert_string_equal(json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN),
			    "{\"events\":[{\"ts\":\"x\"}]}");
	json_object_put(w);
	json_object_put(r);

	r = parse("\"odd\"");
	w = ctl_rpcd_wrap("status", r);
	assert_string_equal(json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN),
			    "{\"status\":\"odd\"}");
	json_object_put(w);
	json_object_put(r);

	w = ctl_rpcd_wrap("info", NULL);
	assert_string_equal(json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN),
			    "{\"info\":null}");
	json_object_put(w);

	w = ctl_rpcd_error("unavailable", "x");
	assert_string_equal(json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN),
			    "{\"error\":{\"code\":\"unavailable\",\"message\":\"x\"}}");
	json_object_put(w);
}

/* A transport that answers a canned reply, or fails like an absent daemon. */
struct fake_daemon {
	const char *reply;	/* JSON text, or NULL to fail */
	char *sent;		/* the request it got */
	int calls;
};

static struct json_object *fake_send(void *ctx, struct json_object *req, char *err,
				     size_t errlen)
{
	struct fake_daemon *d = ctx;

	d->calls++;
	free(d->sent);
	d->sent = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	if (!d->reply) {
		snprintf(err, errlen, "/run/x.sock: No such file or directory");
		return NULL;
	}
	return json_tokener_parse(d->reply);
}

/* Run `call method` with stdin text; returns what it printed. */
static char *rpcd_call(struct fake_daemon *d, const char *method, const char *stdin_text)
{
	FILE *in = fmemopen((void *)stdin_text, strlen(stdin_text), "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	/* fmemopen refuses a zero size on older glibc: use an empty file instead. */
	if (!in)
		in = fopen("/dev/null", "r");
	assert_non_null(in);
	assert_int_equal(ctl_rpcd_call(in, out, method, fake_send, d), CTL_EXIT_OK);
	fclose(in);
	fclose(out);
	return buf;
}

static void expect_rpcd(struct fake_daemon *d, const char *method, const char *in,
			const char *sent, const char *printed)
{
	char *out = rpcd_call(d, method, in);

	assert_string_equal(out, printed);
	if (sent)
		assert_string_equal(d->sent, sent);
	free(out);
	free(d->sent);
	d->sent = NULL;
}

static void test_rpcd_call(void **state)
{
	struct fake_daemon d = { .reply = "{\"version\":\"0.1.0\"}" };

	(void)state;
	expect_rpcd(&d, "info", "", "{\"method\":\"info\",\"params\":{}}",
		    "{\"version\":\"0.1.0\"}\n");
	d.reply = "[{\"ts\":\"2026-11-27T14:05:47Z\"}]";
	expect_rpcd(&d, "events", "{\"limit\":5}\n",
		    "{\"method\":\"events\",\"params\":{\"limit\":5}}",
		    "{\"events\":[{\"ts\":\"2026-11-27T14:05:47Z\"}]}\n");
	d.reply = "{\"error\":{\"code\":\"unknown_method\",\"message\":\"no method 'x.y'\"}}";
	expect_rpcd(&d, "x.y", "{}", "{\"method\":\"x.y\",\"params\":{}}",
		    "{\"error\":{\"code\":\"unknown_method\",\"message\":\"no method 'x.y'\"}}\n");
	d.reply = "{\"path\":\"/etc/config/autonomy\"}";
	expect_rpcd(&d, "config.get", "{\"schema\":true}",
		    "{\"method\":\"config.get\",\"params\":{\"schema\":true}}",
		    "{\"path\":\"/etc/config/autonomy\"}\n");
	assert_int_equal(d.calls, 4);
}

static void test_rpcd_call_unreachable(void **state)
{
	struct fake_daemon d = { .reply = NULL };

	(void)state;
	expect_rpcd(&d, "status", "{}", "{\"method\":\"status\",\"params\":{}}",
		    "{\"error\":{\"code\":\"unavailable\",\"message\":\"autonomyd is not running "
		    "(/run/x.sock: No such file or directory)\"}}\n");
}

static void test_rpcd_call_bad_args(void **state)
{
	struct fake_daemon d = { .reply = "{}" };
	char *out;

	(void)state;
	out = rpcd_call(&d, "events", "{\"limit\":");
	assert_string_equal(out, "{\"error\":{\"code\":\"invalid_request\",\"message\":"
			    "\"the arguments are not one JSON object\"}}\n");
	free(out);
	out = rpcd_call(&d, "events", "[5]");
	assert_non_null(strstr(out, "\"invalid_request\""));
	free(out);
	/* Bad arguments never reach the daemon. */
	assert_int_equal(d.calls, 0);
}

static void test_starlink(void **state)
{
	const char *reply =
		"[{\"name\":\"fiber\",\"device\":\"eth2\",\"status\":\"up\"},"
		"{\"name\":\"sl\",\"device\":\"eth1\",\"status\":\"down\",\"starlink\":"
		"{\"address\":\"192.168.100.1:9200\",\"reachable\":true,\"error\":null,"
		"\"penalty\":20.0,\"outage\":{\"cause\":\"NO_SATS\",\"duration_s\":4.2},"
		"\"pop_latency_ms\":38.2,\"pop_drop_pct\":100.0,\"obstruction_pct\":5.0,"
		"\"currently_obstructed\":true,\"alerts\":[\"thermal_throttle\"],\"uptime_s\":3700,"
		"\"id\":\"ut01\",\"hardware\":\"rev4\",\"software\":\"2026.11\","
		"\"history\":{\"samples\":900,\"drop_pct\":1.5,\"latency_ms\":37.9,"
		"\"outages\":2,\"rebooted\":true}}},"
		"{\"name\":\"sl2\",\"device\":\"eth3\",\"status\":\"up\",\"starlink\":"
		"{\"address\":\"192.168.1.1:9000\",\"reachable\":false,\"error\":\"timeout\"}}]";
	char *out = capture(ctl_print_starlink, reply);

	(void)state;
	assert_non_null(strstr(out, "member:"));
	assert_non_null(strstr(out, "sl (eth1, down)"));
	assert_non_null(strstr(out, "NO_SATS for 4.2 s"));
	assert_non_null(strstr(out, "latency 38.2 ms, drop 100.0 %"));
	assert_non_null(strstr(out, "5.0 %, obstructed now"));
	assert_non_null(strstr(out, "thermal_throttle"));
	assert_non_null(strstr(out, "900 samples, drop 1.5 %, latency 37.9 ms, 2 outage(s), rebooted"));
	assert_non_null(strstr(out, "192.168.1.1:9000 (unreachable)"));
	assert_non_null(strstr(out, "timeout"));
	assert_null(strstr(out, "fiber"));
	free(out);
	out = capture(ctl_print_members, reply);
	assert_non_null(strstr(out, "\nsl: dish outage NO_SATS, obstruction 5.0 %, PoP 38.2 ms 100.0 % "
				    "drop, alerts thermal_throttle\n"));
	assert_non_null(strstr(out, "\nsl2: dish unreachable: timeout\n"));
	free(out);
	expect_output(ctl_print_starlink, "[]", "no member of class starlink\n");
	expect_output(ctl_print_starlink, "{}", "no member of class starlink\n");
}

/* mwan3 takeover/release/status: the request, --dry-run, and what is printed. */
static void test_mwan3(void **state)
{
	char *argv[] = { "mwan3", "status" }, err[128] = "";
	struct ctl_call call;

	(void)state;
	expect_request("mwan3 takeover", CTL_CMD_MWAN3_TAKEOVER,
		       "{\"method\":\"mwan3\",\"params\":{\"cmd\":\"takeover\"}}", NULL);
	expect_request("mwan3 release", CTL_CMD_MWAN3_RELEASE,
		       "{\"method\":\"mwan3\",\"params\":{\"cmd\":\"release\"}}", NULL);
	assert_int_equal(ctl_parse(2, argv, &call, err, sizeof(err)), 0);
	assert_int_equal(ctl_set_dry_run(&call, err, sizeof(err)), -1);
	assert_string_equal(err, "--dry-run is only for mwan3 takeover and mwan3 release");
	ctl_call_free(&call);
	argv[1] = "takeover";
	assert_int_equal(ctl_parse(2, argv, &call, err, sizeof(err)), 0);
	assert_int_equal(ctl_set_dry_run(&call, err, sizeof(err)), 0);
	assert_string_equal(json_object_to_json_string_ext(call.request, JSON_C_TO_STRING_PLAIN),
			    "{\"method\":\"mwan3\",\"params\":{\"cmd\":\"takeover\","
			    "\"dry_run\":true}}");
	ctl_call_free(&call);

	expect_output(ctl_print_mwan3,
		      "{\"cmd\":\"takeover\",\"dry_run\":true,\"state\":\"mwan3\","
		      "\"planned_state\":\"autonomy\",\"changes\":[\"uci del_list "
		      "mwan3.wan.track_ip='1.1.1.1'\",\"uci add_list "
		      "mwan3.wan.autonomy_track_ip='1.1.1.1'\"],\"applied\":false,"
		      "\"reload\":{\"command\":\"/etc/init.d/mwan3 reload\",\"started\":false}}",
		      "would run (nothing is changed):\n"
		      "  uci del_list mwan3.wan.track_ip='1.1.1.1'\n"
		      "  uci add_list mwan3.wan.autonomy_track_ip='1.1.1.1'\n"
		      "  uci commit mwan3\n"
		      "mwan3 tracking: mwan3 (after takeover: autonomy)\n");
	expect_output(ctl_print_mwan3,
		      "{\"cmd\":\"release\",\"dry_run\":false,\"state\":\"mwan3\","
		      "\"changes\":[\"uci del_list x\\u001b[2J\"],\"applied\":true,"
		      "\"reload\":{\"command\":\"r\",\"started\":false,\"error\":\"gone\"}}",
		      "changed:\n  uci del_list x?[2J\nmwan3 tracking: mwan3\n"
		      "reload: not done: gone\n");
	expect_output(ctl_print_mwan3,
		      "{\"cmd\":\"status\",\"state\":\"autonomy\",\"changes\":[],"
		      "\"reload\":{\"command\":\"r\",\"started\":\"2026-11-27T20:00:00Z\","
		      "\"running\":false,\"result\":\"ok\"}}",
		      "mwan3 tracking: autonomy\n"
		      "last reload: r (2026-11-27T20:00:00Z): ok\n");
	expect_output(ctl_print_mwan3, "[1]", "mwan3 tracking: -\n");
	expect_output(ctl_print_mwan3, NULL, "mwan3 tracking: -\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwan3),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_starlink),
		cmocka_unit_test(test_status_config_error),
		cmocka_unit_test(test_status_wrong_shapes),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_members_wrong_shapes),
		cmocka_unit_test(test_members_sanitized),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_events_wrong_shapes),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_wrong_shapes),
		cmocka_unit_test(test_config_get_all),
		cmocka_unit_test(test_config_get_filter),
		cmocka_unit_test(test_config_get_unknown),
		cmocka_unit_test(test_config_get_wrong_shapes),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_reply_is_error),
		cmocka_unit_test(test_print_dispatch),
		cmocka_unit_test(test_request_simple),
		cmocka_unit_test(test_request_actions),
		cmocka_unit_test(test_request_config),
		cmocka_unit_test(test_request_local),
		cmocka_unit_test(test_request_usage_errors),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_rpcd_list),
		cmocka_unit_test(test_rpcd_args),
		cmocka_unit_test(test_rpcd_wrap),
		cmocka_unit_test(test_rpcd_call),
		cmocka_unit_test(test_rpcd_call_unreachable),
		cmocka_unit_test(test_rpcd_call_bad_args),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
