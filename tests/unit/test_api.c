/* The JSON method layer: request parsing, the method table, argument checks,
 * and each method's answer, against the real modules without a loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api.h"
#include "config/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/evlog.h"

static char path[64];

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static int setup(void **state)
{
	static struct config c;
	char err[CFG_ERR_LEN];
	FILE *f;
	int fd;

	(void)state;
	log_set_hook(quiet);
	strcpy(path, "/tmp/autonomy-api-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("config autonomy 'main'\n\toption log_level 'warn'\n"
	      "config member 'fiber'\n\toption device 'eth1'\n\toption weight '80'\n"
	      "config member 'lte'\n\toption device 'wwan0'\n\toption metered '1'\n", f);
	fclose(f);
	memset(&daemon_ctx, 0, sizeof(daemon_ctx));
	strcpy(daemon_ctx.cfg_path, path);
	strcpy(daemon_ctx.state_dir, "/tmp");
	daemon_ctx.started_mono = mono_ms();
	daemon_ctx.started_wall = wall_ms();
	evlog_init();
	mem_init();
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), 0);
	daemon_apply(&c);
	evlog_add("daemon", "start", NULL, NULL, "started");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mem_fini();
	evlog_fini();
	unlink(path);
	log_set_hook(NULL);
	return 0;
}

/* Sends one line, checks it is one newline-terminated JSON reply, returns it. */
static struct json_object *call_line(const char *line)
{
	size_t len;
	char *out = api_handle_line(line, strlen(line), &len);
	struct json_object *o;

	assert_int_equal(strlen(out), len);
	assert_true(len > 0 && out[len - 1] == '\n');
	assert_null(memchr(out, '\n', len - 1));
	o = json_tokener_parse(out);
	assert_non_null(o);
	free(out);
	return o;
}

static const char *get_str(struct json_object *o, const char *path_)
{
	char buf[128], *save = NULL;

	strcpy(buf, path_);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return json_object_get_string(o);
}

static void expect_error(const char *line, const char *code, const char *msg_part)
{
	struct json_object *o = call_line(line);
	const char *c = get_str(o, "error.code"), *m = get_str(o, "error.message");

	if (!c || strcmp(c, code) || !m || !strstr(m, msg_part))
		fail_msg("%s -> %s", line, json_object_to_json_string(o));
	json_object_put(o);
}

static void test_bad_requests(void **state)
{
	(void)state;
	expect_error("hello\n", "invalid_request", "not valid JSON");
	expect_error("{\"method\":\n", "invalid_request", "not valid JSON");
	expect_error("[1,2]\n", "invalid_request", "JSON object");
	expect_error("\"status\"\n", "invalid_request", "JSON object");
	expect_error("{}\n", "invalid_request", "no method");
	expect_error("{\"method\":5}\n", "invalid_request", "no method");
	expect_error("{\"method\":\"status\",\"params\":[]}\n", "invalid_request", "params must be an object");
	expect_error("{\"method\":\"status\",\"id\":1}\n", "invalid_request", "unknown request field 'id'");
	expect_error("{\"method\":\"status\"} trailing\n", "invalid_request", "not valid JSON");
	expect_error("{\"method\":\"nope\"}\n", "unknown_method", "unknown method 'nope'");
	expect_error("{\"method\":\"status\",\"params\":{\"x\":1}}\n", "invalid_argument",
		     "status takes no parameter 'x'");
	expect_error("{\"method\":\"events\",\"params\":{\"limit\":\"5\"}}\n", "invalid_argument",
		     "'limit' must be a number");
	expect_error("{\"method\":\"events\",\"params\":{\"limit\":0}}\n", "invalid_argument",
		     "between 1 and");
	expect_error("{\"method\":\"events\",\"params\":{\"limit\":1000000}}\n", "invalid_argument",
		     "between 1 and");
}

static void test_nul_and_oversize(void **state)
{
	size_t len, big = API_MAX_REQUEST + 10;
	char *line = malloc(big), *out;

	(void)state;
	out = api_handle_line("{\"method\":\"status\"}\0x\n", 22, &len);
	assert_non_null(strstr(out, "invalid_request"));
	free(out);
	memset(line, ' ', big);
	line[big - 1] = '\n';
	out = api_handle_line(line, big, &len);
	assert_non_null(strstr(out, "too_large"));
	free(out);
	free(line);
}

static void test_status(void **state)
{
	struct json_object *o = call_line("{\"method\":\"status\",\"params\":{}}\n"), *members, *m, *v;

	(void)state;
	assert_true(json_object_object_get_ex(o, "active", &v));
	assert_null(v);
	assert_string_equal(get_str(o, "controller"), "none");
	assert_string_equal(get_str(o, "state"), "observing");
	assert_string_equal(get_str(o, "version"), AUTONOMY_VERSION);
	assert_string_equal(get_str(o, "config.path"), path);
	assert_string_equal(get_str(o, "last_event.reason"), "start");
	assert_true(json_object_object_get_ex(o, "members", &members));
	assert_int_equal(json_object_array_length(members), 2);
	m = json_object_array_get_idx(members, 0);
	assert_string_equal(get_str(m, "name"), "fiber");
	assert_string_equal(get_str(m, "class"), "wired");
	assert_string_equal(get_str(m, "status"), "unknown");
	assert_true(json_object_object_get_ex(m, "score", &v));
	assert_true(json_object_object_get_ex(v, "final", &v));
	assert_null(v);	/* unknown is null, never 0 */
	assert_false(json_object_object_get_ex(m, "latency_ms", &v));
	m = json_object_array_get_idx(members, 1);
	assert_string_equal(get_str(m, "class"), "cellular");
	json_object_put(o);
}

static void test_members(void **state)
{
	struct json_object *o = call_line("{\"method\":\"members\"}\n"), *m, *v;

	(void)state;
	assert_true(json_object_is_type(o, json_type_array));
	m = json_object_array_get_idx(o, 1);
	assert_string_equal(get_str(m, "name"), "lte");
	assert_true(json_object_object_get_ex(m, "metered", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(m, "latency_ms", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(m, "targets", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(get_str(m, "probes.sent"), "0");
	json_object_put(o);
}

static void test_actions(void **state)
{
	struct json_object *o;

	(void)state;
	o = call_line("{\"method\":\"action\",\"params\":{\"cmd\":\"set_level\",\"level\":\"debug\"}}\n");
	assert_string_equal(get_str(o, "message"), "log level set to debug");
	assert_int_equal(log_threshold, LOG_LVL_DEBUG);
	json_object_put(o);
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"set_level\",\"level\":\"loud\"}}\n",
		     "invalid_argument", "unknown log level 'loud'");
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"set_level\"}}\n",
		     "invalid_argument", "needs a level");
	expect_error("{\"method\":\"action\",\"params\":{}}\n", "invalid_argument", "needs cmd");
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"explode\"}}\n", "invalid_argument",
		     "unknown cmd 'explode'");
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"failover\"}}\n", "unavailable",
		     "needs the decision engine");
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"failover\",\"name\":\"nope\"}}\n",
		     "invalid_argument", "no member named 'nope'");
	expect_error("{\"method\":\"action\",\"params\":{\"cmd\":\"restore\",\"level\":5}}\n",
		     "invalid_argument", "'level' must be a string");
	/* the level change is an event, newest first */
	o = call_line("{\"method\":\"events\",\"params\":{\"limit\":1}}\n");
	assert_int_equal(json_object_array_length(o), 1);
	assert_string_equal(get_str(json_object_array_get_idx(o, 0), "type"), "log");
	json_object_put(o);
}

static void test_config_get_set(void **state)
{
	struct json_object *o, *v;

	(void)state;
	o = call_line("{\"method\":\"config.get\",\"params\":{\"schema\":true}}\n");
	assert_string_equal(get_str(o, "values.main.log_level"), "warn");
	assert_string_equal(get_str(o, "values.fiber.weight"), "80");
	assert_true(json_object_object_get_ex(o, "schema", &v));
	assert_true(json_object_array_length(v) > 5);
	json_object_put(o);

	o = call_line("{\"method\":\"config.set\",\"params\":{\"values\":{\"fiber.weight\":90}}}\n");
	assert_true(json_object_object_get_ex(o, "changed", &v));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "fiber.weight");
	json_object_put(o);
	assert_int_equal(mem_find("fiber")->cfg.weight, 90);
	assert_int_equal(daemon_ctx.cfg.member[0].weight, 90);

	o = call_line("{\"method\":\"config.set\",\"params\":{\"values\":{\"fiber.weight\":-1}}}\n");
	assert_string_equal(get_str(o, "error.code"), "invalid_argument");
	assert_string_equal(get_str(o, "error.field"), "fiber.weight");
	json_object_put(o);
	assert_int_equal(mem_find("fiber")->cfg.weight, 90);
	expect_error("{\"method\":\"config.set\",\"params\":{}}\n", "invalid_argument", "needs values");
	expect_error("{\"method\":\"config.set\",\"params\":{\"values\":3}}\n", "invalid_argument",
		     "must be an object");
}

static void test_reload_keeps_state(void **state)
{
	struct member *m = mem_find("fiber");
	FILE *f;

	(void)state;
	m->sched.sent = 42;
	f = fopen(path, "w");
	fputs("config member 'fiber'\n\toption device 'eth9'\n"
	      "config member 'wifi'\n\toption device 'wlan0'\n", f);
	fclose(f);
	assert_int_equal(daemon_reload(), 0);
	assert_ptr_equal(mem_find("fiber"), m);	/* same member, runtime state kept */
	assert_int_equal(m->sched.sent, 42);
	assert_string_equal(m->cfg.device, "eth9");
	assert_null(mem_find("lte"));
	assert_int_equal(mem_find("wifi")->class, MEM_CLASS_WIFI);

	/* a broken file is refused; the running config stays and the reason is kept */
	f = fopen(path, "w");
	fputs("config member 'fiber'\n\toption device 'eth1\n", f);
	fclose(f);
	assert_int_equal(daemon_reload(), -1);
	assert_string_equal(mem_find("fiber")->cfg.device, "eth9");
	assert_non_null(strstr(daemon_ctx.cfg_error, ":2: "));
	{
		struct json_object *o = call_line("{\"method\":\"status\"}\n");

		assert_non_null(strstr(get_str(o, "config.error"), "unterminated"));
		assert_string_equal(get_str(o, "last_event.reason"), "rejected");
		json_object_put(o);
	}
}

static void test_info(void **state)
{
	struct json_object *o = call_line("{\"method\":\"info\"}\n"), *v;

	(void)state;
	assert_string_equal(get_str(o, "version"), AUTONOMY_VERSION);
	assert_true(json_object_object_get_ex(o, "rss_kb", &v));
	assert_true(json_object_get_int(v) > 0);
	assert_true(json_object_object_get_ex(o, "features", &v));
	assert_true(json_object_array_length(v) >= 1);
	assert_int_equal(atoi(get_str(o, "pid")), getpid());
	json_object_put(o);
}

static void count_event(const struct evlog_entry *e, void *ctx)
{
	int *n = ctx;

	if (!strcmp(e->type, "test"))
		(*n)++;
}

static void test_event_listeners(void **state)
{
	int a = 0, b = 0, more = 0;

	(void)state;
	assert_int_equal(evlog_listen(count_event, &a), 0);
	assert_int_equal(evlog_listen(count_event, &b), 0);
	evlog_add("test", "one", NULL, NULL, "one");
	evlog_unlisten(count_event, &a);
	evlog_add("test", "two", NULL, NULL, "two");
	evlog_add("other", "x", NULL, NULL, "not counted");
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	evlog_unlisten(count_event, &b);
	/* the table is bounded: the ninth listener is refused */
	for (int i = 0; i < EVLOG_LISTENERS; i++)
		assert_int_equal(evlog_listen(count_event, &more), 0);
	assert_int_equal(evlog_listen(count_event, &a), -ENOSPC);
	evlog_unlisten(count_event, &more);
	evlog_add("test", "three", NULL, NULL, "gone");
	assert_int_equal(more, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_get_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
	};

	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
