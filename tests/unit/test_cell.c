/* The cellular collector on a real loop with fake modem tools on PATH (shell
 * scripts written by the test that print what a file holds): auto-detection
 * order, the fields, the penalty, a falling signal as a risk, a tool that
 * hangs, one that is missing, and output that does not parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

#include "collect/cell.h"
#include "core/util.h"

static char dir[64];
static char saved_path[4096];
static int changes;

static const struct cell_params P = {
	.poll_ms = 1000, .timeout_ms = 500,
	.rsrp_ok = -100, .rsrp_bad = -120, .sinr_ok = 5, .sinr_bad = -5,
};

static void write_text(const char *name, const char *text, unsigned mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A fake tool NAME that prints the file NAME.out (or sleeps when it holds "hang"). */
static void tool(const char *name)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "echo \"$0 $*\" >>%s/calls\n"
		 "grep -qx hang %s/%s.out 2>/dev/null && exec sleep 30\n"
		 "cat %s/%s.out\n", dir, dir, name, dir, name);
	write_text(name, script, 0755);
}

static int setup(void **state)
{
	const char *p = getenv("PATH");

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_cell.XXXXXX");
	assert_non_null(mkdtemp(dir));
	strlcpy_ok(saved_path, p ? p : "/usr/bin:/bin", sizeof(saved_path));
	/* only the fakes and what they use (sh, cat, grep, sleep) */
	char path[256];

	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	setenv("PATH", saved_path, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void on_change(struct cell *c)
{
	(void)c;
	changes++;
}

/* Runs the loop until pred holds or timeout_s passes. */
static bool run_until(struct cell *c, bool (*pred)(struct cell *c), double timeout_s)
{
	struct ev_loop *loop = ev_default_loop(0);
	int64_t end = mono_ms() + (int64_t)(timeout_s * 1000);

	while (mono_ms() < end) {
		if (pred(c))
			return true;
		ev_run(loop, EVRUN_ONCE);
	}
	return pred(c);
}

static bool has_reading(struct cell *c)
{
	return cell_fresh(c, mono_ms());
}

static bool has_error(struct cell *c)
{
	return c->err[0] && !cell_fresh(c, mono_ms());
}

static bool at_risk(struct cell *c)
{
	return cell_risk(c, mono_ms()) != NULL;
}

static void set_uqmi(int rsrp, double snr, bool roaming)
{
	char out[256];

	snprintf(out, sizeof(out),
		 "{\"type\":\"lte\",\"rssi\":-63,\"rsrq\":-9,\"rsrp\":%d,\"snr\":%f}\n"
		 "{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":2,"
		 "\"plmn_description\":\"Telia LT\",\"roaming\":%s}\n",
		 rsrp, snr, roaming ? "true" : "false");
	write_text("uqmi.out", out, 0644);
}

static void test_auto_takes_the_first_tool_that_answers(void **state)
{
	struct cell c = { 0 };
	struct json_object *j;

	(void)state;
	tool("ubus");			/* present, but RutOS's gsm object is not */
	write_text("ubus.out", "", 0644);
	tool("uqmi");
	set_uqmi(-91, 13.4, false);
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_AUTO, "", false, &P, on_change);
	assert_true(run_until(&c, has_reading, 5));
	assert_int_equal(c.source, CELL_SRC_UQMI);
	assert_int_equal(c.info.tech, RADIO_TECH_LTE);
	assert_true(c.info.rsrp == -91 && fabs(c.info.sinr - 13.4) < 0.01);
	assert_string_equal(c.info.operator_name, "Telia LT");
	assert_string_equal(c.info.mccmnc, "24602");
	assert_int_equal(c.info.roaming, 0);
	assert_true(cell_penalty(&c, mono_ms()) == 0);
	j = cell_json(&c, mono_ms(), true);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "source")), "uqmi");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "tech")), "lte");
	assert_int_equal(json_object_get_int(json_object_object_get(j, "rsrp_dbm")), -91);
	json_object_put(j);
	cell_stop(&c);
}

static void test_penalty_for_weak_signal_and_roaming(void **state)
{
	struct cell c = { 0 };
	double pen;

	(void)state;
	tool("uqmi");
	set_uqmi(-110, 0, true);	/* half way on RSRP and SINR, roaming */
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_UQMI, "/dev/cdc-wdm0", false, &P, NULL);
	assert_true(run_until(&c, has_reading, 5));
	pen = cell_penalty(&c, mono_ms());
	assert_true(fabs(pen - (10 + 7.5 + 20)) < 0.01);
	cell_stop(&c);
	/* a SIM that always roams: no roaming penalty */
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_UQMI, "", true, &P, NULL);
	assert_true(run_until(&c, has_reading, 5));
	assert_true(fabs(cell_penalty(&c, mono_ms()) - 17.5) < 0.01);
	cell_stop(&c);
}

static void test_falling_signal_is_a_risk(void **state)
{
	struct cell c = { 0 };
	unsigned polls;

	(void)state;
	tool("uqmi");
	set_uqmi(-92, 12, false);
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_UQMI, "", false, &P, NULL);
	assert_true(run_until(&c, has_reading, 5));
	assert_null(cell_risk(&c, mono_ms()));
	polls = c.polls;
	set_uqmi(-108, 2, false);	/* 16 dB down, below rsrp_ok */
	assert_true(run_until(&c, at_risk, 5));
	assert_true(c.polls > polls);
	assert_string_equal(cell_risk(&c, mono_ms()), "predict:signal");
	assert_non_null(strstr(c.risk_why, "-108 dBm from -92 dBm"));
	cell_stop(&c);
	assert_null(cell_risk(&c, mono_ms()));		/* stopped: nothing known */
}

static void test_hanging_tool_is_killed_and_marks_unknown(void **state)
{
	struct cell c = { 0 };
	int64_t t0;

	(void)state;
	tool("uqmi");
	set_uqmi(-91, 13, false);
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_UQMI, "", false, &P, NULL);
	assert_true(run_until(&c, has_reading, 5));
	write_text("uqmi.out", "hang\n", 0644);
	t0 = mono_ms();
	assert_true(run_until(&c, has_error, 8));
	assert_non_null(strstr(c.err, "no answer in time"));
	assert_true(mono_ms() - t0 < 8000);
	assert_true(cell_penalty(&c, mono_ms()) == 0);	/* unknown is not bad */
	set_uqmi(-91, 13, false);
	assert_true(run_until(&c, has_reading, 5));	/* and back */
	assert_string_equal(c.err, "");
	cell_stop(&c);
}

static void test_missing_tool_and_garbage(void **state)
{
	struct cell c = { 0 };
	struct json_object *j;

	(void)state;
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_MMCLI, "", false, &P, NULL);
	assert_true(run_until(&c, has_error, 5));
	assert_non_null(strstr(c.err, "not installed"));
	cell_stop(&c);

	tool("uqmi");
	write_text("uqmi.out", "<html>modem says no</html>\n", 0644);
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_UQMI, "", false, &P, NULL);
	assert_true(run_until(&c, has_error, 5));
	assert_non_null(strstr(c.err, "uqmi"));
	j = cell_json(&c, mono_ms(), true);
	assert_null(json_object_object_get(j, "tech"));
	assert_non_null(json_object_object_get(j, "error"));
	json_object_put(j);
	cell_stop(&c);
}

static bool on_mmcli(struct cell *c)
{
	return c->source == CELL_SRC_MMCLI && cell_fresh(c, mono_ms());
}

static void test_auto_looks_again_when_the_tool_fails(void **state)
{
	struct cell c = { 0 };
	char path[128];

	(void)state;
	tool("uqmi");
	set_uqmi(-91, 13.4, false);
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_AUTO, "", false, &P, NULL);
	assert_true(run_until(&c, has_reading, 5));
	assert_int_equal(c.source, CELL_SRC_UQMI);
	/* uqmi now refuses (as with a modem that moved to ModemManager) */
	write_text("uqmi", "#!/bin/sh\necho 'Failed to open device' >&2\nexit 2\n", 0755);
	tool("mmcli");
	write_text("mmcli.out", "{\"modem\":{\"signal\":{\"lte\":{\"rsrp\":\"-97.00\","
		   "\"rsrq\":\"-10.00\",\"rssi\":\"-70.00\",\"snr\":\"8.00\"}}}}\n", 0644);
	assert_true(run_until(&c, on_mmcli, 15));
	assert_true(c.info.rsrp == -97 && c.info.tech == RADIO_TECH_LTE);
	cell_stop(&c);
	snprintf(path, sizeof(path), "%s/mmcli", dir);
	unlink(path);
}

static void test_off_runs_nothing(void **state)
{
	struct cell c = { 0 };

	(void)state;
	cell_start(&c, ev_default_loop(0), "lte", CELL_SRC_OFF, "", false, &P, NULL);
	assert_false(c.running);
	assert_false(cell_fresh(&c, mono_ms()));
	cell_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_takes_the_first_tool_that_answers),
		cmocka_unit_test(test_penalty_for_weak_signal_and_roaming),
		cmocka_unit_test(test_falling_signal_is_a_risk),
		cmocka_unit_test(test_hanging_tool_is_killed_and_marks_unknown),
		cmocka_unit_test(test_missing_tool_and_garbage),
		cmocka_unit_test(test_auto_looks_again_when_the_tool_fails),
		cmocka_unit_test(test_off_runs_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
