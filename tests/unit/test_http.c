/* The HTTP server's pure parts (query strings to parameters, status codes,
 * tokens, paths, content types, the health rule, event stream framing and
 * buffering) and the Prometheus text, without sockets. The module's .c is
 * included so its static helpers are reachable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/api/http.c"

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static struct json_object *param(struct json_object *params, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(params, key, &v));
	return v;
}

static void test_query_params(void **state)
{
	struct json_object *p = json_object_new_object();
	char err[256];

	(void)state;
	/* numbers where the method expects numbers */
	assert_int_equal(http_query_param(p, "events", "limit", "5", err, sizeof(err)), 0);
	assert_true(json_object_is_type(param(p, "limit"), json_type_int));
	assert_int_equal(json_object_get_int(param(p, "limit")), 5);
	assert_int_equal(http_query_param(p, "events", "limit", "6", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "given twice"));
	json_object_put(p);

	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "history", "name", "123", err, sizeof(err)), 0);
	assert_true(json_object_is_type(param(p, "name"), json_type_string));
	assert_string_equal(json_object_get_string(param(p, "name")), "123");
	assert_int_equal(http_query_param(p, "history", "since_s", "600", err, sizeof(err)), 0);
	assert_int_equal(json_object_get_int64(param(p, "since_s")), 600);
	json_object_put(p);

	for (const char *const *bad = (const char *const[]){ "abc", "", " 5", "5x", "+5", "1e3",
							      "99999999999999999999", NULL };
	     *bad; bad++) {
		p = json_object_new_object();
		assert_int_equal(http_query_param(p, "events", "limit", *bad, err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "whole number"));
		json_object_put(p);
	}
	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "events", "limit", NULL, err, sizeof(err)), -1);
	assert_int_equal(http_query_param(p, "events", "limit", "-3", err, sizeof(err)), 0);
	assert_int_equal(json_object_get_int(param(p, "limit")), -3);
	json_object_put(p);

	/* booleans: a bare key is true */
	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "config.get", "schema", NULL, err, sizeof(err)), 0);
	assert_true(json_object_get_boolean(param(p, "schema")));
	json_object_put(p);
	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "config.get", "schema", "0", err, sizeof(err)), 0);
	assert_false(json_object_get_boolean(param(p, "schema")));
	assert_int_equal(http_query_param(p, "config.get", "x", "1", err, sizeof(err)), 0);
	json_object_put(p);
	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "config.get", "schema", "maybe", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "true or false"));
	/* objects only in a body */
	assert_int_equal(http_query_param(p, "config.set", "values", "{}", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "POST"));
	json_object_put(p);

	/* a name the method does not take stays a string: the method refuses it */
	p = json_object_new_object();
	assert_int_equal(http_query_param(p, "status", "verbose", "1", err, sizeof(err)), 0);
	assert_true(json_object_is_type(param(p, "verbose"), json_type_string));
	json_object_put(p);
}

static void test_status_codes(void **state)
{
	(void)state;
	assert_int_equal(http_status_of("invalid_argument"), 400);
	assert_int_equal(http_status_of("invalid_request"), 400);
	assert_int_equal(http_status_of("unauthorized"), 401);
	assert_int_equal(http_status_of("forbidden"), 403);
	assert_int_equal(http_status_of("unknown_method"), 404);
	assert_int_equal(http_status_of("not_found"), 404);
	assert_int_equal(http_status_of("method_not_allowed"), 405);
	assert_int_equal(http_status_of("too_large"), 413);
	assert_int_equal(http_status_of("unavailable"), 503);
	assert_int_equal(http_status_of("internal"), 500);
	assert_int_equal(http_status_of("something_new"), 500);
}

static void test_tokens(void **state)
{
	(void)state;
	assert_string_equal(http_bearer("Bearer abc"), "abc");
	assert_string_equal(http_bearer("  bearer \t s3cret-token"), "s3cret-token");
	assert_null(http_bearer("Basic dXNlcjpwYXNz"));
	assert_null(http_bearer("Bearer"));
	assert_null(http_bearer("Bearer   "));
	assert_null(http_bearer("Bearerabc"));

	assert_true(http_token_equal("correct-horse", "correct-horse"));
	assert_false(http_token_equal("correct-hors", "correct-horse"));
	assert_false(http_token_equal("correct-horse!", "correct-horse"));
	assert_false(http_token_equal("correct-hOrse", "correct-horse"));
	assert_false(http_token_equal("", "correct-horse"));
	assert_false(http_token_equal("", ""));
}

static void test_paths(void **state)
{
	static const char *const good[] = { "/", "/index.html", "/js/app.js", "/a/", "/a..b",
					    "/icons/icon-192.png", NULL };
	static const char *const bad[] = { "", "index.html", "/../etc/passwd", "/a/../../b", "/..",
					   "/.", "/a/./b", "/.hidden", "/a/.git/config",
					   "//etc/passwd", "/a//b", "/a\\..\\b", "/a\001b", NULL };
	char longpath[1100];

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_true(http_path_ok(good[i]));
	for (int i = 0; bad[i]; i++)
		assert_false(http_path_ok(bad[i]));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_false(http_path_ok(longpath));

	assert_string_equal(http_content_type("/index.html"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("/app.JS"), "text/javascript; charset=utf-8");
	assert_string_equal(http_content_type("/style.css"), "text/css; charset=utf-8");
	assert_string_equal(http_content_type("/manifest.webmanifest"),
			    "application/manifest+json");
	assert_string_equal(http_content_type("/icon.svg"), "image/svg+xml");
	assert_string_equal(http_content_type("/README"), "application/octet-stream");
	assert_string_equal(http_content_type("/dir.d/file"), "application/octet-stream");
}

static void check_unescape(const char *in, const char *want)
{
	char buf[64];

	strcpy(buf, in);
	assert_int_equal(unescape(NULL, NULL, buf), strlen(want));
	assert_string_equal(buf, want);
}

static void test_unescape(void **state)
{
	(void)state;
	check_unescape("/a%20b", "/a b");
	check_unescape("/%2e%2E/x", "/../x");
	check_unescape("/a%2fb", "/a/b");
	check_unescape("/sub/%00.html", "/sub/%00.html");
	check_unescape("/100%", "/100%");
	check_unescape("/%4", "/%4");
	check_unescape("/%zz%41", "/%zzA");
	check_unescape("a+b", "a+b");
}

static void test_listen_addresses(void **state)
{
	union sockaddr_any sa;
	socklen_t len;
	bool lo;

	(void)state;
	assert_int_equal(parse_listen("127.0.0.1", 8080, &sa, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(ntohs(sa.in.sin_port), 8080);
	assert_int_equal(parse_listen("127.3.2.1", 1, &sa, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(parse_listen("0.0.0.0", 1, &sa, &len, &lo), 0);
	assert_false(lo);
	assert_int_equal(parse_listen("192.168.1.1", 1, &sa, &len, &lo), 0);
	assert_false(lo);
	assert_int_equal(parse_listen("::1", 1, &sa, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(parse_listen("::ffff:127.0.0.1", 1, &sa, &len, &lo), 0);
	assert_true(lo);
	assert_int_equal(parse_listen("::", 1, &sa, &len, &lo), 0);
	assert_false(lo);
	assert_int_equal(parse_listen("localhost", 1, &sa, &len, &lo), -EINVAL);
}

static struct json_object *status_json(const char *state, const char *active, const char *mstatus)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"active\":%s%s%s,\"state\":\"%s\",\"uptime_s\":3,\"members\":["
		 "{\"name\":\"other\",\"status\":\"down\"},{\"name\":\"wan\",\"status\":\"%s\"}]}",
		 active ? "\"" : "", active ? active : "null", active ? "\"" : "", state, mstatus);
	return json_tokener_parse(buf);
}

static void test_health_rule(void **state)
{
	struct json_object *st;
	char buf[128];

	(void)state;
	st = status_json("normal", "wan", "up");
	daemon_ctx.engine = false;
	assert_string_equal(health_problem(st, buf, sizeof(buf)),
			    "the decision engine is not running");
	daemon_ctx.engine = true;
	assert_null(health_problem(st, buf, sizeof(buf)));
	json_object_put(st);

	st = status_json("degraded", "wan", "degraded");
	assert_null(health_problem(st, buf, sizeof(buf)));
	json_object_put(st);

	st = status_json("starting", "wan", "unknown");
	assert_non_null(strstr(health_problem(st, buf, sizeof(buf)), "starting"));
	json_object_put(st);

	st = status_json("all-down", NULL, "down");
	assert_string_equal(health_problem(st, buf, sizeof(buf)), "no member is active yet");
	json_object_put(st);

	st = status_json("all-down", "wan", "down");
	assert_string_equal(health_problem(st, buf, sizeof(buf)),
			    "the active member wan is down (every member is down)");
	json_object_put(st);
	daemon_ctx.engine = false;
}

static void test_stream_framing_and_bounds(void **state)
{
	static const char want[] =
		"id: 42\nevent: status\ndata: {\"a\":\"line\\nbreak\",\"b\":[1,2]}\n\n";
	struct json_object *o = json_tokener_parse("{\"a\":\"line\\nbreak\",\"b\":[1,2]}");
	struct stream s = { 0 };
	char *msg, buf[64];
	size_t len, total = 0;

	(void)state;
	H.seq = 41;
	msg = sse_message("status", o, &len);
	assert_int_equal(strlen(want), len);
	assert_memory_equal(msg, want, len);
	free(msg);
	json_object_put(o);

	/* what MHD takes is what was pushed, in order */
	stream_push(&s, "hello ", 6);
	stream_push(&s, "world", 5);
	assert_int_equal(stream_read(&s, 0, buf, 4), 4);
	assert_memory_equal(buf, "hell", 4);
	assert_int_equal(stream_read(&s, 4, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "o world", 7);

	/* a client that takes nothing is cut off at the bound, never grown past it */
	memset(buf, 'x', sizeof(buf));
	while (!s.closing) {
		stream_push(&s, buf, sizeof(buf));
		total += sizeof(buf);
		assert_true(s.cap <= HTTP_STREAM_BUFFER);
		assert_true(total <= HTTP_STREAM_BUFFER + sizeof(buf));
	}
	assert_true(total > HTTP_STREAM_BUFFER);
	assert_int_equal(stream_read(&s, 0, buf, sizeof(buf)), MHD_CONTENT_READER_END_WITH_ERROR);
	free(s.buf);

	/* a client that keeps up never is: the buffer is reused */
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 100000; i++) {
		stream_push(&s, "0123456789", 10);
		if (i % 3 == 0)
			while (s.off < s.len)
				assert_true(stream_read(&s, 0, buf, sizeof(buf)) > 0);
		assert_false(s.closing);
	}
	assert_true(s.cap <= 8192 * 4);
	free(s.buf);
}

/* ---- metrics ---- */

static const char *members_json =
	"[{\"name\":\"fib\\\"er\",\"class\":\"wired\",\"device\":\"eth\\\\1\",\"enabled\":true,"
	"\"status\":\"up\",\"eligible\":true,\"active\":true,"
	"\"score\":{\"final\":97.5},\"latency_ms\":23.4,\"loss_pct\":1.0,\"jitter_ms\":null,"
	"\"probes\":{\"sent\":120,\"received\":118,\"bytes_sent\":1234567890123,"
	"\"bytes_received\":5192},\"dampening\":{\"penalty\":0}},"
	"{\"name\":\"sat\",\"class\":\"starlink\",\"device\":\"eth2\",\"enabled\":true,"
	"\"status\":\"flapping\",\"eligible\":false,\"active\":false,\"score\":{\"final\":null},"
	"\"starlink\":{\"reachable\":true,\"outage\":{\"cause\":\"NO_SATS\"},"
	"\"obstruction_pct\":0.4,\"pop_latency_ms\":38.2,\"pop_drop_pct\":0.0,"
	"\"alerts\":[\"a\",\"b\"],\"penalty\":5.0}},"
	"{\"name\":\"lte\",\"class\":\"cellular\",\"device\":\"wwan0\",\"status\":\"down\","
	"\"starlink\":{\"reachable\":false}}]";

static const char *info_json =
	"{\"version\":\"0.1.0\",\"build\":{\"git\":\"abc\\ndef\"},"
	"\"started\":\"2026-11-27T14:05:47Z\","
	"\"resources\":{\"rss_kb\":2048,\"cpu_pct\":0.5,\"cpu_s\":1.25,\"wakeups_per_s\":null,"
	"\"system\":{\"cpu_pct\":12.5,\"mem_total_kb\":1024,\"load1\":0.5}}}";

/* The labels of the three members above, escaped as the exposition has them. */
#define FIBER	"{member=\"fib\\\"er\",class=\"wired\",device=\"eth\\\\1\"}"
#define SAT	"{member=\"sat\",class=\"starlink\",device=\"eth2\"}"
#define LTE	"{member=\"lte\",class=\"cellular\",device=\"wwan0\"}"

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Every sample belongs to the family whose HELP and TYPE came last, and no
 * family appears twice. */
static void check_grouping(const char *text)
{
	char fam[128] = "", seen[8192] = "", line[512], name[160];
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);

		assert_non_null(nl);
		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", fam);
			snprintf(name, sizeof(name), " %s ", fam);
			assert_null(strstr(seen, name));
			strcat(seen, name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%127s", name);
			assert_string_equal(name, fam);
			continue;
		}
		sscanf(line, "%127[^{ ]", name);
		assert_string_equal(name, fam);
	}
}

static void test_metrics_render(void **state)
{
	struct json_object *members = json_tokener_parse(members_json);
	struct json_object *info = json_tokener_parse(info_json);
	struct json_object *status =
		json_tokener_parse("{\"state\":\"failover\",\"config\":{\"error\":\"bad\"}}");
	struct metrics_switches sw = { 0 };
	size_t len;
	char *text;

	(void)state;
	assert_non_null(members);
	assert_non_null(info);
	metrics_count_switch(&sw, "initial");
	metrics_count_switch(&sw, "hard:no-reply");
	metrics_count_switch(&sw, "hard:no-reply");
	text = metrics_render(status, members, info, &sw, &len);
	assert_int_equal(strlen(text), len);
	check_grouping(text);

	/* labels escaped, units converted, null values left out */
	assert_true(has_line(text, "autonomy_member_latency_seconds" FIBER " 0.0234"));
	assert_true(has_line(text, "autonomy_member_loss_ratio" FIBER " 0.01"));
	assert_null(strstr(text, "autonomy_member_jitter_seconds"));
	assert_null(strstr(text, "autonomy_member_score" SAT));
	assert_true(has_line(text,
			     "autonomy_member_probe_sent_bytes_total" FIBER " 1234567890123"));
	assert_true(has_line(text, "# TYPE autonomy_member_probes_sent_total counter"));
	assert_true(has_line(text, "autonomy_member_active" SAT " 0"));
	/* status: a state set, and a status this code does not know still shows */
	assert_true(has_line(text, "autonomy_member_status{member=\"fib\\\"er\",class=\"wired\","
			     "device=\"eth\\\\1\",status=\"up\"} 1"));
	assert_true(has_line(text, "autonomy_member_status{member=\"sat\",class=\"starlink\","
			     "device=\"eth2\",status=\"up\"} 0"));
	assert_true(has_line(text, "autonomy_member_status{member=\"sat\",class=\"starlink\","
			     "device=\"eth2\",status=\"flapping\"} 1"));
	/* the dish */
	assert_true(has_line(text, "autonomy_starlink_outage" SAT " 1"));
	assert_true(has_line(text, "autonomy_starlink_alerts" SAT " 2"));
	assert_true(has_line(text, "autonomy_starlink_obstruction_ratio" SAT " 0.004"));
	assert_true(has_line(text, "autonomy_starlink_pop_latency_seconds" SAT " 0.0382"));
	assert_true(has_line(text, "autonomy_starlink_reachable" LTE " 0"));
	assert_null(strstr(text, "autonomy_starlink_outage" LTE));
	/* the daemon */
	assert_true(has_line(text, "autonomy_build_info{version=\"0.1.0\",git=\"abc\\ndef\"} 1"));
	assert_true(has_line(text, "process_start_time_seconds 1795788347"));
	assert_true(has_line(text, "process_resident_memory_bytes 2097152"));
	assert_true(has_line(text, "process_cpu_seconds_total 1.25"));
	assert_true(has_line(text, "autonomy_process_cpu_usage_ratio 0.005"));
	assert_null(strstr(text, "autonomy_process_wakeups_per_second"));
	assert_true(has_line(text, "autonomy_system_cpu_usage_ratio 0.125"));
	assert_true(has_line(text, "autonomy_system_memory_total_bytes 1048576"));
	assert_null(strstr(text, "autonomy_system_memory_available_bytes"));
	assert_true(has_line(text, "autonomy_state{state=\"failover\"} 1"));
	assert_true(has_line(text, "autonomy_state{state=\"normal\"} 0"));
	assert_true(has_line(text, "autonomy_config_last_reload_successful 0"));
	assert_true(has_line(text, "autonomy_switches_total{reason=\"hard:no-reply\"} 2"));
	assert_true(has_line(text, "autonomy_switches_total{reason=\"initial\"} 1"));
	free(text);

	/* error objects and missing results render nothing of theirs */
	json_object_put(status);
	status = json_tokener_parse("{\"error\":{\"code\":\"internal\",\"message\":\"x\"}}");
	text = metrics_render(status, NULL, status, NULL, &len);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
	json_object_put(status);
	json_object_put(members);
	json_object_put(info);
}

static void test_switch_reasons_bounded(void **state)
{
	struct metrics_switches sw = { 0 };
	char reason[48];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(reason, sizeof(reason), "hard:dish-outage:CAUSE_%d", i);
		metrics_count_switch(&sw, reason);
	}
	metrics_count_switch(&sw, "hard:dish-outage:CAUSE_0");
	assert_int_equal(sw.n, METRICS_MAX_REASONS);
	assert_string_equal(sw.r[0].reason, "hard:dish-outage:CAUSE_0");
	assert_int_equal(sw.r[0].count, 2);
	assert_string_equal(sw.r[METRICS_MAX_REASONS - 1].reason, "other");
	assert_int_equal(sw.r[METRICS_MAX_REASONS - 1].count, 100 - (METRICS_MAX_REASONS - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_params),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_listen_addresses),
		cmocka_unit_test(test_health_rule),
		cmocka_unit_test(test_stream_framing_and_bounds),
		cmocka_unit_test(test_metrics_render),
		cmocka_unit_test(test_switch_reasons_bounded),
	};

	log_set_hook(quiet);
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
