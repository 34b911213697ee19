/* The schema-driven configuration: defaults, ranges, warnings, errors, JSON
 * and config.set. Includes config.c to reach its static helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/config/config.c"

#include <sys/stat.h>
#include <unistd.h>

/* ---- log capture ---- */

static char logged[8192];
static int nwarn, nerr;

static void hook(enum log_level level, const char *msg)
{
	size_t len = strlen(logged);

	snprintf(logged + len, sizeof(logged) - len, "%s\n", msg);
	if (level == LOG_LVL_WARN)
		nwarn++;
	if (level == LOG_LVL_ERROR)
		nerr++;
}

static int setup(void **state)
{
	(void)state;
	logged[0] = '\0';
	nwarn = nerr = 0;
	log_set_hook(hook);
	log_set_level(LOG_LVL_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_hook(NULL);
	return 0;
}

/* Parses text as file "t.conf" into c; returns the number of config errors
 * (UCI syntax errors fail the test). */
static int load_text(struct config *c, const char *text, char *err, size_t errlen)
{
	struct uci_parser p;
	struct uci_file f = { 0 };
	int rc;

	uci_parser_init(&p, "t.conf");
	assert_int_equal(uci_parse_buf(&p, text, strlen(text), &f), 0);
	uci_parser_free(&p);
	rc = cfg_from_uci(c, &f, "t.conf", err, errlen);
	uci_file_free(&f);
	return rc;
}

static struct config cfg;
static char err[CFG_ERR_LEN];

static void test_defaults(void **state)
{
	(void)state;
	cfg_defaults(&cfg);
	assert_int_equal(cfg.main.log_level, LOG_LVL_INFO);
	assert_string_equal(cfg.main.state_dir, "/var/run/autonomy");
	assert_int_equal(cfg.nmembers, 0);
	/* every default in the table must parse under its own rules */
	for (const struct cfg_opt *o = cfg_schema; o->name; o++) {
		union { struct cfg_main m; struct cfg_member b; } scratch;

		if (!o->def)
			continue;
		assert_int_equal(cfg_parse_value(o, &scratch, &o->def, 1, err, sizeof(err)), 0);
	}
}

static void test_valid_file(void **state)
{
	const struct cfg_member *m;

	(void)state;
	assert_int_equal(load_text(&cfg,
		"config autonomy 'main'\n"
		"\toption log_level 'debug'\n"
		"config member 'sl'\n"
		"\toption device 'eth1'\n"
		"\toption class 'starlink'\n"
		"\toption weight '120'\n"
		"\toption metered 'yes'\n"
		"\tlist target '1.1.1.1'\n"
		"\tlist target '2606:4700::1111'\n"
		"\toption reliability '2'\n"
		"\toption probe 'tcp'\n"
		"config member 'lte'\n"
		"\toption device 'wwan0'\n"
		"\toption target '9.9.9.9, 8.8.4.4'\n"
		"\toption enabled 'off'\n", err, sizeof(err)), 0);
	assert_int_equal(nwarn, 0);
	assert_int_equal(cfg.main.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.nmembers, 2);
	m = cfg_find_member(&cfg, "sl");
	assert_non_null(m);
	assert_string_equal(m->device, "eth1");
	assert_int_equal(m->class, MEM_CLASS_STARLINK);
	assert_int_equal(m->weight, 120);
	assert_true(m->metered);
	assert_int_equal(m->targets.n, 2);
	assert_string_equal(m->targets.addr[1], "2606:4700::1111");
	assert_int_equal(m->reliability, 2);
	assert_int_equal(m->probe, PROBE_TCP);
	m = cfg_find_member(&cfg, "lte");
	assert_non_null(m);
	assert_false(m->enabled);
	assert_int_equal(m->weight, 100);
	assert_int_equal(m->targets.n, 2);
	assert_string_equal(m->targets.addr[0], "9.9.9.9");
	assert_string_equal(m->targets.addr[1], "8.8.4.4");
	assert_null(cfg_find_member(&cfg, "nope"));
}

static void test_out_of_range_falls_back(void **state)
{
	const struct cfg_member *m;

	(void)state;
	assert_int_equal(load_text(&cfg,
		"config member 'a'\n"
		"\toption device 'eth1'\n"
		"\toption weight '5000'\n"
		"\toption metered 'maybe'\n"
		"\toption class 'satellite'\n"
		"\tlist target 'one.one.one.one'\n"
		"\toption reliability 'x'\n", err, sizeof(err)), 0);
	m = cfg_find_member(&cfg, "a");
	assert_int_equal(m->weight, 100);
	assert_false(m->metered);
	assert_int_equal(m->class, MEM_CLASS_AUTO);
	assert_int_equal(m->targets.n, 2);
	assert_string_equal(m->targets.addr[0], "1.1.1.1");
	assert_int_equal(m->reliability, 1);
	assert_int_equal(nwarn, 5);	/* one line each */
	assert_non_null(strstr(logged, "t.conf:3: member 'a': weight: '5000' is out of range (1 to 1000); using the default '100'"));
	assert_non_null(strstr(logged, "'maybe' is not a boolean"));
	assert_non_null(strstr(logged, "'satellite' is not one of auto, starlink, cellular, wifi, wired, other"));
	assert_non_null(strstr(logged, "'one.one.one.one' is not an IP address"));
	assert_non_null(strstr(logged, "t.conf:7: member 'a': reliability: 'x' is not a whole number"));
}

/* metered_interval_ms is 0 (by data_cap_mode) or 1000 to 3600000: 500 is refused,
 * not quietly made 1000 */
static void test_int_or_zero(void **state)
{
	static const char *const ok[] = { "0", "1000", "3600000" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "config autonomy 'main'\n\toption metered_interval_ms '%s'\n",
			 ok[i]);
		assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
		assert_int_equal(cfg.main.metered_interval_ms, atoi(ok[i]));
		assert_int_equal(nwarn, 0);
	}
	assert_int_equal(load_text(&cfg, "config autonomy 'main'\n\toption metered_interval_ms '500'\n",
				   err, sizeof(err)), 0);
	assert_int_equal(cfg.main.metered_interval_ms, 0);
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(logged, "metered_interval_ms: '500' is out of range (0, or 1000 to "
				"3600000); using the default '0'"));
}

static void test_unknown_things_warn(void **state)
{
	(void)state;
	assert_int_equal(load_text(&cfg,
		"config autonomy 'main'\n"
		"\toption colour 'blue'\n"
		"config frobnicator 'x'\n"
		"\toption a 'b'\n"
		"config autonomy 'second'\n"
		"\toption log_level 'error'\n", err, sizeof(err)), 0);
	assert_int_equal(nwarn, 3);
	assert_non_null(strstr(logged, "t.conf:2: section 'main': unknown option 'colour' ignored"));
	assert_non_null(strstr(logged, "t.conf:3: unknown section type 'frobnicator' ignored"));
	assert_non_null(strstr(logged, "t.conf:5: a second 'autonomy' section is ignored"));
	assert_int_equal(cfg.main.log_level, LOG_LVL_INFO);
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(load_text(&cfg, "config member 'a'\n\toption weight '3'\n", err, sizeof(err)), 1);
	assert_string_equal(err, "t.conf:1: member 'a': option 'device' is required");

	assert_int_equal(load_text(&cfg, "config member\n\toption device 'eth0'\n", err, sizeof(err)), 1);
	assert_non_null(strstr(err, "t.conf:1: member sections need a name"));

	assert_int_equal(load_text(&cfg, "config member 'a'\n\toption device 'eth/0'\n", err, sizeof(err)), 1);
	assert_string_equal(err, "t.conf:2: member 'a': device: 'eth/0' is not a valid device name");

	assert_int_equal(load_text(&cfg, "config member 'a'\n\toption device 'averyveryverylongname'\n",
				   err, sizeof(err)), 1);
	assert_int_equal(load_text(&cfg, "config member 'abcdefghijabcdefghijabcdefghijabc'\n"
				   "\toption device 'e'\n", err, sizeof(err)), 1);
	assert_non_null(strstr(err, "longer than 31 characters"));
}

static void test_too_many_members(void **state)
{
	char text[8192] = "";
	size_t len = 0;

	(void)state;
	for (int i = 0; i <= CFG_MAX_MEMBERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"config member 'm%d'\n\toption device 'eth%d'\n", i, i);
	assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 1);
	assert_int_equal(cfg.nmembers, CFG_MAX_MEMBERS);
	assert_non_null(strstr(err, "too many members (at most 32)"));
}

static void test_reliability_clamped(void **state)
{
	(void)state;
	assert_int_equal(load_text(&cfg, "config member 'a'\n\toption device 'eth0'\n"
				   "\tlist target '1.1.1.1'\n\toption reliability '3'\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.member[0].reliability, 1);
	assert_int_equal(nwarn, 1);
}

static void test_list_limits(void **state)
{
	const struct cfg_opt *o = cfg_find_opt("member", "target");
	const char *nine = "1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8 1.0.0.9";
	const char *empty = " , ";
	struct cfg_member m = { 0 };

	(void)state;
	assert_non_null(o);
	assert_int_equal(cfg_parse_value(o, &m, &nine, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 8 addresses");
	assert_int_equal(cfg_parse_value(o, &m, &empty, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "needs at least one address");
	assert_int_equal(m.targets.n, 0);	/* unchanged on error */
}

static void test_load_missing_file(void **state)
{
	(void)state;
	assert_int_equal(cfg_load(&cfg, "/nonexistent/autonomy.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/autonomy.conf"));
}

static void test_load_syntax_error(void **state)
{
	char path[] = "/tmp/autonomy-test-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "config member 'a'\n\toption device \"eth0\n\tbogus\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(cfg_load(&cfg, path, err, sizeof(err)), 2);
	assert_non_null(strstr(err, ":2: "));
	assert_non_null(strstr(err, "(and 1 more errors)"));
	unlink(path);
}

static void test_json(void **state)
{
	struct json_object *j, *v, *sec, *schema;

	(void)state;
	assert_int_equal(load_text(&cfg, "config member 'wan'\n\toption device 'eth0'\n\toption metered '1'\n",
				   err, sizeof(err)), 0);
	j = cfg_to_json(&cfg, "/etc/config/autonomy", true);
	assert_true(json_object_object_get_ex(j, "values", &v));
	assert_true(json_object_object_get_ex(v, "wan", &sec));
	assert_true(json_object_object_get_ex(sec, "metered", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(sec, "weight", &v));
	assert_int_equal(json_object_get_int(v), 100);
	assert_true(json_object_object_get_ex(sec, "target", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_true(json_object_object_get_ex(sec, ".type", &v));
	assert_string_equal(json_object_get_string(v), "member");
	assert_true(json_object_object_get_ex(j, "schema", &schema));
	assert_int_equal(json_object_array_length(schema), ARRAY_SIZE(cfg_schema) - 1);
	json_object_put(j);
}

static void test_secret_masked(void **state)
{
	struct { char s[32]; } base = { "hunter2" };
	const struct cfg_opt secret = { "x", "token", CFG_T_STRING, 0, 32, "", 0, 0, NULL,
					CFG_F_SECRET, "t" };
	const char *longval = "0123456789012345678901234567890123456789";
	struct json_object *v = value_json(&secret, &base);

	(void)state;
	assert_string_equal(json_object_get_string(v), "********");
	json_object_put(v);
	base.s[0] = '\0';
	v = value_json(&secret, &base);
	assert_string_equal(json_object_get_string(v), "");
	json_object_put(v);
	/* a bad secret is never echoed in a message */
	assert_int_equal(cfg_parse_value(&secret, &base, &longval, 1, err, sizeof(err)), -1);
	assert_null(strstr(err, "0123"));
}

/* ---- config.set ---- */

static char setpath[64];

static void write_text(const char *text)
{
	FILE *f = fopen(setpath, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(void)
{
	char *buf;

	assert_true(read_file(setpath, 1 << 20, &buf) >= 0);
	return buf;
}

static int set_setup(void **state)
{
	int fd;

	setup(state);
	strcpy(setpath, "/tmp/autonomy-set-XXXXXX");
	fd = mkstemp(setpath);
	assert_true(fd >= 0);
	close(fd);
	chmod(setpath, 0640);
	write_text("# comment\nconfig member 'wan'\n\toption device 'eth0'\n\tlist target '1.1.1.1'\n"
		   "config member 'lte'\n\toption device 'wwan0'\n");
	return 0;
}

static int set_teardown(void **state)
{
	unlink(setpath);
	return teardown(state);
}

static int do_set(const char *json, struct json_object **changed, struct cfg_set_error *e)
{
	struct json_object *values = json_tokener_parse(json);
	int rc = cfg_set(setpath, values, &cfg, changed, e);

	json_object_put(values);
	return rc;
}

static void test_set_ok(void **state)
{
	struct json_object *changed;
	struct cfg_set_error e;
	struct stat st;
	char *text;

	(void)state;
	assert_int_equal(do_set("{\"main.log_level\":\"debug\",\"wan.weight\":\"7\",\"lte.metered\":true,"
				"\"wan.target\":[\"8.8.8.8\",\"9.9.9.9\"],\"lte.class\":\"cellular\"}",
				&changed, &e), 0);
	assert_int_equal(json_object_array_length(changed), 5);
	json_object_put(changed);
	assert_int_equal(cfg.main.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg_find_member(&cfg, "wan")->weight, 7);
	assert_int_equal(cfg_find_member(&cfg, "wan")->targets.n, 2);
	text = read_text();
	assert_string_equal(text,
		"config autonomy 'main'\n\toption log_level 'debug'\n"
		"\nconfig member 'wan'\n\toption device 'eth0'\n\tlist target '8.8.8.8'\n"
		"\tlist target '9.9.9.9'\n\toption weight '7'\n"
		"\nconfig member 'lte'\n\toption device 'wwan0'\n\toption metered '1'\n"
		"\toption class 'cellular'\n");
	free(text);
	assert_int_equal(stat(setpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	/* the same again changes nothing; null removes */
	assert_int_equal(do_set("{\"wan.weight\":7}", &changed, &e), 0);
	assert_int_equal(json_object_array_length(changed), 0);
	json_object_put(changed);
	assert_int_equal(do_set("{\"wan.weight\":null,\"wan.target\":\"1.0.0.1 1.0.0.2\"}", &changed, &e), 0);
	assert_int_equal(json_object_array_length(changed), 2);
	json_object_put(changed);
	assert_int_equal(cfg_find_member(&cfg, "wan")->weight, 100);
	assert_string_equal(cfg_find_member(&cfg, "wan")->targets.addr[1], "1.0.0.2");
}

static void expect_set_error(const char *json, const char *code, const char *field, const char *msg)
{
	struct json_object *changed = (void *)1;
	struct cfg_set_error e = { 0 };
	char *before = read_text(), *after;

	assert_int_equal(do_set(json, &changed, &e), -1);
	assert_null(changed);
	assert_string_equal(e.code, code);
	assert_string_equal(e.field, field);
	if (!strstr(e.msg, msg))
		fail_msg("message '%s' does not contain '%s'", e.msg, msg);
	after = read_text();
	assert_string_equal(before, after);	/* nothing written */
	free(before);
	free(after);
}

static void test_set_errors(void **state)
{
	(void)state;
	expect_set_error("{\"wan.weight\":\"0\"}", "invalid_argument", "wan.weight",
			 "wan.weight: '0' is out of range (1 to 1000)");
	expect_set_error("{\"main.log_level\":\"debug\",\"wan.weight\":\"heavy\"}", "invalid_argument",
			 "wan.weight", "not a whole number");
	expect_set_error("{\"nosuch.weight\":1}", "invalid_argument", "nosuch.weight", "no section 'nosuch'");
	expect_set_error("{\"wan.colour\":1}", "invalid_argument", "wan.colour",
			 "'colour' is not an option of member sections");
	expect_set_error("{\"wan\":1}", "invalid_argument", "wan", "not of the form section.option");
	expect_set_error("{\"wan.device\":null}", "invalid_argument", "wan.device", "required");
	expect_set_error("{\"wan.weight\":[1]}", "invalid_argument", "wan.weight", "wrong type");
	expect_set_error("{\"wan.weight\":{}}", "invalid_argument", "wan.weight", "wrong type");
	expect_set_error("{\"wan.target\":[\"1.1.1.1\",5]}", "invalid_argument", "wan.target", "wrong type");
	expect_set_error("{\"wan.target\":\"localhost\"}", "invalid_argument", "wan.target",
			 "'localhost' is not an IP address");
	expect_set_error("{}", "invalid_argument", "", "non-empty object");
	expect_set_error("[]", "invalid_argument", "", "non-empty object");
}

static void test_set_broken_file(void **state)
{
	(void)state;
	write_text("config member 'wan'\n\toption device 'eth0\n");
	expect_set_error("{\"wan.weight\":5}", "internal", "", "cannot be changed until it is fixed");
}

static void test_set_through_symlink(void **state)
{
	char link[80], *text;
	struct json_object *changed;
	struct cfg_set_error e;
	struct stat st;

	(void)state;
	snprintf(link, sizeof(link), "%s.link", setpath);
	assert_int_equal(symlink(setpath, link), 0);
	{
		struct json_object *values = json_tokener_parse("{\"lte.weight\":3}");

		assert_int_equal(cfg_set(link, values, &cfg, &changed, &e), 0);
		json_object_put(values);
		json_object_put(changed);
	}
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	text = read_text();
	assert_non_null(strstr(text, "option weight '3'"));
	free(text);
	unlink(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_or_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_things_warn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reliability_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_ok, set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_set_errors, set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_set_broken_file, set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_set_through_symlink, set_setup, set_teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
