/* The notification rules (notify/rules.c) on a fake clock: which events go out
 * at once, which are dropped as repeats, which are held for a digest, and when
 * the digest goes. Plus the config words they are built from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "notify/rules.h"

#define S	1000LL
#define MIN	(60 * S)

static struct nrules R;
static int64_t now;
static int minute;	/* local minute of the day */

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

/* The defaults of the schema with changes in UCI text, as a file would have them. */
static void setup_with(const char *events, int cooldown_s, int cap, int dedup_s,
		       const char *quiet_hours, const char *quiet_prio)
{
	static struct config c;
	struct nrules_cfg rc;
	char err[CFG_ERR_LEN];
	const char *v;

	log_set_hook(quiet);
	cfg_defaults(&c);
	if (events) {
		v = events;
		assert_int_equal(cfg_parse_value(cfg_find_opt("autonomy", "notify_events"), &c.main,
						 &v, 1, err, sizeof(err)), 0);
	}
	c.main.notify_cooldown_s = cooldown_s;
	c.main.notify_max_per_hour = cap;
	c.main.notify_dedup_s = dedup_s;
	v = quiet_hours;
	assert_int_equal(cfg_parse_value(cfg_find_opt("autonomy", "notify_quiet_hours"), &c.main,
					 &v, 1, err, sizeof(err)), 0);
	v = quiet_prio;
	assert_int_equal(cfg_parse_value(cfg_find_opt("autonomy", "notify_quiet_priority"), &c.main,
					 &v, 1, err, sizeof(err)), 0);
	nrules_cfg_from(&rc, &c.main);
	nrules_init(&R, &rc);
	now = 1000 * S;
	minute = 12 * 60;
}

static enum nr_verdict offer(enum notify_event ev, const char *key)
{
	return nrules_offer(&R, ev, key, key, now, minute);
}

static bool digest(enum notify_event ev, char *buf, size_t size)
{
	return nrules_digest(&R, ev, now, minute, buf, size);
}

static void test_config_words(void **state)
{
	const struct cfg_opt *o = cfg_find_opt("autonomy", "notify_events");
	const struct cfg_opt *h = cfg_find_opt("autonomy", "notify_quiet_hours");
	static const char *const bad[] = {
		"failover:loud", "nonsense", "failover failover", "member_up:", NULL
	};
	static const char *const bad_hours[] = {
		"22:00", "25:00-07:00", "22:00-07:60", "07:00-07:00", "22.00-07.00", "x", NULL
	};
	static struct config c;
	char err[CFG_ERR_LEN];
	int a, b;

	(void)state;
	cfg_defaults(&c);
	for (int i = 0; bad[i]; i++) {
		err[0] = '\0';
		assert_int_equal(cfg_parse_value(o, &c.main, &bad[i], 1, err, sizeof(err)), -1);
		assert_true(err[0]);
	}
	for (int i = 0; bad_hours[i]; i++) {
		assert_int_equal(cfg_parse_value(h, &c.main, &bad_hours[i], 1, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "22:00-07:00"));
	}
	assert_true(cfg_parse_hours("22:30-07:05", &a, &b));
	assert_int_equal(a, 22 * 60 + 30);
	assert_int_equal(b, 7 * 60 + 5);

	setup_with("failover:urgent member_up, crash", 0, 20, 0, "", "high");
	assert_int_equal(R.cfg.events, (1u << NEV_FAILOVER) | (1u << NEV_MEMBER_UP) | (1u << NEV_CRASH));
	assert_int_equal(nrules_prio(&R, NEV_FAILOVER), NOTIFY_PRIO_URGENT);
	assert_int_equal(nrules_prio(&R, NEV_MEMBER_UP), NOTIFY_PRIO_NORMAL);
	assert_int_equal(offer(NEV_MEMBER_DOWN, "lte down"), NR_OFF);
	assert_int_equal(offer(NEV_FAILOVER, "a->b"), NR_SEND);

	/* The schema's default turns on the usual set. */
	setup_with(NULL, 300, 20, 3600, "", "high");
	assert_int_equal(nrules_prio(&R, NEV_FAILOVER), NOTIFY_PRIO_HIGH);
	assert_int_equal(nrules_prio(&R, NEV_FAILBACK), NOTIFY_PRIO_NORMAL);
	assert_true(R.cfg.events & (1u << NEV_DATA_BUDGET));
	assert_int_equal(nrules_prio(&R, NEV_DATA_BUDGET), NOTIFY_PRIO_NORMAL);
	assert_int_equal(R.cfg.cooldown_ms, 300 * S);
}

static void test_cooldown_and_digest(void **state)
{
	char buf[1024];

	(void)state;
	setup_with("failover member_down", 300, 20, 0, "", "high");
	assert_int_equal(offer(NEV_FAILOVER, "fiber->lte hard:down"), NR_SEND);
	now += 10 * S;
	assert_int_equal(offer(NEV_FAILOVER, "lte->wifi hard:down"), NR_COOLDOWN);
	now += 10 * S;
	assert_int_equal(offer(NEV_FAILOVER, "wifi->lte soft:score"), NR_COOLDOWN);
	/* Other types have their own cooldown. */
	assert_int_equal(offer(NEV_MEMBER_DOWN, "fiber down"), NR_SEND);
	assert_false(digest(NEV_FAILOVER, buf, sizeof(buf)));

	now += 279 * S;		/* 299 s after the first */
	assert_false(digest(NEV_FAILOVER, buf, sizeof(buf)));
	now += 1 * S;
	assert_true(digest(NEV_FAILOVER, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "2 failover events held back"));
	assert_non_null(strstr(buf, "- lte->wifi hard:down\n- wifi->lte soft:score"));
	/* Sent once: nothing left, and the digest started a new cooldown. */
	assert_false(digest(NEV_FAILOVER, buf, sizeof(buf)));
	now += 1 * S;
	assert_int_equal(offer(NEV_FAILOVER, "lte->fiber failback"), NR_COOLDOWN);
	assert_int_equal(R.n_sent, 3);
	assert_int_equal(R.n_held, 3);

	/* A new event right after an empty cooldown goes out at once. */
	now += 300 * S;
	assert_true(digest(NEV_FAILOVER, buf, sizeof(buf)));
	now += 300 * S;
	assert_int_equal(offer(NEV_FAILOVER, "fiber->lte hard:down"), NR_SEND);
}

static void test_digest_lists_few(void **state)
{
	char buf[2048], key[32];

	(void)state;
	setup_with("member_down", 60, 100, 0, "", "high");
	assert_int_equal(offer(NEV_MEMBER_DOWN, "first"), NR_SEND);
	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "m%d down", i);
		now += S;
		assert_int_equal(offer(NEV_MEMBER_DOWN, key), NR_COOLDOWN);
	}
	now += 60 * S;
	assert_true(digest(NEV_MEMBER_DOWN, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "12 member_down events"));
	assert_non_null(strstr(buf, "- m4 down\n(and 7 more)"));
	assert_null(strstr(buf, "m5 down"));
	/* A small buffer is cut, never overrun. */
	setup_with("member_down", 60, 100, 0, "", "high");
	assert_int_equal(offer(NEV_MEMBER_DOWN, "first"), NR_SEND);
	assert_int_equal(offer(NEV_MEMBER_DOWN, "a long line that does not fit"), NR_COOLDOWN);
	now += 60 * S;
	assert_true(digest(NEV_MEMBER_DOWN, buf, 16));
	assert_int_equal(strlen(buf), 15);
}

static void test_hourly_cap(void **state)
{
	char buf[1024], key[32];
	int sent = 0;

	(void)state;
	setup_with("member_down member_up", 0, 5, 0, "", "high");
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		sent += offer(i % 2 ? NEV_MEMBER_UP : NEV_MEMBER_DOWN, key) == NR_SEND;
		now += 60 * S;
	}
	assert_int_equal(sent, 5);
	assert_int_equal(offer(NEV_MEMBER_UP, "late"), NR_CAP);
	assert_false(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	/* The first send was 8 min ago: the window frees it an hour after. */
	now += 51 * MIN;
	assert_false(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	now += 1 * MIN;
	assert_true(digest(NEV_MEMBER_DOWN, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "- m6"));
	/* That digest took the freed slot. */
	assert_false(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	now += 1 * MIN;
	assert_true(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "3 member_up events"));
	assert_non_null(strstr(buf, "- m5\n- m7\n- late"));
}

static void test_dedup(void **state)
{
	char buf[1024];

	(void)state;
	setup_with("dish_alert", 60, 20, 3600, "", "high");
	assert_int_equal(offer(NEV_DISH_ALERT, "dish thermal_throttle"), NR_SEND);
	now += 10 * S;
	/* A repeat is dropped, not held: no digest for it. */
	assert_int_equal(offer(NEV_DISH_ALERT, "dish thermal_throttle"), NR_DUP);
	now += 120 * S;
	assert_int_equal(offer(NEV_DISH_ALERT, "dish thermal_throttle"), NR_DUP);
	assert_false(digest(NEV_DISH_ALERT, buf, sizeof(buf)));
	assert_int_equal(R.t[NEV_DISH_ALERT].repeats, 2);
	/* Something else of the same type is news. */
	assert_int_equal(offer(NEV_DISH_ALERT, "dish motors_stuck"), NR_SEND);
	/* ... and the first one again after the window counts once more. */
	now += 3600 * S;
	assert_int_equal(offer(NEV_DISH_ALERT, "dish thermal_throttle"), NR_SEND);
	now += 10 * S;
	assert_int_equal(offer(NEV_DISH_ALERT, "dish thermal_throttle"), NR_DUP);
	assert_int_equal(R.n_dup, 3);

	/* notify_dedup_s 0: repeats are only held by the cooldown. */
	setup_with("dish_alert", 60, 20, 0, "", "high");
	assert_int_equal(offer(NEV_DISH_ALERT, "x"), NR_SEND);
	assert_int_equal(offer(NEV_DISH_ALERT, "x"), NR_COOLDOWN);
}

static void test_quiet_hours_and_priority(void **state)
{
	char buf[1024];

	(void)state;
	setup_with("failover:urgent member_down:normal member_up:low", 0, 20, 0,
		   "22:00-07:00", "high");
	minute = 23 * 60;
	assert_int_equal(offer(NEV_FAILOVER, "a->b"), NR_SEND);
	assert_int_equal(offer(NEV_MEMBER_DOWN, "a down"), NR_QUIET);
	minute = 3 * 60;		/* wraps midnight */
	now += 4 * 3600 * S;
	assert_int_equal(offer(NEV_MEMBER_UP, "a up"), NR_QUIET);
	assert_false(digest(NEV_MEMBER_DOWN, buf, sizeof(buf)));
	minute = 6 * 60 + 59;
	assert_false(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	minute = 7 * 60;
	assert_true(digest(NEV_MEMBER_DOWN, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "- a down"));
	assert_true(digest(NEV_MEMBER_UP, buf, sizeof(buf)));
	minute = 12 * 60;
	assert_int_equal(offer(NEV_MEMBER_UP, "b up"), NR_SEND);

	/* A span within one day; quiet priority low lets everything through. */
	setup_with("member_up:low", 0, 20, 0, "01:00-05:00", "normal");
	minute = 0;
	assert_int_equal(offer(NEV_MEMBER_UP, "x"), NR_SEND);
	minute = 60;
	assert_int_equal(offer(NEV_MEMBER_UP, "y"), NR_QUIET);
	setup_with("member_up:low", 0, 20, 0, "01:00-05:00", "low");
	minute = 60;
	assert_int_equal(offer(NEV_MEMBER_UP, "y"), NR_SEND);
}

/* A reload changes the rules but keeps what is held and the send history. */
static void test_reload_keeps_held(void **state)
{
	struct nrules_cfg rc;
	char buf[1024];

	(void)state;
	setup_with("failover", 300, 20, 0, "", "high");
	assert_int_equal(offer(NEV_FAILOVER, "a"), NR_SEND);
	assert_int_equal(offer(NEV_FAILOVER, "b"), NR_COOLDOWN);
	rc = R.cfg;
	rc.cooldown_ms = 10 * S;
	nrules_set_cfg(&R, &rc);
	now += 10 * S;
	assert_true(digest(NEV_FAILOVER, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "- b"));
	assert_string_equal(nrules_verdict_name(NR_CAP), "hourly cap");
}

static int load(const char *text, struct config *c, char *err, size_t errlen)
{
	char path[] = "/tmp/test_notify_XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	rc = cfg_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

static void test_notifier_sections(void **state)
{
	static struct config c;
	char err[CFG_ERR_LEN], text[4096];
	size_t len = 0;

	(void)state;
	log_set_hook(quiet);
	assert_int_equal(load("config autonomy 'main'\n"
			      "config member 'fiber'\n\toption device 'eth1'\n"
			      "config notifier 'phone'\n\toption type 'ntfy'\n\toption to 'alerts'\n"
			      "\toption token 'tk'\n\toption min_priority 'high'\n"
			      "config notifier 'mail'\n\toption type 'email'\n\toption enabled '0'\n"
			      "\toption url 'smtp://mx:587'\n\toption bogus 'x'\n",
			      &c, err, sizeof(err)), 0);
	assert_int_equal(c.nmembers, 1);
	assert_int_equal(c.nnotifiers, 2);
	assert_string_equal(c.notifier[0].name, "phone");
	assert_int_equal(c.notifier[0].type, NOTIFIER_NTFY);
	assert_string_equal(c.notifier[0].to, "alerts");
	assert_string_equal(c.notifier[0].token, "tk");
	assert_int_equal(c.notifier[0].min_priority, NOTIFY_PRIO_HIGH);
	assert_true(c.notifier[0].enabled);
	assert_true(c.notifier[0].starttls);
	assert_int_equal(c.notifier[1].type, NOTIFIER_EMAIL);
	assert_false(c.notifier[1].enabled);
	assert_string_equal(c.notifier[1].url, "smtp://mx:587");

	/* type is required; a name must be free; at most CFG_MAX_NOTIFIERS */
	assert_int_equal(load("config notifier 'x'\n\toption to 'y'\n", &c, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "notifier 'x': option 'type' is required"));
	assert_int_equal(load("config notifier\n\toption type 'ntfy'\n", &c, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "notifier sections need a name"));
	for (int i = 0; i <= CFG_MAX_NOTIFIERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"config notifier 'n%d'\n\toption type 'webhook'\n", i);
	assert_int_equal(load(text, &c, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "too many notifiers (at most 8)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_words),
		cmocka_unit_test(test_notifier_sections),
		cmocka_unit_test(test_cooldown_and_digest),
		cmocka_unit_test(test_digest_lists_few),
		cmocka_unit_test(test_hourly_cap),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_quiet_hours_and_priority),
		cmocka_unit_test(test_reload_keeps_held),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
