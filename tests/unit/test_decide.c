/* The decision state machine through scripted timelines on a fake clock, and
 * the scoring arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "decide/decide.h"
#include "decide/score.h"

#define S(x) ((int64_t)(x) * 1000)

static const struct dec_params P = {
	.switch_margin = 15, .fail_min_ms = S(10), .restore_min_ms = S(30), .cooldown_ms = S(20),
	.min_uptime_ms = S(10), .half_life_s = 60, .suppress = 2000, .reuse = 750,
};

static struct dec_member A, B, C;
static struct dec_member *all[3] = { &A, &B, &C };
static struct dec_state st;
static struct dec_switch sw;
static int64_t next;

static void member(struct dec_member *m, const char *name, int weight)
{
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->weight = weight;
	m->enabled = true;
	m->known = true;
	m->score = 90;
	m->up_since = 1;	/* up "forever" */
}

static int setup(void **state)
{
	(void)state;
	member(&A, "A", 100);
	member(&B, "B", 80);
	member(&C, "C", 50);
	memset(&st, 0, sizeof(st));
	return 0;
}

static bool run(int64_t now)
{
	memset(&sw, 0, sizeof(sw));
	return dec_decide(&st, all, 3, &P, now, &sw, &next);
}

static void go_down(struct dec_member *m, const char *cause, int64_t now)
{
	m->down = true;
	m->cause = cause;
	m->down_since = now;
	dec_member_went_down(m, &P, now);
}

static void come_up(struct dec_member *m, int64_t now)
{
	m->down = false;
	dec_member_came_up(m, now);
}

static void expect_switch(int64_t now, struct dec_member *to, const char *reason)
{
	if (!run(now))
		fail_msg("no switch at %lld, expected %s (%s)", (long long)now, to->name, reason);
	assert_ptr_equal(sw.to, to);
	assert_string_equal(sw.reason, reason);
	assert_ptr_equal(st.active, to);
}

static void expect_none(int64_t now)
{
	if (run(now))
		fail_msg("unexpected switch at %lld to %s (%s)", (long long)now, sw.to->name, sw.reason);
}

static void test_initial_prefers_weight(void **state)
{
	(void)state;
	B.score = 95;	/* within the margin: weight decides */
	expect_switch(S(100), &A, "initial");
	assert_null(sw.from);
}

static void test_initial_clearly_better_score_wins(void **state)
{
	(void)state;
	A.score = 60;
	B.score = 95;
	expect_switch(S(100), &B, "initial");
}

static void test_initial_waits_for_knowledge(void **state)
{
	(void)state;
	A.known = B.known = C.known = false;
	expect_none(S(100));
	assert_null(st.active);
	C.known = true;
	expect_switch(S(101), &C, "initial");
}

static void test_hard_failure_switches_at_once(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	go_down(&A, "no-reply", S(101));
	expect_switch(S(103), &B, "hard:no-reply");	/* no cooldown, no margin */
	assert_ptr_equal(sw.from, &A);
	assert_int_equal(sw.fault_since, S(101));
}

static void test_hard_failure_prefers_eligible(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	B.up_since = S(95);	/* up for 5 s: not yet eligible */
	go_down(&A, "carrier", S(101));
	expect_switch(S(101), &C, "hard:carrier");
}

static void test_hard_failure_takes_any_when_none_eligible(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	B.up_since = S(99);
	C.up_since = S(99);
	C.score = 99;
	go_down(&A, "carrier", S(101));
	expect_switch(S(101), &B, "hard:carrier");	/* scores close: weight */
}

static void test_all_down_keeps_choice_then_first_back(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	go_down(&B, "no-reply", S(101));
	go_down(&C, "carrier", S(101));
	go_down(&A, "no-reply", S(102));
	for (int t = 102; t < 200; t += 7)
		expect_none(S(t));	/* no thrashing */
	assert_ptr_equal(st.active, &A);
	come_up(&C, S(200));
	expect_switch(S(200), &C, "hard:no-reply");	/* first one back, uptime or not */
	come_up(&A, S(201));
	expect_none(S(202));
}

static void test_soft_switch_after_lead_duration(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	C.score = 60;
	A.score = 50;
	B.score = 80;
	expect_none(S(200));
	assert_int_equal(next, S(210));
	expect_none(S(209));
	expect_switch(S(210), &B, "soft:score");
	assert_int_equal(sw.fault_since, S(200));
}

static void test_soft_lead_must_be_continuous(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	C.score = 60;
	A.score = 50;
	B.score = 80;
	expect_none(S(200));
	A.score = 70;	/* lead 10 < margin */
	expect_none(S(205));
	assert_int_equal(next, 0);
	A.score = 50;
	expect_none(S(206));
	expect_none(S(215));
	expect_switch(S(216), &B, "soft:score");
}

static void test_soft_respects_cooldown(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	C.score = 60;
	A.score = 40;
	B.score = 80;
	/* the initial switch at 100 started the cooldown: 100+20 > 100+10 */
	expect_none(S(100));
	assert_int_equal(next, S(120));
	expect_none(S(115));
	expect_switch(S(120), &B, "soft:score");
}

static void test_failback_after_restore_window(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	go_down(&A, "carrier", S(200));
	expect_switch(S(200), &B, "hard:carrier");
	come_up(&A, S(300));
	expect_none(S(300));
	assert_int_equal(next, S(310));		/* min uptime */
	expect_none(S(310));			/* good since 310 */
	assert_int_equal(next, S(340));
	expect_none(S(339));
	expect_switch(S(340), &A, "failback");
}

static void test_no_failback_when_degraded_or_worse(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	go_down(&A, "carrier", S(200));
	expect_switch(S(200), &B, "hard:carrier");
	come_up(&A, S(300));
	A.degraded = true;
	for (int t = 300; t < 500; t += 10)
		expect_none(S(t));
	A.degraded = false;
	A.score = 80;	/* 10 below B: more than margin/2 */
	for (int t = 500; t < 600; t += 10)
		expect_none(S(t));
	A.score = 88;
	expect_none(S(600));
	expect_switch(S(630), &A, "failback");
}

static void test_manual_holds_until_restore(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	st.manual = &C;
	expect_switch(S(110), &C, "manual");
	C.score = 40;	/* much worse: no soft switch, no failback while manual */
	for (int t = 110; t < 400; t += 10)
		expect_none(S(t));
	go_down(&C, "carrier", S(400));
	expect_switch(S(400), &A, "hard:carrier");
	expect_none(S(405));	/* the stand-in holds */
	come_up(&C, S(410));
	expect_switch(S(410), &C, "manual");
	st.manual = NULL;	/* restore */
	C.score = 90;
	C.up_since = 1;
	expect_none(S(420));
	expect_switch(S(450), &A, "failback");
}

static void test_dampening_suppresses_flapping_member(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	go_down(&A, "carrier", S(100));
	expect_switch(S(100), &B, "hard:carrier");
	come_up(&A, S(110));
	go_down(&A, "carrier", S(120));
	come_up(&A, S(130));
	go_down(&A, "carrier", S(140));
	assert_true(A.suppressed);
	assert_true(fabs(A.penalty - (1000 * exp2(-20 / 60.0) + 1000) * exp2(-20 / 60.0) - 1000) < 1);
	come_up(&A, S(150));
	assert_false(dec_eligible(&A, &P, S(200)));
	for (int t = 150; t < 242; t += 5)
		expect_none(S(t));
	/* 2424 decays below 750 after 60*log2(2424/750) = 101.5 s */
	dec_decay(&A, &P, S(241));
	assert_true(A.suppressed);
	dec_decay(&A, &P, S(242));
	assert_false(A.suppressed);
	assert_true(dec_eligible(&A, &P, S(242)));
	expect_none(S(242));
	expect_switch(S(272), &A, "failback");
}

static void test_disabled_active_moves(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	A.enabled = false;
	expect_switch(S(101), &B, "hard:disabled");
}

static void test_risk_switches_at_once_and_holds(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	/* within the cooldown and with no lead at all: a predicted outage moves now */
	A.risk = "predict:obstruction";
	A.risk_since = S(108);
	expect_switch(S(110), &B, "predict:obstruction");
	assert_int_equal(sw.fault_since, S(108));
	assert_false(dec_eligible(&A, &P, S(110)));
	for (int t = 110; t < 400; t += 10)
		expect_none(S(t));	/* no failback while it lasts */
	A.risk = NULL;
	expect_none(S(400));
	assert_int_equal(next, S(430));
	expect_switch(S(430), &A, "failback");
}

static void test_risk_needs_a_fine_target(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	A.risk = "planned:swupdate";
	A.risk_planned = true;
	B.degraded = true;
	C.metered = true;
	for (int t = 110; t < 200; t += 10)
		expect_none(S(t));	/* B is degraded, C costs per byte: stay */
	B.degraded = false;
	expect_switch(S(200), &B, "planned:swupdate");
	/* a predicted outage takes a metered member when nothing else is fine */
	setup(NULL);
	C.metered = true;
	expect_switch(S(100), &A, "initial");
	go_down(&B, "carrier", S(100));
	A.risk = "predict:obstruction";
	expect_switch(S(101), &C, "predict:obstruction");
}

static void test_hard_failure_avoids_member_at_risk(void **state)
{
	(void)state;
	expect_switch(S(100), &A, "initial");
	B.risk = "predict:obstruction";
	go_down(&A, "carrier", S(200));
	expect_switch(S(200), &C, "hard:carrier");
	go_down(&C, "carrier", S(210));
	expect_switch(S(210), &B, "hard:carrier");	/* at risk beats down */
}

static void test_next_check_for_uptime(void **state)
{
	(void)state;
	A.known = B.known = C.known = false;
	expect_none(S(10));
	C.known = true;
	C.up_since = S(10);
	expect_switch(S(10), &C, "initial");	/* only one measured: take it */
	assert_int_equal(next, S(20));
}

/* ---- scores ---- */

static void test_norm(void **state)
{
	(void)state;
	assert_true(score_norm(50, 100, 1000) == 0);
	assert_true(score_norm(550, 100, 1000) == 0.5);
	assert_true(score_norm(5000, 100, 1000) == 1);
	assert_true(score_norm(NAN, 100, 1000) == 0);
}

static void test_stats(void **state)
{
	struct score_target t[2];
	struct score_stats s;

	(void)state;
	score_target_reset(&t[0]);
	score_target_reset(&t[1]);
	score_stats(t, 2, 0, &s);
	assert_int_equal(s.samples, 0);
	assert_true(isnan(s.latency_ms) && isnan(s.loss_pct) && isnan(s.jitter_ms));
	score_target_add(&t[0], 10);
	score_target_add(&t[0], 20);
	score_target_add(&t[0], -1);
	score_target_add(&t[0], 40);
	score_target_add(&t[1], -1);
	score_stats(t, 2, 0, &s);
	assert_int_equal(s.samples, 5);
	assert_true(fabs(s.latency_ms - 70.0 / 3) < 1e-9);
	assert_true(fabs(s.loss_pct - 40) < 1e-9);
	assert_true(fabs(s.jitter_ms - 15) < 1e-9);	/* |20-10|, |40-20| */
	score_stats(t, 2, 1, &s);	/* newest only: 40 and lost */
	assert_int_equal(s.samples, 2);
	assert_true(fabs(s.loss_pct - 50) < 1e-9);
	for (int i = 0; i < 40; i++)
		score_target_add(&t[1], 5);
	score_stats(&t[1], 1, 0, &s);
	assert_int_equal(s.samples, SCORE_SAMPLES);	/* the ring forgets */
	assert_true(s.loss_pct == 0);
}

static void test_instant_and_final(void **state)
{
	const struct score_params p = { 100, 1000, 1, 20, 10, 200 };
	struct score_stats s = { .latency_ms = 550, .loss_pct = 10.5, .jitter_ms = 10, .samples = 8 };
	struct score_state st_;

	(void)state;
	assert_true(fabs(score_instant(&p, &s) - (100 - 15 - 25)) < 1e-9);
	s = (struct score_stats){ .latency_ms = NAN, .loss_pct = 100, .jitter_ms = NAN, .samples = 4 };
	assert_true(score_instant(&p, &s) == 0);
	s.samples = 0;
	assert_true(isnan(score_instant(&p, &s)));

	score_reset(&st_);
	assert_true(isnan(st_.final));
	score_update(&st_, 100);
	assert_true(st_.final == 100);
	score_update(&st_, 50);
	/* ewma = 0.2*50 + 0.8*100 = 90; window = 75; final = 15 + 45 + 15 */
	assert_true(fabs(st_.ewma - 90) < 1e-9);
	assert_true(fabs(st_.window - 75) < 1e-9);
	assert_true(fabs(st_.final - 75) < 1e-9);
	score_update(&st_, NAN);	/* unknown changes nothing */
	assert_true(fabs(st_.final - 75) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_initial_prefers_weight, setup),
		cmocka_unit_test_setup(test_risk_switches_at_once_and_holds, setup),
		cmocka_unit_test_setup(test_risk_needs_a_fine_target, setup),
		cmocka_unit_test_setup(test_hard_failure_avoids_member_at_risk, setup),
		cmocka_unit_test_setup(test_initial_clearly_better_score_wins, setup),
		cmocka_unit_test_setup(test_initial_waits_for_knowledge, setup),
		cmocka_unit_test_setup(test_hard_failure_switches_at_once, setup),
		cmocka_unit_test_setup(test_hard_failure_prefers_eligible, setup),
		cmocka_unit_test_setup(test_hard_failure_takes_any_when_none_eligible, setup),
		cmocka_unit_test_setup(test_all_down_keeps_choice_then_first_back, setup),
		cmocka_unit_test_setup(test_soft_switch_after_lead_duration, setup),
		cmocka_unit_test_setup(test_soft_lead_must_be_continuous, setup),
		cmocka_unit_test_setup(test_soft_respects_cooldown, setup),
		cmocka_unit_test_setup(test_failback_after_restore_window, setup),
		cmocka_unit_test_setup(test_no_failback_when_degraded_or_worse, setup),
		cmocka_unit_test_setup(test_manual_holds_until_restore, setup),
		cmocka_unit_test_setup(test_dampening_suppresses_flapping_member, setup),
		cmocka_unit_test_setup(test_disabled_active_moves, setup),
		cmocka_unit_test_setup(test_next_check_for_uptime, setup),
		cmocka_unit_test(test_norm),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_instant_and_final),
	};

	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
