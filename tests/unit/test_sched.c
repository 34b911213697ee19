/* The probe scheduler on a real libev loop with a fake prober (this file
 * defines prober_open/prober_send/prober_close, so the real engines are not
 * linked): rates by role, bursting only while a reply is overdue, the no-reply
 * verdict, and recovery. Bounds are loose: these check behaviour, not speed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "probe/sched.h"

/* ---- the fake prober: answers after 1 ms unless the path is "blackholed" ---- */

static bool blackhole;
static int sends;
static struct prober *fake;
static ev_timer answer_timer;
static struct { int target; uint16_t seq; } pending[64];
static int npending;

static void answer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	for (int i = 0; i < npending; i++)
		fake->cb(fake->ctx, pending[i].target, pending[i].seq, 1.0, 52);
	npending = 0;
}

int prober_open(struct prober *p, struct ev_loop *loop, const struct prober_cfg *cfg,
		probe_reply_fn cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->loop = loop;
	p->cb = cb;
	p->ctx = ctx;
	fake = p;
	ev_timer_init(&answer_timer, answer_cb, 0.001, 0.);
	return 0;
}

void prober_close(struct prober *p)
{
	ev_timer_stop(p->loop, &answer_timer);
}

int prober_send(struct prober *p, int target, const char *addr, uint16_t seq)
{
	(void)addr;
	sends++;
	if (blackhole || npending == 64)
		return 52;
	pending[npending].target = target;
	pending[npending].seq = seq;
	npending++;
	if (!ev_is_active(&answer_timer)) {
		ev_timer_set(&answer_timer, 0.001, 0.);
		ev_timer_start(p->loop, &answer_timer);
	}
	return 52;
}

/* ---- harness ---- */

static struct ev_loop *loop;
static struct sched s;
static struct cfg_member mc;
static int changes;
static int64_t down_at;
static const struct sched_params params = {
	.probe_interval_ms = 400, .standby_interval_ms = 2000, .metered_interval_ms = 10000,
	.burst_interval_ms = 50, .probe_timeout_ms = 300, .hard_fail_ms = 600,
};

static void on_change(struct sched *sc)
{
	changes++;
	if (sc->decided_down && !down_at)
		down_at = mono_ms();
}

static void stop_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ONE);
}

static void run_for(int ms)
{
	ev_timer t;

	ev_timer_init(&t, stop_cb, ms / 1000.0, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

static int setup(void **state)
{
	struct prober_cfg pc = { .type = PROBE_ICMP, .device = "test0" };

	(void)state;
	log_set_level(LOG_LVL_ERROR);
	loop = ev_loop_new(EVFLAG_AUTO);
	memset(&mc, 0, sizeof(mc));
	strcpy(mc.name, "t");
	mc.reliability = 1;
	mc.targets.n = 2;
	strcpy(mc.targets.addr[0], "192.0.2.1");
	strcpy(mc.targets.addr[1], "192.0.2.2");
	blackhole = false;
	sends = changes = npending = 0;
	down_at = 0;
	sched_init(&s, loop, &mc, &params, on_change);
	assert_int_equal(sched_open(&s, &pc), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sched_close(&s);
	ev_loop_destroy(loop);
	return 0;
}

static void test_healthy_standby_does_not_burst(void **state)
{
	(void)state;
	sched_set_role(&s, SCHED_STANDBY);
	run_for(2500);
	/* 2 targets every 2 s: a probe per second, and the first one at once */
	assert_in_range(sends, 2, 5);
	assert_false(s.burst);
	assert_int_equal(s.received, (uint64_t)sends);
	assert_int_equal(s.first_unanswered, 0);
}

static void test_recheck_burst_ends_with_the_reply(void **state)
{
	(void)state;
	sched_set_role(&s, SCHED_STANDBY);
	run_for(100);
	sched_burst(&s);
	run_for(500);
	assert_false(s.burst);
	assert_in_range(sends, 2, 4);
}

static void test_active_probes_more_than_standby(void **state)
{
	int standby;

	(void)state;
	sched_set_role(&s, SCHED_STANDBY);
	run_for(2000);
	standby = sends;
	sends = 0;
	sched_set_role(&s, SCHED_ACTIVE);
	run_for(2000);
	assert_true(sends >= 2 * standby);	/* 5/s against 1/s */
	assert_false(s.burst);
}

static void test_blackhole_bursts_then_no_reply(void **state)
{
	struct score_stats st;
	int before;

	(void)state;
	sched_set_role(&s, SCHED_STANDBY);
	run_for(1200);
	before = sends;
	blackhole = true;
	run_for(1500);
	assert_true(s.decided_down);
	assert_true(sched_no_reply(&s, mono_ms()));
	assert_non_null(down_at);
	/* the verdict came hard_fail_ms after the first unanswered probe */
	assert_true(down_at - s.first_unanswered >= params.hard_fail_ms);
	/* bursting happened: far more probes than the standby rate would send */
	assert_true(sends - before >= 6);
	/* once decided, bursting stops */
	assert_false(s.burst);
	sched_stats(&s, false, &st);
	assert_true(st.loss_pct > 0);

	/* the path comes back: one reply settles it, the outage is forgotten */
	blackhole = false;
	run_for(2500);
	assert_false(s.decided_down);
	assert_int_equal(s.first_unanswered, 0);
	sched_stats(&s, false, &st);
	assert_true(st.loss_pct == 0);
}

static void test_off_sends_nothing(void **state)
{
	(void)state;
	sched_set_role(&s, SCHED_ACTIVE);
	run_for(300);
	sched_set_role(&s, SCHED_OFF);
	sends = 0;
	run_for(800);
	assert_int_equal(sends, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy_standby_does_not_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_burst_ends_with_the_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_probes_more_than_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blackhole_bursts_then_no_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_sends_nothing, setup, teardown),
	};

	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
